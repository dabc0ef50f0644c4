#!/bin/bash
# tests/backup.sh - a backup of a real PostgreSQL database, .env and
# integrations tree, taken apart and checked member by member.
. "${srcdir:-.}/tests/lib.sh"
pg_start
make_db
make_app "$WORK/app"

start=$(date +%s)
run_polarity -v backup
expect 0 ""
archive=$(tail -n 1 "$WORK/out")
case $archive in
"$WORK/app/backups/polarity-server-backup-"[0-9]*.tgz) ;;
*) fail "last line of output is not the archive: '$archive'" ;;
esac
stamp=${archive##*-}; stamp=${stamp%.tgz}
[ ${#stamp} = 14 ] || fail "stamp '$stamp' is not YYYYMMDDhhmmss"
# Five seconds either way: a virtual machine's clock is sometimes stepped
# while the test runs.
[ "$stamp" -ge "$(date -d "@$((start - 5))" +%Y%m%d%H%M%S)" ] &&
	[ "$stamp" -le "$(date -d "@$(($(date +%s) + 5))" +%Y%m%d%H%M%S)" ] ||
	fail "stamp '$stamp' is not local time now"
ok "archive named polarity-server-backup-YYYYMMDDhhmmss.tgz in local time"
grep -q "backup complete: '$archive', $(stat -c %s "$archive") bytes, in [0-9]*\.[0-9] s\$" "$WORK/err" ||
	fail "the last line does not give the path, size and duration: $(tail -n 1 "$WORK/err")"
ok "the last line of the log says which archive, how big, how long"

[ "$(stat -c %a "$archive")" = 600 ] || fail "archive mode $(stat -c %a "$archive")"
[ "$(stat -c %a "$WORK/app/backups")" = 700 ] || fail "backup dir not 0700"
[ "$(backup_dir_contents "$WORK/app/backups")" = "$(basename "$archive")" ] ||
	fail "other files in the backup directory: $(backup_dir_contents "$WORK/app/backups")"
ok "archive 0600 in a 0700 directory, nothing else left"

gzip -t "$archive" || fail "not a valid gzip stream"
top=$(basename "$archive" .tgz)
tar -tzf "$archive" >"$WORK/list"
if grep -v "^$top/" "$WORK/list"; then fail "members outside the top folder"; fi
for m in FORMAT .env integrations/ database/roles.sql database/1-pre-data.sql \
	database/2-data.sql database/3-post-data.sql MANIFEST; do
	grep -qxF "$top/$m" "$WORK/list" || fail "no member $m"
done
[ "$(tail -n 1 "$WORK/list")" = "$top/MANIFEST" ] || fail "MANIFEST is not last"
ok "layout: one top folder with FORMAT, .env, integrations, database, MANIFEST"

mkdir "$WORK/x"
tar -xzf "$archive" -C "$WORK/x"
x=$WORK/x/$top
cmp "$x/.env" "$WORK/app/.env" || fail ".env differs"
ok ".env byte for byte"

same_tree "$WORK/app/integrations" "$x/integrations" integrations
ok "integrations: files, empty folders, symlinks, modes, odd names"

grep -qx 'polarity-server-backup 1' "$x/FORMAT" || fail "FORMAT"
head -n 1 "$x/MANIFEST" | grep -qx 'polarity-server-backup-manifest 1' || fail "manifest version"
server=$(su_psql -c 'SHOW server_version' | cut -d' ' -f1)
grep -qx "server-version $server" "$x/MANIFEST" || fail "server version"
grep -qx "pg-dump-version $(pg_dump --version | awk '{print $3}')" "$x/MANIFEST" ||
	fail "pg_dump version"
grep -q '^tool polarity ' "$x/MANIFEST" || fail "tool version"
grep -q '^created [0-9-]*T[0-9:]*Z$' "$x/MANIFEST" || fail "creation time"
grep -qx 'database polarity' "$x/MANIFEST" || fail "database name"
grep -qx 'encoding UTF8' "$x/MANIFEST" || fail "database encoding"
ok "manifest header: format, tool, time, versions"

# Every file in the archive is in the manifest with its SHA-256, and the
# other way round.
n=0
while read -r kind mode size sha name target; do
	case $kind in
	f) path=$(printf '%b' "${name//\\/\\0}")
	   [ "$(sha256sum <"$x/$path" | cut -d' ' -f1)" = "$sha" ] || fail "sha256 of $path"
	   [ "$(stat -c %s "$x/$path")" = "$size" ] || fail "size of $path"
	   n=$((n + 1)) ;;
	d|l) n=$((n + 1)) ;;
	esac
done < <(grep '^[fdl] ' "$x/MANIFEST")
members=$(cd "$x" && find . -mindepth 1 ! -name MANIFEST | wc -l)
[ "$n" = "$members" ] || fail "manifest lists $n members, archive has $members"
ok "manifest: SHA-256 and size of all $n members"

grep -q 'CREATE ROLE "Mixed Case Owner"' "$x/database/roles.sql" || fail "roles.sql lacks a role"
if grep -q 'SCRAM-SHA-256\$' "$x/database/roles.sql"; then fail "role passwords saved"; fi
ok "roles saved, without passwords"

# The dumps replay with plain psql into an empty database and give the
# same database back.
su_psql -c 'CREATE DATABASE replay'
for f in 1-pre-data 2-data 3-post-data; do
	su_psql -d replay -f "$x/database/$f.sql" >/dev/null ||
		fail "psql cannot replay $f.sql"
done
diff <(dump_db polarity) <(dump_db replay) >"$WORK/dumpdiff" ||
	{ head -20 "$WORK/dumpdiff"; fail "replayed database differs"; }
[ "$(su_psql -d replay -c "SELECT last_value FROM intel.tag_id_seq")" = 4242 ] ||
	fail "sequence value lost"
ok "dumps replay with psql into an identical database"

# The pre-data and post-data dumps are written by pg_restore from one
# pg_dump in the custom format: byte for byte what a pg_dump of each
# section alone writes, but for the random key of \restrict.
section() { # SECTION FILE: FILE without its \restrict key
	diff <(PGPASSWORD=$PG_SUPERPASS "$PGBIN/pg_dump" -h 127.0.0.1 \
		-p "$PGPORT_TEST" -U postgres --section="$1" polarity |
		sed 's/^\\\(un\)\{0,1\}restrict .*/\\restrict KEY/') \
		<(sed 's/^\\\(un\)\{0,1\}restrict .*/\\restrict KEY/' "$2") \
		>"$WORK/secdiff" ||
		{ head -20 "$WORK/secdiff"; fail "$2 is not pg_dump's $1"; }
	[ "$(grep -c '^CREATE\|^ALTER\|^GRANT' "$2")" -gt 3 ] ||
		fail "$2 holds next to nothing"
}
section pre-data "$x/database/1-pre-data.sql"
section post-data "$x/database/3-post-data.sql"
ok "pre-data and post-data: what pg_dump --section writes, byte for byte"

no_password_in "$WORK/out" "$WORK/err" "$x/database/"*.sql "$x/MANIFEST"
ok "password in no output, dump or manifest"

# Archive names already taken for this second and the next few: the new
# backup takes the first free one and touches none of the others.
rm -f "$WORK/app/backups/"*.tgz
now=$(date +%s)
for i in 0 1 2 3 4 5; do
	name=polarity-server-backup-$(date -d "@$((now + i))" +%Y%m%d%H%M%S).tgz
	echo "taken $i" >"$WORK/app/backups/$name"
done
run_polarity -q backup
expect 0 ""
new=$(tail -n 1 "$WORK/out")
[ -f "$new" ] && gzip -t "$new" || fail "no new archive"
for f in "$WORK/app/backups/"*.tgz; do
	[ "$f" = "$new" ] && continue
	grep -q '^taken ' "$f" || fail "$f was overwritten"
done
[ "$(ls "$WORK/app/backups/"*.tgz | wc -l)" = 7 ] || fail "wrong archive count"
case $(basename "$new") in
polarity-server-backup-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9].tgz) ;;
*) fail "name $new is not in the documented format" ;;
esac
[ ! -s "$WORK/err" ] || fail "-q still printed: $(cat "$WORK/err")"
ok "an existing archive is never overwritten; a free name in the format is used"

# Back to back, as fast as they go: distinct names, both complete.
rm -f "$WORK/app/backups/"*.tgz
run_polarity -q backup; expect 0 ""; a=$(tail -n 1 "$WORK/out")
run_polarity -q backup; expect 0 ""; b=$(tail -n 1 "$WORK/out")
[ "$a" != "$b" ] && gzip -t "$a" && gzip -t "$b" || fail "back-to-back backups collide"
ok "two backups in a row get two names"

# The password is in no process's argv at any moment of a run: sample
# the command lines of the program and its children while a slowed-down
# backup runs (only those: other tests may run beside this one).  Three
# seconds: a sweep of /proc can take more than one on a loaded machine.
wrap_pg_dump "$WORK/slowbin" 'sleep 3'
"$POLARITY" --app-dir "$WORK/app" --pg-bindir "$WORK/slowbin" backup \
	>"$WORK/out" 2>"$WORK/err" &
bg=$!
sample_cmdlines "$bg" "$WORK/cmdlines"
wait "$bg" || fail "slowed backup failed: $(cat "$WORK/err")"
grep -q 'pg_dump.*--section=data' "$WORK/cmdlines" || fail "sampling saw no pg_dump"
no_password_in "$WORK/cmdlines"
ok "password never in any process's argv ($(grep -c . "$WORK/cmdlines") command lines sampled)"

# Nor in the compressor's environment: it is no business of its.
cat >"$WORK/zipenv" <<EOF2
#!/bin/sh
env >"$WORK/zip.env"
exec gzip "\$@"
EOF2
chmod 755 "$WORK/zipenv"
run_polarity --compressor "$WORK/zipenv" -q backup
expect 0 ""
[ -s "$WORK/zip.env" ] || fail "the compressor wrapper did not run"
if grep -q '^PG' "$WORK/zip.env"; then
	fail "the compressor got $(grep -o '^PG[A-Z_]*' "$WORK/zip.env" | tr '\n' ' ')"
fi
ok "the compressor's environment has no PG variable, no password"

# One snapshot for all the dumps: rows and tables made after the backup
# exported its snapshot are in none of them, even in a dump that starts
# later.
wrap_pg_dump "$WORK/gatebin" "case \"\$*\" in *section=data*)
	while [ ! -e '$WORK/gate' ]; do sleep 0.1; done ;; esac"
"$POLARITY" --app-dir "$WORK/app" --pg-bindir "$WORK/gatebin" backup \
	>"$WORK/out" 2>"$WORK/err" &
bg=$!
for _ in $(seq 100); do
	n=$(su_psql -c "SELECT count(*) FROM pg_stat_activity WHERE
		application_name = 'polarity-backup' AND state = 'idle in transaction'")
	[ "$n" -ge 1 ] && break
	sleep 0.1
done
[ "$n" -ge 1 ] || fail "the backup never opened its snapshot"
PGPASSWORD=$APP_PASSWORD psql -X -q -h 127.0.0.1 -p "$PGPORT_TEST" -U polarity \
	-d polarity -v ON_ERROR_STOP=1 -c "INSERT INTO intel.entity (value, kind)
	VALUES ('after-the-snapshot', 'late')" -c "CREATE TABLE intel.late_table (x int)"
touch "$WORK/gate"
wait "$bg" || fail "gated backup failed: $(cat "$WORK/err")"
archive=$(tail -n 1 "$WORK/out")
tar -xzOf "$archive" --wildcards '*/database/2-data.sql' >"$WORK/data.sql"
grep -q 'host-500.example' "$WORK/data.sql" || fail "data dump is empty"
if grep -q 'after-the-snapshot' "$WORK/data.sql"; then fail "data dump saw a later row"; fi
if tar -xzOf "$archive" --wildcards '*/database/*.sql' | grep -q late_table; then
	fail "schema dump saw a later table"
fi
ok "schema and data dumps come from one snapshot"

# The data dump is compressed while it is made: by the time pg_dump has
# written its last line (and before it exits), a compressor has read the
# whole of it.  A staged data dump reaches no compressor until every dump
# has ended.  The compressor's input is then exactly the archive's member.
cat >"$WORK/teezip" <<EOF2
#!/bin/bash
tee "$WORK/zipin.\$\$" | gzip "\$@"
EOF2
chmod 755 "$WORK/teezip"
wrap_pg_dump "$WORK/streambin" "case \"\$*\" in *section=data*)
	'$PGBIN/pg_dump' \"\$@\" || exit \$?
	for _ in \$(seq 100); do
		for f in '$WORK'/zipin.*; do
			if grep -q 'host-500.example' \"\$f\" 2>/dev/null &&
			    tail -c 100 \"\$f\" | grep -q ' dump complete'; then
				echo \"\$f\" >'$WORK/streamed'; exit 0
			fi
		done
		sleep 0.1
	done
	exit 0 ;; esac"
run_polarity --pg-bindir "$WORK/streambin" --compressor "$WORK/teezip" backup
expect 0 ""
[ -s "$WORK/streamed" ] ||
	fail "no compressor had read the data dump before pg_dump ended"
archive=$(tail -n 1 "$WORK/out")
tar -xzOf "$archive" --wildcards '*/database/2-data.sql' |
	cmp - "$(cat "$WORK/streamed")" ||
	fail "the data member is not what its compressor read"
run_polarity verify "$archive"
expect 0 ""
ok "the data dump is compressed while pg_dump writes it"

# The compressors when none is given: the data dump's is pigz at level 5,
# the other members' (the .env, the schema, the integrations, the
# post-data dump, the manifest) igzip at level 3, a tenth of the CPU on
# the integrations.  A level or a compressor given is used for all three.
command -v igzip >/dev/null || fail "igzip is needed (scripts/build.sh installs isal)"
command -v pigz >/dev/null || fail "pigz is needed (scripts/build.sh installs it)"
mkdir -p "$WORK/zipbin"
for z in igzip pigz; do
	cat >"$WORK/zipbin/$z" <<EOF
#!/bin/sh
echo "$z \$*" >>"$WORK/zips.log"
exec $(command -v $z) "\$@"
EOF
	chmod 755 "$WORK/zipbin/$z"
done
rm -f "$WORK/zips.log"
PATH="$WORK/zipbin:$PATH" run_polarity -v backup
expect 0 "compressing the other members with 'igzip' at level 3"
grep -qF "compressing the data dump with 'pigz' at level 5" "$WORK/err" ||
	fail "the data dump's compressor: $(grep compressing "$WORK/err")"
[ "$(sort "$WORK/zips.log" | uniq -c | sed 's/^ *//')" = "2 igzip -3 -n -c
1 pigz -5 -n -c" ] || fail "the compressors run: $(cat "$WORK/zips.log")"
a=$(tail -n 1 "$WORK/out")
run_polarity verify "$a"
expect 0 ""
rm -f "$WORK/zips.log"
PATH="$WORK/zipbin:$PATH" run_polarity --compress-level 6 -q backup
expect 0 ""
[ "$(sort "$WORK/zips.log" | uniq -c | sed 's/^ *//')" = "3 pigz -6 -n -c" ] ||
	fail "with a level given, the compressors run: $(cat "$WORK/zips.log")"
ok "by default the data dump's compressor is pigz -5 and the others' igzip -3; a level given is for all three"

# The data dump's compressed stream is written far ahead in the archive
# while the members before it are written, and the gap between them is
# closed at the end: by a collapse where the file system can (ext4, XFS),
# which moves nothing, else by a copy; where the archive cannot grow that
# large, the stream goes to a file of its own.  Each way gives an archive
# every gzip reader reads, whose members match its manifest.
placed() {
	local want=$1 a
	expect 0 "$want"
	a=$(tail -n 1 "$WORK/out")
	gzip -t "$a" || fail "$want: gzip -t fails"
	pigz -t "$a" || fail "$want: pigz -t fails"
	igzip -dc <"$a" >/dev/null || fail "$want: igzip fails"
	tar -xzOf "$a" --wildcards '*/database/2-data.sql' >"$WORK/placed.sql"
	grep -q 'host-500.example' "$WORK/placed.sql" ||
		fail "$want: the data dump lacks its rows"
	run_polarity verify "$a"
	expect 0 ""
	rm -f "$a"
}
run_polarity -v backup
case $(stat -f -c %T "$WORK/app/backups") in
ext2/ext3|xfs) placed "the data dump was written in place" ;;
*) expect 0 "" ;;
esac
# A file size limit the archive's far offset would pass: a file of its
# own.  (The limit is the shell's; SIGXFSZ is ignored by the program.)
(ulimit -f 1048576; run_polarity -v backup; placed \
	"the data dump is compressed into a file of its own: the archive cannot grow to")
if [ "$(id -u)" = 0 ]; then
	mkdir "$WORK/tmpfs"
	mount -t tmpfs -o size=256m tmpfs "$WORK/tmpfs" ||
		fail "cannot mount a tmpfs for the test"
	trap 'rc=$?; set +e; umount "$WORK/tmpfs" 2>/dev/null || true; cleanup "$rc"' EXIT
	run_polarity -v --backup-dir "$WORK/tmpfs" backup
	placed "the data dump was copied into place: this file system cannot collapse a range of a file"
	umount "$WORK/tmpfs"
fi
ok "the data dump written in place, copied into place (tmpfs) or from a file of its own (a file size limit): sound archives"
