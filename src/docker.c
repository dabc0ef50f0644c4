/* docker.c - where the database server runs, and docker exec. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "docker.h"
#include "io.h"

const char *const docker_pg_keys[] = {
	"PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE",
	"PGSSLMODE", "PGAPPNAME", "PGCONNECT_TIMEOUT", "PGOPTIONS", NULL
};

/* What the docker client (or podman) reads from its environment. */
static const char *const client_keys[] = {
	"DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_CERT_PATH",
	"DOCKER_TLS_VERIFY", "DOCKER_API_VERSION", "CONTAINER_HOST",
	"CONTAINER_CONNECTION", "XDG_RUNTIME_DIR", NULL
};

int
docker_env_add(char ***envp)
{
	for (size_t i = 0; client_keys[i]; i++) {
		const char *v = getenv(client_keys[i]);
		if (v != NULL && spawn_env_add(envp, client_keys[i], v) < 0)
			return -1;
	}
	return 0;
}

char **
docker_env(void)
{
	char **envp = spawn_env();

	if (envp != NULL && docker_env_add(&envp) < 0) {
		spawn_env_free(envp);
		errno = ENOMEM;
		return NULL;
	}
	return envp;
}

/* Whether ENVP sets KEY. */
static int
env_has(char *const envp[], const char *key)
{
	size_t n = strlen(key);

	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], key, n) == 0 && envp[i][n] == '=')
			return 1;
	return 0;
}

int
docker_exec_argv(struct spawn_cmd *out, const struct config *c,
    const char *name, char *const envp[], char *const args[])
{
	const char *extra[48];
	size_t n = 0, max = sizeof extra / sizeof *extra;

	/* -i: our pipes are its standard input and output.  No -t. */
	extra[n++] = "exec";
	extra[n++] = "-i";
	for (size_t i = 0; docker_pg_keys[i]; i++)
		if (env_has(envp, docker_pg_keys[i])) {
			extra[n++] = "-e";
			extra[n++] = docker_pg_keys[i];
		}
	extra[n++] = name;
	for (size_t i = 0; args[i]; i++) {
		if (n + 1 >= max)
			return -1;
		extra[n++] = args[i];
	}
	extra[n] = NULL;
	return spawn_cmd(out, c->docker, extra) < 0 ? -1 : 0;
}

int
docker_query(const struct config *c, char *const args[], char *const envp[],
    char *out, size_t olen, char *err, size_t elen)
{
	struct spawn_cmd cmd;
	const char *extra[16];
	struct child ch;
	size_t n = 0, got = 0;
	int p[2];

	for (size_t i = 0; args[i] && n + 1 < sizeof extra / sizeof *extra;
	    i++)
		extra[n++] = args[i];
	extra[n] = NULL;
	out[0] = '\0';
	if (spawn_cmd(&cmd, c->docker, extra) < 0) {
		snprintf(err, elen, "the docker command '%s' cannot be split "
		    "into words", c->docker);
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, elen, "cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	if (spawn_start(&ch, cmd.argv, -1, p[1], envp) < 0) {
		snprintf(err, elen, "cannot run '%s': %s", cmd.argv[0],
		    strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	/* Read to the end: a full pipe must not stop docker. */
	for (;;) {
		char sink[4096];
		ssize_t r;
		if (got + 1 < olen)
			r = io_read(p[0], out + got, olen - 1 - got);
		else
			r = io_read(p[0], sink, sizeof sink);
		if (r <= 0)
			break;
		if (got + 1 < olen)
			got += (size_t)r;
	}
	out[got] = '\0';
	close(p[0]);
	if (spawn_wait(&ch, err, elen) < 0) {
		spawn_close(&ch);
		return -1;
	}
	spawn_close(&ch);
	return 0;
}

int
docker_pick(const char *list, const char *host, char *name, size_t len)
{
	const char *p = list;
	size_t hl = strlen(host);
	int found = 0;

	while (*p) {
		size_t l = strcspn(p, "\n");
		size_t nl = strcspn(p, "\t\n");
		const char *svc = p[nl] == '\t' ? p + nl + 1 : NULL;
		size_t sl = svc ? l - nl - 1 : 0;

		/* A name match wins over a service match found before. */
		if (nl == hl && memcmp(p, host, hl) == 0 && nl < len) {
			memcpy(name, p, nl);
			name[nl] = '\0';
			return 1;
		}
		if (!found && svc && sl == hl && memcmp(svc, host, hl) == 0 &&
		    nl < len && nl > 0) {
			memcpy(name, p, nl);
			name[nl] = '\0';
			found = 1;
		}
		p += l + (p[l] == '\n');
	}
	return found;
}

void
docker_explain(const struct config *c, const char *name, char *err,
    size_t elen)
{
	char *const args[] = { "inspect", "--format", "{{.State.Running}}",
		(char *)(uintptr_t)name, NULL };
	char out[64], derr[512], **envp;
	size_t n = strlen(err);
	int rc;

	envp = docker_env();
	if (envp == NULL)
		return;
	/* A container being stopped ends its execs a moment before docker
	 * says it stopped: ask again for a second while it says running. */
	for (int i = 0; i < 6; i++) {
		rc = docker_query(c, args, envp, out, sizeof out, derr,
		    sizeof derr);
		if (rc < 0 || strncmp(out, "true", 4) != 0)
			break;
		if (i < 5)
			nanosleep(&(struct timespec){ 0, 200000000 }, NULL);
	}
	spawn_env_free(envp);
	if (n >= elen)
		return;
	if (rc < 0)
		snprintf(err + n, elen - n, "; container '%s' is gone (docker "
		    "inspect: %s)", name, derr);
	else if (strncmp(out, "true", 4) != 0)
		snprintf(err + n, elen - n, "; container '%s' is not running: "
		    "see 'docker ps -a' and 'docker logs %s'", name, name);
}

/* Whether HOST resolves on this host. */
static int
resolves(const char *host)
{
	struct addrinfo hints, *res = NULL;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return 0;
	freeaddrinfo(res);
	return 1;
}

int
docker_locate(const struct config *c, const struct db *db, char *name,
    size_t len, char *why, size_t wlen, char *err, size_t elen)
{
	static char *const ps[] = { "ps", "--format",
		"{{.Names}}\t{{.Label \"com.docker.compose.service\"}}",
		NULL };
	char list[16384], derr[1024];
	char **envp;
	int rc;

	name[0] = '\0';
	if (strcmp(c->db_container, "none") == 0) {
		snprintf(why, wlen, "the client programs of this host (as "
		    "--db-container none says)");
		return 0;
	}
	if (strcmp(c->db_container, "auto") != 0) {
		if (strlen(c->db_container) >= len) {
			snprintf(err, elen, "the container name '%s' is too "
			    "long", c->db_container);
			return -1;
		}
		snprintf(name, len, "%s", c->db_container);
		snprintf(why, wlen, "the client programs of container '%s' "
		    "(as --db-container says)", name);
		return 0;
	}
	/* A socket folder, or a name this host knows: today's way. */
	if (db->host[0] == '/' || resolves(db->host)) {
		snprintf(why, wlen, "the client programs of this host: "
		    "POLARITY_DB_HOST '%s' %s", db->host, db->host[0] == '/' ?
		    "is a socket folder here" : "resolves here");
		return 0;
	}
	envp = docker_env();
	if (envp == NULL) {
		snprintf(err, elen, "out of memory");
		return -1;
	}
	rc = docker_query(c, ps, envp, list, sizeof list, derr, sizeof derr);
	spawn_env_free(envp);
	if (rc < 0) {
		snprintf(err, elen, "POLARITY_DB_HOST '%s' resolves nowhere on "
		    "this host and docker does not answer (%s): start the "
		    "database, or give --db-container NAME or --db-container "
		    "none", db->host, derr);
		return -1;
	}
	if (!docker_pick(list, db->host, name, len)) {
		snprintf(err, elen, "POLARITY_DB_HOST '%s' resolves nowhere on "
		    "this host and no running container has that name: start "
		    "the database container, or give --db-container NAME",
		    db->host);
		return -1;
	}
	snprintf(why, wlen, "the client programs of container '%s': "
	    "POLARITY_DB_HOST '%s' resolves only inside containers", name,
	    db->host);
	return 0;
}
