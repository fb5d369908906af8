/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What webhook verification keeps across restarts (the keep file): Plaid's
 * keys and the marks of the webhooks accepted. The default store (shmcb)
 * is made anew at each start and graceful restart; without this file a
 * restart would forget which webhooks were accepted, so that a replay
 * within PlaidWebhookMaxAge passed again, and every key, each to be
 * fetched again on a budget that forgeries spend too.
 *
 * One file, mod_plaid_link.keep in httpd's runtime directory, of a fixed
 * size: KEEP_SLOTS slots of 128 bytes (2 MiB, sparse until used), a hash
 * table by the SHA-256 of each entry's name, whose slots for a name are
 * the WINDOW slots from the one its hash picks. A new entry takes a free
 * or lapsed slot of its window, else the one that lapses first: the file
 * never grows, and past some thousands of live entries the soonest to
 * lapse give way. A slot whose checksum is wrong, or which claims to live
 * implausibly long, is free: a torn write is forgotten, never believed.
 *
 * The parent opens it in post_config (making it, or starting it anew when
 * it is not one of ours) and each child uses the descriptor it inherits,
 * so the child's user needs no permission on the runtime directory.
 * Callers hold the store's global mutex, which keeps the threads of a
 * child and the children of one generation apart; each operation also
 * holds a POSIX record lock on the file, for the children of the previous
 * generation that finish their requests after a graceful restart, under
 * a mutex of their own. (fcntl locks belong to a process, so they alone
 * would not keep two threads of a child apart; flock's would be shared by
 * every child through the one inherited open file.)
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "apr_portable.h"

#include "glue.h"

#define KEEP_NAME   "mod_plaid_link.keep"
#define KEEP_SLOTS  16384
#define WINDOW      16
#define SLOT_BYTES  128
/* Nothing is kept longer than this: a slot that says otherwise is torn. */
#define LIVE_MAX_S  (2 * 86400)
#define MAGIC       "mod_plaid_link keep 1"

typedef struct {
    unsigned char name[32];    /* SHA-256 of the entry's name */
    apr_int64_t expiry;        /* unix seconds; 0: free */
    apr_uint32_t len;
    unsigned char check[4];    /* of the rest of the slot */
    unsigned char data[PLAID_KEEP_DATA_MAX];
} keep_slot;

typedef char keep_slot_is_128_bytes[sizeof(keep_slot) == SLOT_BYTES ? 1 : -1];

static int fd = -1;            /* inherited by the children */
static int needed;

void plaid_keep_need(void)
{
    needed = 1;
}

int plaid_keep_ready(void)
{
    return fd >= 0;
}

static void slot_check(const keep_slot *slot, unsigned char check[4])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    keep_slot copy = *slot;

    memset(copy.check, 0, sizeof(copy.check));
    SHA256((const unsigned char *)&copy, sizeof(copy), md);
    memcpy(check, md, 4);
}

static int slot_live(const keep_slot *slot, apr_int64_t now)
{
    unsigned char check[4];

    if (slot->expiry <= now || slot->expiry > now + LIVE_MAX_S
        || slot->len > PLAID_KEEP_DATA_MAX) {
        return 0;
    }
    slot_check(slot, check);
    return CRYPTO_memcmp(check, slot->check, 4) == 0;
}

/* The whole file locked against other processes, or not (errno). */
static int file_lock(int type)
{
    struct flock l;
    int rc;

    memset(&l, 0, sizeof(l));
    l.l_type = (short)type;
    l.l_whence = SEEK_SET;     /* from 0, l_len 0: to the end */
    while ((rc = fcntl(fd, F_SETLKW, &l)) < 0 && errno == EINTR) {
    }
    return rc == 0;
}

/* The window of name: its first slot, its slots read. */
static apr_status_t read_window(const char *name, unsigned char hash[32],
                                off_t *first, keep_slot slots[WINDOW])
{
    apr_uint32_t pick;
    ssize_t n;

    SHA256((const unsigned char *)name, strlen(name), hash);
    pick = (apr_uint32_t)hash[0] << 24 | (apr_uint32_t)hash[1] << 16
         | (apr_uint32_t)hash[2] << 8 | hash[3];
    /* Slot 0 is the file's header. */
    *first = 1 + (off_t)(pick % (KEEP_SLOTS - WINDOW));
    n = pread(fd, slots, WINDOW * SLOT_BYTES, *first * SLOT_BYTES);
    if (n != WINDOW * SLOT_BYTES) {
        return n < 0 ? APR_FROM_OS_ERROR(errno) : APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static int find(const keep_slot slots[WINDOW], const unsigned char hash[32],
                apr_int64_t now)
{
    int i;

    for (i = 0; i < WINDOW; i++) {
        if (slot_live(&slots[i], now)
            && memcmp(slots[i].name, hash, 32) == 0) {
            return i;
        }
    }
    return -1;
}

/* A free or lapsed slot, else the one that lapses first. */
static int pick_slot(const keep_slot slots[WINDOW], apr_int64_t now)
{
    int i, soonest = 0;

    for (i = 0; i < WINDOW; i++) {
        if (!slot_live(&slots[i], now)) {
            return i;
        }
        if (slots[i].expiry < slots[soonest].expiry) {
            soonest = i;
        }
    }
    return soonest;
}

static apr_status_t write_slot(off_t at, const unsigned char hash[32],
                               apr_int64_t expiry, const void *data,
                               unsigned int len)
{
    keep_slot slot;

    memset(&slot, 0, sizeof(slot));
    if (expiry) {
        memcpy(slot.name, hash, 32);
        slot.expiry = expiry;
        slot.len = len;
        memcpy(slot.data, data, len);
        slot_check(&slot, slot.check);
    }
    if (pwrite(fd, &slot, sizeof(slot), at * SLOT_BYTES) != SLOT_BYTES) {
        return errno ? APR_FROM_OS_ERROR(errno) : APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static apr_int64_t now_s(void)
{
    return (apr_int64_t)apr_time_sec(apr_time_now());
}

apr_status_t plaid_keep_get(const char *name, void *data, unsigned int *len)
{
    keep_slot slots[WINDOW];
    unsigned char hash[32];
    off_t first;
    apr_status_t rv;
    int i;

    if (fd < 0 || !file_lock(F_RDLCK)) {
        return APR_EGENERAL;
    }
    rv = read_window(name, hash, &first, slots);
    file_lock(F_UNLCK);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((i = find(slots, hash, now_s())) < 0) {
        return APR_NOTFOUND;
    }
    if (slots[i].len > *len) {
        return APR_ENOSPC;
    }
    memcpy(data, slots[i].data, slots[i].len);
    *len = slots[i].len;
    return APR_SUCCESS;
}

/* Under the file lock: name's entry set (seen NULL), or set unless it
 * is there (*seen says which). expiry 0 removes it. */
static apr_status_t keep_set(const char *name, apr_int64_t expiry,
                             const void *data, unsigned int len, int *seen)
{
    keep_slot slots[WINDOW];
    unsigned char hash[32];
    off_t first;
    apr_status_t rv;
    int i;

    if (fd < 0 || len > PLAID_KEEP_DATA_MAX || !file_lock(F_WRLCK)) {
        return APR_EGENERAL;
    }
    if ((rv = read_window(name, hash, &first, slots)) == APR_SUCCESS) {
        i = find(slots, hash, now_s());
        if (seen) {
            *seen = i >= 0;
        }
        if (!seen || i < 0) {
            if (i < 0 && expiry) {
                i = pick_slot(slots, now_s());
            }
            rv = i < 0 ? APR_SUCCESS
                       : write_slot(first + i, hash, expiry, data, len);
        }
    }
    file_lock(F_UNLCK);
    return rv;
}

apr_status_t plaid_keep_put(const char *name, apr_int64_t expiry,
                            const void *data, unsigned int len)
{
    return keep_set(name, expiry, data, len, NULL);
}

apr_status_t plaid_keep_mark(const char *name, apr_int64_t expiry, int *seen)
{
    return keep_set(name, expiry, "", 0, seen);
}

/* Slot 0: ours, of this size. */
static int keep_header_ok(int f)
{
    keep_slot head;

    return pread(f, &head, sizeof(head), 0) == SLOT_BYTES
        && memcmp(head.name, MAGIC, sizeof(MAGIC)) == 0
        && head.expiry == KEEP_SLOTS;
}

/* A file that is not one of ours, or of another size, starts anew. */
static apr_status_t keep_make(int f)
{
    keep_slot head;

    memset(&head, 0, sizeof(head));
    memcpy(head.name, MAGIC, sizeof(MAGIC));
    head.expiry = KEEP_SLOTS;
    if (ftruncate(f, 0) != 0
        || pwrite(f, &head, sizeof(head), 0) != SLOT_BYTES
        || ftruncate(f, (off_t)KEEP_SLOTS * SLOT_BYTES) != 0) {
        return APR_FROM_OS_ERROR(errno);
    }
    return APR_SUCCESS;
}

static apr_status_t forget(void *data)
{
    (void)data;
    fd = -1;       /* closed by the pool */
    needed = 0;
    return APR_SUCCESS;
}

int plaid_keep_post_config(apr_pool_t *pconf, server_rec *s)
{
    const char *path;
    apr_file_t *f;
    apr_os_file_t os;
    apr_status_t rv;

    (void)s;
    if (!needed) {
        return OK;
    }
    path = ap_runtime_dir_relative(pconf, KEEP_NAME);
    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_WRITE
                       | APR_FOPEN_CREATE | APR_FOPEN_BINARY,
                       APR_FPROT_UREAD | APR_FPROT_UWRITE, pconf);
    if (rv == APR_SUCCESS && (rv = apr_os_file_get(&os, f)) == APR_SUCCESS
        && !keep_header_ok(os)) {
        rv = keep_make(os);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, rv, NULL,
                     PLLOGNO(0123) "SetHandler plaid-webhook keeps Plaid's "
                     "keys and the marks of accepted webhooks across "
                     "restarts in %s, which cannot be opened or written",
                     path);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    fd = os;
    apr_pool_cleanup_register(pconf, NULL, forget, apr_pool_cleanup_null);
    return OK;
}
