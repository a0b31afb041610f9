/* The snapshot subcommand's parts (cli_snapshot.c, cli_snapshot_restore.c). */
#ifndef CLI_SNAPSHOT_H
#define CLI_SNAPSHOT_H

#include <stdbool.h>

#include "cli_snapshot_file.h"

/* Prints a verified file's summary (status, and after save / restore), as text or JSON. */
void cli_snapshot_print(const cli_snap_summary_t *s, const char *file, bool json);

/* raftvisor snapshot restore FILE --data-dir DIR -c NODE.yaml: argv[0] is "restore". */
int cli_snapshot_restore_main(int argc, char **argv);

#endif
