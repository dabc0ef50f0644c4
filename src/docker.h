/* docker.h - the database server inside a container: finding it, and
 * running the PostgreSQL client programs there.
 *
 * On a stock Polarity Server v5 PostgreSQL runs in the container
 * polarity_platform_local_postgres on the compose project's network, and
 * .env names it by that name, which only containers resolve.  The host
 * may have no PostgreSQL client, or one of another major version.  So the
 * client programs run inside the container, through "docker exec -i"
 * (never -t: a terminal turns "\n" into "\r\n" and mixes standard error
 * into the dump), connecting exactly as .env says.  Dumps stream out of
 * docker exec and SQL streams in; nothing is copied into the container.
 *
 * The connection settings pass as "-e NAME" without a value: the docker
 * client takes the value from its own environment, so the password is in
 * nobody's argv, not docker's, not the daemon's, not the programs'
 * inside.
 */
#ifndef POLARITY_DOCKER_H
#define POLARITY_DOCKER_H

#include <stddef.h>

#include "config.h"
#include "spawn.h"

/* The variables that carry the connection into the container, by name. */
extern const char *const docker_pg_keys[];

/* Decides where the client programs for DB run, as C's db_container
 * says ("none", "auto" or a container's name): writes the container's
 * name to NAME (LEN bytes), or "" for this host, and one line saying why
 * to WHY (WLEN bytes).  "auto" takes this host when DB->host resolves
 * here (or is a socket folder), else the running container of that name
 * or compose service.  Returns 0, or -1 with a one-line message that says
 * what to do in ERR. */
int docker_locate(const struct config *c, const struct db *db, char *name,
    size_t len, char *why, size_t wlen, char *err, size_t elen);

/* Adds to *ENVP the variables of ours that the docker client reads
 * (DOCKER_HOST, DOCKER_CONTEXT, ...; podman's CONTAINER_HOST).  Returns
 * 0, or -1 with errno set. */
int docker_env_add(char ***envp);

/* A child environment (spawn_env()) with those variables added, for
 * running the docker command itself.  NULL with errno set; free it with
 * spawn_env_free(). */
char **docker_env(void);

/* Makes OUT the command line that runs ARGS (NULL terminated; they stay
 * the caller's) in the container NAME with C's docker command, passing
 * each of docker_pg_keys that ENVP sets by name.  Returns 0, or -1 when
 * the docker command is empty, unbalanced or too long. */
int docker_exec_argv(struct spawn_cmd *out, const struct config *c,
    const char *name, char *const envp[], char *const args[]);

/* Runs the docker command with ARGS (NULL terminated) and the
 * environment ENVP, and keeps up to OLEN-1 bytes of its output in OUT.
 * Returns 0, or -1 with ERR saying how docker failed. */
int docker_query(const struct config *c, char *const args[],
    char *const envp[], char *out, size_t olen, char *err, size_t elen);

/* After a failure in the container NAME: when it no longer runs, adds
 * that to the message ERR (ELEN bytes in all), with where to look. */
void docker_explain(const struct config *c, const char *name, char *err,
    size_t elen);

/* Finds in the output of
 *   docker ps --format '{{.Names}}\t{{.Label "com.docker.compose.service"}}'
 * (LIST) the container named HOST, else the first whose compose service
 * is HOST.  Writes its name to NAME and returns 1, or returns 0. */
int docker_pick(const char *list, const char *host, char *name, size_t len);

#endif
