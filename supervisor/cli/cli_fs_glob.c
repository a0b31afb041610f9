/* raftvisor fs: from what the user typed to what the commands work on. Each argument is parsed
 * as Hadoop parses it (cli_fs_path.h: a URI, an absolute or a relative path, against the home
 * directory), routed to the cluster its authority names, and, when it holds a wildcard,
 * expanded as Hadoop's Globber does: component by component, each wildcard component by one
 * filtered listing of the directories matched so far (the kv-store applies the pattern, so
 * only matches cross the wire), each literal component by name alone, and what is left at the
 * end stat'ed. Matches are shown in the form of the pattern. I/O: uses librvclient. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_fs.h"
#include "kv_glob.h"

/* ---- clusters ------------------------------------------------------------------------------ */

/* True when addr is one of the comma-separated nodes of list. */
static bool s_in_list(const char *list, const char *addr) {
  size_t al = strlen(addr);
  for (const char *p = list; p && *p;) {
    const char *e = strchr(p, ',');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    if (l == al && strncmp(p, addr, l) == 0) return true;
    p = e ? e + 1 : NULL;
  }
  return false;
}

int cli_fs_client(cli_fs_t *fs, const char *cmd, const char *shown, const cli_fs_uri_t *u,
                  rv_client_t **out) {
  const char *auth = u->kind == CLI_FS_HAS_SCHEME ? u->authority : "";
  bool ours = !*auth || (fs->cluster[0] && strcmp(auth, fs->cluster) == 0) ||
              (fs->nodes[0] && s_in_list(fs->nodes, auth));
  const char *list = ours ? fs->nodes : auth;
  if (!*list) {
    cli_fs_error(fs, cmd, "`%s': no cluster to ask: give -c FILE, --nodes HOST:PORT,... or a "
                 "URI naming a node (hdfs://HOST:PORT/path)", shown);
    return CLI_FAILURE;
  }
  if (ours && fs->client) {
    *out = fs->client;
    return CLI_OK;
  }
  for (int i = 0; i < fs->nother; i++)
    if (strcmp(fs->other[i].authority, auth) == 0) {
      *out = fs->other[i].client;
      return CLI_OK;
    }
  if (!ours && (fs->nother == CLI_FS_OTHER_MAX || !strchr(auth, ':'))) {
    cli_fs_error(fs, cmd, "`%s': unknown cluster or node '%s' (expected %s%s%sor a node's "
                 "HOST:PORT)", shown, auth, fs->cluster[0] ? "the cluster id '" : "",
                 fs->cluster, fs->cluster[0] ? "' " : "");
    return CLI_FAILURE;
  }
  rv_err_t err;
  rv_client_t *c;
  if (rv_client_new(list, &fs->opts, &c, &err)) {
    cli_fs_error(fs, cmd, "`%s': %s", shown, err.msg);
    return CLI_FAILURE;
  }
  if (ours) {
    fs->client = c;
  } else {
    snprintf(fs->other[fs->nother].authority, sizeof fs->other[0].authority, "%s", auth);
    fs->other[fs->nother++].client = c;
  }
  *out = c;
  return CLI_OK;
}

/* ---- items --------------------------------------------------------------------------------- */

void cli_fs_items_clear(cli_fs_items_t *items) {
  for (size_t i = 0; i < items->n; i++) {
    free(items->v[i].shown);
    free(items->v[i].path);
  }
  free(items->v);
  memset(items, 0, sizeof *items);
}

static cli_fs_item_t *s_add(cli_fs_items_t *items) {
  if (items->n == items->cap) {
    size_t cap = items->cap ? items->cap * 2 : 8;
    cli_fs_item_t *v = realloc(items->v, cap * sizeof *v);
    if (!v) return NULL;
    items->v = v;
    items->cap = cap;
  }
  cli_fs_item_t *it = &items->v[items->n++];
  memset(it, 0, sizeof *it);
  return it;
}

void cli_fs_item_close(cli_fs_item_t *it) {
  free(it->shown);
  free(it->path);
  memset(it, 0, sizeof *it);
}

int cli_fs_resolve(cli_fs_t *fs, const char *cmd, const char *arg, cli_fs_item_t *it) {
  memset(it, 0, sizeof *it);
  cli_fs_uri_t *u = malloc(sizeof *u);
  char why[256];
  if (!u) return cli_fs_error(fs, cmd, "out of memory"), CLI_FAILURE;
  if (cli_fs_uri_parse(arg, fs->cwd, u, why, sizeof why)) {
    cli_fs_error(fs, cmd, "%s", why);
    free(u);
    return CLI_FAILURE;
  }
  char plain[CLI_FS_PATH_MAX];
  kv_glob_unescape(u->path, strlen(u->path), plain, sizeof plain);
  char shown[CLI_FS_PATH_MAX + 64];
  kv_glob_unescape(arg, strlen(arg), shown, sizeof shown);
  int rc = cli_fs_client(fs, cmd, shown, u, &it->client);
  if (!rc) {
    it->path = strdup(plain);
    it->shown = strdup(shown);
    if (!it->path || !it->shown) rc = CLI_FAILURE;
  }
  free(u);
  return rc;
}

/* Stats it->path into it (exists, st); a failure other than "not found" is reported. */
static int s_stat(cli_fs_t *fs, const char *cmd, cli_fs_item_t *it) {
  rv_client_result_t res;
  int rc = rv_client_stat(it->client, it->path, fs->read_flags, &res);
  if (rc == RV_OK) {
    it->exists = true;
    it->st = res.stat;
  } else if (rc != RV_ENOTFOUND && rc != RV_ENOTDIR) {
    cli_fs_fail(fs, cmd, it->shown, &res);
    rv_client_result_clear(&res);
    return CLI_FAILURE;
  }
  rv_client_result_clear(&res);
  return CLI_OK;
}

/* The glob walk: dirs holds the absolute directories matched so far (with their stat); each
 * wildcard component lists every one of them with the component as the filter. */
typedef struct {
  char **v;
  rv_client_stat_t *st; /* the stat of v[i], when known (after a listing) */
  bool *known;
  size_t n, cap;
} s_set_t;

static void s_set_clear(s_set_t *s) {
  for (size_t i = 0; i < s->n; i++) free(s->v[i]);
  free(s->v);
  free(s->st);
  free(s->known);
  memset(s, 0, sizeof *s);
}

static bool s_set_add(s_set_t *s, char *p, const rv_client_stat_t *st) {
  if (!p) return false;
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 8;
    char **v = realloc(s->v, cap * sizeof *v);
    if (v) s->v = v;
    rv_client_stat_t *sv = realloc(s->st, cap * sizeof *sv);
    if (sv) s->st = sv;
    bool *k = realloc(s->known, cap * sizeof *k);
    if (k) s->known = k;
    if (!v || !sv || !k) {
      free(p);
      return false;
    }
    s->cap = cap;
  }
  s->v[s->n] = p;
  s->known[s->n] = st != NULL;
  if (st) s->st[s->n] = *st;
  s->n++;
  return true;
}

/* Lists dir's entries that match pat, adding their paths to next. */
static int s_list_match(cli_fs_t *fs, rv_client_t *c, const char *cmd, const char *shown,
                        const char *dir, const char *pat, s_set_t *next) {
  char *after = NULL;
  for (;;) {
    rv_client_result_t res;
    int rc = rv_client_ls_match(c, dir, after, pat, fs->read_flags, &res);
    if (rc == RV_ENOTFOUND || rc == RV_ENOTDIR || (rc == RV_OK && !res.stat.dir)) {
      rv_client_result_clear(&res); /* gone, or a file: nothing below it */
      break;
    }
    if (rc != RV_OK) {
      cli_fs_fail(fs, cmd, shown, &res);
      rv_client_result_clear(&res);
      free(after);
      return CLI_FAILURE;
    }
    for (size_t i = 0; i < res.nentries; i++) {
      const rv_client_stat_t *e = &res.entries[i];
      /* the node filtered already; checked again so an older node's full page is fine */
      if (!kv_glob_match(pat, strlen(pat), e->name, strlen(e->name), false)) continue;
      if (!s_set_add(next, cli_fs_join(dir, e->name), e)) {
        rv_client_result_clear(&res);
        free(after);
        return cli_fs_error(fs, cmd, "out of memory"), CLI_FAILURE;
      }
    }
    /* go on after what the node says it looked at last (a node without pattern support sends
     * no resume: its page is unfiltered and ends with its last entry) */
    const char *go_on = res.resume[0] ? res.resume
                       : res.nentries ? res.entries[res.nentries - 1].name : NULL;
    bool more = res.more && go_on;
    free(after);
    after = more ? strdup(go_on) : NULL;
    rv_client_result_clear(&res);
    if (!more || !after) break;
  }
  free(after);
  return CLI_OK;
}

int cli_fs_expand_literal(cli_fs_t *fs, const char *cmd, const char *arg, cli_fs_items_t *out) {
  cli_fs_item_t *it = s_add(out);
  if (!it) return cli_fs_error(fs, cmd, "out of memory"), CLI_FAILURE;
  if (cli_fs_resolve(fs, cmd, arg, it) || s_stat(fs, cmd, it)) {
    free(it->shown);
    free(it->path);
    out->n--;
    return CLI_FAILURE;
  }
  return CLI_OK;
}

int cli_fs_expand(cli_fs_t *fs, const char *cmd, const char *arg, cli_fs_items_t *out) {
  if (!kv_glob_magic(arg, strlen(arg))) {
    cli_fs_item_t *it = s_add(out);
    if (!it) return cli_fs_error(fs, cmd, "out of memory"), CLI_FAILURE;
    if (cli_fs_resolve(fs, cmd, arg, it) || s_stat(fs, cmd, it)) {
      free(it->shown);
      free(it->path);
      out->n--;
      return CLI_FAILURE;
    }
    cli_fs_uri_t *u = it->exists ? malloc(sizeof *u) : NULL;
    char why[256];
    if (u && cli_fs_uri_parse(arg, fs->cwd, u, why, sizeof why) == 0) {
      /* found: shown as Hadoop shows what its glob step returns (normalised, relativised) */
      char shown[CLI_FS_PATH_MAX + CLI_FS_AUTH_MAX + 16];
      cli_fs_show_match(u, it->path, fs->cwd, shown, sizeof shown);
      char *s = strdup(shown);
      if (s) {
        free(it->shown);
        it->shown = s;
      }
    }
    free(u);
    return CLI_OK;
  }
  cli_fs_uri_t *u = malloc(sizeof *u);
  char why[256];
  if (!u) return cli_fs_error(fs, cmd, "out of memory"), CLI_FAILURE;
  if (cli_fs_uri_parse(arg, fs->cwd, u, why, sizeof why)) {
    cli_fs_error(fs, cmd, "%s", why);
    free(u);
    return CLI_FAILURE;
  }
  rv_client_t *c;
  if (cli_fs_client(fs, cmd, arg, u, &c)) {
    free(u);
    return CLI_FAILURE;
  }
  /* check every wildcard component first: a bad pattern is Hadoop's "Illegal file pattern" */
  int rc = CLI_OK;
  s_set_t cur = {0}, next = {0};
  if (!s_set_add(&cur, strdup("/"), NULL)) rc = CLI_FAILURE;
  const char *p = u->path;
  while (!rc && *p) {
    while (*p == '/') p++;
    if (!*p) break;
    const char *e = p;
    while (*e && *e != '/') e += (*e == '\\' && e[1]) ? 2 : 1;
    char comp[KV_GLOB_MAX + 1];
    size_t cl = (size_t)(e - p);
    if (cl > KV_GLOB_MAX) cl = KV_GLOB_MAX;
    memcpy(comp, p, cl);
    comp[cl] = '\0';
    p = e;
    if (kv_glob_magic(comp, cl)) {
      if (kv_glob_check(comp, cl, why, sizeof why)) {
        cli_fs_error(fs, cmd, "Illegal file pattern: %s", why);
        rc = CLI_FAILURE;
        break;
      }
      for (size_t i = 0; !rc && i < cur.n; i++)
        rc = s_list_match(fs, c, cmd, arg, cur.v[i], comp, &next);
    } else {
      char name[KV_GLOB_MAX + 1];
      kv_glob_unescape(comp, cl, name, sizeof name);
      for (size_t i = 0; !rc && i < cur.n; i++)
        if (!s_set_add(&next, cli_fs_join(cur.v[i], name), NULL)) rc = CLI_FAILURE;
    }
    s_set_clear(&cur);
    cur = next;
    memset(&next, 0, sizeof next);
  }
  size_t found = 0;
  for (size_t i = 0; !rc && i < cur.n; i++) {
    cli_fs_item_t *it = s_add(out);
    char shown[CLI_FS_PATH_MAX + CLI_FS_AUTH_MAX + 16];
    if (!it) {
      rc = CLI_FAILURE;
      break;
    }
    cli_fs_show_match(u, cur.v[i], fs->cwd, shown, sizeof shown);
    it->client = c;
    it->path = strdup(cur.v[i]);
    it->shown = strdup(shown);
    if (!it->path || !it->shown) {
      rc = CLI_FAILURE;
      break;
    }
    if (cur.known[i]) {
      it->exists = true;
      it->st = cur.st[i];
    } else if ((rc = s_stat(fs, cmd, it))) {
      break;
    }
    if (!it->exists) { /* a literal tail that is not there: not a match */
      free(it->path);
      free(it->shown);
      out->n--;
      continue;
    }
    found++;
  }
  s_set_clear(&cur);
  s_set_clear(&next);
  free(u);
  if (!rc && found == 0) {
    if (!fs->quiet_missing) cli_fs_error(fs, cmd, "`%s': No such file or directory", arg);
    rc = CLI_FAILURE;
  }
  return rc;
}
