/* fence.c - psql kept to SQL while it loads a dump. */
#include "autoconf.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "fence.h"
#include "io.h"

static const char U[] = "unrestrict";
#define ULEN (sizeof U - 1)

int
fence_has_restrict(int num)
{
	int major = num / 10000, minor = num % 10000;

	switch (major) {
	case 13: return minor >= 22;
	case 14: return minor >= 19;
	case 15: return minor >= 14;
	case 16: return minor >= 10;
	case 17: return minor >= 6;
	default: return major >= 18;
	}
}

int
fence_key(char key[FENCE_KEY_LEN + 1])
{
	static const char abc[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char r[FENCE_KEY_LEN];
	size_t got = 0;

	while (got < sizeof r) {
		ssize_t n = getrandom(r + got, sizeof r - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		got += (size_t)n;
	}
	/* 62 letters: 248 of the 256 values map evenly, the rest again. */
	for (size_t i = 0; i < sizeof r; i++) {
		while (r[i] >= 248)
			if (getrandom(&r[i], 1, 0) != 1 && errno != EINTR)
				return -1;
		key[i] = abc[r[i] % 62];
	}
	key[FENCE_KEY_LEN] = '\0';
	return 0;
}

void
fence_begin(struct fence *f, int head)
{
	memset(f, 0, sizeof *f);
	f->head = head;
	f->last = '\n';
}

static int
flush_out(struct fence *f, int fd)
{
	if (f->nout > 0 && io_write_all(fd, f->out, f->nout) < 0)
		return -1;
	f->nout = 0;
	return 0;
}

static int
put(struct fence *f, int fd, const void *p, size_t n)
{
	if (f->nout + n > sizeof f->out) {
		if (flush_out(f, fd) < 0)
			return -1;
		if (n > sizeof f->out)
			return io_write_all(fd, p, n);
	}
	memcpy(f->out + f->nout, p, n);
	f->nout += n;
	return 0;
}

static int
refuse(struct fence *f)
{
	f->refused = 1;
	errno = EPERM;
	return -1;
}

/* Whether the N bytes at P are PREFIX and a key (KEY, when it is not
 * NULL); a found key goes to F->key. */
static int
key_line(struct fence *f, const char *p, size_t n, const char *prefix,
    const char *key)
{
	size_t l = strlen(prefix);

	if (n <= l || n - l > SCRIPT_KEY_MAX || memcmp(p, prefix, l) != 0)
		return 0;
	for (size_t i = l; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' &&
		    p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9')))
			return 0;
	if (key != NULL)
		return n - l == strlen(key) && memcmp(p + l, key, n - l) == 0;
	memcpy(f->key, p + l, n - l);
	f->key[n - l] = '\0';
	return 1;
}

/* The held line ended (with its newline NL, or cut short): taken out, or
 * written. */
static int
held_end(struct fence *f, int fd, int nl)
{
	int drop = nl && ((f->head && key_line(f, f->hold, f->nhold,
	    "\\restrict ", NULL)) || (!f->head && f->key[0] &&
	    key_line(f, f->hold, f->nhold, "\\unrestrict ", f->key)));

	f->holding = 0;
	f->head = 0;
	if (drop) {
		f->held_u = 0;
		return 0;
	}
	if (f->held_u)
		return refuse(f);
	if (put(f, fd, f->hold, f->nhold) < 0 || (nl && put(f, fd, "\n",
	    1) < 0))
		return -1;
	return 0;
}

/* One byte C, where anything may happen. */
static int
step(struct fence *f, int fd, char c)
{
	int bol = f->last == '\n';

	if (f->um > 0) {
		if (c != U[f->um]) {
			f->um = 0;
		} else if (++f->um == ULEN) {
			f->um = 0;
			if (!f->holding)
				return refuse(f);
			f->held_u = 1;
		}
	}
	if (c == '\\') {
		f->run++;
	} else {
		if (f->run % 2 == 1 && c == 'u')
			f->um = 1;
		f->run = 0;
	}
	f->last = c;
	if (f->holding) {
		if (c == '\n')
			return held_end(f, fd, 1);
		if (f->nhold == sizeof f->hold)
			if (held_end(f, fd, 0) < 0)
				return -1;
		if (f->holding) {
			f->hold[f->nhold++] = c;
			return 0;
		}
		return put(f, fd, &c, 1);
	}
	if (bol && c == '\\' && (f->head || f->key[0])) {
		f->holding = 1;
		f->held_u = 0;
		f->nhold = 0;
		f->hold[f->nhold++] = c;
		return 0;
	}
	if (f->head) {
		if (f->dashes == 2)
			f->dashes = c == '\n' ? 0 : 2;
		else if (bol && c == '-')
			f->dashes = 1;
		else if (f->dashes == 1 && c == '-')
			f->dashes = 2;
		else if (!(bol && c == '\n'))
			f->head = 0;	/* a line that is not blank or -- */
	}
	return put(f, fd, &c, 1);
}

int
fence_write(struct fence *f, int fd, const void *buf, size_t n)
{
	const char *p = buf;
	size_t i = 0;

	if (f->refused)
		return refuse(f);
	while (i < n) {
		if (f->head || f->holding || f->run > 0 || f->um > 0) {
			if (step(f, fd, p[i++]) < 0)
				return -1;
			continue;
		}
		/* Nothing to watch until the next backslash. */
		const char *q = memchr(p + i, '\\', n - i);
		size_t k = q ? (size_t)(q - p) : n;
		if (k > i) {
			if (put(f, fd, p + i, k - i) < 0)
				return -1;
			f->last = p[k - 1];
			i = k;
		}
		if (q != NULL && step(f, fd, p[i++]) < 0)
			return -1;
	}
	return flush_out(f, fd);
}

int
fence_end(struct fence *f, int fd)
{
	if (f->refused)
		return refuse(f);
	if (f->holding && held_end(f, fd, 0) < 0)
		return -1;
	return flush_out(f, fd);
}

int
fence_clean(const char *p, size_t n)
{
	unsigned long run = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\\') {
			run++;
			continue;
		}
		if (run % 2 == 1 && n - i >= ULEN && memcmp(p + i, U,
		    ULEN) == 0)
			return 0;
		run = 0;
	}
	return 1;
}
