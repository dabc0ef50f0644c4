/* main.c - options, dispatch and exit statuses; nothing else. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup.h"
#include "catalog.h"
#include "check.h"
#include "cleanup.h"
#include "config.h"
#include "doctor.h"
#include "format.h"
#include "restore.h"
#include "io.h"
#include "legacy.h"
#include "log.h"
#include "progress.h"
#include "spawn.h"
#include "undo.h"
#include "tar.h"

/* Exit statuses; the man page and the README list them. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
	EXIT_BUSY = 3,
	EXIT_BAD_ARCHIVE = 4,
};

static void
usage(FILE *f)
{
	fprintf(f,
"usage: polarity [OPTIONS] backup [--keep N] [--keep-days D]\n"
"       polarity [OPTIONS] restore [--yes] [--restart] [--dry-run]\n"
"                [--only PART]... [--whole-env] [--drop-first]\n"
"                [--keep-row-order] ARCHIVE\n"
"       polarity [OPTIONS] verify ARCHIVE\n"
"       polarity [OPTIONS] undo [--yes]\n"
"       polarity [OPTIONS] cleanup [--yes] [--dry-run]\n"
"       polarity [OPTIONS] show ARCHIVE\n"
"       polarity [OPTIONS] list [--verify] [--json]\n"
"       polarity [OPTIONS] prune [--keep N] [--keep-days D] [--dry-run]\n"
"       polarity [OPTIONS] doctor [--json]\n"
"       polarity help [COMMAND]   (or COMMAND --help: its options, an example)\n"
"       polarity OTHER-COMMAND ...  (the vendor's utility, bin/polarity.vendor,\n"
"                                  when installed beside it)\n"
"\n"
"backup   write the database, .env file and integrations into\n"
"         BACKUP_DIR/polarity-server-backup-YYYYMMDDhhmmss.tgz; with\n"
"         --keep or --keep-days, prune afterwards\n"
"restore  put them back from ARCHIVE, keeping what they replace\n"
"         --yes      do not ask (required when not at a terminal)\n"
"         --restart  then run ./down.sh and ./up.sh in the app folder\n"
"         --dry-run  check the archive, the targets and the server, say\n"
"                    what would be replaced; change nothing\n"
"         --only PART  restore only database, integrations or env;\n"
"                    repeat it for two\n"
"         --whole-env  put the archive's whole .env in place, not only\n"
"                    its database lines\n"
"undo     go back to the state before the most recent restore; what it\n"
"         had put in place is kept under names with 'undone'\n"
"cleanup  remove what restores and undos kept (--dry-run: only list)\n"
"verify   check ARCHIVE in full; change nothing\n"
"         (ARCHIVE: a path, a name from the backup folder, or 'latest')\n"
"show     what ARCHIVE holds, member by member, and what it records;\n"
"         it is checked on the way, nothing is written\n"
"list     the archives, newest first (--verify checks each one)\n"
"prune    remove all but the N newest archives and those younger than\n"
"         D days; never the newest that verifies\n"
"doctor   check what a backup would use, one line each; exit 0 when a\n"
"         backup would succeed; change nothing\n"
"\n"
"Options (before or after the command):\n"
"  --config FILE           settings file (default " CONFIG_FILE ")\n"
"  --app-dir DIR           Polarity install root (default /app)\n"
"  --env-file FILE         settings file of Polarity (default APP/.env)\n"
"  --backup-dir DIR        where archives go (default APP/backups)\n"
"  --integrations-dir DIR  installed integrations (default APP/integrations)\n"
"  --pg-bindir DIR         take the PostgreSQL client programs from DIR\n"
"  --db-container NAME|auto|none\n"
"                          run the PostgreSQL client programs in the\n"
"                          container NAME (docker exec), here (none), or\n"
"                          in the container of POLARITY_DB_HOST when that\n"
"                          name resolves only there (auto, the default)\n"
"  --docker CMD            the docker command (default docker; podman)\n"
"  --compressor CMD        gzip-compatible compressor and its options\n"
"                          (default pigz if installed, else gzip; the\n"
"                          members other than the data dump igzip -3\n"
"                          if installed, unless CMD or N is given)\n"
"  --compress-level N      1 (fastest) to 9 (smallest), default 5\n"
"  --nice                  lower the CPU and I/O priority of the backup\n"
"  --status-file FILE      write the outcome of each backup there, for\n"
"                          node_exporter's textfile collector\n"
"  --hook COMMAND          after a backup, run COMMAND (a word {} is the\n"
"                          archive's path; without one it comes last)\n"
"  --keep N, --keep-days D retention, for backup and prune\n"
"  -q, --quiet             only errors and warnings\n"
"  -v, --verbose           more detail\n"
"  --help, --version\n"
"\n"
"Exit status: 0 success, 1 failure, 2 usage error, 3 another run holds\n"
"the lock, 4 the archive is damaged or not a backup, 128+N stopped by\n"
"signal N.\n");
}

/* Each command's own help: what it does, its options, an example. */
static const struct {
	const char *name, *text;
} command_help[] = {
	{ "backup",
"usage: polarity [OPTIONS] backup [--keep N] [--keep-days D]\n"
"\n"
"Writes the database, the .env file and the integrations into\n"
"BACKUP_DIR/polarity-server-backup-YYYYMMDDhhmmss.tgz and prints its path.\n"
"\n"
"  --keep N        then keep only the N newest archives\n"
"  --keep-days D   and those younger than D days\n"
"\n"
"Example:\n"
"  cd /app && bin/polarity backup --keep 14\n" },
	{ "restore",
"usage: polarity [OPTIONS] restore [--yes] [--restart] [--dry-run] "
"[--only PART]... [--whole-env] [--drop-first] [--keep-row-order] "
"ARCHIVE\n"
"\n"
"Puts the database, the integrations and the .env's database lines back\n"
"from ARCHIVE (a path, a name from the backup folder, or 'latest'),\n"
"keeping what they replace.\n"
"\n"
"  --yes         do not ask (required when not at a terminal)\n"
"  --restart     then run ./down.sh and ./up.sh in the app folder\n"
"  --dry-run     check the archive, the targets and the server, say what\n"
"                would be replaced; change nothing\n"
"  --only PART   restore only PART: database, integrations or env (its\n"
"                database lines); give it twice for two parts\n"
"  --whole-env   put the archive's whole .env in place (a new server\n"
"                wants it), not only its database lines\n"
"  --drop-first  drop the current database once everything is checked,\n"
"                then load (as the original command did): for a server\n"
"                without room for two databases; it cannot be undone\n"
"  --keep-row-order\n"
"                load each table's rows through one session, in the\n"
"                archive's order (else a table past 4 MB loads through\n"
"                two at once: the same rows, faster, in another order\n"
"                on disk; in container mode, only on four cores or\n"
"                more)\n"
"\n"
"Example:\n"
"  bin/polarity restore --dry-run latest\n" },
	{ "verify",
"usage: polarity [OPTIONS] verify ARCHIVE\n"
"\n"
"Checks ARCHIVE (a path, a name from the backup folder, or 'latest') in\n"
"full and changes nothing: exit 0 when it checks out, 4 when it is\n"
"damaged or not a backup.\n"
"\n"
"Example:\n"
"  bin/polarity verify polarity-server-backup-20261126000000.tgz\n" },
	{ "undo",
"usage: polarity [OPTIONS] undo [--yes]\n"
"\n"
"Goes back to the state before the most recent restore: the database,\n"
"integrations and .env settings it replaced come back under their names,\n"
"and what it had put in place is kept as NAME_undone_STAMP,\n"
"integrations.undone-STAMP and .env.undone-STAMP.  It also brings a\n"
"restore that was cut short (a kill, a power cut) back to one whole\n"
"state.  With nothing to undo it says so and exits 1.\n"
"\n"
"  --yes   do not ask (required when not at a terminal)\n"
"\n"
"Example:\n"
"  bin/polarity undo && cd /app && ./down.sh && ./up.sh\n" },
	{ "cleanup",
"usage: polarity [OPTIONS] cleanup [--yes] [--dry-run]\n"
"\n"
"Removes what restores and undos kept (databases NAME_before_restore_*\n"
"and NAME_undone_*, integrations.before-restore-*, .env.undone-*, ...),\n"
"found by those names beside the live ones, which it never touches.\n"
"After it, the most recent restore can no longer be undone.\n"
"\n"
"  --yes       do not ask (required when not at a terminal)\n"
"  --dry-run   only list what would be removed\n"
"\n"
"Example:\n"
"  bin/polarity cleanup --dry-run\n" },
	{ "show",
"usage: polarity [OPTIONS] show ARCHIVE\n"
"\n"
"Lists what ARCHIVE (a path, a name from the backup folder, or 'latest')\n"
"holds, one member a line (kind, mode, size, name), then what it records:\n"
"its format, date, host, database and versions.  The archive is checked\n"
"in full on the way and nothing is written: exit 4 when it is damaged.\n"
"\n"
"Example:\n"
"  bin/polarity show latest | less\n" },
	{ "list",
"usage: polarity [OPTIONS] list [--verify] [--json]\n"
"\n"
"Lists the archives of the backup folder, newest first.\n"
"\n"
"  --verify   check each one\n"
"  --json     as a JSON array\n"
"\n"
"Example:\n"
"  bin/polarity list --verify\n" },
	{ "prune",
"usage: polarity [OPTIONS] prune [--keep N] [--keep-days D] [--dry-run]\n"
"\n"
"Removes all but the N newest archives and those younger than D days;\n"
"never the newest one that verifies.\n"
"\n"
"  --keep N, --keep-days D   what to keep\n"
"  --dry-run                 only say what would go\n"
"\n"
"Example:\n"
"  bin/polarity prune --keep 14 --dry-run\n" },
	{ "doctor",
"usage: polarity [OPTIONS] doctor [--json]\n"
"\n"
"Checks what a backup would use, one line each, and changes nothing:\n"
"exit 0 when a backup would succeed, else 1 and the first problem.\n"
"\n"
"  --json   as one JSON object\n"
"\n"
"Example:\n"
"  bin/polarity doctor\n" },
};

/* Prints the help of command NAME; returns 0, or -1 when there is no
 * such command. */
static int
help_command(const char *name)
{
	for (size_t i = 0; i < sizeof command_help / sizeof *command_help; i++)
		if (strcmp(name, command_help[i].name) == 0) {
			fputs(command_help[i].text, stdout);
			fputs("\nOptions before or after the command: see "
			    "'polarity --help'.\n", stdout);
			return 0;
		}
	return -1;
}

static void
on_signal(int sig)
{
	io_note_signal(sig);
	spawn_kill_all(SIGTERM);
}

static void
setup_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked read or write must return, so the work
	 * unwinds and cleans up. */
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* A child that dies shows as EPIPE on our write and as its own exit
	 * status; the signal would only kill us before we can say so. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* A file size limit shows as EFBIG on the write or truncation that
	 * reaches it, which we report, rather than as a kill. */
	sigaction(SIGXFSZ, &sa, NULL);
}

/* cron and some daemons start us with 0, 1 or 2 closed; a file we open
 * must never land there and receive a child's output by accident. */
static void
sane_fds(void)
{
	int fd;

	do
		fd = open("/dev/null", O_RDWR);
	while (fd >= 0 && fd <= 2);
	if (fd > 2)
		close(fd);
}

static int
run_doctor(const struct config *c, int json)
{
	struct doctor d;
	int failed = doctor_run(c, &d);

	if (json)
		doctor_json(stdout, &d);
	else
		doctor_print(stdout, &d);
	if (fflush(stdout) != 0) {
		log_error("cannot write the report: %s", strerror(errno));
		return EXIT_FAIL;
	}
	return failed ? EXIT_FAIL : EXIT_OK;
}

/* The seconds since START (CLOCK_MONOTONIC). */
static double
since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) +
	    (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static int
run_backup(const struct config *c)
{
	char path[PATH_MAX], err[2048];
	struct timespec start;
	struct stat st;

	clock_gettime(CLOCK_MONOTONIC, &start);
	switch (backup_run(c, path, sizeof path, err, sizeof err)) {
	case BACKUP_OK:
		/* The line a nightly run leaves in syslog: what, how big,
		 * how long. */
		log_step("backup complete: '%s', %lld bytes, in %.1f s%s%s",
		    path, stat(path, &st) == 0 ? (long long)st.st_size : -1LL,
		    since(&start), err[0] ? "; " : "", err);
		printf("%s\n", path);
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
	case BACKUP_AFTER_FAILED:
		log_error("the backup is written, but %s", err);
		printf("%s\n", path);
		fflush(stdout);
		return EXIT_FAIL;
	case BACKUP_BUSY:
		log_error("%s", err);
		return EXIT_BUSY;
	case BACKUP_INTERRUPTED:
		log_error("backup stopped by signal %d; no archive was "
		    "written", (int)io_stop_signal);
		return 128 + io_stop_signal;
	case BACKUP_FAILED:
	default:
		log_error("backup failed: %s", err[0] ? err : "unknown error");
		return EXIT_FAIL;
	}
}

/* The archive ARG names: "latest" (the newest in the backup folder that
 * checks out), a bare name of one in the backup folder, or a path.  The
 * path goes to OUT (LEN bytes).  Returns 0, or -1 having said why. */
static int
resolve_archive(const struct config *c, const char *arg, char *out,
    size_t len)
{
	struct catalog_entry *v;
	char err[2048];
	size_t n;
	time_t when;

	if (strcmp(arg, "latest") == 0) {
		if (catalog_scan(c->backup_dir, &v, &n) < 0) {
			log_error("cannot list '%s': %s", c->backup_dir,
			    strerror(errno));
			return -1;
		}
		for (size_t i = 0; i < n && !io_stop_signal; i++) {
			struct unpacked u;
			snprintf(out, len, "%s/%s", c->backup_dir, v[i].name);
			if (check_archive(c, out, &u, err, sizeof err) == 0) {
				free(v);
				log_step("latest: '%s'", out);
				return 0;
			}
			log_warn("passing over '%s': %s", out, err);
		}
		free(v);
		log_error("no archive in '%s' checks out, so there is no "
		    "'latest'", c->backup_dir);
		return -1;
	}
	/* A name as 'list' shows it, from anywhere. */
	if (strchr(arg, '/') == NULL && access(arg, F_OK) < 0 &&
	    format_parse_name(arg, &when)) {
		snprintf(out, len, "%s/%s", c->backup_dir, arg);
		return 0;
	}
	snprintf(out, len, "%s", arg);
	return 0;
}

static int
run_verify(const struct config *c, const char *path)
{
	struct unpacked u;
	char err[2048];

	log_step("checking '%s'", path);
	if (check_archive(c, path, &u, err, sizeof err) < 0) {
		if (io_stop_signal)
			return 128 + io_stop_signal;
		/* Messages that name the archive need no second name. */
		int named = err[0] == '\'' &&
		    strncmp(err + 1, path, strlen(path)) == 0;
		if (!u.damaged) {
			log_error("%s%s%s%s", named ? "" : "cannot check '",
			    named ? "" : path, named ? "" : "': ", err);
			return EXIT_FAIL;
		}
		log_error("%s%s%s%s", named ? "" : "'", named ? "" : path,
		    named ? "" : "' does not check out: ", err);
		return EXIT_BAD_ARCHIVE;
	}
	if (u.legacy) {
		char dumps[2 * TAR_NAME_MAX + 200];
		legacy_describe(&u.db, dumps, sizeof dumps);
		printf("%s: ok: a legacy archive, written by the original "
		    "backup utility%s%s; no manifest, so no checksums of its "
		    "members (gzip's CRC and the tar structure were checked); "
		    "database from %s (PostgreSQL %s), %s, %lu files, %lu "
		    "folders, %lu links, %llu bytes in files", path,
		    u.h.created[0] ? ", created " : "", u.h.created, dumps,
		    u.h.server_version[0] ? u.h.server_version : "unknown",
		    u.no_integrations ? ".env, no integrations folder" :
		    ".env and integrations", u.files, u.dirs, u.links,
		    (unsigned long long)u.bytes);
		if (u.others)
			printf(", %lu other members, which a restore leaves "
			    "alone", u.others);
		putchar('\n');
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
	}
	printf("%s: ok: format %d, created %s, database '%s' (PostgreSQL "
	    "%s), %lu files, %lu folders, %lu links, %llu bytes in files\n",
	    path,
	    u.format, u.h.created, u.h.database, u.h.server_version, u.files,
	    u.dirs, u.links, (unsigned long long)u.bytes);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

/* One line of show: a member. */
static void
show_member(void *arg, const struct unpack_entry *e)
{
	char name[4 * TAR_NAME_MAX], target[4 * TAR_NAME_MAX];

	(void)arg;
	if (format_escape(e->name, name, sizeof name) < 0)
		snprintf(name, sizeof name, "(a name too long to show)");
	if (e->target && format_escape(e->target, target,
	    sizeof target) < 0)
		snprintf(target, sizeof target, "(too long to show)");
	if (e->kind == 'f')
		printf("%-4c %04o %14llu  %s\n", e->kind, e->mode & 07777,
		    (unsigned long long)e->size, name);
	else
		printf("%-4c %04o %14s  %s%s%s\n", e->kind, e->mode & 07777, "-",
		    name, e->target ? " -> " : "", e->target ? target : "");
}

static int
run_show(const struct config *c, const char *path)
{
	struct unpacked u;
	char err[2048];
	int rc;

	printf("%-4s %-4s %14s  %s\n", "KIND", "MODE", "SIZE", "NAME");
	rc = check_list(c, path, show_member, NULL, &u, err, sizeof err);
	if (rc < 0) {
		fflush(stdout);
		if (io_stop_signal)
			return 128 + io_stop_signal;
		log_error("'%s' %s: %s", path, u.damaged ? "does not check out" :
		    "cannot be read", err);
		return u.damaged ? EXIT_BAD_ARCHIVE : EXIT_FAIL;
	}
	printf("\narchive    %s\n", path);
	if (u.legacy) {
		char dumps[2 * TAR_NAME_MAX + 200];
		legacy_describe(&u.db, dumps, sizeof dumps);
		printf("kind       legacy: written by the original backup "
		    "utility; no manifest\n"
		    "created    %s\n"
		    "database   %s\n"
		    "versions   PostgreSQL %s, pg_dump %s\n"
		    "encoding   %s\n",
		    u.h.created[0] ? u.h.created : "(not recorded)", dumps,
		    u.h.server_version[0] ? u.h.server_version : "?",
		    u.h.pg_dump_version[0] ? u.h.pg_dump_version : "?",
		    u.h.encoding[0] ? u.h.encoding : "?");
	} else {
		printf("kind       polarity, format %d\n"
		    "created    %s\n"
		    "host       %s\n"
		    "tool       %s\n"
		    "database   '%s'%s%s%s\n"
		    "versions   PostgreSQL %s, pg_dump %s\n"
		    "encoding   %s%s%s%s%s\n"
		    "roles      %s\n",
		    u.format, u.h.created, u.h.hostname, u.h.tool,
		    u.h.database, u.h.db_owner[0] ? ", owner '" : "",
		    u.h.db_owner, u.h.db_owner[0] ? "'" : "",
		    u.h.server_version, u.h.pg_dump_version, u.h.encoding,
		    u.h.db_collate[0] ? ", collation " : "", u.h.db_collate,
		    u.h.db_ctype[0] ? ", ctype " : "", u.h.db_ctype,
		    u.has_roles ? "database/roles.sql" : "(none recorded)");
	}
	printf("holds      %lu files, %lu folders, %lu links, %llu bytes in "
	    "files%s\n", u.files, u.dirs, u.links, (unsigned long long)u.bytes,
	    u.legacy && u.no_integrations ? "; no integrations folder" : "");
	printf("checked    sound%s\n", u.legacy ? " (gzip's CRC and the tar "
	    "structure: there are no checksums to compare)" : " (every "
	    "member against the manifest's SHA-256)");
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

static int
run_restore(const struct config *c, const char *path,
    const struct restore_opts *o)
{
	static char report[16384];
	char err[2048];

	switch (restore_run(c, path, o, report, sizeof report, err,
	    sizeof err)) {
	case RESTORE_OK:
		fputs(report, stdout);
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
	case RESTORE_BUSY:
		log_error("%s", err);
		return EXIT_BUSY;
	case RESTORE_BAD_ARCHIVE:
		log_error("refusing '%s': %s; nothing was changed", path, err);
		return EXIT_BAD_ARCHIVE;
	case RESTORE_DECLINED:
		log_error("%s", err);
		return isatty(STDIN_FILENO) ? EXIT_FAIL : EXIT_USAGE;
	case RESTORE_INTERRUPTED:
		log_error("restore stopped by signal %d; the server is as it "
		    "was", (int)io_stop_signal);
		return 128 + io_stop_signal;
	case RESTORE_RESTART_FAILED:
		fputs(report, stdout);
		log_error("the restore is complete, but restarting failed: %s",
		    err);
		return EXIT_FAIL;
	case RESTORE_FAILED_DROPPED:
		fputs(report, stdout);
		log_error("restore failed: %s; the previous database was "
		    "dropped (--drop-first), so there is none now; the "
		    "integrations and settings are as they were: restore again",
		    err);
		return EXIT_FAIL;
	case RESTORE_FAILED:
	default:
		fputs(report, stdout);
		log_error("restore failed: %s; the previous database, "
		    "integrations and settings are in place", err);
		return EXIT_FAIL;
	}
}

/* The moment a manifest's "created" (2026-11-26T00:00:00Z) names; 0
 * when it names none. */
static time_t
utc_time(const char *text)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof tm);
	end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return end && *end == '\0' ? timegm(&tm) : 0;
}

static int
run_undo(const struct config *c, int yes)
{
	char err[2048];

	switch (undo_run(c, yes, stdout, err, sizeof err)) {
	case UNDO_OK:
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
	case UNDO_BUSY:
		log_error("%s", err);
		return EXIT_BUSY;
	case UNDO_DECLINED:
		log_error("%s", err);
		return isatty(STDIN_FILENO) ? EXIT_FAIL : EXIT_USAGE;
	case UNDO_NOTHING:
		log_error("%s", err);
		return EXIT_FAIL;
	case UNDO_FAILED:
	default:
		fflush(stdout);
		log_error("undo failed: %s; run 'polarity undo' again once that "
		    "is fixed: it takes up where it stopped", err);
		return EXIT_FAIL;
	}
}

static int
run_cleanup(const struct config *c, int yes, int dry_run)
{
	char err[2048];

	switch (cleanup_run(c, yes, dry_run, stdout, err, sizeof err)) {
	case CLEANUP_OK:
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
	case CLEANUP_BUSY:
		log_error("%s", err);
		return EXIT_BUSY;
	case CLEANUP_DECLINED:
		log_error("%s", err);
		return isatty(STDIN_FILENO) ? EXIT_FAIL : EXIT_USAGE;
	case CLEANUP_FAILED:
	default:
		fflush(stdout);
		log_error("cleanup: %s", err);
		return EXIT_FAIL;
	}
}

static int
run_list(const struct config *c, int verify, int json)
{
	struct catalog_entry *v;
	size_t n;
	char err[1024];
	int bad = 0;

	if (catalog_scan(c->backup_dir, &v, &n) < 0) {
		log_error("cannot list '%s': %s", c->backup_dir,
		    strerror(errno));
		return EXIT_FAIL;
	}
	for (size_t i = 0; verify && i < n && !io_stop_signal; i++) {
		struct unpacked u;
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/%s", c->backup_dir, v[i].name);
		log_detail("checking '%s'", path);
		v[i].verified = check_archive(c, path, &u, err,
		    sizeof err) == 0;
		if (v[i].verified) {
			v[i].kind = u.legacy;
			v[i].created = utc_time(u.h.created);
		}
		if (!v[i].verified) {
			snprintf(v[i].error, sizeof v[i].error, "%s", err);
			bad = 1;
		}
	}
	/* Whose archive each is, from its first member: cheap. */
	for (size_t i = 0; i < n && !io_stop_signal; i++) {
		char path[PATH_MAX];
		if (v[i].kind >= 0 || v[i].verified == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", c->backup_dir, v[i].name);
		int ours = check_kind(c, path, &v[i].created);
		v[i].kind = ours < 0 ? -1 : !ours;
	}
	if (json)
		catalog_json(stdout, c->backup_dir, v, n);
	else
		catalog_table(stdout, v, n);
	free(v);
	if (io_stop_signal)
		return 128 + io_stop_signal;
	if (fflush(stdout) != 0)
		return EXIT_FAIL;
	return bad ? EXIT_BAD_ARCHIVE : EXIT_OK;
}

static int
run_prune(const struct config *c, int dry_run)
{
	char err[1024];

	if (backup_prune(c, dry_run, stdout, err, sizeof err) < 0) {
		log_error("%s", err);
		return errno == EWOULDBLOCK ? EXIT_BUSY : errno == EINVAL ?
		    EXIT_USAGE : EXIT_FAIL;
	}
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

/* The options after a command: FLAGS names the ones it takes. */
enum { F_KEEP = 1, F_DRY = 2, F_VERIFY = 4, F_JSON = 8, F_YES = 16,
	F_RESTART = 32 };

struct cmd_opts {
	int dry_run, verify, json;
	struct restore_opts restore;
	const char *arg;	/* the one operand, if any */
};

static int
command_options(struct config *c, const char *cmd, int flags, int want_arg,
    int argc, char **argv, struct cmd_opts *co)
{
	char err[512];

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if ((flags & F_KEEP) && (!strcmp(a, "--keep") ||
		    !strcmp(a, "--keep-days"))) {
			if (i + 1 >= argc) {
				log_error("%s needs a value", a);
				return -1;
			}
			if (config_set(c, a + 2, argv[++i], err,
			    sizeof err) < 0) {
				log_error("%s", err);
				return -1;
			}
		} else if ((flags & F_DRY) && !strcmp(a, "--dry-run"))
			co->dry_run = 1;
		else if ((flags & F_VERIFY) && !strcmp(a, "--verify"))
			co->verify = 1;
		else if ((flags & F_JSON) && !strcmp(a, "--json"))
			co->json = 1;
		else if ((flags & F_YES) && !strcmp(a, "--yes"))
			co->restore.yes = 1;
		else if ((flags & F_RESTART) && !strcmp(a, "--restart"))
			co->restore.restart = 1;
		else if ((flags & F_RESTART) && !strcmp(a, "--whole-env"))
			co->restore.whole_env = 1;
		else if ((flags & F_RESTART) && !strcmp(a, "--drop-first"))
			co->restore.drop_first = 1;
		else if ((flags & F_RESTART) && !strcmp(a, "--keep-row-order"))
			co->restore.keep_row_order = 1;
		else if ((flags & F_RESTART) && (!strcmp(a, "--only") ||
		    !strncmp(a, "--only=", 7))) {
			const char *v = a[6] == '=' ? a + 7 : i + 1 < argc ?
			    argv[++i] : NULL;
			if (v && !strcmp(v, "database"))
				co->restore.only |= RESTORE_DATABASE;
			else if (v && !strcmp(v, "integrations"))
				co->restore.only |= RESTORE_INTEGRATIONS;
			else if (v && !strcmp(v, "env"))
				co->restore.only |= RESTORE_ENV;
			else {
				log_error("--only takes database, integrations "
				    "or env%s%s%s", v ? ", not '" : "",
				    v ? v : "", v ? "'" : "");
				return -1;
			}
		}
		else if (a[0] != '-' && want_arg && co->arg == NULL)
			co->arg = a;
		else {
			log_error("'%s' does not take '%s'; see 'polarity %s "
			    "--help'", cmd, a, cmd);
			return -1;
		}
	}
	if (want_arg && co->arg == NULL) {
		log_error("'%s' needs the archive", cmd);
		return -1;
	}
	return 0;
}

/* Returns a copy of ARGV (ARGC words, the command at CMD) in which the
 * options of OPTS that follow the command (with their values) stand
 * before it, after the ones already there; the command's own options
 * (--keep, --keep-days for the commands that take them, --yes ...) and
 * --help stay after it.  NULL when out of memory. */
static char **hoisted;		/* lives as long as the program */

static void
free_hoisted(void)
{
	free(hoisted);
}

static char **
hoist_options(int argc, char **argv, int cmd, const struct option *opts)
{
	char **out = hoisted = calloc((size_t)argc + 1, sizeof *out);
	int n = 0, takes_keep;

	if (out == NULL)
		return NULL;
	atexit(free_hoisted);
	takes_keep = !strcmp(argv[cmd], "backup") ||
	    !strcmp(argv[cmd], "prune");
	for (int i = 0; i < cmd; i++)
		out[n++] = argv[i];
	for (int i = cmd + 1; i < argc; i++) {
		const char *a = argv[i];
		const struct option *o = NULL;
		size_t len;
		if (!strcmp(a, "-q") || !strcmp(a, "-v")) {
			out[n++] = argv[i];
			argv[i] = NULL;
			continue;
		}
		if (strncmp(a, "--", 2) != 0)
			continue;
		len = strcspn(a + 2, "=");
		for (const struct option *p = opts; p->name; p++)
			if (strlen(p->name) == len &&
			    !strncmp(p->name, a + 2, len))
				o = p;
		if (o == NULL || !strcmp(o->name, "help") ||
		    (takes_keep && !strncmp(o->name, "keep", 4)))
			continue;
		out[n++] = argv[i];
		argv[i] = NULL;
		if (o->has_arg == required_argument && a[2 + len] != '=' &&
		    i + 1 < argc) {
			out[n++] = argv[i + 1];
			argv[++i] = NULL;
		}
	}
	for (int i = cmd; i < argc; i++)
		if (argv[i] != NULL)
			out[n++] = argv[i];
	out[n] = NULL;
	return out;
}

/* A command of the vendor's utility: when it is beside us (or in the
 * app folder's bin/) as polarity.vendor, it runs in our place with the
 * very arguments given (ARGV as it came), and its exit status is ours.
 * Returns only when there is none, or it cannot run. */
static void
hand_over(const struct config *c, char **argv)
{
	char path[2][PATH_MAX];
	const char *slash = strrchr(argv[0], '/');

	/* Beside the program as it was called, then in APP/bin. */
	if (slash != NULL)
		snprintf(path[0], sizeof path[0], "%.*s/polarity.vendor",
		    (int)(slash - argv[0]), argv[0]);
	else
		path[0][0] = '\0';
	snprintf(path[1], sizeof path[1], "%s/bin/polarity.vendor",
	    c->app_dir);
	for (int i = 0; i < 2; i++) {
		if (path[i][0] == '\0' || access(path[i], X_OK) < 0)
			continue;
		argv[0] = path[i];
		execv(path[i], argv);
		log_warn("cannot run the vendor's utility '%s': %s", path[i],
		    strerror(errno));
		return;
	}
}

int
main(int argc, char **argv)
{
	/* As given, for the vendor's utility (hoisting reorders argv). */
	char **given = argv;
	enum { O_CONFIG = 256, O_HELP, O_VERSION, O_NICE, O_SETTING };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, O_CONFIG },
		{ "app-dir", required_argument, NULL, O_SETTING },
		{ "env-file", required_argument, NULL, O_SETTING },
		{ "backup-dir", required_argument, NULL, O_SETTING },
		{ "integrations-dir", required_argument, NULL, O_SETTING },
		{ "pg-bindir", required_argument, NULL, O_SETTING },
		{ "db-container", required_argument, NULL, O_SETTING },
		{ "docker", required_argument, NULL, O_SETTING },
		{ "compressor", required_argument, NULL, O_SETTING },
		{ "compress-level", required_argument, NULL, O_SETTING },
		{ "status-file", required_argument, NULL, O_SETTING },
		{ "hook", required_argument, NULL, O_SETTING },
		{ "keep", required_argument, NULL, O_SETTING },
		{ "keep-days", required_argument, NULL, O_SETTING },
		{ "nice", no_argument, NULL, O_NICE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		const char *name;
		int flags, want_arg;
	} commands[] = {
		{ "backup", F_KEEP, 0 },
		{ "restore", F_YES | F_RESTART | F_DRY, 1 },
		{ "verify", 0, 1 },
		{ "list", F_VERIFY | F_JSON, 0 },
		{ "prune", F_KEEP | F_DRY, 0 },
		{ "doctor", F_JSON, 0 },
		{ "show", 0, 1 },
		{ "undo", F_YES, 0 },
		{ "cleanup", F_YES | F_DRY, 0 },
	};
	struct config cfg;
	struct cmd_opts co;
	const char *config_file = CONFIG_FILE, *cmd;
	char archive[PATH_MAX];
	char err[1024];
	int o, idx, explicit_config = 0, c, quiet = 0;

	sane_fds();
	/* Archives and temporary files hold secrets: private from birth. */
	umask(077);
	opterr = 0;
	/* Options are taken before or after the command: those after it
	 * are moved before it (after the ones there: the last one wins). */
	while (getopt_long(argc, argv, "+qvh", opts, &idx) != -1)
		;
	if (optind < argc && (argv = hoist_options(argc, argv, optind,
	    opts)) == NULL) {
		log_error("out of memory");
		return EXIT_FAIL;
	}
	optind = 0;
	/* First pass: only --config, --help and --version, so that the
	 * file is read before the other options override it. */
	while ((o = getopt_long(argc, argv, "+qvh", opts, &idx)) != -1) {
		if (o == O_CONFIG) {
			config_file = optarg;
			explicit_config = 1;
		} else if (o == O_HELP || o == 'h') {
			usage(stdout);
			return EXIT_OK;
		} else if (o == O_VERSION) {
			printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return EXIT_OK;
		} else if (o == '?' || o == ':') {
			if (optopt && optopt < 256)
				log_error("option '-%c' is not known or lacks "
				    "its value; see 'polarity --help'", optopt);
			else
				log_error("option '%s' is not known or lacks "
				    "its value; see 'polarity --help'",
				    argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	config_init(&cfg);
	if (config_read_file(&cfg, config_file, explicit_config, err,
	    sizeof err) < 0) {
		log_error("%s", err);
		return EXIT_USAGE;
	}
	optind = 0;
	while ((o = getopt_long(argc, argv, "+qvh", opts, &idx)) != -1) {
		switch (o) {
		case O_SETTING:
			if (config_set(&cfg, opts[idx].name, optarg, err,
			    sizeof err) < 0) {
				log_error("--%s", err);
				return EXIT_USAGE;
			}
			break;
		case O_NICE:
			cfg.nice = 1;
			break;
		case 'q':
			log_set_level(LOG_QUIET);
			quiet = 1;
			break;
		case 'v':
			log_set_level(LOG_VERBOSE);
			break;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind++];
	/* "polarity help [COMMAND]". */
	if (strcmp(cmd, "help") == 0) {
		if (optind >= argc) {
			usage(stdout);
			return EXIT_OK;
		}
		if (help_command(argv[optind]) < 0) {
			log_error("no command '%s'; see 'polarity --help'",
			    argv[optind]);
			return EXIT_USAGE;
		}
		return EXIT_OK;
	}
	for (c = 0; c < (int)(sizeof commands / sizeof *commands); c++)
		if (strcmp(cmd, commands[c].name) == 0)
			break;
	if (c == (int)(sizeof commands / sizeof *commands)) {
		hand_over(&cfg, given);
		log_error("unknown command '%s'; see 'polarity --help'", cmd);
		return EXIT_USAGE;
	}
	memset(&co, 0, sizeof co);
	for (int i = optind; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return help_command(cmd) < 0 ? EXIT_USAGE : EXIT_OK;
	if (command_options(&cfg, cmd, commands[c].flags, commands[c].want_arg,
	    argc - optind, argv + optind, &co) < 0)
		return EXIT_USAGE;
	if (config_resolve(&cfg, err, sizeof err) < 0) {
		log_error("%s", err);
		return EXIT_USAGE;
	}
	/* What changes the server always leaves a trace. */
	log_open(cmd, c == 1 || c == 7 || c == 8);
	/* A commit cut short is said first thing; restore, undo and cleanup
	 * read the record themselves and say it in their own words. */
	if (c != 1 && c != 7 && c != 8 && undo_pending(&cfg, err, sizeof err))
		log_warn("%s", err);
	progress_init(!quiet);
	setup_signals();
	switch (c) {
	case 0:
		return run_backup(&cfg);
	case 1:
		co.restore.dry_run = co.dry_run;
		if (resolve_archive(&cfg, co.arg, archive, sizeof archive) < 0)
			return io_stop_signal ? 128 + io_stop_signal : EXIT_FAIL;
		return run_restore(&cfg, archive, &co.restore);
	case 2:
		if (resolve_archive(&cfg, co.arg, archive, sizeof archive) < 0)
			return io_stop_signal ? 128 + io_stop_signal : EXIT_FAIL;
		return run_verify(&cfg, archive);
	case 3:
		return run_list(&cfg, co.verify, co.json);
	case 4:
		return run_prune(&cfg, co.dry_run);
	case 6:
		if (resolve_archive(&cfg, co.arg, archive, sizeof archive) < 0)
			return io_stop_signal ? 128 + io_stop_signal : EXIT_FAIL;
		return run_show(&cfg, archive);
	case 7:
		return run_undo(&cfg, co.restore.yes);
	case 8:
		return run_cleanup(&cfg, co.restore.yes, co.dry_run);
	default:
		return run_doctor(&cfg, co.json);
	}
}
