/* load.c - from the archive's dumps to a loaded database. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dumps.h"
#include "format.h"
#include "io.h"
#include "legacy.h"
#include "load.h"
#include "log.h"
#include "pgadmin.h"
#include "postdata.h"
#include "progress.h"
#include "roles.h"

/* Each missing role found by a failed load costs one more load. */
#define MAX_ROLE_RETRIES 32

/* Waits for the N stages of a reader, stopping them first when STOP. */
static int
reader_end(struct child *kids, size_t n, int stop, char *why, size_t len)
{
	int rc;

	for (size_t i = 0; stop && i < n; i++)
		if (kids[i].pid > 0)
			kill(kids[i].pid, SIGTERM);
	rc = spawn_wait_all(kids, n, why, len);
	for (size_t i = 0; i < n; i++)
		spawn_close(&kids[i]);
	return rc;
}

/* The statement each psql of a load into T->name runs first: it stops
 * unless its database is the one made for the load, by OID.  A psql told
 * to stop may still connect later: in the container, stopping `docker
 * exec` leaves it running.  By then the database it was meant for may
 * have been dropped and made again, under the same name, for the next
 * load.  Returns 0, or -1 with ERR. */
static int
load_guard(const struct load_target *t, char *guard, size_t glen, char *err,
    size_t elen)
{
	char oid[32];

	if (pgadmin_db_oid(t->sql, t->name, oid, sizeof oid, err, elen) < 0)
		return -1;
	if (oid[0] == '\0') {
		snprintf(err, elen, "the database made for it is gone");
		return -1;
	}
	snprintf(guard, glen, "DO $$BEGIN IF (SELECT oid FROM "
	    "pg_catalog.pg_database WHERE datname = "
	    "pg_catalog.current_database()) <> %s THEN RAISE EXCEPTION "
	    "'not the database made for this load'; END IF; END$$", oid);
	return 0;
}

/* The bytes of SRC's pre-data and data dumps: what the reader feeds
 * psql. */
static uint64_t
rows_bytes(const struct load_source *src)
{
	return src->u->dump_bytes - src->u->post_bytes;
}

/* Says how many tables' rows D gave two sessions. */
static void
split_said(const struct dumps *d)
{
	if (d->split > 0)
		log_detail("the rows of %u large table%s loaded by two sessions "
		    "at once", d->split, d->split == 1 ? "" : "s");
}

/* Waits for the second session of a load's rows, C (as pg_load_finish()
 * does; with STOP, stopping it first): when it failed, and the first did
 * not (STOP), its error output goes to ERRTEXT.  Returns 0 or -1. */
static int
second_done(struct child *c, int stop, char *errtext, size_t tlen, char *err,
    size_t elen)
{
	char text[8192], why[1024];

	if (pg_load_finish(c, stop ? ECANCELED : 0, text, sizeof text, why,
	    sizeof why) == 0)
		return 0;
	if (!stop) {
		snprintf(errtext, tlen, "%s", text);
		snprintf(err, elen, "%s", why);
	}
	return -1;
}

/* Stops a psql of a load that is given up, and waits for it. */
static void
psql_cancel(struct child *c)
{
	char text[1024], why[512];

	(void)pg_load_finish(c, ECANCELED, text, sizeof text, why, sizeof why);
}

/* Loads the dumps once, from the start of the archive, with LOADER; the
 * post-data dump's psql run GUARD first. */
static int
load_once(const struct load_source *src, struct pg *loader, char *guard,
    char *errtext, size_t tlen, char *err, size_t elen)
{
	static const struct timespec tenth = { .tv_nsec = 100 * 1000 * 1000 };
	struct dumps *d = malloc(sizeof *d);
	struct child first, second;
	char why[1024];
	uint64_t size = 0;
	int to = -1, rc, zrc, post = -1, to2 = -1, two;

	if (d == NULL) {
		snprintf(err, elen, "out of memory");
		return -1;
	}
	if (lseek(src->fd, 0, SEEK_SET) < 0) {
		snprintf(err, elen, "cannot read '%s' again: %s", src->archive,
		    strerror(errno));
		free(d);
		return -1;
	}
	if (pg_load_start(loader, &first, -1, &to, guard, err, elen) < 0) {
		free(d);
		return -1;
	}
	/* The second session for a large table's rows. */
	if (!src->one_session && pg_load_start(loader, &second, -1, &to2,
	    guard, err, elen) < 0) {
		close(to);
		psql_cancel(&first);
		free(d);
		return -1;
	}
	two = to2 >= 0;
	/* The reader writes to psql's input itself, through its fence. */
	if (dumps_start(d, src->cfg, src->u->top, src->fd, to, to2,
	    src->stage, err, elen) < 0) {
		psql_cancel(&first);
		if (two)
			second_done(&second, 1, errtext, tlen, err, elen);
		free(d);
		return -1;
	}
	progress_begin("loading", rows_bytes(src));
	while (!spawn_poll(&first) && !io_stop_signal) {
		progress_update(dumps_fed(d));
		nanosleep(&tenth, NULL);
	}
	progress_end();
	rc = pg_load_finish(&first, io_stop_signal ? ECANCELED : 0, errtext,
	    tlen, err, elen);
	if (two && second_done(&second, rc < 0, errtext, tlen, err, elen) <
	    0 && rc == 0)
		rc = -1;
	if (rc == 0 && (post = dumps_post(d, NULL, &size, err, elen)) < 0)
		rc = -1;
	zrc = dumps_end(d, rc < 0, why, sizeof why);
	split_said(d);
	/* A refused dump: the reader's reason, not psql's end. */
	if (zrc < 0 && (d->fence[0].refused || d->fence[1].refused)) {
		snprintf(err, elen, "cannot load the dumps from '%s': %s",
		    src->archive, why);
		rc = -1;
	} else if (rc == 0 && zrc < 0) {
		snprintf(err, elen, "cannot read the dumps from '%s': %s",
		    src->archive, why);
		rc = -1;
	}
	if (rc == 0 && !dumps_same(d, (const char (*)[65])src->u->dump_sha)) {
		snprintf(err, elen, "the dumps read from '%s' for the load are "
		    "not the ones checked: the archive changed while it was "
		    "read", src->archive);
		rc = -1;
	}
	if (rc == 0) {
		log_step("building the indexes and keys");
		rc = postdata_run(loader, post, size, &(struct postdata_opts){
		    .jobs = POSTDATA_JOBS, .guard = guard }, errtext, tlen,
		    err, elen);
	}
	if (post >= 0)
		close(post);
	free(d);
	return rc;
}

int
load_run(const struct load_source *src, const struct load_target *t,
    const struct format_header *h, char *err, size_t elen)
{
	char errtext[8192], q[160], guard[320];
	struct pg loader;
	int rc = -1;

	pg_quote_ident(t->name, q, sizeof q);
	if (pg_init(&loader, src->cfg, t->db) < 0 ||
	    pg_set_database(&loader, t->name) < 0) {
		pg_free(&loader);
		snprintf(err, elen, "out of memory");
		return -1;
	}
	snprintf(loader.fence, sizeof loader.fence, "%s", src->fence);
	for (int attempt = 0; attempt <= MAX_ROLE_RETRIES; attempt++) {
		/* A signal that came between two steps stops the next. */
		if (io_stop_signal || pgadmin_create_marked(t->sql, t->name,
		    h->encoding, h, t->owner, err, elen) < 0)
			break;
		if (load_guard(t, guard, sizeof guard, err, elen) < 0) {
			pgadmin_drop(t->admin, t->sql, t->name);
			break;
		}
		log_step("loading the database into %s", q);
		errtext[0] = '\0';
		if (load_once(src, &loader, guard, errtext, sizeof errtext, err,
		    elen) == 0) {
			rc = 0;
			break;
		}
		pgadmin_drop(t->admin, t->sql, t->name);
		if (io_stop_signal || attempt == MAX_ROLE_RETRIES ||
		    roles_from_error(t->sql, errtext, t->report, err,
		    elen) != 1)
			break;
	}
	pg_free(&loader);
	return rc;
}

void
early_stop(struct early_load *e, const char *why)
{
	if (e->on && why)
		log_detail("loading after the check: %s", why);
	e->on = 0;
	if (e->started && !e->stopped) {
		if (e->rd.zip.pid > 0)
			kill(e->rd.zip.pid, SIGTERM);
		if (e->psql.pid > 0)
			kill(e->psql.pid, SIGTERM);
		if (e->two && e->psql2.pid > 0)
			kill(e->psql2.pid, SIGTERM);
		e->stopped = 1;
		e->stop = 1;	/* the post-data sessions, if started */
	}
}

static void *finish_run(void *arg);

int
early_start(struct early_load *e, const struct load_source *src,
    const struct load_target *t, const struct format_header *replaced,
    char *why, size_t wlen)
{
	char proc[64], q[160];
	int in = -1, p[2] = { -1, -1 }, to2 = -1, rc = -1;

	e->src = src;
	e->t = t;
	e->on = 1;
	/* From here on the database may exist, with or without its mark. */
	e->made_db = 1;
	if (pgadmin_create_marked(t->sql, t->name, replaced->encoding,
	    replaced, t->owner, why, wlen) < 0) {
		early_stop(e, why);
		return -1;
	}
	/* Before it reads anything, psql makes sure the database is still
	 * the one made here (load_guard()). */
	if (load_guard(t, e->guard, sizeof e->guard, why, wlen) < 0) {
		early_stop(e, why);
		return -1;
	}
	/* A description of its own (the check's offset is the check's), of
	 * the very file the check reads. */
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", src->fd);
	if ((in = open(proc, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(why, wlen, "cannot open the archive a second time");
		early_stop(e, why);
		goto out;
	}
	if (pg_init(&e->loader, src->cfg, t->db) < 0 ||
	    pg_set_database(&e->loader, t->name) < 0) {
		snprintf(why, wlen, "out of memory");
		early_stop(e, why);
		goto out;
	}
	snprintf(e->loader.fence, sizeof e->loader.fence, "%s", src->fence);
	/* The reader writes to psql's input itself, through its fence. */
	if (pg_load_start(&e->loader, &e->psql, -1, &p[1], e->guard, why,
	    wlen) < 0) {
		early_stop(e, why);
		goto out;
	}
	/* The second session for a large table's rows. */
	if (!src->one_session && pg_load_start(&e->loader, &e->psql2, -1,
	    &to2, e->guard, why, wlen) < 0) {
		close(p[1]);
		p[1] = -1;
		psql_cancel(&e->psql);
		early_stop(e, why);
		goto out;
	}
	e->two = to2 >= 0;
	rc = dumps_start(&e->rd, src->cfg, src->u->top, in, p[1], to2,
	    src->stage, why, wlen);
	p[1] = -1;	/* the reader's, with to2 */
	if (rc < 0) {
		psql_cancel(&e->psql);
		goto undo;
	}
	e->started = 1;
	rc = 0;
	pg_quote_ident(t->name, q, sizeof q);
	log_step("loading the database into %s while the archive is "
	    "checked", q);
	/* The post-data dump is loaded by a thread of its own, as soon as
	 * the reader has it and the rows are in, whatever the check is
	 * doing then; without the thread, early_settle() loads it. */
	e->finishing = 1;
	e->finishing = io_thread_start(&e->finisher, finish_run, e) == 0;
	goto out;
undo:
	if (e->two)
		second_done(&e->psql2, 1, NULL, 0, NULL, 0);
	e->two = 0;
	early_stop(e, why);
	rc = -1;
out:
	if (in >= 0)
		close(in);
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
	return rc;
}

/* Waits for the reader and psql of the pre-data and data dumps of the
 * early load ARG.  Returns 0, or -1 with ERR. */
static int
rows_in(void *arg, char *err, size_t elen)
{
	struct early_load *e = arg;
	char errtext[8192], why[1024], zipwhy[1024];
	int zrc, prc;

	if (e->rows_waited)
		return 0;
	e->rows_waited = 1;
	/* A stopped reader was sent its signal by early_stop(). */
	zrc = dumps_end(&e->rd, 0, zipwhy, sizeof zipwhy);
	split_said(&e->rd);
	prc = pg_load_finish(&e->psql, e->stopped ? ECANCELED : 0, errtext,
	    sizeof errtext, why, sizeof why);
	if (e->two && second_done(&e->psql2, e->stopped || prc < 0, errtext,
	    sizeof errtext, why, sizeof why) < 0)
		prc = -1;
	e->two = 0;
	/* Said before the check, waiting for it, goes on. */
	if (!e->stopped && !io_stop_signal && prc == 0 && zrc == 0) {
		log_step("building the indexes and keys");
		e->phase = 1;
		return 0;
	}
	e->phase = 1;
	if (e->stopped || io_stop_signal)
		snprintf(err, elen, "stopped");
	else
		snprintf(err, elen, "the early load failed: %s", prc < 0 ?
		    why : zipwhy);
	e->rows_failed = 1;
	return -1;
}

/* The post-data dump of the early load ARG, once its reader has it. */
static int
post_script(void *arg, uint64_t *size, char *err, size_t elen)
{
	struct early_load *e = arg;

	return dumps_post(&e->rd, &e->stop, size, err, elen);
}

/* Loads the post-data dump of the early load E once its rows are in (its
 * sessions start before).  Returns 0, or -1 with E->why. */
static int
early_finish(struct early_load *e)
{
	char errtext[8192], why[1024];
	int rc;

	rc = postdata_run(&e->loader, -1, 0, &(struct postdata_opts){
	    .jobs = POSTDATA_JOBS, .guard = e->guard, .stop = &e->stop,
	    .done = e->finishing ? &e->post_done : NULL, .ready = rows_in,
	    .ready_arg = e, .script = post_script, .script_arg = e,
	    .last = &e->post_last },
	    errtext, sizeof errtext, why, sizeof why);
	/* The rows are waited for whatever came first. */
	if (!e->rows_waited && rows_in(e, why, sizeof why) < 0)
		rc = -1;
	if (rc < 0 && e->rows_failed)
		snprintf(e->why, sizeof e->why, "%s", why);
	else if (rc < 0)
		snprintf(e->why, sizeof e->why, "the post-data dump failed: "
		    "%s", why);
	return rc;
}

static void *
finish_run(void *arg)
{
	struct early_load *e = arg;

	e->rc = early_finish(e);
	e->phase = 2;
	return NULL;
}

void
early_wait_rows(struct early_load *e)
{
	static const struct timespec wait = { .tv_nsec = 20 * 1000 * 1000 };

	while (e->started && e->finishing && !e->stopped && (e->phase == 0 ||
	    (e->phase == 1 && !e->post_last)) && !io_stop_signal)
		nanosleep(&wait, NULL);
}

/* Waits for the early load's rows to be in, with the progress at a
 * terminal; with the finisher running, until it ends. */
static void
early_watch(struct early_load *e)
{
	static const struct timespec tenth = { .tv_nsec = 100 * 1000 * 1000 };
	char q[160];

	pg_quote_ident(e->t->name, q, sizeof q);
	log_step("finishing the load into %s", q);
	progress_begin("loading", rows_bytes(e->src));
	while ((e->finishing ? e->phase == 0 : !spawn_poll(&e->psql)) &&
	    !io_stop_signal) {
		progress_update(dumps_fed(&e->rd));
		nanosleep(&tenth, NULL);
	}
	progress_end();
	if (!e->finishing)
		return;
	progress_begin("indexing", e->src->u->post_bytes);
	while (e->phase == 1 && !io_stop_signal) {
		progress_update(e->post_done);
		nanosleep(&tenth, NULL);
	}
	progress_end();
}

int
early_settle(struct early_load *e, int checked, const struct format_header *h)
{
	char why[1024], enc[64] = "";
	const char *encoding = h->encoding;
	int ok = 0, same = 1;

	if (e->started) {
		if (!checked)
			early_stop(e, NULL);
		if (e->finishing) {
			early_watch(e);
			pthread_join(e->finisher, NULL);
			e->finishing = 0;
		} else if (e->stopped) {
			/* No post-data sessions for what is dropped. */
			(void)rows_in(e, why, sizeof why);
			e->rc = -1;
		} else {
			early_watch(e);
			e->rc = early_finish(e);
		}
		ok = checked && !e->stopped && e->rc == 0;
		if (checked && !e->stopped && !ok)
			log_detail("loading after the check: %s", e->why);
		/* The file may have changed between the two reads. */
		if (ok && !dumps_same(&e->rd,
		    (const char (*)[65])e->src->u->dump_sha)) {
			log_detail("loading after the check: the dumps loaded "
			    "are not the ones checked");
			ok = 0;
		}
		e->started = 0;
	}
	/* The database must have the encoding the manifest names. */
	if (ok && encoding[0] && (pgadmin_db_encoding(e->t->sql, e->t->name,
	    enc, sizeof enc, why, sizeof why) < 0 ||
	    strcmp(enc, encoding) != 0)) {
		log_detail("loading after the check: the archive's encoding "
		    "is %s", encoding);
		ok = 0;
	}
	/* And its locale: it was made before the manifest was read. */
	if (ok && (pgadmin_props_match(e->t->sql, e->t->name, h, &same, why,
	    sizeof why) < 0 || !same)) {
		log_detail("loading after the check: the archive's locale is "
		    "%s / %s", h->db_collate, h->db_ctype);
		ok = 0;
	}
	if (!ok && e->made_db)
		pgadmin_drop(e->t->admin, e->t->sql, e->t->name);
	e->made_db = 0;
	e->on = 0;
	pg_free(&e->loader);
	return ok;
}

/* The original utility's archives. */

/* Starts the reader of the legacy dump D of SRC on IN (from its start)
 * into OUT: the decompressor, tar taking that one member, and the
 * decompressor again when the dump is gzip-compressed itself.  *N gets
 * the count of stages.  Returns 0, or -1 with ERR. */
static int
legacy_reader_start(const struct load_source *src, const struct legacy_dump *d,
    struct child kids[3], size_t *n, int in, int out, char *err, size_t elen)
{
	/* The name is taken as it is: no pattern, no escapes. */
	char *tarv[] = { "tar", "--no-wildcards", "--no-unquote", "-xOf", "-",
		(char *)(uintptr_t)d->member, NULL };

	*n = d->gzip ? 3 : 2;
	if (lseek(in, 0, SEEK_SET) < 0) {
		snprintf(err, elen, "cannot read '%s' again: %s", src->archive,
		    strerror(errno));
		return -1;
	}
	return dumps_pipeline(src->cfg, tarv, d->gzip, kids, in, out, err,
	    elen);
}

/* Loads the legacy dump D with LOADER: psql, or pg_restore for a
 * custom-format one. */
static int
legacy_step(const struct load_source *src, struct pg *loader,
    const struct legacy_dump *d, char *errtext, size_t tlen, char *err,
    size_t elen)
{
	struct child kids[3];
	char why[1024];
	size_t n;
	int p[2], rc, zrc;

	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, elen, "cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	if (legacy_reader_start(src, d, kids, &n, src->fd, p[1], err,
	    elen) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	log_step("loading '%s' (%s)", d->member, legacy_kind_word(d->kind));
	if (d->kind == LEGACY_CUSTOM)
		rc = pg_restore_fd(loader, p[0], d->size, errtext, tlen, err,
		    elen);
	else
		rc = pg_run_fd(loader, p[0], d->size, errtext, tlen, err, elen);
	close(p[0]);
	zrc = reader_end(kids, n, rc < 0, why, sizeof why);
	if (rc == 0 && zrc < 0) {
		snprintf(err, elen, "cannot read '%s' from '%s': %s",
		    d->member, src->archive, why);
		rc = -1;
	}
	return rc;
}

/* The roles a custom-format dump D names: what pg_restore --schema-only
 * writes of it, read as a plain script, into SET. */
static int
custom_roles(const struct load_source *src, const struct load_target *t,
    const struct legacy_dump *d, struct legacy_set *set, char *err,
    size_t elen)
{
	char *argv[] = { "pg_restore", "--schema-only", "-f", "-", NULL };
	char buf[65536], why[1024], ignored[512];
	struct legacy_read *l = legacy_new();
	struct child kids[3], c;
	struct pg pg;
	size_t n = 0;
	ssize_t got;
	int a[2] = { -1, -1 }, b[2] = { -1, -1 }, rc = -1, started = 0;

	if (l == NULL || pg_init(&pg, src->cfg, t->db) < 0) {
		legacy_free(l);
		snprintf(err, elen, "out of memory");
		return -1;
	}
	if (pipe2(a, O_CLOEXEC) < 0 || pipe2(b, O_CLOEXEC) < 0) {
		snprintf(err, elen, "cannot make a pipe: %s", strerror(errno));
		goto out;
	}
	if (legacy_reader_start(src, d, kids, &n, src->fd, a[1], err,
	    elen) < 0)
		goto out;
	started = 1;
	if (pg_program_start(&pg, &c, argv, a[0], b[1], err, elen) < 0)
		goto out;
	close(a[0]);
	close(a[1]);
	close(b[1]);
	a[0] = a[1] = b[1] = -1;
	legacy_member_begin(l, d->member);
	while ((got = io_read(b[0], buf, sizeof buf)) > 0)
		(void)legacy_member_data(l, buf, (size_t)got, ignored,
		    sizeof ignored);
	(void)legacy_member_end(l, ignored, sizeof ignored);
	close(b[0]);
	b[0] = -1;
	rc = spawn_wait(&c, why, sizeof why);
	spawn_close(&c);
	if (rc < 0)
		snprintf(err, elen, "cannot read the roles of '%s': %s",
		    d->member, why);
	else
		legacy_roles_into(l, set);
out:
	/* pg_restore reads only what it needs: the reader may be cut off. */
	if (started)
		reader_end(kids, n, 1, ignored, sizeof ignored);
	for (int i = 0; i < 2; i++) {
		if (a[i] >= 0)
			close(a[i]);
		if (b[i] >= 0)
			close(b[i]);
	}
	legacy_free(l);
	pg_free(&pg);
	return rc;
}

/* Loads the dumps of SET into the database LOADER and LATER (the data of
 * split dumps: triggers held off) connect to; then checks the keys. */
static int
legacy_load_once(const struct load_source *src,
    const struct legacy_set *set, struct pg *loader, struct pg *later,
    char *errtext, size_t tlen, char *err, size_t elen)
{
	struct pg_session s;
	int rc;

	if (legacy_step(src, loader, &set->dump[0], errtext, tlen, err,
	    elen) < 0)
		return -1;
	if (set->how != LEGACY_SPLIT)
		return 0;
	errtext[0] = '\0';
	if (legacy_step(src, later, &set->dump[1], errtext, tlen, err,
	    elen) < 0) {
		if (strstr(errtext, "session_replication_role"))
			snprintf(err, elen, "loading a data-only dump holds "
			    "off triggers and foreign keys, which needs a "
			    "superuser (or GRANT SET ON PARAMETER "
			    "session_replication_role): put one in the .env "
			    "and run again");
		return -1;
	}
	/* The keys were not checked as the data came in. */
	log_step("checking the foreign keys of the loaded data");
	if (pg_session_open(loader, &s, err, elen) < 0)
		return -1;
	rc = pgadmin_check_keys(&s, err, elen);
	if (rc == 0)
		return pg_session_close(&s, err, elen);
	if (rc == 1) {
		char why[1536];
		snprintf(why, sizeof why, "%s", err);
		snprintf(err, elen, "the archive's data does not hold "
		    "together: %s", why);
		pg_session_close(&s, why, sizeof why);
	}
	return -1;
}

int
load_legacy(const struct load_source *src, const struct load_target *t,
    const struct format_header *h, char *err, size_t elen)
{
	const struct legacy_set *set = &src->u->db;
	struct legacy_set *roles = calloc(1, sizeof *roles);
	char errtext[8192], q[160];
	struct pg loader, later;
	int rc = -1, made = 0;

	if (roles == NULL) {
		snprintf(err, elen, "out of memory");
		return -1;
	}
	memset(&loader, 0, sizeof loader);
	memset(&later, 0, sizeof later);
	pg_quote_ident(t->name, q, sizeof q);
	if (pg_init(&loader, src->cfg, t->db) < 0 ||
	    pg_set_database(&loader, t->name) < 0 ||
	    pg_init(&later, src->cfg, t->db) < 0 ||
	    pg_set_database(&later, t->name) < 0 ||
	    spawn_env_add(&later.envp, "PGOPTIONS",
	    "-c session_replication_role=replica") < 0) {
		snprintf(err, elen, "out of memory");
		goto out;
	}
	snprintf(loader.fence, sizeof loader.fence, "%s", src->fence);
	snprintf(later.fence, sizeof later.fence, "%s", src->fence);
	/* The roles the dumps name, before the first load: no attribute,
	 * no password (the archive has none to give). */
	*roles = *set;
	if (set->dump[0].kind == LEGACY_CUSTOM && custom_roles(src, t,
	    &set->dump[0], roles, err, elen) < 0)
		goto out;
	if (roles_create_names(t->sql, (const char (*)[64])roles->roles,
	    roles->nroles, NULL, t->report, err, elen) < 0)
		goto out;
	for (int attempt = 0; attempt <= MAX_ROLE_RETRIES; attempt++) {
		if (io_stop_signal || pgadmin_create_marked(t->sql, t->name,
		    h->encoding, h, t->owner, err, elen) < 0)
			break;
		made = 1;
		log_step("loading the database into %s", q);
		errtext[0] = '\0';
		if (legacy_load_once(src, set, &loader, &later, errtext,
		    sizeof errtext, err, elen) == 0) {
			rc = 0;
			break;
		}
		pgadmin_drop(t->admin, t->sql, t->name);
		made = 0;
		if (io_stop_signal || attempt == MAX_ROLE_RETRIES ||
		    roles_from_error(t->sql, errtext, t->report, err,
		    elen) != 1)
			break;
	}
	if (rc < 0 && made)
		pgadmin_drop(t->admin, t->sql, t->name);
out:
	pg_free(&loader);
	pg_free(&later);
	free(roles);
	return rc;
}
