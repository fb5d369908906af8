/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every child of the emulator's httpd must agree on, prefork's many
 * processes included:
 *
 *   - the key under which tokens carry their HMAC (tokens.c), made once
 *     per httpd in the parent before it forks, kept across graceful
 *     restarts, so any child knows the tokens any other child issued;
 *   - which public tokens were exchanged already: one empty file per
 *     token, created with O_EXCL in a directory, so that of two children
 *     exchanging the same token at once exactly one wins, by the kernel's
 *     word, with no lock and no shared memory to size;
 *   - the Items: a small file per token in the same directory,
 *     <id>.public for a public token until it is exchanged (what the
 *     Item will be), <id>.access for the access token after (the Item),
 *     each written once, before its token is handed out; /item/remove
 *     unlinks the .access file, which only one child can do, and the
 *     empty <id>.login that /sandbox/item/reset_login leaves and the
 *     empty <id>.sync of /transactions/sync's mutation fault.

 *
 * The directory is PlaidEmulatorStateDir, or plaid_emulator.<pid> in the
 * runtime directory (removed when httpd stops). It stays small: a marker
 * or a .public record older than a public token's life can no longer
 * matter (the token is expired before it is consulted), and a child that
 * records an exchange removes such files, every few minutes at most. It
 * removes .access records older than this httpd too: a new httpd (with a
 * new token key) refuses its predecessor's access tokens anyway, while
 * its own live as long as it runs, as Plaid's do.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_core.h"
#include "unixd.h"

#include "apr_atomic.h"
#include "apr_file_io.h"
#include "apr_strings.h"

#include "emu.h"

#define KEY_BYTES     32
#define USERDATA_KEY  "plaid_emulator_state"
#define PRUNE_EVERY_S 300
#define RECORD_MAX    4096

/* Made once per httpd, in the process pool that outlives restarts. */
typedef struct {
    unsigned char key[KEY_BYTES];
    apr_time_t made;          /* with the key: older records are useless */
    pid_t owner;              /* the parent: children never remove the dir */
    const char *removable;    /* the default directory, removed at exit */
} emu_process_state;

/* Set in the parent's post_config; children inherit them. */
static const unsigned char *state_key;
static apr_time_t state_made;
static const char *state_dir;
/* Per child: when this child last pruned the directory. */
static apr_uint32_t last_prune;

const unsigned char *emu_state_key(apr_size_t *len)
{
    *len = KEY_BYTES;
    return state_key;
}

typedef enum {
    NOT_OURS,
    SHORT_LIVED,   /* <id> (an exchange's marker) and <id>.public */
    ITEM           /* <id>.access, <id>.login, <id>.sync and <id>.update
                    * (an update-mode link_token's, which lives for
                    * hours) */
} file_kind;

static file_kind kind_of(const char *name)
{
    apr_size_t n;

    for (n = 0; name[n]; n++) {
        if (!((name[n] >= '0' && name[n] <= '9')
              || (name[n] >= 'a' && name[n] <= 'f'))) {
            break;
        }
    }
    if (n != EMU_TOKEN_ID_LEN) {
        return NOT_OURS;
    }
    if (!name[n] || strcmp(name + n, ".public") == 0) {
        return SHORT_LIVED;
    }
    return strcmp(name + n, ".access") == 0
           || strcmp(name + n, ".login") == 0
           || strcmp(name + n, ".sync") == 0
           || strcmp(name + n, ".update") == 0 ? ITEM : NOT_OURS;
}

/* Remove this file's kinds of files in dir last changed before the time
 * given for their kind. Plain POSIX: it also runs in a cleanup of the
 * process pool, where no pool is at hand. */
static void sweep(const char *dir, apr_time_t short_lived_before,
                  apr_time_t items_before)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    struct stat st;
    file_kind kind;

    if (!d) {
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if ((kind = kind_of(e->d_name)) != NOT_OURS
            && fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
            && S_ISREG(st.st_mode)
            && apr_time_from_sec(st.st_mtime)
               < (kind == ITEM ? items_before : short_lived_before)) {
            unlinkat(dirfd(d), e->d_name, 0);
        }
    }
    closedir(d);
}

static apr_status_t remove_default_dir(void *data)
{
    const emu_process_state *ps = data;

    /* When httpd stops, not on a restart (which clears pconf too), and
     * not in a child (which runs this too when it exits through exit():
     * atexit(apr_terminate)). A process ended by a signal, as httpd -X
     * is, runs no cleanup and leaves the directory. */
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_DESTROY_CONFIG
        && getpid() == ps->owner && ps->removable) {
        sweep(ps->removable, APR_INT64_MAX, APR_INT64_MAX);
        rmdir(ps->removable);
    }
    return APR_SUCCESS;
}

static emu_process_state *process_state(server_rec *s)
{
    apr_pool_t *proc = s->process->pool;
    emu_process_state *ps;
    void *data = NULL;
    apr_status_t rv;

    apr_pool_userdata_get(&data, USERDATA_KEY, proc);
    if (data) {
        return data;
    }
    ps = apr_pcalloc(proc, sizeof(*ps));
    if ((rv = apr_generate_random_bytes(ps->key, KEY_BYTES)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                     "plaid_emulator: no random bytes for the token key");
        return NULL;
    }
    ps->made = apr_time_now();
    ps->owner = getpid();
    apr_pool_userdata_set(ps, USERDATA_KEY, apr_pool_cleanup_null, proc);
    return ps;
}

/* The directory, made if missing and given to the user the children run
 * as. A failure is logged, not fatal: only the endpoints that record
 * tokens and Items need it, and they answer a PlaidError naming the
 * problem. */
static void make_state_dir(apr_pool_t *p, server_rec *s, const char *dir)
{
    char *parent = apr_pstrdup(p, dir);
    char *slash = strrchr(parent, '/');
    apr_status_t rv;

    if (slash && slash != parent) {
        *slash = '\0';
        apr_dir_make_recursive(parent, APR_FPROT_OS_DEFAULT, p);
    }
    rv = apr_dir_make(dir, APR_FPROT_UREAD | APR_FPROT_UWRITE
                      | APR_FPROT_UEXECUTE, p);
    if (rv != APR_SUCCESS && !APR_STATUS_IS_EEXIST(rv)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, "plaid_emulator: "
                     "cannot make the state directory %s; "
                     "/sandbox/public_token/create and "
                     "/item/public_token/exchange will fail (set "
                     "PlaidEmulatorStateDir)", dir);
        return;
    }
    if (geteuid() == 0
        && chown(dir, ap_unixd_config.user_id, ap_unixd_config.group_id)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, APR_FROM_OS_ERROR(errno), s,
                     "plaid_emulator: cannot give %s to User %s", dir,
                     ap_unixd_config.user_name);
    }
}

int emu_state_init(apr_pool_t *pconf, server_rec *s)
{
    emu_server_config *sconf =
        ap_get_module_config(s->module_config, &plaid_emulator_module);
    emu_process_state *ps;
    const char *dir;

    /* The first pass only checks the configuration; the pid may change
     * before the second (httpd detaches from the terminal). */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    if (!(ps = process_state(s))) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    dir = sconf->state_dir;
    if (!dir) {
        dir = ap_runtime_dir_relative(pconf, apr_psprintf(pconf,
                                      "plaid_emulator.%" APR_PID_T_FMT,
                                      ps->owner));
        if (!ps->removable) {
            ps->removable = apr_pstrdup(s->process->pool, dir);
        }
    }
    make_state_dir(pconf, s, dir);
    /* On pconf, not on the process pool: this module's code is unloaded
     * with pconf, before the process pool's cleanups would run. */
    apr_pool_cleanup_register(pconf, ps, remove_default_dir,
                              apr_pool_cleanup_null);
    state_key = ps->key;
    state_made = ps->made;
    state_dir = dir;
    return OK;
}

static void prune(void)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_uint32_t last = apr_atomic_read32(&last_prune);

    /* One thread of this child, every PRUNE_EVERY_S at most; another
     * child pruning at the same time removes the same files, harmlessly. */
    if (now - last < PRUNE_EVERY_S
        || apr_atomic_cas32(&last_prune, now, last) != last) {
        return;
    }
    /* Whole seconds, as a file's mtime: a record written in the second
     * the key was made stays. */
    sweep(state_dir,
          apr_time_now() - EMU_PUBLIC_TOKEN_TTL - apr_time_from_sec(60),
          apr_time_from_sec(apr_time_sec(state_made)));
}

apr_status_t emu_state_mark(request_rec *r, const char *id)
{
    apr_file_t *f;
    apr_status_t rv;

    if (!state_dir) {
        return APR_ENOENT;
    }
    rv = apr_file_open(&f, apr_pstrcat(r->pool, state_dir, "/", id, NULL),
                       APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_EXCL,
                       APR_FPROT_UREAD | APR_FPROT_UWRITE, r->pool);
    if (rv == APR_SUCCESS) {
        apr_file_close(f);
        prune();
        return APR_SUCCESS;
    }
    if (APR_STATUS_IS_EEXIST(rv)) {
        return APR_EEXIST;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "plaid_emulator: cannot "
                  "record an exchange in %s", state_dir);
    return rv;
}

static const char *record_path(request_rec *r, const char *id,
                               const char *kind)
{
    return apr_pstrcat(r->pool, state_dir, "/", id, ".", kind, NULL);
}

apr_status_t emu_state_put(request_rec *r, const char *id, const char *kind,
                           const char *text)
{
    apr_size_t len = strlen(text);
    apr_file_t *f;
    apr_status_t rv;

    if (!state_dir) {
        return APR_ENOENT;
    }
    if (len > RECORD_MAX) {
        return APR_EINVAL;
    }
    rv = apr_file_open(&f, record_path(r, id, kind),
                       APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_EXCL,
                       APR_FPROT_UREAD | APR_FPROT_UWRITE, r->pool);
    if (rv == APR_SUCCESS) {
        rv = apr_file_write_full(f, text, len, NULL);
        apr_file_close(f);
    }
    else if (APR_STATUS_IS_EEXIST(rv)) {
        return APR_EEXIST;
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "plaid_emulator: cannot "
                      "record an Item in %s", state_dir);
    }
    return rv;
}

apr_status_t emu_state_get(request_rec *r, const char *id, const char *kind,
                           char **text)
{
    apr_file_t *f;
    apr_size_t len = RECORD_MAX;
    apr_status_t rv;

    if (!state_dir) {
        return APR_ENOENT;
    }
    rv = apr_file_open(&f, record_path(r, id, kind), APR_FOPEN_READ,
                       APR_FPROT_OS_DEFAULT, r->pool);
    if (rv != APR_SUCCESS) {
        return APR_STATUS_IS_ENOENT(rv) ? APR_ENOENT : rv;
    }
    *text = apr_palloc(r->pool, RECORD_MAX + 1);
    rv = apr_file_read_full(f, *text, RECORD_MAX, &len);
    apr_file_close(f);
    if (rv != APR_SUCCESS && !APR_STATUS_IS_EOF(rv)) {
        return rv;
    }
    (*text)[len] = '\0';
    return APR_SUCCESS;
}

apr_status_t emu_state_remove(request_rec *r, const char *id,
                              const char *kind)
{
    apr_status_t rv;

    if (!state_dir) {
        return APR_ENOENT;
    }
    rv = apr_file_remove(record_path(r, id, kind), r->pool);
    if (rv == APR_SUCCESS || APR_STATUS_IS_ENOENT(rv)) {
        return rv == APR_SUCCESS ? APR_SUCCESS : APR_ENOENT;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "plaid_emulator: cannot "
                  "remove an Item from %s", state_dir);
    return rv;
}
