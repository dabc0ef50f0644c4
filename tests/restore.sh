#!/bin/bash
# tests/restore.sh - back up, break things, restore: the database, the
# integrations and the .env come back exactly, with no SQL typed.
. "${srcdir:-.}/tests/lib.sh"
sample_server

sample_backup
dump_db polarity >"$WORK/before.sql"
cp -a "$WORK/app/integrations" "$WORK/integrations.saved"
cp "$WORK/app/.env" "$WORK/env.saved"

run_polarity verify "$archive"
expect 0 ""
grep -q ": ok: format 1, created .*database 'polarity'" "$WORK/out" || fail "verify output"
ok "verify accepts a good archive"

run_polarity show "$archive"
expect 0 ""
grep -q '^f    0600 *[0-9]*  \.env$' "$WORK/out" || fail "show: no .env line"
grep -q '^f    0600 *[0-9]*  database/2-data\.sql$' "$WORK/out" || fail "show: no data dump"
grep -q '^l    0777 *-  integrations/dns\\040lookup/link\.js -> \.\./virustotal/integration\.js$' "$WORK/out" ||
	fail "show: no link line (names escaped as in the manifest)"
grep -q "^kind       polarity, format 1$" "$WORK/out" && grep -q "^database   'polarity'" "$WORK/out" ||
	fail "show: no summary"
[ "$(grep -c '^[fdl]   ' "$WORK/out")" -gt 10 ] || fail "show: too few members"
run_polarity show latest
expect 0 ""
head -c 3000 "$archive" >"$WORK/cut.tgz"
run_polarity show "$WORK/cut.tgz"
expect 4 "does not check out"
ok "show lists the members and what the archive records; a damaged one exits 4"

# Without a terminal and without --yes, nothing happens.
run_polarity restore "$archive" </dev/null
expect 2 "give --yes when not at a terminal"
ok "no --yes without a terminal: refused"

# Break everything: drop the database and the roles it needs, change the
# integrations, and rewrite the .env with other DB lines, extra lines, CRLF.
su_psql -c 'DROP DATABASE polarity' -c 'DROP ROLE polarity_reader' \
	-c 'REASSIGN OWNED BY "Mixed Case Owner" TO postgres' \
	-c 'DROP OWNED BY "Mixed Case Owner"' -c 'DROP ROLE "Mixed Case Owner"'
rm -rf "$WORK/app/integrations/virustotal"
echo new >"$WORK/app/integrations/added-later.txt"
cat >"$WORK/app/.env" <<EOF2
# rewritten by hand since the backup
POLARITY_HOSTNAME=other.example.com
POLARITY_DB_HOST='127.0.0.1'
POLARITY_DB_PORT=$PGPORT_TEST
POLARITY_DB_USER=polarity
POLARITY_DB_PASSWORD='$(printf %s "$APP_PASSWORD" | sed "s/'/'\\\\''/g")'
POLARITY_DB_DATABASE=polarity
CUSTOM_SETTING="keep me"   # a comment
EOF2
printf 'WINDOWS_LINE=1\r\n' >>"$WORK/app/.env"
chmod 640 "$WORK/app/.env"
cp "$WORK/app/.env" "$WORK/env.live"

run_polarity restore --yes "$archive"
expect 0 ""
grep -q 'Now restart the Polarity containers:' "$WORK/out" || fail "no restart advice"
grep -q "cd $WORK/app && ./down.sh && ./up.sh" "$WORK/out" || fail "no restart command"
ok "restore --yes succeeds and says to restart the containers"

diff "$WORK/before.sql" <(dump_db polarity) >"$WORK/diff" ||
	{ head -20 "$WORK/diff"; fail "restored database differs"; }
ok "database identical (schemas, owners, grants, sequences, views, functions, triggers, keys, jsonb, bytea)"

[ "$(su_psql -c "SELECT count(*) FROM pg_roles WHERE rolname IN ('polarity_reader', 'Mixed Case Owner')")" = 2 ] ||
	fail "roles not recreated"
grep -q 'Created role "Mixed Case Owner"' "$WORK/out" || fail "role creation not reported"
[ "$(su_psql -c "SELECT rolsuper FROM pg_roles WHERE rolname = 'Mixed Case Owner'")" = f ] ||
	fail "role created as superuser"
ok "missing roles created from the archive, without superuser"

same_tree "$WORK/integrations.saved" "$WORK/app/integrations" integrations
[ -f "$WORK/app/integrations.before-restore-"*/added-later.txt ] ||
	fail "previous integrations not kept"
ok "integrations identical to the archive's; previous ones kept"

# .env: each DB line is the archive's line, every other line as it was.
for k in POLARITY_DB_HOST POLARITY_DB_PORT POLARITY_DB_USER POLARITY_DB_PASSWORD POLARITY_DB_DATABASE; do
	[ "$(grep "^\(export \)\?$k=" "$WORK/app/.env")" = "$(grep "^\(export \)\?$k=" "$WORK/env.saved")" ] ||
		fail "$k is not the archive's line"
done
diff <(grep -v 'POLARITY_DB_' "$WORK/env.live") <(grep -v 'POLARITY_DB_' "$WORK/app/.env") ||
	fail "other .env lines changed"
[ "$(stat -c %a "$WORK/app/.env")" = 640 ] || fail ".env mode changed"
cmp "$WORK/env.live" "$WORK/app/.env.before-restore-"* || fail "previous .env not kept"
ok ".env: DB lines from the archive, all else byte for byte, mode kept, previous kept"

kept=$(su_psql -c "SELECT datname FROM pg_database WHERE datname LIKE 'polarity_before_restore_%'")
[ -z "$kept" ] || fail "a database was kept although none existed"
[ -z "$(ls -d "$WORK"/app/.polarity-restore-* 2>/dev/null)" ] || fail "staging left behind"
ok "no staging folder left"

# Again, over the restored database, with an application connected.
PGPASSWORD=$APP_PASSWORD psql -X -q -h 127.0.0.1 -p "$PGPORT_TEST" -U polarity \
	-d polarity -c 'SELECT pg_sleep(120)' >/dev/null 2>&1 &
app=$!
for _ in $(seq 50); do
	[ "$(su_psql -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'polarity' AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()")" -ge 1 ] && break
	sleep 0.1
done
su_psql -d polarity -c "INSERT INTO intel.tag (name) VALUES ('made after the backup')"
run_polarity restore --yes "$archive"
expect 0 ""
wait "$app" 2>/dev/null || true
diff "$WORK/before.sql" <(dump_db polarity) >/dev/null || fail "second restore differs"
kept=$(su_psql -c "SELECT datname FROM pg_database WHERE datname LIKE 'polarity_before_restore_%'")
[ -n "$kept" ] || fail "previous database not kept"
[ "$(su_psql -d "$kept" -c "SELECT count(*) FROM intel.tag WHERE name = 'made after the backup'")" = 1 ] ||
	fail "kept database is not the previous one"
grep -qF "The previous database is kept as \"$kept\"" "$WORK/out" && grep -q "polarity cleanup" "$WORK/out" ||
	fail "no word of the kept database and of cleanup"
ok "restore while an application is connected; previous database kept as $kept"

# An archive without saved roles: the roles come from psql's errors.
mkdir "$WORK/x"
tar -xzf "$archive" -C "$WORK/x"
top=$(ls "$WORK/x")
tar -tzf "$archive" | grep -v 'database/roles.sql' >"$WORK/list"
grep -v ' database/roles.sql$' "$WORK/x/$top/MANIFEST" >"$WORK/m" && mv "$WORK/m" "$WORK/x/$top/MANIFEST"
repack "$WORK/x" "$WORK/list" "$WORK/noroles.tgz"
run_polarity verify "$WORK/noroles.tgz"
expect 0 ""
su_psql -c "DROP DATABASE \"$kept\""
su_psql -d polarity -c 'REASSIGN OWNED BY "Mixed Case Owner" TO postgres' \
	-c 'DROP OWNED BY "Mixed Case Owner"' -c 'DROP OWNED BY polarity_reader'
su_psql -c 'DROP ROLE "Mixed Case Owner"' -c 'DROP ROLE polarity_reader'
run_polarity restore --yes "$WORK/noroles.tgz"
expect 0 'role "Mixed Case Owner" does not exist here: creating it'
[ "$(su_psql -c "SELECT count(*) FROM pg_roles WHERE rolname IN ('polarity_reader', 'Mixed Case Owner')")" = 2 ] ||
	fail "roles not created from the errors"
diff "$WORK/before.sql" <(dump_db polarity) >/dev/null || fail "restore without roles.sql differs"
ok "archive without roles: missing roles created from psql's errors, database identical"

# A new server: no database, no integrations folder, no .env.
su_psql -c "DROP DATABASE polarity" 
for d in $(su_psql -c "SELECT datname FROM pg_database WHERE datname LIKE 'polarity_before_restore_%'"); do
	su_psql -c "DROP DATABASE \"$d\""
done
rm -rf "$WORK/app/integrations" "$WORK/app/integrations.before-restore-"* "$WORK/app/.env"*
run_polarity restore --yes "$archive"
expect 0 ""
diff "$WORK/before.sql" <(dump_db polarity) >/dev/null || fail "new-server restore differs"
same_tree "$WORK/integrations.saved" "$WORK/app/integrations" "new-server integrations"
cmp "$WORK/env.saved" "$WORK/app/.env" || fail ".env not the archive's"
[ "$(stat -c %a "$WORK/app/.env")" = 600 ] || fail "new .env not private"
ok "restore on a new server (no database, no integrations, no .env)"

# The restored settings that do not connect are reported loudly.
su_psql -c "ALTER ROLE polarity PASSWORD 'changed since the backup'"
sed -i "s|^POLARITY_DB_PASSWORD=.*|POLARITY_DB_PASSWORD='changed since the backup'|" "$WORK/app/.env"
run_polarity restore --yes "$archive"
expect 0 "THE RESTORED SETTINGS DO NOT CONNECT"
grep -q 'password authentication failed' "$WORK/err" || fail "no reason given"
grep -q 'WARNING: with the restored .env settings' "$WORK/out" || fail "no warning in the report"
no_password_in "$WORK/out" "$WORK/err"
ok "restored settings that cannot connect: loud warning, no password shown"

# Back to the password the archive has.
APP_PW=$APP_PASSWORD su_psql <<'SQL'
\getenv pw APP_PW
ALTER ROLE polarity PASSWORD :'pw';
SQL

# Names already taken for this second (and the next five: a restore
# under valgrind on a busy machine starts seconds later): the restore
# keeps the current state under the next free name and touches no other.
now=$(date +%s)
for i in 0 1 2 3 4 5; do
	# (one may exist already: an earlier restore of this second kept it)
	su_psql -c "CREATE DATABASE polarity_before_restore_$(date -d "@$((now + i))" +%Y%m%d%H%M%S)" \
		2>/dev/null || true
done
run_polarity restore --yes "$archive"
expect 0 ""
kept=$(sed -n 's/^The previous database is kept as "\(.*\)"\.$/\1/p' "$WORK/out")
case $kept in polarity_before_restore_[0-9]*_[2-9]) ;; *) fail "kept as '$kept'" ;; esac
[ "$(su_psql -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'polarity_before_restore_%'")" -ge 7 ] ||
	fail "a kept database was replaced"
ok "a name taken in the same second: the next free one ($kept)"

# At a terminal, without --yes: it shows what it replaces and asks; only
# "yes" goes on.  (script(1) gives the program a terminal.)
if command -v script >/dev/null 2>&1; then
	# Answers WORD at the terminal; exit status in RC.
	answer() {
		set +e
		printf '%s\n' "$1" | script -q -e -c \
			"'$POLARITY' --app-dir '$WORK/app' restore '$archive'" \
			/dev/null >"$WORK/tty.out" 2>&1
		RC=$?
		set -e
	}
	before=$(state_of)
	answer no
	[ "$RC" = 1 ] || { cat "$WORK/tty.out"; fail "a 'no' answer exited $RC"; }
	grep -q "This replaces:" "$WORK/tty.out" || fail "no summary shown"
	grep -q "database 'polarity' on 127.0.0.1:$PGPORT_TEST" "$WORK/tty.out" || fail "summary lacks the database"
	grep -q "restore cancelled; nothing was changed" "$WORK/tty.out" || fail "no cancel message"
	[ "$(state_of)" = "$before" ] || fail "a cancelled restore changed the server"
	answer yes
	[ "$RC" = 0 ] || { cat "$WORK/tty.out"; fail "a 'yes' answer exited $RC"; }
	grep -q "restore complete" "$WORK/tty.out" || fail "'yes' did not restore"
	grep -q $'\r  loading ' "$WORK/tty.out" || fail "no load progress at a terminal"
	ok "at a terminal: summary, question, only 'yes' restores"
else
	echo "# script(1) missing: the terminal question is not tested"
fi

# --restart runs ./down.sh then ./up.sh in the app folder.
for s in down up; do
	printf '#!/bin/sh\necho "%s in $(pwd)" >>"%s/restart.log"\n' "$s" "$WORK" >"$WORK/app/$s.sh"
	chmod 755 "$WORK/app/$s.sh"
done
run_polarity restore --yes --restart "$archive"
expect 0 ""
[ "$(cat "$WORK/restart.log")" = "down in $WORK/app
up in $WORK/app" ] || fail "restart ran: $(cat "$WORK/restart.log")"
grep -q 'The Polarity containers were restarted' "$WORK/out" || fail "restart not reported"
printf '#!/bin/sh\necho "up: error: docker is not running" >&2\nexit 3\n' >"$WORK/app/up.sh"
run_polarity restore --yes --restart "$archive"
expect 1 "the restore is complete, but restarting failed: 'up.sh' exited with status 3: up: error: docker is not running"
grep -q 'Restart the Polarity containers by hand' "$WORK/out" || fail "no advice after a failed restart"
ok "--restart runs down.sh and up.sh in the app folder, and reports their failure"
