/* dumps.c - the dumps of one of our archives, read straight from it. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

/* Copies dump I, the member R is at, where it goes: psql's input, or
 * the post-data dump's file.  Returns 0, or -1 with D->why. */
static int
take(struct dumps *d, struct tar_reader *r, int i, unsigned char *buf,
    size_t size)
{
	int to = i < 2 ? d->to : d->post;
	ssize_t n;

	while ((n = tar_read(r, buf, size)) > 0) {
		if (io_write_all(to, buf, (size_t)n) < 0) {
			/* EPIPE: psql ended; how, its caller says. */
			snprintf(d->why, sizeof d->why, "cannot %s: %s", i < 2 ?
			    "give psql the dumps" : "keep the post-data dump",
			    strerror(errno));
			return -1;
		}
		if (i < 2)
			__atomic_add_fetch(&d->fed, (uint64_t)n,
			    __ATOMIC_RELAXED);
	}
	if (n < 0 || tar_skip(r, d->hex[i]) < 0) {
		snprintf(d->why, sizeof d->why, "in '%s': %s", d->names[i],
		    r->err);
		return -1;
	}
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
		if (take(d, r, next, buf, TAR_BUF) < 0) {
			rc = -1;
			break;
		}
		if (next == 1) {
			/* All psql is to read: it ends once it has. */
			close(d->to);
			d->to = -1;
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
	if (d->to >= 0)
		close(d->to);
	d->to = -1;
	/* A decompressor still writing gets EPIPE: the stream was bad. */
	close(d->from);
	d->from = -1;
	d->rc = rc < 0 ? -1 : 0;
	__atomic_store_n(&d->state, 2, __ATOMIC_RELEASE);
	return NULL;
}

int
dumps_start(struct dumps *d, const struct config *cfg, const char *top,
    int in, int to, int stage, char *err, size_t elen)
{
	int p[2], e;

	memset(d, 0, sizeof *d);
	d->from = d->post = -1;
	d->to = to;
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
		close(d->to);
		d->to = -1;
		dumps_end(d, 1, ignored, sizeof ignored);
		return -1;
	}
	d->running = 1;
	return 0;
fail:
	close(d->to);
	d->to = -1;
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
