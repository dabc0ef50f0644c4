#!/bin/bash
# tests/fidelity.sh - a restore gives the database back its own
# properties, which its dumps do not hold: owner, access (PUBLIC may not
# connect), connection limit, locale, per-database and per-role settings,
# comment; on the same server and on one that lacks the database and its
# roles.  An archive that does not record them still restores, with a
# warning.
. "${srcdir:-.}/tests/lib.sh"
sample_server

su_psql <<'SQL' >/dev/null
CREATE ROLE dbowner NOLOGIN;
CREATE ROLE reader NOLOGIN;
CREATE DATABASE fid TEMPLATE template0 ENCODING 'UTF8'
	LC_COLLATE 'C.utf8' LC_CTYPE 'C.utf8' CONNECTION LIMIT 33;
ALTER DATABASE fid OWNER TO dbowner;
REVOKE CONNECT, TEMPORARY ON DATABASE fid FROM PUBLIC;
GRANT CONNECT ON DATABASE fid TO reader;
GRANT TEMPORARY ON DATABASE fid TO reader WITH GRANT OPTION;
ALTER DATABASE fid SET search_path = app, public;
ALTER DATABASE fid SET statement_timeout = '5min';
ALTER ROLE reader IN DATABASE fid SET work_mem = '8MB';
COMMENT ON DATABASE fid IS 'Polarity''s data, with a
second line';
SQL
su_psql -d fid -c 'CREATE SCHEMA app' -c 'CREATE TABLE app.t (v text)' \
	-c "INSERT INTO app.t VALUES ('b'), ('a'), ('B')" \
	-c 'ALTER SCHEMA app OWNER TO dbowner' -c 'ALTER TABLE app.t OWNER TO dbowner'
write_env "$WORK/app/.env" fid polarity

# Every property, one a line, as the server has them.
props() {
	su_psql <<'SQL'
SELECT 'owner ' || pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'fid';
SELECT 'acl ' || coalesce(datacl::text, 'default') FROM pg_database WHERE datname = 'fid';
SELECT 'limit ' || datconnlimit FROM pg_database WHERE datname = 'fid';
SELECT 'locale ' || datcollate || ' ' || datctype || ' ' || pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'fid';
SELECT 'comment ' || coalesce(shobj_description(oid, 'pg_database'), 'none') FROM pg_database WHERE datname = 'fid';
SELECT 'setting ' || coalesce(nullif(pg_get_userbyid(setrole), 'unknown (OID=0)'), '-') || ' ' || array_to_string(setconfig, ';')
	FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = 'fid' ORDER BY 1;
SQL
}
props >"$WORK/props.before"
grep -qxF "acl {dbowner=CTc/dbowner,reader=T*c/dbowner}" "$WORK/props.before" ||
	fail "the sample's ACL is not what the test means: $(grep acl "$WORK/props.before")"
grep -q "^comment Polarity's data, with a$" "$WORK/props.before" || fail "the sample's comment"
run_polarity -q backup
expect 0 ""
archive=$(tail -n 1 "$WORK/out")
tar -xzOf "$archive" --wildcards '*/MANIFEST' >"$WORK/manifest"
grep -q '^db-properties 1$' "$WORK/manifest" || fail "the manifest records no properties"
grep -qxF "db-acl {dbowner=CTc/dbowner,reader=T*c/dbowner}" "$WORK/manifest" || fail "the manifest's db-acl"
grep -q '^db-comment Polarity'"'"'s\\040data,\\040with\\040a\\012second\\040line$' "$WORK/manifest" ||
	fail "the manifest's db-comment: $(grep db-comment "$WORK/manifest")"
ok "the manifest records the database's properties"

# 1. The same server: everything as it was, nothing widened.
run_polarity restore --yes "$archive"
expect 0 ""
if grep -q "does not record the database's owner" "$WORK/err"; then
	fail "a warning about missing properties"
fi
props >"$WORK/props.after"
diff "$WORK/props.before" "$WORK/props.after" >&2 || fail "properties differ after a restore on the same server"
ok "same server: owner, ACL (PUBLIC may not connect), limit, locale, settings, comment as they were"

# 2. A server without the database and without its roles: they are made,
# and the properties applied once the roles exist.
su_psql -c 'DROP DATABASE fid' >/dev/null
for d in $(su_psql -c "SELECT datname FROM pg_database WHERE datname LIKE 'fid_before_restore_%'"); do
	su_psql -c "DROP DATABASE \"$d\"" >/dev/null
done
su_psql -c 'DROP ROLE reader' -c 'DROP ROLE dbowner' >/dev/null
rm -f "$WORK/app/.env"
run_polarity restore --yes "$archive"
expect 0 ""
grep -q 'Created role "dbowner"' "$WORK/out" || fail "dbowner not created"
props >"$WORK/props.new"
diff "$WORK/props.before" "$WORK/props.new" >&2 || fail "properties differ after a restore on a new server"
ok "a server lacking the database and its roles: the same properties, field by field"

# 3. An archive that does not record them (as older ones): restored with
# the defaults and a warning that says so.
rm -rf "$WORK/x"
mkdir -p "$WORK/x"
tar -C "$WORK/x" -xzf "$archive"
top=$(ls "$WORK/x")
grep -v '^db-' "$WORK/x/$top/MANIFEST" >"$WORK/x/m" && mv "$WORK/x/m" "$WORK/x/$top/MANIFEST"
tar -tzf "$archive" >"$WORK/x/list"
repack "$WORK/x" "$WORK/x/list" "$WORK/old.tgz"
run_polarity verify "$WORK/old.tgz"
expect 0 ""
run_polarity restore --yes "$WORK/old.tgz"
expect 0 "the archive does not record the database's owner, access rights, locale, settings or comment"
props >"$WORK/props.old"
grep -q "^comment none$" "$WORK/props.old" || fail "an old archive's restore left a comment: $(grep comment "$WORK/props.old")"
if grep -q "restore in progress" "$WORK/props.old"; then fail "the in-progress mark stayed"; fi
ok "an archive without the properties: restored with the defaults, and a warning"

# 4. The unpacked integrations are on disk before they are put in place:
# the restore's own system calls, in order (strace is the seam).
command -v strace >/dev/null || fail "strace is needed (scripts/build.sh installs it)"
# LeakSanitizer cannot work under ptrace: off for the traced runs of a
# sanitizer build (distcheck); every other test keeps it.
traced() {
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$@"
}
write_env "$WORK/app/.env" fid polarity
set +e
traced strace -f -qq -e trace=syncfs,fsync,rename,renameat,renameat2,linkat -o "$WORK/trace" \
	"$POLARITY" --app-dir "$WORK/app" restore --yes "$archive" >"$WORK/out" 2>"$WORK/err"
RC=$?
set -e
expect 0 ""
sync_at=$(grep -n 'syncfs(' "$WORK/trace" | head -n 1 | cut -d: -f1)
swap_at=$(grep -n 'renameat2(.*RENAME_EXCHANGE' "$WORK/trace" | head -n 1 | cut -d: -f1)
[ -n "$swap_at" ] || fail "no exchange of the integrations folder in the trace"
[ -n "$sync_at" ] || fail "the unpacked integrations were never flushed (no syncfs)"
[ "$sync_at" -lt "$swap_at" ] || fail "syncfs came after the exchange"
# (With -f a call another process interrupts is printed in two lines,
# "syncfs(5 <unfinished ...>" and "<... syncfs resumed>) = 0".)
grep -Eq 'syncfs(\([0-9]+| resumed>)\) += 0' "$WORK/trace" ||
	fail "syncfs failed: $(grep syncfs "$WORK/trace")"
ok "the staged tree is flushed (syncfs) before the exchange"

# The rest of what a restore says is done: the folder that holds the
# exchange, then the .env's content before its name.
after=$(tail -n +"$swap_at" "$WORK/trace" | grep -c 'fsync(' || true)
[ "$after" -ge 1 ] || fail "no fsync after the exchange"
env_at=$(grep -n 'rename.*"[^"]*/app/.env"' "$WORK/trace" | tail -n 1 | cut -d: -f1)
[ -n "$env_at" ] || fail "no rename of the .env in the trace: $(grep rename "$WORK/trace")"
head -n "$env_at" "$WORK/trace" | tail -n 3 | grep -q 'fsync(' ||
	fail "the new .env was not fsynced before its rename"
tail -n +"$env_at" "$WORK/trace" | grep -q 'fsync(' || fail "no fsync of the .env's folder"
ok "then the exchange's folder, and the .env's content before its name, are synced"

# A backup: the archive's data before its name, then the folder.
set +e
traced strace -f -qq -e trace=fsync,linkat,renameat2 -o "$WORK/trace" \
	"$POLARITY" --app-dir "$WORK/app" -q backup >"$WORK/out" 2>"$WORK/err"
RC=$?
set -e
expect 0 ""
name_at=$(grep -n 'polarity-server-backup-[0-9]*\.tgz"' "$WORK/trace" | head -n 1 | cut -d: -f1)
[ -n "$name_at" ] || fail "the archive was not named in the trace: $(cat "$WORK/trace")"
head -n "$name_at" "$WORK/trace" | grep -q 'fsync(' || fail "the archive was not fsynced before its name"
tail -n +"$name_at" "$WORK/trace" | grep -q 'fsync(' || fail "no fsync of the backup folder after the name"
ok "a backup's archive is synced before it gets its name, and its folder after"

# 5. A .env that is a symbolic link (configuration management's): the
# link stays, its target gets the restored lines, and the kept copy is a
# copy, not a second link to the live file.
mkdir -p "$WORK/conf"
write_env "$WORK/conf/env" fid polarity
echo "CUSTOM=kept" >>"$WORK/conf/env"
cp "$WORK/conf/env" "$WORK/env.live"
rm -f "$WORK/app/.env" "$WORK/app/.env.before-restore-"*
ln -s ../conf/env "$WORK/app/.env"
# 6. An integrations folder that is a symbolic link to another volume.
vol=$(mktemp -d /dev/shm/polarity-vol.XXXXXX)
trap 'rc=$?; set +e; rm -rf "$vol"; cleanup "$rc"' EXIT
mv "$WORK/app/integrations" "$vol/integrations"
ln -s "$vol/integrations" "$WORK/app/integrations"
echo "added since the backup" >"$vol/integrations/new-file"
run_polarity restore --yes "$archive"
status=$RC
links_ok=1
[ -L "$WORK/app/.env" ] && [ "$(readlink "$WORK/app/.env")" = ../conf/env ] || links_ok=0
[ -L "$WORK/app/integrations" ] && [ "$(readlink "$WORK/app/integrations")" = "$vol/integrations" ] || links_ok=0
restored_vol=0
[ -f "$vol/integrations/virustotal/integration.js" ] && [ ! -e "$vol/integrations/new-file" ] && restored_vol=1
kept_vol=$(ls -d "$vol/integrations.before-restore-"* 2>/dev/null | head -n 1)
rm -rf "$vol"
RC=$status
expect 0 ""
[ "$links_ok" = 1 ] || fail "a link was replaced by a file or folder"
grep -q '^CUSTOM=kept$' "$WORK/conf/env" || fail "the link's target lost its other lines"
grep -q "^POLARITY_DB_DATABASE=fid" "$WORK/conf/env" || fail "the link's target lacks the restored lines"
kept=$(ls "$WORK/app/.env.before-restore-"*)
[ -f "$kept" ] && [ ! -L "$kept" ] || fail "the kept .env is not a file of its own"
cmp -s "$kept" "$WORK/env.live" || fail "the kept .env is not the old content"
ok "a symbolically linked .env: the link stays, its target gets the restored lines, the kept copy is a copy"
[ "$restored_vol" = 1 ] || fail "the link's target folder did not get the restored integrations"
[ -n "$kept_vol" ] || fail "the previous integrations were not kept beside the real folder"
if ls -d "$WORK/app/.polarity-restore-"* "$WORK/app/integrations.before-restore-"* >/dev/null 2>&1; then
	fail "staging or kept folders landed beside the link"
fi
ok "a symbolically linked integrations folder on another volume: restored there, kept there, the link stays"

# 7. A dry run checks the archive, the targets and the server, says the
# plan, and changes nothing.
rm -f "$WORK/app/integrations"
mkdir "$WORK/app/integrations"
echo kept >"$WORK/app/integrations/file"
rm -f "$WORK/app/.env"
write_env "$WORK/app/.env" fid polarity
# (A folder's own size is left out: on ext4 it grows by a block when an
# entry comes and goes, as the dry run's staging folder does, and never
# shrinks.  So is the size of the lock file, which every run rewrites
# with its own pid: 48 bytes for one pid, 49 for a pid a digit longer.
# Every entry, its kind, and every other file's size are compared.)
dry_state() {
	su_psql -c "SELECT datname FROM pg_database ORDER BY 1"
	(cd "$WORK/app" && find . \( -type d -o -name .polarity.lock \) \
		-printf '%p %y\n' -o -printf '%p %y %s\n' | LC_ALL=C sort)
	cat "$WORK/app/.env"
}
before_dry=$(dry_state)
run_polarity restore --dry-run "$archive" </dev/null
expect 0 ""
grep -q "^A restore would replace:$" "$WORK/out" || fail "the dry run shows no plan: $(cat "$WORK/out")"
grep -q "database 'fid' on 127.0.0.1:$PGPORT_TEST (the current one is kept as 'fid_before_restore_" "$WORK/out" ||
	fail "the plan does not name the database"
grep -q "nothing was changed" "$WORK/out" || fail "the dry run does not say it changed nothing"
after_dry=$(dry_state)
[ "$after_dry" = "$before_dry" ] ||
	fail "the dry run changed something: $(diff <(echo "$before_dry") <(echo "$after_dry"))"
ok "restore --dry-run: the plan, and nothing changed (no --yes, no terminal needed)"

# A role that may not create databases is told so before anything.
APP_PW=$APP_PASSWORD su_psql >/dev/null <<'SQL'
\getenv pw APP_PW
CREATE ROLE weak LOGIN PASSWORD :'pw';
SQL
write_env "$WORK/app/.env" fid weak
run_polarity restore --yes "$archive"
expect 1 "'weak' may not create databases, and a restore loads into a new one: ALTER ROLE \"weak\" CREATEDB"
if grep -q "loading the database" "$WORK/err"; then fail "it loaded before it refused"; fi
write_env "$WORK/app/.env" fid polarity
ok "a role that may not create databases: refused before loading, with what to do"

# Targets that cannot be replaced are found before anything is loaded,
# with what to do, by a restore and its dry run alike (root only: mounts
# and file attributes).
if [ "$(id -u)" = 0 ]; then
	rm -rf "$WORK/app/integrations"
	mkdir "$WORK/app/integrations"
	before_dbs=$(su_psql -c "SELECT datname FROM pg_database ORDER BY 1")
	mount -t tmpfs tmpfs "$WORK/app/integrations" ||
		fail "cannot mount a tmpfs for the test"
	trap 'rc=$?; set +e; umount "$WORK/app/integrations" 2>/dev/null || true; umount "$WORK/app/.env" 2>/dev/null || true; chattr -i "$WORK/app/.env" 2>/dev/null || true; rm -rf "$vol"; cleanup "$rc"' EXIT
	run_polarity restore --dry-run "$archive"
	expect 1 "the integrations folder '$(readlink -f "$WORK/app/integrations")' is a mount point"
	run_polarity restore --yes "$archive"
	umount "$WORK/app/integrations"
	expect 1 "the integrations folder '$(readlink -f "$WORK/app/integrations")' is a mount point"
	if grep -q "loading the database" "$WORK/err"; then fail "it loaded before it refused"; fi
	[ "$(su_psql -c "SELECT datname FROM pg_database ORDER BY 1")" = "$before_dbs" ] ||
		fail "a database was made before the refusal"
	ok "an integrations folder that is a mount point: refused before loading, with what to do"

	rm -f "$WORK/app/.env"
	cp "$WORK/conf/env" "$WORK/app/.env"
	mount --bind "$WORK/conf/env" "$WORK/app/.env"
	mount -o remount,bind,ro "$WORK/app/.env"
	run_polarity restore --dry-run "$archive"
	expect 1 "'$WORK/app/.env' is a file mounted on its own (a bind mount?)"
	run_polarity restore --yes "$archive"
	umount "$WORK/app/.env"
	expect 1 "'$WORK/app/.env' is a file mounted on its own (a bind mount?)"
	if grep -q "loading the database" "$WORK/err"; then fail "it loaded before it refused"; fi
	ok "a .env on a read-only bind mount: refused before loading, with what to do"

	if chattr +i "$WORK/app/.env" 2>/dev/null; then
		run_polarity restore --yes "$archive"
		chattr -i "$WORK/app/.env"
		expect 1 "'$WORK/app/.env' is immutable or append-only: lift it with chattr -i -a"
		ok "an immutable .env: refused before loading, with what to do"
	else
		echo "# this file system has no immutable attribute: not tried"
	fi
else
	echo "# SKIP mount points and attributes: not root"
fi

# 8. A sparse file (a preallocated cache, a database file of an
# integration's) takes on disk after a restore about what it took before,
# and no more while staged.
rm -rf "$WORK/app/integrations"
mkdir -p "$WORK/app/integrations/cache"
truncate -s 256M "$WORK/app/integrations/cache/sparse.bin"
printf 'data in the middle' | dd of="$WORK/app/integrations/cache/sparse.bin" \
	bs=1 seek=$((100 * 1024 * 1024)) conv=notrunc status=none
cp --sparse=always "$WORK/app/integrations/cache/sparse.bin" "$WORK/sparse.ref"
write_env "$WORK/app/.env" fid polarity
run_polarity -q backup
expect 0 ""
sparse_archive=$(tail -n 1 "$WORK/out")
rm -rf "$WORK/app/integrations"
run_polarity restore --yes "$sparse_archive"
expect 0 ""
f="$WORK/app/integrations/cache/sparse.bin"
cmp "$f" "$WORK/sparse.ref" || fail "the sparse file's content differs"
used=$(( $(stat -c %b "$f") * $(stat -c %B "$f") ))
[ "$used" -lt $((1024 * 1024)) ] || fail "the restored sparse file takes $used bytes on disk"
ok "a 256 MiB sparse file comes back sparse ($used bytes on disk), the same bytes"
