/* dumps.h - the dumps of one of our archives, read straight from it for a
 * load.
 *
 * One pass over the archive: the decompressor, then a thread of ours
 * reading the tar stream.  The pre-data and data dumps go, in that order,
 * to psql's input, which is closed once they are in (a large table's rows
 * to two psql sessions at once); the post-data dump
 * goes to a file without a name in the stage, so that the index builds
 * can start as soon as the rows are in, whatever the check of the same
 * archive is doing; the rest is read to the end.  Each dump is hashed
 * (SHA-256) as it passes: what was loaded is known to be what the check
 * found in the manifest, or the load is not kept.  What psql is given
 * passes a fence (fence.h): the dumps' own \restrict lines are taken
 * out, and a dump with another \unrestrict is refused.
 */
#ifndef POLARITY_DUMPS_H
#define POLARITY_DUMPS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "fence.h"
#include "spawn.h"

struct dumps {
	struct child zip;	/* the decompressor */
	int from;		/* its output, the thread's to read */
	int to;			/* psql's input, the thread's to close */
	int to2;		/* a second psql's, or -1: the thread's to
				 * close */
	struct fence fence[2];	/* of the two inputs (fence.h) */
	int post;		/* the post-data dump, or -1 */
	uint64_t post_size;
	char names[3][128];	/* the three members: top/member */
	pthread_t thread;
	int running;		/* the thread was started, not joined */
	int state;		/* 0: reading; 1: the post-data dump is
				 * whole; 2: the thread ended (and the
				 * post-data dump is whole when rc is 0) */
	uint64_t fed;		/* bytes written to psql's input */
	unsigned split;		/* tables whose rows went to both (once
				 * the thread ended) */
	char hex[3][65];	/* SHA-256 of the pre-data, data and
				 * post-data dumps, as read */
	int rc;			/* the thread's: 0, or -1 with WHY */
	char why[600];
};

/* Starts reading the archive IN (from where it stands; it stays the
 * caller's) of top folder TOP, decompressed as CFG says: the pre-data
 * and data dumps to TO (psql's input: D's from then on, closed once they
 * are written, or on a failure), the post-data dump to a file in the
 * folder open as STAGE.  TO2, unless -1, is a second psql's input (D's
 * in the same way): the rows of a table past the first few megabytes go
 * to both, in turns of whole rows, each turn as a COPY of its own to the
 * session with room for it (the same rows, loaded by two server
 * processes at once; what comes before a table's COPY in the data dump,
 * its settings, the second session is given first).  Returns 0, or -1
 * with ERR (TO and TO2 are then closed too). */
int dumps_start(struct dumps *d, const struct config *cfg, const char *top,
    int in, int to, int to2, int stage, char *err, size_t elen);

/* How many bytes of the pre-data and data dumps psql was given so far;
 * any thread may ask. */
uint64_t dumps_fed(struct dumps *d);

/* Waits until the post-data dump is whole, or the reader failed, or
 * *STOP (unless STOP is NULL) or a signal (io_stop_signal).  Returns a
 * descriptor of the post-data dump, at its start (the caller's to close),
 * with its size in *SIZE; or -1 with ERR. */
int dumps_post(struct dumps *d, const volatile int *stop, uint64_t *size,
    char *err, size_t elen);

/* Waits for the reader (first stopping its decompressor when STOP) and
 * frees what it holds.  Returns 0 when all of the archive was read well,
 * else -1 with WHY.  Safe to call twice. */
int dumps_end(struct dumps *d, int stop, char *why, size_t len);

/* Whether the dumps read are the ones in HEX (the pre-data, data and
 * post-data dumps' SHA-256, as the check found them): 1 when they are,
 * else 0.  After dumps_end() returned 0. */
int dumps_same(const struct dumps *d, const char hex[3][65]);

/* Starts the decompressor of CFG on IN (from where it stands) writing
 * into OUT, as KIDS[0]; with TARV, tar as TARV says after it (KIDS[1]);
 * with GUNZIP too, the decompressor again after tar (KIDS[2], for a
 * member that is gzip-compressed itself).  Returns 0, or -1 with ERR. */
int dumps_pipeline(const struct config *cfg, char *const tarv[], int gunzip,
    struct child kids[], int in, int out, char *err, size_t elen);

#endif
