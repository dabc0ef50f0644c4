#!/bin/sh
# scripts/dropin.sh install|uninstall APP PROGRAM - puts PROGRAM (this
# build's polarity) in place of APP/bin/polarity, the vendor's command
# line utility, which goes aside to APP/bin/polarity.vendor; polarity
# hands every command it does not know to it.  uninstall puts the
# vendor's back.  Run by "make install-dropin APP=/app" and
# "make uninstall-dropin APP=/app".
set -eu
what=$1 app=$2 program=${3:-}
bin=$app/bin
# Ours says what archives it writes; the vendor's does not.
ours() { grep -qa 'polarity-server-backup-manifest' "$1" 2>/dev/null; }

case $what in
install)
	[ -x "$program" ] || { echo "dropin: no program '$program'" >&2; exit 1; }
	mkdir -p "$bin"
	if [ -e "$bin/polarity" ] && ! ours "$bin/polarity"; then
		# The vendor's (a newer one, after an update, replaces an
		# older one kept aside).
		mv -f "$bin/polarity" "$bin/polarity.vendor"
		echo "moved the vendor's utility to $bin/polarity.vendor"
	fi
	cp "$program" "$bin/polarity.new"
	chmod 0755 "$bin/polarity.new"
	mv -f "$bin/polarity.new" "$bin/polarity"
	echo "installed $bin/polarity; commands it does not know go to $bin/polarity.vendor"
	;;
uninstall)
	if [ -e "$bin/polarity.vendor" ]; then
		mv -f "$bin/polarity.vendor" "$bin/polarity"
		echo "put the vendor's utility back in $bin/polarity"
	elif ours "$bin/polarity"; then
		rm -f "$bin/polarity"
		echo "removed $bin/polarity (there was no vendor's utility)"
	fi
	;;
*)
	echo "usage: dropin.sh install|uninstall APP [PROGRAM]" >&2
	exit 2
	;;
esac
