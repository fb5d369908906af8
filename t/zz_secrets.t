# SPDX-License-Identifier: Apache-2.0
# No secret leaves the module: after the whole suite (this file runs last,
# and first makes a success and a failure in every vhost of its own), no
# file under t/logs and no answer holds a Plaid secret or a full client id.
# The module and httpd's request handling log at trace8 in this suite
# (t/conf/extra.conf.in), so every log level is covered. Nor does the
# Item store's SQLite database under t/state (t/items.t,
# t/official_client.t; its journal too, if one is left), nor the pg_dump
# of the PostgreSQL store that t/items_pg.t left there, hold an
# access_token: the module keeps them sealed.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use File::Find ();
use PlaidTest;

my @requests = (
    ['/plaid/link-token',              undef],
    ['/plaid/full',                    undef],
    ['/plaid/fault/invalid-api-keys',  undef],
    ['/plaid/fault/wrong-secret',      undef],
    ['/plaid/fault/status-500',        undef],
    ['/plaid/fault/nonjson',           undef],
    ['/plaid/link-token',              'plaid_sandbox'],
    ['/plaid/link-token',              'plaid_production'],
);
my @secrets = secrets();

my $logs = Apache::Test::vars('t_logs');

plan tests => @requests * @secrets + 3 + @secrets + 3;

my $answers = '';
my $mark = log_mark();
for my $r (@requests) {
    my ($path, $vhost) = @$r;
    my $res = post_token($path, vhost => $vhost);
    $answers .= $res->as_string;
    for my $s (@secrets) {
        unlike($res->as_string, qr/\Q$s\E/,
               "answer of " . ($vhost || 'main') . " $path holds no $s");
    }
}
my @log = log_since($mark);

# The log proves the module ran at a verbose level and used masked ids.
ok(grep({ /\[plaid_link:(?:debug|trace\d)\]/ } @log),
   'plaid_link logged at debug or trace') or diag(@log);
ok(grep({ /PL0100: .*\bclient_id=\.\.\.0001\b/ } @log),
   'failure lines carry the masked client id ...0001') or diag(@log);

my @files;
File::Find::find({ no_chdir => 1,
                   wanted => sub { push @files, $_ if -f $_ } }, $logs);
ok(scalar @files, "found the files under $logs") or diag("none in $logs");

for my $s (@secrets) {
    my @hits;
    for my $f (@files) {
        open my $fh, '<', $f or next;
        while (my $line = <$fh>) {
            next unless index($line, $s) >= 0;
            push @hits, "$f:$.: $line";
            last;
        }
    }
    ok(!@hits, "no file under t/logs holds $s") or diag(@hits);
}

# The access_tokens the exchanges of the suite handed to applications
# (t/exchange.t): the emulator makes them access-<env>-<uuid>, so any trace
# of one is found by its shape, at every log level.
{
    my @hits;
    for my $f (@files) {
        open my $fh, '<', $f or next;
        while (my $line = <$fh>) {
            next unless $line =~ /access-(?:sandbox|production)-[0-9a-f]{8}/;
            push @hits, "$f:$.: $line";
            last;
        }
    }
    ok(!@hits, 'no file under t/logs holds an access_token') or diag(@hits);
    unlike($answers, qr/access-(?:sandbox|production)-/,
           '... nor any answer');
}

# The Item store's database, as the suite left it: every Item the suite's
# exchanges kept, sealed. Read as bytes: a token in a free page, or in a
# journal left behind, counts as much as one in a row.
SKIP: {
    my @db = grep { -f } glob "$FindBin::Bin/state/*";
    skip 'no Item store database under t/state (t/items.t has not run)', 1
        unless @db;
    my @hits;
    for my $f (@db) {
        open my $fh, '<:raw', $f or next;
        my $bytes = do { local $/; <$fh> } // '';
        push @hits, $f if $bytes =~ /access-(?:sandbox|production)-/;
    }
    ok(!@hits, 'no access_token in the Item store under t/state ('
               . join(', ', map { m{([^/]+)\z} } @db) . ')') or diag(@hits);
}
