/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/relay.c: a network round trip on loopback, for bench/run.sh (its
 * relay pass) and bench/gateway.sh.
 *
 *     relay LISTEN_PORT TARGET_PORT DELAY_MS CONN_LOG MAX_SECONDS
 *
 * Listens on 127.0.0.1:LISTEN_PORT and relays every connection to
 * 127.0.0.1:TARGET_PORT, bytes untouched (TLS passes through), each chunk
 * delivered DELAY_MS after it arrived, in order, in both directions: an
 * RTT of twice DELAY_MS. A real TCP handshake costs a round trip before the
 * client can send; on loopback connect() returns at once, so what the client
 * sends before the server has said anything (TLS's ClientHello, after
 * whatever work the client does between connect() and it) is delayed by
 * three times DELAY_MS: as if connect() had taken the round trip. Work the
 * client does after that first send, while it waits for the server, so
 * overlaps two round trips here against one on a real network (libcurl
 * reads its CA file there). Bandwidth and slow start are not modelled (the
 * calls fit in a window).
 *
 * Per connection and direction a reader thread stamps each chunk with its
 * due time on CLOCK_MONOTONIC and queues it; a sender thread sleeps until
 * then with an absolute clock_nanosleep, spins the last 100 µs, and sends
 * it. Absolute deadlines do not drift with the work between two sleeps;
 * every µs late is added to what is measured, hence the spin and the timer
 * slack cut from 50 µs to 1 µs. It was a Python script until its
 * interpreter made it 0.66 ms late per chunk on average in a benchmark
 * run, ~1.3 ms a round trip, more than the module's own overhead.
 *
 * One line per accepted connection goes to CONN_LOG, so the caller counts
 * new connections. Exits by itself after MAX_SECONDS, or on SIGTERM/SIGINT,
 * and then prints to stderr how late its deliveries were:
 * "relay: N chunks delivered, on average X ms late, at most Y ms".
 *
 * Build: cc -O2 -pthread -o relay bench/relay.c
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#define CHUNK_MAX 65536
#define NS 1000000000LL

/* A chunk read, due at DUE; LEN 0 stands for the end of the stream. */
struct chunk {
    struct chunk *next;
    long long due;
    size_t len;
    char data[];
};

/* One direction of a connection: SRC's bytes to DST, through a queue. */
struct way {
    int src, dst;
    long long first_delay;      /* while the other direction is silent */
    int spoke;                  /* SRC has returned from a read */
    struct way *other;
    pthread_mutex_t lock;
    pthread_cond_t ready;
    struct chunk *head, *tail;
    long long last_due;
    pthread_t reader, sender;
};

struct conn {
    int client, upstream;
    struct way up, down;        /* client to upstream, and back */
};

static long long delay_ns;
static struct sockaddr_in target;

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static long long stats_chunks, stats_sum_ns, stats_max_ns;

static long long now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * NS + t.tv_nsec;
}

/* Sleeps to SPIN_NS before DUE, then spins: on the development VM a bare
 * absolute clock_nanosleep woke 70 µs late at the median and 110 µs on
 * average; with the spin 0 and 35 µs (the relay's own lateness, idle: 0.13
 * ms a chunk without, 0.04 with). It costs at most SPIN_NS of CPU a chunk. */
#define SPIN_NS 100000LL

static void sleep_until(long long due)
{
    long long wake = due - SPIN_NS;
    struct timespec t = { (time_t)(wake / NS), (long)(wake % NS) };
    int rc;

    do {   /* EINTR: a signal this thread did not block; sleep on */
        rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
    } while (rc == EINTR);
    while (now_ns() < due) {
    }
}

static void count_lateness(long long behind)
{
    pthread_mutex_lock(&stats_lock);
    stats_chunks++;
    stats_sum_ns += behind;
    if (behind > stats_max_ns) {
        stats_max_ns = behind;
    }
    pthread_mutex_unlock(&stats_lock);
}

static void print_lateness(void)
{
    pthread_mutex_lock(&stats_lock);
    fprintf(stderr, "relay: %lld chunks delivered, on average %.3f ms late, "
            "at most %.3f ms\n", stats_chunks,
            stats_chunks ? stats_sum_ns / 1e6 / stats_chunks : 0.0,
            stats_max_ns / 1e6);
    pthread_mutex_unlock(&stats_lock);
}

/* Has the other direction carried a byte yet? Its flag is written under
 * its own lock. */
static int other_spoke(struct way *w)
{
    int spoke;

    pthread_mutex_lock(&w->other->lock);
    spoke = w->other->spoke;
    pthread_mutex_unlock(&w->other->lock);
    return spoke;
}

/* Queues LEN bytes read at AT (LEN 0: the end), due DELAY later, or
 * FIRST_DELAY while the other side has not spoken. */
static void enqueue(struct way *w, const char *data, size_t len, long long at)
{
    struct chunk *c = malloc(sizeof(*c) + len);
    long long due = at + (other_spoke(w) ? delay_ns : w->first_delay);

    if (!c) {
        abort();   /* a bench instrument: better dead than silently wrong */
    }
    memcpy(c->data, data, len);
    c->len = len;
    c->next = NULL;
    pthread_mutex_lock(&w->lock);
    /* Order before timing: a chunk never overtakes the one before it. Due
     * times only grow anyway unless the server speaks first. */
    if (due < w->last_due) {
        due = w->last_due;
    }
    c->due = w->last_due = due;
    w->spoke = 1;
    if (w->tail) {
        w->tail->next = c;
    } else {
        w->head = c;
    }
    w->tail = c;
    pthread_cond_signal(&w->ready);
    pthread_mutex_unlock(&w->lock);
}

static struct chunk *dequeue(struct way *w)
{
    struct chunk *c;

    pthread_mutex_lock(&w->lock);
    while (!w->head) {
        pthread_cond_wait(&w->ready, &w->lock);
    }
    c = w->head;
    w->head = c->next;
    if (!w->head) {
        w->tail = NULL;
    }
    pthread_mutex_unlock(&w->lock);
    return c;
}

static void *reader(void *arg)
{
    struct way *w = arg;
    char buf[CHUNK_MAX];
    ssize_t n;

    for (;;) {
        n = recv(w->src, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        /* Stamped before anything else: the delay counts from arrival. An
         * error ends the stream as EOF does. */
        enqueue(w, buf, n > 0 ? (size_t)n : 0, now_ns());
        if (n <= 0) {
            return NULL;
        }
    }
}

static int send_all(int fd, const char *p, size_t len)
{
    ssize_t n;

    while (len > 0) {
        /* MSG_NOSIGNAL: a peer gone is an error here, not SIGPIPE. */
        n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Delivers each chunk when due; at the end of the stream shuts down DST's
 * write side so its reader sees EOF, as the sender's peer closed. */
static void *sender(void *arg)
{
    struct way *w = arg;
    struct chunk *c;
    int done = 0;

    while (!done) {
        c = dequeue(w);
        sleep_until(c->due);
        count_lateness(now_ns() - c->due);
        if (c->len == 0) {
            shutdown(w->dst, SHUT_WR);
            done = 1;
        } else {
            done = send_all(w->dst, c->data, c->len) != 0;
        }
        free(c);
    }
    return NULL;
}

static void way_init(struct way *w, int src, int dst, long long first_delay,
                     struct way *other)
{
    memset(w, 0, sizeof(*w));
    w->src = src;
    w->dst = dst;
    w->first_delay = first_delay;
    w->other = other;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->ready, NULL);
}

static void way_free(struct way *w)
{
    struct chunk *c;

    while ((c = w->head)) {
        w->head = c->next;
        free(c);
    }
    pthread_cond_destroy(&w->ready);
    pthread_mutex_destroy(&w->lock);
}

static void set_nodelay(int fd)
{
    int one = 1;

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* A thread the connection cannot do without: with one missing it would
 * hang, so out of threads the relay stops, loudly. */
static void start(pthread_t *t, void *(*fn)(void *), void *arg)
{
    int rc = pthread_create(t, NULL, fn, arg);

    if (rc != 0) {
        fprintf(stderr, "relay: pthread_create: %s\n", strerror(rc));
        abort();
    }
}

static int dial_target(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd >= 0 && connect(fd, (struct sockaddr *)&target,
                           sizeof(target)) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Both directions run until their senders end; then shutting both
 * sockets down wakes a reader still waiting, so every thread is joined and
 * nothing of the connection outlives it. */
static void relay(struct conn *c)
{
    way_init(&c->up, c->client, c->upstream, 3 * delay_ns, &c->down);
    way_init(&c->down, c->upstream, c->client, delay_ns, &c->up);
    start(&c->up.reader, reader, &c->up);
    start(&c->down.reader, reader, &c->down);
    start(&c->up.sender, sender, &c->up);
    start(&c->down.sender, sender, &c->down);
    pthread_join(c->up.sender, NULL);
    pthread_join(c->down.sender, NULL);
    shutdown(c->client, SHUT_RDWR);
    shutdown(c->upstream, SHUT_RDWR);
    pthread_join(c->up.reader, NULL);
    pthread_join(c->down.reader, NULL);
    way_free(&c->up);
    way_free(&c->down);
}

static void *connection(void *arg)
{
    struct conn *c = arg;

    c->upstream = dial_target();
    if (c->upstream >= 0) {
        set_nodelay(c->client);
        set_nodelay(c->upstream);
        relay(c);
        close(c->upstream);
    }
    close(c->client);
    free(c);
    return NULL;
}

static void start_connection(int client)
{
    struct conn *c = calloc(1, sizeof(*c));
    pthread_attr_t attr;
    pthread_t t;

    if (!c) {
        close(client);
        return;
    }
    c->client = client;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, connection, c) != 0) {
        close(client);
        free(c);
    }
    pthread_attr_destroy(&attr);
}

static int listen_on(int port)
{
    struct sockaddr_in a = { 0 };
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);   /* loopback only */
    if (fd < 0
        || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0
        || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0
        || listen(fd, 128) != 0) {
        perror("relay: listen");
        exit(1);
    }
    return fd;
}

/* SIGTERM and SIGINT are blocked in every thread (threads inherit the
 * mask) and polled for between accepts: no handler, no EINTR mid-send. */
static void block_stop_signals(void)
{
    sigset_t stop;

    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
}

static int stop_pending(void)
{
    sigset_t pending;

    sigpending(&pending);
    return sigismember(&pending, SIGTERM) || sigismember(&pending, SIGINT);
}

static void accept_until(int listener, FILE *log, long long end)
{
    struct pollfd p = { listener, POLLIN, 0 };
    int client;

    while (!stop_pending() && now_ns() < end) {
        /* A fifth of a second at most between looks at the clock and the
         * signals. */
        if (poll(&p, 1, 200) <= 0) {
            continue;
        }
        client = accept(listener, NULL, NULL);
        if (client < 0) {
            continue;
        }
        fprintf(log, "%.6f\n", now_ns() / 1e9);
        fflush(log);
        start_connection(client);
    }
}

int main(int argc, char **argv)
{
    FILE *log;
    int listener;
    long long end;

    if (argc != 6) {
        fprintf(stderr, "usage: relay LISTEN_PORT TARGET_PORT DELAY_MS "
                "CONN_LOG MAX_SECONDS\n");
        return 2;
    }
    delay_ns = (long long)(strtod(argv[3], NULL) * 1e6);
    end = now_ns() + (long long)(strtod(argv[5], NULL) * 1e9);
    target.sin_family = AF_INET;
    target.sin_port = htons((unsigned short)atoi(argv[2]));
    target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    /* Inherited by every thread started below; best effort, as the
     * figure printed at the end shows what it achieved. */
    prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
    block_stop_signals();
    log = fopen(argv[4], "a");
    if (!log) {
        perror(argv[4]);
        return 1;
    }
    listener = listen_on(atoi(argv[1]));
    accept_until(listener, log, end);
    /* Connections still open end with the process: the caller is done. */
    print_lateness();
    fclose(log);
    return 0;
}
