/* spawn.c - one child, one pipeline. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io.h"
#include "spawn.h"

/* Children not yet reaped, for spawn_kill_all().  A signal handler reads
 * this table, so slots hold plain pids written in one store. */
#define MAX_LIVE 64
static volatile pid_t live[MAX_LIVE];

/* Whether the table has room for one more child.  A child we could not
 * record would escape spawn_kill_all(): better not to start it. */
static int
live_room(void)
{
	for (size_t i = 0; i < MAX_LIVE; i++)
		if (live[i] == 0)
			return 1;
	return 0;
}

static void
live_add(pid_t pid)
{
	for (size_t i = 0; i < MAX_LIVE; i++)
		if (live[i] == 0) {
			live[i] = pid;
			return;
		}
}

static void
live_remove(pid_t pid)
{
	for (size_t i = 0; i < MAX_LIVE; i++)
		if (live[i] == pid)
			live[i] = 0;
}

void
spawn_kill_all(int sig)
{
	for (size_t i = 0; i < MAX_LIVE; i++) {
		pid_t pid = live[i];
		if (pid > 0)
			kill(-pid, sig);	/* its whole process group */
	}
}

static void
set_name(struct child *c, const char *argv0)
{
	const char *base = strrchr(argv0, '/');

	snprintf(c->name, sizeof c->name, "%s", base ? base + 1 : argv0);
	c->where[0] = '\0';
}

/* Whether PATH names an executable regular file. */
static int
runnable(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return 0;
	if (!S_ISREG(st.st_mode)) {
		errno = EACCES;
		return 0;
	}
	return access(path, X_OK) == 0;
}

int
spawn_find(const char *prog, char *const envp[], char *out, size_t len)
{
	const char *path = NULL;
	int saw_eacces = 0;

	if (prog[0] == '\0') {
		errno = ENOENT;
		return -1;
	}
	if (strchr(prog, '/') != NULL) {
		if ((size_t)snprintf(out, len, "%s", prog) >= len) {
			errno = ENAMETOOLONG;
			return -1;
		}
		return runnable(out) ? 0 : -1;
	}
	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], "PATH=", 5) == 0)
			path = envp[i] + 5;
	if (path == NULL)
		path = getenv("PATH");
	if (path == NULL)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		/* An empty PATH element means the current directory. */
		int w = n ? snprintf(out, len, "%.*s/%s", (int)n, path, prog)
		    : snprintf(out, len, "%s", prog);
		if (w > 0 && (size_t)w < len) {
			if (runnable(out))
				return 0;
			if (errno == EACCES)
				saw_eacces = 1;
		}
		path += n + (path[n] == ':');
	}
	errno = saw_eacces ? EACCES : ENOENT;
	return -1;
}

int
spawn_start(struct child *c, char *const argv[], int in, int out,
    char *const envp[])
{
	return spawn_start_in(c, argv, in, out, envp, NULL);
}

int
spawn_start_in(struct child *c, char *const argv[], int in, int out,
    char *const envp[], const char *dir)
{
	char prog[PATH_MAX];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	int e;

	c->pid = 0;
	c->status = 0;
	c->errfd = -1;
	set_name(c, argv[0]);
	if (!live_room()) {
		errno = EAGAIN;
		return -1;
	}
	if (spawn_find(argv[0], envp, prog, sizeof prog) < 0)
		return -1;
	/* A memory file rather than a pipe: nobody has to drain it while
	 * the child runs, and it is gone once closed. */
	c->errfd = memfd_create("child-stderr", MFD_CLOEXEC);
	if (c->errfd < 0)
		return -1;

	if ((e = posix_spawn_file_actions_init(&fa)) != 0)
		goto fail_fa;
	if ((e = posix_spawnattr_init(&attr)) != 0)
		goto fail_attr;

	if (in >= 0)
		e = posix_spawn_file_actions_adddup2(&fa, in, 0);
	else
		e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
		    O_RDONLY, 0);
	if (e == 0) {
		if (out >= 0)
			e = posix_spawn_file_actions_adddup2(&fa, out, 1);
		else
			e = posix_spawn_file_actions_addopen(&fa, 1,
			    "/dev/null", O_WRONLY, 0);
	}
	if (e == 0)
		e = posix_spawn_file_actions_adddup2(&fa, c->errfd, 2);
	if (e == 0 && dir != NULL)
		e = posix_spawn_file_actions_addchdir_np(&fa, dir);

	/* We ignore SIGPIPE and SIGXFSZ and catch SIGINT/SIGTERM; the child
	 * must not inherit either, nor our blocked signals. */
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGXFSZ);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGQUIT);
	if (e == 0)
		e = posix_spawnattr_setsigmask(&attr, &none);
	if (e == 0)
		e = posix_spawnattr_setsigdefault(&attr, &dfl);
	/* Each child leads a process group of its own, so that stopping it
	 * stops what it started too (a wrapper script's own children). */
	if (e == 0)
		e = posix_spawnattr_setpgroup(&attr, 0);
	if (e == 0)
		e = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
		    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	if (e == 0)
		e = posix_spawn(&c->pid, prog, &fa, &attr, argv, envp);
	if (e == 0)
		live_add(c->pid);
	else
		c->pid = 0;

	posix_spawnattr_destroy(&attr);
fail_attr:
	posix_spawn_file_actions_destroy(&fa);
fail_fa:
	if (e != 0) {
		close(c->errfd);
		c->errfd = -1;
		errno = e;
		return -1;
	}
	return 0;
}

/* Reaps C, recording its status; closes nothing. */
static void
reap(struct child *c)
{
	int st = 0;

	if (c->pid <= 0)
		return;
	if (io_waitpid(c->pid, &st, 0) < 0)
		st = 0x7f00;	/* cannot happen for our own child; say 127 */
	live_remove(c->pid);
	c->pid = 0;
	c->status = st;
}

int
spawn_poll(struct child *c)
{
	int st = 0;
	pid_t r;

	if (c->pid <= 0)
		return 1;
	r = io_waitpid(c->pid, &st, WNOHANG);
	if (r == 0)
		return 0;
	if (r < 0)
		st = 0x7f00;
	live_remove(c->pid);
	c->pid = 0;
	c->status = st;
	return 1;
}

int
spawn_pipeline(struct child *c, size_t n, char *const *const argvs[],
    int in, int out, char *const envp[])
{
	int prev = in;

	for (size_t i = 0; i < n; i++) {
		int p[2] = { -1, -1 };
		int stage_out = out;

		if (i + 1 < n) {
			if (pipe2(p, O_CLOEXEC) < 0)
				goto fail;
			stage_out = p[1];
		}
		if (spawn_start(&c[i], argvs[i], prev, stage_out, envp) < 0) {
			int e = errno;
			if (p[0] >= 0) {
				close(p[0]);
				close(p[1]);
			}
			errno = e;
			goto fail;
		}
		/* The pipe ends now belong to the children. */
		if (prev != in)
			close(prev);
		if (p[1] >= 0)
			close(p[1]);
		prev = p[0];
		continue;
fail:
		{
			int e = errno;
			if (prev != in)
				close(prev);
			for (size_t j = 0; j < i; j++) {
				kill(c[j].pid, SIGTERM);
				reap(&c[j]);
				close(c[j].errfd);
				c[j].errfd = -1;
			}
			errno = e;
			return -1;
		}
	}
	return 0;
}

size_t
spawn_stderr(const struct child *c, char *buf, size_t len)
{
	ssize_t n;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	if (c->errfd < 0)
		return 0;
	do
		n = pread(c->errfd, buf, len - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	return (size_t)n;
}

/* Picks the line of TEXT that best says what went wrong: the first one
 * that mentions an error, else the first non-empty one.  Returns a pointer
 * into TEXT and stores its length in *LEN. */
static const char *
error_line(const char *text, size_t *len)
{
	const char *first = NULL, *p = text;
	size_t first_len = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		if (l > 0 && first == NULL) {
			first = p;
			first_len = l;
		}
		for (size_t i = 0; i + 5 <= l; i++)
			if (strncmp(p + i, "error", 5) == 0 ||
			    strncmp(p + i, "ERROR", 5) == 0 ||
			    strncmp(p + i, "FATAL", 5) == 0) {
				*len = l;
				return p;
			}
		p += l + (nl != NULL);
	}
	*len = first_len;
	return first;
}

int
spawn_exit_code(const struct child *c)
{
	if (WIFSIGNALED(c->status))
		return 128 + WTERMSIG(c->status);
	return WEXITSTATUS(c->status);
}

/* Describes how C ended into MSG; returns 0 if it succeeded. */
static int
describe(struct child *c, char *msg, size_t len)
{
	char err[2048];
	const char *line;
	size_t l;
	int n;

	if (WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0)
		return 0;
	if (WIFSIGNALED(c->status))
		n = snprintf(msg, len, "'%s'%s was killed by signal %d",
		    c->name, c->where, WTERMSIG(c->status));
	else
		n = snprintf(msg, len, "'%s'%s exited with status %d",
		    c->name, c->where, WEXITSTATUS(c->status));
	if (n < 0 || (size_t)n >= len)
		return -1;
	spawn_stderr(c, err, sizeof err);
	line = error_line(err, &l);
	if (line != NULL) {
		/* Strip the trailing '\r' some programs print. */
		while (l > 0 && (line[l - 1] == '\r' || line[l - 1] == ' '))
			l--;
		snprintf(msg + n, len - (size_t)n, ": %.*s", (int)l, line);
	}
	return -1;
}

int
spawn_wait(struct child *c, char *msg, size_t len)
{
	reap(c);
	return describe(c, msg, len);
}

int
spawn_wait_all(struct child *c, size_t n, char *msg, size_t len)
{
	int failed = 0, chosen = 0;

	for (size_t i = 0; i < n; i++)
		reap(&c[i]);
	/* A stage killed by SIGPIPE only tells that a later stage quit:
	 * report the stage that caused it, when there is one. */
	for (int pass = 0; pass < 2 && !chosen; pass++)
		for (size_t i = 0; i < n && !chosen; i++) {
			int pipe_death = WIFSIGNALED(c[i].status) &&
			    WTERMSIG(c[i].status) == SIGPIPE;
			if (pass == 0 && pipe_death)
				continue;
			if (describe(&c[i], msg, len) != 0)
				failed = chosen = 1;
		}
	return failed ? -1 : 0;
}

void
spawn_close(struct child *c)
{
	if (c->errfd >= 0)
		close(c->errfd);
	c->errfd = -1;
}

/* What a child may inherit from our environment. */
static const char *const keep[] = {
	"PATH", "HOME", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE",
	"LC_MESSAGES", "TZ", "TMPDIR", "USER", "LOGNAME", NULL
};

int
spawn_env_add(char ***envp, const char *key, const char *value)
{
	size_t n = 0, len = strlen(key) + strlen(value) + 2;
	char *s, **v;

	while (*envp && (*envp)[n])
		n++;
	if ((s = malloc(len)) == NULL)
		return -1;
	snprintf(s, len, "%s=%s", key, value);
	v = realloc(*envp, (n + 2) * sizeof *v);
	if (v == NULL) {
		explicit_bzero(s, len);
		free(s);
		return -1;
	}
	v[n] = s;
	v[n + 1] = NULL;
	*envp = v;
	return 0;
}

char **
spawn_env(void)
{
	char **envp = calloc(1, sizeof *envp);

	if (envp == NULL)
		return NULL;
	for (size_t i = 0; keep[i]; i++) {
		const char *v = getenv(keep[i]);
		if (v != NULL && spawn_env_add(&envp, keep[i], v) < 0)
			goto fail;
	}
	if (getenv("PATH") == NULL && spawn_env_add(&envp, "PATH",
	    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") < 0)
		goto fail;
	return envp;
fail:
	spawn_env_free(envp);
	errno = ENOMEM;
	return NULL;
}

void
spawn_env_free(char **envp)
{
	if (envp == NULL)
		return;
	for (char **p = envp; *p; p++) {
		explicit_bzero(*p, strlen(*p));
		free(*p);
	}
	free(envp);
}

int
spawn_split(const char *cmd, char **argv, size_t max, char *buf,
    size_t blen)
{
	size_t n = 0, o = 0;
	const char *p = cmd;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (n + 1 >= max)
			return -1;
		argv[n++] = buf + o;
		while (*p && *p != ' ' && *p != '\t') {
			char q = 0;
			if (*p == '\'' || *p == '"')
				q = *p++;
			while (*p && (q ? *p != q : (*p != ' ' && *p != '\t' &&
			    *p != '\'' && *p != '"'))) {
				if (*p == '\\' && q != '\'' && p[1])
					p++;
				if (o + 1 >= blen)
					return -1;
				buf[o++] = *p++;
			}
			if (q) {
				if (*p != q)
					return -1;
				p++;
			}
		}
		if (o + 1 >= blen)
			return -1;
		buf[o++] = '\0';
	}
	argv[n] = NULL;
	return (int)n;
}

int
spawn_cmd(struct spawn_cmd *c, const char *cmd, const char *const extra[])
{
	size_t max = sizeof c->argv / sizeof *c->argv;
	int n = spawn_split(cmd, c->argv, max, c->words, sizeof c->words);

	if (n <= 0)
		return -1;
	for (size_t i = 0; extra && extra[i]; i++) {
		if ((size_t)n + 1 >= max)
			return -1;
		/* The words of EXTRA stay the caller's. */
		c->argv[n++] = (char *)(uintptr_t)extra[i];
	}
	c->argv[n] = NULL;
	return n;
}

int
spawn_run(char *const argv[], const char *dir, char *msg, size_t len)
{
	extern char **environ;
	struct child c;
	int rc;

	msg[0] = '\0';
	/* The operator's own command: our environment (it may need cloud
	 * credentials), its output on our standard error. */
	if (spawn_start_in(&c, argv, -1, 2, environ, dir) < 0)
		return -1;
	rc = spawn_wait(&c, msg, len) < 0 ? 1 : 0;
	spawn_close(&c);
	return rc;
}
