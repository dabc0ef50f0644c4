#!/bin/bash
# scripts/valgrind.sh - the whole test suite with every run of the program
# and every unit test under valgrind: any memory error or leak fails it.
# Run after scripts/build.sh (CI runs it after the tests).
set -uo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind.sh: install valgrind" >&2; exit 1; }
logs=$(mktemp -d /tmp/polarity-valgrind.XXXXXX)
chmod 755 "$logs"
VG="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --track-fds=no"
# The scripts run $POLARITY: a wrapper that runs the program under valgrind,
# one log per run.
cat >"$logs/polarity" <<EOF2
#!/bin/sh
exec $VG --log-file="$logs/vg.%p.log" "$PWD/polarity" "\$@"
EOF2
chmod 755 "$logs/polarity"
make -s -j"$(nproc)" check POLARITY="$logs/polarity" \
	LOG_COMPILER="$VG --log-file=$logs/unit.%p.log" >"$logs/check.out" 2>&1
rc=$?
grep -E '^(PASS|FAIL|ERROR|SKIP)' "$logs/check.out"
bad=$(grep -l -E 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]|indirectly lost: [1-9]|Invalid (read|write)|uninitialised' "$logs"/*.log 2>/dev/null || true)
if [ -n "$bad" ]; then
	for f in $bad; do echo "== $f"; head -n 40 "$f"; done
	echo "valgrind: errors or leaks found (logs in $logs)"
	exit 1
fi
if [ "$rc" != 0 ]; then
	echo "valgrind: the suite failed under valgrind (logs in $logs)"
	tail -n 30 "$logs/check.out"
	# What each failing test said, for a failure seen only here.
	for t in $(sed -n 's/^\(FAIL\|ERROR\): //p' "$logs/check.out"); do
		echo "== ${t%.sh}.log"
		tail -n 40 "${t%.sh}.log" 2>/dev/null
	done
	exit "$rc"
fi
echo "valgrind: $(ls "$logs"/*.log 2>/dev/null | wc -l) runs, no errors, no leaks"
rm -rf "$logs"
