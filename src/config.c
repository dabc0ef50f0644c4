/* config.c - paths and database settings. */
#include "autoconf.h"

#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
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
	"PGSSLMODE",
	NULL
};

/* Where config_db() puts each of config_db_keys, and what it asks of
 * it: the first five must be set, and all but the password non-empty;
 * PGSSLMODE is optional. */
#define DB_REQUIRED 5
#define DB_PASSWORD 3

enum kind { PATH, INT_LEVEL, INT_POS, BOOL, TEXT };

static const struct key {
	const char *name;
	const char *section;
	enum kind kind;
	size_t off, size;
} keys[] = {
#define K(n, s, k, f) { n, s, k, offsetof(struct config, f), \
	sizeof(((struct config *)0)->f) }
	K("app_dir", "paths", PATH, app_dir),
	K("env_file", "paths", PATH, env_file),
	K("backup_dir", "paths", PATH, backup_dir),
	K("integrations_dir", "paths", PATH, integrations_dir),
	K("pg_bindir", "paths", PATH, pg_bindir),
	K("keep", "retention", INT_POS, keep),
	K("keep_days", "retention", INT_POS, keep_days),
	K("compressor", "backup", TEXT, compressor),
	K("compress_level", "backup", INT_LEVEL, compress_level),
	K("nice", "backup", BOOL, nice),
	K("status_file", "backup", PATH, status_file),
	K("hook", "backup", TEXT, hook),
	K("db_container", "database", TEXT, db_container),
	K("docker", "database", TEXT, docker),
#undef K
};

/* The key table entry for NAME, dashes read as underscores. */
static const struct key *
find_key(const char *name)
{
	char norm[64];
	size_t i;

	for (i = 0; name[i] && i + 1 < sizeof norm; i++)
		norm[i] = name[i] == '-' ? '_' : name[i];
	norm[i] = '\0';
	for (i = 0; i < sizeof keys / sizeof *keys; i++)
		if (strcmp(keys[i].name, norm) == 0)
			return &keys[i];
	return NULL;
}

/* Sets K to VALUE; messages call the setting SHOWN, as it was written. */
static int
set_key(struct config *c, const struct key *k, const char *shown,
    const char *value, char *err, size_t len)
{
	char *field = (char *)c + k->off, *end;
	long v;

	switch (k->kind) {
	case PATH:
	case TEXT:
		if ((k->kind == PATH && value[0] == '\0') ||
		    strlen(value) >= k->size) {
			snprintf(err, len, "%s needs a value of 1 to %zu bytes",
			    shown, k->size - 1);
			return -1;
		}
		memcpy(field, value, strlen(value) + 1);
		return 0;
	case INT_LEVEL:
	case INT_POS:
		errno = 0;
		v = strtol(value, &end, 10);
		if (errno || end == value || *end || v < 1 ||
		    (k->kind == INT_LEVEL && v > 9) || v > 1000000) {
			snprintf(err, len, "%s takes %s, not '%s'", shown,
			    k->kind == INT_LEVEL ? "1 to 9" :
			    "a whole number from 1", value);
			return -1;
		}
		*(int *)(void *)field = (int)v;
		return 0;
	case BOOL:
		if (!strcmp(value, "yes") || !strcmp(value, "true") ||
		    !strcmp(value, "on") || !strcmp(value, "1"))
			*(int *)(void *)field = 1;
		else if (!strcmp(value, "no") || !strcmp(value, "false") ||
		    !strcmp(value, "off") || !strcmp(value, "0"))
			*(int *)(void *)field = 0;
		else {
			snprintf(err, len, "%s takes yes or no, not '%s'",
			    shown, value);
			return -1;
		}
		return 0;
	}
	return -1;
}

int
config_set(struct config *c, const char *key, const char *value, char *err,
    size_t len)
{
	const struct key *k = find_key(key);

	if (k == NULL) {
		snprintf(err, len, "unknown setting '%s'", key);
		return -1;
	}
	return set_key(c, k, key, value, err, len);
}

struct file_state {
	struct config *c;
	FILE *f;
	const char *path;
	int lineno;
	char *err;
	size_t len;
	int failed;
};

/* An ini_reader that counts lines, for messages: this build of libinih
 * does not pass line numbers to the handler. */
static char *
read_line(char *str, int num, void *stream)
{
	struct file_state *st = stream;
	char *r = fgets(str, num, st->f);

	if (r != NULL)
		st->lineno++;
	return r;
}

static int
file_key(void *user, const char *section, const char *name,
    const char *value)
{
	struct file_state *st = user;
	const struct key *k;
	char why[512];

	if (st->failed)
		return 0;
	k = find_key(name);
	if (section[0] == '\0') {
		snprintf(st->err, st->len, "'%s' line %d: '%s' is outside a "
		    "section", st->path, st->lineno, name);
	} else if (k == NULL || strcmp(k->section, section) != 0 ||
	    strchr(name, '-')) {
		int known = 0;
		for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
			known |= strcmp(keys[i].section, section) == 0;
		if (!known)
			snprintf(st->err, st->len, "'%s' line %d: unknown "
			    "section [%s]", st->path, st->lineno, section);
		else
			snprintf(st->err, st->len, "'%s' line %d: unknown key "
			    "'%s' in [%s]", st->path, st->lineno, name,
			    section);
	} else if (set_key(st->c, k, name, value, why, sizeof why) < 0) {
		snprintf(st->err, st->len, "'%s' line %d: %s", st->path,
		    st->lineno, why);
	} else {
		return 1;
	}
	st->failed = 1;
	return 0;
}

int
config_read_file(struct config *c, const char *path, int required,
    char *err, size_t len)
{
	struct file_state st = { .c = c, .path = path, .err = err,
		.len = len };
	int rc;

	st.f = fopen(path, "re");
	if (st.f == NULL) {
		if (errno == ENOENT && !required)
			return 0;
		snprintf(err, len, "cannot read '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	rc = ini_parse_stream(read_line, &st, file_key, &st);
	fclose(st.f);
	if (st.failed)
		return -1;
	if (rc != 0) {
		snprintf(err, len, "'%s' line %d: not a 'key = value' line "
		    "or a [section]", path, rc > 0 ? rc : st.lineno);
		return -1;
	}
	return 0;
}

void
config_init(struct config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->app_dir, sizeof c->app_dir, "/app");
	snprintf(c->db_container, sizeof c->db_container, "auto");
	snprintf(c->docker, sizeof c->docker, "docker");
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
	if (c->db_container[0] == '\0') {
		snprintf(err, len, "db-container takes a container's name, "
		    "'auto' or 'none', not an empty value");
		return -1;
	}
	if (c->docker[0] == '\0') {
		snprintf(err, len, "docker takes a command, not an empty "
		    "value");
		return -1;
	}
	return 0;
}

int
config_db(struct db *db, const struct dotenv *env, const char *name,
    char *err, size_t len)
{
	const char **slot[] = {
		&db->host, &db->port, &db->user, &db->password, &db->database,
		&db->sslmode,
	};

	memset(db, 0, sizeof *db);
	for (size_t i = 0; config_db_keys[i] != NULL; i++) {
		const char *v = dotenv_get(env, config_db_keys[i]);
		if (i >= DB_REQUIRED) {
			*slot[i] = v;
			continue;
		}
		if (v == NULL) {
			snprintf(err, len, "'%s' does not set %s", name,
			    config_db_keys[i]);
			return -1;
		}
		/* An empty password is a real (if poor) choice; an empty
		 * host, port, user or database is a broken file. */
		if (v[0] == '\0' && i != DB_PASSWORD) {
			snprintf(err, len, "'%s' sets %s to an empty value",
			    name, config_db_keys[i]);
			return -1;
		}
		*slot[i] = v;
	}
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

void
config_compressor_for(const struct config *c, char *const envp[], int data,
    char *out, size_t len, int *level)
{
	char found[PATH_MAX];

	if (!data && c->compressor[0] == '\0' && c->compress_level == 0 &&
	    spawn_find("igzip", envp, found, sizeof found) == 0) {
		snprintf(out, len, "igzip");
		*level = 3;
		return;
	}
	config_compressor(c, envp, out, len);
	/* Measured (README, Performance): level 5 costs 43% less CPU than
	 * gzip's default 6 for 5% more bytes on a Polarity database. */
	*level = c->compress_level != 0 ? c->compress_level : 5;
}

void
config_decompressor(const struct config *c, char *const envp[], char *out,
    size_t len)
{
	char found[PATH_MAX];

	/* igzip (ISA-L) inflates about three times faster than zlib, and a
	 * restore reads its archive twice at once. */
	if (c->compressor[0] == '\0' &&
	    spawn_find("igzip", envp, found, sizeof found) == 0)
		snprintf(out, len, "igzip");
	else
		config_compressor(c, envp, out, len);
}
