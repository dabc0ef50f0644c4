#!/bin/bash
# scripts/demo.sh [--keep] - build, then show the main job: a throwaway
# PostgreSQL with a sample Polarity database, a sample /app tree, one
# backup, and what the archive holds.  Everything is removed at the end;
# with --keep the server and the tree stay for the README's recovery
# walk-through, and the demo says how to stop them.
set -euo pipefail
keep=0
[ "${1:-}" = --keep ] && keep=1
cd "$(dirname "$0")/.."
scripts/build.sh >/dev/null
export POLARITY=$PWD/polarity
. tests/lib.sh

echo "== starting a throwaway PostgreSQL server"
pg_start
make_db
# Its user is the server's superuser, as in a standard Polarity install:
# a restore creates databases and roles.
su_psql -c 'ALTER ROLE polarity SUPERUSER'
make_app "$WORK/app"
echo "   port $PGPORT_TEST, data in $WORK/pgdata"
echo "== a sample Polarity install in $WORK/app"
(cd "$WORK/app" && find . -maxdepth 3 | sort | head -20)
echo
echo "== polarity --app-dir $WORK/app backup"
"$POLARITY" --app-dir "$WORK/app" backup
archive=$(ls "$WORK/app/backups/"*.tgz)
echo
echo "== the archive: $(stat -c '%s bytes, mode %a' "$archive")"
tar -tzvf "$archive" | sed 's/^/   /' | cut -c1-150 | head -40
echo
echo "== its manifest (first lines)"
tar -xzOf "$archive" --wildcards '*/MANIFEST' | head -12 | sed 's/^/   /'
echo
if [ "$keep" = 1 ]; then
	cat >"$WORK/stop.sh" <<EOF2
#!/bin/sh
# Stops the demo's PostgreSQL server and removes its files.
$(if [ "$(id -u)" = 0 ]; then echo "runuser -u postgres --"; fi) "$PGBIN/pg_ctl" -D "$WORK/pgdata" -m fast -w stop >/dev/null
rm -rf "$WORK"
EOF2
	trap - EXIT
	echo "== demo done; the server runs on, for the README's recovery walk-through:"
	echo "   export APP=$WORK/app P=$POLARITY"
	echo "   when done: sh $WORK/stop.sh"
	exit 0
fi
echo "== demo done; the server and files are removed now"
