#!/bin/bash
# tests/postdata.sh - a restore builds the indexes and keys of the
# post-data dump in two sessions at once, each after the settings the
# script made before it, the rest after them in order; what it cannot take
# apart it runs whole; a build that fails fails the restore, and nothing
# changes.
. "${srcdir:-.}/tests/lib.sh"
sample_server

# An index in a tablespace of its own: pg_dump sets default_tablespace
# before it, and the session that builds it must have that setting.
mkdir -p "$WORK/ts"
[ "$(id -u)" = 0 ] && chown postgres "$WORK/ts"
su_psql -c "CREATE TABLESPACE fast LOCATION '$WORK/ts'"
# Two indexes whose builds only end when they meet: each one's
# expression, in a database being restored, holds an advisory lock and
# waits until the other build's is held too; run one after the other,
# the first gives up after 30 seconds and the restore fails.
PGPASSWORD=$APP_PASSWORD psql -X -q -h 127.0.0.1 -p "$PGPORT_TEST" \
	-U polarity -d polarity -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE SCHEMA rv;
CREATE FUNCTION rv.meet(mine int, other int, v int) RETURNS int
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF pg_catalog.current_database() NOT LIKE 'polarity_restoring_%' THEN
		RETURN v;
	END IF;
	PERFORM pg_catalog.pg_advisory_xact_lock_shared(mine);
	FOR i IN 1..300 LOOP
		IF EXISTS (SELECT 1 FROM pg_catalog.pg_locks WHERE
		    locktype = 'advisory' AND objid = other AND granted) THEN
			-- Held a little longer, for the other to see it too.
			PERFORM pg_catalog.pg_sleep(0.5);
			RETURN v;
		END IF;
		PERFORM pg_catalog.pg_sleep(0.1);
	END LOOP;
	RAISE EXCEPTION 'the builds of rv.a and rv.b did not run side by side';
END $$;
CREATE TABLE rv.a (v int);
CREATE TABLE rv.b (v int);
INSERT INTO rv.a VALUES (1);
INSERT INTO rv.b VALUES (2);
CREATE INDEX a_meet ON rv.a (rv.meet(1, 2, v));
CREATE INDEX b_meet ON rv.b (rv.meet(2, 1, v));
CREATE INDEX entity_kind ON intel.entity (kind) TABLESPACE fast;
COMMENT ON INDEX intel.entity_meta IS 'the jsonb index';
ALTER TABLE intel.tag CLUSTER ON tag_pkey;
CREATE TABLE intel.p (id int, k int, PRIMARY KEY (id, k)) PARTITION BY RANGE (k);
CREATE TABLE intel.p1 PARTITION OF intel.p FOR VALUES FROM (0) TO (10);
CREATE TABLE intel.p2 PARTITION OF intel.p FOR VALUES FROM (10) TO (20);
CREATE INDEX p_k ON intel.p (k);
INSERT INTO intel.p SELECT g, g % 20 FROM generate_series(1, 100) g;
ALTER TABLE intel.entity ADD CONSTRAINT entity_value_key UNIQUE (value)
	DEFERRABLE;
CREATE SCHEMA lpt;
CREATE TABLE lpt.a_small (v int);
CREATE TABLE lpt.z_big (v int, w text);
INSERT INTO lpt.z_big SELECT g, repeat('w', 200) FROM generate_series(1, 3000) g;
CREATE INDEX a_small_v ON lpt.a_small (v);
CREATE INDEX z_big_v ON lpt.z_big (v);
-- A slow GIN build and a key on one table: the key's ALTER TABLE would
-- wait for the build's lock, its session idle all that time.
CREATE FUNCTION lpt.nap(v int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF pg_catalog.current_database() LIKE 'polarity_restoring_%' THEN
		PERFORM pg_catalog.pg_sleep(0.4);
	END IF;
	RETURN v;
END $$;
CREATE TABLE lpt.slow (id int PRIMARY KEY, v int);
INSERT INTO lpt.slow VALUES (1, 1), (2, 2);
CREATE INDEX slow_nap ON lpt.slow USING gin ((ARRAY[lpt.nap(v)]));
SQL
sample_backup
dump_db polarity >"$WORK/before.sql"

# The restored database is the one backed up, its index in its
# tablespace.
same_db() {
	diff "$WORK/before.sql" <(dump_db polarity) >"$WORK/diff" ||
		{ head -40 "$WORK/diff" >&2; fail "$1: the database differs"; }
	[ "$(su_psql -d polarity -c "SELECT tablespace FROM pg_indexes WHERE indexname = 'entity_kind'")" = fast ] ||
		fail "$1: the index is not in its tablespace"
}

# The server logs each statement as it starts, and each wait for a lock
# longer than a tenth of a second.
su_psql -c "ALTER SYSTEM SET log_statement = 'all'" \
	-c "ALTER SYSTEM SET log_lock_waits = on" \
	-c "ALTER SYSTEM SET deadlock_timeout = '100ms'" \
	-c "SELECT pg_reload_conf()" >/dev/null
for _ in $(seq 50); do
	[ "$(su_psql -c 'SHOW log_statement')" = all ] && break
	sleep 0.1
done
log_from=$(($(wc -l <"$WORK/pgdata/server.log") + 1))

run_polarity -v restore --yes "$archive"
expect 0 "indexes and keys built in 2 sessions"
same_db "--yes"
ok "the builds run side by side as soon as the rows are in; database identical"
drop_kept

# The costliest builds first: lpt.z_big_v (a table of 3,000 rows) is
# after lpt.a_small_v (an empty one) in the script, and starts before it;
# at least two others come between them, so the one cannot start before
# a session is done with another.
first=$(tail -n +"$log_from" "$WORK/pgdata/server.log" |
	grep -o 'statement: CREATE INDEX [a-z_]* ON lpt' | sed -n 1p)
case $first in
*z_big_v*) ok "the builds start with the costliest (by table size)" ;;
*) fail "the first build of schema lpt was not z_big_v but '$first'" ;;
esac
# Never two builds that wait for each other's lock: lpt.slow's key is
# built before or after its slow GIN index, not beside it.
if tail -n +"$log_from" "$WORK/pgdata/server.log" | grep 'still waiting for' >&2; then
	fail "a build waited for the lock of another"
fi
ok "no build waits for another's lock (a key beside an index on its table)"

# A build sent beside another runs without parallel workers; the first,
# alone, with what the server allows.
log=$(tail -n +"$log_from" "$WORK/pgdata/server.log")
grep -q 'statement: SET max_parallel_maintenance_workers = 0;' <<<"$log" ||
	fail "no build beside another went without parallel workers"
grep -q 'statement: RESET max_parallel_maintenance_workers;' <<<"$log" ||
	fail "no build alone kept the server's parallel workers"
ok "a build beside another has no parallel workers, one alone the server's"

# After the check (no early load): the same.
run_polarity -v restore --yes --drop-first "$archive"
expect 0 "indexes and keys built in 2 sessions"
same_db "--drop-first"
ok "a load after the check builds side by side too"
drop_kept

mkdir "$WORK/x"
tar -xzf "$archive" -C "$WORK/x"
top=$(ls "$WORK/x")
tar -tzf "$archive" >"$WORK/list"
# Writes $WORK/v.tgz: the archive with its post-data dump changed by the
# sed script $1.
variant() {
	rm -rf "$WORK/v"
	cp -a "$WORK/x" "$WORK/v"
	sed -i -e "$1" "$WORK/v/$top/database/3-post-data.sql"
	fix_manifest "$WORK/v/$top" database/3-post-data.sql
	repack "$WORK/v" "$WORK/list" "$WORK/v.tgz"
}

# A transaction around it: not one to take apart; the rendezvous is
# taken out, as one session cannot meet itself.
variant '/^SET row_security = off;$/a BEGIN;
/^\\unrestrict /i COMMIT;
/CREATE INDEX [ab]_meet/d'
run_polarity -v restore --yes "$WORK/v.tgz"
expect 0 "run whole by one psql (it holds more than pg_dump's statements)"
[ -z "$(su_psql -d polarity -c "SELECT indexname FROM pg_indexes WHERE schemaname = 'rv'")" ] ||
	fail "the script run whole was not this one"
[ "$(su_psql -d polarity -c "SELECT count(*) FROM pg_indexes WHERE schemaname = 'intel'")" -ge 9 ] ||
	fail "the script run whole did not build the indexes"
ok "a post-data dump that is not pg_dump's plain statements is run whole"
drop_kept

# Fails unless the server is as it was before ($before): no database
# being restored, no session of the builds, no staging folder.
as_before() {
	[ "$(state_of)" = "$before" ] || fail "$1 changed the server"
	[ -z "$(su_psql -c "SELECT datname FROM pg_database WHERE datname LIKE '%restoring%'")" ] ||
		fail "$1: the half-built database was left"
	[ -z "$(su_psql -c "SELECT pid FROM pg_stat_activity WHERE datname LIKE '%restoring%'")" ] ||
		fail "$1: a session of the builds was left"
	[ -z "$(ls -d "$WORK"/app/.polarity-restore-* 2>/dev/null)" ] ||
		fail "$1: the staging folder was left"
}

# A build that fails: the restore fails, and the server is as it was.
run_polarity restore --yes "$archive"
expect 0 ""
drop_kept
before=$(state_of)
variant '/^CREATE INDEX p_k /i CREATE UNIQUE INDEX kinds ON intel.entity USING btree (kind);'
run_polarity restore --yes "$WORK/v.tgz"
expect 1 "could not create unique index"
as_before "a failed build"
ok "a failed build fails the restore; nothing changed"

# SIGTERM while the indexes are built: the builds are stopped, the new
# database dropped, the server as it was, no session left.  The build
# that holds it waits for a lock nobody takes (up to 30 s).
variant '/^CREATE INDEX p_k /i CREATE INDEX slow ON rv.a USING btree (rv.meet(1, 3, v));'
"$POLARITY" --app-dir "$WORK/app" -v restore --yes "$WORK/v.tgz" >"$WORK/out" 2>"$WORK/err" &
bg=$!
for _ in $(seq 300); do
	[ -n "$(su_psql -c "SELECT pid FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX slow%'")" ] && break
	sleep 0.1
done
grep -q "indexes and keys built in 2 sessions" "$WORK/err" || fail "the builds never started: $(cat "$WORK/err")"
kill -TERM "$bg"
set +e; wait "$bg"; RC=$?; set -e
expect 143 "restore stopped by signal"
as_before "SIGTERM during the builds"
ok "SIGTERM while the indexes are built: exit 143, server as it was, nothing left"
