/* binlogfs — the commands of the binlogfs program. Each returns the
 * process exit status; only main() exits. */
#ifndef BINLOGFS_COMMANDS_H
#define BINLOGFS_COMMANDS_H

int cmd_inspect(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_mount(int argc, char **argv);

#endif
