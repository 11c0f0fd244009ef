// Package gocause is the part of Go 1.21's context that the Go twins need
// and Go 1.19 lacks: a context that says why it was cancelled
// (context.WithCancelCause, WithTimeoutCause and Cause), and a signal
// context whose cause names the signal (signal.NotifyContext as Go 1.26 has
// it). common/context.h has all of them in C; the twins are built by
// Debian's Go, 1.19, so this package spells them out. From Go 1.21 a twin
// would call the standard library instead, line for line:
//
//	ctx, cancel := context.WithCancelCause(p)  ->  ctx := gocause.WithCancelCause(p)
//	cancel(err)                                ->  ctx.Cancel(msg)
//	context.Cause(ctx)                         ->  ctx.Cause()
//	context.WithTimeoutCause(p, d, err)        ->  gocause.WithTimeoutCause(p, d, msg)
//	signal.NotifyContext(p, sigs...)           ->  gocause.NotifyContext(p, sigs...)
//
// Contract, as Go's: the first cancellation wins, its cause with it; a cause
// is a string, "" standing for Go's nil (context.Canceled's message). Cause
// is "" until the context is done, then fixed. A context cancelled by its
// parent (made by this package) has the parent's cause. A timeout's cause is
// given when the time is up; its timer is stopped by an earlier Cancel.
package gocause

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"time"
)

// Context is a cancellable context that keeps the cause of its cancellation.
type Context struct {
	context.Context
	cancel context.CancelFunc
	parent *Context // nil: the parent has no cause to give

	mu    sync.Mutex
	cause string      // guarded by mu; "" until cancelled by Cancel
	timer *time.Timer // guarded by mu; WithTimeoutCause's
}

// WithCancelCause is context.WithCancelCause(parent).
func WithCancelCause(parent context.Context) *Context {
	ctx, cancel := context.WithCancel(parent)
	c := &Context{Context: ctx, cancel: cancel}
	c.parent, _ = parent.(*Context)
	return c
}

// WithTimeoutCause is context.WithTimeoutCause(parent, d, cause).
func WithTimeoutCause(parent context.Context, d time.Duration, cause string) *Context {
	c := WithCancelCause(parent)
	c.mu.Lock()
	c.timer = time.AfterFunc(d, func() { c.Cancel(cause) })
	c.mu.Unlock()
	return c
}

// Cancel is the cancel(cause) of WithCancelCause: the first cancellation
// wins, its cause with it. "" is Go's nil: the cause is context.Canceled.
func (c *Context) Cancel(cause string) {
	if cause == "" {
		cause = context.Canceled.Error()
	}
	c.mu.Lock()
	if c.Err() == nil && c.cause == "" {
		c.cause = cause
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	c.cancel()
}

// Cause is context.Cause(c): "" while c is not done.
func (c *Context) Cause() string {
	if c.Err() == nil {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cause == "" && c.parent != nil {
		return c.parent.Cause() // the parent cancelled c
	}
	if c.cause == "" {
		return c.Err().Error() // a parent of another kind cancelled c
	}
	return c.cause
}

// NotifyContext is signal.NotifyContext(parent, sigs...) as Go 1.26 has it:
// done at the first of the signals, with the cause "<name> signal received"
// ("interrupt signal received"). Go 1.19's says no more than "canceled";
// the signal.Notify channel it reads inside knows which signal came. stop
// cancels (if no signal came first) and gives the signals back what they had
// before.
func NotifyContext(parent context.Context, sigs ...os.Signal) (ctx *Context, stop func()) {
	c := WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	go func() {
		select {
		case sig := <-ch:
			c.Cancel(sig.String() + " signal received")
		case <-c.Done():
		}
	}()
	return c, func() {
		c.Cancel("")
		signal.Stop(ch)
	}
}
