#!/bin/bash
# tests/legacy.sh - archives of the original backup utility, built here
# with the system's own pg_dump and tar in the layouts it may have used,
# restore exactly: on the same server, and on one that lacks the
# database and its roles.  Damaged, ambiguous and hostile ones change
# nothing and say why.
. "${srcdir:-.}/tests/lib.sh"
sample_server
export PGPASSWORD=$PG_SUPERPASS
PGD() { "$PGBIN/pg_dump" -h 127.0.0.1 -p "$PGPORT_TEST" -U postgres "$@" polarity 2>/dev/null; }
dump_db polarity >"$WORK/source.sql"

# The pieces every layout is made of, taken once from the sample.
P=$WORK/pieces
mkdir -p "$P"
PGD --schema-only >"$P/schema.sql"
PGD --data-only >"$P/data.sql"
PGD >"$P/full.sql"
PGD -Fc >"$P/full.dump"
cp "$WORK/app/.env" "$P/.env"
cp -a "$WORK/app/integrations" "$P/integrations"

# Builds the archive $WORK/legacy-NAME.tgz: in folder DIR (the top folder
# of the archive when TOP is set, else its root) the .env, the
# integrations and the FILES given as SRC:NAME pairs; then tar czf in the
# way STYLE says: "top" (the folder by name), "dot" (tar -C DIR .), or
# "list" (the members named one by one, data first, the integrations
# folder itself left out).
legacy() {
	local name=$1 style=$2 d=$WORK/build/$1 top=polarity-server-backup-20250101000000 f
	shift 2
	rm -rf "$d"
	mkdir -p "$d/$top"
	cp "$P/.env" "$d/$top/.env"
	cp -a "$P/integrations" "$d/$top/integrations"
	for f; do cp "$P/${f%%:*}" "$d/$top/${f#*:}"; done
	out=$WORK/legacy-$name.tgz
	case $style in
	top) tar -C "$d" -czf "$out" "$top" ;;
	dot) tar -C "$d/$top" -czf "$out" . ;;
	list)
		{ for f; do echo "${f#*:}"; done | sort -r; echo .env
		  (cd "$d/$top" && find integrations -mindepth 1 | LC_ALL=C sort); } >"$d.list"
		tar -C "$d/$top" --no-recursion -czf "$out" -T "$d.list" ;;
	esac
}

# Drops the database and the roles only it needs: a server that never
# had them.
new_server() {
	local db
	for db in $(su_psql -c "SELECT datname FROM pg_database WHERE datname LIKE 'polarity%'"); do
		su_psql -c "DROP DATABASE \"$db\"" >/dev/null
	done
	su_psql -c 'DROP ROLE IF EXISTS polarity_reader' \
		-c 'REASSIGN OWNED BY "Mixed Case Owner" TO postgres' \
		-c 'DROP OWNED BY "Mixed Case Owner"' -c 'DROP ROLE "Mixed Case Owner"' >/dev/null
	su_psql -d postgres -c 'SELECT 1' >/dev/null
}

# Restores $out and compares the database with the source, the
# integrations and the .env with the pieces.
restores() {
	local what=$1
	run_polarity verify "$out"
	expect 0 ""
	grep -q ": ok: a legacy archive, written by the original backup utility" "$WORK/out" ||
		fail "$what: verify does not say legacy: $(cat "$WORK/out")"
	run_polarity restore --yes "$out"
	expect 0 ""
	dump_db polarity >"$WORK/restored.sql"
	diff "$WORK/source.sql" "$WORK/restored.sql" >"$WORK/diff" ||
		{ head -40 "$WORK/diff" >&2; fail "$what: the database differs"; }
	same_tree "$P/integrations" "$WORK/app/integrations" "$what"
	cmp -s "$P/.env" "$WORK/app/.env" || fail "$what: the .env differs"
	ok "$what: restored identically"
}

legacy split-top top schema.sql:polarity-schema.sql data.sql:polarity-data.sql
restores "split dumps in a top folder, same server"
grep -q "archive checked: a legacy archive" "$WORK/err" || fail "no legacy line in the log"
new_server
restores "split dumps in a top folder, a server without the database and its roles"
grep -q 'Created role "Mixed Case Owner"' "$WORK/out" || fail "the quoted role was not created first"
grep -q 'created role "polarity_reader"' "$WORK/err" || fail "polarity_reader was not created"
ok "the roles the dumps name were created before the load"

legacy split-list list schema.sql:schema.sql data.sql:data.sql
new_server
restores "split dumps, data first, no folder entries, no top folder"

legacy full-dot dot full.sql:polarity.sql
restores "one full dump, ./ names (GNU long names in the integrations)"
new_server
restores "one full dump on a server without the roles"

legacy custom-top top full.dump:polarity.dump
restores "a custom-format dump"
new_server
restores "a custom-format dump on a server without the roles"
grep -q 'created role "Mixed Case Owner"' "$WORK/err" ||
	fail "the roles of a custom-format dump were not created first"

gzip -k "$P/schema.sql" "$P/data.sql" "$P/full.dump"
legacy split-gz top schema.sql.gz:schema.sql.gz data.sql.gz:data.sql.gz
new_server
restores "gzip-compressed split dumps"
legacy custom-gz dot full.dump.gz:db.dump.gz
restores "a gzip-compressed custom-format dump"

# list and verify tell the two kinds apart.
sample_backup
cp "$WORK/legacy-split-top.tgz" "$WORK/app/backups/polarity-server-backup-20250101000000.tgz"
run_polarity list
expect 0 ""
grep -q "legacy .*polarity-server-backup-20250101000000.tgz" "$WORK/out" || fail "list: $(cat "$WORK/out")"
grep -q "polarity .*$(basename "$archive")" "$WORK/out" || fail "list: ours: $(cat "$WORK/out")"
run_polarity list --json
grep -q '"kind": "legacy"' "$WORK/out" || fail "list --json: no legacy kind"
run_polarity verify "$WORK/app/backups/polarity-server-backup-20250101000000.tgz"
grep -q "created 2025-01-01 00:00:00" "$WORK/out" || fail "verify: no date from the name: $(cat "$WORK/out")"
ok "list and verify say which archives are legacy"

# What must change nothing.
before=$(state_of)
run_polarity restore --dry-run "$WORK/legacy-custom-top.tgz"
expect 0 ""
grep -q "a legacy archive of the original backup utility (no manifest), database 'polarity' from the custom-format dump" "$WORK/out" ||
	fail "dry run: $(cat "$WORK/out")"
[ "$(state_of)" = "$before" ] || fail "a dry run changed the server"
ok "a dry run of a legacy archive shows the plan and changes nothing"

refused() {
	local bad=$1 text=$2 what=$3
	run_polarity restore --yes "$bad"
	expect "${4:-4}" "$text"
	[ "$(state_of)" = "$before" ] || fail "$what: the server changed"
	[ -z "$(ls -d "$WORK"/app/.polarity-restore-* 2>/dev/null)" ] || fail "$what: staging left"
	[ -z "$(su_psql -c "SELECT datname FROM pg_database WHERE datname LIKE '%restoring%'")" ] ||
		fail "$what: a loading database was left"
	ok "refused, nothing changed: $what"
}

size=$(stat -c %s "$WORK/legacy-split-top.tgz")
head -c $((size / 2)) "$WORK/legacy-split-top.tgz" >"$WORK/bad.tgz"
refused "$WORK/bad.tgz" "is damaged" "a truncated legacy archive"

legacy two-full top full.sql:one.sql full.sql:two.sql
refused "$out" "two database dumps of one kind" "two full dumps"
grep -q "/one.sql'" "$WORK/err" && grep -q "/two.sql'" "$WORK/err" || fail "two full dumps: not both named"
legacy full-and-split top full.sql:full.sql schema.sql:schema.sql data.sql:data.sql
refused "$out" "beside" "a full dump beside split ones"
legacy lone-schema top schema.sql:schema.sql
refused "$out" "a schema-only dump 'polarity-server-backup-20250101000000/schema.sql' but no data dump" "a schema dump alone"
legacy no-dump top
refused "$out" "no database dump" "no dump at all"

head -c $(( $(stat -c %s "$P/data.sql") / 2 )) "$P/data.sql" >"$P/data-cut.sql"
legacy cut-dump top schema.sql:schema.sql data-cut.sql:data.sql
refused "$out" "ends before pg_dump's closing line" "a data dump cut short"

# A data dump that fails half way: a row the table refuses.
awk '/^COPY intel.entity /{c=1} c && /^250\t/{sub(/^250/, "x250"); c=0} {print}' \
	"$P/data.sql" >"$P/data-bad.sql"
legacy bad-row top schema.sql:schema.sql data-bad.sql:data.sql
refused "$out" "invalid input syntax" "a data dump that fails half way" 1

# Rows that break a foreign key: loaded with the keys held off, then
# checked.
awk '/^COPY intel.b /{c=1} c && /^1\t1$/{c=0; next} {print}' "$P/data.sql" >"$P/data-orphan.sql"
legacy orphan top schema.sql:schema.sql data-orphan.sql:data.sql
refused "$out" "1 rows of intel.a break its foreign key a_b_id_fkey to intel.b (e.g. the key (1))" "a row that breaks a foreign key" 1

{ printf -- '--\n-- PostgreSQL database dump\n--\n\nCREATE DATABASE polarity;\n\\connect polarity\n'; cat "$P/full.sql"; } >"$P/create.sql"
legacy create top create.sql:db.sql
refused "$out" "pg_dump --create" "a dump made with --create"

sed "s|^SET row_security = off;|SET row_security = off;\n\\\\! touch $WORK/ran|" "$P/full.sql" >"$P/shell.sql"
legacy shell top shell.sql:db.sql
refused "$out" "holds the psql command '\\!'" "a dump with a shell command"
[ ! -e "$WORK/ran" ] || fail "the shell command ran"

mkdir -p "$WORK/h/x"
cp "$P/.env" "$P/full.sql" "$WORK/h/x/"
echo evil >"$WORK/h/evil"
tar -C "$WORK/h" -czf "$WORK/bad.tgz" x/.env x/full.sql --transform 's|^x/full.sql|x/../../evil.sql|'
refused "$WORK/bad.tgz" "has an unsafe name" "a member climbing out with .."
tar -C "$WORK/h" -P -czf "$WORK/bad.tgz" x/.env x/full.sql --transform "s|^x/full.sql|$WORK/evil-abs.sql|"
refused "$WORK/bad.tgz" "unsafe name" "an absolute member name"
[ ! -e "$WORK/evil-abs.sql" ] || fail "an absolute member was written"

# No integrations folder: the database and settings come back, the
# integrations stay.
mkdir -p "$WORK/ni/top"
cp "$P/.env" "$P/full.sql" "$WORK/ni/top/"
tar -C "$WORK/ni" -czf "$WORK/legacy-noint.tgz" top
echo "kept" >"$WORK/app/integrations/marker"
new_server
run_polarity restore --yes "$WORK/legacy-noint.tgz"
expect 0 ""
[ "$(cat "$WORK/app/integrations/marker")" = kept ] || fail "integrations touched"
dump_db polarity | diff "$WORK/source.sql" - >/dev/null || fail "no integrations: database differs"
ok "a legacy archive without integrations leaves them alone"
