/* config.h - where things are, how to work, and how to reach the database.
 *
 * Settings come from three places, each over the one before: the
 * defaults, the configuration file (INI, read with libinih), and the
 * command line.  Every long option has a key of the same name in the
 * file, dashes written as underscores, in one of three sections:
 *
 *   [paths]      app_dir env_file backup_dir integrations_dir pg_bindir
 *   [retention]  keep keep_days
 *   [backup]     compressor compress_level nice status_file hook
 *   [database]   db_container docker
 *
 * Paths left empty are derived from the app directory.  The database
 * settings come from the .env file.
 */
#ifndef POLARITY_CONFIG_H
#define POLARITY_CONFIG_H

#include <limits.h>
#include <stddef.h>

#include "dotenv.h"

struct config {
	char app_dir[PATH_MAX];
	char env_file[PATH_MAX];	/* "" until resolved: APP/.env */
	char backup_dir[PATH_MAX];	/* "" until resolved: APP/backups */
	char integrations_dir[PATH_MAX];	/* APP/integrations */
	char pg_bindir[PATH_MAX];	/* "" means PATH */
	char compressor[PATH_MAX];	/* command line; "": pigz, else gzip */
	int compress_level;		/* 1..9; 0: not given (5) */
	int keep;			/* keep the N newest archives; 0: unset */
	int keep_days;			/* keep those younger; 0: unset */
	int nice;			/* lower CPU and I/O priority */
	char status_file[PATH_MAX];	/* node_exporter textfile; "": none */
	char hook[4096];		/* command run after a backup ("{}" is
					 * the archive's path); "": none */
	char db_container[256];		/* where the server runs: a container
					 * name, "auto" or "none" */
	char docker[PATH_MAX];		/* the docker command ("podman") */
};

/* The configuration file read when --config does not name one. */
#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define CONFIG_FILE SYSCONFDIR "/polarity-backup.conf"

/* The database settings of a .env file.  The strings belong to the
 * struct dotenv they were read from. */
struct db {
	const char *host;
	const char *port;
	const char *user;
	const char *password;
	const char *database;
	const char *sslmode;	/* PGSSLMODE, or NULL */
	const char *container;	/* the container whose client programs
				 * reach it (docker.h), or NULL: ours */
};

/* The names of the .env variables that describe the database, NULL
 * terminated: the five POLARITY_DB_ ones, then PGSSLMODE.  A restore
 * takes exactly these from the archive's .env. */
extern const char *const config_db_keys[];

/* Fills C with the defaults for the app directory /app. */
void config_init(struct config *c);

/* Sets the setting KEY (an option's name; '-' and '_' alike) to VALUE.
 * Returns 0; or -1 with ERR saying what is wrong (an unknown key, a bad
 * value). */
int config_set(struct config *c, const char *key, const char *value,
    char *err, size_t len);

/* Reads the configuration file PATH into C.  A missing file is no error
 * unless REQUIRED.  Returns 0, or -1 with ERR naming the file, the line
 * and the key of an unknown section or key or a bad value. */
int config_read_file(struct config *c, const char *path, int required,
    char *err, size_t len);

/* Sets the paths left empty from the app directory, and makes every path
 * absolute against the current directory.  Returns 0, or -1 with a
 * message in ERR (LEN bytes). */
int config_resolve(struct config *c, char *err, size_t len);

/* Takes the database settings from ENV, read from the file NAME.  Returns
 * 0, or -1 with a message in ERR naming the file and the first missing or
 * empty variable. */
int config_db(struct db *db, const struct dotenv *env, const char *name,
    char *err, size_t len);

/* The path of the program PROG: in the PostgreSQL bin directory when one
 * is set, else PROG itself for a PATH search.  Written to OUT. */
void config_pg_program(const struct config *c, const char *prog, char *out,
    size_t len);

/* The gzip-compatible program to use: the one configured, else pigz when
 * it is in the PATH of ENVP (same format, all cores), else gzip.  Written
 * to OUT. */
void config_compressor(const struct config *c, char *const envp[], char *out,
    size_t len);

/* The compressor of the data dump when DATA, else of the archive's other
 * members (the .env, the schema, the integrations, the post-data dump,
 * the manifest) into OUT, and its level into *LEVEL.  The data dump's is
 * config_compressor() at the level given (default 5).  The others' is
 * igzip at level 3 when it is installed and neither a compressor nor a
 * level was given: a tenth of pigz -5's CPU on a tree of integrations,
 * for 4% more bytes.  Otherwise the data dump's. */
void config_compressor_for(const struct config *c, char *const envp[],
    int data, char *out, size_t len, int *level);

/* The command line that decompresses (with -dc added): the compressor
 * given, else igzip, else as config_compressor(). */
void config_decompressor(const struct config *c, char *const envp[],
    char *out, size_t len);

#endif
