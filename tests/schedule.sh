#!/bin/bash
# tests/schedule.sh - the cron.d entry and the systemd units: well formed,
# at midnight, running this program; and the cron command really backs up.
. "${srcdir:-.}/tests/lib.sh"
: "${builddir:=.}" "${bindir:=/usr/local/bin}"
CRON=$builddir/scripts/polarity-backup
SERVICE=$builddir/scripts/polarity-backup.service
TIMER=${srcdir:-.}/scripts/polarity-backup.timer
[ -f "$CRON" ] && [ -f "$SERVICE" ] || fail "build the scheduling files first (make)"
work_start

case $(basename "$CRON") in *.*) fail "cron ignores cron.d files with a dot in the name" ;; esac
# Every line: a comment, blank, VAR=value, or five time fields, a user and
# a command; each time field in its range.
in_range() { # FIELD LOW HIGH
	local part n
	[ "$1" = '*' ] && return 0
	for part in ${1//,/ }; do
		part=${part%%/*}
		for n in ${part//-/ }; do
			case $n in ''|*[!0-9]*) return 1 ;; esac
			[ "$n" -ge "$2" ] && [ "$n" -le "$3" ] || return 1
		done
	done
}
jobs=0
while read -r line; do
	case $line in ''|'#'*) continue ;; [A-Z]*=*) continue ;; esac
	set -f; set -- $line; set +f
	[ $# -ge 7 ] || fail "cron line with too few fields: $line"
	in_range "$1" 0 59 && in_range "$2" 0 23 && in_range "$3" 1 31 &&
		in_range "$4" 1 12 && in_range "$5" 0 7 || fail "bad time fields: $line"
	[ "$1 $2" = "0 0" ] || fail "not at midnight: $line"
	[ "$6" = root ] || fail "not run as root: $line"
	[ "$7" = "$bindir/polarity" ] || fail "runs '$7', not $bindir/polarity"
	case $line in *" backup"*) ;; *) fail "does not back up: $line" ;; esac
	case $line in *--nice*) ;; *) fail "not niced: $line" ;; esac
	jobs=$((jobs + 1))
	cron_command=${line#* * * * * root }
done <"$CRON"
[ "$jobs" = 1 ] || fail "$jobs jobs in the cron file"
[ "$(tail -c 1 "$CRON" | od -An -c | tr -d ' ')" = '\n' ] || fail "cron file must end with a newline"
ok "cron.d entry: one job, at midnight, as root, $bindir/polarity --nice ... backup"

grep -qx "ExecStart=$bindir/polarity --nice -q backup" "$SERVICE" || fail "service ExecStart"
grep -qx 'Type=oneshot' "$SERVICE" || fail "service type"
grep -qx 'OnCalendar=\*-\*-\* 00:00:00' "$TIMER" || fail "timer not at midnight"
grep -qx 'Persistent=true' "$TIMER" || fail "timer not persistent"
grep -qx 'WantedBy=timers.target' "$TIMER" || fail "timer not installable"
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$WORK/units"
	sed "s|^ExecStart=[^ ]*|ExecStart=$POLARITY|" "$SERVICE" >"$WORK/units/polarity-backup.service"
	cp "$TIMER" "$WORK/units/"
	systemd-analyze verify --man=no "$WORK/units/polarity-backup.service" \
		"$WORK/units/polarity-backup.timer" >"$WORK/verify.out" 2>&1 ||
		{ cat "$WORK/verify.out"; fail "systemd-analyze verify"; }
	[ ! -s "$WORK/verify.out" ] || { cat "$WORK/verify.out"; fail "systemd-analyze warns"; }
	systemd-analyze calendar '*-*-* 00:00:00' | grep -q 'Next elapse:.* 00:00:00' ||
		fail "the calendar does not fall at midnight"
	ok "systemd service and timer pass systemd-analyze verify; the timer fires at midnight"
else
	echo "# systemd-analyze missing: the units were checked by their lines only"
	ok "systemd service and timer: oneshot, midnight, persistent, installable"
fi

# The cron command itself, with this build's program, backs up a server.
pg_start
make_db
make_app "$WORK/app"
cmd=${cron_command/#$bindir\/polarity/$POLARITY}
cmd=${cmd/ --nice/ --nice --app-dir $WORK/app}
cmd=${cmd% >/dev/null}
set +e
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	sh -c "$cmd" >"$WORK/out" 2>"$WORK/err" </dev/null
RC=$?
set -e
expect 0 ""
[ ! -s "$WORK/err" ] || fail "the cron run would mail: $(cat "$WORK/err")"
ls "$WORK/app/backups/"polarity-server-backup-*.tgz >/dev/null || fail "no archive"
ok "the cron command, run as cron would (no terminal, bare environment), backs up and is silent"
