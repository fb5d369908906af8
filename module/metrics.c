/*
 * Metrics: counted where the other parts of the glue call these. (The
 * counters themselves come with the metrics handler.)
 */
#include "mod_plaid_link.h"

void plaid_metrics_rate_limited(request_rec *r)
{
    (void)r;
}

void plaid_metrics_circuit_refused(request_rec *r)
{
    (void)r;
}
