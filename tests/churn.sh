#!/bin/bash
# tests/churn.sh - integrations that write logs and caches into their own
# folders while the nightly backup runs: files come and go and change
# under the walk.  Eight backups in a row all succeed and verify; what
# vanished is skipped with a warning and counted, on the last line and
# in the status file.
. "${srcdir:-.}/tests/lib.sh"
sample_server
L="$WORK/app/integrations/virustotal/logs"
mkdir -p "$L"

# A sliding window of about a thousand files: each new one written, a
# younger one appended to, the oldest removed, all the time.  In Perl,
# not a shell loop: a loop that runs rm for every file turned over too
# few while the walk, now quicker, read the folder, and the race the
# runs below must meet did not always happen.
perl -e '
	my ($dir, $i) = ($ARGV[0], 0);
	$SIG{TERM} = sub { exit 0 };
	while (1) {
		$i++;
		open(my $f, ">", "$dir/c" . ($i % 4000)) or next;
		print $f "line $i\n";
		close $f;
		if (open(my $g, ">>", "$dir/c" . (($i + 3500) % 4000))) {
			print $g "more\n";
			close $g;
		}
		unlink "$dir/c" . (($i + 3000) % 4000);
	}' "$L" &
churner=$!
trap 'rc=$?; set +e; kill $churner 2>/dev/null || true; wait $churner 2>/dev/null || true; cleanup "$rc"' EXIT

vanished=0
for n in $(seq 8); do
	run_polarity --status-file "$WORK/status.prom" backup
	expect 0 ""
	archive=$(tail -n 1 "$WORK/out")
	v=$(sed -n 's/^polarity_backup_last_run_files_vanished \([0-9]*\)$/\1/p' "$WORK/status.prom")
	[ -n "$v" ] || fail "no vanished count in the status file"
	if [ "$v" -gt 0 ]; then
		grep -q "vanished while the integrations were archived: skipped" "$WORK/err" ||
			fail "no warning for a vanished file"
		grep -q "backup complete: .*; $v files* vanished and [0-9]* changed while the integrations were archived" "$WORK/err" ||
			fail "the last line does not count them: $(tail -n 1 "$WORK/err")"
	fi
	run_polarity verify "$archive"
	expect 0 ""
	vanished=$((vanished + v))
done
kill "$churner" 2>/dev/null || true
wait "$churner" 2>/dev/null || true
# Without a race the runs above prove nothing.
[ "$vanished" -gt 0 ] || fail "no file vanished in eight runs: the churn never raced the walk"
ok "eight backups of a churning folder all succeed and verify ($vanished files vanished under them)"
