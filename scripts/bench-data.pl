#!/usr/bin/perl
# scripts/bench-data.pl DIR SCALE - writes a node_modules-like integrations
# tree into DIR, the same bytes on every run: at scale 1, about 20,000
# files and 150 MB (many small text files, a few large binaries).
use strict;
use warnings;

my ($dir, $scale) = @ARGV;
die "usage: bench-data.pl DIR SCALE\n" unless defined $scale;
srand(42);
my @words = qw(function return const let var require module exports
  async await promise resolve reject error value result data options
  config request response headers body status lookup indicator domain
  address hash entity score threat intel source context cache timeout
  retry limit page query filter match type string number object array
  length push map reduce forEach callback logger debug info warn this);
my $files = int(20000 * $scale) || 1;
my ($count, $bytes) = (0, 0);

sub text {
	my ($n) = @_;
	my $s = '';
	while (length($s) < $n) {
		my $line = '  ' x int(rand(4));
		$line .= $words[int(rand(@words))] . ' ' for 1 .. 3 + int(rand(9));
		$line .= sprintf("%x", int(rand(2**31))) if rand() < 0.3;
		$s .= $line . ";\n";
	}
	return substr($s, 0, $n);
}

sub binary {
	my ($n) = @_;
	my $s = '';
	$s .= pack('N', int(rand(2**32))) while length($s) < $n;
	return substr($s, 0, $n);
}

for my $i (0 .. $files - 1) {
	# a dozen files a package, each package in one integration
	my $pkg = sprintf("integration-%02d/node_modules/pkg-%04d",
	    int($i / 12) % 40, int($i / 12));
	my $path = "$dir/$pkg";
	system('mkdir', '-p', "$path/lib") == 0 or die "mkdir $path\n";
	my ($name, $data);
	if ($i % 2000 == 1999) {
		# a few large native binaries, 4 MB at scale 1
		$name = "lib/binding-$i.node";
		$data = binary(int(4_000_000));
	} else {
		$name = $i % 3 ? "lib/file-$i.js" : "index-$i.js";
		$data = text(500 + int(rand(9500)));
	}
	open(my $f, '>', "$path/$name") or die "$path/$name: $!\n";
	binmode $f;
	print $f $data;
	close $f;
	$count++;
	$bytes += length $data;
}
printf "%d files, %.1f MB\n", $count, $bytes / 1e6;
