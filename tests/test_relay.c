/* test_relay.c - the thread that copies, hashes and counts a stream. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "relay.h"
#include "tmpdir.h"

/* A file of N bytes in the test's folder, open for reading at 0; the
 * bytes also in *DATA (the caller frees). */
static int
source(const char *name, size_t n, unsigned char **data)
{
	char path[128];
	unsigned char *d = malloc(n);
	int fd;

	for (size_t i = 0; i < n; i++)
		d[i] = (unsigned char)(i * 13 % 256);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, d, n), (ssize_t)n);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	*data = d;
	return fd;
}

static void
sha256_hex(const unsigned char *d, size_t n, char hex[65])
{
	unsigned char md[32];
	unsigned int len = 0;

	assert_int_equal(EVP_Digest(d, n, md, &len, EVP_sha256(), NULL), 1);
	for (unsigned i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static void
test_copies_hashes_and_counts_everything(void **state)
{
	size_t n = 3 * RELAY_BUF + 1234;
	unsigned char *data, *got = malloc(n + 1);
	char path[128], hex[65], want[65];
	struct relay r;
	uint64_t size = 0;
	int from, to, wrote = -1;

	(void)state;
	from = source("in", n, &data);
	snprintf(path, sizeof path, "%s/out", dir);
	to = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(relay_start(&r, from, to), 0);
	assert_int_equal(relay_wait(&r, hex, &size, &wrote), 0);
	assert_int_equal(wrote, 0);
	assert_int_equal(size, n);
	assert_int_equal(relay_count(&r), n);
	sha256_hex(data, n, want);
	assert_string_equal(hex, want);
	/* The relay closed its TO once the input ended. */
	assert_int_equal(fcntl(to, F_GETFD), -1);
	relay_stop(&r);
	to = open(path, O_RDONLY);
	assert_int_equal(read(to, got, n + 1), (ssize_t)n);
	assert_memory_equal(got, data, n);
	close(to);
	free(got);
	free(data);
}

/* Two pipes, for the relay's input and output. */
static void
pipes(int in[2], int out[2])
{
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
}

/* Pipe to pipe (the data dump's way, where the kernel passes the data
 * on): every byte once, in order, while a writer and a reader run. */
static void
test_pipe_to_pipe_passes_everything(void **state)
{
	size_t n = 5 * RELAY_BUF + 777, got = 0;
	unsigned char *data = malloc(n), *back = malloc(n + 1);
	char hex[65], want[65];
	struct relay r;
	uint64_t size;
	int in[2], out[2], wrote;
	pid_t pid;
	ssize_t k;

	(void)state;
	for (size_t i = 0; i < n; i++)
		data[i] = (unsigned char)(i * 31 % 253);
	pipes(in, out);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(in[0]);
		close(out[0]);
		close(out[1]);
		for (size_t at = 0; at < n; at += 1000)
			if (write(in[1], data + at, n - at < 1000 ? n - at :
			    1000) < 0)
				_exit(1);
		_exit(0);
	}
	close(in[1]);
	assert_int_equal(relay_start(&r, in[0], out[1]), 0);
	while ((k = read(out[0], back + got, n + 1 - got)) > 0)
		got += (size_t)k;
	assert_int_equal(got, n);
	assert_memory_equal(back, data, n);
	assert_int_equal(relay_wait(&r, hex, &size, &wrote), 0);
	assert_int_equal(size, n);
	sha256_hex(data, n, want);
	assert_string_equal(hex, want);
	relay_stop(&r);
	close(out[0]);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	free(data);
	free(back);
}

static void
test_keeps_the_last_bytes(void **state)
{
	const char *end = "-- PostgreSQL database dump complete\n\n";
	char hex[65], big[RELAY_TAIL + 100];
	struct relay r;
	uint64_t size;
	int in[2], out[2], wrote;

	(void)state;
	pipes(in, out);
	/* "early" is more than RELAY_TAIL bytes from the end: forgotten. */
	memset(big, 'x', sizeof big);
	memcpy(big, "early", 5);
	assert_int_equal(write(in[1], big, sizeof big), (ssize_t)sizeof big);
	assert_int_equal(write(in[1], end, strlen(end)), (ssize_t)strlen(end));
	close(in[1]);
	assert_int_equal(relay_start(&r, in[0], out[1]), 0);
	assert_int_equal(relay_wait(&r, hex, &size, &wrote), 0);
	assert_int_equal(size, sizeof big + strlen(end));
	assert_true(relay_tail_has(&r, " dump complete\n"));
	assert_false(relay_tail_has(&r, "early"));
	relay_stop(&r);
	close(out[0]);
}

/* Reads the pipe OUT to its end in a child of its own, as the compressor
 * does (the child keeps no other end of OUT or IN); returns its pid. */
static pid_t
drain(int out[2], int in[2])
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[4096];
		close(in[0]);
		close(in[1]);
		close(out[1]);
		while (read(out[0], buf, sizeof buf) > 0)
			;
		_exit(0);
	}
	close(out[0]);
	return pid;
}

/* Small reads, each shorter than the tail: the tail is still the last
 * bytes, in order.  (Between pipes, each small piece takes a slot of
 * the output pipe: it is read meanwhile, as the compressor reads it.) */
static void
test_tail_across_small_reads(void **state)
{
	char hex[65];
	struct relay r;
	uint64_t size;
	int in[2], out[2], wrote;
	pid_t pid;

	(void)state;
	pipes(in, out);
	pid = drain(out, in);
	assert_int_equal(relay_start(&r, in[0], out[1]), 0);
	for (int i = 0; i < 400; i++) {
		char line[16];
		int k = snprintf(line, sizeof line, "line %03d\n", i);
		assert_int_equal(write(in[1], line, (size_t)k), k);
		if (i % 50 == 0)
			usleep(1000);	/* let the relay read in pieces */
	}
	close(in[1]);
	assert_int_equal(relay_wait(&r, hex, &size, &wrote), 0);
	assert_int_equal(size, 400 * 9);
	assert_true(relay_tail_has(&r, "line 398\nline 399\n"));
	assert_true(relay_tail_has(&r, "line 287\n"));	/* 113 lines back */
	assert_false(relay_tail_has(&r, "line 100\n"));
	relay_stop(&r);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
}

static void
test_reader_gone_is_a_write_failure(void **state)
{
	unsigned char *data;
	char hex[65];
	struct relay r;
	uint64_t size;
	int from, out[2], wrote = 0;

	(void)state;
	from = source("in", 4 * RELAY_BUF, &data);
	assert_int_equal(pipe(out), 0);
	close(out[0]);
	assert_int_equal(relay_start(&r, from, out[1]), 0);
	assert_int_equal(relay_wait(&r, hex, &size, &wrote), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(wrote, 1);
	relay_stop(&r);
	free(data);
}

static void
test_read_failure_is_not_a_write_failure(void **state)
{
	char hex[65];
	struct relay r;
	uint64_t size;
	int from, out[2], wrote = 1;

	(void)state;
	from = open(dir, O_RDONLY | O_DIRECTORY);
	assert_int_equal(pipe(out), 0);
	assert_int_equal(relay_start(&r, from, out[1]), 0);
	assert_int_equal(relay_wait(&r, hex, &size, &wrote), -1);
	assert_int_equal(errno, EISDIR);
	assert_int_equal(wrote, 0);
	relay_stop(&r);
	close(out[0]);
}

/* A relay blocked on an input that never ends is stopped, and its
 * output is closed: the reader of it sees the end. */
static void
test_stop_while_blocked(void **state)
{
	struct relay r;
	int in[2], out[2];
	char c;

	(void)state;
	pipes(in, out);
	assert_int_equal(relay_start(&r, in[0], out[1]), 0);
	usleep(20000);
	relay_stop(&r);
	assert_int_equal(read(out[0], &c, 1), 0);
	close(out[0]);
	close(in[1]);
}

/* A relay never started owns no descriptor: stopping it closes none,
 * not even descriptor 0, which its zeroed fields name. */
static void
test_stop_of_a_zeroed_relay_closes_nothing(void **state)
{
	struct relay r;

	(void)state;
	memset(&r, 0, sizeof r);
	if (fcntl(0, F_GETFD) < 0)
		assert_int_equal(open("/dev/null", O_RDONLY), 0);
	relay_stop(&r);
	assert_true(fcntl(0, F_GETFD) >= 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_copies_hashes_and_counts_everything,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test(test_pipe_to_pipe_passes_everything),
		cmocka_unit_test(test_keeps_the_last_bytes),
		cmocka_unit_test(test_tail_across_small_reads),
		cmocka_unit_test_setup_teardown(
		    test_reader_gone_is_a_write_failure,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_read_failure_is_not_a_write_failure,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test(test_stop_while_blocked),
		cmocka_unit_test(test_stop_of_a_zeroed_relay_closes_nothing),
	};

	/* As the program does: a reader gone is EPIPE, not death. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
