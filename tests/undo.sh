#!/bin/bash
# tests/undo.sh - a way back: undo reverses the most recent restore and
# loses nothing; a restore killed (SIGKILL) after each step of its commit
# is said by the next run and undone to the state before it; cleanup
# removes what restores and undos kept, never a live thing.
. "${srcdir:-.}/tests/lib.sh"
sample_server
sample_backup

# The state a restore of the archive changes, drifted from the archive
# so that every step has something to do.
drift() {
	su_psql -d polarity -c "INSERT INTO intel.tag (name) VALUES ('drift $1')" >/dev/null
	echo "$1" >"$WORK/app/integrations/drift.txt"
	sed -i "s/^POLARITY_DB_DATABASE=.*/POLARITY_DB_DATABASE=polarity # drift $1/" "$WORK/app/.env"
}
# What the server looks like to an operator: the live database, the
# integrations, the .env (the kept copies aside).
live_state() {
	{
		dump_db polarity
		(cd "$WORK/app" && find integrations -printf '%p %y %m %s %l\n' | LC_ALL=C sort)
		cat "$WORK/app/.env"
	} | sha256sum
}

run_polarity undo --yes
expect 1 "no restore to undo"
ok "undo with no restore recorded: says so, exits 1"

# 1. A whole restore, undone.
drift one
before=$(live_state)
run_polarity restore --yes "$archive"
expect 0 ""
grep -q "To go back to the state before this restore: polarity undo" "$WORK/out" || fail "the report does not point to undo"
[ "$(live_state)" != "$before" ] || fail "the restore changed nothing"
restored=$(live_state)
run_polarity undo --yes
expect 0 ""
[ "$(live_state)" = "$before" ] || fail "undo did not bring the state before the restore back"
grep -q "undo complete" "$WORK/err" || fail "no 'undo complete'"
undone_db=$(su_psql -c "SELECT datname FROM pg_database WHERE datname LIKE 'polarity_undone_%'")
[ -n "$undone_db" ] || fail "the restored database was not kept"
ls -d "$WORK/app/integrations.undone-"* >/dev/null || fail "the restored integrations were not kept"
ls "$WORK/app/.env.undone-"* >/dev/null || fail "the restored .env was not kept"
ok "undo puts back the database, integrations and .env; what the restore put in place is kept as *undone*"
run_polarity undo --yes
expect 1 "was undone already"
ok "a second undo says there is nothing to undo"

# 2. Killed after each step of the commit: the next run says so, a new
# restore is refused, and undo brings the state before it back.
for point in commit database integrations-exchanged integrations env; do
	drift "$point"
	before=$(live_state)
	set +e
	POLARITY_TEST_KILL_AT=$point "$POLARITY" --app-dir "$WORK/app" restore --yes "$archive" \
		>"$WORK/out" 2>"$WORK/err"
	RC=$?
	set -e
	[ "$RC" = 137 ] || { cat "$WORK/err" >&2; fail "$point: not killed (status $RC)"; }
	run_polarity list
	expect 0 "the restore from '$archive'"
	grep -q "was interrupted while it put things in place: run 'polarity undo'" "$WORK/err" ||
		fail "$point: list does not say so first"
	run_polarity restore --yes "$archive"
	expect 1 "run 'polarity undo' to go back to the state before it, then restore again"
	run_polarity cleanup --yes
	expect 1 "run 'polarity undo' first"
	run_polarity undo --yes
	expect 0 ""
	[ "$(live_state)" = "$before" ] || fail "killed at '$point': undo did not bring the state back"
	[ -z "$(ls -d "$WORK"/app/.polarity-restore-* 2>/dev/null)" ] || fail "$point: the stage is left"
	run_polarity list
	expect 0 ""
	grep -q "interrupted" "$WORK/err" && fail "$point: still said to be interrupted"
	ok "killed after '$point': said first thing, restore and cleanup refused, undo brings the state before back"
done

# An undo itself killed: run again, it finishes.
drift again
before=$(live_state)
run_polarity restore --yes "$archive"
expect 0 ""
set +e
POLARITY_TEST_KILL_AT=undo-integrations "$POLARITY" --app-dir "$WORK/app" undo --yes >"$WORK/out" 2>"$WORK/err"
RC=$?
set -e
[ "$RC" = 137 ] || { cat "$WORK/err" >&2; fail "undo not killed (status $RC)"; }
run_polarity undo --yes
expect 0 ""
[ "$(live_state)" = "$before" ] || fail "an undo run again after a kill did not finish"
ok "an undo killed midway, run again, finishes"

# 3. cleanup: lists, then removes, what was kept; never the live ones.
drift cleanup
run_polarity restore --yes "$archive"
expect 0 ""
live=$(live_state)
run_polarity cleanup --dry-run
expect 0 ""
grep -q "^would remove database \"polarity_before_restore_" "$WORK/out" || { cat "$WORK/out" "$WORK/err" >&2; fail "cleanup --dry-run: no kept database"; }
grep -q '^would remove database "polarity_undone_' "$WORK/out" || fail "cleanup --dry-run: no undone database"
grep -q "^would remove '$WORK/app/integrations.before-restore-" "$WORK/out" || fail "cleanup --dry-run: no kept integrations"
grep -q "^would remove '$WORK/app/.env.undone-" "$WORK/out" || fail "cleanup --dry-run: no undone .env"
grep -q "would remove database \"polarity\" \|would remove '$WORK/app/integrations'$\|would remove '$WORK/app/.env'$" "$WORK/out" &&
	fail "cleanup would remove a live thing"
n=$(grep -c '^would remove' "$WORK/out")
run_polarity cleanup </dev/null
expect 2 "give --yes when not at a terminal"
run_polarity cleanup --yes
expect 0 ""
[ "$(grep -c '^removed' "$WORK/out")" = "$n" ] || fail "cleanup removed $(grep -c '^removed' "$WORK/out") of $n"
[ -z "$(su_psql -c "SELECT datname FROM pg_database WHERE datname ~ '_(before_restore|undone)_'")" ] || fail "kept databases left"
[ -z "$(ls -d "$WORK"/app/*.before-restore-* "$WORK"/app/.env.*-* "$WORK"/app/*.undone-* 2>/dev/null)" ] || fail "kept files left"
[ "$(live_state)" = "$live" ] || fail "cleanup changed a live thing"
run_polarity cleanup --yes
expect 0 ""
grep -q "Nothing kept" "$WORK/out" || fail "a second cleanup found something"
ok "cleanup lists and removes what restores and undos kept, and nothing live"

# After a restore and a cleanup, there is nothing left to undo.
run_polarity undo --yes
expect 1 "cleanup removed what it kept"
ok "after cleanup, undo says what it lacks"

# 4. The README's recovery walk-through, as written, against this
# server.
readme=${srcdir:-.}/README
awk '/^### A recovery, step by step$/ { on = 1; next } on && /^### / { exit }
	on && /^    / { sub(/^    /, ""); print }' "$readme" >"$WORK/walk.sh"
[ "$(wc -l <"$WORK/walk.sh")" -ge 8 ] || fail "no walk-through found in the README"
APP=$WORK/app P=$POLARITY bash -e "$WORK/walk.sh" >"$WORK/walk.out" 2>&1 ||
	{ cat "$WORK/walk.out" >&2; fail "the README's walk-through fails"; }
grep -q "undo complete" "$WORK/walk.out" && grep -q "^removed database" "$WORK/walk.out" ||
	{ cat "$WORK/walk.out" >&2; fail "the walk-through did not undo and clean up"; }
ok "the README's recovery walk-through works as written"
