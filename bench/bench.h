/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What bench/transport.c, bench/rawtls.c and bench/handle_rss.c share: the
 * /link/token/create body they send and the process's CPU time.
 */
#ifndef PLAID_BENCH_H
#define PLAID_BENCH_H

#include <sys/resource.h>

/* What the module sends for a minimal configuration. */
#define BENCH_BODY                                                          \
    "{\"client_name\":\"bench\",\"language\":\"en\",\"country_codes\":"    \
    "[\"US\"],\"products\":[\"auth\"],\"user\":{\"client_user_id\":"       \
    "\"bench-user\"}}"

/* User and system CPU time of this process so far, in µs. */
static inline double cpu_us(void)
{
    struct rusage u;

    getrusage(RUSAGE_SELF, &u);
    return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6
        + u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}

#endif
