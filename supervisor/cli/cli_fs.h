/* cli_fs: what the files of `raftvisor fs` share: cli_fs.c (options, dispatch, the writes,
 * rm and rmdir, cat, count, digest, exit codes), cli_fs_glob.c (arguments: URIs, relative
 * paths, globs, which cluster), cli_fs_path.c (the pure path forms), cli_fs_list.c (ls and
 * stat, with HDFS' formats), cli_fs_attr.c (chmod, chown, chgrp, touch; their argument parsers
 * are cli_fs_mode.c), cli_fs_copy.c (cp, get, put and their kin, getmerge, appendToFile,
 * truncate), cli_fs_usage.c (du, df, count, test, find, checksum) and cli_fs_misc.c (tail,
 * head, text, expunge, help and usage). */
#ifndef CLI_FS_H
#define CLI_FS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli_fs_path.h"
#include "cli_auth.h"
#include "rv_client.h"

#define CLI_FS_OTHER_MAX 4 /* other clusters (named by URIs) one command may reach */

typedef struct {
  rv_client_t *client; /* the configured cluster's (-c or --nodes), made when first needed */
  rv_client_opts_t opts;
  cli_auth_t auth;     /* the CURVE keys opts borrows */
  char nodes[2048];    /* its node list, "" when neither -c nor --nodes was given */
  char cluster[64];    /* its cluster id (from -c), "" when unknown */
  char principal[RV_CLIENT_OWNER_MAX + 1]; /* who runs the command (cli_fs_principal) */
  char cwd[CLI_FS_PATH_MAX];               /* the working directory: the home directory */
  struct {
    char authority[CLI_FS_AUTH_MAX];
    rv_client_t *client;
  } other[CLI_FS_OTHER_MAX]; /* clusters named by a URI's HOST:PORT authority */
  int nother;
  bool quiet_missing; /* cli_fs_expand: a glob matching nothing is not reported (rm -f, test) */
  bool json;          /* one JSON object per line instead of HDFS' text */
  unsigned read_flags; /* RV_CLIENT_STALE or 0 */
  int status;         /* the exit code so far: CLI_OK, CLI_FAILURE, CLI_NOT_RUNNING */
} cli_fs_t;

/* One argument as a command works on it (cli_fs_glob.c). */
typedef struct {
  char *shown;          /* as Hadoop shows it: as typed, or a glob match in the pattern's form */
  char *path;           /* absolute: what the server is sent */
  rv_client_t *client;  /* the cluster it is on (borrowed from cli_fs_t) */
  bool exists;          /* expand: it was found (st holds its attributes) */
  rv_client_stat_t st;
} cli_fs_item_t;

typedef struct {
  cli_fs_item_t *v; /* owned */
  size_t n, cap;
} cli_fs_items_t;

/* The principal this command runs as, as librvclient asserts it (HADOOP_USER_NAME, else the
 * login name): what an insecure cluster believes; a secure one decides from the connection's
 * credentials (CURVE), and this stays the CLI's guess for home directories and -test -r/-w.
 * Writes out[0..cap). */
void cli_fs_principal(char *out, size_t cap);

/* The client of the cluster u names (its authority: none, the cluster id or one of its
 * nodes = the configured cluster; another HOST:PORT = that node's cluster). Reports a failure
 * (as cmd, about shown) and returns CLI_FAILURE; else CLI_OK and *out (borrowed). */
int cli_fs_client(cli_fs_t *fs, const char *cmd, const char *shown, const cli_fs_uri_t *u,
                  rv_client_t **out);

/* Resolves arg as a path to create or to name (no glob expansion; escapes removed): fills *it
 * (exists unknown). Reports a failure and returns CLI_FAILURE; else CLI_OK. Free with
 * cli_fs_item_close. */
int cli_fs_resolve(cli_fs_t *fs, const char *cmd, const char *arg, cli_fs_item_t *it);
void cli_fs_item_close(cli_fs_item_t *it);

/* Expands arg, as Hadoop's commands do, appending to out: a glob into its matches (none:
 * "`arg': No such file or directory", reported), a plain path into one item, stat'ed (exists
 * false when it is missing: not reported, the command decides). Returns CLI_OK, or
 * CLI_FAILURE after reporting. */
int cli_fs_expand(cli_fs_t *fs, const char *cmd, const char *arg, cli_fs_items_t *out);
void cli_fs_items_clear(cli_fs_items_t *items);

/* As cli_fs_expand without the glob: arg is one path, '*' and all (Hadoop's -tail, whose
 * Tail.expandArgument takes its argument as a PathData, never globbed). */
int cli_fs_expand_literal(cli_fs_t *fs, const char *cmd, const char *arg, cli_fs_items_t *out);

/* Reports an error as Hadoop does ("cmd: message" on stderr; with --json a JSON line) and
 * sets fs->status to CLI_FAILURE (unless worse). */
void cli_fs_error(cli_fs_t *fs, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Hadoop's usage error: "-cmd: message" and "Usage: hadoop fs [generic options] -cmd ARGS" on
 * stderr; returns CLI_USAGE. */
int cli_fs_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints our own detail of a usage error ("  why") after Hadoop's lines; returns rc. */
int cli_fs_usage_why(const char *why, int rc);

/* The one-line usage of -cmd ("-ls [-C] [-d] ... [<path> ...]"), or NULL for an unknown one. */
const char *cli_fs_usage_of(const char *cmd);

/* Reports "cmd: `shown': No such file or directory" (Hadoop's PathNotFoundException). */
void cli_fs_missing(cli_fs_t *fs, const char *cmd, const char *shown);

/* Reports a failed operation on path (cmd is the HDFS command name, "mkdir"): HDFS' message on
 * stderr ("mkdir: `/a': File exists") or a JSON line on stdout; updates fs->status (a cluster
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

/* The other commands, each with the same contract (argv: the command's own arguments). */
int cli_fs_cp(cli_fs_t *fs, int argc, char **argv);            /* cli_fs_copy.c */
int cli_fs_get(cli_fs_t *fs, int argc, char **argv);
int cli_fs_move_to_local(cli_fs_t *fs, int argc, char **argv);
int cli_fs_put(cli_fs_t *fs, int argc, char **argv);
int cli_fs_copy_from_local(cli_fs_t *fs, int argc, char **argv);
int cli_fs_copy_to_local(cli_fs_t *fs, int argc, char **argv);
int cli_fs_move_from_local(cli_fs_t *fs, int argc, char **argv);
int cli_fs_getmerge(cli_fs_t *fs, int argc, char **argv);
int cli_fs_append(cli_fs_t *fs, int argc, char **argv);        /* -appendToFile */
int cli_fs_truncate(cli_fs_t *fs, int argc, char **argv);
int cli_fs_concat(cli_fs_t *fs, int argc, char **argv);        /* -concat (HDFS dfs) */
int cli_fs_setfattr(cli_fs_t *fs, int argc, char **argv);      /* cli_fs_xattr.c */
int cli_fs_getfattr(cli_fs_t *fs, int argc, char **argv);
int cli_fs_du(cli_fs_t *fs, int argc, char **argv);            /* cli_fs_usage.c */
int cli_fs_df(cli_fs_t *fs, int argc, char **argv);
int cli_fs_count(cli_fs_t *fs, int argc, char **argv);
int cli_fs_test(cli_fs_t *fs, int argc, char **argv);
int cli_fs_find(cli_fs_t *fs, int argc, char **argv);
int cli_fs_checksum(cli_fs_t *fs, int argc, char **argv);
int cli_fs_tail(cli_fs_t *fs, int argc, char **argv);          /* cli_fs_misc.c */
int cli_fs_head(cli_fs_t *fs, int argc, char **argv);
int cli_fs_text(cli_fs_t *fs, int argc, char **argv);
int cli_fs_expunge(cli_fs_t *fs, int argc, char **argv);

/* The destination of a copy or move (Hadoop's CommandWithDestination): resolved into *dst
 * (caller closes it) and stat'ed (*dst_dir); several sources need an existing directory, a
 * missing destination needs its parent ("`d': No such file or directory: `hdfs://c/d'").
 * Reports a refusal and returns -1; else 0. */
int cli_fs_dst(cli_fs_t *fs, const char *cmd, const char *arg, size_t nsrc, cli_fs_item_t *dst,
               bool *dst_dir);

/* -cat and -text: prints the files args name (cmd names the command in messages). */
int cli_fs_cat_as(cli_fs_t *fs, const char *cmd, int argc, char **argv);

/* The absolute URI Hadoop appends to some messages ("hdfs://CLUSTER/p"), of it, into out. */
void cli_fs_qualified(const cli_fs_t *fs, const char *path, char *out, size_t cap);

/* Reads all of f (at most RV_CLIENT_DATA_MAX bytes) into *out (malloc'd, caller frees).
 * Returns 0, EFBIG, or an errno. */
int cli_fs_slurp(FILE *f, char **out, size_t *len);

/* A command's options, as Hadoop's CommandFormat takes them: whole words ("-R", "-skipTrash"),
 * before the first other argument ("-" alone is an argument; "--" ends the options). */
typedef struct {
  const char *words; /* the accepted words, space-separated, without the '-': "R d h" */
  unsigned set;      /* bit k: the k-th word was given */
} cli_fs_opts_t;

/* Parses argv's options into o->set; returns the index of the first other argument, or -1
 * after a usage error ("-cmd: Illegal option -- x"). */
int cli_fs_flags(const char *cmd, int argc, char **argv, cli_fs_opts_t *o);

/* Was the option word given? */
bool cli_fs_has(const cli_fs_opts_t *o, const char *word);

/* dir + "/" + name, without doubling a '/'. Returns a malloc'd string (caller frees) or NULL
 * when memory runs out. */
char *cli_fs_join(const char *dir, const char *name);

/* One page of a listing, for cli_fs_each_page: res->stat is path itself (a directory, or the
 * file when path is one), res->entries the page. Returns true to go on to the next page. */
typedef bool (*cli_fs_page_fn)(cli_fs_t *fs, const char *path, const char *shown,
                               const rv_client_result_t *res, bool first, void *arg);

/* Lists path (shown so) on client c a page at a time, in name order, calling fn for each page:
 * what the -R walks of -chmod/-chown/-chgrp use. A failed request is reported (as cmd about
 * shown) and ends it. */
void cli_fs_each_page(cli_fs_t *fs, rv_client_t *c, const char *cmd, const char *path,
                      const char *shown, cli_fs_page_fn fn, void *arg);

/* Hadoop's human-readable size (TraditionalBinaryPrefix.long2String(n, "", 1)): "1023",
 * "1 K", "1.5 M", into out[0..cap). */
void cli_fs_human(uint64_t n, char *out, size_t cap);

/* CRC-32C (Castagnoli) of p[0..n): -checksum's algorithm. */
uint32_t cli_fs_crc32c(const uint8_t *p, size_t n);

#endif
