/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A minimal test harness for the core: CHECK records a failure and goes on;
 * UNIT_MAIN runs the listed tests and ends with "N passed, N failed".
 */
#ifndef UNIT_H
#define UNIT_H

#include <stdio.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

static int unit_passed, unit_failed;
static apr_pool_t *unit_pool;

#define CHECK(cond) do {                                                    \
        if (cond) {                                                         \
            unit_passed++;                                                  \
        }                                                                   \
        else {                                                              \
            unit_failed++;                                                  \
            printf("not ok: %s:%d: %s\n", __FILE__, __LINE__, #cond);       \
        }                                                                   \
    } while (0)

#define CHECK_STR(got, want) do {                                           \
        const char *g_ = (got), *w_ = (want);                               \
        if ((g_ == NULL && w_ == NULL)                                      \
            || (g_ && w_ && strcmp(g_, w_) == 0)) {                         \
            unit_passed++;                                                  \
        }                                                                   \
        else {                                                              \
            unit_failed++;                                                  \
            printf("not ok: %s:%d: %s is \"%s\", want \"%s\"\n", __FILE__,  \
                   __LINE__, #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
        }                                                                   \
    } while (0)

#define CHECK_HAS(got, part) do {                                           \
        const char *g_ = (got);                                             \
        if (g_ && strstr(g_, (part))) {                                     \
            unit_passed++;                                                  \
        }                                                                   \
        else {                                                              \
            unit_failed++;                                                  \
            printf("not ok: %s:%d: %s is \"%s\", lacks \"%s\"\n", __FILE__, \
                   __LINE__, #got, g_ ? g_ : "(null)", (part));             \
        }                                                                   \
    } while (0)

typedef void (*unit_test)(apr_pool_t *p);

static int unit_run(const char *name, const unit_test *tests)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&unit_pool, NULL);
    for (; *tests; tests++) {
        apr_pool_create(&p, unit_pool);
        (*tests)(p);
        apr_pool_destroy(p);
    }
    apr_pool_destroy(unit_pool);
    apr_terminate();
    printf("%s: %d passed, %d failed\n", name, unit_passed, unit_failed);
    return unit_failed ? 1 : 0;
}

#endif
