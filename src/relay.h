/* relay.h - a stream passed from one descriptor to another by a thread of
 * its own, hashed and counted on the way.
 *
 * The backup's data dump goes from pg_dump through a relay into its own
 * compressor while the main thread archives the integrations: the dump is
 * compressed as it is made, and its size and SHA-256 (what the manifest
 * records) come from the stream, with no second read.  The relay keeps
 * the last bytes of the stream, for the check that the dump is whole.
 *
 * The thread runs with every signal blocked: termination signals reach
 * the main thread, whose blocking calls they interrupt.
 */
#ifndef POLARITY_RELAY_H
#define POLARITY_RELAY_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define RELAY_BUF (128 * 1024)
#define RELAY_TAIL 1024

struct relay {
	int owned;		/* started and not yet stopped */
	pthread_t thread;
	int running;		/* the thread was started and not joined */
	int from, to;
	void *md;		/* SHA-256 of what passed */
	uint64_t bytes;		/* what passed so far (atomic) */
	int error;		/* errno of the failure, or 0 */
	int failed_write;	/* the failure was a write (else a read) */
	size_t tail_len;
	char tail[RELAY_TAIL];	/* the stream's last bytes */
	unsigned char *buf;
};

/* Starts copying everything readable from FROM to TO until FROM ends.
 * The relay owns both descriptors from here on, also on failure: it
 * closes both as soon as FROM has ended or the copy failed, so that the
 * reader of TO sees the end and the writer of FROM never blocks on a
 * pipe nobody reads (it gets EPIPE).  The caller calls relay_stop() in
 * every case.  R is the relay's until then; a zeroed struct
 * relay may be given to relay_stop() too.  Returns 0, or -1 with errno
 * set. */
int relay_start(struct relay *r, int from, int to);

/* How many bytes have passed so far: safe to call while it runs. */
uint64_t relay_count(struct relay *r);

/* Waits for the copy to end.  On success stores the SHA-256 of all that
 * passed as 64 lowercase hex digits and a NUL in HEX and the count in
 * *SIZE, and returns 0.  Returns -1 with errno set when a read or write
 * failed (EPIPE: the reader of TO went away); *FAILED_WRITE then says
 * which. */
int relay_wait(struct relay *r, char hex[65], uint64_t *size,
    int *failed_write);

/* Whether the stream's last RELAY_TAIL bytes hold NEEDLE (after
 * relay_wait()). */
int relay_tail_has(const struct relay *r, const char *needle);

/* Stops the thread wherever it is (it may be blocked reading or writing),
 * waits for it, and frees what R holds.  Safe on a relay never started
 * and after relay_wait(). */
void relay_stop(struct relay *r);

#endif
