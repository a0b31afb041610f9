/* cli_fs: what the files of `raftvisor fs` share: cli_fs.c (options, the node list, the
 * writes, rm and rmdir, cat, count, digest, exit codes), cli_fs_list.c (ls and stat, with
 * HDFS' formats) and cli_fs_attr.c (chmod, chown, chgrp, touch; their argument parsers are
 * cli_fs_mode.c). */
#ifndef CLI_FS_H
#define CLI_FS_H

#include <stdbool.h>

#include "rv_client.h"

typedef struct {
  rv_client_t *client;
  bool json;          /* one JSON object per line instead of HDFS' text */
  unsigned read_flags; /* RV_CLIENT_STALE or 0 */
  int status;         /* the exit code so far: CLI_OK, CLI_FAILURE, CLI_NOT_RUNNING */
} cli_fs_t;

/* Reports a failed operation on path (cmd is the HDFS command name, "mkdir"): HDFS' message on
 * stderr ("mkdir: '/a': File exists") or a JSON line on stdout; updates fs->status (a cluster
 * that did not answer at all is CLI_NOT_RUNNING). */
void cli_fs_fail(cli_fs_t *fs, const char *cmd, const char *path, const rv_client_result_t *res);

/* Prints s as a JSON string (quoted, escaped) on stdout. */
void cli_fs_json_str(const char *s);

/* -ls [-R] PATH..., -stat [FORMAT] PATH...: argv holds the command's own arguments. Return
 * CLI_USAGE for bad arguments; otherwise the work is reported through fs->status. */
int cli_fs_ls(cli_fs_t *fs, int argc, char **argv);
int cli_fs_stat(cli_fs_t *fs, int argc, char **argv);

/* -chmod [-R] MODE PATH..., -chown [-R] OWNER[:GROUP] PATH..., -chgrp [-R] GROUP PATH...,
 * -touch [-a] [-m] [-t TIMESTAMP] [-c] PATH...: the same contract (cli_fs_attr.c). */
int cli_fs_chmod(cli_fs_t *fs, int argc, char **argv);
int cli_fs_chown(cli_fs_t *fs, int argc, char **argv);
int cli_fs_chgrp(cli_fs_t *fs, int argc, char **argv);
int cli_fs_touch(cli_fs_t *fs, int argc, char **argv);

/* dir + "/" + name, without doubling a '/'. Returns a malloc'd string (caller frees) or NULL
 * when memory runs out. */
char *cli_fs_join(const char *dir, const char *name);

/* One page of a listing, for cli_fs_each_page: res->stat is path itself (a directory, or the
 * file when path is one), res->entries the page. Returns true to go on to the next page. */
typedef bool (*cli_fs_page_fn)(cli_fs_t *fs, const char *path, const rv_client_result_t *res,
                               bool first, void *arg);

/* Lists path a page at a time, in name order, calling fn for each page: what -ls and the -R
 * walks of -chmod/-chown/-chgrp share. A failed request is reported (as cmd) and ends it. */
void cli_fs_each_page(cli_fs_t *fs, const char *cmd, const char *path, cli_fs_page_fn fn,
                      void *arg);

#endif
