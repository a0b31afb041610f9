/* raftvisor fs: the commands that copy (Hadoop's CopyCommands and MoveCommands): -put,
 * -copyFromLocal, -moveFromLocal (local files in), -get, -copyToLocal, -moveToLocal (out),
 * -cp (within the namespace), -getmerge, -appendToFile, -truncate, -concat.
 *
 * Atomicity, compared with HDFS: one file put (or copied) is one replicated command, so it
 * becomes visible whole, as HDFS' rename of its ._COPYING_ file makes it; a directory is copied
 * entry by entry (HDFS too). A local file is written as ._COPYING_ and renamed, as Hadoop does.
 * -appendToFile, -truncate and -concat are each one replicated command that the kv-store
 * decides against the file as it is at its log index, so a concurrent writer is never lost
 * (HDFS' lease serialises appenders to the same effect). I/O over librvclient and the local
 * file system. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_fs.h"

int cli_fs_slurp(FILE *f, char **out, size_t *len) {
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  if (!buf) return ENOMEM;
  for (;;) {
    if (n == cap) {
      if (cap > RV_CLIENT_DATA_MAX) {
        free(buf);
        return EFBIG;
      }
      char *b = realloc(buf, cap * 2);
      if (!b) {
        free(buf);
        return ENOMEM;
      }
      buf = b;
      cap *= 2;
    }
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (r == 0) break;
  }
  if (ferror(f)) {
    free(buf);
    return EIO;
  }
  if (n > RV_CLIENT_DATA_MAX) {
    free(buf);
    return EFBIG;
  }
  *out = buf;
  *len = n;
  return 0;
}

/* Reports a local file's errno as Hadoop words it. */
static void s_local_fail(cli_fs_t *fs, const char *cmd, const char *local, int e) {
  if (e == ENOENT) cli_fs_error(fs, cmd, "`%s': No such file or directory", local);
  else if (e == EEXIST) cli_fs_error(fs, cmd, "`%s': File exists", local);
  else if (e == EISDIR) cli_fs_error(fs, cmd, "`%s': Is a directory", local);
  else if (e == ENOTDIR) cli_fs_error(fs, cmd, "`%s': Is not a directory", local);
  else if (e == EACCES) cli_fs_error(fs, cmd, "`%s': Permission denied", local);
  else if (e == EFBIG)
    cli_fs_error(fs, cmd, "`%s': larger than the 4 MiB (%u bytes) a file may hold", local,
                 RV_CLIENT_DATA_MAX);
  else cli_fs_error(fs, cmd, "`%s': %s", local, strerror(e));
}

static const char *s_base(const char *p) {
  size_t l = strlen(p);
  while (l > 1 && p[l - 1] == '/') l--;
  const char *b = p + l;
  while (b > p && b[-1] != '/') b--;
  return b;
}

/* Where a source named base goes: into dst when it is a directory, else dst itself. */
static char *s_target(const cli_fs_item_t *dst, bool dst_dir, const char *base, bool shown) {
  const char *d = shown ? dst->shown : dst->path;
  if (!dst_dir) return strdup(d);
  return shown ? cli_fs_show_child(d, base) : cli_fs_join(d, base);
}

/* ---- local -> namespace ------------------------------------------------------------------- */

typedef struct {
  bool force, preserve;
  const char *cmd;
} s_put_opts_t;

/* Puts data as path (shown for messages); with preserve, the local file's mode and times. */
static int s_put_one(cli_fs_t *fs, rv_client_t *c, const s_put_opts_t *o, const char *path,
                     const char *shown, const char *data, size_t len, const struct stat *lst) {
  rv_client_result_t res;
  unsigned flags = o->force ? RV_CLIENT_OVERWRITE : 0;
  int rc = rv_client_put(c, path, data, len, flags, &res);
  if (rc == RV_EISDIR) res.code = RV_EEXIST; /* a directory in the way: Hadoop's "File exists" */
  if (rc != RV_OK) {
    cli_fs_fail(fs, o->cmd, shown, &res);
  } else if (o->preserve && lst) {
    rv_client_attrs_t a = {.set = RV_CLIENT_SET_PERM | RV_CLIENT_SET_MTIME | RV_CLIENT_SET_ATIME,
                           .perm = lst->st_mode & 07777,
                           .mtime_ms = (int64_t)lst->st_mtime * 1000,
                           .atime_ms = (int64_t)lst->st_atime * 1000};
    rv_client_result_clear(&res);
    if ((rc = rv_client_setattr(c, path, &a, &res))) cli_fs_fail(fs, o->cmd, shown, &res);
  } else if (fs->json) {
    printf("{\"op\":");
    cli_fs_json_str(o->cmd);
    printf(",\"path\":");
    cli_fs_json_str(shown);
    printf(",\"ok\":true,\"index\":%" PRIu64 ",\"inode\":%" PRIu64 ",\"n\":%" PRIu64
           ",\"replayed\":%s}\n", res.index, res.inode, res.n, res.replayed ? "true" : "false");
  }
  rv_client_result_clear(&res);
  return rc;
}

/* Copies the local file or directory local to path; returns 0 when all of it went. */
static int s_put_tree(cli_fs_t *fs, rv_client_t *c, const s_put_opts_t *o, const char *local,
                      const char *path, const char *shown) {
  struct stat lst;
  bool is_stdin = strcmp(local, "-") == 0;
  if (!is_stdin && stat(local, &lst) != 0) {
    s_local_fail(fs, o->cmd, local, errno);
    return -1;
  }
  if (!is_stdin && S_ISDIR(lst.st_mode)) {
    rv_client_result_t res;
    int rc = rv_client_mkdir(c, path, 0, &res);
    if (rc == RV_EEXIST && o->force) rc = RV_OK;
    if (rc) {
      cli_fs_fail(fs, o->cmd, shown, &res);
      rv_client_result_clear(&res);
      return -1;
    }
    rv_client_result_clear(&res);
    DIR *d = opendir(local);
    if (!d) {
      s_local_fail(fs, o->cmd, local, errno);
      return -1;
    }
    int bad = 0;
    for (struct dirent *e; (e = readdir(d));) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      char *l = cli_fs_join(local, e->d_name), *p = cli_fs_join(path, e->d_name),
           *s = cli_fs_show_child(shown, e->d_name);
      if (l && p && s) bad |= s_put_tree(fs, c, o, l, p, s);
      else bad = -1;
      free(l);
      free(p);
      free(s);
    }
    closedir(d);
    return bad;
  }
  FILE *f = is_stdin ? stdin : fopen(local, "rb");
  char *data = NULL;
  size_t len = 0;
  int e = f ? cli_fs_slurp(f, &data, &len) : errno;
  if (f && !is_stdin) fclose(f);
  if (e) {
    s_local_fail(fs, o->cmd, local, e);
    return -1;
  }
  int rc = s_put_one(fs, c, o, path, shown, data, len, is_stdin ? NULL : &lst);
  free(data);
  return rc ? -1 : 0;
}

int cli_fs_dst(cli_fs_t *fs, const char *cmd, const char *arg, size_t nsrc, cli_fs_item_t *dst,
               bool *dst_dir) {
  if (cli_fs_resolve(fs, cmd, arg, dst)) return -1;
  rv_client_result_t st;
  int rc = rv_client_stat(dst->client, dst->path, fs->read_flags, &st);
  *dst_dir = rc == RV_OK && st.stat.dir;
  rv_client_result_clear(&st);
  char q[CLI_FS_PATH_MAX + CLI_FS_AUTH_MAX + 16];
  cli_fs_qualified(fs, dst->path, q, sizeof q);
  if (rc == RV_OK && !*dst_dir && nsrc > 1) {
    cli_fs_error(fs, cmd, "`%s': Is not a directory", dst->shown);
    return -1;
  }
  if (rc != RV_OK && nsrc > 1) {
    cli_fs_error(fs, cmd, "`%s': No such file or directory", dst->shown);
    return -1;
  }
  if (rc != RV_OK) { /* a missing destination needs its parent */
    char *parent = strdup(dst->path);
    if (!parent) return -1;
    char *slash = strrchr(parent, '/');
    if (slash == parent) slash[1] = '\0';
    else if (slash) *slash = '\0';
    rc = rv_client_stat(dst->client, parent, fs->read_flags, &st);
    bool ok = rc == RV_OK && st.stat.dir;
    rv_client_result_clear(&st);
    free(parent);
    if (!ok) {
      cli_fs_error(fs, cmd, "`%s': No such file or directory: `%s'", dst->shown, q);
      return -1;
    }
  }
  return 0;
}

static int s_put_cmd(cli_fs_t *fs, const char *cmd, int argc, char **argv, bool move) {
  cli_fs_opts_t o = {.words = move ? "f p l d" : "f p l d t q"};
  int i = cli_fs_flags(cmd, argc, argv, &o);
  if (i < 0) return CLI_USAGE;
  if (argc - i < 1) return cli_fs_usage_error(cmd, "Not enough arguments: expected 1 but got 0");
  if (cli_fs_has(&o, "t") || cli_fs_has(&o, "q")) /* they take a value: one thread here */
    return cli_fs_usage_error(cmd, "-t and -q (threads) are not supported: a put is one "
                              "request per file");
  /* one argument: put it into the working directory, as Hadoop does */
  int nsrc = argc - i == 1 ? 1 : argc - i - 1;
  const char *dst_arg = argc - i == 1 ? "." : argv[argc - 1];
  cli_fs_item_t dst;
  bool dst_dir;
  if (cli_fs_dst(fs, cmd, dst_arg, (size_t)nsrc, &dst, &dst_dir)) {
    cli_fs_item_close(&dst);
    return CLI_OK;
  }
  s_put_opts_t po = {.force = cli_fs_has(&o, "f"), .preserve = cli_fs_has(&o, "p"), .cmd = cmd};
  for (int k = i; k < i + nsrc; k++) {
    const char *local = cli_fs_local_path(argv[k]);
    bool is_stdin = strcmp(local, "-") == 0;
    if (is_stdin && move) {
      cli_fs_error(fs, cmd, "`-': cannot move standard input");
      continue;
    }
    char *path = s_target(&dst, dst_dir && !is_stdin, s_base(local), false);
    char *shown = s_target(&dst, dst_dir && !is_stdin, s_base(local), true);
    if (!path || !shown) {
      cli_fs_error(fs, cmd, "out of memory");
    } else if (s_put_tree(fs, dst.client, &po, local, path, shown) == 0 && move) {
      struct stat lst;
      /* moveFromLocal: the local copy goes once it is in (a directory: its files only) */
      if (stat(local, &lst) == 0 && S_ISDIR(lst.st_mode)) {
        cli_fs_error(fs, cmd, "`%s': copied; a local directory is not removed (remove it "
                     "yourself)", local);
      } else if (unlink(local) != 0) {
        s_local_fail(fs, cmd, local, errno);
      }
    }
    free(path);
    free(shown);
  }
  cli_fs_item_close(&dst);
  return CLI_OK;
}

int cli_fs_put(cli_fs_t *fs, int argc, char **argv) {
  return s_put_cmd(fs, "put", argc, argv, false);
}

int cli_fs_copy_from_local(cli_fs_t *fs, int argc, char **argv) {
  return s_put_cmd(fs, "copyFromLocal", argc, argv, false);
}

int cli_fs_move_from_local(cli_fs_t *fs, int argc, char **argv) {
  return s_put_cmd(fs, "moveFromLocal", argc, argv, true);
}

/* ---- namespace -> local ------------------------------------------------------------------- */

typedef struct {
  bool force, preserve;
  const char *cmd;
} s_get_opts_t;

/* Writes data to the local file path as Hadoop does: into path._COPYING_, then renamed. */
static int s_write_local(cli_fs_t *fs, const s_get_opts_t *o, const char *local, const void *data,
                         size_t len, const rv_client_stat_t *st) {
  struct stat lst;
  if (!o->force && lstat(local, &lst) == 0) {
    s_local_fail(fs, o->cmd, local, EEXIST);
    return -1;
  }
  size_t ll = strlen(local);
  char *tmp = malloc(ll + 16);
  if (!tmp) return -1;
  snprintf(tmp, ll + 16, "%s._COPYING_", local);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, st && o->preserve ? st->perm & 0777 : 0644);
  int e = fd < 0 ? errno : 0;
  if (!e && len && write(fd, data, len) != (ssize_t)len) e = errno ? errno : EIO;
  if (fd >= 0 && close(fd) != 0 && !e) e = errno;
  if (!e && rename(tmp, local) != 0) e = errno;
  if (e) {
    unlink(tmp);
    s_local_fail(fs, o->cmd, local, e);
  } else if (o->preserve && st) {
    struct timespec ts[2] = {{.tv_sec = st->atime_ms / 1000}, {.tv_sec = st->mtime_ms / 1000}};
    utimensat(AT_FDCWD, local, ts, 0);
  }
  free(tmp);
  return e ? -1 : 0;
}

/* Copies the entry path (st) of client c to the local path; directories recursively. */
static int s_get_tree(cli_fs_t *fs, rv_client_t *c, const s_get_opts_t *o, const char *path,
                      const char *shown, const rv_client_stat_t *st, const char *local) {
  if (!st->dir) {
    rv_client_result_t res;
    int rc = rv_client_cat(c, path, fs->read_flags, &res);
    if (rc) cli_fs_fail(fs, o->cmd, shown, &res);
    else rc = s_write_local(fs, o, local, res.content, res.len, st);
    rv_client_result_clear(&res);
    return rc ? -1 : 0;
  }
  if (mkdir(local, st->perm & 0777 ? st->perm & 0777 : 0755) != 0 && errno != EEXIST) {
    s_local_fail(fs, o->cmd, local, errno);
    return -1;
  }
  int bad = 0;
  char *after = NULL;
  for (;;) {
    rv_client_result_t res;
    if (rv_client_ls(c, path, after, 0, fs->read_flags, &res) != RV_OK) {
      cli_fs_fail(fs, o->cmd, shown, &res);
      rv_client_result_clear(&res);
      bad = -1;
      break;
    }
    for (size_t i = 0; i < res.nentries; i++) {
      const rv_client_stat_t *e = &res.entries[i];
      char *p = cli_fs_join(path, e->name), *s = cli_fs_show_child(shown, e->name),
           *l = cli_fs_join(local, e->name);
      if (p && s && l) bad |= s_get_tree(fs, c, o, p, s, e, l);
      free(p);
      free(s);
      free(l);
    }
    bool more = res.more && res.nentries;
    free(after);
    after = more ? strdup(res.entries[res.nentries - 1].name) : NULL;
    rv_client_result_clear(&res);
    if (!after) break;
  }
  free(after);
  return bad;
}

static int s_get_cmd(cli_fs_t *fs, const char *cmd, int argc, char **argv, bool move) {
  cli_fs_opts_t o = {.words = move ? "" : "f p crc ignoreCrc t q"};
  int i = cli_fs_flags(cmd, argc, argv, &o);
  if (i < 0) return CLI_USAGE;
  if (cli_fs_has(&o, "crc"))
    return cli_fs_usage_error(cmd, "-crc is not supported: raftvisor keeps no .crc checksum "
                              "files (contents are replicated whole; -checksum prints one)");
  if (cli_fs_has(&o, "t") || cli_fs_has(&o, "q"))
    return cli_fs_usage_error(cmd, "-t and -q (threads) are not supported");
  if (argc - i < 1) return cli_fs_usage_error(cmd, "Not enough arguments: expected 1 but got 0");
  if (move && argc - i != 2)
    return cli_fs_usage_error(cmd, "Not enough arguments: expected 2 but got %d", argc - i);
  int nsrc = argc - i == 1 ? 1 : argc - i - 1;
  const char *local = argc - i == 1 ? "." : cli_fs_local_path(argv[argc - 1]);
  cli_fs_items_t srcs = {0};
  for (int k = i; k < i + nsrc; k++) cli_fs_expand(fs, cmd, argv[k], &srcs);
  struct stat lst;
  int lrc = stat(local, &lst);
  bool local_dir = lrc == 0 && S_ISDIR(lst.st_mode);
  if (srcs.n > 1 && !local_dir) {
    s_local_fail(fs, cmd, local, lrc == 0 ? ENOTDIR : ENOENT);
    cli_fs_items_clear(&srcs);
    return CLI_OK;
  }
  s_get_opts_t go = {.force = cli_fs_has(&o, "f"), .preserve = cli_fs_has(&o, "p"), .cmd = cmd};
  for (size_t k = 0; k < srcs.n; k++) {
    cli_fs_item_t *it = &srcs.v[k];
    if (!it->exists) {
      cli_fs_missing(fs, cmd, it->shown);
      continue;
    }
    char *target = local_dir ? cli_fs_join(local, s_base(it->path)) : strdup(local);
    if (target && s_get_tree(fs, it->client, &go, it->path, it->shown, &it->st, target) == 0 &&
        move) {
      rv_client_result_t res;
      if (rv_client_rm(it->client, it->path, RV_CLIENT_RECURSIVE, &res) != RV_OK)
        cli_fs_fail(fs, cmd, it->shown, &res);
      rv_client_result_clear(&res);
    }
    free(target);
  }
  cli_fs_items_clear(&srcs);
  return CLI_OK;
}

int cli_fs_get(cli_fs_t *fs, int argc, char **argv) { return s_get_cmd(fs, "get", argc, argv, false); }
int cli_fs_copy_to_local(cli_fs_t *fs, int argc, char **argv) {
  return s_get_cmd(fs, "copyToLocal", argc, argv, false);
}
int cli_fs_move_to_local(cli_fs_t *fs, int argc, char **argv) {
  return s_get_cmd(fs, "moveToLocal", argc, argv, true);
}

/* ---- namespace -> namespace --------------------------------------------------------------- */

typedef struct {
  bool force, preserve;
} s_cp_opts_t;

static int s_cp_tree(cli_fs_t *fs, rv_client_t *c, const s_cp_opts_t *o, const char *path,
                     const char *shown, const rv_client_stat_t *st, rv_client_t *dc,
                     const char *dpath, const char *dshown) {
  rv_client_result_t res;
  int rc;
  if (!st->dir) {
    if ((rc = rv_client_cat(c, path, fs->read_flags, &res))) {
      cli_fs_fail(fs, "cp", shown, &res);
    } else {
      rv_client_result_t w;
      rc = rv_client_put(dc, dpath, res.content, res.len, o->force ? RV_CLIENT_OVERWRITE : 0, &w);
      if (rc == RV_EISDIR) w.code = RV_EEXIST;
      if (rc) cli_fs_fail(fs, "cp", dshown, &w);
      rv_client_result_clear(&w);
    }
    rv_client_result_clear(&res);
  } else {
    rc = rv_client_mkdir(dc, dpath, 0, &res);
    if (rc == RV_EEXIST && o->force) rc = RV_OK;
    if (rc) cli_fs_fail(fs, "cp", dshown, &res);
    rv_client_result_clear(&res);
    char *after = NULL;
    while (!rc) {
      if (rv_client_ls(c, path, after, 0, fs->read_flags, &res) != RV_OK) {
        cli_fs_fail(fs, "cp", shown, &res);
        rv_client_result_clear(&res);
        rc = -1;
        break;
      }
      for (size_t i = 0; i < res.nentries; i++) {
        const rv_client_stat_t *e = &res.entries[i];
        char *p = cli_fs_join(path, e->name), *s = cli_fs_show_child(shown, e->name),
             *dp = cli_fs_join(dpath, e->name), *ds = cli_fs_show_child(dshown, e->name);
        if (p && s && dp && ds) s_cp_tree(fs, c, o, p, s, e, dc, dp, ds);
        free(p);
        free(s);
        free(dp);
        free(ds);
      }
      bool more = res.more && res.nentries;
      free(after);
      after = more ? strdup(res.entries[res.nentries - 1].name) : NULL;
      rv_client_result_clear(&res);
      if (!after) break;
    }
    free(after);
  }
  if (!rc && o->preserve) {
    rv_client_attrs_t a = {.set = RV_CLIENT_SET_ALL, .perm = st->perm, .owner = st->owner,
                           .group = st->group, .mtime_ms = st->mtime_ms, .atime_ms = st->atime_ms};
    if ((rc = rv_client_setattr(dc, dpath, &a, &res))) cli_fs_fail(fs, "cp", dshown, &res);
    rv_client_result_clear(&res);
  }
  return rc ? -1 : 0;
}

/* -cp [-f] [-p | -p[topax]] [-d] SRC... DST: from the client (read, then write), a file in one
 * atomic put, a directory entry by entry, as Hadoop copies. -p keeps permissions, owner, group
 * and times (all of -ptopa; there are no ACLs or xattrs). */
int cli_fs_cp(cli_fs_t *fs, int argc, char **argv) {
  cli_fs_opts_t o = {.words = "f d p pt po pg pp pa px ptop ptopa ptopax"};
  int i = cli_fs_flags("cp", argc, argv, &o);
  if (i < 0) return CLI_USAGE;
  if (argc - i < 2)
    return cli_fs_usage_error("cp", "Not enough arguments: expected 2 but got %d", argc - i);
  /* a local source (a file: URI: Hadoop's cp copies between any file systems) is put */
  cli_fs_items_t srcs = {0};
  size_t nlocal = 0;
  for (int k = i; k < argc - 1; k++) {
    if (cli_fs_local_path(argv[k]) != argv[k]) nlocal++;
    else cli_fs_expand(fs, "cp", argv[k], &srcs);
  }
  cli_fs_item_t dst;
  bool dst_dir;
  size_t nsrc = (size_t)(argc - 1 - i);
  if (cli_fs_dst(fs, "cp", argv[argc - 1], nsrc > srcs.n + nlocal ? nsrc : srcs.n + nlocal,
                 &dst, &dst_dir)) {
    cli_fs_item_close(&dst);
    cli_fs_items_clear(&srcs);
    return CLI_OK;
  }
  s_cp_opts_t co = {.force = cli_fs_has(&o, "f"), .preserve = (o.set & ~3u) != 0};
  s_put_opts_t po = {.force = co.force, .preserve = co.preserve, .cmd = "cp"};
  for (int k = i; nlocal && k < argc - 1; k++) {
    const char *local = cli_fs_local_path(argv[k]);
    if (local == argv[k]) continue;
    char *path = s_target(&dst, dst_dir, s_base(local), false);
    char *shown = s_target(&dst, dst_dir, s_base(local), true);
    if (!path || !shown) cli_fs_error(fs, "cp", "out of memory");
    else s_put_tree(fs, dst.client, &po, local, path, shown);
    free(path);
    free(shown);
  }
  for (size_t k = 0; k < srcs.n; k++) {
    cli_fs_item_t *it = &srcs.v[k];
    if (!it->exists) {
      cli_fs_missing(fs, "cp", it->shown);
      continue;
    }
    char *dpath = s_target(&dst, dst_dir, s_base(it->path), false);
    char *dshown = s_target(&dst, dst_dir, s_base(it->path), true);
    size_t sl = strlen(it->path);
    if (!dpath || !dshown) {
      cli_fs_error(fs, "cp", "out of memory");
    } else if (it->client == dst.client && it->st.dir &&
               (strcmp(dpath, it->path) == 0 ||
                (strncmp(dpath, it->path, sl) == 0 && (dpath[sl] == '/' || sl == 1)))) {
      cli_fs_error(fs, "cp", "`%s' to `%s': is a subdirectory of itself", it->shown, dshown);
    } else if (!it->st.dir && strcmp(dpath, it->path) == 0 && it->client == dst.client) {
      cli_fs_error(fs, "cp", "`%s': File exists", dshown);
    } else {
      s_cp_tree(fs, it->client, &co, it->path, it->shown, &it->st, dst.client, dpath, dshown);
    }
    free(dpath);
    free(dshown);
  }
  cli_fs_item_close(&dst);
  cli_fs_items_clear(&srcs);
  return CLI_OK;
}

/* ---- getmerge, appendToFile, truncate ----------------------------------------------------- */

/* Appends the content of the file path to *buf (one newline after it with nl). */
static int s_merge_one(cli_fs_t *fs, rv_client_t *c, const char *path, const char *shown,
                       bool nl, char **buf, size_t *len) {
  rv_client_result_t r;
  int rc = rv_client_cat(c, path, fs->read_flags, &r);
  if (rc) {
    cli_fs_fail(fs, "getmerge", shown, &r);
  } else {
    char *nb = realloc(*buf, *len + r.len + 2);
    if (!nb) {
      rc = RV_ENOMEM;
    } else {
      *buf = nb;
      if (r.len) memcpy(*buf + *len, r.content, r.len);
      *len += r.len;
      if (nl) (*buf)[(*len)++] = '\n';
    }
  }
  rv_client_result_clear(&r);
  return rc;
}

/* -getmerge [-nl] [-skip-empty-file] SRC... LOCALDST: the files SRC names (a directory: the
 * files directly in it, in name order) concatenated into one local file. */
int cli_fs_getmerge(cli_fs_t *fs, int argc, char **argv) {
  cli_fs_opts_t o = {.words = "nl skip-empty-file"};
  int i = cli_fs_flags("getmerge", argc, argv, &o);
  if (i < 0) return CLI_USAGE;
  if (argc - i < 2)
    return cli_fs_usage_error("getmerge", "Not enough arguments: expected 2 but got %d", argc - i);
  bool nl = cli_fs_has(&o, "nl"), skip = cli_fs_has(&o, "skip-empty-file");
  cli_fs_items_t srcs = {0};
  for (int k = i; k < argc - 1; k++) cli_fs_expand(fs, "getmerge", argv[k], &srcs);
  char *buf = NULL;
  size_t len = 0;
  bool any = false;
  for (size_t k = 0; k < srcs.n; k++) {
    cli_fs_item_t *it = &srcs.v[k];
    if (!it->exists) {
      cli_fs_missing(fs, "getmerge", it->shown);
      continue;
    }
    any = true;
    if (!it->st.dir) {
      if (!(skip && it->st.size == 0))
        s_merge_one(fs, it->client, it->path, it->shown, nl, &buf, &len);
      continue;
    }
    char *after = NULL;
    for (;;) {
      rv_client_result_t res;
      if (rv_client_ls(it->client, it->path, after, 0, fs->read_flags, &res) != RV_OK) {
        cli_fs_fail(fs, "getmerge", it->shown, &res);
        rv_client_result_clear(&res);
        break;
      }
      for (size_t e = 0; e < res.nentries; e++) {
        if (res.entries[e].dir || (skip && res.entries[e].size == 0)) continue;
        char *p = cli_fs_join(it->path, res.entries[e].name);
        char *s = cli_fs_show_child(it->shown, res.entries[e].name);
        if (p && s) s_merge_one(fs, it->client, p, s, nl, &buf, &len);
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
  if (any) {
    s_get_opts_t go = {.force = true, .cmd = "getmerge"};
    s_write_local(fs, &go, cli_fs_local_path(argv[argc - 1]), buf ? buf : "", len, NULL);
  }
  free(buf);
  cli_fs_items_clear(&srcs);
  return CLI_OK;
}

/* The JSON line of a successful append, truncate or concat: as a put's (n: the file's size
 * after it). */
static void s_json_content(const char *cmd, const char *shown, const rv_client_result_t *res) {
  printf("{\"op\":");
  cli_fs_json_str(cmd);
  printf(",\"path\":");
  cli_fs_json_str(shown);
  printf(",\"ok\":true,\"index\":%" PRIu64 ",\"inode\":%" PRIu64 ",\"n\":%" PRIu64
         ",\"replayed\":%s}\n",
         res->index, res->inode, res->n, res->replayed ? "true" : "false");
}

/* -appendToFile LOCALSRC... DST: the local files' contents (- = stdin), in order, appended to
 * DST by one replicated command (a missing DST is created; its parent must exist), so
 * concurrent appenders never lose one another's records. */
int cli_fs_append(cli_fs_t *fs, int argc, char **argv) {
  cli_fs_opts_t o = {.words = "n"};
  int i = cli_fs_flags("appendToFile", argc, argv, &o);
  if (i < 0) return CLI_USAGE;
  if (argc - i < 2)
    return cli_fs_usage_error("appendToFile", "Not enough arguments: expected 2 but got %d",
                              argc - i);
  cli_fs_item_t dst;
  bool dst_dir;
  if (cli_fs_dst(fs, "appendToFile", argv[argc - 1], 1, &dst, &dst_dir)) {
    cli_fs_item_close(&dst);
    return CLI_OK;
  }
  if (dst_dir) {
    cli_fs_error(fs, "appendToFile", "`%s': Is a directory", dst.shown);
    cli_fs_item_close(&dst);
    return CLI_OK;
  }
  char *buf = NULL;
  size_t len = 0;
  bool ok = true;
  for (int k = i; ok && k < argc - 1; k++) {
    bool is_stdin = strcmp(argv[k], "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(cli_fs_local_path(argv[k]), "rb");
    char *data = NULL;
    size_t n = 0;
    int e = f ? cli_fs_slurp(f, &data, &n) : errno;
    if (f && !is_stdin) fclose(f);
    if (!e && len + n > RV_CLIENT_DATA_MAX) e = EFBIG;
    if (e) {
      s_local_fail(fs, "appendToFile", argv[k], e);
      ok = false;
    } else {
      char *nb = realloc(buf, len + n + 1);
      if (nb) {
        buf = nb;
        if (n) memcpy(buf + len, data, n);
        len += n;
      } else {
        ok = false;
      }
    }
    free(data);
  }
  if (ok) {
    rv_client_result_t res;
    if (rv_client_append(dst.client, dst.path, buf ? buf : "", len, &res) != RV_OK)
      cli_fs_fail(fs, "appendToFile", dst.shown, &res);
    else if (fs->json) /* as a put's line: n is the file's size after it */
      s_json_content("appendToFile", dst.shown, &res);
    rv_client_result_clear(&res);
  }
  free(buf);
  cli_fs_item_close(&dst);
  return CLI_OK;
}

/* -truncate [-w] LENGTH PATH...: each file cut to LENGTH bytes by one replicated command, which
 * decides against the file as it is then (a larger LENGTH is refused with HDFS' message). Done
 * at once: -w has nothing to wait for. */
int cli_fs_truncate(cli_fs_t *fs, int argc, char **argv) {
  cli_fs_opts_t o = {.words = "w"};
  int i = cli_fs_flags("truncate", argc, argv, &o);
  if (i < 0) return CLI_USAGE;
  if (argc - i < 2)
    return cli_fs_usage_error("truncate", "Not enough arguments: expected 2 but got %d", argc - i);
  char *end;
  errno = 0;
  long long want = strtoll(argv[i], &end, 10);
  if (!*argv[i] || *end || errno || want < 0)
    return cli_fs_usage_error("truncate", "Illegal length: %s (expected a number of bytes >= 0)",
                              argv[i]);
  for (int k = i + 1; k < argc; k++) {
    cli_fs_items_t items = {0};
    cli_fs_expand(fs, "truncate", argv[k], &items);
    for (size_t n = 0; n < items.n; n++) {
      cli_fs_item_t *it = &items.v[n];
      if (!it->exists) {
        cli_fs_missing(fs, "truncate", it->shown);
        continue;
      }
      if (it->st.dir) {
        cli_fs_error(fs, "truncate", "`%s': Is a directory", it->shown);
        continue;
      }
      rv_client_result_t res;
      if (rv_client_truncate(it->client, it->path, (uint64_t)want, &res) != RV_OK)
        cli_fs_fail(fs, "truncate", it->shown, &res);
      else if (fs->json)
        s_json_content("truncate", it->shown, &res);
      rv_client_result_clear(&res);
    }
    cli_fs_items_clear(&items);
  }
  return CLI_OK;
}

/* -concat TARGET SRC...: hdfs dfs -concat: the sources' contents appended to TARGET in the
 * order given and the sources removed, all in one replicated command (HDFS' rules: the target
 * and the sources are files in one directory; the server checks them at its index). */
int cli_fs_concat(cli_fs_t *fs, int argc, char **argv) {
  cli_fs_opts_t o = {.words = ""};
  int i = cli_fs_flags("concat", argc, argv, &o);
  if (i < 0) return CLI_USAGE;
  if (argc - i < 2)
    return cli_fs_usage_error("concat", "Not enough arguments: expected 2 but got %d", argc - i);
  cli_fs_item_t dst;
  if (cli_fs_resolve(fs, "concat", argv[i], &dst)) return CLI_OK;
  cli_fs_items_t srcs = {0};
  for (int k = i + 1; k < argc; k++)
    if (cli_fs_expand(fs, "concat", argv[k], &srcs)) goto done;
  const char **paths = calloc(srcs.n ? srcs.n : 1, sizeof *paths);
  if (!paths) {
    cli_fs_error(fs, "concat", "out of memory");
    goto done;
  }
  size_t n = 0;
  bool ok = true;
  for (size_t k = 0; k < srcs.n; k++) {
    if (!srcs.v[k].exists) {
      cli_fs_missing(fs, "concat", srcs.v[k].shown);
      ok = false;
    } else if (srcs.v[k].client != dst.client) {
      cli_fs_error(fs, "concat", "`%s': not on the cluster of `%s'", srcs.v[k].shown, dst.shown);
      ok = false;
    } else {
      paths[n++] = srcs.v[k].path;
    }
  }
  if (ok && n) {
    rv_client_result_t res;
    if (rv_client_concat(dst.client, dst.path, paths, n, &res) != RV_OK)
      cli_fs_fail(fs, "concat", dst.shown, &res);
    else if (fs->json)
      s_json_content("concat", dst.shown, &res);
    rv_client_result_clear(&res);
  }
  free(paths);
done:
  cli_fs_items_clear(&srcs);
  cli_fs_item_close(&dst);
  return CLI_OK;
}
