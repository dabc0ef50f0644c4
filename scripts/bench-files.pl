#!/usr/bin/perl
# scripts/bench-files.pl DIR N - writes an integrations tree of N tiny
# files into DIR, the same on every run: node_modules-like, 50 files to a
# package folder, 20 packages to a scope, two levels below each
# integration (what makes an archive's member count, not its size).
use strict;
use warnings;

my ($dir, $n) = @ARGV;
die "usage: bench-files.pl DIR N\n" unless defined $n;
for my $i (0 .. $n - 1) {
	my $pkg = sprintf("integration-%02d/node_modules/scope-%04d/pkg-%05d",
	    int($i / 50) % 10, int($i / 1000), int($i / 50));
	my $path = "$dir/$pkg";
	if ($i % 50 == 0) {
		system('mkdir', '-p', $path) == 0 or die "mkdir $path\n";
	}
	open(my $f, '>', "$path/file-$i.js") or die "$path/file-$i.js: $!\n";
	print $f "module.exports = $i;\n";
	close $f;
}
printf "%d files\n", $n;
