#!/bin/bash
# scripts/test.sh - build, then run the whole test suite: the unit tests
# and the integration tests against private PostgreSQL servers.  Ends
# with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh "$@" || exit 1

make -j"$(nproc)" check
rc=$?
# The totals of the whole suite, from each test's own count: the cmocka
# programs report their test cases, the scripts one "ok - " line a check.
passed=0 failed=0
for log in tests/*.log; do
	[ "$log" = tests/test-suite.log ] && continue
	trs=${log%.log}.trs
	result=$(sed -n 's/^:test-result: //p' "$trs" 2>/dev/null | head -n 1)
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	if [ -z "$p$f" ]; then
		p=$(grep -c '^ok - ' "$log")
		case $result in PASS|SKIP) f=0 ;; *) f=1 ;; esac
	fi
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	case $result in PASS|SKIP) ;; *) [ "${f:-0}" -gt 0 ] || failed=$((failed + 1)) ;; esac
done
if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
[ -f test-suite.log ] && grep -E "^# (TOTAL|PASS|SKIP|FAIL|ERROR):" test-suite.log
echo "$passed passed, $failed failed"
exit "$rc"
