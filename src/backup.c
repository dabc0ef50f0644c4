/* backup.c - one backup, from the lock to the archive's final name. */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "backup.h"
#include "catalog.h"
#include "check.h"
#include "docker.h"
#include "doctor.h"
#include "dotenv.h"
#include "format.h"
#include "pgadmin.h"
#include "io.h"
#include "lock.h"
#include "log.h"
#include "pg.h"
#include "progress.h"
#include "relay.h"
#include "spawn.h"
#include "status.h"

/* How many later seconds we try when the archive name is taken. */
#define NAME_TRIES 60

/* The size of the pipes the data dump passes through. */
#define DATA_PIPE (1024 * 1024)

static int prune(const struct config *c, int dry_run, FILE *out, char *err,
    size_t elen);

/* The dumps, in archive order.  All but the data are staged in temporary
 * files; the data dump, by far the largest, is compressed while it is
 * made (see start_data()). */
#define NSTAGE FORMAT_NDUMPS

/* The pre-data and post-data dumps come from one pg_dump in its custom
 * format, which reads the catalog once for both: each pg_dump does that
 * for about a tenth of a CPU second, the server's and its own, while the
 * data dump and its compressor want both cores.  pg_restore writes each
 * section from it as plain SQL, the bytes a pg_dump of that section alone
 * writes.  The steps of that split, one after the other (the two
 * pg_restores read one descriptor of the custom dump): */
enum split {
	SPLIT_DUMPING,		/* pg_dump runs */
	SPLIT_PRE,		/* pg_restore of the pre-data runs */
	SPLIT_POST,		/* pg_restore of the post-data runs */
	SPLIT_DONE,
	SPLIT_FAILED		/* split_err says why */
};

struct run {
	const struct config *cfg;
	struct dotenv env;
	struct db db;
	char container[256];	/* where the client programs run; "": here */
	struct pg pg;
	struct pg_session sql;
	char snapshot[128];	/* what every dump reads the database as */
	char server[64], client[64];	/* the versions of both ends */
	int client_num;			/* pg_dump's, as a number */
	struct child dump[NSTAGE];	/* pre-data and post-data: their
					 * pg_restore */
	int dumps_open;		/* dumps started and not yet seen to succeed */
	int stage_fd[NSTAGE];
	struct child schema;	/* pg_dump of pre-data and post-data */
	int schema_fd;		/* what it wrote: a custom-format dump */
	enum split split;
	char split_err[1024];
	struct child zip;
	int zip_in;		/* our end of the pipe to the compressor */
	int zip_said;		/* the other members' compressor logged */
	struct relay relay;	/* the data dump, from pg_dump to dzip */
	struct child dzip;	/* the data dump's own compressor */
	int data_file;		/* what dzip writes: the archive at
				 * data_at, or a temporary file */
	off_t data_at;		/* where in the archive the data dump's
				 * compressed stream is written while it is
				 * made; 0: in a temporary file */
	int out;		/* the archive being written */
	char tmpname[PATH_MAX];	/* its temporary name, "" when it has
				 * none */
	int lock;
	struct format_header props;	/* the encoding and the db_ fields:
					 * what the dumps do not hold of the
					 * database */
	char head[1 << 16];		/* the manifest's header lines; the
					 * properties take up to 45 KiB */
	unsigned long vanished, changed;	/* integrations files gone
					 * or changing while archived */
	char *err;
	size_t elen;
};

/* Describes a failure as "cannot WHAT 'NAME': strerror(E)". */
static enum backup_result
failf(struct run *r, const char *what, const char *name, int e)
{
	snprintf(r->err, r->elen, "cannot %s '%s': %s", what, name,
	    strerror(e));
	return BACKUP_FAILED;
}

static void
swept(void *arg, const char *name)
{
	log_step("removed '%s/%s' left by an interrupted run",
	    (const char *)arg, name);
}

/* Removes what runs that died left behind.  We hold the lock, so no live
 * run owns them. */
static void
clean_stale(struct run *r)
{
	int fd = open(r->cfg->backup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return;
	io_sweep(fd, "." FORMAT_PREFIX, ".tmp", swept,
	    (void *)(uintptr_t)r->cfg->backup_dir);
	close(fd);
}

/* Opens the archive file.  Nameless where possible: then it gets its name
 * by linkat() once complete and nothing can be left behind.  Otherwise a
 * dot-file that the failure path (or the next run) removes. */
static int
open_archive(struct run *r)
{
	r->out = io_tmpfile(r->cfg->backup_dir, FORMAT_PREFIX, O_RDWR,
	    r->tmpname, sizeof r->tmpname);
	return r->out < 0 ? -1 : 0;
}

/* Gives the complete archive its final name, never replacing a file: when
 * the name of this second is taken, the next second's is tried.  Writes
 * the path to PATH. */
static int
name_archive(struct run *r, time_t start, char *path, size_t len)
{
	char name[128], proc[64];

	snprintf(proc, sizeof proc, "/proc/self/fd/%d", r->out);
	for (int i = 0; i < NAME_TRIES; i++) {
		int rc;
		if (format_name((long long)start + i, 0, name, sizeof name) < 0 ||
		    (size_t)snprintf(path, len, "%s/%s", r->cfg->backup_dir,
		    name) >= len) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (r->tmpname[0] == '\0')
			rc = linkat(AT_FDCWD, proc, AT_FDCWD, path,
			    AT_SYMLINK_FOLLOW);
		else {
			rc = renameat2(AT_FDCWD, r->tmpname, AT_FDCWD, path,
			    RENAME_NOREPLACE);
			/* Some file systems lack RENAME_NOREPLACE: link()
			 * fails just as well on a taken name. */
			if (rc < 0 && (errno == EINVAL || errno == ENOSYS)) {
				rc = link(r->tmpname, path);
				if (rc == 0)
					unlink(r->tmpname);
			}
		}
		if (rc == 0) {
			r->tmpname[0] = '\0';
			return 0;
		}
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

/* Starts the compressor writing to OUT; *IN is our end of the pipe to it.
 * The archive is a series of compressed streams back to back (each
 * started here), which every gzip reader reads as one. */
static int
start_compressor(struct run *r, struct child *z, int out, int *in)
{
	char cmd[PATH_MAX], level[8];
	const char *const extra[] = { level, "-n", "-c", NULL };
	struct spawn_cmd zip;
	char **envp;
	int p[2], rc, n;

	/* The compressor may carry its own options, e.g. "pigz -p 2" to cap
	 * its threads.  Its environment is the plain one: the database's
	 * password is no business of its. */
	envp = spawn_env();
	if (envp == NULL) {
		snprintf(r->err, r->elen, "out of memory");
		return -1;
	}
	config_compressor_for(r->cfg, envp, z == &r->dzip, cmd, sizeof cmd,
	    &n);
	snprintf(level, sizeof level, "-%d", n);
	if (spawn_cmd(&zip, cmd, extra) < 0) {
		spawn_env_free(envp);
		snprintf(r->err, r->elen, "the compressor '%s' is not a "
		    "command line", cmd);
		errno = EINVAL;
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(r->err, r->elen, "cannot make a pipe: %s",
		    strerror(errno));
		spawn_env_free(envp);
		return -1;
	}
	spawn_close(z);
	rc = spawn_start(z, zip.argv, p[0], out, envp);
	spawn_env_free(envp);
	if (rc < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		snprintf(r->err, r->elen, "cannot run '%s': %s", zip.argv[0],
		    strerror(e));
		errno = e;
		return -1;
	}
	close(p[0]);
	*in = p[1];
	if (z == &r->dzip)
		log_detail("compressing the data dump with '%s' at level %d",
		    cmd, n);
	else if (!r->zip_said++)
		log_detail("compressing the other members with '%s' at level "
		    "%d", cmd, n);
	return 0;
}

/* The manifest's header lines. */
static void
manifest_header(struct run *r, char *h, size_t len, time_t start)
{
	struct format_header fh;
	struct tm tm;

	/* The database's properties, then the rest. */
	memcpy(&fh, &r->props, sizeof fh);
	snprintf(fh.tool, sizeof fh.tool, "%s %s", PACKAGE_NAME,
	    PACKAGE_VERSION);
	gmtime_r(&start, &tm);
	strftime(fh.created, sizeof fh.created, "%Y-%m-%dT%H:%M:%SZ", &tm);
	gethostname(fh.hostname, sizeof fh.hostname - 1);
	if (fh.hostname[0] == '\0')
		snprintf(fh.hostname, sizeof fh.hostname, "-");
	snprintf(fh.database, sizeof fh.database, "%s", r->db.database);
	snprintf(fh.server_version, sizeof fh.server_version, "%s",
	    r->server);
	snprintf(fh.pg_dump_version, sizeof fh.pg_dump_version, "%s",
	    r->client);
	if (format_header_text(&fh, h, len) < 0)
		h[0] = '\0';
}

/* Waits for C, stopped already, and closes the file *FD it wrote. */
static void
end_child(struct child *c, int *fd)
{
	char ignored[256];

	if (c->pid > 0)
		spawn_wait(c, ignored, sizeof ignored);
	spawn_close(c);
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Stops everything still running and releases what the run holds. */
static void
teardown(struct run *r)
{
	char ignored[256];

	if (r->zip_in >= 0)
		close(r->zip_in);
	r->zip_in = -1;
	if (r->zip.pid > 0)
		kill(r->zip.pid, SIGTERM);
	/* Stopping docker exec does not stop a pg_dump in the container:
	 * end its sessions on the server, so that it ends and lets go of
	 * its locks now rather than once it has dumped everything. */
	if (r->dumps_open > 0 && pg_where(&r->pg) != NULL &&
	    pg_end_own_sessions(&r->pg, ignored, sizeof ignored) < 0)
		log_detail("cannot end the dumps' sessions: %s", ignored);
	r->dumps_open = 0;
	for (int i = 0; i < NSTAGE; i++)
		if (r->dump[i].pid > 0)
			kill(r->dump[i].pid, SIGTERM);
	if (r->schema.pid > 0)
		kill(r->schema.pid, SIGTERM);
	if (r->dzip.pid > 0)
		kill(r->dzip.pid, SIGTERM);
	relay_stop(&r->relay);
	if (r->zip.pid > 0)
		spawn_wait(&r->zip, ignored, sizeof ignored);
	spawn_close(&r->zip);
	end_child(&r->dzip, &r->data_file);
	for (int i = 0; i < NSTAGE; i++)
		end_child(&r->dump[i], &r->stage_fd[i]);
	end_child(&r->schema, &r->schema_fd);
	pg_session_close(&r->sql, ignored, sizeof ignored);
	if (r->out >= 0)
		close(r->out);
	r->out = -1;
	if (r->tmpname[0] != '\0')
		unlink(r->tmpname);
	r->tmpname[0] = '\0';
	pg_free(&r->pg);
	dotenv_free(&r->env);
	if (r->lock >= 0)
		close(r->lock);
	r->lock = -1;
}

/* Reads the .env, connects and opens the snapshot: the dumps can start
 * as soon as it is exported. */
static enum backup_result
connect_db(struct run *r)
{
	char why[512];

	if (dotenv_read(&r->env, r->cfg->env_file, r->err, r->elen) < 0 ||
	    config_db(&r->db, &r->env, r->cfg->env_file, r->err, r->elen) < 0)
		return BACKUP_FAILED;
	if (docker_locate(r->cfg, &r->db, r->container, sizeof r->container,
	    why, sizeof why, r->err, r->elen) < 0)
		return BACKUP_FAILED;
	r->db.container = r->container[0] ? r->container : NULL;
	log_detail("reaching the database with %s", why);
	if (pg_init(&r->pg, r->cfg, &r->db) < 0)
		return failf(r, "prepare", "pg_dump", errno);
	log_step("connecting to database '%s' on %s:%s as '%s'%s%s%s",
	    r->db.database, r->db.host, r->db.port, r->db.user,
	    r->db.container ? " in container '" : "",
	    r->db.container ? r->db.container : "",
	    r->db.container ? "'" : "");
	/* One snapshot for every dump: the sections and the data agree
	 * even while the server keeps writing. */
	if (pg_session_open(&r->pg, &r->sql, r->err, r->elen) < 0 ||
	    pg_session_query(&r->sql, "BEGIN ISOLATION LEVEL REPEATABLE READ, "
	    "READ ONLY;", NULL, 0, r->err, r->elen) < 0 ||
	    pg_session_query(&r->sql, "SELECT pg_export_snapshot();",
	    r->snapshot, sizeof r->snapshot, r->err, r->elen) < 0)
		return BACKUP_FAILED;
	if (r->snapshot[0] == '\0') {
		snprintf(r->err, r->elen, "the server exported no snapshot");
		return BACKUP_FAILED;
	}
	return BACKUP_OK;
}

/* Reads the versions and what the manifest records of the database, in
 * the snapshot's transaction, once the dumps have started and the members
 * before them are written (running pg_dump for its version takes 10 ms to
 * 20 ms): a pg_dump older than its server is told as that (it would refuse
 * on its own, in words that do not say what to do), and the dumps are
 * stopped. */
static enum backup_result
check_db(struct run *r)
{
	char num[32], *server = r->server, *client = r->client;
	int server_num;

	if (pg_client_version(&r->pg, "pg_dump", &r->client_num, client,
	    sizeof r->client, r->err, r->elen) < 0 ||
	    pg_session_query(&r->sql, "SHOW server_version_num;", num,
	    sizeof num, r->err, r->elen) < 0 ||
	    pg_session_query(&r->sql, "SHOW server_version;", server,
	    sizeof r->server, r->err, r->elen) < 0)
		return BACKUP_FAILED;
	server[strcspn(server, " ")] = '\0';
	server_num = (int)pg_number(num);
	if (server_num <= 0) {
		snprintf(r->err, r->elen, "the server gave no version number "
		    "('%s')", num);
		return BACKUP_FAILED;
	}
	if (!pg_dump_can_dump(r->client_num, server_num)) {
		if (r->db.container)
			snprintf(r->err, r->elen, "pg_dump %s in container "
			    "'%s' is older than its server (PostgreSQL %s): "
			    "give --db-container none and a --pg-bindir of "
			    "version %d or later", client, r->db.container,
			    server, server_num / 10000);
		else
			snprintf(r->err, r->elen, "pg_dump %s is older than "
			    "the server (PostgreSQL %s): install "
			    "postgresql-client-%d and run again, or give "
			    "--pg-bindir", client, server, server_num / 10000);
		return BACKUP_FAILED;
	}
	/* What a restore must give the new database: its encoding, locale
	 * and the rest its dumps do not hold. */
	if (pgadmin_props_read(&r->sql, &r->props, r->err, r->elen) < 0)
		return BACKUP_FAILED;
	log_detail("PostgreSQL %s, pg_dump %s, snapshot %s", server, client,
	    r->snapshot);
	return BACKUP_OK;
}

/* Opens a nameless file in the backup folder into *FD. */
static enum backup_result
temp_file(struct run *r, int *fd)
{
	*fd = io_tmpfile(r->cfg->backup_dir, FORMAT_PREFIX, O_RDWR, NULL, 0);
	if (*fd < 0)
		return failf(r, "create a temporary file in",
		    r->cfg->backup_dir, errno);
	return BACKUP_OK;
}

/* The archive file's block size. */
static off_t
block_size(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && st.st_blksize > 0 ? st.st_blksize :
	    4096;
}

/* Where in the archive the data dump's compressed stream can be written
 * while the members before it are not yet complete: past the file
 * system's size, which bounds what they can take, in a hole.  put_data()
 * closes the gap once they are written, without moving the data on a
 * file system that can collapse a range (ext4, XFS).  Returns 0 when the
 * archive cannot grow that large here (a file size limit, the file
 * system's largest file): the data then goes to a file of its own. */
static off_t
data_offset(struct run *r)
{
	struct statvfs v;
	unsigned long long cap, room, at;
	off_t blk = block_size(r->out);

	if (fstatvfs(r->out, &v) < 0)
		return 0;
	cap = (unsigned long long)v.f_blocks * v.f_frsize;
	room = (unsigned long long)v.f_bfree * v.f_frsize;
	at = (cap / (unsigned long long)blk + 16) * (unsigned long long)blk;
	if (at > (unsigned long long)INT64_MAX / 4 ||
	    room > (unsigned long long)INT64_MAX / 4)
		return 0;
	/* The largest size the data can give the archive, tried on the
	 * empty file (SIGXFSZ is ignored: a limit shows as EFBIG). */
	if (ftruncate(r->out, (off_t)(at + room) + blk) < 0) {
		log_detail("the data dump is compressed into a file of its "
		    "own: the archive cannot grow to %llu bytes here (%s)",
		    at + room + (unsigned long long)blk, strerror(errno));
		return ftruncate(r->out, 0) < 0 ? -1 : 0;
	}
	return ftruncate(r->out, 0) < 0 ? -1 : (off_t)at;
}

/* Opens the archive a second time, for the data dump's compressor, at
 * AT. */
static int
reopen_archive(struct run *r, off_t at)
{
	char proc[64];
	const char *path = r->tmpname;
	int fd;

	if (path[0] == '\0') {
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", r->out);
		path = proc;
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && lseek(fd, at, SEEK_SET) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Starts the data dump: pg_dump, through a relay that hashes and counts
 * it, into a compressor of its own writing the archive far ahead of the
 * other members (or, where the archive cannot grow that large, a
 * temporary file).  So the data is compressed while it is dumped and
 * written once; put_data() brings it next to the members before it once
 * it is complete. */
static enum backup_result
start_data(struct run *r)
{
	int p[2], zin;

	if (r->data_at > 0) {
		r->data_file = reopen_archive(r, r->data_at);
		if (r->data_file < 0)
			return failf(r, "reopen the archive in",
			    r->cfg->backup_dir, errno);
	} else if (temp_file(r, &r->data_file) != BACKUP_OK)
		return BACKUP_FAILED;
	if (start_compressor(r, &r->dzip, r->data_file, &zin) < 0)
		return BACKUP_FAILED;
	if (pipe2(p, O_CLOEXEC) < 0) {
		close(zin);
		return failf(r, "start", "pg_dump", errno);
	}
	if (pg_dump_start(&r->pg, &r->dump[FORMAT_DATA],
	    format_dump_section[FORMAT_DATA], r->snapshot, p[1], r->err,
	    r->elen) < 0) {
		close(p[0]);
		close(p[1]);
		close(zin);
		return BACKUP_FAILED;
	}
	close(p[1]);
	r->dumps_open++;
	/* Room for the compressor's whole reads (pigz takes 128 KiB), and
	 * fewer turns between the three; where the system allows less, the
	 * pipes stay as they are. */
	(void)fcntl(p[0], F_SETPIPE_SZ, DATA_PIPE);
	(void)fcntl(zin, F_SETPIPE_SZ, DATA_PIPE);
	if (relay_start(&r->relay, p[0], zin) < 0)
		return failf(r, "start", "the relay of the data dump", errno);
	return BACKUP_OK;
}

static enum backup_result
start_dumps(struct run *r)
{
	/* The data dump first: the backup ends when it ends. */
	enum backup_result res = start_data(r);

	if (res != BACKUP_OK)
		return res;
	for (int i = 0; i < NSTAGE; i++)
		if (i != FORMAT_DATA &&
		    temp_file(r, &r->stage_fd[i]) != BACKUP_OK)
			return BACKUP_FAILED;
	if (temp_file(r, &r->schema_fd) != BACKUP_OK)
		return BACKUP_FAILED;
	if (pg_roles_start(&r->pg, &r->dump[FORMAT_ROLES],
	    r->stage_fd[FORMAT_ROLES], r->err, r->elen) < 0)
		return BACKUP_FAILED;
	r->dumps_open++;
	if (pg_schema_start(&r->pg, &r->schema, r->snapshot, r->schema_fd,
	    r->err, r->elen) < 0)
		return BACKUP_FAILED;
	r->dumps_open++;
	return BACKUP_OK;
}

/* Takes the split of the schema dump on as far as its programs have
 * ended, waiting for each when BLOCK.  Returns whether it is over
 * (r->split SPLIT_DONE or SPLIT_FAILED); how each pg_restore ended is
 * for put_staged() to tell. */
static int
split_schema(struct run *r, int block)
{
	while (r->split < SPLIT_DONE) {
		struct child *c = r->split == SPLIT_DUMPING ? &r->schema :
		    &r->dump[r->split == SPLIT_PRE ? FORMAT_PRE : FORMAT_POST];
		int failed, i;

		if (!block && !spawn_poll(c))
			return 0;
		/* Reaps C when it has not been: only the pg_dump's end
		 * matters here. */
		failed = spawn_wait(c, r->split_err, sizeof r->split_err) < 0;
		if (r->split == SPLIT_POST) {
			r->split = SPLIT_DONE;
			return 1;
		}
		if (r->split == SPLIT_DUMPING) {
			if (failed) {
				r->split = SPLIT_FAILED;
				return 1;
			}
			r->dumps_open--;
		}
		i = r->split == SPLIT_DUMPING ? FORMAT_PRE : FORMAT_POST;
		if (lseek(r->schema_fd, 0, SEEK_SET) < 0) {
			snprintf(r->split_err, sizeof r->split_err, "cannot "
			    "read the schema dump: %s", strerror(errno));
			r->split = SPLIT_FAILED;
			return 1;
		}
		if (pg_section_start(&r->pg, &r->dump[i],
		    format_dump_section[i], r->client_num, r->schema_fd,
		    r->stage_fd[i], r->split_err, sizeof r->split_err) < 0) {
			r->split = SPLIT_FAILED;
			return 1;
		}
		r->split = i == FORMAT_PRE ? SPLIT_PRE : SPLIT_POST;
	}
	return 1;
}

/* Whether the file system of FD is full (under 1 MiB free, counting
 * what only root may use when we are root).  pg_dumpall exits 0 when the
 * file it writes runs out of room: a dump cut short on a full file
 * system is that, not a fault of the program's. */
static int
full(int fd)
{
	struct statvfs v;
	unsigned long long left;

	if (fstatvfs(fd, &v) < 0)
		return 0;
	left = (unsigned long long)(geteuid() == 0 ? v.f_bfree : v.f_bavail) *
	    v.f_frsize;
	return left < 1024 * 1024;
}

/* Waits for the compressor Z.  One that failed on a full file system
 * is told as that: igzip's own words do not say it. */
static int
wait_compressor(struct run *r, struct child *z)
{
	char why[1024];

	if (spawn_wait(z, r->err, r->elen) == 0)
		return 0;
	if (r->out >= 0 && full(r->out)) {
		snprintf(why, sizeof why, "%s", r->err);
		snprintf(r->err, r->elen, "cannot write the archive in '%s': "
		    "%s (%s)", r->cfg->backup_dir, strerror(ENOSPC), why);
	}
	return -1;
}

static enum backup_result
archive_failed(struct run *r, struct archive *a)
{
	/* A write to the compressor failing with EPIPE means the compressor
	 * died: its own exit says more than our write error. */
	if (errno == EPIPE && r->zip.pid > 0) {
		close(r->zip_in);
		r->zip_in = -1;
		if (wait_compressor(r, &r->zip) < 0)
			return BACKUP_FAILED;
	}
	snprintf(r->err, r->elen, "%s", a->err);
	return BACKUP_FAILED;
}

/* What pg_dump and pg_dumpall end a whole dump with ("-- PostgreSQL
 * database [cluster] dump complete", then at most a line or two).  An
 * exit status alone is not enough: a docker client stopped by SIGTERM
 * exits with 0 while its program still runs. */
#define DUMP_END " dump complete\n"

static enum backup_result
incomplete(struct run *r, int i)
{
	snprintf(r->err, r->elen, "'%s'%s exited with status 0 but its dump "
	    "(%s) is not complete", r->dump[i].name, r->dump[i].where,
	    format_dump_member[i]);
	return BACKUP_FAILED;
}

/* The staged dump I stopped short on a full file system. */
static enum backup_result
stopped_short(struct run *r, int i)
{
	snprintf(r->err, r->elen, "cannot stage the dump %s in '%s': %s "
	    "('%s'%s stopped short of its end)", format_dump_member[i],
	    r->cfg->backup_dir, strerror(ENOSPC), r->dump[i].name,
	    r->dump[i].where);
	return BACKUP_FAILED;
}

/* Whether the dump staged in FD ends with DUMP_END. */
static int
dump_complete(int fd)
{
	char tail[1024];
	struct stat st;
	off_t at;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return 0;
	at = st.st_size > (off_t)sizeof tail - 1 ?
	    st.st_size - (off_t)sizeof tail + 1 : 0;
	n = io_pread(fd, tail, sizeof tail - 1, at);
	if (n <= 0)
		return 0;
	tail[n] = '\0';
	return memmem(tail, (size_t)n, DUMP_END, strlen(DUMP_END)) != NULL;
}

/* Waits for the dumps to end, showing on a terminal how much they wrote.
 * How each ended is for spawn_wait() to say. */
static void
wait_dumps(struct run *r)
{
	/* The data dump ends last, as a rule: its end is seen at once
	 * through a descriptor of the process (Linux 5.3), not at the next
	 * turn.  Without one, the turns alone. */
	int end = r->dump[FORMAT_DATA].pid > 0 ?
	    (int)syscall(SYS_pidfd_open, r->dump[FORMAT_DATA].pid, 0) : -1;

	progress_begin("dumping", 0);
	for (unsigned turn = 1;; turn++) {
		uint64_t done = 0;
		int running = 0;
		/* What the compressors wrote, on its way to the disk now
		 * rather than all at the final fsync(). */
		if (r->data_at > 0 && turn % 10 == 0)
			(void)sync_file_range(r->out, 0, 0,
			    SYNC_FILE_RANGE_WRITE);
		running = !split_schema(r, 0);
		for (int i = 0; i < NSTAGE; i++) {
			struct stat st;
			running |= !spawn_poll(&r->dump[i]);
			if (i == FORMAT_DATA)
				done += relay_count(&r->relay);
			else if (fstat(r->stage_fd[i], &st) == 0)
				done += (uint64_t)st.st_size;
		}
		progress_update(done);
		if (!running || io_stop_signal)
			break;
		/* Ended, and so readable from now on. */
		if (end >= 0 && r->dump[FORMAT_DATA].pid == 0) {
			close(end);
			end = -1;
		}
		/* Often: the archive is finished only once we see the last
		 * dump end. */
		if (end < 0 || poll(&(struct pollfd){ .fd = end,
		    .events = POLLIN }, 1, 10) < 0)
			nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 *
			    1000 }, NULL);
	}
	if (end >= 0)
		close(end);
	progress_end();
}

/* Adds the staged dump I, once it is seen to be whole. */
static enum backup_result
put_staged(struct run *r, struct archive *a, int i, time_t start)
{
	struct stat st;

	if (i != FORMAT_ROLES) {
		(void)split_schema(r, 1);
		if (r->split == SPLIT_FAILED) {
			snprintf(r->err, r->elen, "%s", r->split_err);
			return BACKUP_FAILED;
		}
	}
	if (spawn_wait(&r->dump[i], r->err, r->elen) < 0)
		return BACKUP_FAILED;
	if (!dump_complete(r->stage_fd[i]))
		return full(r->stage_fd[i]) ? stopped_short(r, i) :
		    incomplete(r, i);
	if (i == FORMAT_ROLES)
		r->dumps_open--;
	if (fstat(r->stage_fd[i], &st) < 0)
		return failf(r, "read the staged", format_dump_member[i],
		    errno);
	/* The dump files are the running user's; say so plainly rather
	 * than with the temporary file's mode. */
	st.st_mode = S_IFREG | 0600;
	st.st_mtime = start;
	if (archive_add_fd(a, format_dump_member[i], r->stage_fd[i], &st,
	    format_dump_member[i]) < 0)
		return archive_failed(r, a);
	close(r->stage_fd[i]);
	r->stage_fd[i] = -1;
	return BACKUP_OK;
}

/* Brings the data dump's compressed stream, written at data_at, next to
 * the members before it, which end at the archive's offset: an empty gzip
 * member fills up to a block boundary, and the gap from there to the data
 * is closed. */
static int
place_data(struct run *r)
{
	unsigned char pad[FORMAT_PAD_MAX];
	off_t at = lseek(r->out, 0, SEEK_CUR), blk = block_size(r->out);
	off_t to;
	int moved;

	if (at < 0)
		return -1;
	to = (at + FORMAT_PAD_MIN + blk - 1) / blk * blk;
	/* The members before cannot reach the data where the file
	 * system's size bounds them; where it does not (compression), say
	 * so rather than write a broken archive. */
	if (to > r->data_at) {
		errno = EFBIG;
		return -1;
	}
	for (off_t left = to - at; left > 0;) {
		size_t m = format_gzip_pad(pad, (size_t)left);
		if (io_write_all(r->out, pad, m) < 0)
			return -1;
		left -= (off_t)m;
	}
	if (io_close_gap(r->out, to, r->data_at - to, &moved) < 0)
		return -1;
	if (moved)
		log_detail("the data dump was copied into place: this file "
		    "system cannot collapse a range of a file");
	else
		log_detail("the data dump was written in place");
	return 0;
}

/* Appends the data dump, compressed while it was made, to the archive:
 * its header ends the compressed stream so far, its compressed data is
 * placed (or copied from its file) as it is, and a new compressor takes
 * the rest of the archive. */
static enum backup_result
put_data(struct run *r, struct archive *a, time_t start)
{
	const char *name = format_dump_member[FORMAT_DATA];
	struct stat st = { .st_mode = S_IFREG | 0600, .st_mtime = start,
		.st_uid = geteuid(), .st_gid = getegid() };
	char hex[65];
	uint64_t size;
	int wrote, rc, e;

	rc = relay_wait(&r->relay, hex, &size, &wrote);
	/* A compressor that died explains a pg_dump killed by SIGPIPE. */
	if (rc < 0 && wrote && errno == EPIPE &&
	    wait_compressor(r, &r->dzip) < 0)
		return BACKUP_FAILED;
	e = errno;
	if (spawn_wait(&r->dump[FORMAT_DATA], r->err, r->elen) < 0)
		return BACKUP_FAILED;
	if (rc < 0)
		return failf(r, wrote ? "compress" : "read", name, e);
	if (!relay_tail_has(&r->relay, DUMP_END))
		return incomplete(r, FORMAT_DATA);
	r->dumps_open--;
	if (wait_compressor(r, &r->dzip) < 0)
		return BACKUP_FAILED;
	st.st_size = (off_t)size;
	if (archive_begin_outside(a, name, &st) < 0)
		return archive_failed(r, a);
	close(r->zip_in);
	r->zip_in = -1;
	if (wait_compressor(r, &r->zip) < 0)
		return BACKUP_FAILED;
	if ((r->data_at > 0 ? place_data(r) :
	    io_append(r->data_file, r->out)) < 0)
		return failf(r, "write the archive in", r->cfg->backup_dir,
		    errno);
	close(r->data_file);
	r->data_file = -1;
	if (start_compressor(r, &r->zip, r->out, &r->zip_in) < 0)
		return BACKUP_FAILED;
	a->tar.fd = r->zip_in;
	if (archive_end_outside(a, name, &st, hex) < 0)
		return archive_failed(r, a);
	return BACKUP_OK;
}

static enum backup_result
write_archive(struct run *r, const char *top, time_t start)
{
	struct archive a;
	enum backup_result res;
	char version[64];
	int n, rc;

	if (archive_open(&a, r->zip_in, top) < 0) {
		snprintf(r->err, r->elen, "%s", a.err);
		return BACKUP_FAILED;
	}
	n = format_version_text(version, sizeof version);
	if (archive_add_data(&a, FORMAT_FORMAT, version, (size_t)n, 0644) < 0 ||
	    archive_add_file(&a, FORMAT_ENV, r->cfg->env_file) < 0)
		goto fail;
	log_step("archiving integrations from '%s'", r->cfg->integrations_dir);
	a.tar.progress = progress_update;
	progress_begin("archiving", 0);
	rc = archive_add_tree(&a, FORMAT_INTEGRATIONS,
	    r->cfg->integrations_dir);
	progress_end();
	if (rc < 0)
		goto fail;
	log_detail("%lu files, %lu folders, %lu links", a.files, a.dirs,
	    a.links);
	r->vanished = a.vanished;
	r->changed = a.changed;
	if (archive_add_dir(&a, FORMAT_DATABASE, 0700) < 0)
		goto fail;
	if ((res = check_db(r)) != BACKUP_OK) {
		archive_close(&a);
		return res;
	}
	log_step("dumping database '%s'", r->db.database);
	wait_dumps(r);
	/* The dumps have ended: the snapshot's session quits while the
	 * data dump's compressor finishes; make_archive() waits for it. */
	pg_session_hangup(&r->sql);
	progress_begin("compressing", 0);
	for (int i = 0; i < NSTAGE; i++) {
		res = i == FORMAT_DATA ? put_data(r, &a, start) :
		    put_staged(r, &a, i, start);
		if (res != BACKUP_OK) {
			progress_end();
			archive_close(&a);
			return res;
		}
	}
	manifest_header(r, r->head, sizeof r->head, start);
	rc = archive_finish(&a, r->head);
	progress_end();
	if (rc < 0)
		goto fail;
	archive_close(&a);
	return BACKUP_OK;
fail:
	progress_end();
	res = archive_failed(r, &a);
	archive_close(&a);
	return res;
}

/* The checks a backup makes before it starts, and their results. */
struct preflight {
	const struct config *c;
	struct doctor d;
};

static void *
preflight(void *arg)
{
	struct preflight *p = arg;

	doctor_preflight_run(p->c, &p->d);
	return NULL;
}

/* Writes the archive and, when retention rules are set, prunes, both
 * under the lock. */
static enum backup_result
make_archive(const struct config *c, char *path, size_t len, char *err,
    size_t elen, int *pruned, struct status *outcome)
{
	struct run r = { .cfg = c, .zip_in = -1, .out = -1, .lock = -1,
		.data_file = -1, .err = err, .elen = elen };
	char top[128];
	enum backup_result res = BACKUP_FAILED;
	time_t start = time(NULL);
	struct preflight pf;
	pthread_t pf_thread;
	int pf_started = 0;
	struct stat st;

	for (int i = 0; i < NSTAGE; i++) {
		r.stage_fd[i] = -1;
		r.dump[i].errfd = -1;
	}
	r.zip.errfd = r.dzip.errfd = r.schema.errfd = -1;
	r.schema_fd = -1;
	r.sql.to = r.sql.from = -1;
	err[0] = '\0';

	if (catalog_dir_ensure(c->backup_dir, err, elen) < 0)
		goto out;
	r.lock = lock_take(c->backup_dir, "backup", err, elen);
	if (r.lock < 0) {
		res = errno == EWOULDBLOCK ? BACKUP_BUSY : BACKUP_FAILED;
		goto out;
	}
	clean_stale(&r);
	if (stat(c->integrations_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		/* st is only valid when stat() succeeded. */
		int e = errno;
		if (stat(c->integrations_dir, &st) == 0)
			e = ENOTDIR;
		snprintf(err, elen, "cannot read integrations directory "
		    "'%s': %s; give the right one with --integrations-dir",
		    c->integrations_dir, strerror(e));
		res = BACKUP_FAILED;
		goto out;
	}
	/* The platform and space checks (the docker client alone takes
	 * tens of milliseconds) run while the database is reached.  Their
	 * verdict comes first, and before anything is written. */
	pf.c = c;
	if (io_thread_start(&pf_thread, preflight, &pf) != 0)
		preflight(&pf);
	else
		pf_started = 1;
	res = connect_db(&r);
	if (pf_started)
		pthread_join(pf_thread, NULL);
	if (doctor_preflight_report(&pf.d, err, elen) < 0) {
		res = BACKUP_FAILED;
		goto out;
	}
	if (res != BACKUP_OK)
		goto out;
	res = BACKUP_FAILED;
	if (open_archive(&r) < 0) {
		res = failf(&r, "create an archive in",
		    c->backup_dir, errno);
		goto out;
	}
	r.data_at = data_offset(&r);
	if (r.data_at < 0) {
		res = failf(&r, "write the archive in", c->backup_dir, errno);
		goto out;
	}
	if (start_compressor(&r, &r.zip, r.out, &r.zip_in) < 0 ||
	    (res = start_dumps(&r)) != BACKUP_OK)
		goto out;
	format_name(start, 1, top, sizeof top);
	if ((res = write_archive(&r, top, start)) != BACKUP_OK)
		goto out;
	res = BACKUP_FAILED;
	/* The snapshot's session, told to quit when the dumps ended. */
	if (pg_session_close(&r.sql, err, elen) < 0)
		goto out;
	close(r.zip_in);
	r.zip_in = -1;
	if (wait_compressor(&r, &r.zip) < 0)
		goto out;
	log_step("syncing the archive to disk");
	if (fsync(r.out) < 0) {
		res = failf(&r, "write the archive in",
		    c->backup_dir, errno);
		goto out;
	}
	if (name_archive(&r, start, path, len) < 0 ||
	    io_fsync_dir(c->backup_dir) < 0) {
		res = failf(&r, "name the archive in",
		    c->backup_dir, errno);
		goto out;
	}
	res = BACKUP_OK;
	outcome->vanished = r.vanished;
	outcome->changed = r.changed;
	/* Only a backup that succeeded makes room. */
	if (c->keep > 0 || c->keep_days > 0) {
		char perr[1024];
		log_step("pruning old archives");
		if (prune(c, 0, NULL, perr, sizeof perr) < 0) {
			snprintf(err, elen, "%s", perr);
			*pruned = -1;
		}
	}
out:
	if (res != BACKUP_OK && io_stop_signal != 0)
		res = BACKUP_INTERRUPTED;
	if (res == BACKUP_FAILED && r.db.container)
		docker_explain(c, r.db.container, err, elen);
	teardown(&r);
	return res;
}

/* Prunes without taking the lock: the caller holds it. */
static int
prune(const struct config *c, int dry_run, FILE *out, char *err, size_t elen)
{
	return catalog_prune(c->backup_dir, c->keep, c->keep_days, dry_run,
	    check_sound, (void *)(uintptr_t)c, out, err, elen);
}

int
backup_prune(const struct config *c, int dry_run, FILE *out, char *err,
    size_t elen)
{
	int lock, rc;

	if (c->keep <= 0 && c->keep_days <= 0) {
		snprintf(err, elen, "say what to keep: --keep N and/or "
		    "--keep-days D (or [retention] in the configuration file)");
		errno = EINVAL;
		return -1;
	}
	lock = lock_take(c->backup_dir, "prune", err, elen);
	if (lock < 0)
		return -1;
	rc = prune(c, dry_run, out, err, elen);
	close(lock);
	return rc;
}

/* Lowers the CPU and I/O priority of this process and so of every child:
 * the nightly backup must not starve the live server. */
static void
lower_priority(void)
{
	/* ioprio_set(IOPRIO_WHO_PROCESS, self, best-effort class, level 7):
	 * glibc has no wrapper. */
	const int who_process = 1, class_be = 2, lowest = 7;

	if (setpriority(PRIO_PROCESS, 0, 10) < 0)
		log_warn("cannot lower the CPU priority: %s", strerror(errno));
	if (syscall(SYS_ioprio_set, who_process, 0, class_be << 13 | lowest) < 0)
		log_warn("cannot lower the I/O priority: %s", strerror(errno));
}

/* Runs the hook with the archive's path as its last argument. */
static int
run_hook(const struct config *c, const char *archive, char *err, size_t elen)
{
	struct spawn_cmd hook;
	char msg[1024];
	int n, rc, placed = 0;

	n = spawn_cmd(&hook, c->hook, NULL);
	if (n <= 0 || n > 63) {
		snprintf(err, elen, "the hook '%s' is not a command line",
		    c->hook);
		return -1;
	}
	/* A word "{}" stands for the archive's path; without one, the path
	 * comes last. */
	for (int i = 0; i < n; i++)
		if (strcmp(hook.argv[i], "{}") == 0) {
			hook.argv[i] = (char *)(uintptr_t)archive;
			placed = 1;
		}
	if (!placed)
		hook.argv[n++] = (char *)(uintptr_t)archive;
	hook.argv[n] = NULL;
	log_step("running the hook '%s'", hook.argv[0]);
	rc = spawn_run(hook.argv, NULL, msg, sizeof msg);
	if (rc < 0)
		snprintf(err, elen, "cannot run the hook '%s': %s",
		    hook.argv[0], strerror(errno));
	else if (rc > 0)
		snprintf(err, elen, "the hook failed: %s", msg);
	return rc == 0 ? 0 : -1;
}

enum backup_result
backup_run(const struct config *c, char *path, size_t len, char *err,
    size_t elen)
{
	struct timespec t0, t1;
	enum backup_result res;
	struct status s = { 0 };
	int after = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (c->nice)
		lower_priority();
	res = make_archive(c, path, len, err, elen, &after, &s);
	if (res == BACKUP_OK && c->hook[0] != '\0') {
		char herr[1024];
		if (run_hook(c, path, herr, sizeof herr) < 0) {
			if (after < 0)
				snprintf(err + strlen(err), elen - strlen(err),
				    "; %s", herr);
			else
				snprintf(err, elen, "%s", herr);
			after = -1;
		}
	}
	if (c->status_file[0] != '\0') {
		struct stat st;
		char serr[1024];
		s.ok = res == BACKUP_OK;
		s.end = time(NULL);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		s.duration = (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (s.ok && stat(path, &st) == 0)
			s.size = (long long)st.st_size;
		if (status_write(c->status_file, &s, serr, sizeof serr) < 0)
			log_warn("%s", serr);
	}
	if (res == BACKUP_OK && after == 0 && (s.vanished || s.changed))
		snprintf(err, elen, "%lu file%s vanished and %lu changed while "
		    "the integrations were archived (warned of above)",
		    s.vanished, s.vanished == 1 ? "" : "s", s.changed);
	return res == BACKUP_OK && after < 0 ? BACKUP_AFTER_FAILED : res;
}
