/* cleanup.c - what restores and undos kept, found by name and removed. */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "docker.h"
#include "dotenv.h"
#include "io.h"
#include "journal.h"
#include "lock.h"
#include "log.h"
#include "pg.h"
#include "pgadmin.h"

/* One thing to remove. */
struct item {
	char kind;		/* 'd' a database, 'f' a folder's entry */
	char dir[PATH_MAX];	/* the folder it is in ('f') */
	char name[NAME_MAX + 1];
	char size[32];		/* the database's */
};

struct clean {
	const struct config *cfg;
	struct item *v;
	size_t n;
	struct pg pg;
	struct pg_session s;
	int connected;
	char live_db[256];
	char *err;
	size_t elen;
};

static int
add(struct clean *c, char kind, const char *dir, const char *name,
    const char *size)
{
	struct item *v = realloc(c->v, (c->n + 1) * sizeof *v);

	if (v == NULL) {
		snprintf(c->err, c->elen, "out of memory");
		return -1;
	}
	c->v = v;
	memset(&v[c->n], 0, sizeof *v);
	v[c->n].kind = kind;
	snprintf(v[c->n].dir, sizeof v[c->n].dir, "%s", dir);
	snprintf(v[c->n].name, sizeof v[c->n].name, "%s", name);
	snprintf(v[c->n].size, sizeof v[c->n].size, "%s", size);
	c->n++;
	return 0;
}

/* Whether NAME is BASE.before-restore-STAMP or BASE.undone-STAMP. */
static int
kept_name(const char *name, const char *base)
{
	static const char *const tags[] = { ".before-restore-", ".undone-",
		NULL };
	size_t bl = strlen(base);

	if (strncmp(name, base, bl) != 0)
		return 0;
	for (size_t i = 0; tags[i]; i++) {
		size_t tl = strlen(tags[i]), k = 0;
		const char *p = name + bl + tl;
		if (strncmp(name + bl, tags[i], tl) != 0)
			continue;
		while (p[k] >= '0' && p[k] <= '9')
			k++;
		if (k == 14 && (p[k] == '\0' || (p[k] == '_' &&
		    p[k + 1] >= '0' && p[k + 1] <= '9' &&
		    strspn(p + k + 1, "0123456789") == strlen(p + k + 1))))
			return 1;
	}
	return 0;
}

/* The kept copies of PATH (a folder or a file), beside it. */
static int
find_beside(struct clean *c, const char *path)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *base;
	struct dirent *de;
	DIR *d;

	/* A link (to another volume) was restored where it points. */
	if (realpath(path, real) == NULL)
		snprintf(real, sizeof real, "%s", path);
	for (int pass = 0; pass < 2; pass++) {
		const char *p = pass ? real : path;
		if (pass && strcmp(real, path) == 0)
			break;
		if (io_parent(p, dir, sizeof dir) < 0)
			continue;
		base = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
		d = opendir(dir);
		if (d == NULL)
			continue;
		while ((de = readdir(d)) != NULL)
			if (kept_name(de->d_name, base) &&
			    add(c, 'f', dir, de->d_name, "") < 0) {
				closedir(d);
				return -1;
			}
		closedir(d);
	}
	return 0;
}

/* The kept databases, through the live settings. */
static int
find_databases(struct clean *c)
{
	struct dotenv env = { 0 };
	struct db db;
	char container[256], why[512], name[256], size[32];
	int rc = -1;

	if (dotenv_read(&env, c->cfg->env_file, c->err, c->elen) < 0 ||
	    config_db(&db, &env, c->cfg->env_file, c->err, c->elen) < 0 ||
	    docker_locate(c->cfg, &db, container, sizeof container, why,
	    sizeof why, c->err, c->elen) < 0)
		goto out;
	db.container = container[0] ? container : NULL;
	snprintf(c->live_db, sizeof c->live_db, "%s", db.database);
	if (pg_init(&c->pg, c->cfg, &db) < 0) {
		snprintf(c->err, c->elen, "out of memory");
		goto out;
	}
	if (pgadmin_connect(&c->pg, &c->s, c->err, c->elen) < 0)
		goto out;
	c->connected = 1;
	for (int i = 0;; i++) {
		int got = pgadmin_kept_db(&c->s, c->live_db, i, name,
		    sizeof name, size, sizeof size, c->err, c->elen);
		if (got < 0)
			goto out;
		if (got == 0)
			break;
		if (add(c, 'd', "", name, size) < 0)
			goto out;
	}
	rc = 0;
out:
	dotenv_free(&env);
	return rc;
}

static void
describe(const struct item *it, FILE *f, const char *verb)
{
	if (it->kind == 'd')
		fprintf(f, "%s database \"%s\" (%s)\n", verb, it->name,
		    it->size);
	else
		fprintf(f, "%s '%s/%s'\n", verb, it->dir, it->name);
}

static int
remove_one(struct clean *c, const struct item *it)
{
	if (it->kind == 'd') {
		if (pgadmin_drop_now(&c->s, it->name, c->err, c->elen) < 0) {
			c->connected = 0;	/* the session is over */
			return -1;
		}
		return 0;
	}
	int fd = open(it->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = fd < 0 ? -1 : io_remove_tree(fd, it->name);
	if (rc < 0)
		snprintf(c->err, c->elen, "cannot remove '%s/%s': %s", it->dir,
		    it->name, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

enum cleanup_result
cleanup_run(const struct config *cfg, int yes, int dry_run, FILE *out,
    char *err, size_t elen)
{
	struct clean c = { .cfg = cfg, .err = err, .elen = elen };
	enum cleanup_result res = CLEANUP_FAILED;
	struct journal j;
	char dberr[1024] = "", ignored[512];
	int lock, jr, failed = 0;

	err[0] = '\0';
	c.s.to = c.s.from = -1;
	/* Without a backup folder no restore runs (it makes one first):
	 * no lock to take. */
	if (access(cfg->backup_dir, F_OK) < 0 && errno == ENOENT) {
		lock = -1;
	} else {
		lock = lock_take(cfg->backup_dir, "cleanup", err, elen);
		if (lock < 0)
			return errno == EWOULDBLOCK ? CLEANUP_BUSY :
			    CLEANUP_FAILED;
	}
	jr = journal_read(cfg->backup_dir, &j, err, elen);
	if (jr < 0)
		goto out;
	if (jr == 1 && j.state == JOURNAL_COMMITTING) {
		snprintf(err, elen, "the restore from '%s' (%s) was interrupted "
		    "while it put things in place, and what it kept is what "
		    "undo puts back: run 'polarity undo' first", j.archive,
		    j.stamp);
		goto out;
	}
	/* The databases; a server out of reach leaves the files to do. */
	if (find_databases(&c) < 0) {
		snprintf(dberr, sizeof dberr, "%s", err);
		failed = 1;
	}
	if (find_beside(&c, cfg->integrations_dir) < 0 ||
	    find_beside(&c, cfg->env_file) < 0)
		goto out;
	if (c.n == 0) {
		fprintf(out, "Nothing kept by a restore or an undo%s.\n",
		    failed ? " in the folders (the databases could not be "
		    "looked at)" : "");
		goto done;
	}
	for (size_t i = 0; i < c.n; i++)
		describe(&c.v[i], out, dry_run ? "would remove" : "to remove:");
	if (dry_run)
		goto done;
	if (!yes) {
		char answer[32];
		if (!isatty(STDIN_FILENO)) {
			snprintf(err, elen, "cleanup removes what restores kept: "
			    "give --yes when not at a terminal");
			res = CLEANUP_DECLINED;
			goto out;
		}
		fflush(out);
		fprintf(stderr, "Type 'yes' to remove them: ");
		fflush(stderr);
		if (fgets(answer, sizeof answer, stdin) == NULL ||
		    strcmp(answer, "yes\n") != 0) {
			snprintf(err, elen, "cleanup cancelled; nothing was "
			    "removed");
			res = CLEANUP_DECLINED;
			goto out;
		}
	}
	for (size_t i = 0; i < c.n; i++) {
		if (c.v[i].kind == 'd' && !c.connected)
			continue;
		if (remove_one(&c, &c.v[i]) < 0) {
			log_error("%s", err);
			failed = 1;
			continue;
		}
		if (c.v[i].kind == 'd')
			log_step("removed database \"%s\"", c.v[i].name);
		else
			log_step("removed '%s/%s'", c.v[i].dir, c.v[i].name);
		describe(&c.v[i], out, "removed");
	}
	/* What the last restore kept is gone: undo can no longer run. */
	if (jr == 1 && j.state == JOURNAL_COMPLETE) {
		j.state = JOURNAL_CLEANED;
		if (journal_write(cfg->backup_dir, &j, ignored,
		    sizeof ignored) < 0)
			log_warn("%s", ignored);
	}
	/* Restores that died while loading left marked databases. */
	if (c.connected && pgadmin_drop_marked(&c.s, ignored,
	    sizeof ignored) < 0)
		log_warn("%s", ignored);
done:
	if (failed) {
		snprintf(err, elen, "%s", dberr[0] ? dberr : "not everything "
		    "could be removed");
		res = CLEANUP_FAILED;
	} else {
		res = CLEANUP_OK;
	}
out:
	if (c.connected || c.s.to >= 0)
		pg_session_close(&c.s, ignored, sizeof ignored);
	pg_free(&c.pg);
	free(c.v);
	if (lock >= 0)
		close(lock);
	return res;
}
