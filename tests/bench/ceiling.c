/* binlogfs benchmark helper — the ceiling client (ceiling.sh).
 *
 * Usage: ceiling SOCKET FILE...  One thread and one connection per FILE.
 * A FILE holds batches of SQL statements, one statement per line, each
 * batch ended by a line "$$"; each batch is sent as one multi-statement
 * query and every reply read. No order between the threads, no
 * dependency tracking, no progress of its own: the least a client can
 * do to send the same statements. It prints the number of batches and
 * failures per file on stderr.
 *
 * MariaDB's reply to a BINLOG statement of row events lacks
 * SERVER_MORE_RESULTS_EXIST though the server runs the rest of the batch
 * (doc/replay.md): the statements counted tell that more replies follow,
 * as in replay/conn.c.
 */
#include <mysql.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *sock;

/* Reads every reply of a batch of `stmts` statements; 0, or the error. */
static unsigned read_replies(MYSQL *m, int stmts)
{
    for (int got = 1;; got++) {
        MYSQL_RES *r = mysql_store_result(m);
        if (r)
            mysql_free_result(r);
        int st = mysql_next_result(m);
        if (st < 0 && got < stmts) {
            m->server_status |= SERVER_MORE_RESULTS_EXIST;
            st = mysql_next_result(m);
        }
        if (st < 0)
            return 0;
        if (st > 0)
            return mysql_errno(m);
    }
}

static void *run(void *arg)
{
    const char *path = arg;
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(1);
    }
    MYSQL *m = mysql_init(NULL);
    if (!mysql_real_connect(m, NULL, "root", NULL, NULL, 0, sock, CLIENT_MULTI_STATEMENTS)) {
        fprintf(stderr, "%s: cannot connect: %s\n", path, mysql_error(m));
        exit(1);
    }
    char *line = NULL;
    size_t cap = 0, bcap = 1 << 20, blen = 0;
    char *buf = malloc(bcap);
    ssize_t n;
    int stmts = 0;
    long batches = 0, failed = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (strcmp(line, "$$\n") != 0) {
            if (blen + (size_t)n > bcap) {
                bcap = (blen + (size_t)n) * 2;
                buf = realloc(buf, bcap);
            }
            memcpy(buf + blen, line, (size_t)n);
            blen += (size_t)n;
            /* a statement ends its line with ';' (a BINLOG statement of
             * several base64 chunks spans lines; base64 has no ';') */
            if (n >= 2 && line[n - 2] == ';')
                stmts++;
            continue;
        }
        if (!blen)
            continue;
        batches++;
        unsigned err = mysql_real_query(m, buf, blen) ? mysql_errno(m) : read_replies(m, stmts);
        if (err) {
            /* an unordered replay meets rows that are not there yet:
             * count it, roll back, go on */
            if (failed++ < 3)
                fprintf(stderr, "%s: batch %ld: ERROR %u: %s\n", path, batches, err, mysql_error(m));
            mysql_query(m, "ROLLBACK");
        }
        blen = 0;
        stmts = 0;
    }
    fprintf(stderr, "%s: %ld batches, %ld failed\n", path, batches, failed);
    free(buf);
    free(line);
    fclose(f);
    mysql_close(m);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s SOCKET FILE...\n", argv[0]);
        return 2;
    }
    sock = argv[1];
    int nt = argc - 2;
    pthread_t *t = calloc((size_t)nt, sizeof *t);
    for (int i = 0; i < nt; i++)
        pthread_create(&t[i], NULL, run, argv[i + 2]);
    for (int i = 0; i < nt; i++)
        pthread_join(t[i], NULL);
    free(t);
    return 0;
}
