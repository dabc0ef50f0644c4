#!/bin/bash
# scripts/same-output.sh OLD NEW - shows that two builds of polarity
# behave alike: runs one fixed session (backup, verify, list, restores
# with and without roles to create, damaged and missing archives, bad
# settings, a failing hook, prune) with each on a fresh private server,
# and compares their outputs and exit statuses, with times, names, ports
# and sizes normalised.  Prints "same output (N runs)" or the difference.
set -euo pipefail
[ $# = 2 ] || { echo "usage: scripts/same-output.sh OLD-BINARY NEW-BINARY" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
old=$(realpath "$1") new=$(realpath "$2")
out=$(mktemp -d /tmp/polarity-same.XXXXXX)
trap 'rm -rf "$out"' EXIT

session() {
	# shellcheck source=tests/lib.sh
	. "$here/tests/lib.sh"
	sample_server
	norm() {
		sed -E -e "s|$WORK|WORK|g" \
			-e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}Z?/TS/g' \
			-e 's/[0-9]{14}(_[0-9]+)?/STAMP/g' -e "s/$PGPORT_TEST/PORT/g" \
			-e 's/[0-9.]+ (KiB|MiB|B)\b/SIZE/g' -e 's/snapshot [0-9A-F-]+/snapshot X/' \
			-e 's/pid [0-9]+/pid N/g' -e 's/[0-9]+ bytes/N bytes/' \
			-e 's/"size": [0-9]+/"size": N/' -e 's/"created_unix": [0-9]+/"created_unix": N/' \
			-e 's/\.polarity-restore-[A-Za-z0-9]+/STAGE/g'
	}
	step() {
		echo "== $*" | norm
		set +e
		"$POLARITY" --app-dir "$WORK/app" "$@" >"$WORK/o" 2>"$WORK/e"
		echo "exit $?"
		set -e
		norm <"$WORK/o"
		norm <"$WORK/e"
	}
	step -v backup
	local a b
	a=$(ls "$WORK/app/backups"/*.tgz | head -n 1)
	step verify "$a"
	step list
	step list --json --verify
	step -v restore --yes "$a"
	step restore --yes "$a"
	head -c 30000 "$a" >"$WORK/cut.tgz"
	step restore --yes "$WORK/cut.tgz"
	step verify "$WORK/cut.tgz"
	step verify "$WORK/none.tgz"
	echo hello | gzip >"$WORK/text.tgz"
	step verify "$WORK/text.tgz"
	step --compressor "'open" backup
	step --hook false backup
	step prune --keep 1 --dry-run
	# A role the database needs, gone from the server before the restore.
	su_psql -d polarity -c "CREATE ROLE ghost; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ghost"
	step -q backup
	b=$(ls -t "$WORK/app/backups"/*.tgz | head -n 1)
	su_psql -d polarity -c "DROP OWNED BY ghost"
	su_psql -c "DROP ROLE ghost"
	step -v restore --yes "$b"
	su_psql -c "SELECT rolname FROM pg_roles WHERE rolname = 'ghost'"
	step --no-such-option restore
}

(POLARITY=$old session) >"$out/old" 2>&1 || { cat "$out/old"; exit 1; }
(POLARITY=$new session) >"$out/new" 2>&1 || { cat "$out/new"; exit 1; }
if diff -u "$out/old" "$out/new"; then
	echo "same output ($(grep -c '^== ' "$out/new") runs)"
else
	exit 1
fi
