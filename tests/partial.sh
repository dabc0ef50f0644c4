#!/bin/bash
# tests/partial.sh - restore --only PART puts back that part and leaves
# the others as they are; --whole-env puts the archive's whole .env in
# place, keeping the live one.
. "${srcdir:-.}/tests/lib.sh"
sample_server
sample_backup
dump_db polarity >"$WORK/db.archive"
cp "$WORK/app/.env" "$WORK/env.archive"

# Everything drifts after the backup: a row, a file, two .env lines.
drift() {
	su_psql -d polarity -c "INSERT INTO intel.tag (name) VALUES ('drifted')" >/dev/null
	echo drift >"$WORK/app/integrations/drift.txt"
	sed -i -e 's/^NODE_ENV=production$/NODE_ENV=staging/' \
		-e 's/^POLARITY_DB_DATABASE=polarity$/POLARITY_DB_DATABASE="polarity"/' "$WORK/app/.env"
}
db_is() { dump_db polarity | diff -q "$WORK/db.archive" - >/dev/null; }

drift
cp "$WORK/app/.env" "$WORK/env.drifted"
dump_db polarity >"$WORK/db.drifted"
run_polarity restore --yes --only integrations "$archive"
expect 0 ""
[ ! -e "$WORK/app/integrations/drift.txt" ] || fail "--only integrations: the integrations were not restored"
dump_db polarity | diff -q "$WORK/db.drifted" - >/dev/null || fail "--only integrations: the database changed"
cmp -s "$WORK/env.drifted" "$WORK/app/.env" || fail "--only integrations: the .env changed"
grep -q "connecting to" "$WORK/err" && fail "--only integrations: the server was asked"
ok "--only integrations: the integrations back, the database and the .env as they were"

echo drift >"$WORK/app/integrations/drift.txt"
run_polarity restore --yes --only=database "$archive"
expect 0 ""
db_is || fail "--only database: the database was not restored"
[ -e "$WORK/app/integrations/drift.txt" ] || fail "--only database: the integrations changed"
cmp -s "$WORK/env.drifted" "$WORK/app/.env" || fail "--only database: the .env changed"
ok "--only database: the database back, the integrations and the .env as they were"

run_polarity restore --yes --only env "$archive"
expect 0 ""
grep -q '^POLARITY_DB_DATABASE=polarity$' "$WORK/app/.env" || fail "--only env: the database line was not restored"
grep -q '^NODE_ENV=staging$' "$WORK/app/.env" || fail "--only env: another line changed"
[ -e "$WORK/app/integrations/drift.txt" ] || fail "--only env: the integrations changed"
ok "--only env: the .env's database lines back, nothing else"

drift
run_polarity restore --yes --only database --only env "$archive"
expect 0 ""
db_is || fail "--only database --only env: the database"
grep -q '^POLARITY_DB_DATABASE=polarity$' "$WORK/app/.env" || fail "--only database --only env: the .env"
[ -e "$WORK/app/integrations/drift.txt" ] || fail "--only database --only env: the integrations changed"
ok "--only twice: both parts, not the third"

# The whole .env, byte for byte; the live one kept.
cp "$WORK/app/.env" "$WORK/env.before"
run_polarity restore --yes --whole-env --only env "$archive"
expect 0 ""
cmp -s "$WORK/env.archive" "$WORK/app/.env" || fail "--whole-env: not the archive's .env"
kept=$(ls "$WORK/app/".env.before-restore-* | tail -n 1)
cmp -s "$WORK/env.before" "$kept" || fail "--whole-env: the live .env was not kept"
ok "--whole-env: the archive's whole .env in place, the live one kept"

# The plan says what is replaced, and only that.
run_polarity restore --dry-run --only integrations "$archive"
expect 0 ""
grep -q "integrations in '" "$WORK/out" && grep -q "and nothing else (--only)" "$WORK/out" ||
	fail "dry run: $(cat "$WORK/out")"
grep -q "database 'polarity' on" "$WORK/out" && fail "dry run: the database is named"
ok "a dry run of --only names only that part"

# Integrations alone need no database server.
sed -i "s/^POLARITY_DB_PORT=.*/POLARITY_DB_PORT=1/" "$WORK/app/.env"
run_polarity restore --yes --only integrations "$archive"
expect 0 ""
ok "--only integrations with the database unreachable"

run_polarity restore --yes --only everything "$archive"
expect 2 "--only takes database, integrations or env, not 'everything'"
ok "a wrong --only is a usage error"

# The dry run names the roles to create and the room it takes.
sed -i "s/^POLARITY_DB_PORT=.*/POLARITY_DB_PORT=$PGPORT_TEST/" "$WORK/app/.env"
run_polarity cleanup --yes
expect 0 ""
su_psql -d polarity -c 'DROP OWNED BY polarity_reader' -c 'DROP ROLE polarity_reader' >/dev/null
run_polarity restore --dry-run "$archive"
expect 0 ""
grep -q "^Roles to create (without a password):$" "$WORK/out" && grep -q '^  role "polarity_reader"' "$WORK/out" ||
	fail "dry run: no roles to create: $(cat "$WORK/out")"
grep -q "^Room: the integrations take [0-9.]* MiB in '.*', where [0-9.]* MiB are free\.$" "$WORK/out" ||
	fail "dry run: no room for the integrations"
grep -q "^Room: the current database takes [0-9]* [kMG]B on the server" "$WORK/out" ||
	fail "dry run: no size of the database"
ok "a dry run names the roles to create, the room for the integrations and the database's size"

# --drop-first: the database goes before the load; nothing kept of it.
run_polarity restore --dry-run --drop-first "$archive"
expect 0 ""
grep -q "DROPPED before the load (--drop-first)" "$WORK/out" || fail "dry run: --drop-first not in the plan"
drift
run_polarity restore --yes --drop-first "$archive"
expect 0 "dropping the current database \"polarity\" before the load"
db_is || fail "--drop-first: the database is not the archive's"
# (cleanup above removed every earlier copy)
[ -z "$(su_psql -c "SELECT datname FROM pg_database WHERE datname LIKE 'polarity_before_restore_%'")" ] ||
	fail "--drop-first: a copy of the database was kept"
grep -q "was dropped before the load (--drop-first)" "$WORK/out" || fail "--drop-first: the report does not say so"
grep -q "loading after the check\|while the archive is checked" "$WORK/err" && fail "--drop-first: a second database was loaded before the drop"
ok "--drop-first drops the database once all is checked, then loads: no second copy"
