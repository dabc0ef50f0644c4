#!/bin/bash
# scripts/build.sh - install what the build and the tests need (Debian 12,
# as root), then configure and build in the source tree.  docker.io is
# for the tests of a database in a container (tests/container.sh).
#
#   scripts/build.sh [CONFIGURE-OPTIONS...]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES="build-essential autoconf automake pkg-config libinih-dev
libcmocka-dev libssl-dev zlib1g-dev postgresql postgresql-client pigz gzip tar
util-linux bsdutils valgrind systemd isal docker.io procps strace"

missing=
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "build.sh: missing packages:$missing" >&2
		echo "build.sh: run as root, or: sudo apt-get install -y$missing" >&2
		exit 1
	fi
	echo "build.sh: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends $missing
fi

[ -x configure ] || autoreconf -fi
if [ ! -f Makefile ] || [ $# -gt 0 ]; then
	./configure "$@"
fi
make -j"$(nproc)"
