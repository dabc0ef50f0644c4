/* dumps.c - the dumps of one of our archives, read straight from it. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dumps.h"
#include "format.h"
#include "io.h"
#include "tar.h"

int
dumps_pipeline(const struct config *cfg, char *const tarv[], int gunzip,
    struct child kids[], int in, int out, char *err, size_t elen)
{
	static const char *const dc[] = { "-dc", NULL };
	char zip[PATH_MAX];
	struct spawn_cmd cmd;
	char **envp = spawn_env();
	int rc = -1;

	if (envp == NULL) {
		snprintf(err, elen, "out of memory");
		return -1;
	}
	config_decompressor(cfg, envp, zip, sizeof zip);
	if (spawn_cmd(&cmd, zip, dc) < 0) {
		snprintf(err, elen, "the compressor '%s' is not a command line",
		    zip);
		goto out;
	}
	char *const *const argvs[] = { cmd.argv, tarv, cmd.argv };
	if (spawn_pipeline(kids, tarv == NULL ? 1 : gunzip ? 3 : 2, argvs, in,
	    out, envp) < 0)
		snprintf(err, elen, "cannot run '%s'%s: %s", cmd.argv[0],
		    tarv == NULL ? "" : " and tar", strerror(errno));
	else
		rc = 0;
out:
	spawn_env_free(envp);
	return rc;
}

/* A file without a name in the folder STAGE, for the post-data dump:
 * O_TMPFILE, or where the file system has none, a name removed at once
 * (the stage is this run's alone).  Returns it, or -1 with errno set. */
static int
post_file(int stage)
{
	static const char name[] = ".post-data.load";
	int fd;

	fd = openat(stage, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR &&
	    errno != EINVAL))
		return fd;
	fd = openat(stage, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd >= 0 && unlinkat(stage, name, 0) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* The data dump's rows of one table go to two psql sessions once there
 * are this many bytes of them, in turns of at least CHUNK bytes (whole
 * rows), each turn to the session with room for it. */
#define SPLIT_AFTER (4 * 1024 * 1024)
#define CHUNK (256 * 1024)
#define LINE_MAX_KEPT 16384	/* a COPY line or a setting, kept whole */
#define SETTINGS_MAX 8192

/* The data dump read line by line, for the split.  pg_dump writes it as
 * settings (SET, set_config()), COPY ... FROM stdin; with its rows, one
 * a line, up to a line \., and statements of one line (setval(), the
 * large objects' calls). */
struct split {
	int in_copy;		/* between a COPY line and its \. */
	int whole;		/* this COPY's rows may go to both */
	int usable;		/* the second session may be used */
	int target;		/* 0: the first session, 1: the second */
	int open2;		/* the second has this COPY open */
	int mid;		/* inside a row (not at a line's start) */
	uint64_t block;		/* bytes of this COPY's rows so far */
	size_t chunk;		/* of the current turn */
	char line[LINE_MAX_KEPT];	/* the current line's start */
	size_t llen;
	int lover;		/* it was longer */
	char head[LINE_MAX_KEPT];	/* this COPY's line */
	size_t hlen;
	char set[SETTINGS_MAX];	/* the settings so far */
	size_t slen, sent2;	/* and how many the second one had */
};

/* Session WHO of D could not be given a dump: says why.  Returns -1. */
static int
gave_not(struct dumps *d, int who)
{
	if (d->fence[who].refused)
		snprintf(d->why, sizeof d->why, "%s", FENCE_REFUSED);
	else	/* EPIPE: psql ended; how, its caller says. */
		snprintf(d->why, sizeof d->why, "cannot give psql the dumps: "
		    "%s", strerror(errno));
	return -1;
}

/* Writes LEN bytes at P to session WHO (0 or 1) of D, through its
 * fence.  Returns 0, or -1 with D->why. */
static int
give(struct dumps *d, int who, const void *p, size_t len)
{
	if (len > 0 && fence_write(&d->fence[who], who ? d->to2 : d->to, p,
	    len) < 0)
		return gave_not(d, who);
	return 0;
}

/* Which session takes the next turn of rows after CUR: the other one
 * when it has room, else the first that has. */
static int
turn(struct dumps *d, int cur)
{
	struct pollfd p[2] = { { .fd = d->to, .events = POLLOUT },
		{ .fd = d->to2, .events = POLLOUT } };

	if (poll(p, 2, -1) <= 0 || p[!cur].revents != 0)
		return !cur;
	return cur;
}

/* A whole line of the data dump outside a COPY's rows, kept in S->line:
 * a COPY starts, or a setting is kept for the second session. */
static void
line_done(struct split *s)
{
	static const char copy[] = "COPY ", from[] = " FROM stdin;\n";
	static const char set[] = "SET ", config[] =
	    "SELECT pg_catalog.set_config(";
	size_t fl = sizeof from - 1;

	if (s->llen >= 5 && memcmp(s->line, copy, 5) == 0) {
		s->in_copy = 1;
		s->whole = s->usable && !s->lover && s->llen > fl &&
		    memcmp(s->line + s->llen - fl, from, fl) == 0;
		if (s->whole) {
			memcpy(s->head, s->line, s->llen);
			s->hlen = s->llen;
		}
		s->block = s->chunk = 0;
		s->target = s->open2 = 0;
	} else if ((s->llen >= sizeof set - 1 &&
	    memcmp(s->line, set, sizeof set - 1) == 0) ||
	    (s->llen >= sizeof config - 1 &&
	    memcmp(s->line, config, sizeof config - 1) == 0)) {
		if (s->lover || s->slen + s->llen > sizeof s->set)
			s->usable = 0;	/* what it lacks, it cannot have */
		else {
			memcpy(s->set + s->slen, s->line, s->llen);
			s->slen += s->llen;
		}
	}
	s->llen = 0;
	s->lover = 0;
}

/* Takes the N bytes at BUF of the data dump (FINAL: the last of it):
 * what is outside a COPY's rows, and its rows up to the split, to the
 * first session; the rows after it in turns to both.  Returns how many
 * bytes it took (the rest, the start of a line too short to tell yet,
 * comes again with what follows), or -1 with D->why. */
static ssize_t
split_some(struct dumps *d, struct split *s, const unsigned char *buf,
    size_t n, int final)
{
	static const char end[] = "\\.\n";
	size_t pos = 0, seg = 0;
	int to = s->in_copy ? s->target : 0;

	while (pos < n) {
		const unsigned char *nl;
		size_t e;

		if (!s->in_copy) {
			nl = memchr(buf + pos, '\n', n - pos);
			e = nl ? (size_t)(nl - buf) + 1 : n;
			if (s->llen + (e - pos) <= sizeof s->line) {
				memcpy(s->line + s->llen, buf + pos, e - pos);
				s->llen += e - pos;
			} else {
				s->lover = 1;
			}
			pos = e;
			if (nl != NULL)
				line_done(s);
			continue;
		}
		/* A line of a COPY: its end, or a row. */
		if (!s->mid && n - pos < sizeof end - 1 && !final)
			break;
		if (!s->mid && n - pos >= sizeof end - 1 &&
		    memcmp(buf + pos, end, sizeof end - 1) == 0) {
			if (give(d, to, buf + seg, pos - seg) < 0 ||
			    (s->open2 && give(d, 1, end, sizeof end - 1) < 0) ||
			    give(d, 0, end, sizeof end - 1) < 0)
				return -1;
			pos += sizeof end - 1;
			seg = pos;
			s->in_copy = 0;
			to = 0;
			continue;
		}
		nl = memchr(buf + pos, '\n', n - pos);
		e = nl ? (size_t)(nl - buf) + 1 : n;
		s->block += e - pos;
		s->chunk += e - pos;
		s->mid = nl == NULL;
		pos = e;
		if (nl == NULL || !s->whole || s->block < SPLIT_AFTER ||
		    s->chunk < CHUNK)
			continue;
		/* A turn ends after a whole row. */
		if (give(d, to, buf + seg, pos - seg) < 0)
			return -1;
		seg = pos;
		s->chunk = 0;
		s->target = turn(d, s->target);
		if (s->target == 1 && !s->open2) {
			if (give(d, 1, s->set + s->sent2, s->slen - s->sent2) <
			    0 || give(d, 1, s->head, s->hlen) < 0)
				return -1;
			s->sent2 = s->slen;
			s->open2 = 1;
			d->split++;
		}
		to = s->target;
	}
	if (give(d, to, buf + seg, pos - seg) < 0)
		return -1;
	return (ssize_t)pos;
}

/* Copies the data dump, the member R is at, to the sessions (split_some()),
 * hashing it.  Returns 0, or -1 with D->why. */
static int
take_data(struct dumps *d, struct tar_reader *r, unsigned char *buf,
    size_t size)
{
	struct split *s = calloc(1, sizeof *s);
	size_t carry = 0;
	ssize_t n, used;
	int rc = -1;

	if (s == NULL) {
		snprintf(d->why, sizeof d->why, "out of memory");
		return -1;
	}
	s->usable = d->to2 >= 0;
	fence_begin(&d->fence[0], 1);
	fence_begin(&d->fence[1], 0);
	do {
		if ((n = tar_read(r, buf + carry, size - carry)) < 0)
			break;
		used = split_some(d, s, buf, carry + (size_t)n, n == 0);
		if (used < 0)
			goto out;
		__atomic_add_fetch(&d->fed, (uint64_t)used, __ATOMIC_RELAXED);
		carry = carry + (size_t)n - (size_t)used;
		memmove(buf, buf + used, carry);
	} while (n > 0);
	if (n < 0 || tar_skip(r, d->hex[1]) < 0)
		snprintf(d->why, sizeof d->why, "in '%s': %s", d->names[1],
		    r->err);
	else if (fence_end(&d->fence[0], d->to) < 0)
		gave_not(d, 0);
	else if (d->to2 >= 0 && fence_end(&d->fence[1], d->to2) < 0)
		gave_not(d, 1);
	else
		rc = 0;
out:
	free(s);
	return rc;
}

/* Closes the sessions' inputs that are still open: they end once they
 * have read what was given. */
static void
close_inputs(struct dumps *d)
{
	if (d->to >= 0)
		close(d->to);
	if (d->to2 >= 0)
		close(d->to2);
	d->to = d->to2 = -1;
}

/* Copies dump I, the member R is at, where it goes: psql's input, or
 * the post-data dump's file.  Returns 0, or -1 with D->why. */
static int
take(struct dumps *d, struct tar_reader *r, int i, unsigned char *buf,
    size_t size)
{
	ssize_t n;

	/* The post-data dump is kept as it is: what is loaded from it
	 * passes a fence then (postdata.h). */
	if (i < 2)
		fence_begin(&d->fence[0], 1);
	while ((n = tar_read(r, buf, size)) > 0) {
		if (i < 2) {
			if (fence_write(&d->fence[0], d->to, buf,
			    (size_t)n) < 0)
				return gave_not(d, 0);
			__atomic_add_fetch(&d->fed, (uint64_t)n,
			    __ATOMIC_RELAXED);
		} else if (io_write_all(d->post, buf, (size_t)n) < 0) {
			snprintf(d->why, sizeof d->why, "cannot keep the "
			    "post-data dump: %s", strerror(errno));
			return -1;
		}
	}
	if (n < 0 || tar_skip(r, d->hex[i]) < 0) {
		snprintf(d->why, sizeof d->why, "in '%s': %s", d->names[i],
		    r->err);
		return -1;
	}
	if (i < 2 && fence_end(&d->fence[0], d->to) < 0)
		return gave_not(d, 0);
	return 0;
}

/* The reader's thread: the archive from its decompressor, to its end. */
static void *
read_run(void *arg)
{
	struct dumps *d = arg;
	struct tar_reader *r = malloc(sizeof *r);
	struct tar_member *m = malloc(sizeof *m);
	unsigned char *buf = malloc(TAR_BUF);
	int next = 0, rc = -1;

	if (r == NULL || m == NULL || buf == NULL ||
	    tar_reader_open(r, d->from) < 0) {
		snprintf(d->why, sizeof d->why, "out of memory");
		free(r);
		r = NULL;
		goto out;
	}
	while ((rc = tar_next(r, m)) == 1) {
		if (next == 3 || strcmp(m->path, d->names[next]) != 0)
			continue;
		if (m->type != TAR_FILE) {
			snprintf(d->why, sizeof d->why, "'%s' is not a file",
			    d->names[next]);
			rc = -1;
			break;
		}
		if ((next == 1 ? take_data(d, r, buf, TAR_BUF) :
		    take(d, r, next, buf, TAR_BUF)) < 0) {
			rc = -1;
			break;
		}
		if (next == 1) {
			/* All psql is to read: it ends once it has. */
			close_inputs(d);
		} else if (next == 2) {
			d->post_size = m->size;
			__atomic_store_n(&d->state, 1, __ATOMIC_RELEASE);
		}
		next++;
	}
	if (rc == 0 && tar_drain(r) < 0) {
		rc = -1;
	} else if (rc == 0 && next < 3) {
		snprintf(d->why, sizeof d->why, "the archive holds no '%s'",
		    d->names[next]);
		rc = -1;
	}
	if (rc < 0 && d->why[0] == '\0')
		snprintf(d->why, sizeof d->why, "%s", r->err);
out:
	if (r != NULL)
		tar_reader_close(r);
	free(r);
	free(m);
	free(buf);
	close_inputs(d);
	/* A decompressor still writing gets EPIPE: the stream was bad. */
	close(d->from);
	d->from = -1;
	d->rc = rc < 0 ? -1 : 0;
	__atomic_store_n(&d->state, 2, __ATOMIC_RELEASE);
	return NULL;
}

int
dumps_start(struct dumps *d, const struct config *cfg, const char *top,
    int in, int to, int to2, int stage, char *err, size_t elen)
{
	int p[2], e;

	memset(d, 0, sizeof *d);
	d->from = d->post = -1;
	d->to = to;
	d->to2 = to2;
	/* Room for a few turns of rows each, so that neither session
	 * waits while the other one's turn is written (a failure only
	 * leaves the pipe as it was). */
	(void)fcntl(to, F_SETPIPE_SZ, 4 * CHUNK);
	if (to2 >= 0)
		(void)fcntl(to2, F_SETPIPE_SZ, 4 * CHUNK);
	for (int i = 0; i < 3; i++)
		snprintf(d->names[i], sizeof d->names[i], "%s/%s", top,
		    format_dump_member[FORMAT_PRE + i]);
	if ((d->post = post_file(stage)) < 0) {
		snprintf(err, elen, "cannot make a file for the post-data "
		    "dump: %s", strerror(errno));
		goto fail;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, elen, "cannot make a pipe: %s", strerror(errno));
		goto fail;
	}
	if (dumps_pipeline(cfg, NULL, 0, &d->zip, in, p[1], err, elen) < 0) {
		close(p[0]);
		close(p[1]);
		goto fail;
	}
	close(p[1]);
	d->from = p[0];
	if ((e = io_thread_start(&d->thread, read_run, d)) != 0) {
		char ignored[256];
		snprintf(err, elen, "cannot start a thread: %s", strerror(e));
		close_inputs(d);
		dumps_end(d, 1, ignored, sizeof ignored);
		return -1;
	}
	d->running = 1;
	return 0;
fail:
	close_inputs(d);
	if (d->post >= 0)
		close(d->post);
	d->post = -1;
	return -1;
}

uint64_t
dumps_fed(struct dumps *d)
{
	return __atomic_load_n(&d->fed, __ATOMIC_RELAXED);
}

int
dumps_post(struct dumps *d, const volatile int *stop, uint64_t *size,
    char *err, size_t elen)
{
	static const struct timespec wait = { .tv_nsec = 10 * 1000 * 1000 };
	int state, fd;

	while ((state = __atomic_load_n(&d->state, __ATOMIC_ACQUIRE)) == 0) {
		if (io_stop_signal || (stop && *stop)) {
			snprintf(err, elen, "stopped");
			return -1;
		}
		nanosleep(&wait, NULL);
	}
	if (state == 2 && d->rc < 0) {
		snprintf(err, elen, "%s", d->why);
		return -1;
	}
	*size = d->post_size;
	/* The thread is done with it: the offset is ours to move. */
	if ((fd = fcntl(d->post, F_DUPFD_CLOEXEC, 0)) < 0 ||
	    lseek(fd, 0, SEEK_SET) < 0) {
		snprintf(err, elen, "cannot read the post-data dump: %s",
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int
dumps_end(struct dumps *d, int stop, char *why, size_t len)
{
	char msg[512];
	int zrc, cut;

	if (stop && d->zip.pid > 0)
		kill(d->zip.pid, SIGTERM);
	if (d->running) {
		pthread_join(d->thread, NULL);
		d->running = 0;
	} else if (d->from >= 0) {
		close(d->from);
		d->from = -1;
	}
	zrc = spawn_wait_all(&d->zip, 1, msg, sizeof msg);
	/* A decompressor that failed on its own explains the thread's
	 * failure (a stream cut short); one cut off by the thread (a
	 * broken pipe) does not. */
	cut = zrc < 0 && spawn_exit_code(&d->zip) == 128 + SIGPIPE;
	spawn_close(&d->zip);
	if (d->post >= 0)
		close(d->post);
	d->post = -1;
	if (zrc < 0 && !(cut && d->rc < 0))
		snprintf(why, len, "%s", msg);
	else if (d->rc < 0)
		snprintf(why, len, "%s", d->why);
	else
		return 0;
	return -1;
}

int
dumps_same(const struct dumps *d, const char hex[3][65])
{
	for (int i = 0; i < 3; i++)
		if (strcmp(d->hex[i], hex[i]) != 0)
			return 0;
	return 1;
}
