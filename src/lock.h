/* lock.h - one backup or restore at a time.
 *
 * The lock is flock(2) on DIR/.polarity.lock: the kernel drops it when its
 * holder exits, however it exits, so a killed run never blocks the next.
 * The file also says who holds it, for the message the next run prints.
 */
#ifndef POLARITY_LOCK_H
#define POLARITY_LOCK_H

#include <stddef.h>

#define LOCK_NAME ".polarity.lock"

/* Takes the lock in DIR for the work WHAT (e.g. "backup") without
 * waiting.  Returns the descriptor that holds it (the caller closes it to
 * let go).  Returns -1 with errno EWOULDBLOCK when another run holds it,
 * with ERR naming that run, or -1 with another errno and ERR describing
 * the failure. */
int lock_take(const char *dir, const char *what, char *err, size_t len);

#endif
