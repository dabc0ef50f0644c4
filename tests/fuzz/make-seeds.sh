#!/bin/bash
# tests/fuzz/make-seeds.sh - writes the seed corpora of the fuzzing
# harnesses: a small sound archive stream (uncompressed), variants of it,
# and .env files.  Run it again only to change the seeds.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
top=polarity-server-backup-20260101000000
d=$tmp/$top
mkdir -p "$d/integrations/pkg/lib" "$d/database"
echo "polarity-server-backup 1" >"$d/FORMAT"
printf 'POLARITY_DB_HOST=db\nPOLARITY_DB_PORT=5432\nPOLARITY_DB_USER=polarity\nPOLARITY_DB_PASSWORD='"'"'p a;ss'"'"'\nPOLARITY_DB_DATABASE=polarity\n' >"$d/.env"
echo 'module.exports = 1;' >"$d/integrations/pkg/lib/index.js"
ln -s lib/index.js "$d/integrations/pkg/main.js"
echo 'CREATE ROLE polarity;' >"$d/database/roles.sql"
echo 'CREATE TABLE t (id int);' >"$d/database/1-pre-data.sql"
printf 'COPY t (id) FROM stdin;\n1\n\\.\n' >"$d/database/2-data.sql"
echo 'ALTER TABLE t ADD PRIMARY KEY (id);' >"$d/database/3-post-data.sql"
chmod 644 "$d/FORMAT" "$d/integrations/pkg/lib/index.js"
chmod 600 "$d/.env" "$d/database/"*.sql
chmod 755 "$d/integrations" "$d/integrations/pkg" "$d/integrations/pkg/lib"
chmod 700 "$d/database"
members="FORMAT .env integrations integrations/pkg integrations/pkg/lib
integrations/pkg/lib/index.js integrations/pkg/main.js database
database/roles.sql database/1-pre-data.sql database/2-data.sql
database/3-post-data.sql"
{
	echo "polarity-server-backup-manifest 1"
	echo "tool polarity seed"
	echo "created 2026-01-01T00:00:00Z"
	echo "database polarity"
	echo "server-version 15.0"
	echo "pg-dump-version 15.0"
	echo "encoding UTF8"
	for m in $members; do
		p=$d/$m
		if [ -L "$p" ]; then
			echo "l 0777 0 - $m $(readlink "$p")"
		elif [ -d "$p" ]; then
			echo "d 0$(stat -c %a "$p") 0 - $m"
		else
			echo "f 0$(stat -c %a "$p") $(stat -c %s "$p") $(sha256sum <"$p" | cut -d' ' -f1) $m"
		fi
	done
} >"$d/MANIFEST"
chmod 600 "$d/MANIFEST"
list() { for m in $members MANIFEST; do echo "$top/$m"; done; }
pack() { tar -C "$tmp" --format=pax --owner=0 --group=0 --numeric-owner \
	--mtime=2026-01-01 --no-recursion -cf "$1" -T -; }
mkdir -p corpus-unpack corpus-dotenv
list | pack corpus-unpack/sound.tar
list | grep -v MANIFEST | pack corpus-unpack/no-manifest.tar
list | grep -v roles.sql | pack corpus-unpack/no-roles.tar
head -c 3000 corpus-unpack/sound.tar >corpus-unpack/truncated.tar
ln -s /etc "$d/integrations/out"
{ list | grep -v MANIFEST; echo "$top/integrations/out"; echo "$top/MANIFEST"; } |
	pack corpus-unpack/link-out.tar
# An archive of the original utility: GNU format, "./" names, split
# dumps, no FORMAT and no manifest.
l=$tmp/legacy
mkdir -p "$l/integrations/pkg"
cp "$d/.env" "$l/.env"
echo 'module.exports = 2;' >"$l/integrations/pkg/index.js"
ln -s index.js "$l/integrations/pkg/main.js"
head='--\n-- PostgreSQL database dump\n--\n\nSET client_encoding = '"'"'UTF8'"'"';\n'
tail='\n--\n-- PostgreSQL database dump complete\n--\n'
printf -- "$head"'-- Name: t; Type: TABLE; Schema: public; Owner: polarity\nCREATE TABLE public.t (id int);\nALTER TABLE public.t OWNER TO polarity;\n'"$tail" >"$l/schema.sql"
printf -- "$head"'-- Data for Name: t; Type: TABLE DATA; Schema: public; Owner: polarity\nCOPY public.t (id) FROM stdin;\n1\n\\.\n'"$tail" >"$l/data.sql"
tar -C "$l" --format=gnu --owner=0 --group=0 --numeric-owner \
	--mtime=2026-01-01 --sort=name -cf corpus-unpack/legacy.tar .
cp "$d/.env" corpus-dotenv/plain.env
printf '\xef\xbb\xbfexport A="x \\"y\\" $B ${C}"\r\nB='"'"'multi\nline'"'"'\n# c\nD=a\\ b # c\nA=last\n' >corpus-dotenv/forms.env
printf 'P=\x00nul\nQ=$\nR="unterminated\n' >corpus-dotenv/broken.env
echo "seeds written"
