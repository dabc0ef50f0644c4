#!/bin/bash
# tests/restore-early.sh - with --yes the load starts while the archive is
# still being checked, straight from the archive; whatever goes wrong with
# that early load, the restore either loads again after the check or
# leaves the server as it was.
. "${srcdir:-.}/tests/lib.sh"
sample_server
sample_backup
dump_db polarity >"$WORK/before.sql"

# Fails unless line A of the error output comes before line B.
in_order() {
	local a b
	a=$(grep -n -m1 -F -- "$1" "$WORK/err" | cut -d: -f1)
	b=$(grep -n -m1 -F -- "$2" "$WORK/err" | cut -d: -f1)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] ||
		{ cat "$WORK/err" >&2; fail "'$1' does not come before '$2'"; }
}

run_polarity -v restore --yes "$archive"
expect 0 ""
in_order "while the archive is checked" "archive checked:"
# The unpacked tree goes to disk while the load ends.
in_order "syncing the unpacked integrations to disk" "finishing the load into"
diff "$WORK/before.sql" <(dump_db polarity) >/dev/null || fail "early load differs"
[ -z "$(su_psql -c "SELECT datname FROM pg_database WHERE datname LIKE '%restoring%'")" ] ||
	fail "a loading database was left"
ok "--yes: the load starts before the check ends; database identical"
drop_kept

# The index builds do not wait for the check: the check's decompressor
# (the first one started) stops for 6 seconds before the post-data dump;
# the load's own reader has it long before, and the builds start then.
cat >"$WORK/slowcheck" <<EOF2
#!/bin/bash
[ "\$1" = -dc ] || exec gzip "\$@"
mkdir "$WORK/slowcheck.first" 2>/dev/null || exec gzip -dc
gzip -dc | perl -e 'binmode STDIN; binmode STDOUT; \$| = 1;
	while ((\$n = read(STDIN, \$b, 512)) > 0) {
		sleep 6 if substr(\$b, 0, 100) =~ m{/database/3-post-data\.sql\0};
		print \$b;
	}'
EOF2
chmod 755 "$WORK/slowcheck"
run_polarity -v --compressor "$WORK/slowcheck" restore --yes "$archive"
expect 0 ""
[ -d "$WORK/slowcheck.first" ] || fail "the slow decompressor did not run"
# Seconds from the first line to line A of the error output.
at() {
	local first line
	first=$(head -n 1 "$WORK/err" | cut -c1-19)
	line=$(grep -m1 -F -- "$1" "$WORK/err" | cut -c1-19)
	[ -n "$line" ] || { cat "$WORK/err" >&2; fail "no '$1'"; }
	echo $(($(date -d "$line" +%s) - $(date -d "$first" +%s)))
}
built=$(at "building the indexes and keys")
checked=$(at "archive checked:")
[ "$checked" -ge 5 ] || fail "the check did not stall ($checked s)"
[ $((checked - built)) -ge 4 ] ||
	{ cat "$WORK/err" >&2; fail "the builds started ${built} s in, the check ended ${checked} s in"; }
diff "$WORK/before.sql" <(dump_db polarity) >/dev/null || fail "early load differs"
ok "the builds start once the rows are in, while the check still runs (${built} s and ${checked} s)"
drop_kept

# The load reads the dumps from the archive: the staging folder never
# holds them.  A 3 MB tmpfs under the integrations (and so the staging
# folder) takes the integrations but not the 4 MB of data.
if [ "$(id -u)" = 0 ] && mkdir -p "$WORK/small" && mount -t tmpfs -o size=3m tmpfs "$WORK/small" 2>/dev/null; then
	trap 'rc=$?; set +e; umount "$WORK/small" 2>/dev/null; cleanup "$rc"' EXIT
	su_psql -d polarity -c "CREATE TABLE public.filler AS SELECT g, decode(md5(g::text) || md5((g * 7)::text), 'hex') AS b FROM generate_series(1, 60000) g"
	run_polarity -q backup
	expect 0 ""
	big=$(tail -n 1 "$WORK/out")
	dump_rows polarity >"$WORK/big.sql"
	[ "$(tar -xzOf "$big" --wildcards '*/database/2-data.sql' | wc -c)" -gt 4000000 ] ||
		fail "the data dump is too small for this test"
	mkdir -p "$WORK/small/app"
	cp -a "$WORK/app/integrations" "$WORK/small/app/"
	su_psql -d polarity -c "DROP TABLE public.filler"
	for yes in --yes ""; do
		if [ -n "$yes" ]; then
			run_polarity --integrations-dir "$WORK/small/app/integrations" restore --yes "$big"
		elif command -v script >/dev/null 2>&1; then
			# The late load, after the question at a terminal.
			set +e
			printf 'yes\n' | script -q -e -c "'$POLARITY' --app-dir '$WORK/app' \
				--integrations-dir '$WORK/small/app/integrations' restore '$big'" \
				/dev/null >"$WORK/err" 2>&1
			RC=$?
			set -e
		else
			continue
		fi
		expect 0 ""
		diff "$WORK/big.sql" <(dump_rows polarity) >/dev/null ||
			fail "restore ${yes:-at a terminal} with little room differs"
		su_psql -d polarity -c "DROP TABLE public.filler"
		rm -rf "$WORK/small/app/integrations.before-restore-"*
		drop_kept
	done
	rm -f "$big"
	umount "$WORK/small"
	trap cleanup EXIT
	ok "the data never goes to the staging folder (4 MB of data through a 3 MB one)"
else
	echo "# SKIP staging room: not root, or tmpfs cannot be mounted here"
fi

# A table of more than 4 MB of rows: they load through two sessions at
# once, every row once; with --keep-row-order through one, in the
# archive's order (the dump the same, byte for byte).
su_psql -d polarity -c "CREATE TABLE public.wide AS SELECT g, repeat(md5(g::text), 4) AS s FROM generate_series(1, 50000) g"
run_polarity -q backup
expect 0 ""
wide=$(tail -n 1 "$WORK/out")
dump_db polarity >"$WORK/wide.sql"
dump_rows polarity >"$WORK/wide-rows.sql"
su_psql -d polarity -c "DROP TABLE public.wide"
for early in --yes --drop-first; do
	run_polarity -v restore --yes $early "$wide"
	expect 0 "the rows of 1 large table loaded by two sessions at once"
	diff "$WORK/wide-rows.sql" <(dump_rows polarity) >/dev/null ||
		fail "two sessions ($early): the rows differ"
	drop_kept
done
run_polarity -v restore --yes --keep-row-order "$wide"
expect 0 ""
grep -q "two sessions" "$WORK/err" && fail "--keep-row-order: two sessions"
diff "$WORK/wide.sql" <(dump_db polarity) >/dev/null ||
	fail "--keep-row-order: the dump differs"
drop_kept
su_psql -d polarity -c "DROP TABLE public.wide"
rm -f "$wide"
ok "a large table's rows through two sessions, every row once; --keep-row-order: one, in order"

# The check reads the dumps only once the early load's rows are in (the
# load's psql slow to start: without the wait, the check of this small
# archive would end first).
mkdir -p "$WORK/slowrows"
ln -sf "$PGBIN/pg_dump" "$WORK/slowrows/pg_dump"
ln -sf "$PGBIN/pg_restore" "$WORK/slowrows/pg_restore"
ln -sf "$PGBIN/pg_dumpall" "$WORK/slowrows/pg_dumpall"
cat >"$WORK/slowrows/psql" <<EOF2
#!/bin/bash
case "\$*" in *-A*|--version) ;; *) sleep 2 ;; esac
exec "$PGBIN/psql" "\$@"
EOF2
chmod 755 "$WORK/slowrows/psql"
run_polarity -v --pg-bindir "$WORK/slowrows" restore --yes "$archive"
expect 0 ""
in_order "building the indexes and keys" "archive checked:"
diff "$WORK/before.sql" <(dump_db polarity) >/dev/null || fail "the restored database differs"
ok "the check reads the dumps once the early load's rows are in"
drop_kept

# At a terminal with --yes, the wait for the end of the early load shows
# its progress (a psql slow to start makes sure there is a wait).
if command -v script >/dev/null 2>&1; then
	mkdir -p "$WORK/slow"
	ln -sf "$PGBIN/pg_dump" "$WORK/slow/pg_dump"
	ln -sf "$PGBIN/pg_restore" "$WORK/slow/pg_restore"
	ln -sf "$PGBIN/pg_dumpall" "$WORK/slow/pg_dumpall"
	cat >"$WORK/slow/psql" <<EOF2
#!/bin/bash
case "\$*" in *-A*|--version) ;; *) sleep 2 ;; esac
exec "$PGBIN/psql" "\$@"
EOF2
	chmod 755 "$WORK/slow/psql"
	set +e
	script -q -e -c "'$POLARITY' --app-dir '$WORK/app' --pg-bindir '$WORK/slow' restore --yes '$archive'" \
		/dev/null </dev/null >"$WORK/tty.out" 2>&1
	RC=$?
	set -e
	[ "$RC" = 0 ] || { cat "$WORK/tty.out"; fail "restore at a terminal exited $RC"; }
	grep -q 'finishing the load into' "$WORK/tty.out" || fail "no wait for the early load"
	grep -q $'\r  loading ' "$WORK/tty.out" || fail "no progress while the early load ends"
	ok "at a terminal with --yes: progress while the early load ends"
	drop_kept
fi

# A damaged end (the last bytes cut): refused with status 4 after the
# early load began; its database dropped, nothing changed.
before=$(state_of)
size=$(stat -c %s "$archive")
head -c $((size - 20)) "$archive" >"$WORK/cut.tgz"
run_polarity -v restore --yes "$WORK/cut.tgz"
expect 4 "is damaged"
grep -qF "while the archive is checked" "$WORK/err" || fail "the early load did not start"
[ "$(state_of)" = "$before" ] || fail "a damaged archive changed the server"
ok "a damaged end after the early load began: exit 4, its database dropped, nothing changed"

# The early load failing (a psql that fails its first load) is not the
# end: the restore loads again once the check passed.
mkdir -p "$WORK/once"
ln -sf "$PGBIN/pg_dump" "$WORK/once/pg_dump"
ln -sf "$PGBIN/pg_restore" "$WORK/once/pg_restore"
ln -sf "$PGBIN/pg_dumpall" "$WORK/once/pg_dumpall"
cat >"$WORK/once/psql" <<EOF2
#!/bin/bash
# The loads are the psql runs without -A (the sessions use -A -t); the
# restore asks its version first.
case "\$*" in *-A*|--version) ;; *)
	if [ ! -e "$WORK/once/failed" ]; then
		touch "$WORK/once/failed"
		head -c 2000 >/dev/null
		echo 'psql: error: a failure made by the test' >&2
		exit 3
	fi ;;
esac
exec "$PGBIN/psql" "\$@"
EOF2
chmod 755 "$WORK/once/psql"
su_psql -d polarity -c "INSERT INTO intel.tag (name) VALUES ('made after the backup')"
run_polarity -v --pg-bindir "$WORK/once" restore --yes "$archive"
expect 0 "loading after the check: the early load failed: 'psql' exited with status 3"
in_order "archive checked:" "loading after the check"
[ "$(grep -c 'loading the database into' "$WORK/err")" = 2 ] || fail "not loaded twice"
diff "$WORK/before.sql" <(dump_db polarity) >/dev/null || fail "the load after the check differs"
ok "the early load failing: loaded again after the check, database identical"
drop_kept

# The database the early load makes has the encoding of the one it
# replaces; when the archive's differs, the load is made again with the
# archive's.
enc=$(su_psql -c "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'polarity'")
[ "$enc" = UTF8 ] || fail "the sample database is $enc, not UTF8"
su_psql -c "DROP DATABASE polarity" \
	-c "CREATE DATABASE polarity OWNER polarity ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
run_polarity -v restore --yes "$archive"
expect 0 "loading after the check: the archive's encoding is UTF8"
[ "$(su_psql -c "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'polarity'")" = UTF8 ] ||
	fail "restored with the wrong encoding"
diff "$WORK/before.sql" <(dump_db polarity) >/dev/null || fail "the reloaded database differs"
ok "an encoding other than the archive's: loaded again as UTF8"
drop_kept

# Roles to create: nothing is created before the check ends, so the load
# waits for it.
drop_owner() {
	su_psql -d polarity -c 'REASSIGN OWNED BY "Mixed Case Owner" TO postgres' \
		-c 'DROP OWNED BY "Mixed Case Owner"'
	su_psql -c 'DROP ROLE "Mixed Case Owner"'
}
drop_owner
run_polarity -v restore --yes "$archive"
expect 0 "loading after the check: roles to create first"
in_order "archive checked:" 'created role "Mixed Case Owner"'
diff "$WORK/before.sql" <(dump_db polarity) >/dev/null || fail "restore with a role to create differs"
ok "a role to create: loaded after the check, the role made then"
drop_kept

# A psql that was told to stop may still start and connect later (in the
# container, stopping `docker exec` leaves the psql it started).  By then
# its database may have been dropped and made again under the same name
# for the load after the check: it must refuse to load into that one.
# Here the early load's psql goes on in the background once its wrapper
# is stopped, with what it was given, and connects as soon as its
# database was made again; the next load waits until it has run.  (The
# early load is stopped moments after it starts: when that comes before
# the wrapper has started its background psql, the restore is made
# again.)
mkdir -p "$WORK/late"
ln -sf "$PGBIN/pg_dump" "$WORK/late/pg_dump"
ln -sf "$PGBIN/pg_restore" "$WORK/late/pg_restore"
ln -sf "$PGBIN/pg_dumpall" "$WORK/late/pg_dumpall"
cat >"$WORK/late/run" <<RUN
#!/bin/bash
oid() {
	PGDATABASE=postgres "$PGBIN/psql" -X -A -t -c \\
		"SELECT oid FROM pg_database WHERE datname = '\$1'"
}
name=\$PGDATABASE
first=\$(oid "\$name")
cat >"$WORK/late/input"
for i in \$(seq 600); do
	now=\$(oid "\$name")
	[ -n "\$now" ] && [ "\$now" != "\$first" ] && break
	sleep 0.05
done
echo "first \$first, then \$now" >"$WORK/late/oids"
"$PGBIN/psql" "\$@" <"$WORK/late/input" >"$WORK/late/out" 2>&1
echo \$? >"$WORK/late/rc.tmp"
mv "$WORK/late/rc.tmp" "$WORK/late/rc"
RUN
cat >"$WORK/late/psql" <<WRAP
#!/bin/sh
trap 'stopped=1' TERM
case "\$*" in *-A*|--version) exec "$PGBIN/psql" "\$@" ;; esac
if mkdir "$WORK/late/first" 2>/dev/null; then
	exec 3<&0
	setsid "$WORK/late/run" "\$@" <&3 3<&- >/dev/null 2>&1 &
	touch "$WORK/late/started"
	while [ -z "\$stopped" ] && kill -0 \$! 2>/dev/null; do sleep 0.05; done
	exit 0
fi
if [ -e "$WORK/late/started" ]; then
	for i in \$(seq 600); do [ -e "$WORK/late/rc" ] && break; sleep 0.05; done
fi
exec "$PGBIN/psql" "\$@"
WRAP
chmod 755 "$WORK/late/run" "$WORK/late/psql"
for try in 1 2 3 4 5; do
	drop_owner
	rm -rf "$WORK/late/first" "$WORK/late/started" "$WORK/late/rc" \
		"$WORK/late/oids" "$WORK/late/out"
	run_polarity -v --pg-bindir "$WORK/late" restore --yes "$archive"
	expect 0 "loading after the check: roles to create first"
	[ -e "$WORK/late/started" ] && break
	drop_kept
done
[ -e "$WORK/late/started" ] || fail "the early load was stopped before its psql started, 5 times"
[ -e "$WORK/late/rc" ] || fail "the stopped psql never ran"
grep -q "^first [0-9]*, then [0-9]*$" "$WORK/late/oids" ||
	fail "the database was not made again: $(cat "$WORK/late/oids")"
grep -qF "not the database made for this load" "$WORK/late/out" ||
	fail "the stopped psql loaded into the database made after it: $(cat "$WORK/late/out")"
[ "$(cat "$WORK/late/rc")" != 0 ] || fail "the stopped psql exited 0"
diff "$WORK/before.sql" <(dump_db polarity) >/dev/null || fail "the restored database differs"
ok "a stopped early load that connects late refuses the database made after it (try $try)"
