/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The metrics (src/plaid_metrics.c): one block of 64-bit counters that the
 * glue keeps in shared memory for every child of the server
 * (module/metrics.c), the bounded label sets they are counted under, and
 * the block as Prometheus text. Every label comes from a fixed set, so
 * the block has a fixed size and no answer of Plaid's nor request of a
 * browser can grow it: what a set does not know counts as "other".
 *
 * Counters are added to with atomic operations and read the same way,
 * never under a lock: a request adds one to a word.
 */
#ifndef PLAID_METRICS_H
#define PLAID_METRICS_H

#include "plaid.h"
#include "plaid_error.h"

/* Endpoints (a vhost, the location of a SetHandler, the handler),
 * numbered at start-up; number 0 is "other", for what was not. */
#define PLAID_METRICS_ENDPOINTS 2048
/* The statuses the browser can get, counted apart, and "other". */
#define PLAID_METRICS_STATUSES 14
/* PlaidErrorType (plaid_error_types) and the error codes counted apart,
 * with room to spare; the last of each is "other". */
#define PLAID_METRICS_ERROR_TYPES 32
#define PLAID_METRICS_ERROR_CODES 64
/* The duration's buckets: 25 ms to 10 s, and +Inf. */
#define PLAID_METRICS_BUCKETS 10

typedef struct {
    apr_uint64_t requests[PLAID_METRICS_ENDPOINTS][PLAID_METRICS_STATUSES];
    apr_uint64_t errors[PLAID_METRICS_ERROR_TYPES][PLAID_METRICS_ERROR_CODES];
    apr_uint64_t calls[PLAID_METRICS_BUCKETS];  /* per bucket, not summed */
    apr_uint64_t call_ms;                       /* the durations' sum */
    apr_uint64_t retries;
    apr_uint64_t rate_limited;
    apr_uint64_t circuit_refused;
} plaid_metrics;

/* An endpoint's labels, as the text and the status page show them. */
typedef struct {
    const char *vhost;
    const char *location;
    const char *handler;
} plaid_metrics_labels;

/* The error codes counted apart (NULL-terminated): those of Plaid's error
 * reference that the endpoints this module calls can answer. */
extern const char *const plaid_error_codes[];

/* Upper bounds of the buckets in milliseconds, and each bucket's "le". */
extern const long plaid_metrics_bucket_ms[PLAID_METRICS_BUCKETS - 1];
extern const char *const plaid_metrics_bucket_le[PLAID_METRICS_BUCKETS];

/* Where a label value is counted; the last index is "other". */
int plaid_metrics_status_index(int status);
int plaid_metrics_error_type_index(const char *error_type);
int plaid_metrics_error_code_index(const char *error_code);
int plaid_metrics_bucket_index(long ms);

/* The label of an index ("200", "INVALID_INPUT", "other"), or NULL for
 * an index no label has. */
const char *plaid_metrics_status_name(int index);
const char *plaid_metrics_error_type_name(int index);
const char *plaid_metrics_error_code_name(int index);

/* Atomic on a word of shared memory: lock-free on every platform this
 * builds on (src/plaid_metrics.c refuses to build otherwise), so that
 * children of any process add to the same word. */
static APR_INLINE void plaid_metrics_add(apr_uint64_t *word, apr_uint64_t n)
{
    __atomic_fetch_add(word, n, __ATOMIC_RELAXED);
}

static APR_INLINE apr_uint64_t plaid_metrics_read(const apr_uint64_t *word)
{
    return __atomic_load_n(word, __ATOMIC_RELAXED);
}

/* One answer of endpoint number endpoint with the browser's status. */
void plaid_metrics_count_answer(plaid_metrics *m, int endpoint, int status);

/* What one call to Plaid adds: its duration and retries (when a request
 * left at all: attempts > 0), and its PlaidError when Plaid answered one. */
void plaid_metrics_count_call(plaid_metrics *m, const plaid_result *res);

/* Sums over the block, for a status page. */
typedef struct {
    apr_uint64_t requests;                          /* every answer */
    apr_uint64_t by_status[PLAID_METRICS_STATUSES];
    apr_uint64_t errors;                            /* PlaidError answers */
    apr_uint64_t calls;                             /* the histogram's count */
    apr_uint64_t bucket[PLAID_METRICS_BUCKETS];     /* per bucket */
    apr_uint64_t call_ms;
    apr_uint64_t retries;
    apr_uint64_t rate_limited;
    apr_uint64_t circuit_refused;
} plaid_metrics_totals;

void plaid_metrics_sum(const plaid_metrics *m, plaid_metrics_totals *t);

/* The Prometheus text (format 0.0.4) of m, in p: labels[i] names endpoint
 * i for i < n; in_flight is the gauge, summed by the caller. Series of
 * the labelled counters appear once counted (not at 0); the others
 * always. */
char *plaid_metrics_text(apr_pool_t *p, const plaid_metrics *m,
                         const plaid_metrics_labels *labels, int n,
                         apr_uint64_t in_flight, apr_size_t *len);

/* s as a Prometheus label value: \\, \" and \n escaped, any byte that is
 * not well-formed UTF-8 made '?'. */
const char *plaid_metrics_label_value(apr_pool_t *p, const char *s);

#endif
