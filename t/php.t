# SPDX-License-Identifier: Apache-2.0
# Legacy LAMP servers run prefork with mod_php: under prefork the suite loads
# Debian's mod_php beside the module (t/conf/extra.conf.in), every other
# test file runs with it loaded, and this one proves PHP really answers.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET POST);

if (($ENV{TEST_MPM} || '') eq 'prefork') {
    plan tests => 2;
}
else {
    plan skip_all => 'mod_php runs only under prefork (TEST_MPM=prefork)';
}

like(GET('/php/hello.php')->content,
     qr/^php 8\.2\.\d+ sapi=apache2handler json=\{"ok":true\}/,
     'mod_php answers under prefork');

my $res = POST('/plaid/link-token', 'Content-Type' => 'application/json',
               'X-Test-User' => 'lamp-user', content => '{}');
is($res->code, 200, 'and the module still answers beside it')
    or diag($res->as_string);
