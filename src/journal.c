/* journal.c - the restore's commit record: written whole, read back. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "io.h"
#include "journal.h"

#define JOURNAL_MAGIC "polarity-restore-journal 1"
#define JOURNAL_MAX (64 * 1024)

static const char *const state_word[] = {
	[JOURNAL_NONE] = "none",
	[JOURNAL_COMMITTING] = "committing",
	[JOURNAL_COMPLETE] = "complete",
	[JOURNAL_ROLLED_BACK] = "rolled-back",
	[JOURNAL_UNDONE] = "undone",
	[JOURNAL_CLEANED] = "cleaned",
};

const char *
journal_state_word(enum journal_state state)
{
	return state <= JOURNAL_CLEANED ? state_word[state] : "?";
}

/* The text fields, by key. */
#define TEXT(k, f) { k, offsetof(struct journal, f), \
	sizeof(((struct journal *)0)->f) }
static const struct {
	const char *key;
	size_t off, len;
} texts[] = {
	TEXT("stamp", stamp), TEXT("archive", archive),
	TEXT("steps", steps), TEXT("done", done),
	TEXT("db-target", db_target), TEXT("db-restored", db_restored),
	TEXT("db-kept", db_kept), TEXT("db-env", db_env),
	TEXT("integrations-live", integ_live),
	TEXT("integrations-staged", integ_staged),
	TEXT("integrations-kept", integ_kept), TEXT("stage", stage),
	TEXT("env-live", env_live), TEXT("env-kept", env_kept),
	TEXT("undo-stamp", undo_stamp),
};

/* The number fields, by key. */
#define NUM(k, f) { k, offsetof(struct journal, f) }
static const struct {
	const char *key;
	size_t off;
} nums[] = {
	NUM("integrations-old-dev", integ_old_dev),
	NUM("integrations-old-ino", integ_old_ino),
	NUM("integrations-new-dev", integ_new_dev),
	NUM("integrations-new-ino", integ_new_ino),
};

int
journal_write(const char *dir, const struct journal *j, char *err,
    size_t elen)
{
	char path[PATH_MAX], esc[4 * PATH_MAX];
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc;

	if (f == NULL) {
		snprintf(err, elen, "out of memory");
		return -1;
	}
	fprintf(f, "%s\nstate %s\ndb-existed %d\ndb-dropped %d\n",
	    JOURNAL_MAGIC, journal_state_word(j->state), j->db_existed,
	    j->db_dropped);
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
		const char *v = (const char *)j + texts[i].off;
		if (format_escape(v, esc, sizeof esc) == 0)
			fprintf(f, "%s %s\n", texts[i].key, esc);
	}
	for (size_t i = 0; i < sizeof nums / sizeof *nums; i++)
		fprintf(f, "%s %llu\n", nums[i].key, (unsigned long long)
		    *(const uint64_t *)(const void *)((const char *)j +
		    nums[i].off));
	if (fclose(f) != 0) {
		free(text);
		snprintf(err, elen, "out of memory");
		return -1;
	}
	snprintf(path, sizeof path, "%s/" JOURNAL_NAME, dir);
	rc = io_replace(path, text, len, 0600, 0, NULL);
	if (rc < 0)
		snprintf(err, elen, "cannot write the restore's record '%s': %s",
		    path, strerror(errno));
	free(text);
	return rc;
}

/* Takes the line "KEY VALUE" into J.  Returns 0, or -1 when it is not
 * one a record has. */
static int
take(struct journal *j, char *line)
{
	char *v = strchr(line, ' ');

	if (v == NULL)
		return line[0] == '\0' ? 0 : -1;
	*v++ = '\0';
	if (strcmp(line, "state") == 0) {
		for (int s = JOURNAL_COMMITTING; s <= JOURNAL_CLEANED; s++)
			if (strcmp(v, state_word[s]) == 0) {
				j->state = (enum journal_state)s;
				return 0;
			}
		return -1;
	}
	if (strcmp(line, "db-existed") == 0) {
		j->db_existed = strcmp(v, "1") == 0;
		return 0;
	}
	if (strcmp(line, "db-dropped") == 0) {
		j->db_dropped = strcmp(v, "1") == 0;
		return 0;
	}
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
		if (strcmp(line, texts[i].key) == 0) {
			if (format_unescape(v) < 0 || strlen(v) >= texts[i].len)
				return -1;
			memcpy((char *)j + texts[i].off, v, strlen(v) + 1);
			return 0;
		}
	for (size_t i = 0; i < sizeof nums / sizeof *nums; i++)
		if (strcmp(line, nums[i].key) == 0) {
			char *end;
			errno = 0;
			unsigned long long n = strtoull(v, &end, 10);
			if (errno || *end || end == v)
				return -1;
			*(uint64_t *)(void *)((char *)j + nums[i].off) = n;
			return 0;
		}
	return 0;	/* a key of a newer version: passed over */
}

int
journal_read(const char *dir, struct journal *j, char *err, size_t elen)
{
	char path[PATH_MAX], *text, *line, *save = NULL;

	memset(j, 0, sizeof *j);
	snprintf(path, sizeof path, "%s/" JOURNAL_NAME, dir);
	text = io_slurp(AT_FDCWD, path, JOURNAL_MAX, 1);
	if (text == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, elen, "cannot read the restore's record '%s': %s",
		    path, strerror(errno));
		return -1;
	}
	line = strtok_r(text, "\n", &save);
	if (line == NULL || strcmp(line, JOURNAL_MAGIC) != 0)
		goto bad;
	while ((line = strtok_r(NULL, "\n", &save)) != NULL)
		if (take(j, line) < 0)
			goto bad;
	if (j->state == JOURNAL_NONE || j->stamp[0] == '\0')
		goto bad;
	free(text);
	return 1;
bad:
	free(text);
	memset(j, 0, sizeof *j);
	snprintf(err, elen, "the restore's record '%s' makes no sense; move it "
	    "aside once you have checked the server by hand", path);
	return -1;
}
