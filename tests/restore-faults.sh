#!/bin/bash
# tests/restore-faults.sh - damaged, foreign and hostile archives are
# refused before anything changes; a restore that fails or is stopped
# midway leaves the server as it was.
. "${srcdir:-.}/tests/lib.sh"
sample_server
sample_backup
mkdir "$WORK/x"
tar -xzf "$archive" -C "$WORK/x"
top=$(ls "$WORK/x")
T=$WORK/x/$top
tar -tzf "$archive" >"$WORK/list"
before=$(state_of)

# Restoring BAD must fail with status 4 and a message holding TEXT, with
# nothing changed and nothing left behind.
refused() {
	local bad=$1 text=$2 what=$3
	run_polarity restore --yes "$bad"
	expect 4 "$text"
	[ "$(state_of)" = "$before" ] || fail "$what: the server changed"
	[ -z "$(ls -d "$WORK"/app/.polarity-restore-* 2>/dev/null)" ] || fail "$what: staging left"
	run_polarity verify "$bad"
	expect 4 "$text"
	ok "refused, nothing changed: $what"
}

# Works on a copy of the extracted archive; $1 is a function that changes
# it (in $C, list in $L); writes $WORK/bad.tgz.
variant() {
	rm -rf "$WORK/v"; cp -a "$WORK/x" "$WORK/v"
	C=$WORK/v/$top L=$WORK/v.list
	cp "$WORK/list" "$L"
	"$1"
	repack "$WORK/v" "$L" "$WORK/bad.tgz"
}

size=$(stat -c %s "$archive")
for cut in 10 $((size / 3)) $((size - 40)) $((size - 4)); do
	head -c "$cut" "$archive" >"$WORK/bad.tgz"
	refused "$WORK/bad.tgz" "is damaged" "archive cut at byte $cut of $size"
done

cp "$archive" "$WORK/bad.tgz"
printf '\xff' | dd of="$WORK/bad.tgz" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
# Caught by gzip's CRC, or first by the member's SHA-256: either way
# refused.
refused "$WORK/bad.tgz" "" "a byte flipped in the middle"
grep -q -e "is damaged" -e "does not match the MANIFEST" "$WORK/err" ||
	fail "a flipped byte: $(cat "$WORK/err")"

: >"$WORK/bad.tgz"
refused "$WORK/bad.tgz" "is empty, so not a backup archive" "an empty file"
head -c 5000 /dev/urandom >"$WORK/bad.tgz"
refused "$WORK/bad.tgz" "is not gzip-compressed, so not a backup archive" "random bytes"
head -c 20000 /dev/urandom | gzip >"$WORK/bad.tgz"
refused "$WORK/bad.tgz" "it is gzip-compressed, but what it holds is not a tar archive" "a gzip stream of something else"
tar -C "$WORK/app" -czf "$WORK/bad.tgz" integrations
refused "$WORK/bad.tgz" "not a Polarity backup archive" "a foreign tar archive"

f() { echo tampered >>"$C/.env"; }
variant f
refused "$WORK/bad.tgz" "'.env' does not match the MANIFEST" "a member changed after the backup"

f() { sed -i '$d' "$C/MANIFEST"; }
variant f
refused "$WORK/bad.tgz" "is not in the MANIFEST" "a member missing from the manifest"

f() { grep '2-data.sql$' "$C/MANIFEST" >"$WORK/line"; cat "$WORK/line" >>"$C/MANIFEST"; }
variant f
refused "$WORK/bad.tgz" "the MANIFEST lists 'database/2-data.sql' twice" "a member listed twice"

f() { grep -v '/MANIFEST$' "$WORK/list" >"$L"; }
variant f
refused "$WORK/bad.tgz" "has no MANIFEST" "no manifest"

f() { grep -v '2-data.sql$' "$WORK/list" >"$L"; }
variant f
refused "$WORK/bad.tgz" "which the archive lacks" "a dump missing"

f() { sed -i 's/^polarity-server-backup 1$/polarity-server-backup 9/' "$C/FORMAT"; }
variant f
refused "$WORK/bad.tgz" "archive format 9 is not one this version reads" "a newer format"

# Hostile members, each inserted before the MANIFEST.
hostile() {
	local name=$1
	grep -v '/MANIFEST$' "$WORK/list" >"$L"
	echo "$name" >>"$L"
	echo "$top/MANIFEST" >>"$L"
}
f() { ln -s /etc "$C/integrations/etc-link"; hostile "$top/integrations/etc-link"; }
variant f
refused "$WORK/bad.tgz" "is a symbolic link to '/etc', outside the integrations folder" "a symlink to /etc"

f() { ln -s ../../../.. "$C/integrations/up"; hostile "$top/integrations/up"; }
variant f
refused "$WORK/bad.tgz" "outside the integrations folder" "a symlink climbing out with .."

# (.env is earlier in the same tar run: tar stores this as a hard link.)
f() { ln "$C/.env" "$C/integrations/hard"; hostile "$top/integrations/hard"; }
variant f
refused "$WORK/bad.tgz" "is a hard link, which a backup never holds" "a hard link"

f() { mkfifo "$C/integrations/fifo"; hostile "$top/integrations/fifo"; }
variant f
refused "$WORK/bad.tgz" "is a FIFO, which a backup never holds" "a FIFO"

if [ "$(id -u)" = 0 ]; then
	f() { mknod "$C/integrations/null" c 1 3; hostile "$top/integrations/null"; }
	variant f
	refused "$WORK/bad.tgz" "is a character device, which a backup never holds" "a device node"
fi

f() { echo evil >"$C/integrations/evil"; hostile "$top/integrations/evil"; }
variant f
tar -C "$WORK/v" --format=pax --no-recursion -P -czf "$WORK/bad.tgz" -T "$L" \
	--transform "s|^$top/integrations/evil|/tmp/polarity-evil|"
refused "$WORK/bad.tgz" "'/tmp/polarity-evil' is outside the archive's top folder" "an absolute path"
[ ! -e /tmp/polarity-evil ] || fail "absolute member written"

tar -C "$WORK/v" --format=pax --no-recursion -czf "$WORK/bad.tgz" -T "$L" \
	--transform "s|^$top/integrations/evil|$top/integrations/../../evil|"
refused "$WORK/bad.tgz" "has an unsafe name" "a '..' path"

# Builds $WORK/bad.tgz from the copy in $WORK/v, with each DIR:MEMBER
# argument added on its own (tar adds happily what a single run would
# merge or refuse) right after the folder integrations/, where an entry
# named "aa..." sorts first, or (with --end) before the MANIFEST.
with_added() {
	local at
	if [ "$1" = --end ]; then
		shift
		at=$(grep -n '/MANIFEST$' "$WORK/list" | cut -d: -f1)
		at=$((at - 1))
	else
		at=$(grep -n "^$top/integrations/\$" "$WORK/list" | cut -d: -f1)
	fi
	head -n "$at" "$WORK/list" >"$WORK/v.list"
	tar -C "$WORK/v" --format=pax --no-recursion -cf "$WORK/bad.tar" -T "$WORK/v.list"
	for m; do
		tar -C "${m%%:*}" --format=pax --no-recursion -rf "$WORK/bad.tar" "${m#*:}"
	done
	tail -n +"$((at + 1))" "$WORK/list" >"$WORK/v.list"
	tar -C "$WORK/v" --format=pax --no-recursion -rf "$WORK/bad.tar" -T "$WORK/v.list"
	gzip -c "$WORK/bad.tar" >"$WORK/bad.tgz"
}

f() { echo dup >"$C/integrations/aa-dup"; }
variant f
with_added "$WORK/v:$top/integrations/aa-dup" "$WORK/v:$top/integrations/aa-dup"
refused "$WORK/bad.tgz" "appears twice" "a duplicate member"

f() { ln -s virustotal "$C/integrations/aa-vt"; }
variant f
mkdir -p "$WORK/y/$top/integrations/aa-vt"
echo x >"$WORK/y/$top/integrations/aa-vt/through"
with_added "$WORK/v:$top/integrations/aa-vt" "$WORK/y:$top/integrations/aa-vt/through"
refused "$WORK/bad.tgz" "lies below a symbolic link" "a member written through a symlink"

# The checks hold without a table of every member because a backup
# writes each folder's entries right after it, in name order: a member
# anywhere else is refused (here a duplicate of an earlier file, and a
# new file after the database).
f() { :; }
variant f
with_added --end "$WORK/v:$top/integrations/virustotal/integration.js"
refused "$WORK/bad.tgz" "'$top/integrations/virustotal/integration.js' is out of place" "a member out of place (a duplicate far from the first)"

f() { echo late >"$C/integrations/zz-late"; }
variant f
with_added --end "$WORK/v:$top/integrations/zz-late"
refused "$WORK/bad.tgz" "is out of place" "a member out of place (after the database)"

f() { echo x >"$C/unexpected"; hostile "$top/unexpected"; }
variant f
refused "$WORK/bad.tgz" "is not a member a backup has" "an unknown member"

# A dump that fails midway: the load stops, the old database stays.
f() { printf 'SELECT 1/0; -- a broken statement\n' >>"$C/database/2-data.sql"; fix_manifest "$C" database/2-data.sql; }
variant f
run_polarity verify "$WORK/bad.tgz"
expect 0 ""
run_polarity restore --yes "$WORK/bad.tgz"
expect 1 "division by zero"
expect 1 "the previous database, integrations and settings are in place"
[ "$(state_of)" = "$before" ] || fail "a failed load changed the server"
[ -z "$(su_psql -c "SELECT datname FROM pg_database WHERE datname LIKE '%restoring%'")" ] ||
	fail "the half-loaded database was left"
ok "a dump failing midway: old database, integrations and .env in place"

# The lock: a restore never runs beside another run.
exec 9>"$WORK/app/backups/.polarity.lock"
flock 9
echo "backup (pid 4242, started earlier)" >&9
run_polarity restore --yes "$archive"
expect 3 "backup (pid 4242"
exec 9>&-
[ "$(state_of)" = "$before" ] || fail "a locked-out restore changed the server"
ok "a held lock stops a restore (exit 3)"

# SIGTERM and SIGINT during the load: the loading psql is stopped, its
# database dropped, the staging folder removed, the server as it was.
mkdir -p "$WORK/slowbin"
ln -sf "$PGBIN/pg_dump" "$WORK/slowbin/pg_dump"
ln -sf "$PGBIN/pg_restore" "$WORK/slowbin/pg_restore"
ln -sf "$PGBIN/pg_dumpall" "$WORK/slowbin/pg_dumpall"
cat >"$WORK/slowbin/psql" <<EOF2
#!/bin/bash
# The load is the psql run without -A (the sessions use -A -t).
case "\$*" in *-A*|--version) ;; *) echo \$\$ >"$WORK/load.pid"; sleep 300 ;; esac
exec "$PGBIN/psql" "\$@"
EOF2
chmod 755 "$WORK/slowbin/psql"
for sig in TERM INT; do
	rm -f "$WORK/load.pid"
	"$POLARITY" --app-dir "$WORK/app" --pg-bindir "$WORK/slowbin" restore --yes "$archive" \
		>"$WORK/out" 2>"$WORK/err" &
	bg=$!
	for _ in $(seq 200); do [ -s "$WORK/load.pid" ] && break; sleep 0.1; done
	[ -s "$WORK/load.pid" ] || fail "the load never started: $(cat "$WORK/err")"
	kill -s "$sig" "$bg"
	set +e; wait "$bg"; RC=$?; set -e
	expect $((128 + $(kill -l "$sig"))) "restore stopped by signal"
	if kill -0 "$(cat "$WORK/load.pid")" 2>/dev/null; then fail "psql still running"; fi
	[ "$(state_of)" = "$before" ] || fail "SIG$sig changed the server"
	[ -z "$(ls -d "$WORK"/app/.polarity-restore-* 2>/dev/null)" ] || fail "staging left"
	ok "SIG$sig during the load: exit $RC, server as it was, nothing left"
done

# A restore that was killed outright leaves a staging folder and a
# half-loaded database; the next restore clears both.
mkdir "$WORK/app/.polarity-restore-AbCdEf"
su_psql -c "CREATE DATABASE polarity_restoring_19990101000000" \
	-c "COMMENT ON DATABASE polarity_restoring_19990101000000 IS 'polarity restore in progress'"
run_polarity restore --yes "$archive"
expect 0 "removed '$WORK/app/.polarity-restore-AbCdEf' left by an interrupted restore"
expect 0 'dropped database "polarity_restoring_19990101000000"'
ok "leftovers of a killed restore are cleared by the next one"
