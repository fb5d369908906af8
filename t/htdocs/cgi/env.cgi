#!/usr/bin/perl
# Prints what a CGI started by an httpd child inherits: its environment and
# its open file descriptors (t/shared_server.t).
use strict;
use warnings;

print "Content-Type: text/plain\n\n";
print "ENV $_=$ENV{$_}\n" for sort keys %ENV;
opendir my $dir, '/proc/self/fd' or die "/proc/self/fd: $!";
for my $fd (sort { $a <=> $b } grep { /^\d+$/ } readdir $dir) {
    my $target = readlink "/proc/self/fd/$fd";
    print "FD $fd ", (defined $target ? $target : '?'), "\n";
}
