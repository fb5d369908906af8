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

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use PlaidTest;

my $dir = '/etc/ssl/certs';
my $ca  = Apache::Test::vars('sslca') . '/' . Apache::Test::vars('sslcaorg')
        . '/certs/ca.crt';

plan skip_all => "needs root to write $dir" unless -w $dir;
plan tests => 3;

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
