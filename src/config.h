/* config.h - where things are, and how to reach the database.
 *
 * The paths come from the options, with defaults derived from the app
 * directory.  The database settings come from the .env file.
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
	char compressor[PATH_MAX];	/* "" means pigz if found, else gzip */
	int compress_level;		/* 1..9 */
};

/* The database settings of a .env file.  The strings belong to the
 * struct dotenv they were read from. */
struct db {
	const char *host;
	const char *port;
	const char *user;
	const char *password;
	const char *database;
	const char *sslmode;	/* PGSSLMODE, or NULL */
};

/* The names of the .env variables that describe the database, NULL
 * terminated. */
extern const char *const config_db_keys[];

/* Fills C with the defaults for the app directory /app. */
void config_init(struct config *c);

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

#endif
