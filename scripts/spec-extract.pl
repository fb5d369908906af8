#!/usr/bin/env perl
# SPDX-License-Identifier: Apache-2.0
# Derives spec/plaid-openapi-extract.yml from Plaid's OpenAPI description
# (https://github.com/plaid/plaid-openapi, file 2020-09-14.yml): the parts
# the module's tables, its emulator and its tests rely on, copied line for
# line so that t/spec_tables.t reads them as it would read the whole file.
#
#   scripts/spec-extract.pl /path/to/2020-09-14.yml > spec/plaid-openapi-extract.yml
#
# Kept: info.version; every path of the API with the HTTP methods it takes
# (the list, not the operations); and the components/schemas named in
# @schemas below. Add a schema there and run the script again when a test
# needs more.
use strict;
use warnings;

my @schemas = qw(
    Products CountryCode PlaidErrorType PlaidError
    LinkTokenCreateRequest LinkTokenCreateResponse
    ItemPublicTokenExchangeRequest ItemPublicTokenExchangeResponse
    SandboxPublicTokenCreateRequest SandboxPublicTokenCreateResponse
    WebhookVerificationKeyGetRequest WebhookVerificationKeyGetResponse
    JWKPublicKey SandboxItemFireWebhookRequest
    AccountsGetRequest AccountsGetRequestOptions
    AccountsBalanceGetRequest AccountsBalanceGetRequestOptions
    ItemRemoveRequest ItemRemoveReasonCode
    SandboxItemResetLoginRequest SandboxItemResetLoginResponse
    ItemGetRequest ItemGetResponse Item ItemWithConsentFields
    TransactionsSyncRequest TransactionsSyncRequestOptions
    TransactionsSyncResponse TransactionsUpdateStatus
    TransactionBase Transaction RemovedTransaction Location PaymentMeta
    InstitutionsGetByIdRequest InstitutionsGetByIdRequestOptions
    InstitutionsGetByIdResponse Institution
);

my $file = shift or die "usage: $0 2020-09-14.yml\n";
open my $fh, '<', $file or die "$file: $!\n";
chomp(my @spec = <$fh>);
close $fh;

# Lines after $start indented deeper than $indent (blank lines kept).
sub block_after {
    my ($start, $indent) = @_;
    my @block;
    for my $i ($start + 1 .. $#spec) {
        my $line = $spec[$i];
        if ($line =~ /\S/) {
            my ($lead) = $line =~ /^( *)/;
            last if length $lead <= $indent;
        }
        push @block, $line;
    }
    return @block;
}

my ($version) = map { /^  version: (\S+)$/ ? $1 : () } @spec;
die "info.version not found\n" unless $version;

my ($paths) = grep { $spec[$_] eq 'paths:' } 0 .. $#spec;
die "paths: not found\n" unless defined $paths;
my (@path_lines, $current);
for my $line (block_after($paths, 0)) {
    if ($line =~ m{^  (/\S*):$}) {
        push @path_lines, $line;
    }
    elsif ($line =~ /^    (get|put|post|delete|patch):$/) {
        push @path_lines, $line;
    }
}

my ($schemas) = grep { $spec[$_] eq '  schemas:' } 0 .. $#spec;
die "components/schemas not found\n" unless defined $schemas;
my @schema_lines;
for my $name (@schemas) {
    my ($start) = grep { $spec[$_] eq "    $name:" } $schemas .. $#spec;
    die "schema $name not found\n" unless defined $start;
    push @schema_lines, $spec[$start], block_after($start, 4);
}

print <<HEAD;
# An extract of Plaid's OpenAPI description, made by scripts/spec-extract.pl.
# Source: https://github.com/plaid/plaid-openapi, 2020-09-14.yml,
# info.version $version. See spec/README.md for what is kept and why.
openapi: 3.0.0
info:
  title: The Plaid API
  version: $version
paths:
HEAD
print "$_\n" for @path_lines;
print "components:\n  schemas:\n";
print "$_\n" for @schema_lines;
