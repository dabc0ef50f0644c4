#!/bin/bash
# tests/backup-faults.sh - a backup that fails says why in one line,
# exits non-zero, and leaves nothing behind.
. "${srcdir:-.}/tests/lib.sh"
pg_start
make_db
make_app "$WORK/app"
B=$WORK/app/backups
mkdir -m 700 "$B"

# Nothing but the lock file may be in the backup directory.
clean() {
	[ -z "$(backup_dir_contents "$B")" ] ||
		fail "left behind: $(backup_dir_contents "$B" | tr '\n' ' ')"
	[ ! -s "$WORK/out" ] || fail "output after a failure: $(cat "$WORK/out")"
}

# A stale temporary archive from a crashed run is removed by the next run.
touch "$B/.polarity-server-backup-AbC123.tmp"
run_polarity backup
expect 0 "removed '$B/.polarity-server-backup-AbC123.tmp'"
[ ! -e "$B/.polarity-server-backup-AbC123.tmp" ] || fail "stale temp file kept"
rm -f "$B"/*.tgz
ok "stale temporary files of a crashed run are cleaned up"

# The lock: a second run exits at once, naming the first.
exec 9>"$B/.polarity.lock"
flock 9
echo "backup (pid 4242, started earlier)" >&9
run_polarity backup
expect 3 "another polarity run holds '$B/.polarity.lock': backup (pid 4242"
clean
exec 9>&-
ok "a held lock stops a second run (exit 3) with the holder named"

# pg_dump failing, with its own words.
wrap_pg_dump "$WORK/failbin" 'case "$*" in *section=data*)
	echo "pg_dump: error: simulated failure" >&2; exit 1 ;; esac'
run_polarity --pg-bindir "$WORK/failbin" backup
expect 1 "backup failed: 'pg_dump' exited with status 1: pg_dump: error: simulated failure"
clean
ok "pg_dump failing: named, with its status and message"

# pg_dump killed by a signal in the middle of its output.
wrap_pg_dump "$WORK/killbin" 'case "$*" in *section=data*)
	"'"$PGBIN"'/pg_dump" "$@" | head -c 1000; kill -9 $$ ;; esac'
run_polarity --pg-bindir "$WORK/killbin" backup
expect 1 "'pg_dump' was killed by signal 9"
clean
ok "pg_dump killed mid-stream: named, with the signal"

# A pg_dump that stops short yet exits 0 (as a docker client stopped by
# SIGTERM does): its dump does not end as a whole one does.
wrap_pg_dump "$WORK/shortbin" 'case "$*" in *section=data*)
	"'"$PGBIN"'/pg_dump" "$@" | head -c 2000; exit 0 ;; esac'
run_polarity --pg-bindir "$WORK/shortbin" backup
expect 1 "backup failed: 'pg_dump' exited with status 0 but its dump (database/2-data.sql) is not complete"
clean
ok "a dump cut short with exit status 0: refused, nothing left"

# The schema's pg_dump (one, in the custom format, for the pre-data and
# the post-data) failing, and each pg_restore that writes a section from
# it failing, stopping short with exit status 0, or missing.
wrap_pg_dump "$WORK/schemabin" 'case "$*" in *format=custom*)
	echo "pg_dump: error: simulated schema failure" >&2; exit 1 ;; esac'
run_polarity --pg-bindir "$WORK/schemabin" backup
expect 1 "backup failed: 'pg_dump' exited with status 1: pg_dump: error: simulated schema failure"
clean
restore_bin() { # DIR CODE: pg_restore runs CODE first
	wrap_pg_dump "$1" ''
	rm -f "$1/pg_restore"
	printf '#!/bin/bash\n%s\nexec "%s" "$@"\n' "$2" "$PGBIN/pg_restore" \
		>"$1/pg_restore"
	chmod 755 "$1/pg_restore"
}
restore_bin "$WORK/prefail" 'case "$*" in *section=pre-data*)
	echo "pg_restore: error: simulated" >&2; exit 1 ;; esac'
run_polarity --pg-bindir "$WORK/prefail" backup
expect 1 "backup failed: 'pg_restore' exited with status 1: pg_restore: error: simulated"
clean
restore_bin "$WORK/postshort" 'case "$*" in *section=post-data*)
	"'"$PGBIN"'/pg_restore" "$@" | head -c 300; exit 0 ;; esac'
run_polarity --pg-bindir "$WORK/postshort" backup
expect 1 "backup failed: 'pg_restore' exited with status 0 but its dump (database/3-post-data.sql) is not complete"
clean
wrap_pg_dump "$WORK/norestore" ''
rm "$WORK/norestore/pg_restore"
run_polarity --pg-bindir "$WORK/norestore" backup
expect 1 "backup failed: cannot run '$WORK/norestore/pg_restore': No such file or directory"
clean
ok "the schema's pg_dump or a pg_restore failing, short or missing: named, nothing left"

# A pg_dump older than the server is caught, with the package to install,
# before the archive is complete (the dumps, started as soon as the
# snapshot is exported, are stopped, and the unnamed archive begun is
# removed: nothing is left).
wrap_pg_dump "$WORK/oldbin" '[ "$1" = --version ] && { echo "pg_dump (PostgreSQL) 13.9"; exit 0; }'
major=$(su_psql -c 'SHOW server_version_num')
major=$((major / 10000))
run_polarity --pg-bindir "$WORK/oldbin" backup
expect 1 "pg_dump 13.9 is older than the server (PostgreSQL $major."
expect 1 "install postgresql-client-$major"
clean
ok "old pg_dump detected up front, with the client to install"

# The compressor dying mid-stream.
cat >"$WORK/badzip" <<'EOF2'
#!/bin/bash
head -c 5000 >/dev/null
echo "badzip: error: disk on fire" >&2
exit 7
EOF2
chmod 755 "$WORK/badzip"
run_polarity --compressor "$WORK/badzip" backup
expect 1 "'badzip' exited with status 7: badzip: error: disk on fire"
clean
ok "compressor failing: named, nothing left"

# The archive is compressed in three streams: the members up to the data
# dump's header, the data dump (compressed while it is made, by a
# compressor of its own) and the rest.  Each compressor failing alone is
# named, and nothing is left.  Which stream a compressor has is told by
# its first bytes: the tar stream begins with the member FORMAT, the data
# dump with a comment, the rest with neither.
for part in data rest; do
	cat >"$WORK/badzip-$part" <<EOF2
#!/usr/bin/perl
binmode STDIN;
read(STDIN, my \$head, 512);
my \$part = \$head =~ /^polarity-server-backup-[0-9]+\\/FORMAT\\0/ ? 'first' :
    \$head =~ /^--/ ? 'data' : 'rest';
if (\$part eq '$part') {
	print STDERR "badzip: error: cannot write the \$part\\n";
	exit 7;
}
open(my \$z, '|-', 'gzip', @ARGV) or die;
binmode \$z;
print \$z \$head;
print \$z \$_ while read(STDIN, \$_, 65536);
close(\$z) or exit 1;
EOF2
	chmod 755 "$WORK/badzip-$part"
	run_polarity --compressor "$WORK/badzip-$part" backup
	expect 1 "'badzip-$part' exited with status 7: badzip: error: cannot write the $part"
	clean
done
ok "the data dump's compressor and the last one failing: named, nothing left"

# Plain gzip works where pigz is not wanted, and pigz with its own
# options (threads capped); the archive verifies with either.
run_polarity --compressor gzip --compress-level 1 backup
expect 0 ""
gzip -t "$(tail -n 1 "$WORK/out")" || fail "gzip archive broken"
if command -v pigz >/dev/null; then
	run_polarity --compressor 'pigz -p 1' backup
	expect 0 ""
	a=$(tail -n 1 "$WORK/out")
	run_polarity --compressor 'pigz -p 1' verify "$a"
	expect 0 ""
fi
rm -f "$B"/*.tgz
ok "gzip, and pigz with its threads capped, as the compressor"

# Wrong password: one line, and the password is not in it.
cp "$WORK/app/.env" "$WORK/env.good"
sed -i "s|^POLARITY_DB_PASSWORD=.*|POLARITY_DB_PASSWORD='wrong password'|" "$WORK/app/.env"
run_polarity backup
expect 1 'password authentication failed for user "polarity"'
[ "$(grep -c . "$WORK/err")" -le 4 ] || fail "too many lines: $(cat "$WORK/err")"
if grep -q 'wrong password' "$WORK/err"; then fail "the password was printed"; fi
clean
ok "wrong password: one clear line, no secret"

# Unreachable server and missing database: one line each, no hanging.
cp "$WORK/env.good" "$WORK/app/.env"
sed -i "s|^POLARITY_DB_PORT=.*|POLARITY_DB_PORT=$(free_port)|" "$WORK/app/.env"
run_polarity backup
expect 1 "Connection refused"
clean
cp "$WORK/env.good" "$WORK/app/.env"
sed -i "s|^POLARITY_DB_DATABASE=.*|POLARITY_DB_DATABASE=nosuchdb|" "$WORK/app/.env"
run_polarity backup
expect 1 'database "nosuchdb" does not exist'
clean
cp "$WORK/env.good" "$WORK/app/.env"
ok "unreachable server, missing database: one clear line"

# SIGTERM and SIGINT in the middle of a dump: children stopped, nothing
# left, exit status 128+N.
wrap_pg_dump "$WORK/hangbin" 'case "$*" in *section=data*)
	echo $$ >"'"$WORK"'/hang.pid"; sleep 300 ;; esac'
for sig in TERM INT; do
	rm -f "$WORK/hang.pid"
	"$POLARITY" --app-dir "$WORK/app" --pg-bindir "$WORK/hangbin" backup \
		>"$WORK/out" 2>"$WORK/err" &
	bg=$!
	for _ in $(seq 100); do [ -s "$WORK/hang.pid" ] && break; sleep 0.1; done
	[ -s "$WORK/hang.pid" ] || fail "the dump never started"
	kill -s "$sig" "$bg"
	set +e; wait "$bg"; RC=$?; set -e
	want=$(( 128 + $(kill -l "$sig") ))
	expect "$want" "backup stopped by signal $(kill -l "$sig")"
	sleep 0.2
	if kill -0 "$(cat "$WORK/hang.pid")" 2>/dev/null; then fail "pg_dump still running"; fi
	clean
	ok "SIG$sig mid-dump: exit $want, children stopped, nothing left"
done

# After all these failures, a backup still works.
run_polarity backup
expect 0 ""
gzip -t "$(tail -n 1 "$WORK/out")"
ok "a clean backup after the failures"

# Where the file system has no O_TMPFILE (a preload makes it so here),
# the archive is a dot-file until complete: named in the end, removed on
# failure, and, after a SIGKILL, removed by the next run.
export LD_PRELOAD="$builddir/tests/no-tmpfile.so"
# A sanitizer build wants its runtime first in the list; this preload
# only wraps open().
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
rm -f "$B"/*.tgz
run_polarity backup
expect 0 ""
a=$(tail -n 1 "$WORK/out")
gzip -t "$a" || fail "no-O_TMPFILE archive broken"
[ "$(backup_dir_contents "$B")" = "$(basename "$a")" ] || fail "left: $(backup_dir_contents "$B")"
[ "$(stat -c %a "$a")" = 600 ] || fail "no-O_TMPFILE archive mode"
rm -f "$B"/*.tgz
run_polarity --compressor "$WORK/badzip" backup
expect 1 "badzip: error: disk on fire"
clean
rm -f "$WORK/hang.pid"
"$POLARITY" --app-dir "$WORK/app" --pg-bindir "$WORK/hangbin" backup >"$WORK/out" 2>"$WORK/err" &
bg=$!
for _ in $(seq 100); do [ -s "$WORK/hang.pid" ] && break; sleep 0.1; done
ls -A "$B" | grep -q '^\.polarity-server-backup-.*\.tmp$' || fail "no temporary archive while running"
kill -KILL "$bg"; wait "$bg" 2>/dev/null || true
kill -- -"$(cat "$WORK/hang.pid")" 2>/dev/null || true	# its whole group
run_polarity backup
expect 0 "left by an interrupted run"
[ "$(backup_dir_contents "$B")" = "$(basename "$(tail -n 1 "$WORK/out")")" ] || fail "stale file kept"
unset LD_PRELOAD
ok "without O_TMPFILE: a dot-file until complete, removed on failure and by the run after a SIGKILL"
