#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# The application behind PlaidExchangeHandoff /handoff/dirindex/index.cgi
# in t/handoff.t, which Alias, RewriteRule and DirectoryIndex also map to.
# It says on its standard error (the error log) that it ran, so that a
# test can tell it did not; and answers whether it got an access_token,
# never the token.
use strict;
use warnings;

print STDERR "handoff test application ran\n";
my $token = $ENV{PLAID_ACCESS_TOKEN} // '';
print "Content-Type: application/json\n\n";
printf qq({"access_token_ok":%d}\n),
    $token =~ /\Aaccess-sandbox-[0-9a-f-]{36}\z/ ? 1 : 0;
