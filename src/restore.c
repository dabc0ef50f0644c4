/* restore.c - from a checked archive back to a running server: the
 * sequence, the operator's question, the report. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "check.h"
#include "docker.h"
#include "dotenv.h"
#include "format.h"
#include "io.h"
#include "journal.h"
#include "legacy.h"
#include "load.h"
#include "lock.h"
#include "log.h"
#include "pg.h"
#include "pgadmin.h"
#include "restore.h"
#include "roles.h"
#include "spawn.h"
#include "swap.h"

#define STAGE_PREFIX ".polarity-restore-"
#define ROLES_MAX (16 * 1024 * 1024)
#define ENV_MAX (1024 * 1024)

struct restore {
	const struct config *cfg;
	const char *archive;
	char stamp[24];
	char parent[PATH_MAX];		/* holds the integrations folder */
	char stage_name[64];
	char stage_path[PATH_MAX];
	char staged[PATH_MAX];		/* the integrations in the stage */
	int parent_fd, stage_fd;
	struct io_flush flush;		/* the unpacked tree's, once checked */
	int flushing;			/* and it was started */
	int archive_fd;
	struct unpacked u;
	struct dotenv live_env, arch_env;
	struct db live, arch;
	char live_container[256];	/* where live's clients run; "": here */
	int dry_run;			/* change nothing */
	unsigned only;			/* the parts restored; 0: all */
	int drop_first;			/* drop the current database first */
	int dropped;			/* and it was */
	int whole_env;			/* the archive's whole .env */
	int may_create_roles;		/* the role's right, for the plan */
	char integrations[PATH_MAX];	/* the integrations folder itself:
					 * the configured one, or what its
					 * symbolic link points to */
	struct format_header replaced;	/* encoding and locale of the
					 * database replaced, for the early
					 * load */
	int have_live_env;
	struct pg pg;			/* the maintenance connection */
	struct pg_session sql;
	char target[64], tmpdb[64], kept[64];
	char qtarget[160], qtmp[160], qkept[160];
	int target_existed;
	struct swap_dir dir;		/* the integrations */
	char kept_env[PATH_MAX];
	struct journal j;		/* the commit's record */
	int lock;
	char *err;
	size_t elen;
	FILE *report;
	struct load_source src;
	struct load_target dst;
	char fence[FENCE_KEY_LEN + 1];	/* the load's \restrict key, or ""
					 * when its psql has none */
	char psql_version[64];
};

static enum restore_result
failf(struct restore *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Whether this restore puts PART back. */
static int
wants(const struct restore *r, unsigned part)
{
	return r->only == 0 || (r->only & part);
}

/* Whether it replaces the integrations: asked to, and the archive has
 * them. */
static int
integrations_step(const struct restore *r)
{
	return wants(r, RESTORE_INTEGRATIONS) && !r->u.no_integrations;
}

static enum restore_result
failf(struct restore *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, r->elen, fmt, ap);
	va_end(ap);
	return RESTORE_FAILED;
}

static void
swept(void *arg, const char *name)
{
	log_step("removed '%s/%s' left by an interrupted restore",
	    (const char *)arg, name);
}

/* Whether PATH is a mount point: another file system than its folder's
 * (a bind mount of one file included).  0 when it cannot tell. */
static int
mount_point(const char *path)
{
	char parent[PATH_MAX];
	struct stat a, b;
	struct statx x;

	/* The kernel knows (Linux 5.8 on); a bind mount of a file from
	 * the same file system has its folder's st_dev. */
	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS,
	    &x) == 0 && (x.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
		return (x.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;

	if (io_parent(path, parent, sizeof parent) < 0 ||
	    stat(path, &a) < 0 || stat(parent, &b) < 0)
		return 0;
	return a.st_dev != b.st_dev;
}

/* What the commit will replace, checked before anything is loaded: the
 * integrations folder must be one a rename can exchange, and the .env a
 * file its folder lets us replace.  Each failure says what to do. */
static enum restore_result
check_targets(struct restore *r)
{
	const char *env = r->cfg->env_file;
	char real[PATH_MAX], dir[PATH_MAX], probe[PATH_MAX];
	struct statvfs vfs;
	unsigned int flags = 0;
	uint64_t used;
	int fd;

	if (access(r->integrations, F_OK) == 0 &&
	    mount_point(r->integrations))
		return failf(r, "the integrations folder '%s' is a mount "
		    "point, which a restore cannot exchange for the restored "
		    "one: mount the folder that holds it instead, or restore "
		    "by hand", r->integrations);
	/* The restored integrations are unpacked beside the live ones
	 * before the exchange: their size is the best guess at the
	 * room needed, and under half of it cannot be enough. */
	if (wants(r, RESTORE_INTEGRATIONS) && access(r->integrations,
	    F_OK) == 0 && io_tree_size(r->integrations, &used) == 0 &&
	    statvfs(r->parent, &vfs) == 0 && (double)vfs.f_bavail *
	    (double)vfs.f_frsize < (double)used / 2)
		return failf(r, "'%s' has %.1f MiB free, and the integrations "
		    "there take %.1f MiB: the restored ones are unpacked "
		    "beside them first, which cannot fit; make room there, or "
		    "restore without them (--only database --only env)",
		    r->parent, (double)vfs.f_bavail * (double)vfs.f_frsize /
		    1048576.0, (double)used / 1048576.0);
	if (access(env, F_OK) < 0)
		return RESTORE_OK;
	if (realpath(env, real) == NULL)
		return failf(r, "cannot read '%s': %s", env, strerror(errno));
	if (mount_point(real))
		return failf(r, "'%s' is a file mounted on its own (a bind "
		    "mount?), which a restore cannot replace: mount its folder "
		    "instead, or write the restored settings by hand", real);
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 &&
	    (flags & (FS_IMMUTABLE_FL | FS_APPEND_FL))) {
		close(fd);
		return failf(r, "'%s' is immutable or append-only: lift it "
		    "with chattr -i -a '%s' and run again", real, real);
	}
	if (fd >= 0)
		close(fd);
	if (io_parent(real, dir, sizeof dir) == 0 && statvfs(dir, &vfs) == 0 &&
	    (vfs.f_flag & ST_RDONLY))
		return failf(r, "'%s' is on a read-only file system: remount it "
		    "read-write and run again", real);
	/* The new .env is made beside it: try that now. */
	snprintf(probe, sizeof probe, "%s.polarity-probe-XXXXXX", real);
	fd = mkstemp(probe);
	if (fd < 0)
		return failf(r, "cannot write beside '%s' (the restored settings "
		    "are made there): %s", real, strerror(errno));
	close(fd);
	unlink(probe);
	return RESTORE_OK;
}

/* The staging folder: beside the integrations folder, so that moving the
 * unpacked tree into place is a rename on one file system. */
static enum restore_result
open_stage(struct restore *r)
{
	struct stat st;

	/* A symbolic link (to another volume, say) stays as it is: the
	 * folder it points to is what is exchanged, beside itself. */
	snprintf(r->integrations, sizeof r->integrations, "%s",
	    r->cfg->integrations_dir);
	if (lstat(r->integrations, &st) == 0 && S_ISLNK(st.st_mode)) {
		if (realpath(r->cfg->integrations_dir, r->integrations) == NULL)
			return failf(r, "the integrations folder '%s' is a "
			    "symbolic link that leads nowhere: %s",
			    r->cfg->integrations_dir, strerror(errno));
		log_detail("the integrations folder '%s' is a link to '%s': "
		    "restoring there", r->cfg->integrations_dir,
		    r->integrations);
	}
	if (io_parent(r->integrations, r->parent, sizeof r->parent) < 0)
		return failf(r, "path too long: '%s'", r->integrations);
	r->parent_fd = open(r->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->parent_fd < 0)
		return failf(r, "cannot use '%s' (it holds the integrations "
		    "folder): %s", r->parent, strerror(errno));
	/* We hold the lock: what is there was left by runs that died. */
	io_sweep(r->parent_fd, STAGE_PREFIX, "", swept, r->parent);
	snprintf(r->stage_path, sizeof r->stage_path, "%s/" STAGE_PREFIX
	    "XXXXXX", r->parent);
	if (mkdtemp(r->stage_path) == NULL) {
		r->stage_path[0] = '\0';
		return failf(r, "cannot make a staging folder in '%s': %s",
		    r->parent, strerror(errno));
	}
	snprintf(r->stage_name, sizeof r->stage_name, "%s",
	    strrchr(r->stage_path, '/') + 1);
	snprintf(r->staged, sizeof r->staged, "%s/" FORMAT_INTEGRATIONS,
	    r->stage_path);
	r->stage_fd = open(r->stage_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->stage_fd < 0)
		return failf(r, "cannot open '%s': %s", r->stage_path,
		    strerror(errno));
	return RESTORE_OK;
}

static enum restore_result
read_envs(struct restore *r)
{
	char path[PATH_MAX];

	snprintf(path, sizeof path, "%s/" FORMAT_ENV, r->stage_path);
	if (dotenv_read(&r->arch_env, path, r->err, r->elen) < 0 ||
	    config_db(&r->arch, &r->arch_env, "the archive's .env", r->err,
	    r->elen) < 0)
		return RESTORE_BAD_ARCHIVE;
	if (access(r->cfg->env_file, F_OK) < 0 && errno == ENOENT) {
		/* A new server without a .env: the archive's is all. */
		r->live = r->arch;
		return RESTORE_OK;
	}
	r->have_live_env = 1;
	if (dotenv_read(&r->live_env, r->cfg->env_file, r->err, r->elen) < 0 ||
	    config_db(&r->live, &r->live_env, r->cfg->env_file, r->err,
	    r->elen) < 0)
		return RESTORE_FAILED;
	return RESTORE_OK;
}

/* Whether a name made from the stamp CANDIDATE is in use: the two
 * databases and the kept integrations and .env. */
static int
names_taken(void *arg, const char *candidate)
{
	struct restore *r = arg;
	char path[PATH_MAX];
	struct stat st;
	int taken_tmp = 0, taken_kept = 0;

	pgadmin_dated(r->tmpdb, sizeof r->tmpdb, r->target, "restoring",
	    candidate);
	pgadmin_dated(r->kept, sizeof r->kept, r->target, "before_restore",
	    candidate);
	pg_quote_ident(r->tmpdb, r->qtmp, sizeof r->qtmp);
	pg_quote_ident(r->kept, r->qkept, sizeof r->qkept);
	if (wants(r, RESTORE_DATABASE) && (pgadmin_db_exists(&r->sql,
	    r->tmpdb, &taken_tmp, r->err, r->elen) < 0 ||
	    pgadmin_db_exists(&r->sql, r->kept, &taken_kept, r->err,
	    r->elen) < 0))
		return -1;
	if (taken_tmp || taken_kept)
		return 1;
	snprintf(path, sizeof path, "%s.before-restore-%s",
	    r->integrations, candidate);
	if (lstat(path, &st) == 0)
		return 1;
	snprintf(path, sizeof path, "%s.before-restore-%s", r->cfg->env_file,
	    candidate);
	return lstat(path, &st) == 0;
}

/* Whether a large table's rows go through one session, not two, without
 * --keep-row-order (called once the database's place is known, so only
 * when the database is restored): when the client programs run in a
 * container, the restore is no dry run, and this host has fewer than
 * four cores.  Every byte psql reads then passes through docker (its
 * client, daemon and shim: about 3 CPU seconds for 160 MB here), which
 * takes the core a second COPY would have used.
 * Measured on two cores, container mode, medians in turn, one session
 * against two: 8.26 s against 8.84 s at the bench's scale 0.25, 24.46 s
 * against 26.06 s at scale 1.  With more cores the second session has
 * one of its own and is kept. */
static int
rows_alone(const struct restore *r)
{
	long cores;

	if (!r->live.container || r->dry_run)
		return 0;
	cores = sysconf(_SC_NPROCESSORS_ONLN);
	if (cores < 1 || cores >= 4)
		return 0;
	log_detail("each table's rows through one session: %ld core%s, and "
	    "docker's copies of what psql reads take one", cores,
	    cores == 1 ? "" : "s");
	return 1;
}

/* What must be known and open before the load: the settings, the
 * maintenance session, the names.  Run once, during the check or after
 * it. */
static enum restore_result
prepare(struct restore *r)
{
	enum restore_result res;
	char why[512];
	int rc;

	if ((res = read_envs(r)) != RESTORE_OK)
		return res;
	if (r->u.legacy)
		snprintf(r->u.h.database, sizeof r->u.h.database, "%s",
		    r->arch.database);
	if (strlen(r->arch.database) > 63 ||
	    pg_quote_ident(r->arch.database, r->qtarget, sizeof r->qtarget) < 0)
		return failf(r, "the archive's database name is too long"),
		    RESTORE_BAD_ARCHIVE;
	snprintf(r->target, sizeof r->target, "%s", r->arch.database);
	/* Without the database, the server is not asked anything. */
	if (!wants(r, RESTORE_DATABASE))
		goto names;
	if (docker_locate(r->cfg, &r->live, r->live_container,
	    sizeof r->live_container, why, sizeof why, r->err, r->elen) < 0)
		return RESTORE_FAILED;
	r->live.container = r->live_container[0] ? r->live_container : NULL;
	log_detail("reaching the database with %s", why);
	if (!r->src.one_session && rows_alone(r))
		r->src.one_session = 1;
	log_step("connecting to %s:%s as '%s'%s%s%s", r->live.host,
	    r->live.port, r->live.user,
	    r->live.container ? " in container '" : "",
	    r->live.container ? r->live.container : "",
	    r->live.container ? "'" : "");
	if (pg_init(&r->pg, r->cfg, &r->live) < 0)
		return failf(r, "out of memory");
	/* Which psql loads: one with \restrict runs no psql command of
	 * the dumps, whatever they hold (fence.h). */
	if ((rc = pg_fence(&r->pg, r->psql_version, sizeof r->psql_version,
	    r->err, r->elen)) < 0)
		return RESTORE_FAILED;
	memcpy(r->fence, r->pg.fence, sizeof r->fence);
	r->pg.fence[0] = '\0';
	r->src.fence = r->fence;
	if (rc == 0)
		log_warn("psql %s has no \\restrict (13.22, 14.19, 15.14, 16.10 "
		    "and 17.6 have it): the dumps are loaded only once the "
		    "check found no psql command in them, and nothing that "
		    "psql could read otherwise", r->psql_version);
	if (pgadmin_connect(&r->pg, &r->sql, r->err, r->elen) < 0 ||
	    (!r->dry_run && pgadmin_drop_marked(&r->sql, r->err,
	    r->elen) < 0) ||
	    pgadmin_db_exists(&r->sql, r->target, &r->target_existed, r->err,
	    r->elen) < 0)
		return RESTORE_FAILED;
	/* Every restore makes a database: found now, not after the load. */
	{
		int may_db = 0;
		if (pgadmin_rights(&r->sql, &may_db, &r->may_create_roles,
		    r->err, r->elen) < 0)
			return RESTORE_FAILED;
		if (!may_db)
			return failf(r, "'%s' may not create databases, and a "
			    "restore loads into a new one: ALTER ROLE \"%s\" "
			    "CREATEDB, or put the server's superuser in '%s'",
			    r->live.user, r->live.user, r->cfg->env_file);
	}
names:
	rc = swap_choose_stamp(r->stamp, sizeof r->stamp, names_taken, r);
	if (rc == -2)
		failf(r, "cannot find a free name to keep the current state "
		    "under");
	if (rc < 0)
		return RESTORE_FAILED;
	r->dst = (struct load_target){ .admin = &r->pg, .sql = &r->sql,
		.db = &r->live, .name = r->tmpdb, .owner = r->arch.user,
		.report = r->report };
	return RESTORE_OK;
}

/* What a restore replaces, and under which names it keeps it. */
static void
plan(struct restore *r, FILE *f, const char *head)
{
	fprintf(f, "Restore from '%s'\n", r->archive);
	if (r->u.legacy) {
		char dumps[2 * TAR_NAME_MAX + 200];
		legacy_describe(&r->u.db, dumps, sizeof dumps);
		fprintf(f, "  a legacy archive of the original backup utility "
		    "(no manifest)%s%s, database '%s' from %s\n",
		    r->u.h.created[0] ? ", created " : "", r->u.h.created,
		    r->u.h.database, dumps);
	} else {
		fprintf(f, "  created %s, PostgreSQL %s, database '%s'\n",
		    r->u.h.created, r->u.h.server_version, r->u.h.database);
	}
	fprintf(f, "%s\n", head);
	if (wants(r, RESTORE_DATABASE) && r->drop_first && r->target_existed)
		fprintf(f, "  database '%s' on %s:%s: DROPPED before the load "
		    "(--drop-first), so it is not kept and cannot come back\n",
		    r->target, r->live.host, r->live.port);
	else if (wants(r, RESTORE_DATABASE))
		fprintf(f, "  database '%s' on %s:%s (the current one is kept "
		    "as '%s')\n", r->target, r->live.host, r->live.port,
		    r->kept);
	if (wants(r, RESTORE_INTEGRATIONS) && r->u.no_integrations)
		fprintf(f, "  not the integrations: the archive holds none, so "
		    "'%s' is left as it is\n", r->integrations);
	else if (wants(r, RESTORE_INTEGRATIONS))
		fprintf(f, "  integrations in '%s' (kept as "
		    "'%s.before-restore-%s')\n", r->integrations,
		    r->integrations, r->stamp);
	if (wants(r, RESTORE_ENV))
		fprintf(f, "  %s '%s' (kept as '%s.before-restore-%s')\n",
		    r->whole_env || !r->have_live_env ? "the whole of" :
		    "the database settings in", r->cfg->env_file,
		    r->cfg->env_file, r->stamp);
	if (r->only)
		fprintf(f, "  and nothing else (--only)\n");
}

static void room(struct restore *r, FILE *f);

static enum restore_result
confirm(struct restore *r)
{
	char answer[96];

	char want[80];

	plan(r, stderr, "This replaces:");
	room(r, stderr);
	if (r->drop_first && r->target_existed) {
		snprintf(want, sizeof want, "%s\n", r->target);
		fprintf(stderr, "Type the name of the database to drop, '%s', "
		    "to go on: ", r->target);
	} else {
		snprintf(want, sizeof want, "yes\n");
		fprintf(stderr, "Type 'yes' to go on: ");
	}
	fflush(stderr);
	if (fgets(answer, sizeof answer, stdin) == NULL ||
	    strcmp(answer, want) != 0) {
		snprintf(r->err, r->elen, "restore cancelled; nothing was "
		    "changed");
		return RESTORE_DECLINED;
	}
	return RESTORE_OK;
}

/* The roles of the archive (roles.sql in the stage) that this server
 * lacks: created, or with MISSING only counted (and named on LIST unless
 * it is NULL). */
static int
archive_roles(struct restore *r, int *missing, FILE *list, char *err,
    size_t elen)
{
	char *text;
	int rc;

	if (missing)
		*missing = 0;
	if (!r->u.has_roles)
		return 0;
	text = io_slurp(r->stage_fd, format_dump_member[FORMAT_ROLES],
	    ROLES_MAX, 1);
	if (text == NULL) {
		snprintf(err, elen, "cannot read the archive's roles: %s",
		    strerror(errno));
		return -1;
	}
	rc = roles_create(&r->sql, text, missing, missing ? list : r->report,
	    err, elen);
	free(text);
	return rc;
}

/* Loads the dumps of a legacy archive into the new database, made in
 * the dumps' encoding and, when it agrees, the locale of the database it
 * replaces (the archive records none). */
static int
load_legacy_archive(struct restore *r)
{
	struct format_header h;

	memset(&h, 0, sizeof h);
	if (r->target_existed && pgadmin_db_locale(&r->sql, r->target, &h,
	    r->err, r->elen) < 0)
		return -1;
	if (r->u.h.encoding[0] && strcmp(h.encoding, r->u.h.encoding) != 0) {
		memset(&h, 0, sizeof h);
		snprintf(h.encoding, sizeof h.encoding, "%s", r->u.h.encoding);
	}
	return load_legacy(&r->src, &r->dst, &h, r->err, r->elen);
}

/* The roles a restore would create, named in the dry run's report. */
static int
dry_roles(struct restore *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *list = open_memstream(&text, &len);
	int missing = 0, rc;

	if (list == NULL)
		return failf(r, "out of memory"), -1;
	if (r->u.legacy)
		rc = roles_create_names(&r->sql,
		    (const char (*)[64])r->u.db.roles, r->u.db.nroles,
		    &missing, list, r->err, r->elen);
	else
		rc = archive_roles(r, &missing, list, r->err, r->elen);
	fclose(list);
	if (rc == 0 && missing == 0)
		fprintf(r->report, "No role to create: this server has those "
		    "the archive names.\n");
	else if (rc == 0)
		fprintf(r->report, "Roles to create (without a password)%s:\n"
		    "%s", r->u.legacy ? ", as its dumps name them" : "",
		    text ? text : "");
	if (rc == 0 && missing > 0 && !r->may_create_roles)
		fprintf(r->report, "But '%s' may not create roles: the restore "
		    "would fail; ALTER ROLE \"%s\" CREATEROLE, or put the "
		    "server's superuser in '%s'.\n", r->live.user, r->live.user,
		    r->cfg->env_file);
	free(text);
	return rc;
}

/* What room a restore takes: the unpacked integrations beside the live
 * ones, and a second database on the server while the current one is
 * kept. */
static void
room(struct restore *r, FILE *f)
{
	struct statvfs vfs;
	uint64_t staged = r->u.bytes > r->u.dump_bytes ?
	    r->u.bytes - r->u.dump_bytes : 0;
	char size[64] = "";

	if (integrations_step(r) && statvfs(r->parent, &vfs) == 0)
		fprintf(f, "Room: the integrations take %.1f MiB in '%s', "
		    "where %.1f MiB are free.\n", (double)staged / 1048576.0,
		    r->parent, (double)vfs.f_bavail * (double)vfs.f_frsize /
		    1048576.0);
	if (!wants(r, RESTORE_DATABASE) || !r->target_existed)
		return;
	if (pgadmin_db_size(&r->sql, r->target, size, sizeof size, r->err,
	    r->elen) < 0 || size[0] == '\0')
		return;
	fprintf(f, "Room: the current database takes %s on the server; the "
	    "restored one is loaded beside it, which needs about as much "
	    "again until 'polarity cleanup' removes the kept one%s.\n", size,
	    r->drop_first ? " (with --drop-first it is dropped first)" : "");
}

/* Starts the early load into the new database, made with the encoding
 * and locale of the one it replaces (the manifest's, known only at the
 * end, must then agree). */
static void
start_early(struct restore *r, struct early_load *e, char *why, size_t wlen)
{
	memset(&r->replaced, 0, sizeof r->replaced);
	if (r->target_existed && pgadmin_db_locale(&r->sql, r->target,
	    &r->replaced, why, wlen) < 0) {
		early_stop(e, why);
		return;
	}
	/* Before the check ended, only a psql under \restrict is safe. */
	if (r->fence[0] == '\0') {
		early_stop(e, "this psql has no \\restrict");
		return;
	}
	early_start(e, &r->src, &r->dst, &r->replaced, why, wlen);
}

/* The check gives way to the early load: the rows' load and the index
 * builds are what a restore waits for, the check need only end before the
 * commit, and both want the same cores.  With YIELD its thread and
 * decompressor take the lowest CPU priority (nice 19); without, they go
 * back to *BEFORE (which takes privileges; without them the check ends
 * at nice 19).  Returns whether it now yields. */
static int
check_yield(struct unpack *p, int yield, int *before)
{
	id_t me = (id_t)gettid();

	if (yield) {
		errno = 0;
		*before = getpriority(PRIO_PROCESS, me);
		if (errno != 0 || setpriority(PRIO_PROCESS, me, 19) < 0)
			return 0;
		(void)unpack_nice(p, 19);
		return 1;
	}
	(void)setpriority(PRIO_PROCESS, me, *before);
	(void)unpack_nice(p, *before);
	return 0;
}

/* The check, member by member.  With EARLY, once the archive's .env is
 * unpacked the steps before the load run (PREPARED: 1 done, -1 failed
 * with PREP_RES and PREP_ERR) and the load starts while the rest is
 * checked; once the roles are, a role still to create stops it.  Those
 * steps write their errors into a buffer of their own, never into the
 * one the check reports in.  Returns unpack_end()'s result. */
static int
check(struct restore *r, struct early_load *early, int *prepared,
    enum restore_result *prep_res, char *prep_err, size_t plen)
{
	const struct unpack_opts opts = { .stage = r->stage_fd,
		.skip_dumps = 1 };
	char *check_err = r->err, why[1024];
	size_t check_elen = r->elen;
	struct unpack *p;
	const char *name;
	int rc, missing, yielded = 0, nice_before = 0;

	p = check_begin(r->cfg, r->archive_fd, r->archive, &opts, &r->u,
	    r->err, r->elen);
	if (p == NULL)
		return -1;
	while ((rc = unpack_next(p, &name)) == 1) {
		if (yielded && !early->on)
			yielded = check_yield(p, 0, &nice_before);
		/* Which members of a legacy archive are its database is
		 * known only at its end. */
		if (early->on && r->u.legacy)
			early_stop(early, "a legacy archive is loaded once it "
			    "is checked");
		if (!early->on)
			continue;
		r->err = why;
		r->elen = sizeof why;
		why[0] = '\0';
		if (strcmp(name, FORMAT_ENV) == 0 && *prepared == 0) {
			*prep_res = prepare(r);
			*prepared = *prep_res == RESTORE_OK ? 1 : -1;
			if (*prepared < 0) {
				snprintf(prep_err, plen, "%s", why);
				early_stop(early, NULL);
			} else {
				start_early(r, early, why, sizeof why);
				if (early->on)
					yielded = check_yield(p, 1,
					    &nice_before);
			}
		} else if (strcmp(name, format_dump_member[FORMAT_ROLES]) == 0) {
			if (archive_roles(r, &missing, NULL, why,
			    sizeof why) < 0)
				early_stop(early, why);
			else if (missing > 0)
				early_stop(early, "roles to create first");
			/* What is left to check is the dumps, which the
			 * load's reader hashes too: it waits for the rows,
			 * the one step everything waits for, and runs
			 * beside the index builds, which leave a core
			 * free. */
			early_wait_rows(early);
		}
		r->err = check_err;
		r->elen = check_elen;
	}
	if (yielded)
		check_yield(p, 0, &nice_before);
	return unpack_end(p, rc);
}

/* The steps of the commit. */

/* Step STEP ('d', 'i', 'e') of the commit is done: the record says so
 * (a failure to write it is only a warning: where each step stands is
 * read from the things themselves), and a test may stop us here. */
static void
step_done(struct restore *r, char step, const char *point)
{
	char err[1024];
	size_t n = strlen(r->j.done);

	if (n + 1 < sizeof r->j.done) {
		r->j.done[n] = step;
		r->j.done[n + 1] = '\0';
	}
	if (journal_write(r->cfg->backup_dir, &r->j, err, sizeof err) < 0)
		log_warn("%s", err);
	io_test_point(point);
}

static int
db_apply(void *arg, char *err, size_t elen)
{
	struct restore *r = arg;

	if (pgadmin_swap(&r->sql, r->target, r->tmpdb, r->kept,
	    r->target_existed, err, elen) < 0)
		return -1;
	step_done(r, 'd', "database");
	return 0;
}

static void
db_undo(void *arg)
{
	struct restore *r = arg;

	pgadmin_unswap(&r->pg, &r->sql, r->target, r->tmpdb, r->kept,
	    r->target_existed);
}

static int
dir_apply(void *arg, char *err, size_t elen)
{
	struct restore *r = arg;

	if (swap_dir_apply(&r->dir, r->stamp, err, elen) < 0)
		return -1;
	step_done(r, 'i', "integrations");
	return 0;
}

static void
dir_undo(void *arg)
{
	swap_dir_undo(&((struct restore *)arg)->dir);
}

/* Writes the archive's database settings into the live .env (the whole
 * archive's .env where there was none). */
static int
env_apply(void *arg, char *err, size_t elen)
{
	struct restore *r = arg;
	char *arch, *live = NULL, *out = NULL;
	size_t outlen = 0;
	int rc;

	arch = io_slurp(r->stage_fd, FORMAT_ENV, ENV_MAX, 1);
	if (arch == NULL) {
		snprintf(err, elen, "cannot read the archive's .env: %s",
		    strerror(errno));
		return -1;
	}
	if (!r->have_live_env) {
		r->kept_env[0] = '\0';
		rc = dotenv_replace(r->cfg->env_file, arch, strlen(arch), NULL,
		    err, elen);
		free(arch);
		return rc;
	}
	if (r->whole_env) {
		/* The archive's file byte for byte; the live one kept. */
		snprintf(r->kept_env, sizeof r->kept_env,
		    "%s.before-restore-%s", r->cfg->env_file, r->stamp);
		rc = dotenv_replace(r->cfg->env_file, arch, strlen(arch),
		    r->kept_env, err, elen);
		free(arch);
		return rc;
	}
	live = io_slurp(AT_FDCWD, r->cfg->env_file, ENV_MAX, 0);
	if (live == NULL) {
		snprintf(err, elen, "cannot read '%s': %s", r->cfg->env_file,
		    strerror(errno));
		free(arch);
		return -1;
	}
	snprintf(r->kept_env, sizeof r->kept_env, "%s.before-restore-%s",
	    r->cfg->env_file, r->stamp);
	rc = dotenv_merge(live, strlen(live), arch, strlen(arch),
	    config_db_keys, &out, &outlen);
	if (rc == 0)
		rc = dotenv_replace(r->cfg->env_file, out, outlen, r->kept_env,
		    err, elen);
	else
		snprintf(err, elen, "out of memory");
	free(arch);
	free(live);
	free(out);
	return rc;
}

/* env_apply(), recorded. */
static int
env_step(void *arg, char *err, size_t elen)
{
	struct restore *r = arg;

	if (env_apply(arg, err, elen) < 0)
		return -1;
	step_done(r, 'e', "env");
	return 0;
}

/* The commit's record, before its first step: what each step replaces
 * and where it goes. */
static int
journal_begin(struct restore *r, char *err, size_t elen)
{
	struct journal *j = &r->j;
	struct stat st;
	size_t n = 0;

	memset(j, 0, sizeof *j);
	j->state = JOURNAL_COMMITTING;
	snprintf(j->stamp, sizeof j->stamp, "%s", r->stamp);
	if (realpath(r->archive, j->archive) == NULL)
		snprintf(j->archive, sizeof j->archive, "%s", r->archive);
	if (wants(r, RESTORE_DATABASE)) {
		j->steps[n++] = 'd';
		snprintf(j->db_target, sizeof j->db_target, "%s", r->target);
		snprintf(j->db_restored, sizeof j->db_restored, "%s",
		    r->tmpdb);
		snprintf(j->db_kept, sizeof j->db_kept, "%s", r->kept);
		j->db_existed = r->target_existed;
		j->db_dropped = r->dropped;
		/* After the commit, the settings it connected with are in
		 * the kept .env when the .env step replaces the live one. */
		if (wants(r, RESTORE_ENV) && r->have_live_env)
			snprintf(j->db_env, sizeof j->db_env,
			    "%s.before-restore-%s", r->cfg->env_file, r->stamp);
		else
			snprintf(j->db_env, sizeof j->db_env, "%s",
			    r->cfg->env_file);
	}
	if (integrations_step(r)) {
		j->steps[n++] = 'i';
		snprintf(j->integ_live, sizeof j->integ_live, "%s",
		    r->integrations);
		snprintf(j->integ_staged, sizeof j->integ_staged, "%s",
		    r->staged);
		snprintf(j->stage, sizeof j->stage, "%s", r->stage_path);
		if (lstat(r->integrations, &st) == 0) {
			snprintf(j->integ_kept, sizeof j->integ_kept,
			    "%s.before-restore-%s", r->integrations, r->stamp);
			j->integ_old_dev = st.st_dev;
			j->integ_old_ino = st.st_ino;
		}
		if (lstat(r->staged, &st) == 0) {
			j->integ_new_dev = st.st_dev;
			j->integ_new_ino = st.st_ino;
		}
	}
	if (wants(r, RESTORE_ENV)) {
		j->steps[n++] = 'e';
		snprintf(j->env_live, sizeof j->env_live, "%s",
		    r->cfg->env_file);
		if (r->have_live_env)
			snprintf(j->env_kept, sizeof j->env_kept,
			    "%s.before-restore-%s", r->cfg->env_file, r->stamp);
	}
	j->steps[n] = '\0';
	return journal_write(r->cfg->backup_dir, j, err, elen);
}

/* Swaps everything in, or nothing. */
static enum restore_result
commit(struct restore *r)
{
	struct swap_step steps[3];
	char why[1024];
	size_t n = 0;
	int rc;

	if (wants(r, RESTORE_DATABASE))
		steps[n++] = (struct swap_step){ db_apply, db_undo, r };
	/* A legacy archive without integrations leaves them alone. */
	if (integrations_step(r))
		steps[n++] = (struct swap_step){ dir_apply, dir_undo, r };
	if (wants(r, RESTORE_ENV))
		steps[n++] = (struct swap_step){ env_step, NULL, r };

	/* A rename does not carry the files' data to disk: without this a
	 * power cut soon after "restore complete" could leave the live
	 * integrations empty.  One syncfs of the staging file system,
	 * started once the check ended, flushes every unpacked file and
	 * folder. */
	if (integrations_step(r)) {
		if (!r->flushing)
			log_step("syncing the unpacked integrations to disk");
		rc = r->flushing ? io_flush_wait(&r->flush) :
		    syncfs(r->stage_fd);
		r->flushing = 0;
		if (rc < 0)
			return failf(r, "cannot flush the unpacked "
			    "integrations to disk: %s", strerror(errno));
	}
	log_step("putting the restored database, integrations and settings "
	    "in place");
	r->dir.live = r->integrations;
	r->dir.staged = r->staged;
	/* The record first: from here on a kill leaves one. */
	if (journal_begin(r, r->err, r->elen) < 0)
		return RESTORE_FAILED;
	io_test_point("commit");
	rc = swap_commit(steps, n, r->err, r->elen);
	r->j.state = rc == 0 ? JOURNAL_COMPLETE : JOURNAL_ROLLED_BACK;
	if (journal_write(r->cfg->backup_dir, &r->j, why, sizeof why) < 0)
		log_warn("%s", why);
	return rc < 0 ? RESTORE_FAILED : RESTORE_OK;
}

/* Tries the restored settings, as the containers will. */
static void
check_connection(struct restore *r)
{
	struct pg pg;
	struct pg_session s;
	struct db arch = r->arch;
	char err[1024], container[256], why[512];

	/* The restored settings may name another server: find it anew. */
	if (docker_locate(r->cfg, &arch, container, sizeof container, why,
	    sizeof why, err, sizeof err) < 0)
		goto failed;
	arch.container = container[0] ? container : NULL;
	if (pg_init(&pg, r->cfg, &arch) < 0)
		return;
	if (pg_session_open(&pg, &s, err, sizeof err) == 0 &&
	    pg_session_query(&s, "SELECT 1;", NULL, 0, err, sizeof err) == 0) {
		pg_session_close(&s, err, sizeof err);
		pg_free(&pg);
		return;
	}
	pg_free(&pg);
failed:
	log_warn("THE RESTORED SETTINGS DO NOT CONNECT: %s", err);
	fprintf(r->report, "WARNING: with the restored .env settings the "
	    "database does not accept a connection:\n  %s\nFix the role or "
	    "its password before starting Polarity, e.g.\n  ALTER ROLE \"%s\" "
	    "WITH LOGIN PASSWORD '...';\n", err, r->arch.user);
}

/* Runs ./down.sh then ./up.sh in the app folder. */
static int
restart(struct restore *r)
{
	static const char *const scripts[] = { "./down.sh", "./up.sh" };

	for (int i = 0; i < 2; i++) {
		char path[PATH_MAX], msg[1024];
		char *argv[] = { path, NULL };
		int rc;
		snprintf(path, sizeof path, "%s/%s", r->cfg->app_dir,
		    scripts[i] + 2);
		log_step("running %s in '%s'", scripts[i], r->cfg->app_dir);
		rc = spawn_run(argv, r->cfg->app_dir, msg, sizeof msg);
		if (rc < 0)
			failf(r, "cannot run '%s': %s", path, strerror(errno));
		else if (rc > 0)
			failf(r, "%s", msg);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* What a restore that went through tells the operator. */
static void
report_kept(struct restore *r)
{
	int any = 0;

	if (r->target_existed && wants(r, RESTORE_DATABASE)) {
		fprintf(r->report, "The previous database is kept as %s.\n",
		    r->qkept);
		any = 1;
	}
	if (r->dir.kept[0]) {
		fprintf(r->report, "The previous integrations are kept in "
		    "'%s'.\n", r->dir.kept);
		any = 1;
	}
	if (r->kept_env[0]) {
		fprintf(r->report, "The previous settings are kept in '%s'.\n",
		    r->kept_env);
		any = 1;
	}
	fprintf(r->report, "To go back to the state before this restore: "
	    "polarity undo\n");
	if (any)
		fprintf(r->report, "To remove what was kept, once no longer "
		    "needed: polarity cleanup\n");
}

static void
teardown(struct restore *r)
{
	char ignored[512];

	pg_session_close(&r->sql, ignored, sizeof ignored);
	pg_free(&r->pg);
	if (r->flushing)
		io_flush_wait(&r->flush);
	if (r->stage_fd >= 0)
		close(r->stage_fd);
	if (r->stage_name[0] && r->parent_fd >= 0 &&
	    io_remove_tree(r->parent_fd, r->stage_name) < 0)
		log_warn("cannot remove '%s': %s", r->stage_path,
		    strerror(errno));
	if (r->parent_fd >= 0)
		close(r->parent_fd);
	if (r->archive_fd >= 0)
		close(r->archive_fd);
	dotenv_free(&r->live_env);
	dotenv_free(&r->arch_env);
	if (r->lock >= 0)
		close(r->lock);
}

/* From the lock to the restored server: the story the README tells. */
static enum restore_result
run(struct restore *r, const struct restore_opts *o)
{
	struct early_load early = { 0 };
	enum restore_result res, prep_res = RESTORE_OK;
	char prep_err[1024] = "";
	int rc, loaded, prepared = 0;

	/* 1. One run at a time; a stage beside the integrations. */
	if (catalog_dir_ensure(r->cfg->backup_dir, r->err, r->elen) < 0)
		return RESTORE_FAILED;
	r->lock = lock_take(r->cfg->backup_dir, "restore", r->err, r->elen);
	if (r->lock < 0)
		return errno == EWOULDBLOCK ? RESTORE_BUSY : RESTORE_FAILED;
	/* A commit that was cut short holds what it replaced where only
	 * its record knows: nothing may be swept or replaced before undo. */
	{
		struct journal j;
		int jr = journal_read(r->cfg->backup_dir, &j, r->err, r->elen);
		if (jr < 0)
			return RESTORE_FAILED;
		if (jr == 1 && j.state == JOURNAL_COMMITTING)
			return failf(r, "the restore from '%s' (%s) was "
			    "interrupted while it put things in place: run "
			    "'polarity undo' to go back to the state before it, "
			    "then restore again", j.archive, j.stamp);
	}
	if ((res = open_stage(r)) != RESTORE_OK ||
	    (res = check_targets(r)) != RESTORE_OK)
		return res;
	r->archive_fd = open(r->archive, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (r->archive_fd < 0)
		return failf(r, "cannot read '%s': %s", r->archive,
		    strerror(errno));
	r->src = (struct load_source){ .cfg = r->cfg, .archive = r->archive,
		.fd = r->archive_fd, .u = &r->u, .stage = r->stage_fd,
		.one_session = o->keep_row_order, .fence = r->fence };

	/* 2. Check the whole archive; without a question to ask, the load
	 * starts during the check. */
	/* --drop-first: no second database before the current one goes. */
	early.on = o->yes && !o->dry_run && wants(r, RESTORE_DATABASE) &&
	    !o->drop_first;
	log_step("checking and unpacking '%s'", r->archive);
	rc = check(r, &early, &prepared, &prep_res, prep_err,
	    sizeof prep_err);
	if (rc == 0 && r->u.legacy)
		log_step("archive checked: a legacy archive of the original "
		    "backup utility (no manifest), %lu files, %lu folders, %lu "
		    "links", r->u.files, r->u.dirs, r->u.links);
	else if (rc == 0)
		log_step("archive checked: %lu files, %lu folders, %lu links, "
		    "database '%s' from %s", r->u.files, r->u.dirs, r->u.links,
		    r->u.h.database, r->u.h.created);
	/* The unpacked tree goes to disk while the load ends: it must be
	 * there before it is put in place (commit()). */
	if (rc == 0 && !o->dry_run && integrations_step(r) &&
	    !io_stop_signal) {
		log_step("syncing the unpacked integrations to disk (in "
		    "the background)");
		io_flush_start(&r->flush, r->stage_fd);
		r->flushing = 1;
	}
	loaded = early_settle(&early, rc == 0 && !io_stop_signal,
	    &r->u.h);
	if (rc == 0 && io_stop_signal)
		return RESTORE_INTERRUPTED;
	if (rc < 0 && !r->u.damaged && strstr(r->err, strerror(ENOSPC))) {
		/* The numbers, and what to do. */
		struct statvfs vfs;
		size_t n = strlen(r->err);
		if (statvfs(r->parent, &vfs) == 0)
			snprintf(r->err + n, r->elen - n, " (the integrations "
			    "are unpacked in '%s', which had %.1f MiB free "
			    "when %.1f MiB of the archive were read): make room "
			    "there", r->parent, (double)vfs.f_bavail *
			    (double)vfs.f_frsize / 1048576.0,
			    (double)r->u.bytes / 1048576.0);
	}
	if (rc < 0)
		return io_stop_signal ? RESTORE_INTERRUPTED : r->u.damaged ?
		    RESTORE_BAD_ARCHIVE : RESTORE_FAILED;
	if (r->only == RESTORE_INTEGRATIONS && r->u.no_integrations)
		return failf(r, "the archive holds no integrations folder, "
		    "and --only integrations restores nothing else");
	if (prepared == 0 && (res = prepare(r)) != RESTORE_OK)
		return res;
	if (prepared < 0) {
		snprintf(r->err, r->elen, "%s", prep_err);
		return prep_res;
	}
	if (wants(r, RESTORE_DATABASE) && r->fence[0] == '\0' &&
	    r->u.need[0])
		return failf(r, "psql %s has no \\restrict, and the dump %s: "
		    "only a psql that has it may load this archive (13.22, "
		    "14.19, 15.14, 16.10, 17.6 or later; --pg-bindir names "
		    "another)", r->psql_version, r->u.need);

	/* A rehearsal ends here: everything checked, nothing changed. */
	if (o->dry_run) {
		plan(r, r->report, "A restore would replace:");
		if (wants(r, RESTORE_DATABASE) && dry_roles(r) < 0)
			return RESTORE_FAILED;
		room(r, r->report);
		fprintf(r->report, "Dry run: the archive, the targets and the "
		    "server were checked; nothing was changed.\n");
		return RESTORE_OK;
	}

	/* 3. Ask; create the roles; load beside the current database. */
	if (!o->yes && (res = confirm(r)) != RESTORE_OK)
		return res;
	if (wants(r, RESTORE_DATABASE) && r->drop_first && r->target_existed &&
	    !io_stop_signal) {
		/* What the original command did: room for one database. */
		log_step("dropping the current database %s before the load, as "
		    "--drop-first asks", r->qtarget);
		if (pgadmin_drop_now(&r->sql, r->target, r->err, r->elen) < 0)
			return RESTORE_FAILED;
		r->target_existed = 0;
		r->dropped = 1;
		fprintf(r->report, "The previous database %s was dropped before "
		    "the load (--drop-first).\n", r->qtarget);
	}
	if (!wants(r, RESTORE_DATABASE)) {
		/* Nothing to load. */
	} else if (r->u.legacy) {
		if (load_legacy_archive(r) < 0)
			return RESTORE_FAILED;
	} else if (!loaded && (archive_roles(r, NULL, NULL, r->err,
	    r->elen) < 0 ||
	    load_run(&r->src, &r->dst, &r->u.h, r->err, r->elen) < 0)) {
		return RESTORE_FAILED;
	}
	/* The database's own properties, before it is put in place: a
	 * failure here changes nothing. */
	if (!wants(r, RESTORE_DATABASE))
		;
	else if (r->u.h.db_props[0] == '\0')
		log_warn("the archive does not record the database's owner, "
		    "access rights, locale, settings or comment (%s wrote "
		    "it): the restored database has this server's defaults; "
		    "check them", r->u.legacy ? "the original backup utility" :
		    "an older polarity");
	else if (!io_stop_signal && pgadmin_props_apply(&r->sql, r->tmpdb,
	    &r->u.h, r->err, r->elen) < 0) {
		pgadmin_drop(&r->pg, &r->sql, r->tmpdb);
		return RESTORE_FAILED;
	}
	if (io_stop_signal)
		return RESTORE_FAILED;

	/* 4. Put it all in place, or nothing. */
	if ((res = commit(r)) != RESTORE_OK)
		return res;
	/* Until now the comment marked the database as being restored. */
	if (wants(r, RESTORE_DATABASE) && pgadmin_props_comment(&r->sql,
	    r->target, &r->u.h, r->err, r->elen) < 0)
		log_warn("cannot set the database's comment: %s", r->err);
	log_step("restore complete");

	/* 5. Tell the operator, and restart when asked.  The restored
	 * settings are tried when they are in place. */
	if (wants(r, RESTORE_ENV))
		check_connection(r);
	report_kept(r);
	if (o->restart) {
		if (restart(r) < 0) {
			fprintf(r->report, "Restart the Polarity containers by "
			    "hand:\n  cd %s && ./down.sh && ./up.sh\n",
			    r->cfg->app_dir);
			return RESTORE_RESTART_FAILED;
		}
		fprintf(r->report, "The Polarity containers were restarted.\n");
	} else {
		fprintf(r->report, "Now restart the Polarity containers:\n"
		    "  cd %s && ./down.sh && ./up.sh\n", r->cfg->app_dir);
	}
	return RESTORE_OK;
}

enum restore_result
restore_run(const struct config *c, const char *path,
    const struct restore_opts *o, char *report, size_t rlen, char *err,
    size_t elen)
{
	struct restore r = { .cfg = c, .archive = path, .parent_fd = -1,
		.stage_fd = -1, .lock = -1, .err = err, .archive_fd = -1,
		.elen = elen };
	enum restore_result res;
	char *rep = NULL;
	size_t replen = 0;
	time_t now = time(NULL);
	struct tm tm;

	err[0] = report[0] = '\0';
	r.sql.to = r.sql.from = -1;
	r.dry_run = o->dry_run;
	r.only = o->only;
	r.drop_first = o->drop_first;
	r.whole_env = o->whole_env;
	localtime_r(&now, &tm);
	strftime(r.stamp, sizeof r.stamp, "%Y%m%d%H%M%S", &tm);
	if (!o->yes && !o->dry_run && !isatty(STDIN_FILENO)) {
		snprintf(err, elen, "restore replaces the database, the "
		    "integrations and the .env settings: give --yes when not "
		    "at a terminal");
		return RESTORE_DECLINED;
	}
	r.report = open_memstream(&rep, &replen);
	if (r.report == NULL)
		return failf(&r, "out of memory");
	res = run(&r, o);
	if (res == RESTORE_FAILED && io_stop_signal)
		res = RESTORE_INTERRUPTED;
	if ((res == RESTORE_FAILED || res == RESTORE_INTERRUPTED) &&
	    r.dropped && r.j.state != JOURNAL_COMPLETE)
		res = RESTORE_FAILED_DROPPED;
	if (res == RESTORE_FAILED && r.live.container)
		docker_explain(c, r.live.container, err, elen);
	teardown(&r);
	fclose(r.report);
	snprintf(report, rlen, "%s", rep ? rep : "");
	free(rep);
	return res;
}
