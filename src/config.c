/* config.c - paths and database settings. */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "spawn.h"

const char *const config_db_keys[] = {
	"POLARITY_DB_HOST",
	"POLARITY_DB_PORT",
	"POLARITY_DB_USER",
	"POLARITY_DB_PASSWORD",
	"POLARITY_DB_DATABASE",
	NULL
};

void
config_init(struct config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->app_dir, sizeof c->app_dir, "/app");
	c->compress_level = 6;
}

/* Makes PATH (LEN bytes of room) absolute against the current directory,
 * so that messages and the archive path printed at the end are too. */
static int
absolute(char *path, size_t len, char *err, size_t errlen)
{
	char cwd[PATH_MAX], tmp[PATH_MAX];

	if (path[0] == '/')
		return 0;
	if (getcwd(cwd, sizeof cwd) == NULL) {
		snprintf(err, errlen, "cannot find the current directory: %s",
		    strerror(errno));
		return -1;
	}
	if ((size_t)snprintf(tmp, sizeof tmp, "%s/%s", cwd, path) >= len) {
		snprintf(err, errlen, "path too long: '%s'", path);
		return -1;
	}
	memcpy(path, tmp, strlen(tmp) + 1);
	return 0;
}

static int
derive(char *path, size_t len, const char *app, const char *leaf, char *err,
    size_t errlen)
{
	if (path[0] != '\0')
		return 0;
	if ((size_t)snprintf(path, len, "%s/%s", app, leaf) >= len) {
		snprintf(err, errlen, "path too long: '%s/%s'", app, leaf);
		return -1;
	}
	return 0;
}

int
config_resolve(struct config *c, char *err, size_t len)
{
	size_t n;

	if (c->app_dir[0] == '\0') {
		snprintf(err, len, "the app directory must not be empty");
		return -1;
	}
	if (absolute(c->app_dir, sizeof c->app_dir, err, len) < 0)
		return -1;
	/* "/app/" and "/app" are one place; keep messages tidy. */
	n = strlen(c->app_dir);
	while (n > 1 && c->app_dir[n - 1] == '/')
		c->app_dir[--n] = '\0';
	if (derive(c->env_file, sizeof c->env_file, c->app_dir, ".env", err,
	    len) < 0 ||
	    derive(c->backup_dir, sizeof c->backup_dir, c->app_dir, "backups",
	    err, len) < 0 ||
	    derive(c->integrations_dir, sizeof c->integrations_dir,
	    c->app_dir, "integrations", err, len) < 0)
		return -1;
	if (absolute(c->env_file, sizeof c->env_file, err, len) < 0 ||
	    absolute(c->backup_dir, sizeof c->backup_dir, err, len) < 0 ||
	    absolute(c->integrations_dir, sizeof c->integrations_dir, err,
	    len) < 0)
		return -1;
	if (c->pg_bindir[0] != '\0' &&
	    absolute(c->pg_bindir, sizeof c->pg_bindir, err, len) < 0)
		return -1;
	return 0;
}

int
config_db(struct db *db, const struct dotenv *env, const char *name,
    char *err, size_t len)
{
	const char **slot[] = {
		&db->host, &db->port, &db->user, &db->password, &db->database,
	};

	memset(db, 0, sizeof *db);
	for (size_t i = 0; config_db_keys[i] != NULL; i++) {
		const char *v = dotenv_get(env, config_db_keys[i]);
		if (v == NULL) {
			snprintf(err, len, "'%s' does not set %s", name,
			    config_db_keys[i]);
			return -1;
		}
		/* An empty password is a real (if poor) choice; an empty
		 * host, port, user or database is a broken file. */
		if (v[0] == '\0' && i != 3) {
			snprintf(err, len, "'%s' sets %s to an empty value",
			    name, config_db_keys[i]);
			return -1;
		}
		*slot[i] = v;
	}
	db->sslmode = dotenv_get(env, "PGSSLMODE");
	return 0;
}

void
config_pg_program(const struct config *c, const char *prog, char *out,
    size_t len)
{
	if (c->pg_bindir[0] != '\0')
		snprintf(out, len, "%s/%s", c->pg_bindir, prog);
	else
		snprintf(out, len, "%s", prog);
}

void
config_compressor(const struct config *c, char *const envp[], char *out,
    size_t len)
{
	char found[PATH_MAX];

	if (c->compressor[0] != '\0')
		snprintf(out, len, "%s", c->compressor);
	else if (spawn_find("pigz", envp, found, sizeof found) == 0)
		snprintf(out, len, "pigz");
	else
		snprintf(out, len, "gzip");
}
