#!/bin/bash
# scripts/fuzz.sh [SECONDS] - runs each libFuzzer harness for SECONDS
# (default 60) on the corpus in tests/fuzz/, in a build of its own (clang,
# AddressSanitizer, UBSan).  Exits non-zero when a harness finds a crash,
# a leak or undefined behaviour; the input that did it is left in the
# work folder it names.  New interesting inputs are not written back to
# tests/ unless FUZZ_SAVE=1.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
src=$PWD
if ! command -v clang >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ]; then
		apt-get update -q && apt-get install -y -q --no-install-recommends clang
	else
		echo "fuzz.sh: clang is needed: apt-get install clang" >&2; exit 1
	fi
fi
work=$(mktemp -d /tmp/polarity-fuzz.XXXXXX)
# A build of its own, from the committed tree or this one as it is.
if [ -d .git ]; then
	git archive HEAD | tar -x -C "$work"
	cp -r tests/fuzz/. "$work/tests/fuzz/"
else
	tar -C "$src" --exclude='*.o' --exclude=Makefile -cf - . | tar -x -C "$work"
fi
cd "$work"
autoreconf -fi >/dev/null 2>&1
./configure -q CC=clang --enable-fuzzing --disable-dependency-tracking
make -s -j"$(nproc)" tests/fuzz/fuzz_unpack tests/fuzz/fuzz_dotenv
status=0
for h in unpack dotenv; do
	corpus=$work/corpus-$h
	mkdir -p "$corpus"
	cp "$src/tests/fuzz/corpus-$h/"* "$corpus/"
	echo "== fuzz_$h for $SECONDS_EACH s ($(ls "$corpus" | wc -l) seeds)"
	if ! (cd "$work" && ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		"./tests/fuzz/fuzz_$h" -max_total_time="$SECONDS_EACH" \
		-max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 "$corpus" >"$work/$h.log" 2>&1); then
		tail -n 40 "$work/$h.log"
		echo "fuzz_$h FOUND A PROBLEM: see $work" >&2
		status=1
	else
		grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+.*DONE)' \
			"$work/$h.log" | tail -n 3
		echo "fuzz_$h: no crash, leak or undefined behaviour"
	fi
	if [ "${FUZZ_SAVE:-0}" = 1 ]; then
		cp -n "$corpus/"* "$src/tests/fuzz/corpus-$h/" 2>/dev/null || true
	fi
done
[ "$status" = 0 ] && rm -rf "$work"
exit "$status"
