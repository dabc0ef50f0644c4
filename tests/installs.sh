#!/bin/bash
# tests/installs.sh - two Polarity installs on one PostgreSQL server, each
# with its own app folder, backup folder and lock: a restore of one while
# the other's restore is loading leaves the other's database alone, and
# both succeed.  A database left by a restore that died is still dropped.
. "${srcdir:-.}/tests/lib.sh"
sample_server
su_psql -c 'CREATE DATABASE polarity_b OWNER polarity' >/dev/null
su_psql -d polarity_b -c 'CREATE TABLE b (v text)' \
	-c "INSERT INTO b SELECT 'b' || g FROM generate_series(1, 1000) g" >/dev/null
mkdir -p "$WORK/app_b/integrations/b"
echo b >"$WORK/app_b/integrations/b/file"
write_env "$WORK/app_b/.env" polarity_b polarity

sample_backup
archive_a=$archive
"$POLARITY" --app-dir "$WORK/app_b" -q backup >"$WORK/out_b" 2>"$WORK/err_b" ||
	fail "backup of install B: $(cat "$WORK/err_b")"
archive_b=$(tail -n 1 "$WORK/out_b")
dump_db polarity >"$WORK/a.before"
dump_db polarity_b >"$WORK/b.before"

# A psql whose loads (not its sessions, which ask with -A) wait three
# seconds first: the new database exists for that long, on any machine.
mkdir -p "$WORK/slow"
ln -s "$PGBIN/pg_dump" "$WORK/slow/pg_dump"
ln -sf "$PGBIN/pg_restore" "$WORK/slow/pg_restore"
ln -s "$PGBIN/pg_dumpall" "$WORK/slow/pg_dumpall"
cat >"$WORK/slow/psql" <<EOF2
#!/bin/bash
case " \$* " in *" -A "*) ;; *) sleep 3 ;; esac
exec "$PGBIN/psql" "\$@"
EOF2
chmod 755 "$WORK/slow/psql"

marked() {
	su_psql -c "SELECT d.datname FROM pg_database d JOIN pg_shdescription s ON s.objoid = d.oid WHERE s.description = 'polarity restore in progress' ORDER BY 1"
}

# Starts install A's restore in the background ($pid_a) and waits until
# its new database exists.
restore_a_loading() {
	"$POLARITY" --app-dir "$WORK/app" --pg-bindir "$WORK/slow" restore \
		--yes "$archive_a" >"$WORK/out_a" 2>"$WORK/err_a" &
	pid_a=$!
	for _ in $(seq 300); do
		[ -n "$(marked)" ] && break
		sleep 0.05
	done
}

# Install A's restore, stopped while its new database exists and its
# maintenance session holds it.
restore_a_loading
kill -STOP "$pid_a"
trap 'rc=$?; set +e; kill -CONT $pid_a 2>/dev/null || true; cleanup "$rc"' EXIT
mine=$(marked)
[ -n "$mine" ] || fail "install A's restore made no marked database"

# Install B's restore meanwhile.
"$POLARITY" --app-dir "$WORK/app_b" restore --yes "$archive_b" >"$WORK/out_b" 2>"$WORK/err_b"
rc_b=$?
[ "$rc_b" = 0 ] || fail "install B's restore failed beside A's: $(cat "$WORK/err_b")"
if grep -q "dropped database" "$WORK/err_b"; then
	fail "install B's restore dropped a database: $(grep dropped "$WORK/err_b")"
fi
su_psql -c "SELECT 1 FROM pg_database WHERE datname = '$mine'" | grep -q 1 ||
	fail "install A's database $mine is gone"

kill -CONT "$pid_a"
wait "$pid_a" || fail "install A's restore failed: $(cat "$WORK/err_a")"
dump_db polarity >"$WORK/a.after"
dump_db polarity_b >"$WORK/b.after"
diff "$WORK/a.before" "$WORK/a.after" >/dev/null || fail "install A's database differs"
diff "$WORK/b.before" "$WORK/b.after" >/dev/null || fail "install B's database differs"
[ -z "$(marked)" ] || fail "marked databases left: $(marked)"
ok "two installs restored at once on one server: both succeed, neither touches the other's database"

# A restore that died (SIGKILL) leaves its marked database; its lock died
# with its session, so the next restore drops it.
restore_a_loading
stale=$(marked)
[ -n "$stale" ] || fail "no marked database to leave behind"
kill -KILL "$pid_a"
wait "$pid_a" 2>/dev/null || true
# Its children may hold on a moment; the lock goes with the session.
for _ in $(seq 100); do
	su_psql -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 1886350433" | grep -qx 0 && break
	sleep 0.1
done
run_polarity restore --yes "$archive_a"
expect 0 "dropped database \"$stale\" left by an interrupted restore"
[ -z "$(marked)" ] || fail "marked databases left: $(marked)"
ok "a database left by a killed restore is still dropped by the next"
