/* binlogfs — the program: dispatches to a command. Only main() exits. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "commands.h"

#ifndef BINLOGFS_VERSION
#define BINLOGFS_VERSION "0.1.0"
#endif

static const char usage[] =
    "Usage: binlogfs COMMAND [OPTIONS] ...\n"
    "\n"
    "Fast point-in-time recovery for MySQL and MariaDB: reads binary logs and\n"
    "replays them in parallel with the same result as `mysqlbinlog | mysql`.\n"
    "\n"
    "Commands:\n"
    "  replay [TARGET] [REPLAY] BINLOG...\n"
    "                apply binlogs to a server over many connections, commit order\n"
    "                kept, resumable; exits 0 when all are applied\n"
    "  mount [TARGET] [REPLAY] --spool=DIR [-f] [-o OPTS] MOUNTPOINT\n"
    "                a restore workspace: drop binlogs into MOUNTPOINT/binlogs, watch and\n"
    "                steer the replay with cat and echo; unmount with fusermount3 -u\n"
    "  inspect [--events|--transactions|--summary] [--json] BINLOG...\n"
    "                read binlogs without a server: events, transactions, or a\n"
    "                summary with the parallelism a replay can expect\n"
    "\n"
    "Options:\n"
    "  -h, --help     this help; `binlogfs COMMAND --help` for a command's options\n"
    "  -V, --version  the version\n"
    "\n"
    "See binlogfs(1).\n";

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("binlogfs %s\n", BINLOGFS_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "inspect"))
        return cmd_inspect(argc - 1, argv + 1);
    if (!strcmp(cmd, "replay"))
        return cmd_replay(argc - 1, argv + 1);
    if (!strcmp(cmd, "mount"))
        return cmd_mount(argc - 1, argv + 1);
    fprintf(stderr, "binlogfs: unknown command '%s'\n\n%s", cmd, usage);
    return 2;
}
