#!/bin/bash
# tests/container.sh - the database where Polarity v5 keeps it: in a
# Docker container on a user-defined network, reachable only by its
# container name, its port not published.  Backup and restore with no
# option, --db-container NAME, secrets, bytes, and the failures.
. "${srcdir:-.}/tests/lib.sh"
. "${srcdir:-.}/tests/lib-docker.sh"

work_start
docker_up
# On a daemon of our own the stock name; on a shared one, our own.
C=polarity_platform_local_postgres
NET=polarity_test_net
if [ -z "$DOCKERD_PID" ]; then
	C=polarity_test_$$_postgres
	NET=polarity_test_$$_net
fi
docker_net "$NET"
pg_container "$C" "$NET"
ok "PostgreSQL runs in container $C, its name unknown to this host"

if getent hosts "$C" >/dev/null; then
	fail "this host resolves '$C': the test needs a name only containers know"
fi

# The stock .env: the container's name, the port inside.
stock_env() {
	local q=${APP_PASSWORD//\'/\'\\\'\'}
	cat >"$WORK/app/.env" <<EOF2
POLARITY_HOSTNAME=polarity.example.com
POLARITY_DB_HOST=${1:-$C}
POLARITY_DB_PORT=5432
POLARITY_DB_USER=${2:-polarity}
POLARITY_DB_PASSWORD='$q'
POLARITY_DB_DATABASE=polarity
EOF2
	chmod 600 "$WORK/app/.env"
}

# The sample database in the container: a superuser owner, as in a stock
# install; a role that owns a table and one that gets grants; a bytea and
# a text value holding carriage returns; a sequence past its start.
APP_PW=$APP_PASSWORD c_psql "$C" -v pw="$APP_PASSWORD" <<'SQL' >/dev/null
CREATE ROLE polarity LOGIN SUPERUSER PASSWORD :'pw';
CREATE ROLE polarity_reader NOLOGIN;
CREATE ROLE "Mixed Case Owner" NOLOGIN;
CREATE DATABASE polarity OWNER polarity;
SQL
c_psql "$C" -d polarity <<'SQL' >/dev/null
SET ROLE polarity;
CREATE SCHEMA intel;
CREATE TABLE intel.entity (id bigserial PRIMARY KEY, value text NOT NULL,
	blob bytea);
INSERT INTO intel.entity (value, blob)
SELECT 'host-' || g || '.example', decode(md5(g::text), 'hex')
FROM generate_series(1, 2000) g;
INSERT INTO intel.entity (value, blob) VALUES
	(E'cr \r lf \n crlf \r\n end\r', '\x0d0a0d000aff0d'::bytea);
CREATE TABLE intel.big (id int, pad text);
INSERT INTO intel.big SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 60000) g;
SELECT setval('intel.entity_id_seq', 7777);
RESET ROLE;
GRANT USAGE ON SCHEMA intel TO polarity_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA intel TO polarity_reader;
CREATE TABLE intel.owned (id int);
ALTER TABLE intel.owned OWNER TO "Mixed Case Owner";
SQL
mkdir -p "$WORK/app/integrations/virustotal" "$WORK/app/backups"
printf 'module.exports = {};\n' >"$WORK/app/integrations/virustotal/integration.js"
stock_env
c_dump "$C" polarity >"$WORK/before.sql"
CR_HEX=$(c_psql "$C" -d polarity -c "SELECT encode(convert_to(value, 'UTF8'), 'hex') || ':' || encode(blob, 'hex') FROM intel.entity WHERE value LIKE 'cr %'")
[ -n "$CR_HEX" ] || fail "the sample row with carriage returns is missing"

# A session in container C holds a lock on intel.big until
# release_lock: a backup's pg_dumps wait for it, inside the container.
hold_lock() {
	c_psql "$C" -d polarity -c 'BEGIN' \
		-c 'LOCK TABLE intel.big IN ACCESS EXCLUSIVE MODE' \
		-c 'SELECT pg_sleep(300)' >/dev/null 2>&1 &
	locker=$!
	wait_locks "AND l.granted AND l.mode = 'AccessExclusiveLock'" ||
		fail "the lock was not taken"
}
release_lock() {
	c_psql "$C" -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(300)%' AND pid <> pg_backend_pid()" >/dev/null 2>&1 || true
	wait "$locker" 2>/dev/null || true
}
# Waits until a lock on intel.big matches the condition COND.
wait_locks() {
	local n
	for _ in $(seq 300); do
		n=$(c_psql "$C" -d polarity -c "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'big' $1" 2>/dev/null) || n=0
		[ "$n" -ge 1 ] && return 0
		sleep 0.1
	done
	return 1
}

# Starts a backup (with the options given) in the background while a lock
# is held, and waits until its pg_dumps wait inside the container: $pid.
backup_waiting() {
	stock_env
	before=$(backup_dir_contents "$WORK/app/backups")
	hold_lock
	"$POLARITY" --app-dir "$WORK/app" "$@" backup >"$WORK/out" 2>"$WORK/err" &
	pid=$!
	wait_locks "AND NOT l.granted" || fail "the backup's pg_dump never waited"
}

# 1. Backup with no option: auto finds the container.  Every process's
# command line is read while it runs, and once more while its pg_dumps
# wait for a lock inside the container: the password is in none.
hold_lock
set +e
"$POLARITY" --app-dir "$WORK/app" -v backup >"$WORK/out" 2>"$WORK/err" &
pid=$!
: >"$WORK/cmdlines"
wait_locks "AND NOT l.granted" || fail "the backup's pg_dump never waited"
ps -e -ww -o args= >>"$WORK/cmdlines"
release_lock
while kill -0 "$pid" 2>/dev/null; do
	ps -e -ww -o args= >>"$WORK/cmdlines"
done
wait "$pid"
RC=$?
set -e
expect 0 ""
archive=$(tail -n 1 "$WORK/out")
[ -f "$archive" ] || fail "no archive: $archive"
grep -q "reaching the database with the client programs of container '$C'" "$WORK/err" ||
	fail "-v does not say it chose the container"
grep -q "as 'polarity' in container '$C'" "$WORK/err" ||
	fail "the log does not name the container"
ok "backup with the stock .env reaches the database in its container"

grep -q "exec -i .* $C pg_dump --no-password --section=data" "$WORK/cmdlines" ||
	fail "the scan never saw the pg_dump of the data: it proves nothing"
grep -Eq '^(/[^ ]*/)?pg_dump --no-password --section=data' "$WORK/cmdlines" ||
	fail "the scan never saw the pg_dump inside the container"
if grep -qF 'wo$rd=x' "$WORK/cmdlines"; then
	fail "the password is in a command line"
fi
grep -q -- "-e PGPASSWORD $C" "$WORK/cmdlines" || fail "no -e PGPASSWORD by name"
no_password_in "$WORK/err" "$WORK/out"
ok "the password is in no process's argv: docker, daemon or inside ($(wc -l <"$WORK/cmdlines") lines read)"

run_polarity verify "$archive"
expect 0 ""
ok "the archive verifies"

# 2. Restore onto the same container after the database and the roles
# it needs are gone; the .env names a superuser that remains.
c_psql "$C" -c 'DROP DATABASE polarity' -c 'DROP OWNED BY polarity_reader' \
	-c 'DROP ROLE polarity_reader' -c 'DROP ROLE "Mixed Case Owner"'
rm -rf "$WORK/app/integrations/virustotal"
run_polarity -v restore --yes "$archive"
expect 0 ""
grep -q "as 'polarity' in container '$C'" "$WORK/err" ||
	fail "the restore's log does not name the container"
c_dump "$C" polarity >"$WORK/after.sql"
diff "$WORK/before.sql" "$WORK/after.sql" >&2 || fail "the restored database differs"
[ -f "$WORK/app/integrations/virustotal/integration.js" ] || fail "integrations not restored"
ok "restore through the container: database, roles, grants and integrations back"

# intel.big (16 MB of rows) loads through two sessions only where a core
# is left for the second beside docker's copies: four cores or more.
cores=$(getconf _NPROCESSORS_ONLN)
if [ "$cores" -lt 4 ]; then
	grep -q "each table's rows through one session: $cores core" "$WORK/err" ||
		fail "container mode on few cores: the log does not say one session"
	grep -q "two sessions" "$WORK/err" &&
		fail "container mode on few cores: the rows went through two sessions"
	ok "container mode on $cores cores: each table's rows through one session"
else
	expect 0 "the rows of 1 large table loaded by two sessions at once"
	grep -q "through one session" "$WORK/err" &&
		fail "container mode on four cores or more: one session"
	ok "container mode on $cores cores: the large table through two sessions"
fi

got=$(c_psql "$C" -d polarity -c "SELECT encode(convert_to(value, 'UTF8'), 'hex') || ':' || encode(blob, 'hex') FROM intel.entity WHERE value LIKE 'cr %'")
[ "$got" = "$CR_HEX" ] || fail "carriage returns changed: $got, wanted $CR_HEX"
ok "a text and a bytea value holding \\r come back byte for byte"

# 2b. Archives of the original utility, made inside the container with
# its own pg_dump: split dumps (the data loaded with triggers held off
# through docker exec) and a custom-format dump (pg_restore in the
# container), each onto the container without the database and roles.
c_pg_dump() {
	PGPASSWORD=$PG_SUPERPASS docker exec -i -e PGPASSWORD "$C" pg_dump \
		-h localhost -U postgres "$@" polarity
}
L=$WORK/legacy/polarity-server-backup-20250101000000
mkdir -p "$L"
cp "$WORK/app/.env" "$L/.env"
cp -a "$WORK/app/integrations" "$L/integrations"
c_pg_dump --schema-only >"$L/schema.sql" 2>/dev/null
c_pg_dump --data-only >"$L/data.sql" 2>/dev/null
tar -C "$WORK/legacy" -czf "$WORK/legacy-split.tgz" "$(basename "$L")"
rm "$L/schema.sql" "$L/data.sql"
c_pg_dump -Fc >"$L/polarity.dump"
tar -C "$WORK/legacy" -czf "$WORK/legacy-custom.tgz" "$(basename "$L")"
for kind in split custom; do
	c_psql "$C" -c 'DROP DATABASE polarity' \
		-c "SELECT string_agg(datname, ' ') FROM pg_database WHERE datname LIKE 'polarity_%'" |
		tr ' ' '\n' | while read -r db; do
			[ -z "$db" ] || c_psql "$C" -c "DROP DATABASE \"$db\""
		done
	c_psql "$C" -c 'DROP ROLE polarity_reader' -c 'DROP ROLE "Mixed Case Owner"'
	run_polarity restore --yes "$WORK/legacy-$kind.tgz"
	expect 0 ""
	grep -q 'Created role "polarity_reader"' "$WORK/out" || fail "$kind: role not created"
	c_dump "$C" polarity >"$WORK/after.sql"
	diff "$WORK/before.sql" "$WORK/after.sql" >&2 || fail "$kind legacy archive: the database differs"
	ok "a legacy archive ($kind dumps) restored through the container"
done

# 2c. undo and cleanup reach the database in its container too.
run_polarity restore --yes "$archive"
expect 0 ""
run_polarity undo --yes
expect 0 ""
grep -q "The previous database is back as 'polarity'" "$WORK/out" || fail "undo through the container: $(cat "$WORK/out")"
c_dump "$C" polarity >"$WORK/after.sql"
diff "$WORK/before.sql" "$WORK/after.sql" >&2 || fail "after undo: the database differs"
run_polarity cleanup --yes
expect 0 ""
grep -q '^removed database "polarity_undone_' "$WORK/out" || fail "cleanup through the container: $(cat "$WORK/out")"
[ -z "$(c_psql "$C" -c "SELECT datname FROM pg_database WHERE datname ~ '_(before_restore|undone)_'")" ] ||
	fail "cleanup left kept databases in the container"
ok "undo and cleanup through the container"

# 3. A new server: another container with only its superuser; the .env
# there names that superuser.  The owner roles get created.
C2=${C}_new
pg_container "$C2" "$NET"
q=${PG_SUPERPASS//\'/\'\\\'\'}
cat >"$WORK/app/.env" <<EOF2
POLARITY_DB_HOST=$C2
POLARITY_DB_PORT=5432
POLARITY_DB_USER=postgres
POLARITY_DB_PASSWORD='$q'
POLARITY_DB_DATABASE=polarity
EOF2
run_polarity restore --yes "$archive"
expect 0 ""
grep -q 'Created role "polarity_reader"' "$WORK/out" || fail "role polarity_reader not reported created"
c_dump "$C2" polarity >"$WORK/after2.sql"
diff "$WORK/before.sql" "$WORK/after2.sql" >&2 || fail "the database on the new server differs"
grep -q "^POLARITY_DB_HOST=$C\$" "$WORK/app/.env" || fail "the .env does not hold the archive's host"
ok "restore onto a container server lacking the database and the owner roles"

# 4. --db-container NAME when the .env says localhost.
stock_env localhost
run_polarity --db-container "$C" -v backup
expect 0 ""
grep -q "container '$C' (as --db-container says)" "$WORK/err" || fail "-v does not say why"
ok "--db-container NAME with POLARITY_DB_HOST=localhost"

# 5. A host that resolves nowhere and names no container: one line,
# nothing written.
before=$(backup_dir_contents "$WORK/app/backups")
stock_env nosuch-db-host.invalid
run_polarity backup
expect 1 "POLARITY_DB_HOST 'nosuch-db-host.invalid' resolves nowhere on this host and no running container has that name"
grep -q -- "--db-container" "$WORK/err" || fail "the message does not name --db-container"
[ "$(wc -l <"$WORK/err")" = 1 ] || fail "more than one line: $(cat "$WORK/err")"
[ "$(backup_dir_contents "$WORK/app/backups")" = "$before" ] || fail "something was written"
ok "an unresolvable host without a container: one line, nothing written"

# 6. doctor: healthy in container mode; then each first problem.
stock_env
run_polarity doctor
expect 0 ""
grep -q "^ok    database      reached with the client programs of container '$C'" "$WORK/out" ||
	fail "doctor does not say it uses the container: $(cat "$WORK/out")"
grep -q "^ok    client        pg_dump [0-9.]* in container '$C'" "$WORK/out" || fail "doctor: client"
grep -q "^ok    server        PostgreSQL" "$WORK/out" || fail "doctor: server"
grep -q "^a backup would succeed$" "$WORK/out" || fail "doctor: verdict"
ok "doctor on a healthy container set-up exits 0"

stock_env "$C" polarity
sed -i "s/^POLARITY_DB_PASSWORD=.*/POLARITY_DB_PASSWORD=wrong/" "$WORK/app/.env"
run_polarity doctor
expect 1 ""
grep -q "^FAIL  server .*password authentication failed" "$WORK/out" || fail "doctor: wrong password: $(cat "$WORK/out")"
grep -q "^a backup would fail: server: " "$WORK/out" || fail "doctor: verdict for the password"
ok "doctor names a wrong password"

stock_env nosuch-db-host.invalid
run_polarity doctor --json
expect 1 ""
grep -q '"ok": false' "$WORK/out" || fail "doctor --json: ok"
grep -q '{"check": "database", "state": "fail", "text": "POLARITY_DB_HOST .nosuch-db-host.invalid. resolves nowhere' "$WORK/out" ||
	fail "doctor --json: the unresolvable host: $(cat "$WORK/out")"
ok "doctor --json names an unresolvable host"

stock_env
mv "$WORK/app/integrations" "$WORK/integrations.away"
run_polarity doctor
expect 1 ""
grep -q "^FAIL  integrations  cannot read integrations directory '$WORK/app/integrations'" "$WORK/out" ||
	fail "doctor: missing integrations: $(cat "$WORK/out")"
mv "$WORK/integrations.away" "$WORK/app/integrations"
ok "doctor names a missing integrations folder"

# The platform container reads its integrations from another folder:
# doctor says which --integrations-dir to give, backup refuses.
if docker inspect polarity_platform >/dev/null 2>&1; then
	echo "# a container polarity_platform exists already: not touched" >&2
else
	mkdir -p "$WORK/elsewhere"
	docker run -d --name polarity_platform --network "$NET" \
		-v /usr:/usr:ro -v "$WORK/elsewhere:/app/polarity-server/integrations" \
		"$DOCKER_IMAGE" sleep 600 >/dev/null || fail "cannot start polarity_platform"
	DOCKER_MADE+=(polarity_platform)
	run_polarity doctor
	expect 1 ""
	grep -q "^FAIL  platform      container 'polarity_platform' mounts its integrations from '$WORK/elsewhere', not '$WORK/app/integrations': give --integrations-dir $WORK/elsewhere" "$WORK/out" ||
		fail "doctor: platform mount: $(cat "$WORK/out")"
	before=$(backup_dir_contents "$WORK/app/backups")
	run_polarity backup
	expect 1 "give --integrations-dir $WORK/elsewhere"
	[ "$(backup_dir_contents "$WORK/app/backups")" = "$before" ] || fail "a refused backup wrote something"
	run_polarity --integrations-dir "$WORK/elsewhere" doctor
	expect 0 ""
	grep -q "^ok    platform      container 'polarity_platform' mounts its integrations from '$WORK/elsewhere'" "$WORK/out" ||
		fail "doctor: platform mount agreed: $(cat "$WORK/out")"
	docker rm -f polarity_platform >/dev/null
	ok "a platform container that mounts integrations from elsewhere: doctor and backup say which folder"
fi

# 7. A backup stopped (SIGTERM) while its pg_dumps run in the container:
# docker exec leaves them running there, so the backup ends their
# sessions on the server: nothing of it remains, no lock is held.
backup_waiting -v
set +e
kill -TERM "$pid"
wait "$pid"
RC=$?
set -e
expect 143 ""
left=
for _ in $(seq 50); do
	left=$(c_psql "$C" -c "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'polarity-backup%'")
	[ "$left" = 0 ] && break
	sleep 0.1
done
release_lock
[ "$left" = 0 ] || cat "$WORK/err" >&2
[ "$left" = 0 ] || fail "$left sessions of the stopped backup are still on the server"
if docker top "$C" -o pid,args | grep -q '[p]g_dump'; then
	fail "a pg_dump of the stopped backup still runs in the container"
fi
[ "$(backup_dir_contents "$WORK/app/backups")" = "$before" ] || fail "a partial file was left"
ok "a backup stopped mid-dump leaves no pg_dump, session or lock in the container"

# 8. The container stops in the middle of a backup: nothing is left and
# the message says what happened.  A lock held by another session keeps
# pg_dump waiting inside, so the stop lands mid-dump.
backup_waiting -q
set +e
docker kill "$C" >/dev/null
wait "$pid"
RC=$?
wait "$locker" 2>/dev/null
set -e
# pg_dump or pg_dumpall, whichever was running when the container died,
# killed with it (137) or told first that its server went away (1).
expect 1 "in container '$C' exited with status"
grep -q "container '$C' is not running" "$WORK/err" || fail "it does not say the container stopped"
[ "$(wc -l <"$WORK/err")" = 1 ] || fail "more than one line: $(cat "$WORK/err")"
[ "$(backup_dir_contents "$WORK/app/backups")" = "$before" ] || fail "a partial file was left"
ok "the container stopped mid-backup: $(cut -c1-160 "$WORK/err")"
