/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The module's section of mod_status's page (/server-status), with the
 * totals of SetHandler plaid-metrics, for admins without Prometheus.
 * With ?auto: "Key: value" lines. On the HTML page: the answers of each
 * endpoint in a table, and the Plaid call's latency as bars, in plain
 * HTML with inline styles: no script, no asset, nothing to fetch.
 */
#include "glue.h"

#include "apr_optional_hooks.h"
#include "mod_status.h"

#define FMT APR_UINT64_T_FMT

static void short_report(request_rec *r, const plaid_metrics_totals *t,
                         apr_uint64_t in_flight)
{
    int i;

    ap_rprintf(r, "PlaidLinkRequests: %" FMT "\n", t->requests);
    for (i = 0; i < PLAID_METRICS_STATUSES; i++) {
        const char *name = plaid_metrics_status_name(i);

        ap_rprintf(r, "PlaidLinkRequests%s: %" FMT "\n",
                   strcmp(name, "other") == 0 ? "Other" : name,
                   t->by_status[i]);
    }
    ap_rprintf(r, "PlaidLinkPlaidErrors: %" FMT "\n", t->errors);
    ap_rprintf(r, "PlaidLinkRetries: %" FMT "\n", t->retries);
    ap_rprintf(r, "PlaidLinkRateLimited: %" FMT "\n", t->rate_limited);
    ap_rprintf(r, "PlaidLinkCircuitRefused: %" FMT "\n", t->circuit_refused);
    ap_rprintf(r, "PlaidLinkCallsInFlight: %" FMT "\n", in_flight);
    ap_rprintf(r, "PlaidLinkCalls: %" FMT "\n", t->calls);
    ap_rprintf(r, "PlaidLinkCallSeconds: %" FMT ".%03u\n", t->call_ms / 1000,
               (unsigned)(t->call_ms % 1000));
    /* Cumulative, as the histogram's buckets. */
    {
        apr_uint64_t below = 0;

        for (i = 0; i < PLAID_METRICS_BUCKETS; i++) {
            below += t->bucket[i];
            if (i < PLAID_METRICS_BUCKETS - 1) {
                ap_rprintf(r, "PlaidLinkCallsLe%ldms: %" FMT "\n",
                           plaid_metrics_bucket_ms[i], below);
            }
            else {
                ap_rprintf(r, "PlaidLinkCallsLeInf: %" FMT "\n", below);
            }
        }
    }
}

/* A cell's colour: green for 2xx, amber for 4xx, red for 5xx. */
static const char *shade(int status_index)
{
    const char *name = plaid_metrics_status_name(status_index);

    switch (name[0]) {
    case '2':
        return "#d9f2d9";
    case '4':
        return "#fff3cd";
    case '5':
        return "#f8d7da";
    }
    return "#e9ecef";
}

static apr_uint64_t endpoint_total(const plaid_metrics *m, int i)
{
    apr_uint64_t sum = 0;
    int j;

    for (j = 0; j < PLAID_METRICS_STATUSES; j++) {
        sum += plaid_metrics_read(&m->requests[i][j]);
    }
    return sum;
}

#define CELL "padding:2px 8px;border:1px solid #ccc"

/* The answers per endpoint: a column per status that any endpoint gave
 * (200 always), a row per endpoint that answered. */
static void outcomes(request_rec *r, const plaid_metrics *m,
                     const plaid_metrics_totals *t, int notable)
{
    int n = 0, i, j, rows = 0;
    const plaid_metrics_labels *labels = plaid_counters_endpoints(&n);

    if (!t->requests) {
        ap_rputs("<p id=\"plaid-link-outcomes\">No answers yet.</p>\n", r);
        return;
    }
    if (notable) {
        ap_rputs("<ul id=\"plaid-link-outcomes\">\n", r);
    }
    else {
        ap_rputs("<table id=\"plaid-link-outcomes\" style=\"border-collapse:"
                 "collapse;margin:0.5em 0\">\n<tr style=\"background:#f0f0f0\">"
                 "<th style=\"" CELL "\">vhost</th><th style=\"" CELL
                 "\">location</th><th style=\"" CELL "\">handler</th>", r);
        for (j = 0; j < PLAID_METRICS_STATUSES; j++) {
            if (j == 0 || t->by_status[j]) {
                ap_rprintf(r, "<th style=\"" CELL "\">%s</th>",
                           plaid_metrics_status_name(j));
            }
        }
        ap_rputs("<th style=\"" CELL "\">total</th></tr>\n", r);
    }
    for (i = 0; i < n; i++) {
        apr_uint64_t total = endpoint_total(m, i);

        if (!total) {
            continue;
        }
        rows++;
        ap_rprintf(r, notable ? "<li>%s %s %s:" :
                   "<tr><td style=\"" CELL "\">%s</td><td style=\"" CELL
                   "\"><code>%s</code></td><td style=\"" CELL "\">%s</td>",
                   ap_escape_html2(r->pool, labels[i].vhost, 1),
                   ap_escape_html2(r->pool, labels[i].location, 1),
                   ap_escape_html2(r->pool, labels[i].handler, 1));
        for (j = 0; j < PLAID_METRICS_STATUSES; j++) {
            apr_uint64_t v = plaid_metrics_read(&m->requests[i][j]);

            if (notable) {
                if (v) {
                    ap_rprintf(r, " %s &times; %" FMT,
                               plaid_metrics_status_name(j), v);
                }
            }
            else if (j == 0 || t->by_status[j]) {
                ap_rprintf(r, "<td style=\"" CELL ";text-align:right%s%s\">"
                           "%" FMT "</td>", v ? ";background:" : "",
                           v ? shade(j) : "", v);
            }
        }
        ap_rprintf(r, notable ? " (%" FMT ")</li>\n"
                   : "<td style=\"" CELL ";text-align:right;font-weight:"
                   "bold\">%" FMT "</td></tr>\n", total);
    }
    ap_rputs(notable ? "</ul>\n" : "</table>\n", r);
}

/* A number of milliseconds as the page says it: "25", "1", "2.5", in
 * ms below a second, else in s. */
static const char *amount(apr_pool_t *p, long ms)
{
    if (ms < 1000) {
        return apr_ltoa(p, ms);
    }
    return ms % 1000 ? apr_psprintf(p, "%ld.%ld", ms / 1000,
                                    (ms % 1000) / 100)
                     : apr_ltoa(p, ms / 1000);
}

static const char *unit(long ms)
{
    return ms < 1000 ? " ms" : " s";
}

/* A bucket's range: "0&ndash;25 ms", "500 ms&ndash;1 s", "&gt; 10 s". */
static const char *range(apr_pool_t *p, int i)
{
    long lo = i ? plaid_metrics_bucket_ms[i - 1] : 0, hi;

    if (i == PLAID_METRICS_BUCKETS - 1) {
        return apr_pstrcat(p, "&gt; ", amount(p, lo), unit(lo), NULL);
    }
    hi = plaid_metrics_bucket_ms[i];
    return apr_pstrcat(p, amount(p, lo), lo && (lo < 1000) != (hi < 1000)
                       ? unit(lo) : "", "&ndash;", amount(p, hi), unit(hi),
                       NULL);
}

/* A bar per bucket (the calls in it, not below it), the longest bar the
 * fullest bucket. */
static void latency(request_rec *r, const plaid_metrics_totals *t)
{
    apr_uint64_t most = 0;
    int i;

    for (i = 0; i < PLAID_METRICS_BUCKETS; i++) {
        most = t->bucket[i] > most ? t->bucket[i] : most;
    }
    ap_rputs("<h3>Plaid call latency</h3>\n<div id=\"plaid-link-latency\" "
             "style=\"max-width:42em\">\n", r);
    for (i = 0; i < PLAID_METRICS_BUCKETS; i++) {
        unsigned width = most ? (unsigned)(t->bucket[i] * 100 / most) : 0;

        if (t->bucket[i] && !width) {
            width = 1;
        }
        ap_rprintf(r, "<div class=\"plaid-link-bucket\" style=\"display:flex;"
                   "align-items:center;"
                   "margin:2px 0\"><span style=\"flex:0 0 10em;text-align:"
                   "right;padding-right:0.5em\">%s</span><span style=\"flex:"
                   "1 1 auto;background:#eee;height:1.1em\"><span class=\""
                   "plaid-link-bar\" style=\"display:block;height:100%%;"
                   "width:%u%%;background:#3c78d8\"></span></span><span "
                   "style=\"flex:0 0 6em;padding-left:0.5em\">%" FMT
                   "</span></div>\n", range(r->pool, i), width, t->bucket[i]);
    }
    ap_rputs("</div>\n", r);
}

static int plaid_status(request_rec *r, int flags)
{
    const plaid_metrics *m = plaid_counters_block();
    apr_uint64_t in_flight;
    plaid_metrics_totals t;

    if (!m) {
        return OK;
    }
    plaid_metrics_sum(m, &t);
    in_flight = plaid_counters_in_flight(r->pool);
    if (flags & AP_STATUS_SHORT) {
        short_report(r, &t, in_flight);
        return OK;
    }
    ap_rputs("<hr />\n<h2 id=\"plaid-link\">mod_plaid_link</h2>\n", r);
    ap_rprintf(r, "<p id=\"plaid-link-totals\">%" FMT " answers &middot; %"
               FMT " calls to Plaid, %" FMT " in flight, %" FMT " retries "
               "&middot; %" FMT " PlaidError answers &middot; %" FMT
               " rate-limited &middot; %" FMT " refused by the circuit "
               "breaker</p>\n", t.requests, t.calls, in_flight, t.retries,
               t.errors, t.rate_limited, t.circuit_refused);
    outcomes(r, m, &t, (flags & AP_STATUS_NOTABLE) != 0);
    latency(r, &t);
    return OK;
}

void plaid_status_register(apr_pool_t *p)
{
    (void)p;
    APR_OPTIONAL_HOOK(ap, status_hook, plaid_status, NULL, NULL,
                      APR_HOOK_MIDDLE);
}
