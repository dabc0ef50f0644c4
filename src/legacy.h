/* legacy.h - archives of the original backup utility: what their
 * members are, read by content.
 *
 * The original utility's layout was never published: a gzip-compressed
 * tar holding a .env, an integrations folder and the database as pg_dump
 * output, with or without one top folder, and no manifest.  So a member
 * that is neither the .env nor below the integrations folder is read as
 * it streams and recognised by what it holds: a pg_dump custom-format
 * file ("PGDMP"), a plain pg_dump script ("-- PostgreSQL database dump"),
 * either one possibly gzip-compressed; anything else is another file and
 * ignored.  A plain script is read as psql would read it (script.h) to
 * learn whether it holds the schema, the
 * data or both, whether it ends with pg_dump's closing line, which roles
 * it names, and whether it holds a psql command that a restore must never
 * run (\connect, \!, ...).  docs/FORMAT.md says what is accepted.
 *
 * Nothing here does I/O: the unpack pass feeds the bytes.
 */
#ifndef POLARITY_LEGACY_H
#define POLARITY_LEGACY_H

#include <stddef.h>
#include <stdint.h>

#include "tar.h"

/* What a member holds. */
enum legacy_kind {
	LEGACY_OTHER,		/* not a database dump */
	LEGACY_EMPTY,		/* a pg_dump script with no object in it */
	LEGACY_SCHEMA,		/* pg_dump --schema-only */
	LEGACY_DATA,		/* pg_dump --data-only */
	LEGACY_FULL,		/* a plain pg_dump of schema and data */
	LEGACY_CUSTOM		/* pg_dump -Fc, loaded whole by pg_restore */
};

/* A dump found in the archive. */
struct legacy_dump {
	char member[TAR_NAME_MAX];	/* its name in the tar, as written */
	enum legacy_kind kind;
	int gzip;		/* gzip-compressed inside the archive */
	uint64_t size;		/* of the dump itself (uncompressed) */
	char flaw[300];		/* why it cannot be loaded; "" if it can */
	char need[200];		/* what only psql's \restrict makes safe
				 * (script.h), or "" */
	char encoding[64];		/* SET client_encoding, or "" */
	char server_version[64];	/* "Dumped from database version" */
	char pg_dump_version[64];
};

#define LEGACY_MAX_DUMPS 8
#define LEGACY_MAX_ROLES 64
#define LEGACY_ROLE_MAX 64	/* NAMEDATALEN */

/* How the database of an archive is loaded. */
enum legacy_how {
	LEGACY_NONE,
	LEGACY_ONE,		/* dump[0]: a full plain dump, or a custom one */
	LEGACY_SPLIT		/* dump[0] the schema, then dump[1] the data */
};

/* What the dumps of a legacy archive add up to. */
struct legacy_set {
	enum legacy_how how;
	struct legacy_dump dump[2];
	/* The roles the plain dumps name (OWNER TO, GRANT ... TO, SET
	 * ROLE, ...); past LEGACY_MAX_ROLES the load's retry finds them. */
	char roles[LEGACY_MAX_ROLES][LEGACY_ROLE_MAX];
	size_t nroles;
};

/* The reading of one legacy archive's members: the caller owns it, zeroes
 * it before the first member and calls legacy_free() at the end. */
struct legacy_read;

/* Starts a reading.  Returns it, or NULL (out of memory). */
struct legacy_read *legacy_new(void);
void legacy_free(struct legacy_read *l);

/* The member MEMBER (its name in the tar) begins; its bytes follow. */
void legacy_member_begin(struct legacy_read *l, const char *member);

/* The next N bytes of the member.  Returns 0, or -1 when it is a
 * damaged gzip file (ERR says so, naming it). */
int legacy_member_data(struct legacy_read *l, const void *buf, size_t n,
    char *err, size_t elen);

/* The member ended.  Returns 0, or -1 when it was a gzip file cut short,
 * or a dump beyond LEGACY_MAX_DUMPS (ERR says so). */
int legacy_member_end(struct legacy_read *l, char *err, size_t elen);

/* Once every member was read: decides which dumps make the database,
 * into *SET.  Returns 0, or -1 with ERR naming the members concerned:
 * no dump, two of a kind, a full dump beside split ones, a schema dump
 * without its data or the other way round, or a dump with a flaw. */
int legacy_choose(struct legacy_read *l, struct legacy_set *set, char *err,
    size_t elen);

/* The number of members that are neither the database nor recognised
 * (the caller counts .env and integrations itself). */
unsigned long legacy_others(const struct legacy_read *l);

/* Adds the roles named by every plain script L read to SET (for a
 * reading of pg_restore --schema-only's output of a custom dump). */
void legacy_roles_into(const struct legacy_read *l, struct legacy_set *set);

/* Says which dumps SET loads, for the operator: "the schema-only dump
 * 'a' and the data-only dump 'b'".  Writes it into OUT. */
void legacy_describe(const struct legacy_set *set, char *out, size_t len);

/* What word a kind is in messages ("a schema-only dump", ...). */
const char *legacy_kind_word(enum legacy_kind k);

#endif
