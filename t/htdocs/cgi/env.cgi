#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# Prints what a CGI started by an httpd child inherits: its environment and
# its open file descriptors, and what the kernel shows of its parent's (the
# httpd child's) environment block (t/shared_server.t).
use strict;
use warnings;

print "Content-Type: text/plain\n\n";
print "ENV $_=$ENV{$_}\n" for sort keys %ENV;
opendir my $dir, '/proc/self/fd' or die "/proc/self/fd: $!";
for my $fd (sort { $a <=> $b } grep { /^\d+$/ } readdir $dir) {
    my $target = readlink "/proc/self/fd/$fd";
    print "FD $fd ", (defined $target ? $target : '?'), "\n";
}
# Readable when the child is dumpable (CoreDumpDirectory) and runs as the
# CGI's user: the block the kernel set up at exec, whatever unsetenv did.
my $parent = getppid();
if (open my $fh, '<', "/proc/$parent/environ") {
    local $/;
    my $block = <$fh>;
    print "PARENT_ENVIRON $_\n" for grep { length } split /\0/, $block;
    print "PARENT_ENVIRON_READ ", length($block), " bytes\n";
}
else {
    print "PARENT_ENVIRON_UNREADABLE $!\n";
}
