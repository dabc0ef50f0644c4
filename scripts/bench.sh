#!/bin/bash
# scripts/bench.sh - how fast backup and restore are, next to what
# PostgreSQL itself and a plain shell script manage on the same data.
#
#   scripts/bench.sh [--scale S] [--runs N] [--json FILE] [--no-container]
#                    [--files N] [--compare-with OLD-POLARITY]
#
# Builds (scripts/build.sh), starts a throwaway PostgreSQL server, makes a
# Polarity-like data set the same on every run (at scale 1 a database of
# about 1 GB on disk and an integrations tree of about 20,000 files and
# 150 MB), then times each contender N times (default 3; the pipelines
# and the backups, of the whole and of the database alone, in turn, and
# psql and the restores in turn, so that the machine's drift weighs on
# each alike; beside the bare pipeline, a row of the least the rest of
# an archive's content takes from the same programs polarity runs) and
# reports the medians, their ratios, the archive size
# against gzip -6, and the peak resident memory of the polarity process
# itself (not its children) at the full and a quarter scale.  Prints a
# table and writes one JSON object (default bench.json).  Figures, not
# assertions: the machine is shared.
# Then an integrations tree of N tiny files (--files, default 200,000; 0
# leaves it out) with an empty database: backup, verify and restore, their
# times and peak memory (what grows with the number of files).  With
# --compare-with, an older polarity backs up the same data too, and the
# two archives are compared member by member (tar -x of both; the dumps'
# random \restrict key and the manifest's time and dump hashes set
# aside).
# Unless --no-container, backup and restore run once more each way with
# the client programs in a container on the host's network (docker exec,
# --db-container), against the same server and data: what container mode
# costs.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=1 RUNS=3 JSON=bench.json CONTAINER=1 FILES=200000 OLD=
while [ $# -gt 0 ]; do
	case $1 in
	--scale) SCALE=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--json) JSON=$2; shift 2 ;;
	--no-container) CONTAINER=0; shift ;;
	--files) FILES=$2; shift 2 ;;
	--compare-with) OLD=$(realpath "$2"); shift 2 ;;
	*) echo "usage: scripts/bench.sh [--scale S] [--runs N] [--json FILE] [--no-container] [--files N] [--compare-with OLD-POLARITY]" >&2; exit 2 ;;
	esac
done
scripts/build.sh >/dev/null
export POLARITY=$PWD/polarity
. tests/lib.sh

say() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

pg_start
make_db polarity polarity
su_psql -c 'ALTER ROLE polarity SUPERUSER'
export PGHOST=127.0.0.1 PGPORT=$PGPORT_TEST PGUSER=postgres PGPASSWORD=$PG_SUPERPASS

# The data set.  setseed() makes random() repeat: the same rows each run.
make_data() { # DB SCALE
	local rows
	rows=$(awk -v s="$2" 'BEGIN { printf "%d", 1000000 * s }')
	psql -X -q -v ON_ERROR_STOP=1 -d "$1" <<SQL
\o /dev/null
SELECT setseed(0.42);
\o
CREATE SCHEMA bench;
CREATE TABLE bench.entity (
	id bigserial PRIMARY KEY,
	value text NOT NULL,
	kind text NOT NULL,
	description text NOT NULL,
	meta jsonb NOT NULL,
	seen timestamptz NOT NULL,
	blob bytea
);
INSERT INTO bench.entity (value, kind, description, meta, seen, blob)
SELECT md5(g::text) || '.example.com',
	(ARRAY['domain','ip','hash','url','email'])[1 + g % 5],
	(SELECT string_agg((ARRAY['malware','phishing','botnet','c2','dropper',
		'ransomware','benign','suspicious','observed','reported','by',
		'the','in','campaign','actor','infrastructure','hosting','payload',
		'download','beacon','credential','exfiltration','lateral','spam',
		'scanner','tor','vpn','proxy','sinkhole','registrar'])[1 + floor(random() * 30)::int], ' ')
	 FROM generate_series(1, 30 + g % 50)),
	jsonb_build_object('score', floor(random() * 100)::int,
		'confidence', round(random()::numeric, 3),
		'tags', jsonb_build_array('t' || floor(random() * 50)::int, 't' || g % 7),
		'source', (ARRAY['virustotal','shodan','greynoise','misp','otx'])[1 + g % 5],
		'ref', md5((g * 7)::text)),
	timestamptz '2025-01-01 00:00:00+00' + random() * interval '365 days',
	CASE WHEN g % 4 = 0 THEN decode(md5(random()::text) || md5(random()::text), 'hex') END
FROM generate_series(1, $rows) g;
CREATE INDEX entity_kind_seen ON bench.entity (kind, seen);
CREATE INDEX entity_meta ON bench.entity USING gin (meta);
CREATE INDEX entity_value ON bench.entity (value);
ANALYZE;
SQL
}

say "generating the data set at scale $SCALE"
make_data polarity "$SCALE"
db_size=$(psql -X -A -t -d polarity -c "SELECT pg_database_size('polarity')")
mkdir -p "$WORK/app"
write_env "$WORK/app/.env"
perl scripts/bench-data.pl "$WORK/app/integrations" "$SCALE" >"$WORK/tree.txt"
tree_files=$(find "$WORK/app/integrations" -type f | wc -l)
tree_bytes=$(du -sb "$WORK/app/integrations" | cut -f1)
say "database $((db_size / 1048576)) MiB, integrations $tree_files files $((tree_bytes / 1048576)) MiB"

# Before each timed run, untimed: what the run before left for the
# disk is written (sync) and the server's dirty buffers too (CHECKPOINT).
# Otherwise a contender pays for the one before it: a pipeline's 54 MB
# file, written back during the next run, or the checkpoint a DROP
# DATABASE asks for.  Each run then starts from the same state.
settle() {
	sync
	psql -X -q -d postgres -c CHECKPOINT >/dev/null
}

# Runs the contenders NAME... (shell functions) in turn, RUNS rounds, so
# that the machine's drift weighs on each alike.  NAME_before and
# NAME_after, when defined, run before and after each, untimed; then
# settle.  The times go to $WORK/times.NAME; med NAME prints their median.
rounds() {
	local r n t0 t1
	for n in "$@"; do : >"$WORK/times.$n"; done
	for r in $(seq "$RUNS"); do
		for n in "$@"; do
			if declare -F "${n}_before" >/dev/null; then "${n}_before"; fi
			settle
			t0=$(now)
			"$n" >/dev/null
			t1=$(now)
			if declare -F "${n}_after" >/dev/null; then "${n}_after"; fi
			awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' \
				>>"$WORK/times.$n"
		done
	done
}
med() { median <"$WORK/times.$1"; }

# Runs "$@" RUNS times; prints the median wall time in seconds.
timed() {
	local i t0 t1
	for i in $(seq "$RUNS"); do
		[ -n "${BEFORE:-}" ] && eval "$BEFORE"
		settle
		t0=$(now)
		"$@" >/dev/null
		t1=$(now)
		[ -n "${AFTER:-}" ] && eval "$AFTER"
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
	done | median
}

# Runs polarity with "$@" once and prints its own peak RSS in KiB (VmHWM,
# sampled until it ends: the children are other processes).
peak_rss() {
	local pid hwm=0 v
	"$POLARITY" "$@" >/dev/null 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		v=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
		[ -n "$v" ] && [ "$v" -gt "$hwm" ] && hwm=$v
		sleep 0.05
	done
	wait "$pid"
	echo "$hwm"
}

B=$WORK/app/backups
mkdir -p "$B" "$WORK/naive"
export PGDATABASE=polarity

say "floor_backup: pg_dump > /dev/null"
floor_backup=$(timed pg_dump -d polarity)

naive() {
	pg_dump --schema-only -d polarity >"$WORK/naive/schema.sql"
	pg_dump --data-only -d polarity >"$WORK/naive/data.sql"
	cp "$WORK/app/.env" "$WORK/naive/.env"
	tar czf "$WORK/naive.tgz" -C "$WORK/naive" schema.sql data.sql .env \
		-C "$WORK/app" integrations
	rm -f "$WORK/naive/"*.sql
}
say "naive: pg_dump twice, then tar czf"
naive_backup=$(timed naive)

# The bare pipeline an engineer would write, at our compressor and level.
COMP=$(command -v pigz >/dev/null && echo pigz || echo gzip)
pipe() { pg_dump -d polarity | "$COMP" -5 >"$WORK/pipe.gz"; }
# The same pipeline over all that an archive holds: the dump, the .env
# and the integrations, compressed once.
pipe_all() {
	{ pg_dump -d polarity; tar -C "$WORK/app" -cf - .env integrations; } |
		"$COMP" -5 >"$WORK/pipe.gz"
}
# The least an archive's content takes from the system's programs: the
# pipe, and beside it the rest of what an archive holds, made as polarity
# makes it (the roles by pg_dumpall, the schema's custom dump written out
# as its two sections by pg_restore, the .env and the integrations
# through tar and the other members' compressor), run straight from the
# server's bindir as polarity runs them, but with no snapshot to make the
# dumps one moment, no hash, no check and no fsync.  A floor for the
# backup: what it takes above this row is its own work.
TREEZIP=$(command -v igzip >/dev/null && echo "igzip -3" || echo "$COMP -5")
mkdir -p "$WORK/least"
least() {
	local p=() i
	pipe & p+=($!)
	"$PGBIN/pg_dumpall" --roles-only --no-role-passwords -l polarity \
		>"$WORK/least/roles.sql" & p+=($!)
	{
		"$PGBIN/pg_dump" -d polarity --format=custom --section=pre-data \
			--section=post-data >"$WORK/least/schema.custom"
		for i in pre-data post-data; do
			"$PGBIN/pg_restore" --section=$i --file=- \
				"$WORK/least/schema.custom" >"$WORK/least/$i.sql"
		done
	} & p+=($!)
	tar -C "$WORK/app" -cf - .env integrations | $TREEZIP -c \
		>"$WORK/least/tree.gz" & p+=($!)
	for i in "${p[@]}"; do wait "$i"; done
}
least_after() { rm -f "$WORK/least/"*; }
ours_backup_run() { "$POLARITY" -q --app-dir "$WORK/app" backup; }
ours_backup_run_after() { ls "$B"/*.tgz | head -n -1 | xargs -r rm -f; }
# The same backup of an empty integrations folder: the database alone, as
# the pipe has it.  What it takes above the pipe is the rest of the
# archive (the other dumps, the checks, the hashes, the fsync); the
# backup's time above it, the tree.
mkdir -p "$WORK/no-integrations"
ours_db_run() {
	"$POLARITY" -q --app-dir "$WORK/app" \
		--integrations-dir "$WORK/no-integrations" backup
}
ours_db_run_after() { ours_backup_run_after; }
say "in turn: pg_dump | $COMP -5 > file; { pg_dump; tar -c .env integrations; } | $COMP -5 > file; the pipe with the rest of an archive's content beside it; polarity backup of an empty integrations folder; polarity backup"
rounds pipe pipe_all least ours_db_run ours_backup_run
pipe_backup=$(med pipe)
pipe_all_backup=$(med pipe_all)
least_backup=$(med least)
ours_db_backup=$(med ours_db_run)
ours_backup=$(med ours_backup_run)
rm -f "$WORK/pipe.gz"
archive=$(ls "$B"/*.tgz | tail -n 1)
archive_size=$(stat -c %s "$archive")
gzip -dc "$archive" >"$WORK/content.tar"
gzip6_size=$(gzip -6 -c "$WORK/content.tar" | wc -c)
rm -f "$WORK/content.tar"

# The members of archive $1, one per line: kind, mode, owner, size, name
# below the top folder.
members() {
	tar -tvzf "$1" | awk '{ n = $6; for (i = 7; i <= NF; i++) n = n " " $i;
		sub("^polarity-server-backup-[0-9]*/", "", n); print $1, $2, $3, n }'
}
# Unpacks archive $1 into folder $2 with what differs from run to run set
# aside: pg_dump's random \restrict key, and in the manifest the time and
# the dumps' hashes.
unpack_plain() {
	mkdir -p "$2"
	tar -xzf "$1" -C "$2"
	set -- "$2"/polarity-server-backup-*
	sed -i -E 's/^(\\(un)?restrict) .*/\1 KEY/' "$1"/database/*.sql
	sed -i -E -e '/^created /d' \
		-e 's/^(f [0-7]+ [0-9]+) [0-9a-f]{64} (database\/.*)/\1 - \2/' "$1/MANIFEST"
	mv "$1" "${1%/*}/top"
}
same_content=
if [ -n "$OLD" ]; then
	say "the same data backed up by $OLD: the archives compared"
	rm -f "$B"/*.tgz
	"$OLD" -q --app-dir "$WORK/app" backup >/dev/null
	old_archive=$(ls "$B"/*.tgz | tail -n 1)
	sleep 1
	"$POLARITY" -q --app-dir "$WORK/app" backup >/dev/null
	archive=$(ls "$B"/*.tgz | tail -n 1)
	[ "$old_archive" != "$archive" ]
	rm -rf "$WORK/cmp"
	unpack_plain "$old_archive" "$WORK/cmp/old"
	unpack_plain "$archive" "$WORK/cmp/new"
	if ! diff <(members "$old_archive") <(members "$archive") >"$WORK/diff"; then
		same_content="DIFFERENT member lists: $(head -c 300 "$WORK/diff")"
	elif ! diff -r --no-dereference "$WORK/cmp/old" "$WORK/cmp/new" >"$WORK/diff"; then
		same_content="DIFFERENT: $(head -c 300 "$WORK/diff")"
	else
		same_content="identical: $(members "$archive" | grep -c .) members"
	fi
	mkdir -p "$WORK/trash"
	mv "$WORK/cmp" "$(mktemp -d "$WORK/trash/XXXXXX")/"	# see drop_kept
	rm -f "$old_archive"
	say "content: $same_content"
fi

pg_dump -d polarity >"$WORK/plain.sql"
floor_restore_run() { psql -X -q -v ON_ERROR_STOP=1 -d floor -f "$WORK/plain.sql"; }
floor_restore_run_before() {
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS floor" -c "CREATE DATABASE floor"
}
floor_restore_run_after() { psql -X -q -d postgres -c "DROP DATABASE floor"; }
ours_restore_run() { "$POLARITY" -q --app-dir "$WORK/app" restore --yes "$archive"; }
# What a restore kept is moved aside, not deleted, until the end: on
# ext4, deleting thousands of files makes the file creations that follow
# slow for minutes (the inode allocator passes over inodes freed lately),
# which would weigh on the next contender rather than on this one.
mkdir -p "$WORK/trash"
drop_kept() {
	local t
	for d in $(psql -X -A -t -d postgres -c "SELECT datname FROM pg_database WHERE datname LIKE 'polarity_before_restore_%'"); do
		psql -X -q -d postgres -c "DROP DATABASE \"$d\""
	done
	for t in "$WORK/app/integrations.before-restore-"* "$WORK/app/.env.before-restore-"*; do
		[ -e "$t" ] && mv "$t" "$(mktemp -d "$WORK/trash/XXXXXX")/"
	done
	return 0
}
ours_restore_run_after() { drop_kept; }
# The naive archive is what the original utility wrote (a schema and a
# data dump, the .env, the integrations): a legacy archive.
legacy_restore_run() { "$POLARITY" -q --app-dir "$WORK/app" restore --yes "$WORK/naive.tgz"; }
legacy_restore_run_after() { drop_kept; }
say "in turn: psql -f plain dump into an empty database; polarity restore --yes (full verification included); the same of the naive (legacy) archive"
rounds floor_restore_run ours_restore_run legacy_restore_run
floor_restore=$(med floor_restore_run)
ours_restore=$(med ours_restore_run)
legacy_restore=$(med legacy_restore_run)
rm -f "$WORK/plain.sql"

# Container mode: the same server, its client programs in a container on
# the host's network, reached through docker exec.
c_rows= c_json=
if [ "$CONTAINER" = 1 ]; then
	. tests/lib-docker.sh
	docker_up
	docker_image
	CB=polarity_bench_client_$$
	docker run -d --name "$CB" --network host -v /usr:/usr:ro -v /etc:/etc:ro \
		"$DOCKER_IMAGE" sleep infinity >/dev/null
	DOCKER_MADE+=("$CB")
	say "floor_backup through docker exec: pg_dump > /dev/null"
	floor_backup_c=$(timed docker exec -i -e PGHOST -e PGPORT -e PGUSER \
		-e PGPASSWORD -e PGDATABASE "$CB" pg_dump -d polarity)
	ours_backup_c_run() { "$POLARITY" -q --app-dir "$WORK/app" --db-container "$CB" backup; }
	AFTER='ls "$B"/*.tgz | head -n -1 | xargs -r rm -f'
	say "ours in container mode: polarity --db-container backup"
	ours_backup_c=$(timed ours_backup_c_run)
	AFTER=
	archive=$(ls "$B"/*.tgz | tail -n 1)
	ours_restore_c_run() { "$POLARITY" -q --app-dir "$WORK/app" --db-container "$CB" restore --yes "$archive"; }
	AFTER=drop_kept
	say "ours in container mode: polarity --db-container restore --yes"
	ours_restore_c=$(timed ours_restore_c_run)
	AFTER=
	c_rows=$(cat <<EOF2
floor_backup_docker $(printf '%8.2f' "$floor_backup_c")   $(printf '%4.2f' "$(awk -v a="$floor_backup_c" -v b="$floor_backup" 'BEGIN { printf "%.2f", a / b }')")   docker exec pg_dump > /dev/null
ours_backup_docker  $(printf '%8.2f' "$ours_backup_c")   $(printf '%4.2f' "$(awk -v a="$ours_backup_c" -v b="$ours_backup" 'BEGIN { printf "%.2f", a / b }')")   x ours_backup: polarity --db-container backup
ours_restore_docker $(printf '%8.2f' "$ours_restore_c")   $(printf '%4.2f' "$(awk -v a="$ours_restore_c" -v b="$ours_restore" 'BEGIN { printf "%.2f", a / b }')")   x ours_restore: polarity --db-container restore
EOF2
)
	c_json=", \"floor_backup_docker_s\": $floor_backup_c, \"ours_backup_docker_s\": $ours_backup_c, \"ours_restore_docker_s\": $ours_restore_c"
fi

say "peak RSS of the polarity process"
rss_backup_full=$(peak_rss -q --app-dir "$WORK/app" backup)
rss_restore_full=$(peak_rss -q --app-dir "$WORK/app" restore --yes "$archive")
drop_kept
quarter=$(awk -v s="$SCALE" 'BEGIN { print s / 4 }')
psql -X -q -d postgres -c "CREATE DATABASE small OWNER polarity"
make_data small "$quarter"
mkdir -p "$WORK/small"
write_env "$WORK/small/.env" small
perl scripts/bench-data.pl "$WORK/small/integrations" "$quarter" >/dev/null
rss_backup_quarter=$(peak_rss -q --app-dir "$WORK/small" backup)
small_archive=$(ls "$WORK/small/backups/"*.tgz | tail -n 1)
rss_restore_quarter=$(peak_rss -q --app-dir "$WORK/small" restore --yes "$small_archive")

# Many tiny files: what grows with the number of members.  Each run once,
# timed, its peak memory sampled.
timed_rss() { # VAR-PREFIX ARGS...: sets ${1}_s and ${1}_kib
	local t0 t1 k
	t0=$(now)
	k=$(peak_rss "${@:2}")
	t1=$(now)
	printf -v "${1}_kib" %s "$k"
	printf -v "${1}_s" %s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
}
files_rows= files_json=
if [ "$FILES" -gt 0 ]; then
	say "$FILES tiny files: backup, verify, restore"
	psql -X -q -d postgres -c "CREATE DATABASE files OWNER polarity"
	mkdir -p "$WORK/files"
	write_env "$WORK/files/.env" files
	perl scripts/bench-files.pl "$WORK/files/integrations" "$FILES" >/dev/null
	timed_rss fb -q --app-dir "$WORK/files" backup
	files_archive=$(ls "$WORK/files/backups/"*.tgz | tail -n 1)
	timed_rss fv -q --app-dir "$WORK/files" verify "$files_archive"
	timed_rss fr -q --app-dir "$WORK/files" restore --yes "$files_archive"
	files_rows="$FILES files      backup $(printf '%6.2f' "$fb_s") s, $((fb_kib / 1024)) MiB; verify $(printf '%6.2f' "$fv_s") s, $((fv_kib / 1024)) MiB; restore $(printf '%6.2f' "$fr_s") s, $((fr_kib / 1024)) MiB (peak RSS)"
	files_json=", \"files\": $FILES, \"files_backup_s\": $fb_s, \"files_backup_rss_kib\": $fb_kib, \"files_verify_s\": $fv_s, \"files_verify_rss_kib\": $fv_kib, \"files_restore_s\": $fr_s, \"files_restore_rss_kib\": $fr_kib"
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
cat <<EOF2

polarity benchmark, scale $SCALE, median of $RUNS runs
machine: $(nproc) cores, $cpu, $(free -g | awk '/^Mem/ { print $2 }') GiB, $(. /etc/os-release && echo "$PRETTY_NAME")
data: database $((db_size / 1048576)) MiB on disk, integrations $tree_files files, $((tree_bytes / 1048576)) MiB
compressor: $(command -v pigz >/dev/null && echo pigz || echo gzip), level 5 (the default)$(command -v igzip >/dev/null && echo ", the other members igzip -3"); decompressor: $(command -v igzip >/dev/null && echo igzip || { command -v pigz >/dev/null && echo pigz || echo gzip; })

                     seconds   ratio
floor_backup        $(printf '%8.2f' "$floor_backup")   1.00   pg_dump > /dev/null
naive_backup        $(printf '%8.2f' "$naive_backup")   $(printf '%4.2f' "$(ratio "$naive_backup" "$floor_backup")")   pg_dump x2, tar czf
pipe_backup         $(printf '%8.2f' "$pipe_backup")   $(printf '%4.2f' "$(ratio "$pipe_backup" "$floor_backup")")   pg_dump | $COMP -5 > file
pipe_all_backup     $(printf '%8.2f' "$pipe_all_backup")   $(printf '%4.2f' "$(ratio "$pipe_all_backup" "$floor_backup")")   { pg_dump; tar -c .env integrations; } | $COMP -5 > file
least_backup        $(printf '%8.2f' "$least_backup")   $(printf '%4.2f' "$(ratio "$least_backup" "$floor_backup")")   the pipe, and beside it the roles, the schema and $TREEZIP of the tree ($(ratio "$least_backup" "$pipe_backup")x pipe)
ours_db_backup      $(printf '%8.2f' "$ours_db_backup")   $(printf '%4.2f' "$(ratio "$ours_db_backup" "$floor_backup")")   polarity backup, integrations folder empty ($(ratio "$ours_db_backup" "$pipe_backup")x pipe)
ours_backup         $(printf '%8.2f' "$ours_backup")   $(printf '%4.2f' "$(ratio "$ours_backup" "$floor_backup")")   polarity backup ($(ratio "$naive_backup" "$ours_backup")x faster than naive, $(ratio "$ours_backup" "$pipe_backup")x pipe, $(ratio "$ours_backup" "$least_backup")x least, $(ratio "$ours_backup" "$pipe_all_backup")x pipe_all)
floor_restore       $(printf '%8.2f' "$floor_restore")   1.00   psql -f plain.sql
ours_restore        $(printf '%8.2f' "$ours_restore")   $(printf '%4.2f' "$(ratio "$ours_restore" "$floor_restore")")   polarity restore --yes
legacy_restore      $(printf '%8.2f' "$legacy_restore")   $(printf '%4.2f' "$(ratio "$legacy_restore" "$floor_restore")")   polarity restore --yes of the naive archive (legacy)
$c_rows

archive             $((archive_size / 1048576)) MiB, $(ratio "$archive_size" "$gzip6_size") x gzip -6 of the same content ($((gzip6_size / 1048576)) MiB)
peak RSS (polarity) backup $((rss_backup_full / 1024)) MiB at scale $SCALE, $((rss_backup_quarter / 1024)) MiB at scale $quarter
                    restore $((rss_restore_full / 1024)) MiB at scale $SCALE, $((rss_restore_quarter / 1024)) MiB at scale $quarter
${files_rows}${same_content:+
content vs $OLD: $same_content}
EOF2
cat >"$JSON" <<EOF2
{"scale": $SCALE, "runs": $RUNS, "cores": $(nproc), "db_bytes": $db_size,
 "tree_files": $tree_files, "tree_bytes": $tree_bytes,
 "floor_backup_s": $floor_backup, "naive_backup_s": $naive_backup,
 "pipe_backup_s": $pipe_backup, "pipe_all_backup_s": $pipe_all_backup,
 "least_backup_s": $least_backup,
 "legacy_restore_s": $legacy_restore,
 "ours_db_backup_s": $ours_db_backup,
 "ours_backup_s": $ours_backup, "floor_restore_s": $floor_restore,
 "ours_restore_s": $ours_restore, "archive_bytes": $archive_size,
 "gzip6_bytes": $gzip6_size, "rss_backup_kib": $rss_backup_full,
 "rss_backup_quarter_kib": $rss_backup_quarter,
 "rss_restore_kib": $rss_restore_full,
 "rss_restore_quarter_kib": $rss_restore_quarter$c_json$files_json}
EOF2
say "written $JSON"
