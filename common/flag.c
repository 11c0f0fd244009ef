/* flag.c: Go's flag package (src/flag/flag.go), the parts the lessons use.
 *
 * One command line per process, as flag.CommandLine: a table of the
 * registered flags, filled before flag_parse and only read after it. Nothing
 * here is shared between threads: flags are parsed in main before the first
 * go(). Every message is Go's, so that a lesson and its Go twin print the same
 * lines.
 *
 * Invariants: nflags <= MAX_FLAGS; no two flags share a name; each flag's
 * variable holds its default until flag_parse sets it.
 *
 * Locking order: none; flags are registered and parsed by one thread.
 */
#include "common/flag.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/internal/panic.h"

enum flag_kind { FLAG_INT, FLAG_BOOL, FLAG_DURATION, FLAG_STRING, FLAG_MODE };

struct flag {
    const char *name;
    const char *usage;
    enum flag_kind kind;
    void *p;           /* the caller's variable, of the kind's type */
    char def[64];      /* the default as Go's DefValue: its String() */
    int min, max;      /* FLAG_INT: the allowed range */
    const char *modes; /* FLAG_MODE: "a|b|c" */
};

#define MAX_FLAGS 64

static struct flag flags[MAX_FLAGS];
static int nflags;
static const char *program = "program";
static char **rest; /* flag_args() */
static int nrest;

static struct flag *add(const char *name, const char *usage, enum flag_kind kind, void *p) {
    char msg[128];
    for (int i = 0; i < nflags; i++)
        if (strcmp(flags[i].name, name) == 0) {
            snprintf(msg, sizeof msg, "flag redefined: %s", name);
            go_panic(msg);
        }
    if (nflags == MAX_FLAGS)
        go_fatal("flag: more than 64 flags");
    struct flag *f = &flags[nflags++];
    *f = (struct flag){.name = name, .usage = usage, .kind = kind, .p = p};
    return f;
}

void flag_int_range(int *p, const char *name, int value, int min, int max, const char *usage) {
    struct flag *f = add(name, usage, FLAG_INT, p);
    f->min = min;
    f->max = max;
    snprintf(f->def, sizeof f->def, "%d", value);
    *p = value;
}

void flag_int(int *p, const char *name, int value, const char *usage) {
    flag_int_range(p, name, value, INT_MIN, INT_MAX, usage);
}

void flag_bool(bool *p, const char *name, bool value, const char *usage) {
    struct flag *f = add(name, usage, FLAG_BOOL, p);
    strcpy(f->def, value ? "true" : "false");
    *p = value;
}

void flag_duration(duration *p, const char *name, duration value, const char *usage) {
    struct flag *f = add(name, usage, FLAG_DURATION, p);
    duration_string(value, f->def);
    *p = value;
}

void flag_string(const char **p, const char *name, const char *value, const char *usage) {
    struct flag *f = add(name, usage, FLAG_STRING, p);
    snprintf(f->def, sizeof f->def, "%s", value);
    *p = value;
}

void flag_mode(const char **p, const char *name, const char *modes, const char *usage) {
    struct flag *f = add(name, usage, FLAG_MODE, p);
    f->modes = modes;
    *p = NULL;
}

/* strconv.ParseBool. */
static bool parse_bool(const char *s, bool *out) {
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcmp(s, yes[i]) == 0)
            return *out = true, true;
        if (strcmp(s, no[i]) == 0)
            return *out = false, true;
    }
    return false;
}

/* strconv.ParseInt(s, 0, 64) narrowed to C's int (Go's int has 64 bits): a
 * sign, a base prefix (0x, 0o, 0b, or a leading 0 for octal), digits with
 * '_' allowed between them. Returns NULL or Go's error text. */
static const char *parse_int(const char *s, int *out) {
    const char *p = s;
    bool negative = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    int base = 10;
    bool last_digit = false; /* '_' may follow a digit or a prefix */
    if (p[0] == '0' && p[1] != '\0') {
        last_digit = true;
        switch (p[1]) {
        case 'x':
        case 'X':
            base = 16, p += 2;
            break;
        case 'o':
        case 'O':
            base = 8, p += 2;
            break;
        case 'b':
        case 'B':
            base = 2, p += 2;
            break;
        default:
            base = 8, p += 1; /* "0755" */
        }
    }
    if (*p == '\0')
        return "parse error";
    uint64_t v = 0;
    bool range = false;
    for (; *p; p++) {
        if (*p == '_') {
            if (!last_digit)
                return "parse error";
            last_digit = false;
            continue;
        }
        int d = *p >= '0' && *p <= '9'   ? *p - '0'
                : *p >= 'a' && *p <= 'z' ? *p - 'a' + 10
                : *p >= 'A' && *p <= 'Z' ? *p - 'A' + 10
                                         : 99;
        if (d >= base)
            return "parse error";
        last_digit = true;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            range = true;
        else
            v = v * (uint64_t)base + (uint64_t)d;
    }
    if (!last_digit)
        return "parse error";
    uint64_t limit = negative ? (uint64_t)INT_MAX + 1 : (uint64_t)INT_MAX;
    if (range || v > limit)
        return "value out of range";
    *out = negative ? (int)(0 - v) : (int)v;
    return NULL;
}

/* The mode named by s ("true": the first), written to *out; false if s is
 * none of them. */
static bool parse_mode(const struct flag *f, const char *s, const char **out) {
    if (strcmp(s, "false") == 0)
        return *out = NULL, true;
    size_t len = strlen(s);
    for (const char *m = f->modes; *m;) {
        size_t n = strcspn(m, "|");
        if ((n == len && strncmp(m, s, n) == 0) || (m == f->modes && strcmp(s, "true") == 0)) {
            static char names[MAX_FLAGS][64];
            char *copy = names[f - flags];
            snprintf(copy, sizeof names[0], "%.*s", (int)n, m);
            return *out = copy, true;
        }
        m += n + (m[n] == '|');
    }
    return false;
}

/* Sets f from s; returns NULL or the reason s is refused, as Go's Value.Set. */
static const char *set(struct flag *f, const char *s) {
    static char why[128];
    switch (f->kind) {
    case FLAG_INT: {
        int v;
        const char *err = parse_int(s, &v);
        if (err)
            return err;
        if (v < f->min || v > f->max) {
            snprintf(why, sizeof why, "must be %d..%d", f->min, f->max);
            return why;
        }
        *(int *)f->p = v;
        return NULL;
    }
    case FLAG_BOOL:
        return parse_bool(s, f->p) ? NULL : "parse error";
    case FLAG_DURATION:
        return duration_parse(s, f->p) ? NULL : "parse error";
    case FLAG_STRING:
        *(const char **)f->p = s;
        return NULL;
    case FLAG_MODE:
        if (parse_mode(f, s, f->p))
            return NULL;
        snprintf(why, sizeof why, "must be one of %s", f->modes);
        return why;
    }
    go_fatal("flag: a flag of no known kind");
}

static bool is_bool(const struct flag *f) {
    return f->kind == FLAG_BOOL || f->kind == FLAG_MODE;
}

/* Go's UnquoteUsage: the name in `back quotes` in the usage, if any, else
 * the kind's; the usage with the quotes taken out. */
static const char *value_name(const struct flag *f, char *usage, size_t size) {
    static char name[64];
    const char *open = strchr(f->usage, '`'), *close = open ? strchr(open + 1, '`') : NULL;
    if (close) {
        snprintf(name, sizeof name, "%.*s", (int)(close - open - 1), open + 1);
        snprintf(usage, size, "%.*s%s%s", (int)(open - f->usage), f->usage, name, close + 1);
        return name;
    }
    snprintf(usage, size, "%s", f->usage);
    switch (f->kind) {
    case FLAG_INT:
        return "int";
    case FLAG_DURATION:
        return "duration";
    case FLAG_STRING:
        return "string";
    default:
        return "";
    }
}

static bool is_zero(const struct flag *f) {
    switch (f->kind) {
    case FLAG_INT:
        return strcmp(f->def, "0") == 0;
    case FLAG_BOOL:
        return strcmp(f->def, "false") == 0;
    case FLAG_DURATION:
        return strcmp(f->def, "0s") == 0;
    default:
        return f->def[0] == '\0';
    }
}

static int by_name(const void *a, const void *b) {
    return strcmp((*(struct flag *const *)a)->name, (*(struct flag *const *)b)->name);
}

/* Go's PrintDefaults. */
static void print_defaults(void) {
    struct flag *sorted[MAX_FLAGS];
    for (int i = 0; i < nflags; i++)
        sorted[i] = &flags[i];
    qsort(sorted, (size_t)nflags, sizeof sorted[0], by_name);
    for (int i = 0; i < nflags; i++) {
        const struct flag *f = sorted[i];
        char usage[1024];
        const char *name = value_name(f, usage, sizeof usage);
        int len = fprintf(stderr, "  -%s%s%s", f->name, *name ? " " : "", name);
        /* one-letter flags with no value name keep their usage on the line */
        fputs(len <= 4 ? "\t" : "\n    \t", stderr);
        for (const char *u = usage; *u; u++)
            fputs(*u == '\n' ? "\n    \t" : (char[]){*u, '\0'}, stderr);
        if (!is_zero(f))
            fprintf(stderr, f->kind == FLAG_STRING ? " (default \"%s\")" : " (default %s)", f->def);
        fputc('\n', stderr);
    }
}

void flag_usage(void) {
    fprintf(stderr, "Usage of %s:\n", program);
    print_defaults();
}

/* Go's failf: the error, then the usage; and ExitOnError's exit status. */
void flag_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    flag_usage();
    exit(2);
}

static struct flag *lookup(const char *name, size_t len) {
    for (int i = 0; i < nflags; i++)
        if (strlen(flags[i].name) == len && strncmp(flags[i].name, name, len) == 0)
            return &flags[i];
    return NULL;
}

/* Go's parseOne: parses the flag at args[*i]; false at the end of the flags. */
static bool parse_one(int argc, char **argv, int *i) {
    const char *s = argv[*i];
    if (strlen(s) < 2 || s[0] != '-')
        return false;
    int minuses = 1;
    if (s[1] == '-') {
        minuses++;
        if (s[2] == '\0') { /* "--" ends the flags */
            (*i)++;
            return false;
        }
    }
    const char *name = s + minuses;
    if (name[0] == '\0' || name[0] == '-' || name[0] == '=')
        flag_fail("bad flag syntax: %s", s);
    (*i)++;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const char *value = eq ? eq + 1 : NULL;
    struct flag *f = lookup(name, len);
    if (!f) {
        if ((len == 4 && strncmp(name, "help", 4) == 0) || (len == 1 && name[0] == 'h')) {
            flag_usage();
            exit(0);
        }
        flag_fail("flag provided but not defined: -%.*s", (int)len, name);
    }
    const char *err;
    if (is_bool(f)) { /* needs no argument */
        if (value && (err = set(f, value)))
            flag_fail("invalid boolean value \"%s\" for -%s: %s", value, f->name, err);
        if (!value && (err = set(f, "true")))
            flag_fail("invalid boolean flag %s: %s", f->name, err);
        return true;
    }
    if (!value && *i < argc)
        value = argv[(*i)++];
    if (!value)
        flag_fail("flag needs an argument: -%s", f->name);
    if ((err = set(f, value)))
        flag_fail("invalid value \"%s\" for flag -%s: %s", value, f->name, err);
    return true;
}

void flag_parse(int argc, char **argv) {
    if (argc > 0 && argv[0])
        program = argv[0];
    int i = 1;
    while (i < argc && parse_one(argc, argv, &i)) {
    }
    rest = argv + i;
    nrest = argc - i;
}

char **flag_args(void) {
    return rest;
}

int flag_nargs(void) {
    return nrest;
}
