# tests/lib-docker.sh - PostgreSQL in a real Docker container, for the
# tests and the benchmark; sourced after tests/lib.sh.
#
# No image registry is needed: the image is an empty root file system
# (docker import), and the container bind-mounts this machine's /usr and
# /etc read-only and runs its initdb and postgres as the postgres user.
# When no Docker daemon answers, docker_up starts a private one (its own
# data root, exec root and socket) and the EXIT trap stops it, whatever
# happens; containers, networks and the image made here are removed too.

DOCKERD_PID=
DK=
DOCKER_MADE=()		# containers to remove at the end
DOCKER_NETS=()		# networks to remove at the end
DOCKER_IMAGE=polarity-test-root:1
IMAGE_MADE=0

docker_cleanup() {
	local c
	for c in "${DOCKER_MADE[@]}"; do
		docker rm -f "$c" >/dev/null 2>&1 || true
	done
	for c in "${DOCKER_NETS[@]}"; do
		docker network rm "$c" >/dev/null 2>&1 || true
	done
	if [ "$IMAGE_MADE" = 1 ] && [ -z "$DOCKERD_PID" ]; then
		docker rmi "$DOCKER_IMAGE" >/dev/null 2>&1 || true
	fi
	if [ -n "$DOCKERD_PID" ]; then
		kill "$DOCKERD_PID" 2>/dev/null || true
		for _ in $(seq 100); do
			kill -0 "$DOCKERD_PID" 2>/dev/null || break
			sleep 0.2
		done
		kill -9 "$DOCKERD_PID" 2>/dev/null || true
		# Its containerd and shims end a moment later.
		for _ in $(seq 50); do
			pgrep -f "$DK/" >/dev/null || break
			sleep 0.2
		done
		pkill -9 -f "$DK/" 2>/dev/null || true
		# Its overlay mounts outlive it when it was killed hard.
		grep -o " $DK/[^ ]*" /proc/mounts 2>/dev/null | sort -r |
			while read -r m; do umount -l "$m" 2>/dev/null || true; done ||
			true
		for _ in 1 2 3 4 5; do
			rm -rf "$DK" 2>/dev/null && break
			sleep 0.5
		done
		DOCKERD_PID=
	fi
}

# Makes sure a Docker daemon answers, starting a private one if needed.
docker_up() {
	[ -n "$WORK" ] || work_start
	trap 'rc=$?; set +e; docker_cleanup; cleanup "$rc"' EXIT
	command -v docker >/dev/null ||
		skip "no docker client (install the package docker.io)"
	if timeout 20 docker version >/dev/null 2>&1; then
		return 0
	fi
	command -v dockerd >/dev/null ||
		skip "no Docker daemon answers and there is no dockerd to start (install docker.io)"
	[ "$(id -u)" = 0 ] || skip "a private Docker daemon needs root"
	# A short path: a socket's name has room for about 100 bytes.
	DK=$(mktemp -d /tmp/pdk.XXXXXX)
	export DOCKER_HOST="unix://$DK/sock"
	# Where the kernel lacks what iptables needs, once more without it.
	local extra
	for extra in "" "--iptables=false --ip6tables=false"; do
		# shellcheck disable=SC2086
		dockerd --data-root "$DK/data" --exec-root "$DK/exec" \
			-H "unix://$DK/sock" --pidfile "$DK/pid" --bridge=none \
			$extra >>"$DK/log" 2>&1 &
		DOCKERD_PID=$!
		for _ in $(seq 150); do
			if timeout 10 docker version >/dev/null 2>&1; then
				return 0
			fi
			kill -0 "$DOCKERD_PID" 2>/dev/null || break
			sleep 0.2
		done
		kill "$DOCKERD_PID" 2>/dev/null || true
		wait "$DOCKERD_PID" 2>/dev/null || true
	done
	tail -n 20 "$DK/log" >&2
	fail "the private Docker daemon did not start"
}

# Builds the empty image, once.
docker_image() {
	if docker image inspect "$DOCKER_IMAGE" >/dev/null 2>&1; then
		return 0
	fi
	local root=$WORK/rootfs
	mkdir -p "$root"/{usr,etc,tmp,proc,sys,dev,run}
	ln -s usr/bin "$root/bin"
	ln -s usr/lib "$root/lib"
	ln -s usr/lib64 "$root/lib64"
	ln -s usr/sbin "$root/sbin"
	tar -C "$root" -c . | docker import - "$DOCKER_IMAGE" >/dev/null ||
		fail "docker import failed"
	IMAGE_MADE=1
}

# Makes the user-defined network NET.
docker_net() {
	docker network create "$1" >/dev/null || fail "cannot create network $1"
	DOCKER_NETS+=("$1")
}

# Starts PostgreSQL in the container NAME on the network NET, its
# superuser postgres with the password $PG_SUPERPASS, listening on 5432
# inside (the port is not published), and waits until it answers.
pg_container() {
	local name=$1 net=$2
	PGBIN=${PGBIN:-$(pg_bindir)} || skip "no PostgreSQL server binaries"
	docker_image
	# The password reaches the container by name (-e PW), as ours do.
	PW=$PG_SUPERPASS docker run -d --name "$name" --network "$net" \
		-u "$(id -u postgres):$(id -g postgres)" -e PW \
		-v /usr:/usr:ro -v /etc:/etc:ro --tmpfs /data:mode=1777 \
		"$DOCKER_IMAGE" /bin/sh -c '
			printf "%s\n" "$PW" >/data/pw &&
			"$0/initdb" -D /data/pg -U postgres --pwfile=/data/pw \
				-A scram-sha-256 -E UTF8 --locale=C --no-sync \
				>/data/initdb.log 2>&1 &&
			rm /data/pw &&
			echo "host all all all scram-sha-256" >>/data/pg/pg_hba.conf &&
			exec "$0/postgres" -D /data/pg -c listen_addresses="*" \
				-c unix_socket_directories=/data -c fsync=off' \
		"$PGBIN" >/dev/null || fail "cannot start container $name"
	DOCKER_MADE+=("$name")
	for _ in $(seq 150); do
		if c_psql "$name" -c 'SELECT 1' >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	docker logs "$name" >&2 || true
	fail "PostgreSQL in container $name did not start"
}

# psql as the superuser inside container C: c_psql C [psql options...]
c_psql() {
	local c=$1
	shift
	PGPASSWORD=$PG_SUPERPASS docker exec -i -e PGPASSWORD "$c" psql -X -q \
		-A -t -h localhost -U postgres -v ON_ERROR_STOP=1 "$@"
}

# The full dump of database DB in container C, its rows sorted (a large
# table's load through two sessions keeps every row, not their order).
c_dump() {
	PGPASSWORD=$PG_SUPERPASS docker exec -i -e PGPASSWORD "$1" pg_dump \
		-h localhost -U postgres "$2" |
		grep -v -e '^\\restrict' -e '^\\unrestrict' | sort_rows
}
