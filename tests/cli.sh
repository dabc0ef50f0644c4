#!/bin/bash
# tests/cli.sh - the command line: options, usage errors, and the failures
# that need no database (missing .env, missing variable, missing folders).
. "${srcdir:-.}/tests/lib.sh"
work_start

"$POLARITY" --version | grep -qx 'polarity [0-9.]*' || fail "--version"
ok "--version"
"$POLARITY" --help | grep -q 'polarity \[OPTIONS\] backup' || fail "--help"
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
