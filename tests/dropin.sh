#!/bin/bash
# tests/dropin.sh - installed in place of the vendor's bin/polarity, ours
# keeps the vendor's as bin/polarity.vendor and hands it every command it
# does not know, with the same arguments and the same exit status; the
# vendor's comes back on uninstall.
. "${srcdir:-.}/tests/lib.sh"
work_start
app=$WORK/app
mkdir -p "$app/bin"
# A stand-in for the vendor's utility: says what it got, exits 7.
cat >"$app/bin/polarity" <<'EOF2'
#!/bin/sh
echo "vendor \$0=$0"
for a; do echo "arg=[$a]"; done
exit 7
EOF2
chmod 755 "$app/bin/polarity"
cp "$app/bin/polarity" "$WORK/vendor.orig"
dropin=${srcdir:-.}/scripts/dropin.sh
# The program itself is what gets installed (under valgrind $POLARITY is
# a wrapper script, which is no drop-in).
prog=$POLARITY
head -c 4 "$prog" | grep -q ELF || prog=${builddir:-.}/polarity

sh "$dropin" install "$app" "$prog" >"$WORK/out"
cmp -s "$app/bin/polarity.vendor" "$WORK/vendor.orig" || fail "the vendor's utility was not kept aside"
"$app/bin/polarity" --version | grep -q '^polarity ' || fail "ours is not in place"
ok "install: ours in place, the vendor's kept as bin/polarity.vendor"

set +e
"$app/bin/polarity" frobnicate "two words" --flag '' >"$WORK/out" 2>"$WORK/err"
rc=$?
set -e
[ "$rc" = 7 ] || { cat "$WORK/err" >&2; fail "the vendor's exit status was not passed on ($rc)"; }
printf '%s\n' "vendor \$0=$app/bin/polarity.vendor" "arg=[frobnicate]" "arg=[two words]" \
	"arg=[--flag]" "arg=[]" | diff - "$WORK/out" || fail "the arguments changed on the way"
(cd "$app" && bin/polarity frobnicate) >"$WORK/out" 2>&1 || true
grep -q "^arg=\[frobnicate\]$" "$WORK/out" || fail "bin/polarity from /app does not hand over"
# Found through the app folder when run by a bare name from PATH.
(PATH=$app/bin:$PATH; cd / && polarity --app-dir "$app" upgrade) >"$WORK/out" 2>&1 || true
grep -q "^arg=\[upgrade\]$" "$WORK/out" || fail "a bare name does not find the vendor's in APP/bin"
# Called from elsewhere by its path: APP/bin is looked in too.
"$prog" --app-dir "$app" upgrade >"$WORK/out" 2>&1 || true
grep -q "^arg=\[upgrade\]$" "$WORK/out" || fail "called by a path elsewhere, the vendor's in APP/bin is not found"
ok "a command ours does not know goes to the vendor's, same arguments, same exit status"

# (read whole first: grep -q stops early, and a long help gets SIGPIPE)
"$app/bin/polarity" --help >"$WORK/help"
grep -q "bin/polarity.vendor" "$WORK/help" || fail "--help does not say so"
"$app/bin/polarity" help backup | grep -q '^usage: polarity \[OPTIONS\] backup' || fail "our commands are ours"
ok "--help says where other commands go; ours stay ours"

sh "$dropin" install "$app" "$prog" >"$WORK/out"
cmp -s "$app/bin/polarity.vendor" "$WORK/vendor.orig" || fail "a second install moved ours over the vendor's"
ok "installing again keeps the vendor's"

sh "$dropin" uninstall "$app" >"$WORK/out"
cmp -s "$app/bin/polarity" "$WORK/vendor.orig" || fail "uninstall did not put the vendor's back"
[ ! -e "$app/bin/polarity.vendor" ] || fail "polarity.vendor left"
ok "uninstall puts the vendor's back"

# Without a vendor's utility, an unknown command is a usage error.
set +e
"$POLARITY" --app-dir "$WORK/none" frobnicate >"$WORK/out" 2>"$WORK/err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "unknown command 'frobnicate'" "$WORK/err" || fail "no vendor: $rc $(cat "$WORK/err")"
ok "without the vendor's utility an unknown command is a usage error"
