#!/bin/bash
# scripts/lint.sh - cppcheck and clang-tidy on src/, both clean or fail.
# Needs a configured tree (autoconf.h); installs the tools when root.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in cppcheck clang-tidy; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		[ "$(id -u)" = 0 ] || { echo "lint.sh: install $tool" >&2; exit 1; }
		apt-get update -q && apt-get install -y -q --no-install-recommends "$tool"
	fi
done
[ -f autoconf.h ] || { echo "lint.sh: configure first (scripts/build.sh)" >&2; exit 1; }
flags="-I. -iquote src -D_GNU_SOURCE $(pkg-config --cflags inih libcrypto zlib)"
echo "== cppcheck"
cppcheck --enable=warning,performance,portability --inline-suppr --quiet \
	--error-exitcode=1 -I . -I src --suppress=missingIncludeSystem src/
echo "== clang-tidy"
# shellcheck disable=SC2086
clang-tidy --quiet src/*.c -- $flags 2>&1 | grep -v 'warnings generated' || true
clang-tidy --quiet src/*.c -- $flags >/dev/null 2>&1
echo "lint: clean"
