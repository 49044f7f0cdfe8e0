/* term.h - the terminal stderr is on, shared by the --progress line and
 * whatever else reaches that terminal: the snapshots, and stdout's bytes
 * when stdout is that same terminal.
 *
 * The line is drawn in place ("\r", the text, erase to the end of the
 * line) with the cursor left after it, so anything written next would
 * land on the same line. So other text goes out with the terminal held:
 * holding erases the line, releasing draws it again below the text, as
 * it was last composed (the monitor's next tick brings it up to date).
 * It is drawn only where stdout's bytes so far end a line, so it never
 * shares one with output. The monitor never waits for a writer to draw
 * (a writer's write may block on a slow terminal): it skips that tick.
 *
 * There is one stderr, so there is one such terminal: the state is the
 * process's (a mutex, the line and three flags in term.c), not an object
 * handed from the pipeline down to the sink. Lock order: the terminal,
 * then stderr's stdio lock. Thread-safe. */
#ifndef WEIR_TERM_H
#define WEIR_TERM_H

#include <stdbool.h>
#include <stddef.h>

/* fds a and b are the same terminal (stdout on the terminal stderr is). */
bool term_same(int a, int b);
/* stderr's width in columns, 80 when it cannot be told. */
unsigned term_width(void);

/* Draws line (shorter than the terminal is wide) in place on stderr and
 * keeps it for redraws; false when it could not now: a writer holds the
 * terminal, stdout's last line is unfinished, or the terminal is closed. */
bool term_draw(const char *line);

/* Around anything else written to the terminal: hold erases the line and
 * keeps it off; release is given the bytes that went out to stdout (n may
 * be 0: none, or text on stderr) and draws the line again where it may. */
void term_hold(void);
void term_release(const char *p, size_t n);

/* The run is over: erases the line, and it is not drawn again. */
void term_close(void);

#endif
