#!/bin/bash
# tests/hardening.sh - faults that are rarer but real: a full disk, every
# child dying at the start and in the middle, signals at other points,
# two runs at once for real, a run killed outright, many damaged copies,
# oversized names and members, and secrets in restore's command lines.
. "${srcdir:-.}/tests/lib.sh"
sample_server
B=$WORK/app/backups
sample_backup
cp "$archive" "$WORK/good.tgz"
before=$(state_of)

unchanged() { # WHAT
	[ "$(state_of)" = "$before" ] || fail "$1: the server changed"
	[ -z "$(ls -d "$WORK"/app/.polarity-restore-* 2>/dev/null)" ] || fail "$1: staging left"
	[ -z "$(su_psql -c "SELECT datname FROM pg_database WHERE datname LIKE '%restoring%'")" ] ||
		fail "$1: a half-loaded database left"
}
no_leftovers() { # WHAT
	[ "$(backup_dir_contents "$B" | grep -v '^polarity-server-backup-[0-9]*\.tgz$')" = "" ] ||
		fail "$1: left behind: $(backup_dir_contents "$B" | tr '\n' ' ')"
}
archives() { ls "$B" | grep -c '^polarity-server-backup-[0-9]*\.tgz$' || true; }

# Many truncations and flipped bytes: each refused, nothing changed.
size=$(stat -c %s "$WORK/good.tgz")
n=0
for cut in 0 1 9 10 100 511 512 1000 4096 $((size / 7)) $((size / 5)) $((size / 3)) \
	$((size / 2)) $((size * 2 / 3)) $((size - 1000)) $((size - 9)) $((size - 8)) $((size - 1)); do
	head -c "$cut" "$WORK/good.tgz" >"$WORK/bad.tgz"
	run_polarity restore --yes "$WORK/bad.tgz"
	expect 4 ""
	n=$((n + 1))
done
unchanged "truncations"
RANDOM=42
gzip -dc "$WORK/good.tgz" >"$WORK/good.tar"
redrawn=0
for i in $(seq 12); do
	# A byte that holds nothing (a gzip member's time and OS bytes, the
	# zeros of the padding member before the data dump) may change
	# without harm: every reader gets the same bytes and the same
	# checks pass.  Such a flip is drawn again; the ones kept change
	# what the archive holds or break its gzip stream.
	while :; do
		cp "$WORK/good.tgz" "$WORK/bad.tgz"
		pos=$(( (RANDOM * 32768 + RANDOM) % size ))
		printf "\\x$(printf %02x $(( ( $(od -An -tu1 -j "$pos" -N1 "$WORK/bad.tgz") + 1 + RANDOM % 255 ) % 256 )))" |
			dd of="$WORK/bad.tgz" bs=1 seek="$pos" conv=notrunc 2>/dev/null
		cmp -s "$WORK/good.tgz" "$WORK/bad.tgz" && fail "the flip changed nothing"
		gzip -t "$WORK/bad.tgz" 2>/dev/null &&
			gzip -dc "$WORK/bad.tgz" | cmp -s - "$WORK/good.tar" || break
		redrawn=$((redrawn + 1))
		[ "$redrawn" -lt 50 ] || fail "50 flips in bytes that hold nothing"
	done
	run_polarity restore --yes "$WORK/bad.tgz"
	expect 4 ""
	n=$((n + 1))
done
unchanged "flipped bytes"
ok "$n damaged copies (18 truncations, 12 flipped bytes) refused with exit 4, nothing changed"

# A member declaring a huge size (a tar bomb) in the place of the last
# dump: refused when the stream ends, the staging folder gone.
mkdir "$WORK/x"
tar -xzf "$WORK/good.tgz" -C "$WORK/x"
top=$(ls "$WORK/x")
tar -tzf "$WORK/good.tgz" | grep -v '/MANIFEST$' >"$WORK/list"
grep -v '/3-post-data.sql$' "$WORK/list" >"$WORK/list.bomb"
tar -C "$WORK/x" --format=pax --no-recursion -cf "$WORK/bomb.tar" -T "$WORK/list.bomb"
# A header for a 1 TB file, valid checksum, then nothing.
python_free_header() {
	local name=$1 size_octal=$2 h sum
	h=$(mktemp)
	printf '%s' "$name" | head -c 100 >"$h"
	truncate -s 100 "$h"
	printf '0000644\0000000000\0000000000\0%s\00000000000000\0        0' "$size_octal" >>"$h"
	truncate -s 257 "$h"
	printf 'ustar\00000' >>"$h"
	truncate -s 512 "$h"
	sum=$(od -An -tu1 -v "$h" | tr -s ' ' '\n' | awk '{ s += $1 } END { print s }')
	printf '%06o\0 ' "$sum" | dd of="$h" bs=1 seek=148 conv=notrunc 2>/dev/null
	cat "$h"
	rm -f "$h"
}
# Cut the end-of-archive blocks: the last member's block, its header and
# its data.
last=$(tar -tvR -f "$WORK/bomb.tar" | grep '^block [0-9]*: ' | grep -v '\*\*' | tail -n 1)
blk=${last#block }; blk=${blk%%:*}
sz=$(echo "$last" | awk '{ print $5 }')
truncate -s $(( (blk + 1 + (sz + 511) / 512) * 512 )) "$WORK/bomb.tar"
python_free_header "$top/database/3-post-data.sql" 17777777777 >>"$WORK/bomb.tar"
head -c 100000 /dev/zero >>"$WORK/bomb.tar"
gzip -c "$WORK/bomb.tar" >"$WORK/bad.tgz"
run_polarity restore --yes "$WORK/bad.tgz"
expect 4 "ends too early"
unchanged "a 1 TB member"
ok "a member declaring 1 TB: refused when the data runs out, nothing left"

# A name part of 4,000 bytes (in a pax header).
long=$(printf 'n%.0s' $(seq 4000))
mkdir -p "$WORK/y/$top/integrations"
: >"$WORK/y/$top/integrations/short"
cp "$WORK/list" "$WORK/list2"
tar -C "$WORK/x" --format=pax --no-recursion -cf "$WORK/long.tar" -T "$WORK/list2"
tar -C "$WORK/y" --format=pax --no-recursion -rf "$WORK/long.tar" \
	--transform "s|integrations/short|integrations/$long|" "$top/integrations/short"
tar -C "$WORK/x" --format=pax --no-recursion -rf "$WORK/long.tar" "$top/MANIFEST"
gzip -c "$WORK/long.tar" >"$WORK/bad.tgz"
run_polarity restore --yes "$WORK/bad.tgz"
expect 4 "a part longer than 255 bytes"
unchanged "a 4000-byte name"
ok "a 4,000-byte name: refused, nothing changed"

# A full disk under the backup folder (a 3 MB tmpfs), and under the
# staging folder of a restore: "No space left on device", nothing left.
if [ "$(id -u)" = 0 ] && mkdir -p "$WORK/small" && mount -t tmpfs -o size=3m tmpfs "$WORK/small" 2>/dev/null; then
	trap 'rc=$?; set +e; umount "$WORK/small" 2>/dev/null; cleanup "$rc"' EXIT
	head -c 4000000 /dev/urandom >"$WORK/app/integrations/incompressible.bin"
	run_polarity --backup-dir "$WORK/small/backups" backup
	expect 1 "No space left on device"
	[ -z "$(backup_dir_contents "$WORK/small/backups")" ] || fail "full disk: left behind"
	[ "$(df --output=used -B1 "$WORK/small" | tail -n 1)" -lt 100000 ] || fail "full disk: space still used"
	ok "backup onto a full disk: 'No space left on device', nothing left"
	# pg_dumpall exits 0 when its file runs out of room: a staged dump
	# cut short on a full file system is told as that.  (Its wrapper
	# fills the file system first, as the archive being written would.)
	mkdir -p "$WORK/fillbin"
	ln -sf "$PGBIN/psql" "$WORK/fillbin/psql"
	ln -sf "$PGBIN/pg_dump" "$WORK/fillbin/pg_dump"
	ln -sf "$PGBIN/pg_restore" "$WORK/fillbin/pg_restore"
	cat >"$WORK/fillbin/pg_dumpall" <<EOF2
#!/bin/sh
head -c 4000000 /dev/zero >"$WORK/small/filler" 2>/dev/null
exec "$PGBIN/pg_dumpall" "\$@"
EOF2
	chmod 755 "$WORK/fillbin/pg_dumpall"
	# A backup onto the small folder that a wrapper fills, without the
	# large file (the wrapper is what fills it).
	filled_backup() {
		mv "$WORK/app/integrations/incompressible.bin" "$WORK/incompressible.bin"
		run_polarity "$@" --backup-dir "$WORK/small/backups" backup
		mv "$WORK/incompressible.bin" "$WORK/app/integrations/incompressible.bin"
		rm -rf "$WORK/small/filler"
	}
	filled_backup --pg-bindir "$WORK/fillbin"
	expect 1 "cannot stage the dump database/roles.sql in '$WORK/small/backups': No space left on device ('pg_dumpall' stopped short of its end)"
	[ -z "$(backup_dir_contents "$WORK/small/backups")" ] || fail "a dump cut short: left behind"
	ok "a staged dump cut short by a full disk: 'No space left on device', nothing left"
	# A compressor that fails on a full disk without saying so (igzip
	# says "Error encountered while writing to file"): told as that.
	# The last of the three fails, once every dump has ended.
	cat >"$WORK/fullzip" <<EOF2
#!/bin/sh
mkdir "$WORK/zip1" 2>/dev/null || mkdir "$WORK/zip2" 2>/dev/null ||
	{ cat >/dev/null
	  head -c 4000000 /dev/zero >"$WORK/small/filler" 2>/dev/null
	  echo "fullzip: cannot write" >&2
	  exit 1; }
exec gzip "\$@"
EOF2
	chmod 755 "$WORK/fullzip"
	filled_backup --compressor "$WORK/fullzip"
	rm -rf "$WORK/zip1" "$WORK/zip2"
	expect 1 "cannot write the archive in '$WORK/small/backups': No space left on device ('"
	grep -qF "fullzip: cannot write" "$WORK/err" || fail "the compressor's own words are gone"
	[ -z "$(backup_dir_contents "$WORK/small/backups")" ] || fail "a compressor on a full disk: left behind"
	ok "a compressor failing on a full disk without saying so: 'No space left on device', its words, nothing left"
	# With an archive there that the folder cannot hold half of again:
	# refused before anything is written, with the numbers.
	truncate -s 20M "$WORK/small/backups/polarity-server-backup-20250101000000.tgz"
	run_polarity --backup-dir "$WORK/small/backups" backup
	expect 1 "cannot hold the next archive: "
	grep -q "MB free, and the last one took 21.0 MB; make room (polarity prune)" "$WORK/err" || fail "short of room: no numbers"
	[ "$(backup_dir_contents "$WORK/small/backups")" = polarity-server-backup-20250101000000.tgz ] ||
		fail "short of room: something was written"
	rm "$WORK/small/backups/polarity-server-backup-20250101000000.tgz"
	ok "backup with no room for half the last archive: refused at once, with the numbers"
	# An archive larger than the tmpfs, restored with the integrations
	# folder (and so the staging folder beside it) on the tmpfs.
	run_polarity -q backup
	expect 0 ""
	big=$(tail -n 1 "$WORK/out")
	rm "$WORK/app/integrations/incompressible.bin"
	mkdir -p "$WORK/small/app"
	cp -a "$WORK/app/integrations" "$WORK/small/app/"
	before_small=$(cd "$WORK/small/app" && find . -printf '%p %s\n' | sort | sha256sum)
	run_polarity --integrations-dir "$WORK/small/app/integrations" restore --yes "$big"
	expect 1 "No space left on device"
	grep -q "(the integrations are unpacked in '$WORK/small/app', which had [0-9.]* MiB free when [0-9.]* MiB of the archive were read): make room there" "$WORK/err" ||
		fail "a full staging folder: no numbers"
	[ -z "$(ls -d "$WORK"/small/app/.polarity-restore-* 2>/dev/null)" ] || fail "staging left on a full disk"
	[ "$(cd "$WORK/small/app" && find . -printf '%p %s\n' | sort | sha256sum)" = "$before_small" ] ||
		fail "a restore onto a full disk changed the integrations"
	# Live integrations that leave less room than half their size:
	# refused before the archive is read, with the numbers.
	mkdir -p "$WORK/small/app2/integrations"
	head -c 2200000 /dev/urandom >"$WORK/small/app2/integrations/big.bin"
	run_polarity --integrations-dir "$WORK/small/app2/integrations" restore --yes "$big"
	expect 1 "MiB free, and the integrations there take 2.1 MiB: the restored ones are unpacked beside them first, which cannot fit"
	grep -q "checking and unpacking" "$WORK/err" && fail "short of room for the integrations: the archive was read"
	[ -z "$(ls -d "$WORK"/small/app2/.polarity-restore-* 2>/dev/null)" ] || fail "staging left"
	ok "restore with no room for half the live integrations: refused before the archive is read, with the numbers"
	rm -f "$big"
	umount "$WORK/small"
	trap cleanup EXIT
	before=$(state_of)
	ok "restore with a full disk under its staging folder: exit 1, not 'damaged', nothing left"
else
	echo "# SKIP full disk: not root, or tmpfs cannot be mounted here"
fi

# Each child dying, at its start and in the middle of its stream.
wrap_pg_dump "$WORK/b1" 'case "$*" in *section=pre-data*) kill -9 $$ ;; esac'
run_polarity --pg-bindir "$WORK/b1" backup
expect 1 "'pg_dump' was killed by signal 9"
no_leftovers "pg_dump killed at its start"
mkdir -p "$WORK/b2"
ln -sf "$PGBIN/psql" "$WORK/b2/psql"; ln -sf "$PGBIN/pg_dump" "$WORK/b2/pg_dump"
ln -sf "$PGBIN/pg_restore" "$WORK/b2/pg_restore"
printf '#!/bin/sh\necho "pg_dumpall: error: simulated" >&2\nexit 1\n' >"$WORK/b2/pg_dumpall"
chmod 755 "$WORK/b2/pg_dumpall"
run_polarity --pg-bindir "$WORK/b2" backup
expect 1 "'pg_dumpall' exited with status 1: pg_dumpall: error: simulated"
no_leftovers "pg_dumpall failing"
printf '#!/bin/sh\nkill -9 $$\n' >"$WORK/zip0"; chmod 755 "$WORK/zip0"
run_polarity --compressor "$WORK/zip0" backup
expect 1 "'zip0' was killed by signal 9"
no_leftovers "compressor killed at its start"
printf '#!/bin/sh\nhead -c 20000 | gzip -c; kill -9 $$\n' >"$WORK/zip1"; chmod 755 "$WORK/zip1"
run_polarity --compressor "$WORK/zip1" backup
expect 1 "'zip1' was killed by signal 9"
no_leftovers "compressor killed mid-stream"
ok "backup: pg_dump killed at start, pg_dumpall failing, the compressor killed at start and mid-stream"

printf '#!/bin/sh\n[ "$1" = -dc ] && { head -c 30000 | gzip -dc | head -c 1; kill -9 $$; }\nexec gzip "$@"\n' >"$WORK/unzip1"
chmod 755 "$WORK/unzip1"
run_polarity --compressor "$WORK/unzip1" restore --yes "$WORK/good.tgz"
expect 1 "was killed by signal 9"
unchanged "decompressor killed mid-stream"
mkdir -p "$WORK/p1"
ln -sf "$PGBIN/pg_dump" "$WORK/p1/pg_dump"; ln -sf "$PGBIN/pg_dumpall" "$WORK/p1/pg_dumpall"
ln -sf "$PGBIN/pg_restore" "$WORK/p1/pg_restore"
cat >"$WORK/p1/psql" <<EOF2
#!/bin/bash
case "\$*" in *-A*|--version) exec "$PGBIN/psql" "\$@" ;; esac
head -c 5000 >/dev/null; kill -9 \$\$
EOF2
chmod 755 "$WORK/p1/psql"
run_polarity --pg-bindir "$WORK/p1" restore --yes "$WORK/good.tgz"
expect 1 "'psql' was killed by signal 9"
unchanged "psql killed mid-load"
cat >"$WORK/p1/psql" <<EOF2
#!/bin/bash
case "\$*" in *-A*|--version) exec "$PGBIN/psql" "\$@" ;; esac
kill -9 \$\$
EOF2
run_polarity --pg-bindir "$WORK/p1" restore --yes "$WORK/good.tgz"
expect 1 "'psql' was killed by signal 9"
unchanged "psql killed at its start"
ok "restore: the decompressor killed mid-stream (exit 1, not 'damaged'), psql killed at start and mid-load"

# Signals at other points: while archiving the integrations (the
# compressor stalls), and while a restore checks the archive.
printf '#!/bin/sh\necho $$ >"%s/stall.pid"\nsleep 300\n' "$WORK" >"$WORK/stall"; chmod 755 "$WORK/stall"
for sig in TERM INT; do
	rm -f "$WORK/stall.pid"
	"$POLARITY" --app-dir "$WORK/app" --compressor "$WORK/stall" backup >"$WORK/out" 2>"$WORK/err" &
	bg=$!
	for _ in $(seq 100); do [ -s "$WORK/stall.pid" ] && break; sleep 0.1; done
	sleep 0.3
	kill -s "$sig" "$bg"
	set +e; wait "$bg"; RC=$?; set -e
	expect $((128 + $(kill -l "$sig"))) "backup stopped by signal"
	no_leftovers "SIG$sig while archiving"
	if kill -0 "$(cat "$WORK/stall.pid")" 2>/dev/null; then fail "compressor still running"; fi
done
printf '#!/bin/sh\necho $$ >"%s/stall.pid"\n[ "$1" = -dc ] && sleep 300\nexec gzip "$@"\n' "$WORK" >"$WORK/stall"
rm -f "$WORK/stall.pid"
"$POLARITY" --app-dir "$WORK/app" --compressor "$WORK/stall" restore --yes "$WORK/good.tgz" >"$WORK/out" 2>"$WORK/err" &
bg=$!
for _ in $(seq 100); do [ -s "$WORK/stall.pid" ] && break; sleep 0.1; done
kill -TERM "$bg"
set +e; wait "$bg"; RC=$?; set -e
expect 143 "restore stopped by signal 15"
unchanged "SIGTERM while checking"
ok "SIGTERM/SIGINT while archiving integrations, SIGTERM while a restore checks: 128+N, nothing left"

# Two real runs at once, and a run killed outright.
wrap_pg_dump "$WORK/slow" 'case "$*" in *section=data*) echo $$ >"'"$WORK"'/slow.pid"; sleep 3 ;; esac'
rm -f "$WORK/slow.pid"
"$POLARITY" --app-dir "$WORK/app" --pg-bindir "$WORK/slow" backup >"$WORK/out1" 2>"$WORK/err1" &
first=$!
for _ in $(seq 100); do [ -s "$WORK/slow.pid" ] && break; sleep 0.1; done
run_polarity backup
expect 3 "backup (pid $first"
run_polarity restore --yes "$WORK/good.tgz"
expect 3 "backup (pid $first"
wait "$first" || fail "the first backup failed: $(cat "$WORK/err1")"
ok "a second backup and a restore beside a running backup: exit 3, the first named"

rm -f "$WORK/slow.pid"
n0=$(archives)
"$POLARITY" --app-dir "$WORK/app" --pg-bindir "$WORK/slow" backup >"$WORK/out1" 2>"$WORK/err1" &
first=$!
for _ in $(seq 100); do [ -s "$WORK/slow.pid" ] && break; sleep 0.1; done
kill -KILL "$first"
wait "$first" 2>/dev/null || true
no_leftovers "a backup killed with SIGKILL"
[ "$(archives)" = "$n0" ] || fail "SIGKILL left an archive"
run_polarity backup
expect 0 ""
ok "a backup killed with SIGKILL leaves nothing (no name until complete), and the next runs"

# The password in no command line during a restore either (each psql
# slowed down, so that the sampling sees them).
mkdir -p "$WORK/slowpsql"
ln -sf "$PGBIN/pg_dump" "$WORK/slowpsql/pg_dump"; ln -sf "$PGBIN/pg_dumpall" "$WORK/slowpsql/pg_dumpall"
ln -sf "$PGBIN/pg_restore" "$WORK/slowpsql/pg_restore"
printf '#!/bin/sh\nsleep 0.5\nexec "%s/psql" "$@"\n' "$PGBIN" >"$WORK/slowpsql/psql"
chmod 755 "$WORK/slowpsql/psql"
"$POLARITY" --app-dir "$WORK/app" --pg-bindir "$WORK/slowpsql" restore --yes "$WORK/good.tgz" \
	>"$WORK/out" 2>"$WORK/err" &
bg=$!
sample_cmdlines "$bg" "$WORK/cmdlines"
wait "$bg" || fail "restore failed: $(cat "$WORK/err")"
grep -q 'psql.*ON_ERROR_STOP' "$WORK/cmdlines" || fail "sampling saw no psql"
no_password_in "$WORK/cmdlines" "$WORK/out" "$WORK/err"
ok "password in no command line or output during a restore ($(grep -c . "$WORK/cmdlines") sampled)"
