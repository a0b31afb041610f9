/* raftvisor fs: the commands that measure and ask: -du, -df, -count (Hadoop's FsUsage and
 * Count), -test, -find, -checksum. Sizes come from the totals each directory keeps of its
 * subtree (one read per path, whatever its size); -du without -s lists one level, a page at a
 * time. I/O over librvclient. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_fs.h"
#include "kv_glob.h"

static void s_size(uint64_t n, bool human, char *out, size_t cap) {
  if (human) cli_fs_human(n, out, cap);
  else snprintf(out, cap, "%" PRIu64, n);
}

/* ---- du ------------------------------------------------------------------------------------ */

/* Hadoop's TableBuilder: rows kept until the end, columns as wide as their widest cell,
 * separated by two spaces, left-aligned, the last unpadded. */
typedef struct {
  char (*cells)[3][64];
  char **paths;
  size_t n, cap;
  int w[2];
} s_table_t;

static void s_row(s_table_t *t, const char *a, const char *b, const char *path) {
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    void *c = realloc(t->cells, cap * sizeof *t->cells);
    if (c) t->cells = c;
    char **p = realloc(t->paths, cap * sizeof *p);
    if (p) t->paths = p;
    if (!c || !p) return;
    t->cap = cap;
  }
  snprintf(t->cells[t->n][0], 64, "%s", a);
  snprintf(t->cells[t->n][1], 64, "%s", b);
  t->paths[t->n] = strdup(path);
  for (int k = 0; k < 2; k++)
    if ((int)strlen(t->cells[t->n][k]) > t->w[k]) t->w[k] = (int)strlen(t->cells[t->n][k]);
  t->n++;
}

static void s_table_print(s_table_t *t, size_t header_rows) {
  if (t->n > header_rows)
    for (size_t i = 0; i < t->n; i++)
      printf("%-*s  %-*s  %s\n", t->w[0], t->cells[i][0], t->w[1], t->cells[i][1],
             t->paths[i] ? t->paths[i] : "");
  for (size_t i = 0; i < t->n; i++) free(t->paths[i]);
  free(t->paths);
  free(t->cells);
}

static void s_du_row(cli_fs_t *fs, s_table_t *t, bool human, const char *shown, uint64_t bytes,
                     unsigned replicas) {
  char a[64], b[64];
  s_size(bytes, human, a, sizeof a);
  s_size(bytes * (replicas ? replicas : 1), human, b, sizeof b);
  if (fs->json) {
    printf("{\"op\":\"du\",\"path\":");
    cli_fs_json_str(shown);
    printf(",\"ok\":true,\"size\":%" PRIu64 ",\"consumed\":%" PRIu64 "}\n", bytes,
           bytes * (replicas ? replicas : 1));
  } else {
    s_row(t, a, b, shown);
  }
}

/* -du [-s] [-h] [-v] [-x] PATH...: size and space consumed on all replicas (every master holds
 * every content) per path; a directory without -s: each entry directly in it. */
int cli_fs_du(cli_fs_t *fs, int argc, char **argv) {
  cli_fs_opts_t o = {.words = "s h v x"};
  int i = cli_fs_flags("du", argc, argv, &o);
  if (i < 0) return CLI_USAGE;
  bool summary = cli_fs_has(&o, "s"), human = cli_fs_has(&o, "h");
  s_table_t t = {0};
  size_t header = 0;
  if (cli_fs_has(&o, "v") && !fs->json) {
    s_row(&t, "SIZE", "DISK_SPACE_CONSUMED_WITH_ALL_REPLICAS", "FULL_PATH_NAME");
    header = 1;
  }
  char *dot[] = {"."};
  char **args = i == argc ? dot : argv + i;
  int nargs = i == argc ? 1 : argc - i;
  for (int k = 0; k < nargs; k++) {
    cli_fs_items_t items = {0};
    cli_fs_expand(fs, "du", args[k], &items);
    for (size_t n = 0; n < items.n; n++) {
      cli_fs_item_t *it = &items.v[n];
      if (!it->exists) {
        cli_fs_missing(fs, "du", it->shown);
        continue;
      }
      rv_client_result_t res;
      if (summary || !it->st.dir) {
        if (rv_client_count(it->client, it->path, fs->read_flags, &res) != RV_OK)
          cli_fs_fail(fs, "du", it->shown, &res);
        else s_du_row(fs, &t, human, it->shown, res.bytes, res.replicas);
        rv_client_result_clear(&res);
        continue;
      }
      char *after = NULL;
      for (;;) {
        if (rv_client_ls(it->client, it->path, after, 0, fs->read_flags, &res) != RV_OK) {
          cli_fs_fail(fs, "du", it->shown, &res);
          rv_client_result_clear(&res);
          break;
        }
        for (size_t e = 0; e < res.nentries; e++) {
          char *s = cli_fs_show_child(it->shown, res.entries[e].name);
          if (s) s_du_row(fs, &t, human, s, res.entries[e].dir ? res.entries[e].bytes
                                                              : res.entries[e].size,
                          res.replicas);
          free(s);
        }
        bool more = res.more && res.nentries;
        free(after);
        after = more ? strdup(res.entries[res.nentries - 1].name) : NULL;
        rv_client_result_clear(&res);
        if (!after) break;
      }
      free(after);
    }
    cli_fs_items_clear(&items);
  }
  s_table_print(&t, header);
  return CLI_OK;
}

/* -df [-h] [PATH...]: the namespace's size as the cluster holds it. The nodes' disks are their
 * own (each master has its data-dir): the client knows no capacity, so Size, Available and
 * Use% print "-". */
int cli_fs_df(cli_fs_t *fs, int argc, char **argv) {
  cli_fs_opts_t o = {.words = "h"};
  int i = cli_fs_flags("df", argc, argv, &o);
  if (i < 0) return CLI_USAGE;
  char *root[] = {"/"};
  char **args = i == argc ? root : argv + i;
  int nargs = i == argc ? 1 : argc - i;
  bool header = false;
  for (int k = 0; k < nargs; k++) {
    cli_fs_items_t items = {0};
    cli_fs_expand(fs, "df", args[k], &items);
    for (size_t n = 0; n < items.n; n++) {
      cli_fs_item_t *it = &items.v[n];
      if (!it->exists) {
        cli_fs_missing(fs, "df", it->shown);
        continue;
      }
      rv_client_result_t res;
      if (rv_client_count(it->client, "/", fs->read_flags, &res) != RV_OK) {
        cli_fs_fail(fs, "df", it->shown, &res);
      } else {
        char used[64], q[CLI_FS_PATH_MAX + CLI_FS_AUTH_MAX + 16];
        s_size(res.bytes * (res.replicas ? res.replicas : 1), cli_fs_has(&o, "h"), used,
               sizeof used);
        cli_fs_qualified(fs, "", q, sizeof q);
        if (!header) printf("%-*s  %4s  %*s  %9s  %4s\n", (int)strlen(q), "Filesystem", "Size",
                            (int)(strlen(used) > 4 ? strlen(used) : 4), "Used", "Available",
                            "Use%");
        header = true;
        printf("%-*s  %4s  %*s  %9s  %4s\n", (int)strlen("Filesystem") > (int)strlen(q) ?
               (int)strlen("Filesystem") : (int)strlen(q), q, "-",
               (int)(strlen(used) > 4 ? strlen(used) : 4), used, "-", "-");
      }
      rv_client_result_clear(&res);
    }
    cli_fs_items_clear(&items);
  }
  return CLI_OK;
}

/* ---- count --------------------------------------------------------------------------------- */

/* -count [-q] [-h] [-v] [-t [TYPE]] [-u] [-x] [-e] [-s] PATH...: Hadoop's ContentSummary columns
 * ("%12s %12s %18s " then the path); -q and -u add the quota columns, always "none inf" here
 * (there are no quotas). -t, -e and -s are refused (no storage types, erasure coding or
 * snapshots). */
int cli_fs_count(cli_fs_t *fs, int argc, char **argv) {
  cli_fs_opts_t o = {.words = "q h v u x t e s"};
  int i = cli_fs_flags("count", argc, argv, &o);
  if (i < 0) return CLI_USAGE;
  if (cli_fs_has(&o, "t") || cli_fs_has(&o, "e") || cli_fs_has(&o, "s"))
    return cli_fs_usage_error("count", "-t, -e and -s are not supported: no storage types, "
                              "erasure coding or snapshots");
  bool human = cli_fs_has(&o, "h"), quota = cli_fs_has(&o, "q"), uq = cli_fs_has(&o, "u");
  if (i == argc) return cli_fs_usage_error("count", "Not enough arguments: expected 1 but got 0");
  if (cli_fs_has(&o, "v") && !fs->json) {
    if (quota || uq)
      printf("%12s %15s %15s %15s ", "QUOTA", "REM_QUOTA", "SPACE_QUOTA", "REM_SPACE_QUOTA");
    if (!uq) printf("%12s %12s %18s ", "DIR_COUNT", "FILE_COUNT", "CONTENT_SIZE");
    printf("PATHNAME\n");
  }
  for (; i < argc; i++) {
    cli_fs_items_t items = {0};
    cli_fs_expand(fs, "count", argv[i], &items);
    for (size_t n = 0; n < items.n; n++) {
      cli_fs_item_t *it = &items.v[n];
      if (!it->exists) {
        cli_fs_missing(fs, "count", it->shown);
        continue;
      }
      rv_client_result_t res;
      if (rv_client_count(it->client, it->path, fs->read_flags, &res) != RV_OK) {
        cli_fs_fail(fs, "count", it->shown, &res);
      } else if (fs->json) {
        printf("{\"op\":\"count\",\"path\":");
        cli_fs_json_str(it->shown);
        printf(",\"ok\":true,\"dirs\":%" PRIu64 ",\"files\":%" PRIu64 ",\"bytes\":%" PRIu64
               ",\"index\":%" PRIu64 "}\n", res.dirs, res.files, res.bytes, res.index);
      } else {
        char d[64], f[64], b[64];
        s_size(res.dirs, human, d, sizeof d);
        s_size(res.files, human, f, sizeof f);
        s_size(res.bytes, human, b, sizeof b);
        if (quota || uq) printf("%12s %15s %15s %15s ", "none", "inf", "none", "inf");
        if (!uq) printf("%12s %12s %18s ", d, f, b);
        printf("%s\n", it->shown);
      }
      rv_client_result_clear(&res);
    }
    cli_fs_items_clear(&items);
  }
  return CLI_OK;
}

/* ---- test ---------------------------------------------------------------------------------- */

/* -test -[defswrz] PATH: the answer is the exit status (0 yes, 1 no; a missing path is "no").
 * -r and -w judge the permission bits for this principal (owner bits when it owns the entry,
 * else the other bits: the client knows no group membership). */
int cli_fs_test(cli_fs_t *fs, int argc, char **argv) {
  cli_fs_opts_t o = {.words = "d e f s z r w"};
  int i = cli_fs_flags("test", argc, argv, &o);
  if (i < 0) return CLI_USAGE;
  if (o.set == 0) return cli_fs_usage_error("test", "No test flag given");
  if (o.set & (o.set - 1)) return cli_fs_usage_error("test", "Only one test flag is allowed");
  if (argc - i != 1)
    return cli_fs_usage_error("test", "%s arguments: expected 1 but got %d",
                              argc - i ? "Too many" : "Not enough", argc - i);
  cli_fs_items_t items = {0};
  fs->quiet_missing = true; /* a glob matching nothing is a "no", silently */
  cli_fs_expand(fs, "test", argv[i], &items);
  fs->quiet_missing = false;
  bool yes = items.n > 0;
  for (size_t n = 0; n < items.n; n++) {
    const cli_fs_item_t *it = &items.v[n];
    const rv_client_stat_t *st = &it->st;
    unsigned bits = strcmp(st->owner, fs->principal) == 0 ? st->perm >> 6 : st->perm;
    bool ok = it->exists;
    if (ok && cli_fs_has(&o, "d")) ok = st->dir;
    if (ok && cli_fs_has(&o, "f")) ok = !st->dir;
    if (ok && cli_fs_has(&o, "s")) ok = !st->dir && st->size > 0;
    if (ok && cli_fs_has(&o, "z")) ok = st->dir ? st->nchildren == 0 : st->size == 0;
    if (ok && cli_fs_has(&o, "r")) ok = (bits & 04) != 0;
    if (ok && cli_fs_has(&o, "w")) ok = (bits & 02) != 0;
    if (!ok) yes = false;
  }
  cli_fs_items_clear(&items);
  if (fs->status > CLI_FAILURE) return CLI_OK; /* the cluster did not answer: not a "no" */
  if (!yes && fs->status == CLI_OK) fs->status = CLI_FAILURE;
  return CLI_OK;
}

/* ---- find ---------------------------------------------------------------------------------- */

typedef struct {
  const char *name, *iname; /* glob on the base name, or NULL */
  char end;                 /* '\n' (-print) or '\0' (-print0) */
} s_find_t;

static void s_find_visit(cli_fs_t *fs, const s_find_t *f, rv_client_t *c, const char *path,
                         const char *shown, const rv_client_stat_t *st) {
  const char *base = strrchr(path, '/');
  base = base && base[1] ? base + 1 : path;
  bool ok = (!f->name || kv_glob_match(f->name, strlen(f->name), base, strlen(base), false)) &&
            (!f->iname || kv_glob_match(f->iname, strlen(f->iname), base, strlen(base), true));
  if (ok) printf("%s%c", shown, f->end);
  if (!st->dir) return;
  char *after = NULL;
  for (;;) {
    rv_client_result_t res;
    if (rv_client_ls(c, path, after, 0, fs->read_flags, &res) != RV_OK) {
      if (res.code != RV_ENOTFOUND) cli_fs_fail(fs, "find", shown, &res);
      rv_client_result_clear(&res);
      break;
    }
    for (size_t e = 0; e < res.nentries; e++) {
      char *p = cli_fs_join(path, res.entries[e].name);
      char *s = cli_fs_show_child(shown, res.entries[e].name);
      if (p && s) s_find_visit(fs, f, c, p, s, &res.entries[e]);
      free(p);
      free(s);
    }
    bool more = res.more && res.nentries;
    free(after);
    after = more ? strdup(res.entries[res.nentries - 1].name) : NULL;
    rv_client_result_clear(&res);
    if (!after) break;
  }
  free(after);
}

/* -find PATH... EXPRESSION...: -name PATTERN, -iname PATTERN (Hadoop's glob on the entry's
 * name; all given must hold), -print (the default) or -print0. Depth first, in name order. */
int cli_fs_find(cli_fs_t *fs, int argc, char **argv) {
  int i = 0;
  while (i < argc && argv[i][0] != '-') i++;
  int npaths = i;
  s_find_t f = {.end = '\n'};
  for (; i < argc; i++) {
    const char *a = argv[i];
    bool value = i + 1 < argc;
    char why[128];
    if ((strcmp(a, "-name") == 0 || strcmp(a, "-iname") == 0) && value) {
      const char *pat = argv[++i];
      if (kv_glob_check(pat, strlen(pat), why, sizeof why))
        return cli_fs_usage_error("find", "Illegal file pattern: %s", why);
      *(a[1] == 'n' ? &f.name : &f.iname) = pat;
    } else if (strcmp(a, "-name") == 0 || strcmp(a, "-iname") == 0) {
      return cli_fs_usage_error("find", "Not enough arguments: expected 1 but got 0");
    } else if (strcmp(a, "-print") == 0) {
      f.end = '\n';
    } else if (strcmp(a, "-print0") == 0) {
      f.end = '\0';
    } else if (strcmp(a, "-a") == 0 || strcmp(a, "-and") == 0) {
      continue;
    } else {
      return cli_fs_usage_error("find", "Unexpected argument: %s", a);
    }
  }
  char *dot[] = {"."};
  char **paths = npaths ? argv : dot;
  for (int k = 0; k < (npaths ? npaths : 1); k++) {
    cli_fs_items_t items = {0};
    cli_fs_expand(fs, "find", paths[k], &items);
    for (size_t n = 0; n < items.n; n++) {
      cli_fs_item_t *it = &items.v[n];
      if (!it->exists) cli_fs_missing(fs, "find", it->shown);
      else s_find_visit(fs, &f, it->client, it->path, it->shown, &it->st);
    }
    cli_fs_items_clear(&items);
  }
  return CLI_OK;
}

/* ---- checksum ------------------------------------------------------------------------------ */

/* -checksum [-v] SRC...: "PATH\tCOMPOSITE-CRC32C\tHEX" per file: the CRC-32C of the whole
 * content, which is what HDFS prints for a file under dfs.checksum.combine.mode=COMPOSITE_CRC
 * with CRC32C chunks (so the two can be compared); -v adds "BlockSize=N" as Hadoop 3.4 does (N
 * is the file's size: a content is one block here). */
int cli_fs_checksum(cli_fs_t *fs, int argc, char **argv) {
  cli_fs_opts_t o = {.words = "v"};
  int i = cli_fs_flags("checksum", argc, argv, &o);
  if (i < 0) return CLI_USAGE;
  if (i == argc) return cli_fs_usage_error("checksum", "Not enough arguments: expected 1 but got 0");
  for (; i < argc; i++) {
    cli_fs_items_t items = {0};
    cli_fs_expand(fs, "checksum", argv[i], &items);
    for (size_t n = 0; n < items.n; n++) {
      cli_fs_item_t *it = &items.v[n];
      if (!it->exists) {
        cli_fs_missing(fs, "checksum", it->shown);
        continue;
      }
      if (it->st.dir) {
        cli_fs_error(fs, "checksum", "`%s': Is a directory", it->shown);
        continue;
      }
      rv_client_result_t res;
      if (rv_client_cat(it->client, it->path, fs->read_flags, &res) != RV_OK) {
        cli_fs_fail(fs, "checksum", it->shown, &res);
      } else {
        uint32_t crc = cli_fs_crc32c(res.content, res.len);
        if (cli_fs_has(&o, "v"))
          printf("%s\tBlockSize=%zu\tCOMPOSITE-CRC32C\t%08x\n", it->shown, res.len, crc);
        else
          printf("%s\tCOMPOSITE-CRC32C\t%08x\n", it->shown, crc);
      }
      rv_client_result_clear(&res);
    }
    cli_fs_items_clear(&items);
  }
  return CLI_OK;
}
