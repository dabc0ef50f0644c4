/* progress.h - one line of progress for long steps, on a terminal only.
 *
 * "  dumping  1.2 GiB  85.3 MiB/s  0:14", redrawn in place at most four
 * times a second and cleared at the end.  Where standard error is not a
 * terminal (cron mail, logs, pipes), or with -q, nothing is written.
 */
#ifndef POLARITY_PROGRESS_H
#define POLARITY_PROGRESS_H

#include <stdint.h>

/* Turns progress on when standard error is a terminal and SHOW. */
void progress_init(int show);

/* Starts a step called WHAT of TOTAL bytes (0: not known). */
void progress_begin(const char *what, uint64_t total);

/* DONE bytes of the step are done. */
void progress_update(uint64_t done);

/* Ends the step and clears its line. */
void progress_end(void);

#endif
