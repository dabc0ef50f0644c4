/* format.c - archive names, members and the manifest, both ways. */
#include "autoconf.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"

const char *const format_dump_member[FORMAT_NDUMPS] = {
	"database/roles.sql",
	"database/1-pre-data.sql",
	"database/2-data.sql",
	"database/3-post-data.sql",
};

const char *const format_dump_section[FORMAT_NDUMPS] = {
	NULL, "pre-data", "data", "post-data",
};

const char *const format_required[] = {
	FORMAT_ENV, FORMAT_INTEGRATIONS, "database/1-pre-data.sql",
	"database/2-data.sql", "database/3-post-data.sql", NULL,
};

/* The header keys, in the order a manifest has them. */
static const struct {
	const char *key;
	size_t off, len;
	int escaped;		/* written with format_escape() */
} header_keys[] = {
#define H(k, f, e) { k, offsetof(struct format_header, f), \
	sizeof(((struct format_header *)0)->f), e }
	H("tool", tool, 0),
	H("created", created, 0),
	H("hostname", hostname, 0),
	H("database", database, 0),
	H("server-version", server_version, 0),
	H("pg-dump-version", pg_dump_version, 0),
	H("encoding", encoding, 0),
	/* Readers before these keys pass over them. */
	H("db-properties", db_props, 1),
	H("db-owner", db_owner, 1),
	H("db-locale-provider", db_locale_provider, 1),
	H("db-collate", db_collate, 1),
	H("db-ctype", db_ctype, 1),
	H("db-icu-locale", db_icu_locale, 1),
	H("db-connection-limit", db_connlimit, 1),
	H("db-acl", db_acl, 1),
	H("db-settings", db_settings, 1),
	H("db-comment", db_comment, 1),
#undef H
};

#define NKEYS (sizeof header_keys / sizeof *header_keys)

int
format_name(long long t, int top, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char stamp[32];
	int n;

	if (localtime_r(&tt, &tm) == NULL)
		return -1;
	strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
	n = snprintf(out, len, "%s%s%s", FORMAT_PREFIX, stamp,
	    top ? "" : FORMAT_SUFFIX);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
format_parse_name(const char *name, time_t *when)
{
	size_t plen = strlen(FORMAT_PREFIX), slen = strlen(FORMAT_SUFFIX);
	struct tm tm;
	char stamp[15];

	if (strlen(name) != plen + 14 + slen ||
	    !format_is_top(name, plen + 14) ||
	    strcmp(name + plen + 14, FORMAT_SUFFIX) != 0)
		return 0;
	memcpy(stamp, name + plen, 14);
	stamp[14] = '\0';
	memset(&tm, 0, sizeof tm);
	if (strptime(stamp, "%Y%m%d%H%M%S", &tm) == NULL)
		return 0;
	tm.tm_isdst = -1;
	/* A date mktime() would roll over (a 31st of February) is no date
	 * we wrote. */
	struct tm check = tm;
	*when = mktime(&tm);
	if (*when == (time_t)-1 || tm.tm_mday != check.tm_mday ||
	    tm.tm_mon != check.tm_mon)
		return 0;
	return 1;
}

int
format_is_top(const char *s, size_t len)
{
	size_t plen = strlen(FORMAT_PREFIX);

	if (len != plen + 14 || strncmp(s, FORMAT_PREFIX, plen) != 0)
		return 0;
	for (size_t i = plen; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int
format_version_text(char *out, size_t len)
{
	int n = snprintf(out, len, "polarity-server-backup %d\n",
	    FORMAT_VERSION);

	return n < 0 || (size_t)n >= len ? -1 : n;
}

long
format_parse_version(const char *text)
{
	static const char head[] = "polarity-server-backup ";
	const char *digits = text + sizeof head - 1;
	char *end;
	long v;

	if (strncmp(text, head, sizeof head - 1) != 0)
		return -1;
	errno = 0;
	v = strtol(digits, &end, 10);
	if (errno || end == digits || *end != '\n' || v < 0 || v > 1000000)
		return -1;
	return v;
}

int
format_member_allowed(const char *name, char kind)
{
	if (strcmp(name, FORMAT_ENV) == 0 || strcmp(name, FORMAT_MANIFEST) == 0)
		return kind == 'f';
	if (strcmp(name, FORMAT_INTEGRATIONS) == 0 ||
	    strcmp(name, FORMAT_DATABASE) == 0)
		return kind == 'd';
	if (strncmp(name, FORMAT_INTEGRATIONS "/",
	    sizeof FORMAT_INTEGRATIONS) == 0)
		return 1;
	for (size_t i = 0; i < FORMAT_NDUMPS; i++)
		if (strcmp(name, format_dump_member[i]) == 0)
			return kind == 'f';
	return 0;
}

int
format_manifest_magic(char *out, size_t len)
{
	int n = snprintf(out, len, "polarity-server-backup-manifest %d",
	    FORMAT_VERSION);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
format_header_text(const struct format_header *h, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < NKEYS; i++) {
		const char *v = (const char *)h + header_keys[i].off;
		int n;
		if (header_keys[i].escaped && v[0] == '\0')
			continue;
		if (!header_keys[i].escaped) {
			n = snprintf(out + o, len - o, "%s %s\n",
			    header_keys[i].key, v);
			if (n < 0 || (size_t)n >= len - o)
				return -1;
			o += (size_t)n;
			continue;
		}
		n = snprintf(out + o, len - o, "%s ", header_keys[i].key);
		if (n < 0 || (size_t)n >= len - o)
			return -1;
		o += (size_t)n;
		if (format_escape(v, out + o, len - o - 1) < 0)
			return -1;
		o += strlen(out + o);
		out[o++] = '\n';
		out[o] = '\0';
	}
	return (int)o;
}

void
format_header_line(struct format_header *h, const char *line)
{
	for (size_t i = 0; i < NKEYS; i++) {
		size_t k = strlen(header_keys[i].key);
		char *f = (char *)h + header_keys[i].off;
		if (strncmp(line, header_keys[i].key, k) != 0 ||
		    line[k] != ' ')
			continue;
		if (!header_keys[i].escaped) {
			snprintf(f, header_keys[i].len, "%s", line + k + 1);
			continue;
		}
		/* A value too long or badly escaped is no value. */
		char tmp[4 * sizeof h->db_acl + 1];
		f[0] = '\0';
		if (strlen(line + k + 1) < sizeof tmp) {
			memcpy(tmp, line + k + 1, strlen(line + k + 1) + 1);
			if (format_unescape(tmp) == 0 &&
			    strlen(tmp) < header_keys[i].len)
				memcpy(f, tmp, strlen(tmp) + 1);
		}
	}
}

int
format_is_member_line(const char *line)
{
	return (line[0] == 'f' || line[0] == 'd' || line[0] == 'l') &&
	    line[1] == ' ';
}

int
format_member_line(char kind, unsigned mode, unsigned long long size,
    const char *sha, const char *name, const char *target, char *out,
    size_t len)
{
	size_t o;
	int n = snprintf(out, len, "%c %04o %llu %s ", kind, mode & 07777,
	    size, sha);

	if (n < 0 || (size_t)n >= len)
		return -1;
	o = (size_t)n;
	if (format_escape(name, out + o, len - o) < 0)
		return -1;
	o += strlen(out + o);
	if (target) {
		if (o + 2 >= len)
			return -1;
		out[o++] = ' ';
		if (format_escape(target, out + o, len - o) < 0)
			return -1;
		o += strlen(out + o);
	}
	if (o + 2 > len)
		return -1;
	out[o++] = '\n';
	out[o] = '\0';
	return (int)o;
}

int
format_parse_member(char *line, char *kind, unsigned *mode,
    unsigned long long *size, char sha[65], char *name, char *target,
    size_t len)
{
	char *f[7], *save = NULL, *end;
	int n = 0;
	unsigned long m;

	for (char *t = strtok_r(line, " ", &save); t && n < 7;
	    t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	if (n < 5 || n > 6 || strlen(f[0]) != 1)
		return -1;
	*kind = f[0][0];
	if ((*kind == 'l') != (n == 6))
		return -1;
	errno = 0;
	m = strtoul(f[1], &end, 8);
	if (errno || *end || end == f[1] || m > 07777)
		return -1;
	*mode = (unsigned)m;
	if (f[2][0] == '-' || f[2][0] == '+')
		return -1;
	*size = strtoull(f[2], &end, 10);
	if (errno || *end || end == f[2])
		return -1;
	if (strcmp(f[3], "-") != 0 && (strlen(f[3]) != 64 ||
	    strspn(f[3], "0123456789abcdef") != 64))
		return -1;
	snprintf(sha, 65, "%s", f[3]);
	if (strlen(f[4]) >= len || (n == 6 && strlen(f[5]) >= len))
		return -1;
	snprintf(name, len, "%s", f[4]);
	target[0] = '\0';
	if (n == 6)
		snprintf(target, len, "%s", f[5]);
	return format_unescape(name) < 0 ||
	    (n == 6 && format_unescape(target) < 0) ? -1 : 0;
}

int
format_escape(const char *s, char *out, size_t len)
{
	size_t o = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= ' ' || c == 0x7f || c == '\\') {
			if (o + 4 >= len)
				return -1;
			snprintf(out + o, len - o, "\\%03o", c);
			o += 4;
		} else {
			if (o + 1 >= len)
				return -1;
			out[o++] = (char)c;
		}
	}
	if (o >= len)
		return -1;
	out[o] = '\0';
	return 0;
}

int
format_unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s != '\\') {
			*o++ = *s;
			continue;
		}
		int v = 0;
		for (int i = 1; i <= 3; i++) {
			if (s[i] < '0' || s[i] > '7')
				return -1;
			v = v * 8 + (s[i] - '0');
		}
		if (v == 0 || v > 0xff)
			return -1;
		*o++ = (char)v;
		s += 3;
	}
	*o = '\0';
	return 0;
}

size_t
format_gzip_pad(unsigned char *buf, size_t n)
{
	/* The header: magic, deflate, FEXTRA, no time, no flags, OS
	 * unknown; then XLEN and one subfield "Pd" of zeros; then an empty
	 * final block (fixed Huffman codes, only the end code); then the
	 * CRC-32 and length of nothing, both 0. */
	static const unsigned char head[] = { 0x1f, 0x8b, 8, 4, 0, 0, 0, 0,
		0, 255 };
	size_t m, xlen;

	if (n < FORMAT_PAD_MIN)
		return 0;
	m = n <= FORMAT_PAD_MAX ? n : FORMAT_PAD_MAX / 2;
	xlen = m - 22;
	memset(buf, 0, m);
	memcpy(buf, head, sizeof head);
	buf[10] = (unsigned char)(xlen & 0xff);
	buf[11] = (unsigned char)(xlen >> 8);
	buf[12] = 'P';
	buf[13] = 'd';
	buf[14] = (unsigned char)((xlen - 4) & 0xff);
	buf[15] = (unsigned char)((xlen - 4) >> 8);
	buf[12 + xlen] = 0x03;
	buf[13 + xlen] = 0x00;
	return m;
}
