#!/bin/bash
# tests/operations.sh - list, prune, retention after a backup, the hook,
# the status file, the configuration file and --nice, on real archives.
. "${srcdir:-.}/tests/lib.sh"
pg_start
make_db
make_app "$WORK/app"
B=$WORK/app/backups

run_polarity -q backup
expect 0 ""
good=$(tail -n 1 "$WORK/out")
# Six older archives, a day apart, and files that are not archives.
BASE=$(date +%s)
stamp_days_ago() { date -d "@$(( BASE - $1 * 86400 - 3600 ))" +%Y%m%d%H%M%S; }
for d in 1 2 3 4 5 6; do
	cp "$good" "$B/polarity-server-backup-$(stamp_days_ago "$d").tgz"
done
echo notes >"$B/notes.txt"
cp "$good" "$B/polarity-server-backup-20200101000000.tgz.bak"
others() { ls -A "$B" | grep -v '^polarity-server-backup-[0-9]*\.tgz$' | sort | tr '\n' ' '; }
others_before=$(others)
archives() { ls "$B" | grep -c '^polarity-server-backup-[0-9]*\.tgz$'; }

run_polarity list
expect 0 ""
[ "$(grep -c 'polarity-server-backup-' "$WORK/out")" = 7 ] || fail "list shows $(grep -c polarity-server "$WORK/out") archives"
head -n 1 "$WORK/out" | grep -q '^CREATED *SIZE *STATUS *KIND *ARCHIVE$' || fail "no table header"
sed -n 2p "$WORK/out" | grep -qF "$(basename "$good")" || fail "newest is not first"
run_polarity list --json
expect 0 ""
[ "$(grep -c '"archive": ' "$WORK/out")" = 7 ] || fail "json lists $(grep -c '"archive"' "$WORK/out")"
grep -q '"verified": null' "$WORK/out" || fail "json without verified"
ok "list: the 7 archives newest first, as a table and as JSON; other files ignored"

# Times carry their offset; the moment an archive was made is its own,
# whatever the reader's time zone (POSIX zones: no tzdata needed).
g=$(basename "$good")
unix_in() { TZ=$1 "$POLARITY" --app-dir "$WORK/app" list --json | grep -F "\"$g\"" |
	sed 's/.*"created_unix": \([0-9]*\).*/\1/'; }
[ -n "$(unix_in UTC0)" ] && [ "$(unix_in UTC0)" = "$(unix_in ABC+05:00)" ] ||
	fail "created_unix depends on TZ: $(unix_in UTC0) / $(unix_in ABC+05:00)"
TZ=ABC+05:00 "$POLARITY" --app-dir "$WORK/app" list --json | grep -F "\"$g\"" |
	grep -q '"created": "[0-9-]*T[0-9:]*-05:00"' || fail "json: no offset"
TZ=ABC+05:00 "$POLARITY" --app-dir "$WORK/app" list | grep -F "$g" |
	grep -q '^[0-9-]* [0-9:]* -0500 ' || fail "table: no offset"
ok "list: times with their offset; created_unix the same in every time zone"

cp "$good" "$WORK/spare.tgz"
truncate -s 5000 "$B/polarity-server-backup-$(stamp_days_ago 3).tgz"
run_polarity list --verify --json
expect 4 ""
[ "$(grep -c '"verified": true' "$WORK/out")" = 6 ] || fail "json: six sound"
grep -q '"verified": false, "error": ".*is damaged' "$WORK/out" || fail "json: the damaged one"
run_polarity list --verify
expect 4 ""
grep -q "DAMAGED.*$(stamp_days_ago 3)" "$WORK/out" || grep -q "DAMAGED *polarity-server-backup-$(stamp_days_ago 3)" "$WORK/out" ||
	fail "table: no DAMAGED row"
ok "list --verify: a damaged archive shown, exit 4"

run_polarity prune
expect 2 "say what to keep"
run_polarity prune --keep 3 --dry-run
expect 0 ""
[ "$(grep -c '^would remove ' "$WORK/out")" = 4 ] || fail "dry run lists $(grep -c '^would' "$WORK/out")"
[ "$(archives)" = 7 ] || fail "dry run removed something"
ok "prune --dry-run: says what would go, removes nothing"

run_polarity prune --keep 3
expect 0 ""
[ "$(grep -c '^removed ' "$WORK/out")" = 4 ] || fail "prune removed $(grep -c '^removed' "$WORK/out")"
[ "$(archives)" = 3 ] || fail "$(archives) archives left"
[ -f "$good" ] || fail "the newest was removed"
[ "$(others)" = "$others_before" ] || fail "other files touched: $(others)"
ok "prune --keep 3: the 3 newest stay, other files untouched"

for d in 4 5 6 9; do cp "$WORK/spare.tgz" "$B/polarity-server-backup-$(stamp_days_ago "$d").tgz"; done
run_polarity prune --keep-days 5
expect 0 ""
# Left: today's, 1, 2 and 4 days old; 5, 6 and 9 days old go.
[ "$(archives)" = 4 ] || fail "keep-days 5 left $(archives)"
[ ! -e "$B/polarity-server-backup-$(stamp_days_ago 5).tgz" ] || fail "5 days old kept"
[ -e "$B/polarity-server-backup-$(stamp_days_ago 4).tgz" ] || fail "4 days old removed"
ok "prune --keep-days 5: younger ones stay"

# The newest archives are damaged: the newest sound one stays anyway.
for f in "$good" "$B/polarity-server-backup-$(stamp_days_ago 1).tgz"; do
	head -c 3000 "$WORK/spare.tgz" >"$f"
done
sound=$B/polarity-server-backup-$(stamp_days_ago 2).tgz
run_polarity prune --keep 1
expect 0 ""
[ -e "$good" ] || fail "the newest (kept by --keep 1) was removed"
[ -e "$sound" ] || fail "the newest sound archive was removed"
[ "$(archives)" = 2 ] || fail "$(archives) left, wanted 2"
ok "prune never removes the newest archive that verifies"

# backup --keep prunes after a success; a failed backup removes nothing.
rm -f "$B"/polarity-server-backup-*.tgz
for d in 1 2 3; do cp "$WORK/spare.tgz" "$B/polarity-server-backup-$(stamp_days_ago "$d").tgz"; done
wrap_pg_dump "$WORK/failbin" 'case "$*" in *section=data*) exit 1 ;; esac'
run_polarity --pg-bindir "$WORK/failbin" backup --keep 1
expect 1 "backup failed"
[ "$(archives)" = 3 ] || fail "a failed backup pruned"
run_polarity backup --keep 2
expect 0 "removed '$B/polarity-server-backup-$(stamp_days_ago 2).tgz'"
[ "$(archives)" = 2 ] || fail "backup --keep 2 left $(archives)"
new=$(tail -n 1 "$WORK/out")
[ -f "$new" ] || fail "last line is not the new archive"
ok "backup --keep 2 prunes after success; a failed backup prunes nothing"

# The hook gets its words and the archive's path; its failure is a
# failure of the run, but the archive stays.
cat >"$WORK/hook.sh" <<EOF2
#!/bin/sh
printf '%s\n' "\$@" >"$WORK/hook.args"
exit \${HOOK_EXIT:-0}
EOF2
chmod 755 "$WORK/hook.sh"
run_polarity --hook "$WORK/hook.sh 'remote: copy' --fast" backup
expect 0 ""
a=$(tail -n 1 "$WORK/out")
[ "$(cat "$WORK/hook.args")" = "remote: copy
--fast
$a" ] || fail "hook got: $(cat "$WORK/hook.args")"
run_polarity --hook "$WORK/hook.sh copy {} remote:" backup
expect 0 ""
a=$(tail -n 1 "$WORK/out")
[ "$(cat "$WORK/hook.args")" = "copy
$a
remote:" ] || fail "hook with {} got: $(cat "$WORK/hook.args")"
HOOK_EXIT=5 run_polarity --hook "$WORK/hook.sh" backup
expect 1 "the backup is written, but the hook failed: 'hook.sh' exited with status 5"
a=$(tail -n 1 "$WORK/out")
[ -f "$a" ] && gzip -t "$a" || fail "the archive of a failed hook is gone"
ok "hook: its words and the archive path (last, or for {}); a failing hook keeps the archive, exits 1"

# The status file, after a success and after a failure.
P=$WORK/node/polarity.prom
mkdir -p "$WORK/node"
run_polarity --status-file "$P" backup
expect 0 ""
size=$(stat -c %s "$(tail -n 1 "$WORK/out")")
grep -qx 'polarity_backup_last_run_success 1' "$P" || fail "status: success"
grep -qx "polarity_backup_last_success_size_bytes $size" "$P" || fail "status: size"
t=$(sed -n 's/^polarity_backup_last_success_timestamp_seconds //p' "$P")
[ $(( $(date +%s) - t )) -lt 60 ] || fail "status: time"
grep -q '^polarity_backup_last_run_duration_seconds [0-9.]*$' "$P" || fail "status: duration"
run_polarity --status-file "$P" --pg-bindir "$WORK/failbin" backup
expect 1 ""
grep -qx 'polarity_backup_last_run_success 0' "$P" || fail "status: failure"
grep -qx "polarity_backup_last_success_timestamp_seconds $t" "$P" || fail "status: last success lost"
[ "$(stat -c %a "$P")" = 644 ] || fail "status file mode"
ok "status file: outcome, time, duration, size; the last success survives a failure"

# The configuration file: its settings apply, the command line wins, an
# unknown key is an error with file and line.
mkdir -p "$WORK/elsewhere"
cat >"$WORK/p.conf" <<EOF2
# test configuration
[paths]
app_dir = $WORK/app
backup_dir = $WORK/elsewhere

[retention]
keep = 1
EOF2
"$POLARITY" --config "$WORK/p.conf" -q backup >"$WORK/out" 2>"$WORK/err" || fail "config backup: $(cat "$WORK/err")"
"$POLARITY" --config "$WORK/p.conf" -q backup >"$WORK/out" 2>"$WORK/err" || fail "config backup: $(cat "$WORK/err")"
[ "$(ls "$WORK/elsewhere" | grep -c '\.tgz$')" = 1 ] || fail "the file's backup_dir or keep not used"
n=$(archives)
"$POLARITY" --config "$WORK/p.conf" --backup-dir "$B" -q backup >"$WORK/out" 2>"$WORK/err" || fail "override: $(cat "$WORK/err")"
case $(tail -n 1 "$WORK/out") in "$B"/*) ;; *) fail "--backup-dir did not win over the file" ;; esac
[ "$(archives)" = 1 ] || fail "keep from the file not applied with --backup-dir"
printf '[paths]\napp_dir = /x\n[retention]\nkeep_weeks = 4\n' >"$WORK/bad.conf"
run_polarity --config "$WORK/bad.conf" backup
expect 2 "'$WORK/bad.conf' line 4: unknown key 'keep_weeks' in [retention]"
run_polarity --config "$WORK/nonexistent.conf" backup
expect 2 "cannot read '$WORK/nonexistent.conf'"
ok "configuration file: used, overridden by options, unknown keys refused with file and line"

# --nice: the whole pipeline runs at nice 10 and best-effort I/O level 7:
# the dumps, every compressor, and each thread of polarity itself (the
# relay that feeds the data dump to its compressor among them).
nice_of() { local f; f=($(sed 's/.*) //' "$1")); echo "${f[16]}"; }
wrap_pg_dump "$WORK/nicebin" ''
cat >"$WORK/nicebin/pg_dump" <<EOF2
#!/bin/bash
$(declare -f nice_of)
case "\$*" in *section=data*)
	nice_of /proc/\$\$/stat >"$WORK/nice.txt"
	ionice -p \$\$ >"$WORK/ionice.txt"
	"$PGBIN/pg_dump" "\$@" || exit \$?
	sleep 0.3	# the relay thread has started by now
	for t in /proc/\$PPID/task/*; do nice_of "\$t/stat"; done >"$WORK/threads.txt"
	exit 0 ;; esac
exec "$PGBIN/pg_dump" "\$@"
EOF2
cat >"$WORK/nicezip" <<EOF2
#!/bin/bash
$(declare -f nice_of)
echo "\$(nice_of /proc/\$\$/stat) \$(ionice -p \$\$)" >>"$WORK/zips.txt"
exec gzip "\$@"
EOF2
chmod 755 "$WORK/nicezip"
rm -f "$WORK/zips.txt"
run_polarity --nice --pg-bindir "$WORK/nicebin" --compressor "$WORK/nicezip" backup
expect 0 ""
[ "$(cat "$WORK/nice.txt")" = 10 ] || fail "pg_dump ran at nice $(cat "$WORK/nice.txt")"
grep -q 'best-effort: prio 7' "$WORK/ionice.txt" || fail "pg_dump I/O: $(cat "$WORK/ionice.txt")"
[ "$(grep -c . "$WORK/zips.txt")" = 3 ] ||
	fail "not three compressors: $(cat "$WORK/zips.txt")"
[ "$(grep -c '^10 best-effort: prio 7$' "$WORK/zips.txt")" = 3 ] ||
	fail "compressors: $(cat "$WORK/zips.txt")"
[ "$(grep -c . "$WORK/threads.txt")" -ge 2 ] ||
	fail "polarity ran no second thread: $(cat "$WORK/threads.txt")"
[ "$(sort -u "$WORK/threads.txt")" = 10 ] ||
	fail "polarity's threads ran at nice $(sort -u "$WORK/threads.txt" | tr '\n' ' ')"
ok "--nice: the dumps, the three compressors and polarity's threads run at nice 10, best-effort I/O 7"

# Progress: a line redrawn in place at a terminal, nothing without one.
if command -v script >/dev/null 2>&1; then
	script -q -e -c "'$POLARITY' --app-dir '$WORK/app' backup" /dev/null \
		>"$WORK/tty.out" 2>&1 </dev/null || fail "backup at a terminal failed"
	grep -q $'\r  dumping ' "$WORK/tty.out" || fail "no dump progress at a terminal"
	grep -q $'\r  compressing ' "$WORK/tty.out" || fail "no compression progress"
	grep -q '/s  0:0' "$WORK/tty.out" || fail "no rate and time in the progress"
	run_polarity backup
	expect 0 ""
	if grep -q $'\r' "$WORK/err" "$WORK/out"; then fail "progress without a terminal"; fi
	script -q -e -c "'$POLARITY' -q --app-dir '$WORK/app' backup" /dev/null \
		>"$WORK/tty.out" 2>&1 </dev/null || fail "quiet backup failed"
	if grep -q $'\r  ' "$WORK/tty.out"; then fail "progress despite -q"; fi
	ok "progress at a terminal (bytes, rate, time); none without one, none with -q"
fi

# Archives by name: a bare name from the backup folder (from anywhere) and
# 'latest', the newest one that checks out.
rm -f "$WORK/app/backups/"*.tgz
run_polarity -q backup
expect 0 ""
good=$(basename "$(tail -n 1 "$WORK/out")")
# A newer archive that is damaged: 'latest' passes over it, saying so.
head -c 300 "$WORK/app/backups/$good" >"$WORK/app/backups/polarity-server-backup-29991231000000.tgz"
(cd / && "$POLARITY" --app-dir "$WORK/app" -q verify "$good") >"$WORK/out" 2>"$WORK/err" ||
	fail "verify by bare name from another folder: $(cat "$WORK/err")"
grep -q "^$WORK/app/backups/$good: ok:" "$WORK/out" || fail "the bare name did not reach the backup folder"
run_polarity verify latest
expect 0 "passing over '$WORK/app/backups/polarity-server-backup-29991231000000.tgz'"
grep -q "^$WORK/app/backups/$good: ok:" "$WORK/out" || fail "'latest' is not the newest sound archive"
su_psql -c 'ALTER ROLE polarity CREATEDB' >/dev/null
run_polarity restore --dry-run latest
expect 0 ""
grep -q "^Restore from '$WORK/app/backups/$good'" "$WORK/out" || fail "restore --dry-run latest"
rm -f "$WORK/app/backups/polarity-server-backup-29991231000000.tgz"
mkdir -p "$WORK/none"
run_polarity --backup-dir "$WORK/none" verify latest
expect 1 "no archive in '$WORK/none' checks out, so there is no 'latest'"
ok "archives by bare name from anywhere, and 'latest' (the newest that checks out)"
