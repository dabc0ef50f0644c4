/* ledger.h - records kept in a temporary file instead of in memory.
 *
 * A check of an archive needs a little about every member until the end
 * (the manifest comes last, links and folder modes are applied last), and
 * an integrations tree may hold hundreds of thousands of files.  A ledger
 * holds those records in an unnamed temporary file, appended in order and
 * read back in order or in reverse, through stdio's buffer: the memory it
 * takes does not grow with the number of records.
 *
 * Each record is stored as its length (4 bytes), its bytes, and its
 * length again, so that it can be found from either end.
 */
#ifndef POLARITY_LEDGER_H
#define POLARITY_LEDGER_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define LEDGER_MAX (64 * 1024)	/* the largest record */

struct ledger {
	FILE *f;
	off_t end;		/* bytes written */
	off_t at;		/* where the next read starts */
	unsigned long count;	/* records written */
};

/* Opens an empty ledger in a new unnamed file in the folder DIR.
 * Returns 0, or -1 with errno set. */
int ledger_open(struct ledger *l, const char *dir);

/* Appends the record of LEN bytes at REC (1 to LEDGER_MAX).  Returns 0,
 * or -1 with errno set. */
int ledger_add(struct ledger *l, const void *rec, size_t len);

/* Gets ready to read from the first record (FROM_END 0) or from the last
 * one backwards (FROM_END 1).  No record may be added after this.
 * Returns 0 or -1. */
int ledger_start(struct ledger *l, int from_end);

/* Reads the next record (in the direction ledger_start() chose) into BUF
 * (CAP bytes).  Returns its length, 0 when there is none left, or -1
 * with errno set (EIO for a damaged ledger, EMSGSIZE when it does not fit
 * in CAP). */
ssize_t ledger_next(struct ledger *l, void *buf, size_t cap);
ssize_t ledger_prev(struct ledger *l, void *buf, size_t cap);

/* Closes and so removes the file.  Safe on a zeroed ledger. */
void ledger_close(struct ledger *l);

#endif
