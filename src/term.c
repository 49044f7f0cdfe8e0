/* term.c - the terminal shared by the progress line and other output; see
 * term.h. The monitor (main thread) draws, holds for its snapshots and
 * closes; writers of stdout (workers holding the writer role, or the main
 * thread at the end) hold and release. Everything below is guarded by mu. */
#include "term.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sync.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char line[512]; /* the progress line last drawn, "" before */
static bool drawn;     /* it is on the terminal now */
static bool mid_line;  /* stdout's last byte on the terminal did not end a line */
static bool closed;    /* the run is over: no more drawing */

bool term_same(int a, int b)
{
    struct stat sa, sb;
    return isatty(a) && isatty(b) && fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
           S_ISCHR(sa.st_mode) && sa.st_rdev == sb.st_rdev;
}

unsigned term_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

/* Puts the kept line on the terminal where it may go; with mu held. */
static bool show(void)
{
    if (closed || mid_line || !line[0])
        return false;
    flockfile(stderr);
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    funlockfile(stderr);
    drawn = true;
    return true;
}

/* With mu held. */
static void erase(void)
{
    if (!drawn)
        return;
    flockfile(stderr);
    fputs("\r\033[K", stderr);
    fflush(stderr);
    funlockfile(stderr);
    drawn = false;
}

bool term_draw(const char *text)
{
    if (pthread_mutex_trylock(&mu) != 0) /* a writer: its output goes out now */
        return false;
    snprintf(line, sizeof line, "%s", text);
    bool shown = show();
    sync_unlock(&mu);
    return shown;
}

void term_hold(void)
{
    sync_lock(&mu);
    erase();
}

void term_release(const char *p, size_t n)
{
    if (n)
        mid_line = p[n - 1] != '\n';
    if (line[0] && strlen(line) < term_width()) /* composed for the width before a resize? */
        show();
    sync_unlock(&mu);
}

void term_close(void)
{
    sync_lock(&mu);
    erase();
    closed = true;
    sync_unlock(&mu);
}
