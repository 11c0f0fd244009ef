package gocause

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestCancelCauseFirstWins(t *testing.T) {
	c := WithCancelCause(context.Background())
	if got := c.Cause(); got != "" {
		t.Fatalf("Cause before cancel = %q, want \"\"", got)
	}
	c.Cancel("first")
	c.Cancel("second")
	if got := c.Cause(); got != "first" {
		t.Fatalf("Cause = %q, want first", got)
	}
	if c.Err() != context.Canceled {
		t.Fatalf("Err = %v, want context.Canceled", c.Err())
	}
}

func TestNilCauseIsCanceled(t *testing.T) {
	c := WithCancelCause(context.Background())
	c.Cancel("")
	if got := c.Cause(); got != context.Canceled.Error() {
		t.Fatalf("Cause = %q, want %q", got, context.Canceled.Error())
	}
}

func TestParentCauseReachesChild(t *testing.T) {
	p := WithCancelCause(context.Background())
	c := WithTimeoutCause(p, time.Hour, "time is up")
	p.Cancel("why")
	<-c.Done()
	if got := c.Cause(); got != "why" {
		t.Fatalf("child Cause = %q, want the parent's", got)
	}
	c.Cancel("later") // after the parent: changes nothing
	if got := c.Cause(); got != "why" {
		t.Fatalf("child Cause after its own cancel = %q, want why", got)
	}
}

func TestOtherParentGivesItsErr(t *testing.T) {
	p, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	c := WithCancelCause(p)
	<-c.Done()
	if got := c.Cause(); got != context.DeadlineExceeded.Error() {
		t.Fatalf("Cause = %q, want %q", got, context.DeadlineExceeded.Error())
	}
}

func TestTimeoutCause(t *testing.T) {
	c := WithTimeoutCause(context.Background(), time.Millisecond, "time is up")
	<-c.Done()
	if got := c.Cause(); got != "time is up" {
		t.Fatalf("Cause = %q, want time is up", got)
	}
}

func TestCancelBeforeTimeoutWins(t *testing.T) {
	c := WithTimeoutCause(context.Background(), 20*time.Millisecond, "time is up")
	c.Cancel("n tasks taken")
	time.Sleep(40 * time.Millisecond)
	if got := c.Cause(); got != "n tasks taken" {
		t.Fatalf("Cause = %q, want n tasks taken", got)
	}
}

func TestNotifyContextNamesTheSignal(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		want string
	}{{syscall.SIGUSR1, "user defined signal 1 signal received"}, {syscall.SIGTERM, "terminated signal received"}} {
		c, stop := NotifyContext(context.Background(), tc.sig)
		if err := syscall.Kill(os.Getpid(), tc.sig); err != nil {
			t.Fatal(err)
		}
		select {
		case <-c.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("%v: not done", tc.sig)
		}
		if got := c.Cause(); got != tc.want {
			t.Fatalf("Cause = %q, want %q", got, tc.want)
		}
		stop()
	}
}

func TestStopCancelsWithoutASignal(t *testing.T) {
	c, stop := NotifyContext(context.Background(), syscall.SIGUSR2)
	stop()
	<-c.Done()
	if got := c.Cause(); got != context.Canceled.Error() {
		t.Fatalf("Cause = %q, want %q", got, context.Canceled.Error())
	}
}
