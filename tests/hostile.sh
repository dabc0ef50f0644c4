#!/bin/bash
# tests/hostile.sh - archives crafted to run psql commands (a shell
# command, a pipe, a file read or written, another connection) through a
# restore: in our format and in the original utility's, each one is
# refused by verify, restore --dry-run and restore --yes, and none of
# them runs; a real psql under the fence runs none either; a psql without
# \restrict loads only what the check can vouch for.
. "${srcdir:-.}/tests/lib.sh"
sample_server
sample_backup
export PGPASSWORD=$PG_SUPERPASS
mkdir "$WORK/x"
tar -xzf "$archive" -C "$WORK/x"
top=$(ls "$WORK/x")
tar -tzf "$archive" >"$WORK/list"
before=$(state_of)
dump_db polarity >"$WORK/source.sql"

# The psql commands a dump might use, each one leaving a file
# $WORK/ran-N if it ran.  @ stands for that file.
cmds=(
	'\! touch @'
	'\o |touch @'
	'SELECT 1 \g |touch @'
	"\\copy (SELECT 1) to program 'touch @'"
	'\setenv PAGER @'
	"SELECT 'touch @' \\gexec"
	'\i @'
	'\ir @'
	'\w @'
	'\password polarity'
	'\c postgres'
	'\unrestrict `touch @`'
	'SELECT 1 \; SELECT 2;'
)

# Fails if any command of the test left its file.
none_ran() {
	if ls "$WORK"/ran-* >/dev/null 2>&1; then
		fail "$1: a psql command ran: $(ls "$WORK"/ran-*)"
	fi
}

# Runs verify, restore --dry-run and restore --yes on archive $1: each
# must exit 4 naming the command, change nothing and run nothing.
refused_everywhere() {
	local bad=$1 what=$2 text=$3
	run_polarity verify "$bad"
	expect 4 "$text"
	run_polarity restore --dry-run "$bad"
	expect 4 "$text"
	run_polarity restore --yes "$bad"
	expect 4 "$text"
	[ "$(state_of)" = "$before" ] || fail "$what: the server changed"
	none_ran "$what"
}

# Writes $WORK/bad.tgz: our archive with line $2 put into dump $1 after
# its first statement; with $3 = bare, the dump's \restrict lines taken
# out first (the manifest made to agree either way).
ours_with() {
	local member=$1 line=$2 how=${3:-}
	rm -rf "$WORK/v"
	cp -a "$WORK/x" "$WORK/v"
	local f=$WORK/v/$top/$member
	if [ "$how" = bare ]; then
		sed -i -e '/^\\restrict /d' -e '/^\\unrestrict /d' "$f"
	fi
	LINE=$line perl -i -pe 'if (!$done && /^SET /) { $_ .= "$ENV{LINE}\n"; $done = 1 }' "$f"
	grep -qF -- "$line" "$f" || fail "the line did not go into $member"
	fix_manifest "$WORK/v/$top" "$member"
	repack "$WORK/v" "$WORK/list" "$WORK/bad.tgz"
}

n=0
for c in "${cmds[@]}"; do
	n=$((n + 1))
	line=${c//@/$WORK/ran-$n}
	ours_with database/1-pre-data.sql "$line"
	refused_everywhere "$WORK/bad.tgz" "ours: $c" "cannot be loaded"
	ours_with database/1-pre-data.sql "$line" bare
	refused_everywhere "$WORK/bad.tgz" "ours, no \\restrict: $c" "cannot be loaded"
done
ok "our format: ${#cmds[@]} psql commands in the pre-data dump, with and without its \\restrict lines: refused by verify, dry run and restore; none ran"

for m in database/2-data.sql database/3-post-data.sql; do
	ours_with "$m" "\\! touch $WORK/ran-${m##*/}" bare
	refused_everywhere "$WORK/bad.tgz" "ours: $m" "'$m' cannot be loaded"
done
# A COPY whose rows are psql commands to a reader that takes any COPY
# line for the start of rows.
ours_with database/2-data.sql "SELECT 1 AS
COPY FROM stdin;
\\! touch $WORK/ran-copy
SELECT '
\\.
';"
refused_everywhere "$WORK/bad.tgz" "ours: a COPY line inside a statement" "psql command '\\!'"
ok "our format: the data and post-data dumps too, and a COPY line inside a statement"

# The original utility's archives: a plain dump with each command.
P=$WORK/pieces
mkdir -p "$P"
"$PGBIN/pg_dump" -h 127.0.0.1 -p "$PGPORT_TEST" -U postgres polarity >"$P/full.sql"
legacy_with() {
	local d=$WORK/build/l t=polarity-server-backup-20250101000000
	rm -rf "$d"
	mkdir -p "$d/$t"
	cp "$WORK/app/.env" "$d/$t/.env"
	cp -a "$WORK/app/integrations" "$d/$t/integrations"
	LINE=$1 perl -pe 'if (!$done && /^SET row_security/) { $_ .= "$ENV{LINE}\n"; $done = 1 }' \
		"$P/full.sql" >"$d/$t/polarity.sql"
	grep -qF -- "$1" "$d/$t/polarity.sql" || fail "the line did not go into the dump"
	tar -C "$d" -czf "$WORK/bad.tgz" "$t"
}
n=100
for c in "${cmds[@]}"; do
	n=$((n + 1))
	legacy_with "${c//@/$WORK/ran-$n}"
	refused_everywhere "$WORK/bad.tgz" "legacy: $c" "cannot be loaded"
done
legacy_with "SELECT 1 AS
COPY FROM stdin;
\\! touch $WORK/ran-legacy-copy
SELECT '
\\.
';"
refused_everywhere "$WORK/bad.tgz" "legacy: a COPY line inside a statement" "psql command '\\!'"
ok "legacy archives: ${#cmds[@]} psql commands and a COPY line inside a statement: refused by verify, dry run and restore; none ran"

# Whatever the check missed, psql itself runs no command under the
# fence: a real psql, fed each of them through the loader.
mkdir -p "$WORK/fence"
chmod 777 "$WORK/fence"
POLARITY_TEST_PGHOST=127.0.0.1 POLARITY_TEST_PGPORT=$PGPORT_TEST \
	POLARITY_TEST_PGUSER=postgres POLARITY_TEST_PGPASSWORD=$PG_SUPERPASS \
	POLARITY_TEST_DIR=$WORK/fence "${builddir:-.}/tests/test_fence" >"$WORK/fence.log" 2>&1 ||
	{ cat "$WORK/fence.log" >&2; fail "test_fence against the server"; }
grep -q '^\[       OK \] test_psql_runs_no_command_under_the_fence' "$WORK/fence.log" ||
	{ cat "$WORK/fence.log" >&2; fail "the fence's live test did not run"; }
ok "a real psql under the fence: every psql command refused, a clean dump loads"

# A psql without \restrict (one that says it is 15.13): the load waits for
# the check, and an archive whose dumps hold what only \restrict makes
# safe is refused.
mkdir -p "$WORK/old"
for p in pg_dump pg_restore pg_dumpall; do ln -sf "$PGBIN/$p" "$WORK/old/$p"; done
cat >"$WORK/old/psql" <<EOF2
#!/bin/bash
[ "\$*" = --version ] && { echo 'psql (PostgreSQL) 15.13'; exit 0; }
exec "$PGBIN/psql" "\$@"
EOF2
chmod 755 "$WORK/old/psql"
ours_with database/3-post-data.sql "COMMENT ON SCHEMA intel IS 'a \\ backslash';"
run_polarity --pg-bindir "$WORK/old" restore --yes "$WORK/bad.tgz"
expect 1 "psql 15.13 has no \\restrict, and the dump 'database/3-post-data.sql', line"
[ "$(state_of)" = "$before" ] || fail "old psql: the server changed"
run_polarity -v --pg-bindir "$WORK/old" restore --yes "$archive"
expect 0 "has no \\restrict"
grep -q "while the archive is checked" "$WORK/err" && fail "old psql: the load began before the check ended"
dump_db polarity | diff "$WORK/source.sql" - >/dev/null || fail "old psql: the database differs"
drop_kept
ok "a psql without \\restrict: loads once the check passed; refuses a dump it could read otherwise"

# The same archive with today's psql restores, the comment as it was.
run_polarity restore --yes "$WORK/bad.tgz"
expect 0 ""
[ "$(su_psql -d polarity -c "SELECT obj_description('intel'::regnamespace)")" = 'a \ backslash' ] ||
	fail "the comment did not come back"
ok "the same archive with a psql that has \\restrict: restored"
