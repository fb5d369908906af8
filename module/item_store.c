/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Items' table, in the database of the server's mod_dbd connection
 * (DBDriver, DBDParams), through mod_dbd's optional ap_dbd_acquire:
 *
 *     plaid_items (environment, item_id) -> client_user_id, institution_id,
 *                  status, sealed (the access_token, src/plaid_seal.c),
 *                  created, updated (seconds since the epoch)
 *
 * The statements are prepared on each connection at its first use here,
 * after CREATE TABLE IF NOT EXISTS, and kept with it (conn_state). Not by
 * ap_dbd_prepare: mod_dbd prepares those as it opens a connection, before
 * the table can exist, and a statement that fails to prepare fails the
 * connection for every module of the server (mod_authn_dbd,
 * mod_session_dbd) too.
 *
 * Every failure writes one PL0171 line naming the statement and the
 * driver's word, and gives 503: nothing here waits past what the driver
 * does (SQLite's busy retries, about a second and a half; PostgreSQL's
 * connect_timeout in DBDParams), nor, on PostgreSQL, past the location's
 * PlaidTimeout TOTAL, which each connection gets as its
 * statement_timeout: a row or table locked by another session, or a
 * statement the server is slow to finish, is cancelled by the server.
 */
#include <apr_dbd.h>
#include <apr_optional.h>

#include "mod_dbd.h"

#include "glue.h"

#define TABLE_SQL                                                           \
    "CREATE TABLE IF NOT EXISTS plaid_items ("                              \
    "environment VARCHAR(64) NOT NULL, "                                    \
    "item_id VARCHAR(128) NOT NULL, "                                       \
    "client_user_id VARCHAR(256) NOT NULL, "                                \
    "institution_id VARCHAR(64) NOT NULL, "                                 \
    "status VARCHAR(96) NOT NULL, "                                         \
    "sealed VARCHAR(1024) NOT NULL, "                                       \
    "created BIGINT NOT NULL, "                                             \
    "updated BIGINT NOT NULL, "                                             \
    "PRIMARY KEY (environment, item_id))"

/* The statements, by label. apr_dbd's %s is a string, %lld a 64-bit
 * number: PostgreSQL takes a placeholder as the type apr_dbd names
 * (varchar for %s) and will not put a varchar in a BIGINT column. */
static const struct statement {
    const char *label, *sql;
} statements[] = {
#define S_GET 0
    { "plaid_items_get",
      "SELECT client_user_id, institution_id, status, sealed, created, "
      "updated FROM plaid_items WHERE environment = %s AND item_id = %s" },
#define S_LIST 1
    { "plaid_items_list",
      "SELECT item_id, institution_id, status, created, updated FROM "
      "plaid_items WHERE environment = %s AND client_user_id = %s "
      "ORDER BY created, item_id" },
#define S_INSERT 2
    { "plaid_items_insert",
      "INSERT INTO plaid_items (environment, item_id, client_user_id, "
      "institution_id, status, sealed, created, updated) VALUES "
      "(%s, %s, %s, %s, %s, %s, %lld, %lld)" },
#define S_REPLACE 3
    { "plaid_items_replace",
      "UPDATE plaid_items SET client_user_id = %s, institution_id = %s, "
      "status = %s, sealed = %s, updated = %lld WHERE environment = %s AND "
      "item_id = %s" },
#define S_STATUS 4
    { "plaid_items_status",
      "UPDATE plaid_items SET status = %s, updated = %lld WHERE "
      "environment = %s AND item_id = %s" },
#define S_RESEAL 5
    { "plaid_items_reseal",
      "UPDATE plaid_items SET sealed = %s WHERE environment = %s AND "
      "item_id = %s AND sealed = %s" },
#define S_DELETE 6
    { "plaid_items_delete",
      "DELETE FROM plaid_items WHERE environment = %s AND item_id = %s" },
};
#define N_STATEMENTS (sizeof(statements) / sizeof(statements[0]))

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *dbd_acquire;

int plaid_item_store_available(void)
{
    if (!dbd_acquire) {
        dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    }
    return dbd_acquire != NULL;
}

/* One line, and the answer's status. */
static int failed(request_rec *r, const plaid_request *req, const char *what,
                  const char *why)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PLLOGNO(0171)
                  "%s failed: %s status=503: the Item store (PlaidItemStore "
                  "dbd, mod_dbd's DBDriver and DBDParams) %s: %s",
                  req->handler->what, plaid_where(r, req), what,
                  why ? plaid_log_quote(r->pool, why, 300) : "\"?\"");
    apr_table_setn(r->headers_out, "Retry-After", "5");
    return HTTP_SERVICE_UNAVAILABLE;
}

/* What this module made of a connection, kept in its pool: the
 * statements, prepared with no label (PostgreSQL's driver then keeps them
 * on this side and sends each with its text, so a session the server
 * dropped, which mod_dbd's check reconnects, loses none of them), and the
 * statement_timeout the session was given. Forgotten when a statement
 * fails: the session may be a new one, without that timeout, and the
 * table may be gone. A connection serves one request at a time, so this
 * needs no lock. */
typedef struct {
    apr_dbd_prepared_t *stmt[N_STATEMENTS];
    long timeout_ms;    /* PostgreSQL's statement_timeout set; 0: not yet */
    int ready;          /* the table made, the statements prepared */
    int pgsql;          /* the driver is PostgreSQL's, known when made */
} conn_state;

static conn_state *state_of(ap_dbd_t *dbd)
{
    void *found = NULL;
    conn_state *cs;

    apr_pool_userdata_get(&found, "plaid_items", dbd->pool);
    if (found) {
        return found;
    }
    cs = apr_pcalloc(dbd->pool, sizeof(*cs));
    cs->pgsql = strcmp(apr_dbd_name(dbd->driver), "pgsql") == 0;
    apr_pool_userdata_setn(cs, "plaid_items", NULL, dbd->pool);
    return cs;
}

/* PostgreSQL waits for a lock as long as it is let: the session's
 * statement_timeout is what is left of the location's PlaidTimeout TOTAL,
 * set again only when it changes. NULL, or what failed. */
static const char *bounded(request_rec *r, ap_dbd_t *dbd, conn_state *cs,
                           long ms)
{
    int nrows = 0;

    if (!cs->pgsql || cs->timeout_ms == ms) {
        return NULL;
    }
    if (apr_dbd_query(dbd->driver, dbd->handle, &nrows,
                      apr_psprintf(r->pool, "SET statement_timeout = %ld",
                                   ms)) != 0) {
        return "cannot set statement_timeout";
    }
    cs->timeout_ms = ms;
    return NULL;
}

/* The table made and the statements prepared, once per session. NULL, or
 * what failed. */
static const char *ready(request_rec *r, ap_dbd_t *dbd, conn_state *cs)
{
    apr_size_t i;
    int nrows = 0;

    if (cs->ready) {
        return NULL;
    }
    if (apr_dbd_query(dbd->driver, dbd->handle, &nrows, TABLE_SQL) != 0) {
        return "cannot create the table plaid_items";
    }
    for (i = 0; i < N_STATEMENTS; i++) {
        cs->stmt[i] = NULL;
        if (apr_dbd_prepare(dbd->driver, dbd->pool, dbd->handle,
                            statements[i].sql, NULL, &cs->stmt[i]) != 0) {
            return apr_pstrcat(r->pool, "cannot prepare ",
                               statements[i].label, NULL);
        }
    }
    cs->ready = 1;
    return NULL;
}

/* One statement, with its arguments; a select's rows each given to take
 * with their columns, every row read (so that SQLite lets go of its
 * lock). */
typedef void take_fn(apr_pool_t *p, const apr_dbd_driver_t *d,
                     apr_dbd_row_t *row, void *out);

typedef struct {
    int which, nargs;
    const char **args;
    take_fn *take;      /* NULL: a statement that changes rows */
    void *out;
    int nrows;          /* rows changed */
    int taken;          /* rows given to take */
} statement_call;

/* The statement on a ready connection. NULL, or what failed (and *rv the
 * driver's code). A select has random access (seek 1): PostgreSQL's
 * driver then runs it before it returns, and says when it failed; read
 * row by row, a statement cancelled or failed at the server reads as no
 * more rows, and a locked table as an unknown Item. */
static const char *execute(request_rec *r, ap_dbd_t *dbd, conn_state *cs,
                           statement_call *call, int *rv)
{
    apr_dbd_prepared_t *stmt = cs->stmt[call->which];
    const char *label = statements[call->which].label;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;

    if (!call->take) {
        call->nrows = 0;
        *rv = apr_dbd_pquery(dbd->driver, r->pool, dbd->handle,
                             &call->nrows, stmt, call->nargs, call->args);
        return *rv ? apr_pstrcat(r->pool, "failed in ", label, NULL) : NULL;
    }
    *rv = apr_dbd_pselect(dbd->driver, r->pool, dbd->handle, &res, stmt, 1,
                          call->nargs, call->args);
    if (*rv) {
        return apr_pstrcat(r->pool, "failed in ", label, NULL);
    }
    while ((*rv = apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1))
           == 0) {
        call->take(r->pool, dbd->driver, row, call->out);
        call->taken++;
    }
    if (*rv != -1) {
        return apr_pstrcat(r->pool, "failed reading ", label, NULL);
    }
    *rv = 0;
    return NULL;
}

/* The least time left worth another try on a new session. */
#define RETRY_MIN_MS 100

/* call on this request's connection: OK, or 503 with its PL0171 line.
 * A failure on PostgreSQL, whose server may have dropped the session (a
 * restart, a failover), is tried once more on the session mod_dbd makes
 * again, within what is left of PlaidTimeout TOTAL; never a select that
 * had given rows. */
static int run(request_rec *r, const plaid_request *req, statement_call *call)
{
    long total = req->conn.total_timeout_ms, left = total;
    apr_time_t start = apr_time_now();
    const char *what;
    conn_state *cs;
    ap_dbd_t *dbd;
    int rv = 1, again;

    if (!plaid_item_store_available()) {
        return failed(r, req, "is not available", "mod_dbd is not loaded");
    }
    if (!(dbd = dbd_acquire(r))) {
        return failed(r, req, "cannot be reached", "mod_dbd gave no "
                      "connection (its own line above says why)");
    }
    cs = state_of(dbd);
    for (again = cs->pgsql; ; again = 0) {
        if (!(what = bounded(r, dbd, cs, left))
            && !(what = ready(r, dbd, cs))
            && !(what = execute(r, dbd, cs, call, &rv))) {
            return OK;
        }
        cs->ready = 0;
        cs->timeout_ms = 0;
        left = total - (long)apr_time_as_msec(apr_time_now() - start);
        if (!again || left < RETRY_MIN_MS
            || call->taken > 0
            || apr_dbd_check_conn(dbd->driver, r->pool, dbd->handle)
               != APR_SUCCESS) {
            break;
        }
    }
    return failed(r, req, what, apr_dbd_error(dbd->driver, dbd->handle, rv));
}

static int select_rows(request_rec *r, const plaid_request *req, int which,
                       int nargs, const char **args, take_fn *take, void *out)
{
    statement_call call = { which, nargs, args, take, out, 0, 0 };

    return run(r, req, &call);
}

/* A statement that changes rows: OK, with *nrows. */
static int change(request_rec *r, const plaid_request *req, int which,
                  int nargs, const char **args, int *nrows)
{
    statement_call call = { which, nargs, args, NULL, NULL, 0, 0 };
    int rc = run(r, req, &call);

    *nrows = call.nrows;
    return rc;
}

static const char *column(apr_pool_t *p, const apr_dbd_driver_t *d,
                          apr_dbd_row_t *row, int n)
{
    const char *v = apr_dbd_get_entry(d, row, n);

    return apr_pstrdup(p, v ? v : "");
}

static apr_int64_t number(const apr_dbd_driver_t *d, apr_dbd_row_t *row,
                          int n)
{
    const char *v = apr_dbd_get_entry(d, row, n);

    return v ? apr_atoi64(v) : 0;
}

struct one {
    plaid_item *item;
    int found;
};

static void take_one(apr_pool_t *p, const apr_dbd_driver_t *d,
                     apr_dbd_row_t *row, void *out)
{
    struct one *o = out;

    o->found = 1;
    o->item->client_user_id = column(p, d, row, 0);
    o->item->institution_id = column(p, d, row, 1);
    o->item->status = column(p, d, row, 2);
    o->item->sealed = column(p, d, row, 3);
    o->item->created = number(d, row, 4);
    o->item->updated = number(d, row, 5);
}

int plaid_item_get(request_rec *r, const plaid_request *req,
                   const char *env, const char *item_id, plaid_item *out)
{
    const char *args[] = { env, item_id };
    struct one o = { out, 0 };
    int rc;

    memset(out, 0, sizeof(*out));
    out->environment = env;
    out->item_id = item_id;
    if ((rc = select_rows(r, req, S_GET, 2, args, take_one, &o)) != OK) {
        return rc;
    }
    return o.found ? OK : HTTP_NOT_FOUND;
}

static void take_listed(apr_pool_t *p, const apr_dbd_driver_t *d,
                        apr_dbd_row_t *row, void *out)
{
    plaid_item *item = apr_array_push(out);

    memset(item, 0, sizeof(*item));
    item->item_id = column(p, d, row, 0);
    item->institution_id = column(p, d, row, 1);
    item->status = column(p, d, row, 2);
    item->created = number(d, row, 3);
    item->updated = number(d, row, 4);
}

int plaid_item_list(request_rec *r, const plaid_request *req,
                    const char *env, const char *user,
                    apr_array_header_t **items)
{
    const char *args[] = { env, user };

    *items = apr_array_make(r->pool, 4, sizeof(plaid_item));
    return select_rows(r, req, S_LIST, 2, args, take_listed, *items);
}

static const char *seconds(apr_pool_t *p, apr_int64_t t)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, t);
}

int plaid_item_put(request_rec *r, const plaid_request *req,
                   const plaid_item *i)
{
    const char *replace[] = {
        i->client_user_id, i->institution_id, i->status, i->sealed,
        seconds(r->pool, i->updated), i->environment, i->item_id
    };
    const char *insert[] = {
        i->environment, i->item_id, i->client_user_id, i->institution_id,
        i->status, i->sealed, seconds(r->pool, i->created),
        seconds(r->pool, i->updated)
    };
    int nrows = 0, rc;

    /* An Item exchanged again (Plaid gives the same item_id) replaces its
     * row; the two statements are portable where an upsert is not. */
    if ((rc = change(r, req, S_REPLACE, 7, replace, &nrows)) != OK
        || nrows > 0) {
        return rc;
    }
    return change(r, req, S_INSERT, 8, insert, &nrows);
}

int plaid_item_set_status(request_rec *r, const plaid_request *req,
                          const char *env, const char *item_id,
                          const char *status)
{
    const char *args[] = {
        status, seconds(r->pool, apr_time_sec(apr_time_now())), env, item_id
    };
    int nrows = 0, rc = change(r, req, S_STATUS, 4, args, &nrows);

    return rc != OK ? rc : nrows > 0 ? OK : HTTP_NOT_FOUND;
}

int plaid_item_reseal(request_rec *r, const plaid_request *req,
                      const plaid_item *item, const char *sealed)
{
    const char *args[] = {
        sealed, item->environment, item->item_id, item->sealed
    };
    int nrows = 0;

    return change(r, req, S_RESEAL, 4, args, &nrows);
}

int plaid_item_delete(request_rec *r, const plaid_request *req,
                      const char *env, const char *item_id)
{
    const char *args[] = { env, item_id };
    int nrows = 0;

    return change(r, req, S_DELETE, 2, args, &nrows);
}
