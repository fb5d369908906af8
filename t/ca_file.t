# SPDX-License-Identifier: Apache-2.0
# PlaidCACertificate FILE replaces the system's CAs; it does not add to
# them. To see that, the test CA (which signs the emulator's certificate)
# is made a system CA for the length of this file: a hashed link in
# /etc/ssl/certs, where libcurl looks by default, removed at the end. Its
# locations call an emulator on a port no other test uses, so no connection
# verified meanwhile is reused elsewhere. Then
# a location whose CA file is a public bundle without the test CA must
# fail verification, while "system" must now succeed (proof that the link
# works, so that the failure is the CA file's doing). Needs root.
use strict;
use warnings FATAL => 'all';

use HTTP::Request ();
use LWP::UserAgent ();

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use PlaidTest;

my $dir = '/etc/ssl/certs';
my $ca  = Apache::Test::vars('sslca') . '/' . Apache::Test::vars('sslcaorg')
        . '/certs/ca.crt';

plan skip_all => "needs root to write $dir" unless -w $dir;
plan tests => 6;

chomp(my $hash = qx{openssl x509 -hash -noout -in '$ca'});
die "cannot hash $ca\n" unless $hash =~ /^[0-9a-f]{8}$/;
my $n = 0;
$n++ while -e "$dir/$hash.$n";
my $link = "$dir/$hash.$n";
symlink $ca, $link or die "$link: $!";
END { unlink $link if $link && -l $link }

my $res = post_token('/plaid/ca/system');
is($res->code, 200, 'with the test CA among the system CAs, "system" trusts it')
    or diag($res->as_string);

my $mark = log_mark();
$res = post_token('/plaid/ca/bundle');
my ($line) = grep { /PL0100/ } log_since($mark);
is($res->code, 502, 'a CA file without it does not, whatever the system has');
like($line || '', qr/\bcurl_error="[^"]*certificate/i,
     '... failing certificate verification') or diag($line);

# One kept-alive connection to httpd: one child, whose last-used curl
# handle serves the next call. A handle set up for the system's CAs, with
# a connection to the emulator verified by them, must not carry them into
# a call of a location whose CA file lacks the test CA: the transport sets
# the handle up anew when the CA file differs (src/plaid_http.c).
{
    my $ua = LWP::UserAgent->new(keep_alive => 1, timeout => 30);
    my $call = sub {
        my $req = HTTP::Request->new(POST => vhost_url(undef, shift));
        $req->header('Content-Type' => 'application/json');
        $req->header('X-Test-User' => unique_user('ca'));
        $req->content('{}');
        return $ua->request($req);
    };
    is($call->('/plaid/ca/system')->code, 200,
       'one connection: "system" first');
    is($call->('/plaid/ca/bundle')->code, 502,
       '... then the CA file on the same connection still fails');
    is($call->('/plaid/ca/system')->code, 200, '... and "system" again works');
}
