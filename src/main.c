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
#include <unistd.h>

#include "backup.h"
#include "restore.h"
#include "config.h"
#include "io.h"
#include "log.h"
#include "spawn.h"

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
"usage: polarity [OPTIONS] backup\n"
"       polarity [OPTIONS] restore [--yes] [--restart] ARCHIVE\n"
"       polarity [OPTIONS] verify ARCHIVE\n"
"\n"
"backup   write the database, .env file and integrations into\n"
"         BACKUP_DIR/polarity-server-backup-YYYYMMDDhhmmss.tgz\n"
"restore  put them back from ARCHIVE, keeping what they replace\n"
"         --yes      do not ask (required when not at a terminal)\n"
"         --restart  then run ./down.sh and ./up.sh in the app folder\n"
"verify   check ARCHIVE in full; change nothing\n"
"\n"
"Options (before the command):\n"
"  --app-dir DIR           Polarity install root (default /app)\n"
"  --env-file FILE         settings file (default APP/.env)\n"
"  --backup-dir DIR        where archives go (default APP/backups)\n"
"  --integrations-dir DIR  installed integrations (default APP/integrations)\n"
"  --pg-bindir DIR         take pg_dump, pg_dumpall and psql from DIR\n"
"  --compressor PROG       gzip-compatible compressor (default pigz if\n"
"                          installed, else gzip)\n"
"  --compress-level N      1 (fastest) to 9 (smallest), default 6\n"
"  -q, --quiet             only errors and warnings\n"
"  -v, --verbose           more detail\n"
"  --help                  show this help\n"
"  --version               show the version\n"
"\n"
"Exit status: 0 success, 1 failure, 2 usage error, 3 another run holds\n"
"the lock, 4 the archive is damaged or not a backup, 128+N stopped by\n"
"signal N.\n");
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
set_path(char *dst, size_t len, const char *opt, const char *val)
{
	if (val[0] == '\0' || strlen(val) >= len) {
		log_error("%s needs a path of 1 to %zu bytes", opt, len - 1);
		return -1;
	}
	memcpy(dst, val, strlen(val) + 1);
	return 0;
}

static int
run_backup(const struct config *c)
{
	char path[PATH_MAX], err[2048];

	switch (backup_run(c, path, sizeof path, err, sizeof err)) {
	case BACKUP_OK:
		log_step("backup complete");
		printf("%s\n", path);
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
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

static int
run_verify(const struct config *c, const char *path)
{
	struct unpacked u;
	char err[2048];

	log_step("checking '%s'", path);
	if (restore_verify(c, path, &u, err, sizeof err) < 0) {
		if (io_stop_signal)
			return 128 + io_stop_signal;
		log_error("'%s' does not check out: %s", path, err);
		return EXIT_BAD_ARCHIVE;
	}
	printf("%s: ok: format %d, created %s, database '%s' (PostgreSQL "
	    "%s), %lu files, %lu folders, %lu links, %llu bytes\n", path,
	    u.format, u.created, u.database, u.server_version, u.files,
	    u.dirs, u.links, (unsigned long long)u.bytes);
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
	case RESTORE_FAILED:
	default:
		fputs(report, stdout);
		log_error("restore failed: %s; the previous database, "
		    "integrations and settings are in place", err);
		return EXIT_FAIL;
	}
}

int
main(int argc, char **argv)
{
	enum { O_APP = 256, O_ENV, O_BACKUP, O_INTEG, O_PGBIN, O_ZIP,
		O_LEVEL, O_HELP, O_VERSION };
	static const struct option opts[] = {
		{ "app-dir", required_argument, NULL, O_APP },
		{ "env-file", required_argument, NULL, O_ENV },
		{ "backup-dir", required_argument, NULL, O_BACKUP },
		{ "integrations-dir", required_argument, NULL, O_INTEG },
		{ "pg-bindir", required_argument, NULL, O_PGBIN },
		{ "compressor", required_argument, NULL, O_ZIP },
		{ "compress-level", required_argument, NULL, O_LEVEL },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct config cfg;
	char err[1024];
	const char *cmd;
	int o, rc = 0;

	sane_fds();
	/* Archives and temporary files hold secrets: private from birth. */
	umask(077);
	config_init(&cfg);
	opterr = 0;
	while ((o = getopt_long(argc, argv, "+qv", opts, NULL)) != -1) {
		switch (o) {
		case O_APP:
			rc = set_path(cfg.app_dir, sizeof cfg.app_dir,
			    "--app-dir", optarg);
			break;
		case O_ENV:
			rc = set_path(cfg.env_file, sizeof cfg.env_file,
			    "--env-file", optarg);
			break;
		case O_BACKUP:
			rc = set_path(cfg.backup_dir, sizeof cfg.backup_dir,
			    "--backup-dir", optarg);
			break;
		case O_INTEG:
			rc = set_path(cfg.integrations_dir,
			    sizeof cfg.integrations_dir, "--integrations-dir",
			    optarg);
			break;
		case O_PGBIN:
			rc = set_path(cfg.pg_bindir, sizeof cfg.pg_bindir,
			    "--pg-bindir", optarg);
			break;
		case O_ZIP:
			rc = set_path(cfg.compressor, sizeof cfg.compressor,
			    "--compressor", optarg);
			break;
		case O_LEVEL:
			if (optarg[0] < '1' || optarg[0] > '9' ||
			    optarg[1] != '\0') {
				log_error("--compress-level takes 1 to 9, "
				    "not '%s'", optarg);
				rc = -1;
			} else
				cfg.compress_level = optarg[0] - '0';
			break;
		case 'q':
			log_set_level(LOG_QUIET);
			break;
		case 'v':
			log_set_level(LOG_VERBOSE);
			break;
		case O_HELP:
			usage(stdout);
			return EXIT_OK;
		case O_VERSION:
			printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return EXIT_OK;
		default:
			if (optopt)
				log_error("option '-%c' is not known or lacks "
				    "its value; see 'polarity --help'",
				    optopt);
			else
				log_error("option '%s' is not known or lacks "
				    "its value; see 'polarity --help'",
				    argv[optind - 1]);
			return EXIT_USAGE;
		}
		if (rc < 0)
			return EXIT_USAGE;
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind++];
	if (config_resolve(&cfg, err, sizeof err) < 0) {
		log_error("%s", err);
		return EXIT_USAGE;
	}
	setup_signals();
	if (strcmp(cmd, "backup") == 0) {
		if (optind < argc) {
			log_error("'backup' takes no arguments, not '%s'",
			    argv[optind]);
			return EXIT_USAGE;
		}
		return run_backup(&cfg);
	}
	if (strcmp(cmd, "verify") == 0) {
		if (argc - optind != 1) {
			log_error("'verify' takes one archive");
			return EXIT_USAGE;
		}
		return run_verify(&cfg, argv[optind]);
	}
	if (strcmp(cmd, "restore") == 0) {
		struct restore_opts ro = { 0, 0 };
		const char *archive = NULL;
		for (; optind < argc; optind++) {
			if (strcmp(argv[optind], "--yes") == 0)
				ro.yes = 1;
			else if (strcmp(argv[optind], "--restart") == 0)
				ro.restart = 1;
			else if (argv[optind][0] == '-' || archive) {
				log_error("'restore' takes [--yes] "
				    "[--restart] and one archive, not '%s'",
				    argv[optind]);
				return EXIT_USAGE;
			} else
				archive = argv[optind];
		}
		if (archive == NULL) {
			log_error("'restore' needs the archive to restore");
			return EXIT_USAGE;
		}
		return run_restore(&cfg, archive, &ro);
	}
	log_error("unknown command '%s'; see 'polarity --help'", cmd);
	return EXIT_USAGE;
}
