/* dotenv.h - reading and rewriting the Polarity .env file.
 *
 * The file is KEY=value lines that a shell can also source: blank lines,
 * comments, an optional "export ", single- or double-quoted values,
 * backslash escapes, $NAME and ${NAME} expansion, quoted values spanning
 * lines.  Values reach the caller exactly as the shell (and Docker
 * Compose) would see them, whatever bytes they hold.  CRLF line endings
 * and a UTF-8 byte order mark are accepted; NUL bytes are dropped, as a
 * shell drops them.  When a key appears twice the last value wins.
 *
 * The lines go through libinih's ini_parse_stream(), with a reader of our
 * own that hands the library each assignment with its value hex-encoded
 * and cut into short pieces: so none of the library's defaults (inline
 * ';' comments, continuation of indented lines, 200-byte lines, trimmed
 * values) can change a byte of a value.
 */
#ifndef POLARITY_DOTENV_H
#define POLARITY_DOTENV_H

#include <stddef.h>
#include <stdio.h>

struct dotenv_var {
	char *key;
	char *value;
};

struct dotenv {
	struct dotenv_var *vars;	/* in order of first appearance */
	size_t n;
};

/* Reads the file at PATH into ENV, which the caller frees with
 * dotenv_free() whatever the result.  Returns 0; or -1 with errno set
 * and a one-line description, naming PATH, written to ERR (LEN bytes). */
int dotenv_read(struct dotenv *env, const char *path, char *err, size_t len);

/* Like dotenv_read(), from the open stream F; NAME is used in messages. */
int dotenv_parse(struct dotenv *env, FILE *f, const char *name, char *err,
    size_t len);

/* The value of KEY, or NULL when the file does not set it.  The string
 * belongs to ENV. */
const char *dotenv_get(const struct dotenv *env, const char *key);

/* Frees what ENV holds and empties it. */
void dotenv_free(struct dotenv *env);

/* Merges two .env texts for a restore: LIVE (LLEN bytes) with each line
 * that assigns one of KEYS (NULL terminated) replaced by the line of ARCH
 * (ALEN bytes) that assigns it last, taken byte for byte; every other
 * line of LIVE, comments and order included, stays as it is.  A key ARCH
 * sets and LIVE does not is added at the end; a key ARCH does not set is
 * left as LIVE has it.  A line keeps LIVE's line ending.  Stores a new
 * buffer in *OUT (the caller frees it) and its length in *OUTLEN.
 * Returns 0, or -1 with errno ENOMEM. */
int dotenv_merge(const char *live, size_t llen, const char *arch, size_t alen,
    const char *const keys[], char **out, size_t *outlen);

/* Replaces the file PATH with LEN bytes of TEXT, atomically: a temporary
 * file beside it with PATH's owner and mode, fsync, rename, fsync of the
 * folder.  When KEEP is not NULL the previous file stays as the hard link
 * KEEP.  Returns 0, or -1 with errno set and ERR (ELEN bytes) saying what
 * failed; PATH is then as it was. */
int dotenv_replace(const char *path, const char *text, size_t len,
    const char *keep, char *err, size_t elen);

#endif
