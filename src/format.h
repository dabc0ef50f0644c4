/* format.h - the archive format, in one place: docs/FORMAT.md in code.
 *
 * An archive is BACKUP_DIR/polarity-server-backup-YYYYMMDDhhmmss.tgz, a
 * gzip-compressed tar stream whose members all sit under one top folder
 * named like the file without ".tgz".  The first member is FORMAT, the
 * last MANIFEST; between them .env, the integrations tree and the
 * database dumps.  The manifest is a line naming its format, "key value"
 * header lines, then one line per member:
 *
 *     KIND MODE SIZE SHA256 NAME [TARGET]
 *
 * KIND f, d or l; MODE octal; SHA256 "-" for what is not a file; NAME and
 * TARGET escaped by format_escape().  Everything here is pure: no I/O,
 * nothing to free.
 */
#ifndef POLARITY_FORMAT_H
#define POLARITY_FORMAT_H

#include <stddef.h>
#include <time.h>

#define FORMAT_VERSION 1
#define FORMAT_PREFIX "polarity-server-backup-"
#define FORMAT_SUFFIX ".tgz"

/* Member names, below the top folder. */
#define FORMAT_FORMAT "FORMAT"
#define FORMAT_ENV ".env"
#define FORMAT_INTEGRATIONS "integrations"
#define FORMAT_DATABASE "database"
#define FORMAT_MANIFEST "MANIFEST"

/* The dumps, in the order they are written and loaded. */
enum format_dump {
	FORMAT_ROLES,		/* pg_dumpall --roles-only */
	FORMAT_PRE,		/* pg_dump --section=pre-data */
	FORMAT_DATA,		/* --section=data */
	FORMAT_POST,		/* --section=post-data */
	FORMAT_NDUMPS
};

/* The member name of each dump ("database/roles.sql", ...). */
extern const char *const format_dump_member[FORMAT_NDUMPS];

/* The pg_dump section of each dump; NULL for the roles. */
extern const char *const format_dump_section[FORMAT_NDUMPS];

/* The manifest's header: what the backup knew of its source.  Fields
 * absent from a manifest are "". */
struct format_header {
	char tool[128];		/* "polarity 1.0" */
	char created[64];	/* UTC, "2026-11-26T00:00:00Z" */
	char hostname[256];
	char database[256];
	char server_version[64];
	char pg_dump_version[64];
	char encoding[64];
	/* The database's own properties, which its dumps do not hold.
	 * Their values are escaped in the manifest (format_escape()).
	 * Older archives lack them: db_props is then "". */
	char db_props[8];		/* "1" when recorded */
	char db_owner[256];
	char db_locale_provider[16];	/* "libc", "icu" */
	char db_collate[256];
	char db_ctype[256];
	char db_icu_locale[256];
	char db_connlimit[16];		/* -1: no limit */
	char db_acl[4096];		/* datacl as text; "": the default */
	char db_settings[4096];		/* "ROLE\tNAME=VALUE\n" lines; ROLE ""
					 * for everyone */
	char db_comment[2048];		/* "": none */
};

/* Writes the archive name for the local time T ("polarity-server-backup-
 * YYYYmmddHHMMSS.tgz") to OUT; with TOP, the top folder's name (without
 * ".tgz").  Returns 0, or -1 when OUT is too small. */
int format_name(long long t, int top, char *out, size_t len);

/* Whether NAME is exactly an archive name with a real date; its local
 * time goes to *WHEN. */
int format_parse_name(const char *name, time_t *when);

/* Whether the LEN bytes at S are a top folder's name: the prefix and
 * fourteen digits. */
int format_is_top(const char *s, size_t len);

/* The content of the FORMAT member, into OUT.  Returns its length, or -1
 * when OUT is too small. */
int format_version_text(char *out, size_t len);

/* The version that the FORMAT member's TEXT names, or -1 when TEXT is
 * not one. */
long format_parse_version(const char *text);

/* Where a member of kind KIND ('f', 'd', 'l') may be: the members above,
 * and anything below integrations/. */
int format_member_allowed(const char *name, char kind);

/* The members every archive has, NULL terminated. */
extern const char *const format_required[];

/* The manifest's first line (without '\n') into OUT.  Returns 0, or -1
 * when OUT is too small. */
int format_manifest_magic(char *out, size_t len);

/* Writes the header H as manifest lines into OUT.  Returns the length,
 * or -1 when OUT is too small. */
int format_header_text(const struct format_header *h, char *out, size_t len);

/* Takes the header line LINE into H, if it has a key H knows. */
void format_header_line(struct format_header *h, const char *line);

/* Whether LINE is a member line (else a header or blank line). */
int format_is_member_line(const char *line);

/* Writes the member line for KIND, MODE, SIZE, SHA (64 hex digits or
 * "-"), NAME and, for a link, TARGET (else NULL) into OUT, with '\n'.
 * Returns its length, or -1 when OUT is too small. */
int format_member_line(char kind, unsigned mode, unsigned long long size,
    const char *sha, const char *name, const char *target, char *out,
    size_t len);

/* Splits the member line LINE (changed in place) into its fields, NAME
 * and TARGET (LEN bytes each) unescaped, strictly: every number whole and
 * in range, a target for links only.  Returns 0 or -1. */
int format_parse_member(char *line, char *kind, unsigned *mode,
    unsigned long long *size, char sha[65], char *name, char *target,
    size_t len);

/* Writes S into OUT (LEN bytes) as the manifest spells a name: '\\' and
 * bytes up to ' ' and 0x7f become \ooo.  Returns 0, or -1 when OUT is too
 * small. */
int format_escape(const char *s, char *out, size_t len);

/* The inverse of format_escape(), in place.  Returns 0, or -1 on a bad
 * escape. */
int format_unescape(char *s);

/* A gzip member that holds nothing, of a length of our choosing: what
 * fills the gap between the members before the data dump and the data
 * dump's own compressed stream, which the backup writes in place (every
 * gzip reader reads members back to back as one stream, and skips the
 * "extra" field of a member's header, which takes the length).  The
 * lengths one member can take: */
#define FORMAT_PAD_MIN 26
#define FORMAT_PAD_MAX (22 + 65535)

/* Writes into BUF (FORMAT_PAD_MAX bytes) one empty member of N bytes when
 * N is at most FORMAT_PAD_MAX, else a shorter one that leaves at least
 * FORMAT_PAD_MIN bytes for the next.  Returns its length, or 0 when N is
 * under FORMAT_PAD_MIN. */
size_t format_gzip_pad(unsigned char *buf, size_t n);

#endif
