/* flag.h: Go's flag package, for the lessons' command lines.
 *
 *     n := flag.Int("n", 20, "jobs to run")    ->  int n;  flag_int(&n, "n", 20, "jobs to run");
 *     flag.Bool("ordered", false, "...")       ->  bool b;  flag_bool(&b, "ordered", false, "...");
 *     flag.Duration("work", time.Millisecond,  ->  duration w;
 *                   "...")                            flag_duration(&w, "work", MILLISECOND,
 * "..."); flag.String("name", "x", "...")          ->  const char *s;  flag_string(&s, "name", "x",
 * "..."); flag.Parse()                             ->  flag_parse(argc, argv); flag.Args(),
 * flag.NArg()                 ->  flag_args(), flag_nargs() flag.Usage() ->  flag_usage();
 *
 * The command line is Go's: -name and --name are the same flag; a value
 * follows as -name=value or as the next argument (-name value); a bool flag
 * is given bare (-ordered) or as -ordered=false. Parsing stops at the first
 * argument that is not a flag, or after "--"; what is left is flag_args().
 *
 * What Go prints, this prints, on stderr: on a bad command line, one line
 * naming what is wrong ("flag provided but not defined: -x", "invalid value
 * "abc" for flag -n: parse error", "flag needs an argument: -w"), then the
 * usage, and the process exits with status 2. -h, -help and --help (unless a
 * program defines a flag of that name) print the usage and exit 0. The usage
 * is Go's PrintDefaults, byte for byte: "Usage of PROG:", then each flag,
 * sorted by name, its usage, and its default unless it is the zero value. A
 * word in `back quotes` in a usage names the flag's value in that listing.
 *
 * Two additions the lessons need, each a few lines in their Go twins:
 * - flag_int_range refuses, at parse time, a value outside min..max, with
 *   Go's line for a value its flag.Value refuses: "invalid value "0" for flag
 *   -w: must be 1..1000".
 * - flag_mode is a flag that may be given bare or with one of a few values,
 *   such as --break or --break=nowait: in Go, a flag.Value whose IsBoolFlag()
 *   is true. Bare (or =true) it takes the first mode; =false turns it off;
 *   off, the variable is NULL.
 *
 * Ownership: the flag_* functions store into the caller's variables, which
 * must outlive flag_parse; a string or mode points into argv (or at a string
 * literal of the caller), never into memory the caller must free. Register
 * every flag before flag_parse, once; flag_parse is called once. Registering
 * the same name twice is a panic, as in Go ("flag redefined: NAME").
 */
#ifndef COMMON_FLAG_H
#define COMMON_FLAG_H

#include <stdbool.h>

#include "common/timer.h"

void flag_int(int *p, const char *name, int value, const char *usage);
void flag_int_range(int *p, const char *name, int value, int min, int max, const char *usage);
void flag_bool(bool *p, const char *name, bool value, const char *usage);
void flag_duration(duration *p, const char *name, duration value, const char *usage);
void flag_string(const char **p, const char *name, const char *value, const char *usage);
/* modes: the allowed values, separated by '|', the first one the default
 * when the flag is given bare: "share|nowait". */
void flag_mode(const char **p, const char *name, const char *modes, const char *usage);

/* Parses argv[1..argc-1] into the registered flags; on a bad command line,
 * prints the error and the usage on stderr and exits 2. */
void flag_parse(int argc, char **argv);

/* The arguments left after the flags (Go's flag.Args and flag.NArg). */
char **flag_args(void);
int flag_nargs(void);

/* Prints the usage on stderr (Go's flag.Usage). */
void flag_usage(void);

/* A check of the program's own after flag_parse: prints msg (printf format)
 * as one line and the usage on stderr, and exits 2, as flag.Parse does on a
 * bad flag. For what one flag's range cannot say ("-n must be at least -w"). */
void flag_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
