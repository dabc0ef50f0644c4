/* undo.c - the most recent restore, reversed step by step. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "docker.h"
#include "dotenv.h"
#include "io.h"
#include "journal.h"
#include "lock.h"
#include "log.h"
#include "pg.h"
#include "pgadmin.h"
#include "swap.h"
#include "undo.h"

#define ENV_MAX (1024 * 1024)

struct undo {
	const struct config *cfg;
	struct journal j;
	char stamp[24];		/* undo's own */
	struct pg pg;		/* where the restore swapped databases */
	struct pg_session s;
	int connected;
	FILE *report;
	char *err;
	size_t elen;
};

static int
failf(struct undo *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
failf(struct undo *u, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->err, u->elen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
has_step(const struct journal *j, char step)
{
	return strchr(j->steps, step) != NULL;
}

/* Whether PATH is the file or folder DEV/INO. */
static int
is(const char *path, uint64_t dev, uint64_t ino)
{
	struct stat st;

	return lstat(path, &st) == 0 && (uint64_t)st.st_dev == dev &&
	    (uint64_t)st.st_ino == ino;
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Whether the files A and B hold the same bytes. */
static int
same_text(const char *a, const char *b)
{
	char *x = io_slurp(AT_FDCWD, a, ENV_MAX, 0);
	char *y = io_slurp(AT_FDCWD, b, ENV_MAX, 0);
	int same = x && y && strcmp(x, y) == 0;

	free(x);
	free(y);
	return same;
}

/* The .env: the one the restore replaced comes back; the restored one
 * is kept as .env.undone-STAMP. */
static int
undo_env(struct undo *u)
{
	const struct journal *j = &u->j;
	char aside[PATH_MAX];
	char *text;
	int rc;

	snprintf(aside, sizeof aside, "%s.undone-%s", j->env_live, u->stamp);
	if (j->env_kept[0] == '\0') {
		/* There was none: the restored one goes aside. */
		if (exists(j->env_live) && rename(j->env_live, aside) < 0)
			return failf(u, "cannot move '%s' aside: %s",
			    j->env_live, strerror(errno));
		if (exists(aside))
			fprintf(u->report, "The restored settings are kept in "
			    "'%s' (there was no .env before).\n", aside);
		return 0;
	}
	if (!exists(j->env_kept)) {
		/* The step makes the copy first: without it, it never ran. */
		if (strchr(j->done, 'e') == NULL)
			return 0;
		return failf(u, "the settings the restore replaced, '%s', are "
		    "gone (removed by hand?): put '%s' right by hand",
		    j->env_kept, j->env_live);
	}
	if (same_text(j->env_live, j->env_kept))
		return 0;	/* not replaced, or put back already */
	text = io_slurp(AT_FDCWD, j->env_kept, ENV_MAX, 0);
	if (text == NULL)
		return failf(u, "cannot read '%s': %s", j->env_kept,
		    strerror(errno));
	rc = io_replace(j->env_live, text, strlen(text), 0600, IO_LIKE_OLD,
	    aside);
	free(text);
	if (rc < 0)
		return failf(u, "cannot put '%s' back: %s", j->env_live,
		    strerror(errno));
	log_step("put the previous settings back in '%s'", j->env_live);
	fprintf(u->report, "The previous settings are back in '%s'; the "
	    "restored ones are kept in '%s'.\n", j->env_live, aside);
	return 0;
}

/* Exchanges the folders A and B, then moves B (now what was at A) to
 * ASIDE. */
static int
exchange_aside(struct undo *u, const char *a, const char *b,
    const char *aside)
{
	char parent[PATH_MAX];

	if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) < 0)
		return failf(u, "cannot exchange '%s' and '%s': %s", a, b,
		    strerror(errno));
	io_test_point("undo-integrations");
	if (rename(a, aside) < 0)
		return failf(u, "cannot move '%s' to '%s': %s (the previous "
		    "integrations are back in place)", a, aside,
		    strerror(errno));
	if (io_parent(b, parent, sizeof parent) == 0)
		io_fsync_dir(parent);
	return 0;
}

/* The integrations: the tree the restore replaced comes back (from its
 * kept name, or from the stage when the commit was cut short between
 * its two renames); the restored tree is kept as integrations.undone-
 * STAMP. */
static int
undo_integrations(struct undo *u)
{
	const struct journal *j = &u->j;
	char aside[PATH_MAX];
	int rc = 0;

	snprintf(aside, sizeof aside, "%s.undone-%s", j->integ_live, u->stamp);
	if (!is(j->integ_live, j->integ_new_dev, j->integ_new_ino)) {
		/* The restored tree is not in place: not replaced, or put
		 * back already; one left at the kept name goes aside. */
		if (j->integ_kept[0] && is(j->integ_kept, j->integ_new_dev,
		    j->integ_new_ino) && rename(j->integ_kept, aside) < 0)
			return failf(u, "cannot move '%s' to '%s': %s",
			    j->integ_kept, aside, strerror(errno));
		if (j->integ_old_ino && !is(j->integ_live, j->integ_old_dev,
		    j->integ_old_ino))
			return failf(u, "'%s' is neither the integrations the "
			    "restore replaced nor the ones it restored: put "
			    "them right by hand", j->integ_live);
		return 0;
	}
	if (j->integ_kept[0] == '\0') {
		/* There were none. */
		if (rename(j->integ_live, aside) < 0)
			return failf(u, "cannot move '%s' aside: %s",
			    j->integ_live, strerror(errno));
	} else if (is(j->integ_kept, j->integ_old_dev, j->integ_old_ino)) {
		rc = exchange_aside(u, j->integ_kept, j->integ_live, aside);
	} else if (is(j->integ_staged, j->integ_old_dev, j->integ_old_ino)) {
		/* Cut short between the exchange and the rename. */
		rc = exchange_aside(u, j->integ_staged, j->integ_live, aside);
	} else {
		return failf(u, "the integrations the restore replaced are "
		    "neither at '%s' nor in '%s': put them back by hand",
		    j->integ_kept, j->stage);
	}
	if (rc < 0)
		return -1;
	log_step("put the previous integrations back in '%s'", j->integ_live);
	fprintf(u->report, "The previous integrations are back in '%s'; the "
	    "restored ones are kept in '%s'.\n", j->integ_live, aside);
	return 0;
}

/* Connects to the server the restore swapped databases on, with the
 * settings it connected with. */
static int
db_connect(struct undo *u)
{
	const struct journal *j = &u->j;
	struct dotenv env = { 0 };
	struct db db;
	char container[256], why[512];
	const char *from = j->db_env;
	int rc = -1;

	/* The kept .env holds the settings the restore connected with;
	 * when the .env step never ran, the live one still does. */
	if (!exists(from) && j->env_live[0])
		from = j->env_live;
	if (dotenv_read(&env, from, u->err, u->elen) < 0 ||
	    config_db(&db, &env, from, u->err, u->elen) < 0 ||
	    docker_locate(u->cfg, &db, container, sizeof container, why,
	    sizeof why, u->err, u->elen) < 0)
		goto out;
	db.container = container[0] ? container : NULL;
	if (pg_init(&u->pg, u->cfg, &db) < 0) {
		failf(u, "out of memory");
		goto out;
	}
	log_step("connecting to %s:%s as '%s'", db.host, db.port, db.user);
	if (pgadmin_connect(&u->pg, &u->s, u->err, u->elen) < 0)
		goto out;
	u->connected = 1;
	rc = 0;
out:
	dotenv_free(&env);
	return rc;
}

/* The database: the one the restore replaced gets its name back; the
 * restored one is kept as NAME_undone_STAMP. */
static int
undo_database(struct undo *u)
{
	const struct journal *j = &u->j;
	char aside[64], q[160];
	int has_restored = 0, has_kept = 0, has_target = 0;

	if (pgadmin_db_exists(&u->s, j->db_restored, &has_restored, u->err,
	    u->elen) < 0 ||
	    pgadmin_db_exists(&u->s, j->db_kept, &has_kept, u->err,
	    u->elen) < 0 ||
	    pgadmin_db_exists(&u->s, j->db_target, &has_target, u->err,
	    u->elen) < 0)
		return -1;
	pgadmin_dated(aside, sizeof aside, j->db_target, "undone", u->stamp);
	pg_quote_ident(aside, q, sizeof q);
	/* Never swapped, or swapped back already. */
	if (has_restored || (j->db_existed && !has_kept) ||
	    (!j->db_existed && !has_target))
		return 0;
	if (!has_target)
		return failf(u, "the database '%s' is gone: put it right by "
		    "hand", j->db_target);
	if (pgadmin_swap(&u->s, j->db_target, j->db_existed ? j->db_kept :
	    NULL, aside, 1, u->err, u->elen) < 0)
		return -1;
	log_step("put the previous database back as '%s'", j->db_target);
	if (j->db_existed)
		fprintf(u->report, "The previous database is back as '%s'; the "
		    "restored one is kept as %s.\n", j->db_target, q);
	else
		fprintf(u->report, "The restored database is kept as %s (%s)."
		    "\n", q, j->db_dropped ? "the one before it was dropped "
		    "by --drop-first and cannot come back" : "there was none "
		    "before");
	return 0;
}

/* Whether a name undo would keep something under, made from the stamp
 * CANDIDATE, is in use. */
static int
names_taken(void *arg, const char *candidate)
{
	struct undo *u = arg;
	const struct journal *j = &u->j;
	char path[PATH_MAX], name[64];
	int taken = 0;

	snprintf(path, sizeof path, "%s.undone-%s", j->integ_live, candidate);
	if (j->integ_live[0] && exists(path))
		return 1;
	snprintf(path, sizeof path, "%s.undone-%s", j->env_live, candidate);
	if (j->env_live[0] && exists(path))
		return 1;
	if (!u->connected)
		return 0;
	pgadmin_dated(name, sizeof name, j->db_target, "undone", candidate);
	if (pgadmin_db_exists(&u->s, name, &taken, u->err, u->elen) < 0)
		return -1;
	return taken;
}

/* What undo will do, for the question and the report. */
static void
plan(const struct undo *u, FILE *f)
{
	const struct journal *j = &u->j;

	fprintf(f, "Undo the restore of %s from '%s'%s:\n", j->stamp,
	    j->archive, j->state == JOURNAL_COMMITTING ? " (cut short while "
	    "it put things in place)" : "");
	if (has_step(j, 'd'))
		fprintf(f, "  database '%s': %s\n", j->db_target,
		    j->db_existed ? "the one it replaced comes back" :
		    "the restored one is put aside");
	if (has_step(j, 'i'))
		fprintf(f, "  integrations '%s': %s\n", j->integ_live,
		    j->integ_kept[0] ? "the ones it replaced come back" :
		    "the restored ones are put aside");
	if (has_step(j, 'e'))
		fprintf(f, "  settings '%s': %s\n", j->env_live,
		    j->env_kept[0] ? "the ones it replaced come back" :
		    "the restored ones are put aside");
	fprintf(f, "What the restore put in place is kept under names with "
	    "'undone' and %s.\n", u->stamp);
}

static enum undo_result
confirm(struct undo *u, int yes)
{
	char answer[32];

	if (yes)
		return UNDO_OK;
	if (!isatty(STDIN_FILENO)) {
		snprintf(u->err, u->elen, "undo puts the previous database, "
		    "integrations and settings back: give --yes when not at a "
		    "terminal");
		return UNDO_DECLINED;
	}
	plan(u, stderr);
	fprintf(stderr, "Type 'yes' to go on: ");
	fflush(stderr);
	if (fgets(answer, sizeof answer, stdin) == NULL ||
	    strcmp(answer, "yes\n") != 0) {
		snprintf(u->err, u->elen, "undo cancelled; nothing was changed");
		return UNDO_DECLINED;
	}
	return UNDO_OK;
}

enum undo_result
undo_run(const struct config *c, int yes, FILE *report, char *err,
    size_t elen)
{
	struct undo u = { .cfg = c, .report = report, .err = err,
		.elen = elen, .s = { .to = -1, .from = -1 } };
	enum undo_result res = UNDO_FAILED;
	time_t now = time(NULL);
	struct tm tm;
	int lock, rc;

	err[0] = '\0';
	/* No backup folder: no restore ever ran with these settings. */
	if (access(c->backup_dir, F_OK) < 0 && errno == ENOENT) {
		snprintf(err, elen, "no restore to undo: there is no backup "
		    "folder '%s'", c->backup_dir);
		return UNDO_NOTHING;
	}
	lock = lock_take(c->backup_dir, "undo", err, elen);
	if (lock < 0)
		return errno == EWOULDBLOCK ? UNDO_BUSY : UNDO_FAILED;
	rc = journal_read(c->backup_dir, &u.j, err, elen);
	if (rc <= 0) {
		if (rc == 0)
			snprintf(err, elen, "no restore to undo: none was "
			    "recorded in '%s'", c->backup_dir);
		res = rc == 0 ? UNDO_NOTHING : UNDO_FAILED;
		goto out;
	}
	if (u.j.state != JOURNAL_COMPLETE &&
	    u.j.state != JOURNAL_COMMITTING) {
		snprintf(err, elen, "no restore to undo: the last one (%s, from "
		    "'%s') %s", u.j.stamp, u.j.archive,
		    u.j.state == JOURNAL_UNDONE ? "was undone already" :
		    u.j.state == JOURNAL_ROLLED_BACK ? "failed and changed "
		    "nothing" : "is gone: cleanup removed what it kept");
		res = UNDO_NOTHING;
		goto out;
	}
	if (has_step(&u.j, 'd') && db_connect(&u) < 0)
		goto out;
	/* A second undo of one restore (the first cut short) keeps its
	 * names; a first one takes names nothing has. */
	if (u.j.undo_stamp[0]) {
		snprintf(u.stamp, sizeof u.stamp, "%s", u.j.undo_stamp);
	} else {
		localtime_r(&now, &tm);
		strftime(u.stamp, sizeof u.stamp, "%Y%m%d%H%M%S", &tm);
		rc = swap_choose_stamp(u.stamp, sizeof u.stamp, names_taken,
		    &u);
		if (rc == -2)
			snprintf(err, elen, "no free name to keep the restored "
			    "state under");
		if (rc < 0)
			goto out;
	}
	if ((res = confirm(&u, yes)) != UNDO_OK)
		goto out;
	res = UNDO_FAILED;
	snprintf(u.j.undo_stamp, sizeof u.j.undo_stamp, "%s", u.stamp);
	if (journal_write(c->backup_dir, &u.j, err, elen) < 0)
		goto out;
	/* Last step first. */
	if ((has_step(&u.j, 'e') && undo_env(&u) < 0) ||
	    (has_step(&u.j, 'i') && undo_integrations(&u) < 0) ||
	    (has_step(&u.j, 'd') && undo_database(&u) < 0))
		goto out;
	/* A stage a cut-short commit left: what it held is in place. */
	if (u.j.stage[0] && exists(u.j.stage)) {
		char parent[PATH_MAX];
		int fd;
		if (io_parent(u.j.stage, parent, sizeof parent) == 0 &&
		    (fd = open(parent, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) >= 0) {
			io_remove_tree(fd, strrchr(u.j.stage, '/') + 1);
			close(fd);
		}
	}
	u.j.state = JOURNAL_UNDONE;
	if (journal_write(c->backup_dir, &u.j, err, elen) < 0)
		goto out;
	log_step("undo complete");
	fprintf(report, "Remove what was kept, once no longer needed, with "
	    "'polarity cleanup'.\nNow restart the Polarity containers:\n"
	    "  cd %s && ./down.sh && ./up.sh\n", c->app_dir);
	res = UNDO_OK;
out:
	if (u.connected) {
		char ignored[512];
		pg_session_close(&u.s, ignored, sizeof ignored);
	}
	pg_free(&u.pg);
	close(lock);
	return res;
}

int
undo_pending(const struct config *c, char *line, size_t len)
{
	struct journal j;
	char err[512];

	if (journal_read(c->backup_dir, &j, err, sizeof err) != 1 ||
	    j.state != JOURNAL_COMMITTING)
		return 0;
	snprintf(line, len, "the restore from '%s' (%s) was interrupted while "
	    "it put things in place: run 'polarity undo' to go back to the "
	    "state before it", j.archive, j.stamp);
	return 1;
}
