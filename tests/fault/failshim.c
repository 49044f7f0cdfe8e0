/* failshim.c - an LD_PRELOAD shim that makes system calls fail on demand,
 * for weir's fault-injection tests (tests/cli/faults.bats).
 *
 * Build: cc -shared -fPIC -o failshim.so failshim.c -ldl -pthread
 * Use:   LD_PRELOAD=/path/failshim.so FAILSHIM_WRITE_PATH='*.rej' \
 *          FAILSHIM_WRITE_AFTER=3 FAILSHIM_WRITE_ERRNO=ENOSPC weir ...
 *
 * Nothing happens unless a variable below is set: with none, every call
 * goes straight to libc. Variables (all optional):
 *
 *   FAILSHIM_PROG=NAME         act only in the process whose executable's
 *                              base name is NAME (children, and wrappers
 *                              such as timeout(1), are left alone)
 *   FAILSHIM_WRITE_FD=N        write(2)/writev(2) to descriptor N ...
 *   FAILSHIM_WRITE_PATH=GLOB   ... or to a descriptor whose target (the
 *                              readlink of /proc/self/fd/N at the time of
 *                              the call: a path, or 'pipe:[123]') matches
 *                              the fnmatch(3) pattern GLOB
 *   FAILSHIM_WRITE_AFTER=N     the N-th matching call (from 1) and later
 *                              ones fail (default 1: all of them)
 *   FAILSHIM_WRITE_EVERY=K     only every K-th of those fails (default 0:
 *                              each one); K=2 with EINTR makes a storm of
 *                              interrupted calls that a retry gets through
 *   FAILSHIM_WRITE_ERRNO=E     ENOSPC (default), EIO, EINTR, EAGAIN, EPIPE,
 *                              EDQUOT, EFBIG or a number
 *   FAILSHIM_WRITE_PARTIAL=K   instead of failing, the first chosen call
 *                              writes only its first K bytes and returns K
 *                              (a disk filling up in the middle of a call);
 *                              the ones after it fail. With _EVERY, every
 *                              chosen call is cut short that way and none
 *                              fails (a storm of short writes)
 *   FAILSHIM_READ_FD, _PATH, _AFTER, _EVERY, _ERRNO, _PARTIAL   the same
 *                              for read(2) (_PARTIAL: short reads)
 *   FAILSHIM_RENAME_PATH=GLOB  rename(2) whose new path matches GLOB
 *                              (default: every rename)
 *   FAILSHIM_RENAME_AFTER=N, _EVERY, _ERRNO           as for write (EIO
 *                              by default)
 *   FAILSHIM_MALLOC_AFTER=N    malloc, calloc and realloc (counted
 *                              together) return NULL with ENOMEM from the
 *                              N-th call on; _EVERY as above
 *   FAILSHIM_LOG=FILE          at exit, append one line per active rule:
 *                              "PROG write calls=C failed=F", so a test
 *                              can tell that its fault was injected
 *
 * A rule with neither _FD nor _PATH (write, read) or with nothing set is
 * off. Counters are atomic, so the shim is safe in a multi-threaded
 * program; calls are counted only when they match. Only the calls that go
 * through the dynamic symbol table are seen: stdio's own writes (fwrite,
 * fclose) and libc-internal calls are not.
 *
 * Not for sanitizer builds: ASan and TSan intercept the same functions
 * and want their runtime first; the tests skip the shim there. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h> /* snprintf only */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define SHIM_EXPORT __attribute__((visibility("default")))

struct rule {
    const char *name; /* "write", "read", "rename", "malloc" */
    bool on;
    int fd;                /* -1: by path */
    char path[PATH_MAX];   /* fnmatch pattern, "" for none */
    unsigned long after;   /* first failing call, from 1 */
    unsigned long every;   /* 0: each call from `after` on */
    int err;               /* errno to set */
    size_t partial;        /* > 0: cut calls short to this many bytes */
    atomic_ulong calls;    /* matching calls seen */
    atomic_ulong failed;   /* calls made to fail */
};

static struct rule r_write = {.name = "write"};
static struct rule r_read = {.name = "read"};
static struct rule r_rename = {.name = "rename"};
static struct rule r_malloc = {.name = "malloc"};

static char log_path[PATH_MAX];
static char prog[PATH_MAX];

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef ssize_t (*read_fn)(int, void *, size_t);
typedef int (*rename_fn)(const char *, const char *);

static void *_Atomic real_write, *_Atomic real_writev, *_Atomic real_read, *_Atomic real_rename;

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

/* dlsym(RTLD_NEXT) once; a race only resolves the same symbol twice. */
static void *next(const char *sym, void *_Atomic *slot)
{
    void *f = atomic_load_explicit(slot, memory_order_acquire);
    if (!f) {
        f = dlsym(RTLD_NEXT, sym);
        atomic_store_explicit(slot, f, memory_order_release);
    }
    return f;
}
#define NEXT(type, sym, slot) ((type)next(sym, &(slot)))

static int parse_errno(const char *s, int dflt)
{
    static const struct {
        const char *name;
        int err;
    } names[] = {{"ENOSPC", ENOSPC}, {"EIO", EIO},     {"EINTR", EINTR},
                 {"EAGAIN", EAGAIN}, {"EPIPE", EPIPE}, {"EDQUOT", EDQUOT},
                 {"EFBIG", EFBIG},   {"EXDEV", EXDEV}, {"EACCES", EACCES},
                 {"ENOMEM", ENOMEM}, {"EROFS", EROFS}, {"EBADF", EBADF}};
    if (!s || !*s)
        return dflt;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0)
            return names[i].err;
    int n = atoi(s);
    return n > 0 ? n : dflt;
}

static unsigned long env_ulong(const char *prefix, const char *key, unsigned long dflt)
{
    char var[64];
    snprintf(var, sizeof var, "FAILSHIM_%s_%s", prefix, key);
    const char *s = getenv(var);
    if (!s || !*s)
        return dflt;
    return strtoul(s, NULL, 10);
}

static const char *env_str(const char *prefix, const char *key)
{
    char var[64];
    snprintf(var, sizeof var, "FAILSHIM_%s_%s", prefix, key);
    return getenv(var);
}

/* Reads FAILSHIM_<PREFIX>_*; `targeted` rules need _FD or _PATH. */
static void load_rule(struct rule *r, const char *prefix, bool targeted, int dflt_err)
{
    const char *fd = env_str(prefix, "FD"), *path = env_str(prefix, "PATH");
    const char *after = env_str(prefix, "AFTER");
    r->fd = fd && *fd ? atoi(fd) : -1;
    if (path && *path)
        snprintf(r->path, sizeof r->path, "%s", path);
    if (targeted)
        r->on = r->fd >= 0 || r->path[0];
    else
        r->on = (after && *after) || r->path[0];
    r->after = env_ulong(prefix, "AFTER", 1);
    if (r->after == 0)
        r->after = 1;
    r->every = env_ulong(prefix, "EVERY", 0);
    r->err = parse_errno(env_str(prefix, "ERRNO"), dflt_err);
    r->partial = env_ulong(prefix, "PARTIAL", 0);
}

/* At exit: no stdio (it allocates, and malloc may be failing). */
static void write_log(void)
{
    int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return;
    const struct rule *rules[] = {&r_write, &r_read, &r_rename, &r_malloc};
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        if (!rules[i]->on)
            continue;
        char line[512];
        int n = snprintf(line, sizeof line, "%s %s calls=%lu failed=%lu\n", prog, rules[i]->name,
                         atomic_load(&rules[i]->calls), atomic_load(&rules[i]->failed));
        if (n > 0)
            (void)NEXT(write_fn, "write", real_write)(fd, line, (size_t)n);
    }
    close(fd);
}

__attribute__((constructor)) static void failshim_init(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    const char *base = strrchr(exe, '/');
    snprintf(prog, sizeof prog, "%s", base ? base + 1 : exe);
    const char *want = getenv("FAILSHIM_PROG");
    if (want && *want && strcmp(want, prog) != 0)
        return; /* not the program under test: stay out of the way */

    load_rule(&r_write, "WRITE", true, ENOSPC);
    load_rule(&r_read, "READ", true, EIO);
    load_rule(&r_rename, "RENAME", false, EIO);
    load_rule(&r_malloc, "MALLOC", false, ENOMEM);
    const char *lp = getenv("FAILSHIM_LOG");
    if (lp && *lp) {
        snprintf(log_path, sizeof log_path, "%s", lp);
        atexit(write_log);
    }
}

/* Does descriptor fd match the rule's target? */
static bool fd_matches(const struct rule *r, int fd)
{
    if (r->fd >= 0 && fd == r->fd)
        return true;
    if (!r->path[0])
        return false;
    char link[32], target[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return false;
    target[n] = '\0';
    return fnmatch(r->path, target, 0) == 0;
}

enum verdict { PASS, FAIL, SHORT };

/* Counts a matching call and decides its fate; FAIL sets errno. */
static enum verdict judge(struct rule *r)
{
    unsigned long n = atomic_fetch_add_explicit(&r->calls, 1, memory_order_relaxed) + 1;
    if (n < r->after)
        return PASS;
    if (r->every && (n - r->after) % r->every != 0)
        return PASS;
    atomic_fetch_add_explicit(&r->failed, 1, memory_order_relaxed);
    if (r->partial && (r->every || n == r->after))
        return SHORT;
    errno = r->err;
    return FAIL;
}

static bool should_fail(struct rule *r)
{
    return judge(r) == FAIL;
}

SHIM_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
    enum verdict v = r_write.on && fd_matches(&r_write, fd) ? judge(&r_write) : PASS;
    if (v == FAIL)
        return -1;
    if (v == SHORT && len > r_write.partial)
        len = r_write.partial;
    return NEXT(write_fn, "write", real_write)(fd, buf, len);
}

SHIM_EXPORT ssize_t writev(int fd, const struct iovec *iov, int n)
{
    enum verdict v = r_write.on && fd_matches(&r_write, fd) ? judge(&r_write) : PASS;
    if (v == FAIL)
        return -1;
    if (v == SHORT) { /* part of the first non-empty piece: a short writev */
        for (int i = 0; i < n; i++)
            if (iov[i].iov_len)
                return NEXT(write_fn, "write", real_write)(
                    fd, iov[i].iov_base,
                    iov[i].iov_len < r_write.partial ? iov[i].iov_len : r_write.partial);
    }
    return NEXT(writev_fn, "writev", real_writev)(fd, iov, n);
}

SHIM_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
    enum verdict v = r_read.on && fd_matches(&r_read, fd) ? judge(&r_read) : PASS;
    if (v == FAIL)
        return -1;
    if (v == SHORT && len > r_read.partial)
        len = r_read.partial;
    return NEXT(read_fn, "read", real_read)(fd, buf, len);
}

SHIM_EXPORT int rename(const char *from, const char *to)
{
    if (r_rename.on && (!r_rename.path[0] || fnmatch(r_rename.path, to, 0) == 0) &&
        should_fail(&r_rename))
        return -1;
    return NEXT(rename_fn, "rename", real_rename)(from, to);
}

/* The allocator: glibc's own entry points, so no dlsym (which allocates)
 * is needed. Before the constructor ran, r_malloc.on is false. */
SHIM_EXPORT void *malloc(size_t n)
{
    if (r_malloc.on && should_fail(&r_malloc))
        return NULL;
    return __libc_malloc(n);
}

SHIM_EXPORT void *calloc(size_t n, size_t size)
{
    if (r_malloc.on && should_fail(&r_malloc))
        return NULL;
    return __libc_calloc(n, size);
}

SHIM_EXPORT void *realloc(void *p, size_t n)
{
    if (r_malloc.on && n && should_fail(&r_malloc))
        return NULL;
    return __libc_realloc(p, n);
}
