# tests/lib.sh - shared by the integration tests and the demo.
#
# pg_start starts a private PostgreSQL server: initdb into a temporary
# directory, a free port on 127.0.0.1, password (scram-sha-256)
# authentication, run as the postgres user when we are root.  An EXIT trap
# stops it and removes the directory, whatever happens.  Nothing here ever
# talks to a server that happens to be running on the machine.

set -euo pipefail

POLARITY=${POLARITY:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/polarity}
PG_SUPERPASS='super secret'
WORK=
PGPORT_TEST=
PG_RUNNING=0

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }
ok() { echo "ok - $*"; }

# Where initdb and pg_ctl live: Debian keeps them off PATH.
pg_bindir() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
	done
	d=$(command -v initdb 2>/dev/null) || return 1
	dirname "$d"
}

as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A port nobody listens on (a connection to it is refused).
free_port() {
	local p
	for _ in $(seq 50); do
		p=$(( 20000 + RANDOM % 30000 ))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"; return 0
		fi
	done
	return 1
}

# Stops what the test started and returns its status: $1 when an EXIT
# trap of a test's own passes it (it runs with set +e, so that a step of
# its that fails cannot skip this), else the status it was called with.
cleanup() {
	local rc=${1:-$?}
	if [ "$PG_RUNNING" = 1 ]; then
		as_pg "$PGBIN/pg_ctl" -D "$WORK/pgdata" -m immediate -w stop \
			>/dev/null 2>&1 || true
		PG_RUNNING=0
	fi
	if [ -n "$WORK" ] && [ -z "${KEEP_WORK:-}" ]; then
		rm -rf "$WORK"
	fi
	return $rc
}

# Makes the temporary directory (without a server).
work_start() {
	WORK=$(mktemp -d /tmp/polarity-test.XXXXXX)
	chmod 755 "$WORK"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

pg_start() {
	PGBIN=$(pg_bindir) || skip "no PostgreSQL server binaries (initdb) installed"
	[ -n "$WORK" ] || work_start
	if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
		skip "running as root but there is no 'postgres' user"
	fi
	mkdir -p "$WORK/pgdata" "$WORK/sock"
	printf '%s\n' "$PG_SUPERPASS" >"$WORK/pwfile"
	if [ "$(id -u)" = 0 ]; then
		chown postgres "$WORK/pgdata" "$WORK/sock" "$WORK/pwfile"
	fi
	as_pg "$PGBIN/initdb" -D "$WORK/pgdata" -U postgres \
		--pwfile="$WORK/pwfile" -A scram-sha-256 --no-sync -E UTF8 --locale=C \
		>"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; fail "initdb failed"; }
	for _ in 1 2 3 4 5; do
		PGPORT_TEST=$(free_port) || fail "no free port"
		if as_pg "$PGBIN/pg_ctl" -D "$WORK/pgdata" -w -t 60 \
			-l "$WORK/pgdata/server.log" \
			-o "-p $PGPORT_TEST -k $WORK/sock -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40" \
			start >/dev/null 2>&1; then
			PG_RUNNING=1
			return 0
		fi
	done
	cat "$WORK/pgdata/server.log" >&2 || true
	fail "cannot start PostgreSQL"
}

# psql as the superuser: su_psql [psql options...]
su_psql() {
	PGPASSWORD=$PG_SUPERPASS psql -X -q -A -t -h 127.0.0.1 -p "$PGPORT_TEST" \
		-U postgres -v ON_ERROR_STOP=1 "$@"
}

# The password of the sample app: every character the .env must carry.
APP_PASSWORD="p a;ss #wo\$rd=x\"y'z\\q;$(printf 'A%.0s' $(seq 280))"

# Writes a .env for the sample database into FILE, with the password
# quoted the way a shell reads it back.
write_env() {
	local file=$1 db=${2:-polarity} user=${3:-polarity}
	local q=${APP_PASSWORD//\'/\'\\\'\'}
	cat >"$file" <<EOF2
# Polarity Server settings
POLARITY_HOSTNAME=polarity.example.com
export POLARITY_DB_HOST=127.0.0.1
POLARITY_DB_PORT="$PGPORT_TEST"
POLARITY_DB_USER=$user   # the application's role
POLARITY_DB_PASSWORD='$q'
POLARITY_DB_DATABASE=$db
  # an indented comment
NODE_ENV=production
EOF2
	chmod 600 "$file"
}

# Creates the sample Polarity database DB owned by the role USER, with the
# sample app's password: several schemas, roles that own objects and get
# grants, sequences, views, functions, triggers, foreign keys (one of them
# circular), jsonb and bytea.
make_db() {
	local db=${1:-polarity} user=${2:-polarity}
	# The password reaches psql through its environment: the tests look
	# for it in every command line, so the harness must not put it there.
	APP_PW=$APP_PASSWORD su_psql -v u="$user" -v db="$db" <<'SQL'
\getenv pw APP_PW
CREATE ROLE :"u" LOGIN PASSWORD :'pw';
CREATE ROLE polarity_reader NOLOGIN;
CREATE ROLE "Mixed Case Owner" NOLOGIN;
CREATE DATABASE :"db" OWNER :"u";
SQL
	PGPASSWORD=$APP_PASSWORD psql -X -q -h 127.0.0.1 -p "$PGPORT_TEST" \
		-U "$user" -d "$db" -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE SCHEMA intel;
CREATE SCHEMA audit;
CREATE TABLE intel.entity (
	id bigserial PRIMARY KEY,
	value text NOT NULL,
	kind text NOT NULL,
	meta jsonb NOT NULL DEFAULT '{}',
	blob bytea,
	seen timestamptz NOT NULL DEFAULT '2026-01-01 00:00:00+00'
);
CREATE INDEX entity_meta ON intel.entity USING gin (meta);
CREATE TABLE intel.tag (id serial PRIMARY KEY, name text UNIQUE NOT NULL,
	entity_id bigint REFERENCES intel.entity(id));
CREATE TABLE intel.a (id int PRIMARY KEY, b_id int);
CREATE TABLE intel.b (id int PRIMARY KEY, a_id int REFERENCES intel.a(id));
ALTER TABLE intel.a ADD FOREIGN KEY (b_id) REFERENCES intel.b(id)
	DEFERRABLE INITIALLY DEFERRED;
CREATE TABLE audit.log (id bigserial PRIMARY KEY, entity_id bigint,
	at timestamptz NOT NULL DEFAULT now(), what text);
CREATE FUNCTION audit.note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO audit.log (entity_id, at, what)
	VALUES (NEW.id, '2026-01-01', TG_OP);
	RETURN NEW;
END $$;
CREATE TRIGGER entity_audit AFTER INSERT ON intel.entity
	FOR EACH ROW EXECUTE FUNCTION audit.note();
CREATE VIEW intel.recent AS SELECT id, value FROM intel.entity WHERE id > 2;
INSERT INTO intel.entity (value, kind, meta, blob)
SELECT 'host-' || g || '.example', CASE WHEN g % 2 = 0 THEN 'domain' ELSE 'ip' END,
	jsonb_build_object('score', g, 'tags', jsonb_build_array('a', g)),
	decode(md5(g::text), 'hex') || '\x00ff'::bytea
FROM generate_series(1, 500) g;
INSERT INTO intel.entity (value, kind, meta) VALUES
	(E'quote '' tab \t newline \n backslash \\ unicode é 漢', 'odd', '{"k": "v"}');
INSERT INTO intel.tag (name, entity_id) VALUES ('malware', 1), ('phish', 2);
BEGIN;
INSERT INTO intel.a VALUES (1, 1);
INSERT INTO intel.b VALUES (1, 1);
COMMIT;
SELECT setval('intel.tag_id_seq', 4242);
SQL
	su_psql -d "$db" -v u="$user" <<'SQL'
GRANT USAGE ON SCHEMA intel TO polarity_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA intel TO polarity_reader;
CREATE TABLE audit.owned (id int);
ALTER TABLE audit.owned OWNER TO "Mixed Case Owner";
GRANT "Mixed Case Owner" TO :"u";
SQL
}

# Builds a sample app directory in DIR: .env and an integrations tree with
# nested folders, symbolic links, executable bits, empty folders, names
# with spaces and non-ASCII.
make_app() {
	local dir=$1
	mkdir -p "$dir/integrations/virustotal/node_modules/lib" \
		"$dir/integrations/virustotal/empty dir" \
		"$dir/integrations/dns lookup/config" \
		"$dir/integrations/émoji-☃"
	write_env "$dir/.env"
	printf 'module.exports = {};\n' >"$dir/integrations/virustotal/integration.js"
	printf '#!/bin/sh\necho run\n' >"$dir/integrations/virustotal/run.sh"
	chmod 755 "$dir/integrations/virustotal/run.sh"
	head -c 200000 /dev/urandom >"$dir/integrations/virustotal/node_modules/lib/big.bin"
	printf '{"name": "dns"}\n' >"$dir/integrations/dns lookup/config/config.json"
	printf 'snow\n' >"$dir/integrations/émoji-☃/file ☃.txt"
	: >"$dir/integrations/dns lookup/empty-file"
	ln -s ../virustotal/integration.js "$dir/integrations/dns lookup/link.js"
	ln -s ../missing/target "$dir/integrations/virustotal/dangling"
	local long
	long=$(printf 'n%.0s' $(seq 120))
	mkdir -p "$dir/integrations/virustotal/node_modules/$long/$long"
	printf 'deep\n' >"$dir/integrations/virustotal/node_modules/$long/$long/$long.js"
}

# The archives and temporary files in the backup directory DIR, one a
# line (the lock file aside).
backup_dir_contents() {
	find "$1" -mindepth 1 ! -name .polarity.lock -printf '%f\n' | sort
}

# Makes DIR a PostgreSQL bin directory for --pg-bindir: the real psql and
# pg_dumpall, and a pg_dump that runs the shell code in $2 before it
# hands over to the real one ("$@" holds pg_dump's arguments).
wrap_pg_dump() {
	local dir=$1 code=$2
	mkdir -p "$dir"
	ln -sf "$PGBIN/psql" "$dir/psql"
	ln -sf "$PGBIN/pg_dumpall" "$dir/pg_dumpall"
	ln -sf "$PGBIN/pg_restore" "$dir/pg_restore"
	cat >"$dir/pg_dump" <<EOF2
#!/bin/bash
$code
exec "$PGBIN/pg_dump" "\$@"
EOF2
	chmod 755 "$dir/pg_dump"
}

# Runs polarity on the sample app in $WORK/app; output in $WORK/out and
# $WORK/err, exit status in $RC.
run_polarity() {
	set +e
	"$POLARITY" --app-dir "$WORK/app" "$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	set -e
}

# Fails unless the last run exited with $1 and its error output has $2.
expect() {
	local want=$1 text=$2
	if [ "$RC" != "$want" ]; then
		cat "$WORK/err" >&2
		fail "exit status $RC, wanted $want"
	fi
	if [ -n "$text" ] && ! grep -qF -- "$text" "$WORK/err"; then
		cat "$WORK/err" >&2
		fail "no '$text' in the error output"
	fi
}

# Fails if the password of the sample app is in FILE...
no_password_in() {
	local f
	for f in "$@"; do
		if grep -qF 'wo$rd=x' "$f"; then fail "password found in $f"; fi
	done
}

# A summary of the server state a restore must not touch when it fails:
# the sample database's full dump, the integrations tree and the .env.
state_of() {
	{
		dump_db "${1:-polarity}"
		(cd "$WORK/app" && find integrations -printf '%p %y %m %s %l\n' | LC_ALL=C sort)
		cat "$WORK/app/.env"
		su_psql -c "SELECT datname FROM pg_database ORDER BY 1"
	} | sha256sum
}

# Drops what a restore of the sample app kept (the previous database,
# integrations and .env), so that state_of() compares.
drop_kept() {
	local d
	for d in $(su_psql -c "SELECT datname FROM pg_database WHERE datname LIKE 'polarity_before_restore_%'"); do
		su_psql -c "DROP DATABASE \"$d\""
	done
	rm -rf "$WORK/app/integrations.before-restore-"* "$WORK/app/.env.before-restore-"*
}

# The full dump of database DB, without the lines that differ per run.
dump_db() {
	PGPASSWORD=$PG_SUPERPASS "$PGBIN/pg_dump" -h 127.0.0.1 -p "$PGPORT_TEST" \
		-U postgres "$1" | grep -v -e '^\\restrict' -e '^\\unrestrict'
}

# A dump on standard input with the rows of each table sorted: the same
# rows, whatever their order on disk (a large table's rows load through
# two sessions).
sort_rows() {
	perl -ne '
		if ($in) {
			if ($_ eq "\\.\n") { print sort @r; @r = (); $in = 0; print }
			else { push @r, $_ }
			next;
		}
		print;
		$in = 1 if /^COPY .* FROM stdin;$/;'
}

# dump_db, its rows sorted.
dump_rows() { dump_db "$1" | sort_rows; }

# Repacks the archive extracted in DIR (its top folder TOP) into OUT, with
# the members in the order of the file LIST, as GNU tar in pax format.
repack() {
	local dir=$1 list=$2 out=$3
	tar -C "$dir" --format=pax --no-recursion -czf "$out" -T "$list"
}

# Rewrites the MANIFEST line of member NAME in DIR/TOP after its content
# changed, so that only the change itself is what a test looks at.
fix_manifest() {
	local top=$1 name=$2 sha size
	sha=$(sha256sum <"$top/$name" | cut -d' ' -f1)
	size=$(stat -c %s "$top/$name")
	awk -v n="$name" -v s="$sha" -v z="$size" \
		'$1 == "f" && $5 == n { $3 = z; $4 = s } { print }' \
		"$top/MANIFEST" >"$top/MANIFEST.new"
	mv "$top/MANIFEST.new" "$top/MANIFEST"
}

# Fails unless the trees A and B hold the same files, folders and links,
# with the same contents, kinds, modes and link targets.
same_tree() {
	diff -r --no-dereference "$1" "$2" || fail "$3: contents differ"
	tree_modes() { (cd "$1" && find . -printf '%p %y %m %l\n' | LC_ALL=C sort); }
	diff <(tree_modes "$1") <(tree_modes "$2") ||
		fail "$3: modes, kinds or link targets differ"
}

# The sample server for the restore tests: the database (its user a
# superuser, as in a standard Polarity install, so that it creates
# databases and roles) and the app folder.
sample_server() {
	pg_start
	make_db
	su_psql -c 'ALTER ROLE polarity SUPERUSER'
	make_app "$WORK/app"
}

# Backs up the sample server; the archive's path goes to $archive.
sample_backup() {
	run_polarity -q backup
	expect 0 ""
	archive=$(tail -n 1 "$WORK/out")
}

# Until process PID ends, appends to FILE the command line of PID and of
# each of its children, one a line (only those: other tests may run
# beside this one, with secrets of their own).
sample_cmdlines() {
	local pid=$1 file=$2 p stat
	: >"$file"
	while kill -0 "$pid" 2>/dev/null; do
		for p in /proc/[0-9]*; do
			# read, not cat: a process a file made a sweep of a
			# loaded machine's /proc take seconds, and a child
			# alive for three of them could be missed.
			read -r stat 2>/dev/null <"$p/stat" || continue
			set -- ${stat##*) }
			[ "${p#/proc/}" = "$pid" ] || [ "$2" = "$pid" ] || continue
			tr '\0' ' ' 2>/dev/null <"$p/cmdline" >>"$file" || true
			echo >>"$file"
		done
	done
}
