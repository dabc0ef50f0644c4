#!/bin/bash
# tests/cli.sh - the command line: options, usage errors, and the failures
# that need no database (missing .env, missing variable, missing folders).
. "${srcdir:-.}/tests/lib.sh"
work_start

"$POLARITY" --version | grep -qx 'polarity [0-9.]*' || fail "--version"
ok "--version"
# Read whole before grep -q: it stops at its first match, and a help
# longer than a pipe's buffer would then end in SIGPIPE (pipefail).
"$POLARITY" --help >"$WORK/help"
grep -q 'polarity \[OPTIONS\] backup' "$WORK/help" || fail "--help"
ok "--help"

mkdir -p "$WORK/app/integrations"
run_polarity
expect 2 "usage: polarity"
ok "no command is a usage error"
run_polarity frobnicate
expect 2 "unknown command 'frobnicate'"
ok "unknown command"
run_polarity --no-such-option backup
expect 2 "option '--no-such-option' is not known"
ok "unknown option"
run_polarity --compress-level 0 backup
expect 2 "--compress-level takes 1 to 9"
ok "bad compression level"
run_polarity backup extra
expect 2 "'backup' does not take 'extra'"
ok "extra argument"

run_polarity backup
expect 1 "cannot read '$WORK/app/.env': No such file or directory"
[ "$(wc -l <"$WORK/err")" -le 3 ] || fail "more than a few lines for one error"
[ ! -s "$WORK/out" ] || fail "something on standard output after a failure"
[ -z "$(backup_dir_contents "$WORK/app/backups")" ] || fail "files left behind"
ok "missing .env is named"

[ "$(stat -c %a "$WORK/app/backups")" = 700 ] || fail "backup dir not 0700"
ok "backup directory created 0700"

PGPORT_TEST=5432 write_env "$WORK/app/.env"
sed -i '/POLARITY_DB_DATABASE/d' "$WORK/app/.env"
run_polarity backup
expect 1 "'$WORK/app/.env' does not set POLARITY_DB_DATABASE"
ok "missing variable is named"

PGPORT_TEST=5432 write_env "$WORK/app/.env"
echo "POLARITY_DB_HOST='unterminated" >>"$WORK/app/.env"
run_polarity backup
expect 1 "a quote opened by line"
ok "broken .env is refused"

PGPORT_TEST=5432 write_env "$WORK/app/.env"
rmdir "$WORK/app/integrations"
run_polarity backup
expect 1 "cannot read integrations directory '$WORK/app/integrations': No such file or directory"
touch "$WORK/app/integrations"
run_polarity backup
expect 1 "cannot read integrations directory '$WORK/app/integrations': Not a directory"
rm "$WORK/app/integrations"
ok "missing integrations directory is named"

run_polarity --backup-dir "$WORK/nonexistent/deeper" backup
expect 1 "cannot use backup directory '$WORK/nonexistent/deeper'"
ok "unusable backup directory is named"

# Help where an operator looks for it.
for form in "help" "-h" "--help"; do
	"$POLARITY" $form >"$WORK/out" 2>"$WORK/err" || fail "'$form' failed"
	grep -q 'polarity \[OPTIONS\] restore' "$WORK/out" || fail "'$form' shows no usage"
done
for form in "help restore" "restore --help" "restore -h" "--app-dir $WORK/app restore --help"; do
	# shellcheck disable=SC2086
	"$POLARITY" $form >"$WORK/out" 2>"$WORK/err" || fail "'$form' failed: $(cat "$WORK/err")"
	grep -q '^usage: polarity \[OPTIONS\] restore \[--yes\] \[--restart\] \[--dry-run\] \[--only PART\]... \[--whole-env\] \[--drop-first\] \[--keep-row-order\] ARCHIVE$' "$WORK/out" ||
		fail "'$form' does not show restore's help"
	grep -q '^  --dry-run' "$WORK/out" && grep -q '^Example:' "$WORK/out" ||
		fail "'$form': no options or example"
done
for c in backup restore verify show list prune doctor; do
	"$POLARITY" help "$c" >"$WORK/help"
	grep -q "^usage: polarity \[OPTIONS\] $c" "$WORK/help" || fail "no help for $c"
done
# The man page's SYNOPSIS names each option a command's usage names.
man=${srcdir:-.}/docs/polarity.8
for c in backup restore verify show list prune doctor; do
	block=$(sed -n '/^\.SH SYNOPSIS/,/^\.SH DESCRIPTION/p' "$man" | sed 's/\\-/-/g' |
		awk -v c="$c" '/^\.B polarity$/ { if (keep) exit; b = "" } { b = b $0 "\n" } $0 == ".B " c { keep = 1 } END { if (keep) printf "%s", b }')
	[ -n "$block" ] || fail "the man page has no SYNOPSIS line for $c"
	for o in $("$POLARITY" help "$c" | head -n 1 | grep -o -- '--[a-z-]*'); do
		grep -q -- "$o" <<<"$block" || fail "the man page SYNOPSIS of $c lacks $o"
	done
done
"$POLARITY" --help >"$WORK/help"
grep -q '{}' "$WORK/help" || fail "--help does not say what {} is for --hook"
run_polarity help frobnicate
expect 2 "no command 'frobnicate'"
run_polarity backup --bogus
expect 2 "'backup' does not take '--bogus'; see 'polarity backup --help'"
ok "help: 'help', 'help COMMAND', 'COMMAND --help', '-h', each command with its options and an example; the man page's SYNOPSIS agrees"

# Options after the command work as before it.
mkdir -p "$WORK/app/integrations"
set +e
"$POLARITY" backup --app-dir "$WORK/app" --env-file "$WORK/none.env" -q >"$WORK/out" 2>"$WORK/err"
RC=$?
set -e
expect 1 "cannot read '$WORK/none.env': No such file or directory"
mkdir -p "$WORK/listed"
: >"$WORK/listed/polarity-server-backup-20260101000000.tgz"
set +e
"$POLARITY" list --backup-dir="$WORK/listed" --json >"$WORK/out" 2>"$WORK/err"
RC=$?
set -e
expect 0 ""
grep -q '"archive": "polarity-server-backup-20260101000000.tgz"' "$WORK/out" ||
	fail "list with --backup-dir= after the command: $(cat "$WORK/out")"
ok "global options after the command: taken as before it (--opt VALUE and --opt=VALUE)"

# Wrong archives get their own message and exit status: a missing or
# unreadable path is not a damaged archive.
mkdir -p "$WORK/e"
echo hello >"$WORK/e/text.tgz"
echo hello | gzip >"$WORK/e/notar.tgz"
: >"$WORK/e/empty.tgz"
run_polarity verify "$WORK/e"
expect 1 "'$WORK/e' is a folder, not an archive: give the path of a polarity-server-backup-YYYYMMDDhhmmss.tgz file, or 'latest'"
run_polarity verify "$WORK/e/missing.tgz"
expect 1 "'$WORK/e/missing.tgz' cannot be read: No such file or directory"
run_polarity verify "$WORK/e/text.tgz"
expect 4 "'$WORK/e/text.tgz' is not gzip-compressed, so not a backup archive"
run_polarity verify "$WORK/e/empty.tgz"
expect 4 "'$WORK/e/empty.tgz' is empty, so not a backup archive"
run_polarity verify "$WORK/e/notar.tgz"
expect 4 "it is gzip-compressed, but what it holds is not a tar archive"
if grep -q '(null)\|igzip\|pigz' "$WORK/err"; then fail "decompressor internals in the message"; fi
run_polarity restore --yes "$WORK/e"
expect 1 "is a folder, not an archive"
ok "a folder, a missing file, a text file, an empty file, a gzip without tar: each its own message and status"

# At a terminal, what changes the server (restore, undo, cleanup) logs to
# syslog, the rest does not (strace is the seam: the socket of syslog(3)).
command -v strace >/dev/null && command -v script >/dev/null ||
	fail "strace and script are needed (scripts/build.sh installs them)"
syslogged() {
	rm -f "$WORK/st"
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		script -qec "strace -f -qq -e trace=connect -o '$WORK/st' '$POLARITY' --app-dir '$WORK/app' $1 </dev/null" \
		/dev/null >/dev/null 2>&1 || true
	grep -q '/dev/log' "$WORK/st"
}
syslogged "undo --yes" || fail "undo at a terminal left no trace in syslog"
syslogged "cleanup --dry-run" || fail "cleanup at a terminal left no trace in syslog"
syslogged "list" && fail "list at a terminal went to syslog"
ok "at a terminal, undo and cleanup log to syslog, list does not"

run_polarity --backup-dir "$WORK/no-such-folder" undo --yes
expect 1 "no restore to undo: there is no backup folder '$WORK/no-such-folder'"
[ ! -e "$WORK/no-such-folder" ] || fail "undo made a backup folder"
ok "undo where no backup folder exists: nothing to undo, nothing made"
