/* raftvisor fs -ls and -stat: listings in Hadoop's Ls format (permissions, replication, owner,
 * group, size, "yyyy-MM-dd HH:mm" local time, path; column widths per listing page, at least
 * Hadoop's 3 and 10), paged (a directory of any size is listed a page at a time), recursive
 * depth-first with -R; and Hadoop's Stat format strings (UTC times). --json prints one object
 * per entry. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_fs.h"

/* "drwxr-xr-x" (with 't'/'T' for the sticky bit, as HDFS shows it) into out[11]. */
static void s_perm(const rv_client_stat_t *st, char out[11]) {
  static const char rwx[] = "rwx";
  out[0] = st->dir ? 'd' : '-';
  for (int i = 0; i < 9; i++) out[1 + i] = st->perm & (0400u >> i) ? rwx[i % 3] : '-';
  if (st->perm & 01000) out[9] = out[9] == 'x' ? 't' : 'T';
  out[10] = '\0';
}

static void s_time(int64_t ms, bool utc, const char *fmt, char *buf, size_t len) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  if (utc ? !gmtime_r(&t, &tm) : !localtime_r(&t, &tm)) {
    snprintf(buf, len, "?");
    return;
  }
  strftime(buf, len, fmt, &tm);
}

/* dir + "/" + name, without doubling a '/' (malloc'd; see cli_fs.h). */
char *cli_fs_join(const char *dir, const char *name) {
  size_t dl = strlen(dir);
  char *p = malloc(dl + strlen(name) + 2);
  if (p) sprintf(p, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", name);
  return p;
}

static void s_json_entry(const char *op, const char *path, const rv_client_stat_t *st,
                         unsigned replicas) {
  printf("{");
  if (op) printf("\"op\":\"%s\",\"ok\":true,", op);
  printf("\"path\":");
  cli_fs_json_str(path);
  printf(",\"type\":\"%s\",\"perm\":\"%04o\",\"owner\":", st->dir ? "directory" : "file", st->perm);
  cli_fs_json_str(st->owner);
  printf(",\"group\":");
  cli_fs_json_str(st->group);
  printf(",\"size\":%" PRIu64 ",\"replication\":%u,\"mtime_ms\":%" PRId64 ",\"atime_ms\":%" PRId64
         ",\"inode\":%" PRIu64 ",\"children\":%" PRIu64 ",\"dirs\":%" PRIu64 ",\"files\":%" PRIu64
         ",\"bytes\":%" PRIu64 "}\n",
         st->size, st->dir ? 0 : replicas, st->mtime_ms, st->atime_ms, st->inode, st->nchildren,
         st->dirs, st->files, st->bytes);
}

/* Column widths of one listing: Hadoop starts from 3 (replication) and 10 (size). */
typedef struct {
  int repl, owner, group, size;
} s_widths_t;

static void s_widen(s_widths_t *w, const rv_client_stat_t *st, unsigned replicas) {
  char b[32];
  int n = snprintf(b, sizeof b, "%u", replicas);
  if (!st->dir && n > w->repl) w->repl = n;
  n = snprintf(b, sizeof b, "%" PRIu64, st->size);
  if (n > w->size) w->size = n;
  if ((int)strlen(st->owner) > w->owner) w->owner = (int)strlen(st->owner);
  if ((int)strlen(st->group) > w->group) w->group = (int)strlen(st->group);
}

static void s_line(const s_widths_t *w, const char *path, const rv_client_stat_t *st,
                   unsigned replicas) {
  char perm[11], when[32], repl[16];
  s_perm(st, perm);
  s_time(st->mtime_ms, false, "%Y-%m-%d %H:%M", when, sizeof when);
  if (st->dir) snprintf(repl, sizeof repl, "-");
  else snprintf(repl, sizeof repl, "%u", replicas);
  printf("%s %*s %-*s %-*s %*" PRIu64 " %s %s\n", perm, w->repl, repl, w->owner, st->owner,
         w->group, st->group, w->size, st->size, when, path);
}

void cli_fs_each_page(cli_fs_t *fs, const char *cmd, const char *path, cli_fs_page_fn fn,
                      void *arg) {
  char *after = NULL;
  for (bool first = true;; first = false) {
    rv_client_result_t res;
    if (rv_client_ls(fs->client, path, after, 0, fs->read_flags, &res) != RV_OK) {
      cli_fs_fail(fs, cmd, path, &res);
      rv_client_result_clear(&res);
      break;
    }
    bool more = fn(fs, path, &res, first, arg) && res.more && res.nentries;
    free(after);
    after = more ? strdup(res.entries[res.nentries - 1].name) : NULL;
    rv_client_result_clear(&res);
    if (!more || !after) break;
  }
  free(after);
}

typedef struct {
  bool recursive, top;
} s_ls_opts_t;

static void s_ls(cli_fs_t *fs, const char *path, bool recursive, bool top);

/* One page of -ls: a file as itself; a directory's entries ("Found N items" first unless
 * recursive or nested), each subdirectory after its own line when recursive. */
static bool s_ls_page(cli_fs_t *fs, const char *path, const rv_client_result_t *res, bool first,
                      void *arg) {
  const s_ls_opts_t *o = arg;
  if (first && !res->stat.dir) { /* a file lists as itself, under the path given */
    s_widths_t w = {3, 0, 0, 10};
    s_widen(&w, &res->stat, res->replicas);
    if (fs->json) s_json_entry(NULL, path, &res->stat, res->replicas);
    else s_line(&w, path, &res->stat, res->replicas);
    return false;
  }
  if (first && o->top && !o->recursive && !fs->json && res->stat.nchildren) /* not for 0 */
    printf("Found %" PRIu64 " items\n", res->stat.nchildren);
  s_widths_t w = {3, 0, 0, 10};
  for (size_t i = 0; i < res->nentries; i++) s_widen(&w, &res->entries[i], res->replicas);
  for (size_t i = 0; i < res->nentries; i++) {
    char *child = cli_fs_join(path, res->entries[i].name);
    if (!child) break;
    if (fs->json) s_json_entry(NULL, child, &res->entries[i], res->replicas);
    else s_line(&w, child, &res->entries[i], res->replicas);
    if (o->recursive && res->entries[i].dir) s_ls(fs, child, true, false);
    free(child);
  }
  return true;
}

static void s_ls(cli_fs_t *fs, const char *path, bool recursive, bool top) {
  s_ls_opts_t o = {.recursive = recursive, .top = top};
  cli_fs_each_page(fs, "ls", path, s_ls_page, &o);
}

int cli_fs_ls(cli_fs_t *fs, int argc, char **argv) {
  bool recursive = false;
  int i = 0;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    if (strcmp(argv[i], "-R") == 0) recursive = true;
    else return cli_usage_error("fs", "-ls: unknown option \"%s\" (it takes -R)", argv[i]);
  }
  if (i == argc) {
    s_ls(fs, "/", recursive, true);
    return CLI_OK;
  }
  for (; i < argc; i++) s_ls(fs, argv[i], recursive, true);
  return CLI_OK;
}

/* ---- stat ---------------------------------------------------------------------------------- */

/* Checks a -stat format: every '%' is followed by a known character. */
static int s_stat_format_ok(const char *f) {
  for (const char *p = f; *p; p++) {
    if (*p != '%') continue;
    if (!p[1] || !strchr("aAbFgnoruxXyY%", p[1])) {
      return cli_usage_error("fs", "-stat: unknown format \"%%%c\" in \"%s\" (known: %%a %%A %%b "
                             "%%F %%g %%n %%o %%r %%u %%x %%X %%y %%Y)", p[1] ? p[1] : ' ', f);
    }
    p++;
  }
  return CLI_OK;
}

static void s_stat_print(const char *fmt, const char *path, const rv_client_stat_t *st,
                         unsigned replicas) {
  const char *name = strrchr(path, '/');
  name = name && name[1] ? name + 1 : path;
  for (const char *p = fmt; *p; p++) {
    if (*p != '%') {
      putchar(*p);
      continue;
    }
    char buf[32];
    switch (*++p) {
      case 'a': printf("%o", st->perm); break;
      case 'A': {
        char perm[11];
        s_perm(st, perm);
        fputs(perm + 1, stdout);
        break;
      }
      case 'b': printf("%" PRIu64, st->size); break;
      case 'F': fputs(st->dir ? "directory" : "regular file", stdout); break;
      case 'g': fputs(st->group, stdout); break;
      case 'n': fputs(name, stdout); break;
      case 'o': putchar('0'); break; /* no blocks: content is inline */
      case 'r': printf("%u", st->dir ? 0 : replicas); break;
      case 'u': fputs(st->owner, stdout); break;
      case 'x':
      case 'y':
        s_time(*p == 'x' ? st->atime_ms : st->mtime_ms, true, "%Y-%m-%d %H:%M:%S", buf, sizeof buf);
        fputs(buf, stdout);
        break;
      case 'X': printf("%" PRId64, st->atime_ms); break;
      case 'Y': printf("%" PRId64, st->mtime_ms); break;
      default: putchar('%');
    }
  }
  putchar('\n');
}

int cli_fs_stat(cli_fs_t *fs, int argc, char **argv) {
  const char *fmt = "%y";
  int i = 0;
  if (argc > 1 && strchr(argv[0], '%')) fmt = argv[i++];
  int rc = s_stat_format_ok(fmt);
  if (rc) return rc;
  if (i == argc) return cli_usage_error("fs", "-stat: no PATH given");
  for (; i < argc; i++) {
    rv_client_result_t res;
    if (rv_client_stat(fs->client, argv[i], fs->read_flags, &res) != RV_OK)
      cli_fs_fail(fs, "stat", argv[i], &res);
    else if (fs->json)
      s_json_entry("stat", argv[i], &res.stat, res.replicas);
    else
      s_stat_print(fmt, argv[i], &res.stat, res.replicas);
    rv_client_result_clear(&res);
  }
  return CLI_OK;
}
