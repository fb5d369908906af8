/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /transactions/sync: TransactionsSyncRequest in (options:
 * TransactionsSyncRequestOptions), TransactionsSyncResponse out, for an
 * access_token whose Item this emulator made (items.c).
 *
 * Every Item has the same history, a log of fifteen updates: twelve
 * transactions added (two of them pending), then one modified (SparkFun's
 * merchant named), one pending removed (Madison Bicycle Shop) and its
 * posted successor added, whose pending_transaction_id names it. Ids
 * derive from the item_id and dates from the Item's created_at, so one
 * Item always gives the same transactions, in every child.
 *
 * A cursor is a position in that log ("" or absent: the start; "now": the
 * end). A call takes the next `count` updates (100 by default, 1 to 500)
 * from it and answers their net effect, as Plaid does: a transaction added
 * and modified within the page is in `added` as it is at the page's end,
 * one added and removed within it is in none; `has_more` says whether
 * updates remain, `next_cursor` is where the page ended. With
 * options.account_id the log is that account's updates only.
 *
 * The fault segment "mutation" (POST .../mutation/transactions/sync)
 * answers Plaid's 400 TRANSACTIONS_ERROR/
 * TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION to the first call for an
 * Item whose cursor is inside the log (a page after one with has_more),
 * once per Item, in whichever child: a client that restarts from its
 * first cursor then gets through.
 */
#include <stdio.h>
#include <string.h>

#include "apr_strings.h"

#include "emu.h"

/* Every property of TransactionsSyncRequest in the spec; options is
 * checked against TransactionsSyncRequestOptions. count's range (1 to
 * 500) and options.days_requested's (1 to 730) are checked below. */
static const emu_property transactions_sync_request[] = {
    { "client_id",    K_STRING,  0,            NULL },
    { "access_token", K_STRING,  EMU_REQUIRED, NULL },
    { "secret",       K_STRING,  0,            NULL },
    { "cursor",       K_STRING,  0,            NULL },
    { "count",        K_INTEGER, 0,            NULL },
    { "options",      K_OBJECT,  0,            NULL },
    { NULL, 0, 0, NULL }
};

/* personal_finance_category_version is an enum behind a $ref: taken as a
 * string, and the one taxonomy here is v2's names. */
static const emu_property transactions_sync_request_options[] = {
    { "include_original_description",       K_BOOLEAN, EMU_NULLABLE, NULL },
    { "include_personal_finance_category",  K_BOOLEAN, 0,            NULL },
    { "include_logo_and_counterparty_beta", K_BOOLEAN, 0,            NULL },
    { "personal_finance_category_version",  K_STRING,  0,            NULL },
    { "days_requested",                     K_INTEGER, 0,            NULL },
    { "account_id",                         K_STRING,  0,            NULL },
    { NULL, 0, 0, NULL }
};

#define COUNT_DEFAULT 100
#define COUNT_MAX     500
#define DAYS_MAX      730

/* Plaid's sandbox transactions, as a bank reports them. account is the
 * index in the Item's accounts (accounts.c): 0 checking, 1 savings. */
static const struct {
    int account;
    double amount;
    const char *name;
    const char *merchant_name;    /* NULL: none (before it is modified) */
    int days_before;              /* the date, before the Item's creation */
    int pending;
    const char *payment_channel;
    const char *category;         /* personal_finance_category.primary */
    const char *detailed;
} transactions[] = {
    { 0, 6.33, "Uber 072515 SF**POOL**", "Uber", 2, 0, "online",
      "TRANSPORTATION", "TRANSPORTATION_TAXIS_AND_RIDE_SHARES" },
    { 0, 5.4, "Uber 063015 SF**POOL**", "Uber", 9, 0, "online",
      "TRANSPORTATION", "TRANSPORTATION_TAXIS_AND_RIDE_SHARES" },
    { 0, 12, "McDonald's", "McDonald's", 3, 0, "in store",
      "FOOD_AND_DRINK", "FOOD_AND_DRINK_FAST_FOOD" },
    { 0, 4.33, "Starbucks", "Starbucks", 3, 0, "in store",
      "FOOD_AND_DRINK", "FOOD_AND_DRINK_COFFEE" },
    { 0, 89.4, "SPARKFUN ELECTRONICS", NULL, 4, 0, "in store",
      "GENERAL_MERCHANDISE", "GENERAL_MERCHANDISE_ELECTRONICS" },
    { 0, -4.22, "INTRST PYMNT", NULL, 5, 0, "other",
      "INCOME", "INCOME_INTEREST_EARNED" },
    { 0, 500, "United Airlines", "United Airlines", 14, 0, "in store",
      "TRAVEL", "TRAVEL_FLIGHTS" },
    { 0, 25, "CREDIT CARD 3333 PAYMENT *//", NULL, 11, 0, "other",
      "LOAN_PAYMENTS", "LOAN_PAYMENTS_CREDIT_CARD_PAYMENT" },
    { 0, 78.5, "Touchstone Climbing", "Touchstone Climbing", 12, 0,
      "in store", "PERSONAL_CARE", "PERSONAL_CARE_GYMS_AND_FITNESS_CENTERS" },
    { 1, -1000, "CD DEPOSIT .INITIAL.", NULL, 16, 0, "other",
      "TRANSFER_IN", "TRANSFER_IN_DEPOSIT" },
    { 0, 64.2, "Madison Bicycle Shop", "Madison Bicycle Shop", 1, 1,
      "in store", "GENERAL_MERCHANDISE", "GENERAL_MERCHANDISE_SPORTING_GOODS" },
    { 1, 500, "KFC", "KFC", 1, 1, "in store",
      "FOOD_AND_DRINK", "FOOD_AND_DRINK_FAST_FOOD" },
    { 0, 64.2, "Madison Bicycle Shop", "Madison Bicycle Shop", 0, 0,
      "in store", "GENERAL_MERCHANDISE", "GENERAL_MERCHANDISE_SPORTING_GOODS" },
};

#define TRANSACTIONS (int)(sizeof(transactions) / sizeof(transactions[0]))

/* What the modification changes: SparkFun's merchant, once enriched. */
#define MODIFIED_MERCHANT "SparkFun"
/* The posted transaction that replaces a pending one. */
#define POSTED_OF_PENDING 12
#define PENDING_REPLACED  10

typedef enum { ADD, MODIFY, REMOVE } update_kind;

/* The Item's history, oldest first: the cursor's positions. */
static const struct {
    update_kind kind;
    int transaction;
} updates[] = {
    { ADD, 0 }, { ADD, 1 }, { ADD, 2 }, { ADD, 3 }, { ADD, 4 }, { ADD, 5 },
    { ADD, 6 }, { ADD, 7 }, { ADD, 8 }, { ADD, 9 }, { ADD, 10 }, { ADD, 11 },
    { MODIFY, 4 },
    { REMOVE, PENDING_REPLACED },
    { ADD, POSTED_OF_PENDING },
};

#define UPDATES (int)(sizeof(updates) / sizeof(updates[0]))

/* One call: the request and the Item it is about. */
typedef struct {
    emu_call *c;
    emu_item item;
    json_t *accounts;           /* the Item's, as accounts.c gives them */
    int account;                /* options.account_id's index, or -1 */
    apr_time_t created;
    int original_description;
} sync_call;

/* "<10 letters and digits of the Item>-<position>": opaque to clients,
 * tied to one Item. */
static const char *cursor_of(const sync_call *s, int position)
{
    apr_pool_t *p = s->c->r->pool;

    return apr_psprintf(p, "%.10s-%d",
                        emu_transaction_id(p, s->item.item_id, -1),
                        position);
}

/* The position a cursor names, or -1 when it is not this Item's. */
static int position_of(const sync_call *s, const char *cursor)
{
    const char *mine = cursor_of(s, 0);
    apr_size_t n = strlen(mine) - 1;   /* without the "0" */
    char *end;
    long pos;

    if (!cursor || !*cursor) {
        return 0;
    }
    if (strcmp(cursor, "now") == 0) {
        return UPDATES;
    }
    if (strncmp(cursor, mine, n) != 0 || !cursor[n]) {
        return -1;
    }
    pos = strtol(cursor + n, &end, 10);
    return *end || pos < 0 || pos > UPDATES || cursor[n] == '+' ? -1
                                                                : (int)pos;
}

static int in_stream(const sync_call *s, int update)
{
    return s->account < 0
        || transactions[updates[update].transaction].account == s->account;
}

/* Whether the transaction was modified by an update before end. */
static int modified_before(int transaction, int end)
{
    int u;

    for (u = 0; u < end; u++) {
        if (updates[u].kind == MODIFY && updates[u].transaction == transaction) {
            return 1;
        }
    }
    return 0;
}

static const char *date_of(apr_pool_t *p, apr_time_t created, int days)
{
    return apr_pstrndup(p, emu_iso8601(p, created - apr_time_from_sec(
                                           (apr_time_t)days * 86400)), 10);
}

static const char *account_id_of(const sync_call *s, int account)
{
    return json_string_value(json_object_get(
        json_array_get(s->accounts, account), "account_id"));
}

/* Plaid's Transaction as it is after the update before end. */
static json_t *transaction_json(const sync_call *s, int t, int end)
{
    apr_pool_t *p = s->c->r->pool;
    const char *date = date_of(p, s->created, transactions[t].days_before);
    const char *merchant = modified_before(t, end) ? MODIFIED_MERCHANT
                                                   : transactions[t].merchant_name;

    return json_pack(
        "{s:s, s:f, s:s, s:n, s:n, s:s, s:n,"
        " s:{s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:n},"
        " s:s, s:s?, s:s?,"
        " s:{s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:n},"
        " s:b, s:s?, s:n, s:s, s:s, s:s, s:n,"
        " s:{s:s, s:s, s:s}, s:n, s:n, s:n, s:[], s:n}",
        "account_id", account_id_of(s, transactions[t].account),
        "amount", transactions[t].amount,
        "iso_currency_code", "USD",
        "unofficial_currency_code",
        "check_number",
        "date", date,
        "datetime",
        "location", "address", "city", "region", "postal_code", "country",
        "lat", "lon", "store_number",
        "name", transactions[t].name,
        "merchant_name", merchant,
        "original_description",
        s->original_description ? transactions[t].name : NULL,
        "payment_meta", "reference_number", "ppd_id", "payee", "by_order_of",
        "payer", "payment_method", "payment_processor", "reason",
        "pending", transactions[t].pending,
        "pending_transaction_id", t == POSTED_OF_PENDING
            ? emu_transaction_id(p, s->item.item_id, PENDING_REPLACED) : NULL,
        "account_owner",
        "transaction_id", emu_transaction_id(p, s->item.item_id, t),
        "authorized_date", date,
        "payment_channel", transactions[t].payment_channel,
        "authorized_datetime",
        "personal_finance_category", "primary", transactions[t].category,
        "detailed", transactions[t].detailed, "confidence_level", "VERY_HIGH",
        "transaction_code",
        "logo_url",
        "website",
        "counterparties",
        "merchant_entity_id");
}

typedef enum { UNTOUCHED, ADDED, MODIFIED, REMOVED, GONE } net_state;

/* The page from start: at most count updates of the stream. *end is where
 * it stopped, *more whether the stream has updates after it. */
static void page_of(const sync_call *s, int start, int count,
                    net_state *state, int *order, int *touched, int *end,
                    int *more)
{
    int u, t, taken = 0;

    *touched = 0;
    for (u = start; u < UPDATES && taken < count; u++) {
        if (!in_stream(s, u)) {
            continue;
        }
        taken++;
        t = updates[u].transaction;
        if (state[t] == UNTOUCHED) {
            order[(*touched)++] = t;
        }
        switch (updates[u].kind) {
        case ADD:
            state[t] = ADDED;
            break;
        case MODIFY:
            state[t] = state[t] == ADDED ? ADDED : MODIFIED;
            break;
        case REMOVE:
            state[t] = state[t] == ADDED ? GONE : REMOVED;
            break;
        }
    }
    *end = u;
    for (*more = 0; u < UPDATES && !*more; u++) {
        *more = in_stream(s, u);
    }
}

/* TransactionsSyncResponse for the page from start. */
static const char *page_body(const sync_call *s, int start, int count)
{
    net_state state[TRANSACTIONS] = { UNTOUCHED };
    int order[TRANSACTIONS], touched, end, more, i, t;
    json_t *added = json_array(), *modified = json_array();
    json_t *removed = json_array(), *accounts, *doc;
    const char *text;
    apr_size_t len;

    page_of(s, start, count, state, order, &touched, &end, &more);
    for (i = 0; i < touched; i++) {
        t = order[i];
        if (state[t] == ADDED || state[t] == MODIFIED) {
            json_array_append_new(state[t] == ADDED ? added : modified,
                                  transaction_json(s, t, end));
        }
        else if (state[t] == REMOVED) {
            json_array_append_new(removed, json_pack("{s:s, s:s}",
                "transaction_id",
                emu_transaction_id(s->c->r->pool, s->item.item_id, t),
                "account_id", account_id_of(s, transactions[t].account)));
        }
    }
    accounts = s->account < 0 ? json_incref(s->accounts)
        : json_pack("[O]", json_array_get(s->accounts, s->account));
    doc = json_pack("{s:o, s:o, s:o, s:o, s:s, s:b, s:s, s:s}",
                    "accounts", accounts, "added", added,
                    "modified", modified, "removed", removed,
                    "next_cursor", cursor_of(s, end),
                    "has_more", more,
                    "transactions_update_status", "HISTORICAL_UPDATE_COMPLETE",
                    "request_id", s->c->request_id);
    if (!doc) {
        return NULL;
    }
    text = emu_json_text(s->c->r->pool, doc, &len);
    json_decref(doc);
    return text;
}

static int refuse_field(emu_call *c, const char *message)
{
    emu_error e;

    emu_request_error(&e, "INVALID_FIELD", message);
    return emu_answer_error(c, &e);
}

/* options.account_id's index among the Item's accounts: 1, or 0 with *rc
 * Plaid's INVALID_ACCOUNT_ID. */
static int find_account(sync_call *s, const char *account_id, int *rc)
{
    size_t i;
    emu_error e;

    s->account = -1;
    if (!account_id) {
        return 1;
    }
    for (i = 0; i < json_array_size(s->accounts); i++) {
        if (strcmp(account_id_of(s, (int)i), account_id) == 0) {
            s->account = (int)i;
            return 1;
        }
    }
    e.status = 400;
    e.error_type = "INVALID_INPUT";
    e.error_code = "INVALID_ACCOUNT_ID";
    e.error_message = "failed to find requested account ID for requested item";
    *rc = emu_answer_error(s->c, &e);
    return 0;
}

/* The Item's created_at as a time: dates are counted back from it. */
static apr_time_t created_time(const emu_item *item)
{
    apr_time_exp_t t = { 0 };
    apr_time_t when;

    if (!item->created_at
        || sscanf(item->created_at, "%4d-%2d-%2dT%2d:%2d:%2dZ", &t.tm_year,
                  &t.tm_mon, &t.tm_mday, &t.tm_hour, &t.tm_min,
                  &t.tm_sec) != 6) {
        return apr_time_now();
    }
    t.tm_year -= 1900;
    t.tm_mon -= 1;
    return apr_time_exp_gmt_get(&when, &t) == APR_SUCCESS ? when
                                                          : apr_time_now();
}

/* The checks of the request's values that its schema cannot state. */
static const char *range_problem(json_t *body)
{
    json_t *count = json_object_get(body, "count");
    json_t *days = json_object_get(json_object_get(body, "options"),
                                   "days_requested");

    if (count && (json_integer_value(count) < 1
                  || json_integer_value(count) > COUNT_MAX)) {
        return "count must be an integer from 1 to 500";
    }
    if (days && (json_integer_value(days) < 1
                 || json_integer_value(days) > DAYS_MAX)) {
        return "options.days_requested must be an integer from 1 to 730";
    }
    return NULL;
}

static int sync_transactions(emu_call *c, json_t *body)
{
    json_t *options = json_object_get(body, "options");
    json_t *count = json_object_get(body, "count");
    const char *cursor = json_string_value(json_object_get(body, "cursor"));
    const char *why, *text;
    sync_call s;
    int rc, start;

    if ((why = range_problem(body)) != NULL) {
        return refuse_field(c, why);
    }
    memset(&s, 0, sizeof(s));
    s.c = c;
    if (!emu_item_find(c, body, &s.item, &rc)) {
        return rc;
    }
    if (!(s.accounts = emu_item_accounts(c, s.item.item_id))) {
        return emu_answer_internal(c, "out of memory");
    }
    if (!find_account(&s, json_string_value(json_object_get(options,
                                                            "account_id")),
                      &rc)) {
        json_decref(s.accounts);
        return rc;
    }
    s.created = created_time(&s.item);
    s.original_description = json_is_true(json_object_get(options,
                                          "include_original_description"));
    if ((start = position_of(&s, cursor)) < 0) {
        json_decref(s.accounts);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, c->r, "plaid_emulator: %s "
                      "refused: cursor not one of item_id=%s",
                      emu_log_name(c), s.item.item_id);
        return refuse_field(c, "cursor is not a cursor this item's "
                               "/transactions/sync gave");
    }
    if (start > 0 && start < UPDATES && emu_fault_segment(c->r, "mutation")
        && emu_item_first_mutation(c, &s.item)) {
        json_decref(s.accounts);
        return emu_answer_error(c, emu_plaid_error(
            "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION"));
    }
    text = page_body(&s, start, count ? (int)json_integer_value(count)
                                      : COUNT_DEFAULT);
    json_decref(s.accounts);
    return text ? emu_answer_json(c, text)
                : emu_answer_internal(c, "out of memory");
}

/* body= faults: an empty page of a made-up Item; notoken leaves out
 * added, modified and removed. */
static const char *sync_body(emu_call *c, int with_updates,
                             const char *padding)
{
    return apr_pstrcat(c->r->pool, "{\"accounts\":[],",
                       with_updates ? "\"added\":[],\"modified\":[],"
                                      "\"removed\":[]," : "",
                       "\"next_cursor\":\"\",\"has_more\":false,"
                       "\"transactions_update_status\":"
                       "\"HISTORICAL_UPDATE_COMPLETE\",",
                       emu_sample_end(c, padding), NULL);
}

const emu_endpoint emu_transactions_sync = {
    "/transactions/sync",
    transactions_sync_request,
    1,                      /* credentials */
    0,                      /* not called by a browser */
    sync_transactions,
    sync_body,
    transactions_sync_request_options
};
