/* relay.c - a thread that copies a stream, hashing and counting it. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "io.h"
#include "relay.h"
#include "tar.h"

/* Keeps the last RELAY_TAIL bytes of what passed. */
static void
keep_tail(struct relay *r, const unsigned char *p, size_t n)
{
	if (n >= RELAY_TAIL) {
		memcpy(r->tail, p + n - RELAY_TAIL, RELAY_TAIL);
		r->tail_len = RELAY_TAIL;
		return;
	}
	if (r->tail_len + n > RELAY_TAIL) {
		size_t drop = r->tail_len + n - RELAY_TAIL;
		memmove(r->tail, r->tail + drop, r->tail_len - drop);
		r->tail_len -= drop;
	}
	memcpy(r->tail + r->tail_len, p, n);
	r->tail_len += n;
}

/* Takes N bytes that passed (read into the buffer) into the hash, the
 * tail and the count.  Returns 0, or -1 with r->error set. */
static int
passed(struct relay *r, size_t n)
{
	if (EVP_DigestUpdate(r->md, r->buf, n) != 1) {
		r->error = ENOMEM;
		return -1;
	}
	keep_tail(r, r->buf, n);
	__atomic_add_fetch(&r->bytes, (uint64_t)n, __ATOMIC_RELAXED);
	return 0;
}

/* Between two pipes: tee(2) gives the reader of TO what is in FROM
 * without a copy, and what it gave is then read from FROM to be hashed.
 * Returns 0 at FROM's end or on a failure (r->error set), 1 when either
 * is not a pipe, before anything passed. */
static int
run_tee(struct relay *r)
{
	for (int first = 1;; first = 0) {
		ssize_t n = tee(r->from, r->to, RELAY_BUF, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (first && errno == EINVAL)
				return 1;
			r->error = errno;
			r->failed_write = errno == EPIPE;
			return 0;
		}
		if (n == 0)
			return 0;
		if (io_read_full(r->from, r->buf, (size_t)n) != n) {
			r->error = errno ? errno : EIO;
			return 0;
		}
		if (passed(r, (size_t)n) < 0)
			return 0;
	}
}

/* Anywhere else: read, then write. */
static void
run_copy(struct relay *r)
{
	for (;;) {
		ssize_t n = io_read(r->from, r->buf, RELAY_BUF);
		if (n < 0) {
			r->error = errno;
			return;
		}
		if (n == 0)
			return;
		if (io_write_all(r->to, r->buf, (size_t)n) < 0) {
			r->error = errno;
			r->failed_write = 1;
			return;
		}
		if (passed(r, (size_t)n) < 0)
			return;
	}
}

static void *
run(void *arg)
{
	struct relay *r = arg;
	int old;

	if (run_tee(r) == 1)
		run_copy(r);
	/* The reader of TO must see the end now, not when we are joined;
	 * and after a failure the writer of FROM must not block on a pipe
	 * nobody reads.  close() is a cancellation point: a cancel inside it
	 * would leave unknown whether the descriptor is still ours. */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	close(r->to);
	r->to = -1;
	close(r->from);
	r->from = -1;
	pthread_setcancelstate(old, NULL);
	return NULL;
}

int
relay_start(struct relay *r, int from, int to)
{
	int e;

	memset(r, 0, sizeof *r);
	r->owned = 1;
	r->from = from;
	r->to = to;
	r->md = EVP_MD_CTX_new();
	r->buf = malloc(RELAY_BUF);
	if (r->md == NULL || r->buf == NULL ||
	    EVP_DigestInit_ex(r->md, EVP_sha256(), NULL) != 1) {
		relay_stop(r);
		errno = ENOMEM;
		return -1;
	}
	/* None of our signals for it. */
	e = io_thread_start(&r->thread, run, r);
	if (e != 0) {
		relay_stop(r);
		errno = e;
		return -1;
	}
	r->running = 1;
	return 0;
}

uint64_t
relay_count(struct relay *r)
{
	return __atomic_load_n(&r->bytes, __ATOMIC_RELAXED);
}

int
relay_wait(struct relay *r, char hex[65], uint64_t *size,
    int *failed_write)
{
	if (r->running) {
		pthread_join(r->thread, NULL);
		r->running = 0;
	}
	*failed_write = r->failed_write;
	if (r->error != 0) {
		errno = r->error;
		return -1;
	}
	if (tar_sha256_hex(r->md, hex) < 0)
		return -1;
	*size = r->bytes;
	return 0;
}

int
relay_tail_has(const struct relay *r, const char *needle)
{
	return memmem(r->tail, r->tail_len, needle, strlen(needle)) != NULL;
}

void
relay_stop(struct relay *r)
{
	/* A zeroed relay was never started: its descriptors are not ours. */
	if (!r->owned)
		return;
	r->owned = 0;
	if (r->running) {
		pthread_cancel(r->thread);
		pthread_join(r->thread, NULL);
		r->running = 0;
	}
	if (r->from >= 0)
		close(r->from);
	if (r->to >= 0)
		close(r->to);
	r->from = r->to = -1;
	EVP_MD_CTX_free(r->md);
	r->md = NULL;
	free(r->buf);
	r->buf = NULL;
}
