/* raftvisor fs -chmod, -chown, -chgrp and -touch: attribute changes, as `hadoop fs` spells them,
 * one setattr command (one Raft entry, atomic) per entry changed.
 *
 * -R walks the subtree from the client, depth first, one ls page at a time, as Hadoop's shell
 * does: each entry's change is atomic, the walk is not. Entries created under a directory while
 * it is walked may be missed, entries removed meanwhile are reported and skipped, and a failure
 * midway leaves the entries before it changed (run it again: the result is the same). An entry
 * whose attributes already are what the command asks for is not written (Hadoop skips them
 * too), so a repeated -R costs reads only. Symbolic modes (u+x) start from the bits the stat or
 * the listing returned, so a concurrent chmod of the same entry can be overwritten.
 * Argument parsing is cli_fs_mode.c. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_fs.h"
#include "cli_fs_mode.h"

/* One change, applied to each path given (and with -R to everything below it). */
typedef struct {
  const char *cmd;          /* "chmod", "chown", "chgrp": HDFS' name, for messages */
  rv_client_attrs_t attrs;  /* the fields to set (chmod: perm is computed per entry) */
  const cli_fs_mode_t *mode; /* chmod, else NULL */
} s_change_t;

static void s_json_done(const char *cmd, const char *path, bool changed,
                        const rv_client_result_t *res) {
  printf("{\"op\":");
  cli_fs_json_str(cmd);
  printf(",\"path\":");
  cli_fs_json_str(path);
  printf(",\"ok\":true,\"changed\":%s,\"index\":%" PRIu64 "}\n", changed ? "true" : "false",
         res ? res->index : 0);
}

/* Applies ch to path, whose attributes were st: skipped when nothing would change. */
static void s_set(cli_fs_t *fs, const s_change_t *ch, const char *path,
                  const rv_client_stat_t *st) {
  rv_client_attrs_t a = ch->attrs;
  if (ch->mode) a.perm = cli_fs_mode_apply(ch->mode, st->perm, st->dir);
  bool same = (!(a.set & RV_CLIENT_SET_PERM) || a.perm == st->perm) &&
              (!(a.set & RV_CLIENT_SET_OWNER) || strcmp(a.owner, st->owner) == 0) &&
              (!(a.set & RV_CLIENT_SET_GROUP) || strcmp(a.group, st->group) == 0);
  if (same) {
    if (fs->json) s_json_done(ch->cmd, path, false, NULL);
    return;
  }
  rv_client_result_t res;
  if (rv_client_setattr(fs->client, path, &a, &res) != RV_OK) {
    cli_fs_fail(fs, ch->cmd, path, &res);
  } else if (fs->json) {
    s_json_done(ch->cmd, path, true, &res);
  }
  rv_client_result_clear(&res);
}

static void s_walk(cli_fs_t *fs, const s_change_t *ch, const char *path);

static bool s_walk_page(cli_fs_t *fs, const char *path, const rv_client_result_t *res,
                        bool first, void *arg) {
  const s_change_t *ch = arg;
  if (!res->stat.dir) return false; /* replaced by a file since it was listed: changed already */
  for (size_t i = 0; i < res->nentries; i++) {
    char *child = cli_fs_join(path, res->entries[i].name);
    if (!child) {
      rv_client_result_t oom = {.code = RV_ENOMEM};
      snprintf(oom.msg, sizeof oom.msg, "%s: out of memory", ch->cmd);
      cli_fs_fail(fs, ch->cmd, path, &oom);
      break;
    }
    s_set(fs, ch, child, &res->entries[i]);
    if (res->entries[i].dir) s_walk(fs, ch, child);
    free(child);
  }
  return true;
}

/* Applies ch to everything below the directory path, depth first, a page at a time (a path
 * removed meanwhile is reported and the walk goes on). */
static void s_walk(cli_fs_t *fs, const s_change_t *ch, const char *path) {
  cli_fs_each_page(fs, ch->cmd, path, s_walk_page, (void *)ch);
}

/* ch on each of paths[0..n), and with recursive on their subtrees. */
static int s_change(cli_fs_t *fs, const s_change_t *ch, bool recursive, int n, char **paths) {
  for (int i = 0; i < n; i++) {
    rv_client_result_t st;
    if (rv_client_stat(fs->client, paths[i], fs->read_flags, &st) != RV_OK) {
      cli_fs_fail(fs, ch->cmd, paths[i], &st);
    } else {
      s_set(fs, ch, paths[i], &st.stat);
      if (recursive && st.stat.dir) s_walk(fs, ch, paths[i]);
    }
    rv_client_result_clear(&st);
  }
  return CLI_OK;
}

/* Takes -R (the only option of chmod, chown and chgrp) from argv; returns the index of the
 * first other argument, or -1 after a usage error. An argument that starts with '-' but is a
 * valid chmod mode ("-w", "-x,o+r") is the mode, not an option. */
static int s_opt_r(const char *cmd, int argc, char **argv, bool *recursive) {
  int i = 0;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    cli_fs_mode_t m;
    char why[256];
    if (strcmp(argv[i], "-R") == 0)
      *recursive = true;
    else if (strcmp(cmd, "chmod") == 0 && cli_fs_mode_parse(argv[i], &m, why, sizeof why) == 0)
      break;
    else {
      cli_usage_error("fs", "-%s: unknown option \"%s\" (it takes -R)", cmd, argv[i]);
      return -1;
    }
  }
  return i;
}

int cli_fs_chmod(cli_fs_t *fs, int argc, char **argv) {
  bool recursive = false;
  int i = s_opt_r("chmod", argc, argv, &recursive);
  if (i < 0) return CLI_USAGE;
  if (argc - i < 2) return cli_usage_error("fs", "-chmod: needs MODE PATH...");
  cli_fs_mode_t mode;
  char why[512];
  if (cli_fs_mode_parse(argv[i], &mode, why, sizeof why))
    return cli_usage_error("fs", "-chmod: %s", why);
  s_change_t ch = {.cmd = "chmod", .attrs = {.set = RV_CLIENT_SET_PERM}, .mode = &mode};
  return s_change(fs, &ch, recursive, argc - i - 1, argv + i + 1);
}

int cli_fs_chown(cli_fs_t *fs, int argc, char **argv) {
  bool recursive = false;
  int i = s_opt_r("chown", argc, argv, &recursive);
  if (i < 0) return CLI_USAGE;
  if (argc - i < 2) return cli_usage_error("fs", "-chown: needs OWNER[:GROUP] PATH...");
  char owner[CLI_FS_NAME_MAX + 1], group[CLI_FS_NAME_MAX + 1], why[512];
  if (cli_fs_owner_parse(argv[i], owner, group, why, sizeof why))
    return cli_usage_error("fs", "-chown: %s", why);
  s_change_t ch = {.cmd = "chown"};
  ch.attrs.set = (owner[0] ? RV_CLIENT_SET_OWNER : 0u) | (group[0] ? RV_CLIENT_SET_GROUP : 0u);
  ch.attrs.owner = owner;
  ch.attrs.group = group;
  return s_change(fs, &ch, recursive, argc - i - 1, argv + i + 1);
}

int cli_fs_chgrp(cli_fs_t *fs, int argc, char **argv) {
  bool recursive = false;
  int i = s_opt_r("chgrp", argc, argv, &recursive);
  if (i < 0) return CLI_USAGE;
  if (argc - i < 2) return cli_usage_error("fs", "-chgrp: needs GROUP PATH...");
  char why[512];
  if (cli_fs_group_check(argv[i], why, sizeof why))
    return cli_usage_error("fs", "-chgrp: %s", why);
  s_change_t ch = {.cmd = "chgrp", .attrs = {.set = RV_CLIENT_SET_GROUP, .group = argv[i]}};
  return s_change(fs, &ch, recursive, argc - i - 1, argv + i + 1);
}

/* -touch [-a] [-m] [-t yyyyMMdd:HHmmss] [-c] PATH...: Hadoop 3's touch. An existing entry (file
 * or directory) gets its access and/or modification time set (both without -a / -m): to the
 * timestamp, else to the leader's clock (the clock every create stamps). A missing file is made
 * empty (as -touchz; its times then are the leader's, or the timestamp when one is given),
 * unless -c: then a missing path is skipped without an error. */
int cli_fs_touch(cli_fs_t *fs, int argc, char **argv) {
  bool atime = false, mtime = false, no_create = false;
  const char *stamp = NULL;
  int i = 0;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    if (strcmp(argv[i], "-a") == 0) atime = true;
    else if (strcmp(argv[i], "-m") == 0) mtime = true;
    else if (strcmp(argv[i], "-c") == 0) no_create = true;
    else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) stamp = argv[++i];
    else if (strcmp(argv[i], "-t") == 0)
      return cli_usage_error("fs", "-touch: -t needs a TIMESTAMP (yyyyMMdd:HHmmss)");
    else
      return cli_usage_error("fs", "-touch: unknown option \"%s\" (it takes -a, -m, -t, -c)",
                             argv[i]);
  }
  if (i == argc) return cli_usage_error("fs", "-touch: no PATH given");
  rv_client_attrs_t a = {.set = (atime ? RV_CLIENT_SET_ATIME : 0u) |
                                (mtime ? RV_CLIENT_SET_MTIME : 0u)};
  if (!a.set) a.set = RV_CLIENT_SET_ATIME | RV_CLIENT_SET_MTIME;
  if (stamp) {
    char why[256];
    int64_t ms;
    if (cli_fs_timestamp_parse(stamp, &ms, why, sizeof why))
      return cli_usage_error("fs", "-touch: %s", why);
    a.mtime_ms = a.atime_ms = ms;
  } else {
    a.times_now = true;
  }
  for (; i < argc; i++) {
    rv_client_result_t res;
    int rc = rv_client_setattr(fs->client, argv[i], &a, &res);
    bool created = false;
    if (rc == RV_ENOTFOUND && no_create) {
      rv_client_result_clear(&res);
      continue;
    }
    if (rc == RV_ENOTFOUND) { /* make it; a missing parent fails here, with HDFS' message */
      rv_client_result_clear(&res);
      rc = rv_client_touchz(fs->client, argv[i], &res);
      created = rc == RV_OK;
      if (created && stamp) { /* as Hadoop: a new file takes the timestamp only when given */
        rv_client_result_clear(&res);
        rc = rv_client_setattr(fs->client, argv[i], &a, &res);
      }
    }
    if (rc != RV_OK) {
      cli_fs_fail(fs, "touch", argv[i], &res);
    } else if (fs->json) {
      printf("{\"op\":\"touch\",\"path\":");
      cli_fs_json_str(argv[i]);
      printf(",\"ok\":true,\"created\":%s,\"index\":%" PRIu64 "}\n", created ? "true" : "false",
             res.index);
    }
    rv_client_result_clear(&res);
  }
  return CLI_OK;
}
