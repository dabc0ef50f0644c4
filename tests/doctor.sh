#!/bin/bash
# tests/doctor.sh - polarity doctor against a database on this host: a
# healthy set-up exits 0; each first problem is named, with exit 1; it
# changes nothing.
. "${srcdir:-.}/tests/lib.sh"
pg_start
make_db
make_app "$WORK/app"
# Nothing answers at this socket: the platform check is skipped, the same
# whether or not the machine runs a Docker daemon of its own.
export DOCKER_HOST=unix://$WORK/no-docker.sock

run_polarity doctor
expect 0 ""
grep -q "^ok    env           '$WORK/app/.env' sets POLARITY_DB_HOST, POLARITY_DB_PORT, POLARITY_DB_USER, POLARITY_DB_PASSWORD, POLARITY_DB_DATABASE$" "$WORK/out" ||
	fail "env line: $(cat "$WORK/out")"
grep -q "^ok    database      reached with the client programs of this host: POLARITY_DB_HOST '127.0.0.1' resolves here$" "$WORK/out" ||
	fail "database line: $(cat "$WORK/out")"
grep -q "^ok    server        PostgreSQL [0-9.]* at 127.0.0.1:$PGPORT_TEST accepts 'polarity' on database 'polarity'$" "$WORK/out" ||
	fail "server line"
grep -q "^warn  privileges    'polarity' may not create databases or roles" "$WORK/out" ||
	fail "privileges line: $(cat "$WORK/out")"
grep -q "^ok    integrations  '$WORK/app/integrations': 7 files, " "$WORK/out" ||
	fail "integrations line: $(grep integrations "$WORK/out")"
grep -q "^skip  platform      docker does not answer" "$WORK/out" || fail "platform line"
grep -q "^ok    backups       '$WORK/app/backups': .* free, no archive yet$" "$WORK/out" ||
	fail "backups line: $(grep backups "$WORK/out")"
grep -q "^warn  last          no archive in '$WORK/app/backups' yet$" "$WORK/out" || fail "last line"
grep -q "^a backup would succeed$" "$WORK/out" || fail "verdict"
no_password_in "$WORK/out" "$WORK/err"
[ ! -e "$WORK/app/backups" ] || fail "doctor made the backup folder"
ok "doctor on a healthy host-mode set-up exits 0, one line a check"

# A backup needs pg_restore beside pg_dump, of its version or newer.
grep -q "^ok    client        pg_dump [0-9.]*, with pg_restore [0-9.]*$" "$WORK/out" ||
	fail "client line: $(grep client "$WORK/out")"
wrap_pg_dump "$WORK/norestore" ''
rm "$WORK/norestore/pg_restore"
run_polarity --pg-bindir "$WORK/norestore" doctor
expect 1 ""
grep -q "^FAIL  client        cannot run '$WORK/norestore/pg_restore': No such file or directory; a backup needs the pg_restore of pg_dump's own version: install postgresql-client, or give --pg-bindir$" "$WORK/out" ||
	fail "no pg_restore: $(grep client "$WORK/out")"
wrap_pg_dump "$WORK/oldrestore" ''
rm "$WORK/oldrestore/pg_restore"
printf '#!/bin/sh\necho "pg_restore (PostgreSQL) 11.2"\n' >"$WORK/oldrestore/pg_restore"
chmod 755 "$WORK/oldrestore/pg_restore"
run_polarity --pg-bindir "$WORK/oldrestore" doctor
expect 1 ""
grep -q "^FAIL  client        pg_restore 11.2 is older than pg_dump [0-9.]*; a backup needs" "$WORK/out" ||
	fail "an old pg_restore: $(grep client "$WORK/out")"
ok "doctor: a missing or older pg_restore fails the client check"

su_psql -c 'ALTER ROLE polarity SUPERUSER'
run_polarity --status-file "$WORK/status.prom" -q backup
expect 0 ""
run_polarity --status-file "$WORK/status.prom" doctor
expect 0 ""
grep -q "^ok    privileges    'polarity' may create databases and roles (superuser)$" "$WORK/out" ||
	fail "privileges after ALTER ROLE"
grep -q "^ok    backups       '$WORK/app/backups': .* free, the last archive [0-9.]* kB$" "$WORK/out" ||
	fail "backups line with an archive: $(grep backups "$WORK/out")"
grep -Eq "^ok    last          the last backup succeeded at [0-9-]{10} [0-9:]{8} [+-][0-9]{4} in [0-9]+ s$" "$WORK/out" ||
	fail "last line from the status file: $(grep last "$WORK/out")"
ok "doctor reads the last backup from the status file"

run_polarity --status-file "$WORK/status.prom" --integrations-dir "$WORK/none" -q backup
expect 1 ""
run_polarity --status-file "$WORK/status.prom" doctor --json
expect 0 ""
grep -q '{"check": "last", "state": "warn", "text": "the last backup failed at .*; the last success was at ' "$WORK/out" ||
	fail "a failed last backup: $(cat "$WORK/out")"
grep -q '"ok": true' "$WORK/out" || fail "a failed last backup is a warning only"
ok "doctor --json warns of a failed last backup"

state=$(state_of)
cp "$WORK/app/.env" "$WORK/env.good"
sed -i "s/^POLARITY_DB_PASSWORD=.*/POLARITY_DB_PASSWORD=wrong/" "$WORK/app/.env"
run_polarity doctor
expect 1 ""
grep -q "^FAIL  server        'psql' exited with status 2: .*password authentication failed for user \"polarity\"; check the POLARITY_DB_ settings in '$WORK/app/.env'$" "$WORK/out" ||
	fail "wrong password: $(cat "$WORK/out")"
grep -q "^a backup would fail: server: " "$WORK/out" || fail "verdict, wrong password"
ok "doctor names a wrong password"

sed -i "s/^export POLARITY_DB_HOST=.*/POLARITY_DB_HOST=nosuch-db-host.invalid/" "$WORK/app/.env"
run_polarity doctor
expect 1 ""
grep -q "^FAIL  database      POLARITY_DB_HOST 'nosuch-db-host.invalid' resolves nowhere on this host and docker does not answer" "$WORK/out" ||
	fail "unresolvable host: $(cat "$WORK/out")"
grep -q "^a backup would fail: database: " "$WORK/out" || fail "verdict, host"
ok "doctor names an unresolvable host"

cp "$WORK/env.good" "$WORK/app/.env"
run_polarity --integrations-dir "$WORK/none" doctor
expect 1 ""
grep -q "^FAIL  integrations  cannot read integrations directory '$WORK/none': No such file or directory; give the right one with --integrations-dir$" "$WORK/out" ||
	fail "missing integrations: $(cat "$WORK/out")"
ok "doctor names a missing integrations folder"

sed -i "/^POLARITY_DB_PORT=/d" "$WORK/app/.env"
run_polarity doctor
expect 1 ""
grep -q "^FAIL  env           '$WORK/app/.env' does not set POLARITY_DB_PORT (it sets POLARITY_DB_HOST, POLARITY_DB_USER, POLARITY_DB_PASSWORD, POLARITY_DB_DATABASE)$" "$WORK/out" ||
	fail "missing key: $(cat "$WORK/out")"
cp "$WORK/env.good" "$WORK/app/.env"
[ "$(state_of)" = "$state" ] || fail "doctor changed something"
ok "doctor names a missing .env key, and changed nothing"
