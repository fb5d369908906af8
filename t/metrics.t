# SPDX-License-Identifier: Apache-2.0
# SetHandler plaid-metrics and the module's section of mod_status's page.
# A known mix of requests (successes, each class of failure, refusals
# before any call, a hand-off, a rate-limited and a breaker-refused
# request) moves the counters by exactly that mix, summed over every
# child (under prefork the requests land in any child); the histogram
# counts one observation per call to Plaid; the status page's ?auto lines
# and HTML (table, bars) show the same totals; a graceful restart keeps
# every count. The handler answers GET only, and needs no credentials.
# docs/metrics.md names every metric and every error code counted apart,
# and every code of the hints table is one of those.
use strict;
use warnings FATAL => 'all';

use File::Temp ();
use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Request ();
use JSON::PP ();
use LWP::UserAgent ();
use Time::HiRes qw(sleep);
use PlaidTest;

my $here = Apache::TestRequest::hostport(Apache::Test::config());
my $link = 'plaid-link-token';

# The mix: [what, path, request options, the browser's status, calls to
# Plaid, attempts of each call, PlaidError "type code" or undef]. The
# faults are t/errors.t's.
my @mix = (
    ['success',            '/plaid/link-token', {}, 200, 1, 1],
    ['success',            '/plaid/link-token', {}, 200, 1, 1],
    ['success',            '/plaid/link-token', {}, 200, 1, 1],
    ['Plaid refused',      '/plaid/fault/invalid-api-keys', {}, 502, 1, 1,
     'INVALID_INPUT INVALID_API_KEYS'],
    ['a field refused',    '/plaid/fault/redirect-uri', {}, 502, 1, 1,
     'INVALID_REQUEST INVALID_FIELD'],
    ['Plaid rate limit',   '/plaid/fault/status-429', {}, 503, 1, 3,
     'RATE_LIMIT_EXCEEDED RATE_LIMIT'],
    ['Plaid 500',          '/plaid/fault/status-500', {}, 502, 1, 3,
     'API_ERROR INTERNAL_SERVER_ERROR'],
    ['Plaid 503',          '/plaid/fault/status-503', {}, 503, 1, 3,
     'API_ERROR INTERNAL_SERVER_ERROR'],
    ['an unlisted error',  '/plaid/fault/unlisted-error', {}, 502, 1, 1,
     'other other'],
    ['not JSON',           '/plaid/fault/nonjson', {}, 502, 1, 1],
    ['TLS',                '/plaid/fault/untrusted', {}, 502, 1, 1],
    ['unreachable',        '/plaid/fault/unreachable', {}, 503, 1, 3],
    ['timeout',            '/plaid/fault/timeout', {}, 504, 1, 1],
    ['a bad body',         '/plaid/link-token', {content => '[1,2]'}, 400, 0],
    ['anonymous',          '/plaid/link-token', {user => undef}, 401, 0],
    ['GET',                '/plaid/link-token', {method => 'GET'}, 405, 0],
);

my @metrics = (
    [plaid_link_requests_total              => 'counter'],
    [plaid_link_plaid_errors_total          => 'counter'],
    [plaid_link_retries_total               => 'counter'],
    [plaid_link_rate_limited_total          => 'counter'],
    [plaid_link_circuit_refused_total       => 'counter'],
    [plaid_link_calls_in_flight             => 'gauge'],
    [plaid_link_plaid_call_duration_seconds => 'histogram'],
);

plan tests => 3 + 5 + @metrics + @mix + 5 + 12 + 11 + 9 + 4 + 3 + 6;

sub slurp {
    my $file = Apache::Test::vars('top_dir') . "/$_[0]";
    open my $fh, '<', $file or die "$file: $!";
    local $/;
    return scalar <$fh>;
}

# --- the tables and the docs ---------------------------------------------------

{
    my ($codes) = slurp('src/plaid_metrics.c')
        =~ /\bplaid_error_codes\[\]\s*=\s*\{(.*?)\n\};/s;
    my @codes = ($codes // '') =~ /"([A-Z_]+)"/g;
    my ($hints) = slurp('src/plaid_error.c')
        =~ /\berror_hints\[\]\s*=\s*\{(.*?)\n\};/s;
    my %listed = map { $_ => 1 } @codes;
    my @unlisted = grep { !$listed{$_} } ($hints // '') =~ /^\s*\{\s*"([A-Z_]+)"/mg;
    ok(@codes && !@unlisted, 'every code of the hints table is counted apart')
        or diag("not in plaid_error_codes: @unlisted");

    my $doc = slurp('docs/metrics.md');
    my ($section) = $doc =~ /^## The error codes counted apart\n(.*?)(?=^## |\z)/ms;
    my @documented = ($section // '') =~ /`([A-Z_]+)`/g;
    is_deeply([sort @documented], [sort @codes],
              'docs/metrics.md lists exactly the codes counted apart');
    my @named = $doc =~ /^\| `(plaid_link_\w+)` \|/mg;
    is_deeply([sort @named], [sort map { $_->[0] } @metrics],
              'docs/metrics.md has a row for each metric');
}

sub get {
    my $path = shift;
    my $ua = LWP::UserAgent->new(timeout => 30, keep_alive => 0);
    return $ua->get(vhost_url(undef, $path));
}

# The text as {series => value}, and the lines that are not the format.
sub scrape {
    my $res = get('/plaid-metrics');
    my (%v, @bad);
    for (split /\n/, $res->content) {
        next if /^# (?:HELP|TYPE) plaid_link_\w+ /;
        if (/^(plaid_link_\w+(?:\{(?:\w+="(?:[^"\\]|\\.)*",?)*\})?) (\d+(?:\.\d+)?)$/) {
            $v{$1} = $2;
        }
        else {
            push @bad, $_;
        }
    }
    return ($res, \%v, \@bad);
}

# after - before, for each series that moved (the gauge aside).
sub moved {
    my ($before, $after) = @_;
    my %d;
    for my $k (keys %$before, keys %$after) {
        next if $k eq 'plaid_link_calls_in_flight';
        my $d = ($after->{$k} // 0) - ($before->{$k} // 0);
        $d = sprintf '%.3f', $d if $k =~ /_sum$/;
        $d = 0 if $d == 0;
        $d{$k} = $d if $d;
    }
    return \%d;
}

sub series {
    my ($location, $handler, $status) = @_;
    return sprintf 'plaid_link_requests_total{vhost="%s",location="%s",'
        . 'handler="%s",status="%s"}', $here, $location, $handler, $status;
}

sub sum_of {
    my ($v, $re) = @_;
    my $sum = 0;
    $sum += $v->{$_} for grep { $_ =~ $re } keys %$v;
    return $sum;
}

# The rate limit's windows are fixed minutes (t/limits.t): start well
# inside one. The breaker of t/limits.t's host closed before the count.
{ my $s = time % 60; sleep 61 - $s if $s > 45 }
for (1 .. 3) {
    last if post_token('/plaid/cb/ok')->code == 200;
    sleep 2.2;
}

# --- the text ---------------------------------------------------------------------

my ($res, $before, $bad) = scrape();
is($res->code, 200, 'GET /plaid-metrics: 200');
like($res->header('Content-Type') // '', qr{^text/plain; version=0\.0\.4\b},
     "... Prometheus's text format 0.0.4");
is($res->header('Cache-Control'), 'no-store', '... never cached');
is_deeply($bad, [], '... every line a comment or a sample') or diag(@$bad);
for (@metrics) {
    my ($name, $type) = @$_;
    like($res->content, qr/^# HELP \Q$name\E \S.*\n# TYPE \Q$name\E \Q$type\E$/m,
         "$name: HELP and TYPE $type");
}
is($before->{plaid_link_calls_in_flight}, 0, 'no call in flight');

# --- the mix ----------------------------------------------------------------------

my (%want, %want_errors, $calls, $retries);
my $mark = log_mark();
for my $m (@mix) {
    my ($what, $path, $opt, $status, $n, $attempts, $error) = @$m;
    my $r = post_token($path, %$opt);
    is($r->code, $status, "$what ($path): $status") or diag($r->as_string);
    my $loc = $path =~ m{^/plaid/fault/} ? '/plaid/fault/' : $path;
    $want{ series($loc, $link, $status) }++;
    $calls += $n;
    $retries += $n * ($attempts - 1) if $n;
    if ($error) {
        my ($type, $code) = split ' ', $error;
        $want_errors{qq{plaid_link_plaid_errors_total{error_type="$type",error_code="$code"}}}++;
    }
}

# PlaidRateLimit 3 60: three, then one refused without a call.
{
    my $user = unique_user('metrics');
    my @codes = map { post_token('/plaid/limited', user => $user)->code } 1 .. 4;
    is("@codes", '200 200 200 429', 'PlaidRateLimit: three, then 429');
    $want{ series('/plaid/limited', $link, 200) } += 3;
    $want{ series('/plaid/limited', $link, 429) } += 1;
    $calls += 3;
}

# PlaidCircuitBreaker 3 2: three failed calls, then one refused.
{
    my @codes = map { post_token('/plaid/cb/fail')->code } 1 .. 3;
    push @codes, post_token('/plaid/cb/ok')->code;
    is("@codes", '503 503 503 503', 'the breaker: three failures, then refused');
    $want{ series('/plaid/cb/', $link, 503) } += 4;
    $want_errors{'plaid_link_plaid_errors_total{error_type="API_ERROR",error_code="INTERNAL_SERVER_ERROR"}'} += 3;
    $calls += 3;
}

# The exchange's hand-off: the application answers; the module counts 200.
{
    my $token = public_token();
    my $r = request_token('/plaid/exchange', user => unique_user('item'),
        content => JSON::PP->new->encode({ public_token => $token // '' }));
    is($r->code, 200, 'an exchange handed to the application');
    $want{ series('/plaid/exchange', 'plaid-public-token-exchange', 200) }++;
    $calls++;
}

# A webhook refused before any call.
{
    my $r = request_token('/plaid/webhook', content => '{}');
    is($r->code, 400, 'a webhook without Plaid-Verification: 400');
    $want{ series('/plaid/webhook', 'plaid-webhook', 400) }++;
}

# The gateway: Plaid's answers passed through count as every other
# answer, and so do its refusals.
{
    my $ua = LWP::UserAgent->new(timeout => 30);
    my $x = $ua->request(HTTP::Request->new(POST =>
        vhost_url('plaid_emulator_http', '/sandbox/item/public_token/exchange'),
        ['Content-Type' => 'application/json',
         'PLAID-CLIENT-ID' => 'sandbox0client0id000001',
         'PLAID-SECRET' => 'sandbox-secret-Zq7Xv9'],
        JSON::PP->new->encode({ public_token => public_token() // '' })));
    my $access = (json_body($x) || {})->{access_token} // '';
    my @codes = map {
        $ua->request(HTTP::Request->new(POST => vhost_url(undef, $_),
            ['Content-Type' => 'application/json'],
            JSON::PP->new->encode({ access_token => $access })))->code
    } qw(/plaid-api/accounts/get /plaid-api/accounts/get
         /plaid-api-login/accounts/get /plaid-api/identity/get
         /plaid-api-narrow/accounts/get);
    is("@codes", '200 200 400 404 403', "the gateway: two 200s, Plaid's "
       . '400 passed through, a path not allowed, a caller not admitted');
    $want{ series('/plaid-api', 'plaid-api', 200) } += 2;
    $want{ series('/plaid-api-login', 'plaid-api', 400) }++;
    $want{ series('/plaid-api', 'plaid-api', 404) }++;
    $want{ series('/plaid-api-narrow', 'plaid-api', 403) }++;
    $want_errors{'plaid_link_plaid_errors_total{error_type="ITEM_ERROR",error_code="ITEM_LOGIN_REQUIRED"}'}++;
    $calls += 3;
}

my @log = log_since($mark);
my $logged = 0;
$logged += $_ - 1 for map { /\battempts=(\d+)/ ? $1 : 1 } grep { /PL0100/ } @log;

# --- what moved ---------------------------------------------------------------------

my ($res2, $after) = scrape();
my $d = moved($before, $after);

my %requests = map { $_ => $d->{$_} } grep { /^plaid_link_requests_total/ } keys %$d;
is_deeply(\%requests, \%want, 'requests_total moved by exactly the mix')
    or diag(explain(\%requests), explain(\%want));
my %errors = map { $_ => $d->{$_} } grep { /^plaid_link_plaid_errors_total/ } keys %$d;
is_deeply(\%errors, \%want_errors, 'plaid_errors_total: each PlaidError, '
          . 'unlisted ones as "other"') or diag(explain(\%errors));
is($d->{plaid_link_retries_total} // 0, $retries,
   "retries_total: $retries (attempts - 1 of each call)");
is($retries, $logged, '... as the PL0100 lines count them');
is($d->{plaid_link_rate_limited_total} // 0, 1, 'rate_limited_total: 1');
is($d->{plaid_link_circuit_refused_total} // 0, 1, 'circuit_refused_total: 1');
is($after->{plaid_link_calls_in_flight}, 0, 'calls_in_flight: 0 again');
ok(!grep({ /handler="plaid-metrics"/ } keys %$after),
   'the metrics requests themselves are not counted');

my $h = 'plaid_link_plaid_call_duration_seconds';
is($d->{"${h}_count"} // 0, $calls, "the histogram counted $calls calls");
is($d->{"${h}_bucket{le=\"+Inf\"}"} // 0, $calls, '... +Inf as many');
ok(($d->{"${h}_sum"} // 0) >= 0.9, '... their durations summed (a timeout is 1 s)')
    or diag($d->{"${h}_sum"});
{
    my @le = map { $after->{"${h}_bucket{le=\"$_\"}"} // -1 }
        qw(0.025 0.05 0.1 0.25 0.5 1 2.5 5 10 +Inf);
    ok(!grep({ $le[$_] < $le[$_ - 1] } 1 .. $#le) && $le[0] >= 0,
       '... its buckets cumulative, all ten there') or diag("@le");
}

# --- mod_status -----------------------------------------------------------------

my $auto = get('/server-status?auto')->content;
my ($res3, $now) = scrape();
my %auto = $auto =~ /^(PlaidLink\w+): (\S+)$/mg;
is($auto{PlaidLinkRequests}, sum_of($now, qr/^plaid_link_requests_total/),
   '?auto: PlaidLinkRequests, every answer') or diag($auto);
is($auto{PlaidLinkRequests200},
   sum_of($now, qr/^plaid_link_requests_total.*status="200"/),
   '... PlaidLinkRequests200');
is($auto{PlaidLinkRequests502},
   sum_of($now, qr/^plaid_link_requests_total.*status="502"/),
   '... PlaidLinkRequests502');
is($auto{PlaidLinkPlaidErrors}, sum_of($now, qr/^plaid_link_plaid_errors_total/),
   '... PlaidLinkPlaidErrors');
is($auto{PlaidLinkRetries}, $now->{plaid_link_retries_total},
   '... PlaidLinkRetries');
is($auto{PlaidLinkRateLimited}, $now->{plaid_link_rate_limited_total},
   '... PlaidLinkRateLimited');
is($auto{PlaidLinkCircuitRefused}, $now->{plaid_link_circuit_refused_total},
   '... PlaidLinkCircuitRefused');
is($auto{PlaidLinkCallsInFlight}, 0, '... PlaidLinkCallsInFlight');
is($auto{PlaidLinkCalls}, $now->{"${h}_count"}, '... PlaidLinkCalls');
is($auto{PlaidLinkCallSeconds}, $now->{"${h}_sum"}, '... PlaidLinkCallSeconds');
is($auto{PlaidLinkCallsLe250ms}, $now->{"${h}_bucket{le=\"0.25\"}"},
   '... PlaidLinkCallsLe250ms');

my $html = get('/server-status')->content;
my ($section) = $html =~ m{(<h2 id="plaid-link">.*)}s;
ok($section, 'the HTML page has the section') or diag($html);
$section //= '';
my ($table) = $section =~ m{(<table id="plaid-link-outcomes".*?</table>)}s;
ok($table, '... a table of outcomes');
$table //= '';
my ($row) = $table =~ m{(<tr><td[^>]*>\Q$here\E</td><td[^>]*><code>/plaid/link-token</code></td>.*?</tr>)}s;
my @cells = ($row // '') =~ m{<td[^>]*>(\d+)</td>}g;
my @heads = $table =~ m{<th[^>]*>([^<]+)</th>}g;
my %cell;
@cell{ @heads[3 .. $#heads] } = @cells;
is($cell{200}, $now->{ series('/plaid/link-token', $link, 200) },
   '... whose /plaid/link-token row has its 200s') or diag($table);
is($cell{total}, sum_of($now, qr/^\Qplaid_link_requests_total{vhost="$here",location="\/plaid\/link-token",\E/),
   '... and its total');
like($table, qr{<td[^>]*background:#f8d7da[^>]*>\d+</td>}, '... 5xx cells shaded');
my @bars = $section =~ m{<span class="plaid-link-bar" style="[^"]*width:(\d+)%}g;
is(scalar @bars, 10, '... the latency as ten bars');
ok((grep { $_ == 100 } @bars) && !grep({ $_ > 100 } @bars),
   '... the fullest bucket the longest bar') or diag("@bars");
unlike($section, qr/<script|\bsrc=|\bhref=|url\(/i, '... no script, no asset');
like(get('/server-status?notable')->content,
     qr{<ul id="plaid-link-outcomes">\n(?:<li>.*\n)*<li>\Q$here\E /plaid/link-token $link: 200 &times; \d+},
     '?notable: the outcomes without a table');

# --- the handler ---------------------------------------------------------------------

{
    my $ua = LWP::UserAgent->new(timeout => 30);
    my $r = $ua->post(vhost_url(undef, '/plaid-metrics'));
    is($r->code, 405, 'POST /plaid-metrics: 405');
    like($r->header('Allow') // '', qr/\bGET\b/, '... Allow: GET');
    $r = $ua->head(vhost_url(undef, '/plaid-metrics'));
    is($r->code, 200, 'HEAD: 200');
    is($r->content, '', '... without a body');
}

# No Plaid directive at all: `apache2 -t` accepts a metrics endpoint.
{
    my $tmp = File::Temp->newdir('plaid-metrics-XXXXXX', TMPDIR => 1);
    my $mods = '/usr/lib/apache2/modules';
    my $so = Apache::Test::vars('top_dir') . '/.libs/mod_plaid_link.so';
    open my $fh, '>', "$tmp/httpd.conf" or die "$tmp/httpd.conf: $!";
    print $fh <<"EOF";
ServerRoot "$tmp"
ServerName localhost
DefaultRuntimeDir "$tmp"
PidFile "$tmp/httpd.pid"
ErrorLog "$tmp/error_log"
Listen 127.0.0.1:80
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule plaid_link_module "$so"
<Location /plaid-metrics>
    SetHandler plaid-metrics
    Require all granted
</Location>
EOF
    close $fh;
    my $out = qx{/usr/sbin/apache2 -t -f '$tmp/httpd.conf' 2>&1};
    is($? >> 8, 0, 'apache2 -t: a metrics endpoint needs no Plaid directive')
        or diag($out);
    unlike($out, qr/PL0002/, '... and lacks none');
    like($out, qr/Syntax OK/, '... Syntax OK');
}

# --- a graceful restart keeps the counts ---------------------------------------------------

SKIP: {
    my $pidfile = Apache::Test::vars('t_logs') . '/httpd.pid';
    open my $fh, '<', $pidfile or die "$pidfile: $!";
    chomp(my $httpd = <$fh>);
    close $fh;
    # scripts/test-valgrind.sh runs httpd -X, which ignores SIGUSR1.
    my $cmdline = do { local $/; open my $c, '<', "/proc/$httpd/cmdline"; <$c> // '' };
    skip 'httpd runs in one process (-X): no graceful restart', 6
        if $cmdline =~ /\0-X(?:\0|$)|ONE_PROCESS/;
    my (undef, $old) = scrape();
    my $mark = log_mark();
    kill 'USR1', $httpd;
    my $restarted;
    for (1 .. 50) {
        sleep 0.2;
        last if $restarted = grep { /AH00171|SIGUSR1 received/ } log_since($mark);
    }
    sleep 1;
    my (undef, $new) = scrape();
    ok($restarted, 'httpd restarted gracefully');
    my $lost = moved($old, $new);
    is_deeply($lost, {}, '... and every count is still there')
        or diag(explain($lost));
    is(post_token('/plaid/link-token')->code, 200, 'the new generation answers');
    my (undef, $later) = scrape();
    my $m = moved($new, $later);
    my $ok = series('/plaid/link-token', $link, 200);
    is($m->{$ok}, 1, '... and counts on from there');
    is($m->{"${h}_count"}, 1, '... its call too');
    is_deeply([grep { $_ ne $ok && !/^\Q$h\E_/ } keys %$m], [],
              '... and nothing else');
}

# Leave t/limits.t's breaker closed for whatever runs next.
sleep 2.2;
post_token('/plaid/cb/ok');
