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

/* Applies ch to path (shown so) on c, whose attributes were st: skipped when nothing would
 * change. */
static void s_set(cli_fs_t *fs, rv_client_t *c, const s_change_t *ch, const char *path,
                  const char *shown, const rv_client_stat_t *st) {
  rv_client_attrs_t a = ch->attrs;
  if (ch->mode) a.perm = cli_fs_mode_apply(ch->mode, st->perm, st->dir);
  bool same = (!(a.set & RV_CLIENT_SET_PERM) || a.perm == st->perm) &&
              (!(a.set & RV_CLIENT_SET_OWNER) || strcmp(a.owner, st->owner) == 0) &&
              (!(a.set & RV_CLIENT_SET_GROUP) || strcmp(a.group, st->group) == 0);
  if (same) {
    if (fs->json) s_json_done(ch->cmd, shown, false, NULL);
    return;
  }
  rv_client_result_t res;
  if (rv_client_setattr(c, path, &a, &res) != RV_OK) {
    if (res.code == RV_EPERM) { /* FsShell: "chown: changing ownership of '/f': <why>" */
      char why[sizeof res.msg];
      snprintf(why, sizeof why, "%s", res.msg);
      snprintf(res.msg, sizeof res.msg, "changing %s of '%.200s': %.400s",
               a.set & RV_CLIENT_SET_PERM ? "permissions" : "ownership", shown, why);
    }
    cli_fs_fail(fs, ch->cmd, shown, &res);
  } else if (fs->json) {
    s_json_done(ch->cmd, shown, true, &res);
  }
  rv_client_result_clear(&res);
}

typedef struct {
  const s_change_t *ch;
  rv_client_t *c;
} s_walk_t;

static void s_walk(cli_fs_t *fs, const s_walk_t *w, const char *path, const char *shown);

static bool s_walk_page(cli_fs_t *fs, const char *path, const char *shown,
                        const rv_client_result_t *res, bool first, void *arg) {
  (void)first;
  const s_walk_t *w = arg;
  if (!res->stat.dir) return false; /* replaced by a file since it was listed: changed already */
  for (size_t i = 0; i < res->nentries; i++) {
    char *child = cli_fs_join(path, res->entries[i].name);
    char *cshown = cli_fs_show_child(shown, res->entries[i].name);
    if (!child || !cshown) {
      free(child);
      free(cshown);
      cli_fs_error(fs, w->ch->cmd, "`%s': out of memory", shown);
      break;
    }
    s_set(fs, w->c, w->ch, child, cshown, &res->entries[i]);
    if (res->entries[i].dir) s_walk(fs, w, child, cshown);
    free(child);
    free(cshown);
  }
  return true;
}

/* Applies ch to everything below the directory path, depth first, a page at a time (a path
 * removed meanwhile is reported and the walk goes on). */
static void s_walk(cli_fs_t *fs, const s_walk_t *w, const char *path, const char *shown) {
  cli_fs_each_page(fs, w->c, w->ch->cmd, path, shown, s_walk_page, (void *)w);
}

/* ch on each of paths[0..n) (globs expanded), and with recursive on their subtrees. */
static int s_change(cli_fs_t *fs, const s_change_t *ch, bool recursive, int n, char **paths) {
  for (int i = 0; i < n; i++) {
    cli_fs_items_t items = {0};
    cli_fs_expand(fs, ch->cmd, paths[i], &items);
    for (size_t k = 0; k < items.n; k++) {
      cli_fs_item_t *it = &items.v[k];
      if (!it->exists) {
        cli_fs_missing(fs, ch->cmd, it->shown);
        continue;
      }
      s_set(fs, it->client, ch, it->path, it->shown, &it->st);
      s_walk_t w = {.ch = ch, .c = it->client};
      if (recursive && it->st.dir) s_walk(fs, &w, it->path, it->shown);
    }
    cli_fs_items_clear(&items);
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
      cli_fs_usage_error(cmd, "Illegal option -- %s", argv[i] + 1);
      return -1;
    }
  }
  return i;
}

int cli_fs_chmod(cli_fs_t *fs, int argc, char **argv) {
  bool recursive = false;
  int i = s_opt_r("chmod", argc, argv, &recursive);
  if (i < 0) return CLI_USAGE;
  if (argc - i < 2)
    return cli_fs_usage_error("chmod", "Not enough arguments: expected 2 but got %d", argc - i);
  cli_fs_mode_t mode;
  char why[512];
  if (cli_fs_mode_parse(argv[i], &mode, why, sizeof why)) /* Hadoop's words, exactly */
    return cli_fs_usage_why(why, cli_fs_usage_error("chmod", "chmod : mode '%s' does not match "
                                                    "the expected pattern.", argv[i]));
  s_change_t ch = {.cmd = "chmod", .attrs = {.set = RV_CLIENT_SET_PERM}, .mode = &mode};
  return s_change(fs, &ch, recursive, argc - i - 1, argv + i + 1);
}

int cli_fs_chown(cli_fs_t *fs, int argc, char **argv) {
  bool recursive = false;
  int i = s_opt_r("chown", argc, argv, &recursive);
  if (i < 0) return CLI_USAGE;
  if (argc - i < 2)
    return cli_fs_usage_error("chown", "Not enough arguments: expected 2 but got %d", argc - i);
  char owner[CLI_FS_NAME_MAX + 1], group[CLI_FS_NAME_MAX + 1], why[512];
  if (cli_fs_owner_parse(argv[i], owner, group, why, sizeof why))
    return cli_fs_usage_why(why, cli_fs_usage_error("chown", "'%s' does not match expected "
                                                    "pattern for [owner][:group].", argv[i]));
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
  if (argc - i < 2)
    return cli_fs_usage_error("chgrp", "Not enough arguments: expected 2 but got %d", argc - i);
  char why[512];
  if (cli_fs_group_check(argv[i], why, sizeof why))
    return cli_fs_usage_why(why, cli_fs_usage_error("chgrp", "'%s' does not match expected "
                                                    "pattern for group", argv[i]));
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
      return cli_fs_usage_error("touch", "-t needs a TIMESTAMP (yyyyMMdd:HHmmss)");
    else
      return cli_fs_usage_error("touch", "Illegal option -- %s", argv[i] + 1);
  }
  if (i == argc) return cli_fs_usage_error("touch", "Not enough arguments: expected 1 but got 0");
  rv_client_attrs_t a = {.set = (atime ? RV_CLIENT_SET_ATIME : 0u) |
                                (mtime ? RV_CLIENT_SET_MTIME : 0u)};
  if (!a.set) a.set = RV_CLIENT_SET_ATIME | RV_CLIENT_SET_MTIME;
  if (stamp) {
    char why[256];
    int64_t ms;
    if (cli_fs_timestamp_parse(stamp, &ms, why, sizeof why))
      return cli_fs_usage_error("touch", "%s", why);
    a.mtime_ms = a.atime_ms = ms;
  } else {
    a.times_now = true;
  }
  for (; i < argc; i++) {
    cli_fs_item_t it;
    if (cli_fs_resolve(fs, "touch", argv[i], &it)) continue;
    rv_client_result_t res;
    int rc = rv_client_setattr(it.client, it.path, &a, &res);
    bool created = false;
    if (rc == RV_ENOTFOUND && no_create) {
      rv_client_result_clear(&res);
      cli_fs_item_close(&it);
      continue;
    }
    if (rc == RV_ENOTFOUND) { /* make it; a missing parent fails here, with HDFS' message */
      rv_client_result_clear(&res);
      rc = rv_client_touchz(it.client, it.path, &res);
      created = rc == RV_OK;
      if (created && stamp) { /* as Hadoop: a new file takes the timestamp only when given */
        rv_client_result_clear(&res);
        rc = rv_client_setattr(it.client, it.path, &a, &res);
      }
    }
    if (rc != RV_OK) {
      cli_fs_fail(fs, "touch", it.shown, &res);
    } else if (fs->json) {
      printf("{\"op\":\"touch\",\"path\":");
      cli_fs_json_str(it.shown);
      printf(",\"ok\":true,\"created\":%s,\"index\":%" PRIu64 "}\n", created ? "true" : "false",
             res.index);
    }
    rv_client_result_clear(&res);
    cli_fs_item_close(&it);
  }
  return CLI_OK;
}
