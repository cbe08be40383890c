/* binlogfs benchmark helper — the ceiling client on one thread
 * (ceiling.sh, CEILING_CLIENTS=async).
 *
 * Usage: ceiling-async SOCKET FILE...  As ceiling.c (the same batch
 * files, one connection per FILE, no order between them), but one
 * thread drives every connection through libmariadb's non-blocking API
 * (mysql_*_start / mysql_*_cont and poll): no thread per connection, so
 * no context switch per reply. It measures what a client with an event
 * loop instead of threads could gain.
 */
#include <mysql.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where a connection is: the call it waits to continue. */
enum phase { IDLE, QUERY, STORE, NEXT, ROLLBACK, DONE };

typedef struct {
    MYSQL *m;
    const char *path;
    char *data;                /* the whole file */
    size_t len, off;
    const char *q;             /* the batch being sent */
    size_t qlen;
    int stmts, got;            /* statements in it, replies read */
    enum phase phase;
    int wait;                  /* MYSQL_WAIT_* of the pending call */
    long batches, failed;
} Conn;

/* The next batch (lines up to "$$"); 0 at the end of the file. */
static int next_batch(Conn *c)
{
    while (c->off < c->len) {
        const char *start = c->data + c->off, *p = start, *end = c->data + c->len;
        int n = 0;
        for (;;) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl) {
                c->off = c->len;
                return 0;
            }
            if (nl - p == 2 && p[0] == '$' && p[1] == '$') {
                c->off = (size_t)(nl + 1 - c->data);
                if (p == start)
                    break; /* empty batch */
                c->q = start;
                c->qlen = (size_t)(p - start);
                c->stmts = n;
                return 1;
            }
            if (nl > p && nl[-1] == ';') /* a statement ends its line with ';' (see ceiling.c) */
                n++;
            p = nl + 1;
        }
    }
    return 0;
}

/* A batch failed: count it and roll back (as ceiling.c). */
static void fail(Conn *c)
{
    if (c->failed++ < 3)
        fprintf(stderr, "%s: batch %ld: ERROR %u: %s\n", c->path, c->batches, mysql_errno(c->m),
                mysql_error(c->m));
    int r;
    c->phase = ROLLBACK;
    c->wait = mysql_real_query_start(&r, c->m, "ROLLBACK", 8);
    if (!c->wait)
        c->phase = IDLE;
}

/* Drives c until a call must wait for the socket (c->wait) or the file
 * is done. `ready`: the MYSQL_WAIT_* events poll reported. */
static void step(Conn *c, int ready)
{
    int r = 0;
    MYSQL_RES *res = NULL;
    for (;;) {
        switch (c->phase) {
        case DONE:
            return;
        case IDLE:
            if (!next_batch(c)) {
                c->phase = DONE;
                return;
            }
            c->batches++;
            c->got = 1;
            c->phase = QUERY;
            if ((c->wait = mysql_real_query_start(&r, c->m, c->q, (unsigned long)c->qlen)))
                return;
            goto query_done;
        case QUERY:
            if ((c->wait = mysql_real_query_cont(&r, c->m, ready)))
                return;
        query_done:
            if (r) {
                fail(c);
                break;
            }
            /* fall into reading the first result */
            c->phase = STORE;
            if ((c->wait = mysql_store_result_start(&res, c->m)))
                return;
            goto store_done;
        case STORE:
            if ((c->wait = mysql_store_result_cont(&res, c->m, ready)))
                return;
        store_done:
            if (res)
                mysql_free_result(res);
            c->phase = NEXT;
            if ((c->wait = mysql_next_result_start(&r, c->m)))
                return;
            goto next_done;
        case NEXT:
            if ((c->wait = mysql_next_result_cont(&r, c->m, ready)))
                return;
        next_done:
            if (r < 0 && c->got < c->stmts) {
                /* MariaDB's reply to a BINLOG statement lacks the
                 * more-results flag though the batch goes on (ceiling.c) */
                c->m->server_status |= SERVER_MORE_RESULTS_EXIST;
                if ((c->wait = mysql_next_result_start(&r, c->m)))
                    return;
                goto next_done;
            }
            if (r < 0) {
                c->phase = IDLE;
                break;
            }
            if (r > 0) {
                fail(c);
                break;
            }
            c->got++;
            c->phase = STORE;
            if ((c->wait = mysql_store_result_start(&res, c->m)))
                return;
            goto store_done;
        case ROLLBACK:
            if ((c->wait = mysql_real_query_cont(&r, c->m, ready)))
                return;
            c->phase = IDLE;
            break;
        }
        if (c->wait)
            return;
        ready = 0;
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s SOCKET FILE...\n", argv[0]);
        return 2;
    }
    int n = argc - 2, live = n;
    Conn *cs = calloc((size_t)n, sizeof *cs);
    struct pollfd *pf = calloc((size_t)n, sizeof *pf);
    int *idx = calloc((size_t)n, sizeof *idx);
    for (int i = 0; i < n; i++) {
        Conn *c = &cs[i];
        c->path = argv[i + 2];
        FILE *f = fopen(c->path, "r");
        if (!f || fseek(f, 0, SEEK_END) != 0) {
            perror(c->path);
            return 1;
        }
        c->len = (size_t)ftell(f);
        rewind(f);
        c->data = malloc(c->len + 1);
        if (fread(c->data, 1, c->len, f) != c->len) {
            perror(c->path);
            return 1;
        }
        fclose(f);
        c->m = mysql_init(NULL);
        mysql_options(c->m, MYSQL_OPT_NONBLOCK, 0);
        if (!mysql_real_connect(c->m, NULL, "root", NULL, NULL, 0, argv[1], CLIENT_MULTI_STATEMENTS)) {
            fprintf(stderr, "%s: cannot connect: %s\n", c->path, mysql_error(c->m));
            return 1;
        }
        step(c, 0);
        if (c->phase == DONE)
            live--;
    }
    while (live > 0) {
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (cs[i].phase == DONE)
                continue;
            pf[k].fd = mysql_get_socket(cs[i].m);
            pf[k].events = (short)((cs[i].wait & MYSQL_WAIT_READ ? POLLIN : 0) |
                                   (cs[i].wait & MYSQL_WAIT_WRITE ? POLLOUT : 0));
            pf[k].revents = 0;
            idx[k++] = i;
        }
        if (poll(pf, (nfds_t)k, -1) < 0) {
            perror("poll");
            return 1;
        }
        for (int j = 0; j < k; j++) {
            if (!pf[j].revents)
                continue;
            Conn *c = &cs[idx[j]];
            step(c, (pf[j].revents & (POLLIN | POLLHUP | POLLERR) ? MYSQL_WAIT_READ : 0) |
                        (pf[j].revents & POLLOUT ? MYSQL_WAIT_WRITE : 0));
            if (c->phase == DONE)
                live--;
        }
    }
    for (int i = 0; i < n; i++) {
        fprintf(stderr, "%s: %ld batches, %ld failed\n", cs[i].path, cs[i].batches, cs[i].failed);
        mysql_close(cs[i].m);
        free(cs[i].data);
    }
    free(cs);
    free(pf);
    free(idx);
    return 0;
}
