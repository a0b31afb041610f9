/* raftvisor fs -ls and -stat: listings in Hadoop's Ls format (permissions, replication, owner,
 * group, size, "yyyy-MM-dd HH:mm" local time, path; column widths per page of 5000, at least
 * Hadoop's 3 and 10), paged (a directory of any size is listed a page at a time, unless -t, -S
 * or -r ask for an order other than the names': then it is read whole, as Hadoop does),
 * recursive depth-first with -R; and Hadoop's Stat format strings (UTC times). --json prints
 * one object per entry. */
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

#define S_LS_PAGE 5000 /* entries per -ls request: the node's largest page (fewer round trips) */

/* -ls's options. */
typedef struct {
  bool path_only;  /* -C */
  bool dir_self;   /* -d: a directory lists as itself */
  bool human;      /* -h */
  bool printable;  /* -q: '?' for non-printable characters */
  bool recursive;  /* -R */
  char sort;       /* 0 (name), 't' (time, newest first), 'S' (size, largest first) */
  bool reverse;    /* -r */
  bool atime;      /* -u: access times shown and sorted on */
} s_ls_opts_t;

/* Column widths of one listing: Hadoop starts from 3 (replication) and 10 (size). */
typedef struct {
  int repl, owner, group, size;
} s_widths_t;

static void s_size_text(const s_ls_opts_t *o, uint64_t size, char *b, size_t cap) {
  if (o->human) cli_fs_human(size, b, cap);
  else snprintf(b, cap, "%" PRIu64, size);
}

static void s_widen(const s_ls_opts_t *o, s_widths_t *w, const rv_client_stat_t *st,
                    unsigned replicas) {
  char b[64];
  int n = snprintf(b, sizeof b, "%u", replicas);
  if (!st->dir && n > w->repl) w->repl = n;
  s_size_text(o, st->size, b, sizeof b);
  n = (int)strlen(b);
  if (n > w->size) w->size = n;
  if ((int)strlen(st->owner) > w->owner) w->owner = (int)strlen(st->owner);
  if ((int)strlen(st->group) > w->group) w->group = (int)strlen(st->group);
}

static void s_line(const s_ls_opts_t *o, const s_widths_t *w, const char *path,
                   const rv_client_stat_t *st, unsigned replicas) {
  char *shown = NULL;
  if (o->printable) { /* Hadoop's PrintableString: '?' for what a terminal would act on */
    shown = strdup(path);
    for (unsigned char *p = (unsigned char *)shown; p && *p; p++)
      if (*p < 0x20 || *p == 0x7f) *p = '?';
  }
  const char *p = shown ? shown : path;
  if (o->path_only) {
    printf("%s\n", p);
    free(shown);
    return;
  }
  char perm[11], when[32], repl[16], size[64];
  s_perm(st, perm);
  s_time(o->atime ? st->atime_ms : st->mtime_ms, false, "%Y-%m-%d %H:%M", when, sizeof when);
  if (st->dir) snprintf(repl, sizeof repl, "-");
  else snprintf(repl, sizeof repl, "%u", replicas);
  s_size_text(o, st->size, size, sizeof size);
  printf("%s %*s %-*s %-*s %*s %s %s\n", perm, w->repl, repl, w->owner, st->owner, w->group,
         st->group, w->size, size, when, p);
  free(shown);
}

void cli_fs_each_page(cli_fs_t *fs, rv_client_t *c, const char *cmd, const char *path,
                      const char *shown, cli_fs_page_fn fn, void *arg) {
  char *after = NULL;
  for (bool first = true;; first = false) {
    rv_client_result_t res;
    if (rv_client_ls(c, path, after, 0, fs->read_flags, &res) != RV_OK) {
      cli_fs_fail(fs, cmd, shown, &res);
      rv_client_result_clear(&res);
      break;
    }
    bool more = fn(fs, path, shown, &res, first, arg) && res.more && res.nentries;
    free(after);
    after = more ? strdup(res.entries[res.nentries - 1].name) : NULL;
    rv_client_result_clear(&res);
    if (!more || !after) break;
  }
  free(after);
}

static const s_ls_opts_t *s_cmp_opts; /* qsort has no context argument */

static int s_cmp(const void *pa, const void *pb) {
  const rv_client_stat_t *a = pa, *b = pb;
  const s_ls_opts_t *o = s_cmp_opts;
  int r = 0;
  if (o->sort == 't') {
    int64_t ta = o->atime ? a->atime_ms : a->mtime_ms, tb = o->atime ? b->atime_ms : b->mtime_ms;
    r = ta > tb ? -1 : ta < tb;
  } else if (o->sort == 'S') {
    r = a->size > b->size ? -1 : a->size < b->size;
  } else {
    r = strcmp(a->name, b->name);
  }
  if (o->reverse) r = -r;
  return r ? r : strcmp(a->name, b->name); /* ties keep the listing's order (a stable sort) */
}

static void s_ls_dir(cli_fs_t *fs, const s_ls_opts_t *o, rv_client_t *c, const char *path,
                     const char *shown, bool top);

/* Prints one directory's entries (a whole listing when sorted, else one page), recursing into
 * directories with -R right after their own line, as Hadoop does. */
static void s_ls_entries(cli_fs_t *fs, const s_ls_opts_t *o, rv_client_t *c, const char *path,
                         const char *shown, rv_client_stat_t *e, size_t n, unsigned replicas) {
  if ((o->sort || o->reverse) && !o->recursive) { /* Hadoop sorts no recursive listing */
    s_cmp_opts = o;
    qsort(e, n, sizeof *e, s_cmp);
  }
  s_widths_t w = {3, 0, 0, 10};
  for (size_t i = 0; i < n; i++) s_widen(o, &w, &e[i], replicas);
  for (size_t i = 0; i < n; i++) {
    char *child = cli_fs_join(path, e[i].name), *cshown = cli_fs_show_child(shown, e[i].name);
    if (child && cshown) {
      if (fs->json) s_json_entry(NULL, cshown, &e[i], replicas);
      else s_line(o, &w, cshown, &e[i], replicas);
      if (o->recursive && e[i].dir) s_ls_dir(fs, o, c, child, cshown, false);
    }
    free(child);
    free(cshown);
  }
}

static void s_ls_dir(cli_fs_t *fs, const s_ls_opts_t *o, rv_client_t *c, const char *path,
                     const char *shown, bool top) {
  rv_client_stat_t *all = NULL;
  size_t n = 0, cap = 0;
  unsigned replicas = 0;
  bool whole = (o->sort || o->reverse) && !o->recursive;
  char *after = NULL;
  for (bool first = true;; first = false) {
    rv_client_result_t res;
    if (rv_client_ls(c, path, after, S_LS_PAGE, fs->read_flags, &res) != RV_OK) {
      cli_fs_fail(fs, "ls", shown, &res);
      rv_client_result_clear(&res);
      break;
    }
    replicas = res.replicas;
    if (first && top && !o->recursive && !o->path_only && !fs->json && res.stat.nchildren)
      printf("Found %" PRIu64 " items\n", res.stat.nchildren);
    if (whole) {
      if (n + res.nentries > cap) {
        cap = (n + res.nentries) * 2;
        rv_client_stat_t *m = realloc(all, cap * sizeof *m);
        if (!m) {
          rv_client_result_clear(&res);
          cli_fs_error(fs, "ls", "`%s': out of memory", shown);
          break;
        }
        all = m;
      }
      if (res.nentries) memcpy(all + n, res.entries, res.nentries * sizeof *all);
      n += res.nentries;
    } else {
      s_ls_entries(fs, o, c, path, shown, res.entries, res.nentries, res.replicas);
    }
    bool more = res.more && res.nentries;
    free(after);
    after = more ? strdup(res.entries[res.nentries - 1].name) : NULL;
    rv_client_result_clear(&res);
    if (!after) break;
  }
  free(after);
  if (whole) s_ls_entries(fs, o, c, path, shown, all, n, replicas);
  free(all);
}

/* -ls [-C] [-d] [-h] [-q] [-R] [-t] [-S] [-r] [-u] [PATH...]: Hadoop's Ls. No PATH: the working
 * directory (the home directory). */
int cli_fs_ls(cli_fs_t *fs, int argc, char **argv) {
  cli_fs_opts_t f = {.words = "C d h q R t S r u e"};
  int i = cli_fs_flags("ls", argc, argv, &f);
  if (i < 0) return CLI_USAGE;
  if (cli_fs_has(&f, "e"))
    return cli_fs_usage_error("ls", "-e is not supported: there is no erasure coding");
  s_ls_opts_t o = {.path_only = cli_fs_has(&f, "C"),
                   .dir_self = cli_fs_has(&f, "d"),
                   .human = cli_fs_has(&f, "h"),
                   .printable = cli_fs_has(&f, "q"),
                   .recursive = cli_fs_has(&f, "R") && !cli_fs_has(&f, "d"),
                   .sort = cli_fs_has(&f, "t") ? 't' : cli_fs_has(&f, "S") ? 'S' : 0,
                   .reverse = cli_fs_has(&f, "r"),
                   .atime = cli_fs_has(&f, "u")};
  char *dot[] = {"."};
  char **args = i == argc ? dot : argv + i;
  int nargs = i == argc ? 1 : argc - i;
  for (int k = 0; k < nargs; k++) {
    cli_fs_items_t items = {0};
    cli_fs_expand(fs, "ls", args[k], &items);
    for (size_t n = 0; n < items.n; n++) {
      cli_fs_item_t *it = &items.v[n];
      if (!it->exists) {
        cli_fs_missing(fs, "ls", it->shown);
        continue;
      }
      if (it->st.dir && !o.dir_self) {
        s_ls_dir(fs, &o, it->client, it->path, it->shown, true);
        continue;
      }
      rv_client_result_t res; /* the replication factor: the cluster's size */
      unsigned replicas = 0;
      if (rv_client_stat(it->client, it->path, fs->read_flags, &res) == RV_OK)
        replicas = res.replicas;
      rv_client_result_clear(&res);
      s_widths_t w = {3, 0, 0, 10};
      s_widen(&o, &w, &it->st, replicas);
      if (fs->json) s_json_entry(NULL, it->shown, &it->st, replicas);
      else s_line(&o, &w, it->shown, &it->st, replicas);
      if (o.recursive && it->st.dir) s_ls_dir(fs, &o, it->client, it->path, it->shown, false);
    }
    cli_fs_items_clear(&items);
  }
  return CLI_OK;
}

/* ---- stat ---------------------------------------------------------------------------------- */

/* Checks a -stat format: every '%' is followed by a known character. */
static int s_stat_format_ok(const char *f) {
  for (const char *p = f; *p; p++) {
    if (*p != '%') continue;
    if (!p[1] || !strchr("aAbFgnoruxXyY%", p[1])) {
      return cli_fs_usage_error("stat", "unknown format \"%%%c\" in \"%s\" (known: %%a %%A %%b "
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
  if (i == argc) return cli_fs_usage_error("stat", "Not enough arguments: expected 1 but got 0");
  for (; i < argc; i++) {
    cli_fs_items_t items = {0};
    cli_fs_expand(fs, "stat", argv[i], &items);
    for (size_t n = 0; n < items.n; n++) {
      cli_fs_item_t *it = &items.v[n];
      rv_client_result_t res;
      if (!it->exists) {
        cli_fs_missing(fs, "stat", it->shown);
      } else if (rv_client_stat(it->client, it->path, fs->read_flags, &res) != RV_OK) {
        cli_fs_fail(fs, "stat", it->shown, &res);
        rv_client_result_clear(&res);
      } else {
        if (fs->json) s_json_entry("stat", it->shown, &res.stat, res.replicas);
        else s_stat_print(fmt, it->shown, &res.stat, res.replicas);
        rv_client_result_clear(&res);
      }
    }
    cli_fs_items_clear(&items);
  }
  return CLI_OK;
}
