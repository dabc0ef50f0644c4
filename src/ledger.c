/* ledger.c - records in an unnamed temporary file. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "ledger.h"

int
ledger_open(struct ledger *l, const char *dir)
{
	int fd;

	memset(l, 0, sizeof *l);
	fd = io_tmpfile(dir, "polarity-ledger", O_RDWR, NULL, 0);
	if (fd < 0)
		return -1;
	l->f = fdopen(fd, "w+");
	if (l->f == NULL) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return 0;
}

int
ledger_add(struct ledger *l, const void *rec, size_t len)
{
	uint32_t n = (uint32_t)len;

	if (len == 0 || len > LEDGER_MAX) {
		errno = len == 0 ? EINVAL : EMSGSIZE;
		return -1;
	}
	if (fwrite(&n, sizeof n, 1, l->f) != 1 ||
	    (len > 0 && fwrite(rec, len, 1, l->f) != 1) ||
	    fwrite(&n, sizeof n, 1, l->f) != 1) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	l->end += (off_t)(len + 2 * sizeof n);
	l->count++;
	return 0;
}

int
ledger_start(struct ledger *l, int from_end)
{
	if (fflush(l->f) != 0)
		return -1;
	l->at = from_end ? l->end : 0;
	return fseeko(l->f, l->at, SEEK_SET);
}

/* Reads LEN bytes at the current position into BUF. */
static int
get(struct ledger *l, void *buf, size_t len)
{
	if (len > 0 && fread(buf, len, 1, l->f) != 1) {
		errno = EIO;	/* a read error, or the file cut short */
		return -1;
	}
	return 0;
}

ssize_t
ledger_next(struct ledger *l, void *buf, size_t cap)
{
	uint32_t n, m;

	if (l->at >= l->end)
		return 0;
	if (get(l, &n, sizeof n) < 0)
		return -1;
	if (n > cap || n > LEDGER_MAX) {
		errno = n > LEDGER_MAX ? EIO : EMSGSIZE;
		return -1;
	}
	if (get(l, buf, n) < 0 || get(l, &m, sizeof m) < 0)
		return -1;
	if (m != n) {
		errno = EIO;
		return -1;
	}
	l->at += (off_t)(n + 2 * sizeof n);
	return (ssize_t)n;
}

ssize_t
ledger_prev(struct ledger *l, void *buf, size_t cap)
{
	uint32_t n, m;
	off_t start;

	if (l->at <= 0)
		return 0;
	if (l->at < (off_t)(2 * sizeof n) ||
	    fseeko(l->f, l->at - (off_t)sizeof n, SEEK_SET) != 0 ||
	    get(l, &n, sizeof n) < 0)
		return -1;
	start = l->at - (off_t)(n + 2 * sizeof n);
	if (n > LEDGER_MAX || start < 0) {
		errno = EIO;
		return -1;
	}
	if (n > cap) {
		errno = EMSGSIZE;
		return -1;
	}
	if (fseeko(l->f, start, SEEK_SET) != 0 || get(l, &m, sizeof m) < 0)
		return -1;
	if (m != n) {
		errno = EIO;
		return -1;
	}
	if (get(l, buf, n) < 0)
		return -1;
	l->at = start;
	return (ssize_t)n;
}

void
ledger_close(struct ledger *l)
{
	if (l->f)
		fclose(l->f);
	l->f = NULL;
}
