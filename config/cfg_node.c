/* cfg_node: loads one node's YAML file into a cfg_node_t, walking the tree of cfg_yaml.c against
 * the key table of cfg_keys.c.
 *
 * I/O: reads the file and, for a secret given as "@file", that file; nothing else. The steps, in
 * order: walk the canonical sections (unknown keys refused, with a suggestion), collect the
 * top-level JindoFS/HDFS aliases, apply them (a key given both ways is refused), fill defaults
 * and refuse missing required keys, apply this node's rpc-address, derive the defaults that
 * depend on other keys, read the secret, and hand over to cfg_rules.c for the cross-field rules.
 * A YAML null ("key:" with nothing after it) counts as not given. */
#include "cfg_node.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg_keys.h"
#include "cfg_rules.h"
#include "cfg_security.h"
#include "cfg_source.h"
#include "cfg_value.h"
#include "cfg_yaml.h"
#include "fence_methods.h"

#define CFG_FILE_MAX (1 << 20)   /* a node file is a few KiB; refuse anything past 1 MiB */
#define CFG_SECRET_MAX (1 << 16) /* a secret file holds one key */

/* One parse in progress. */
typedef struct {
  cfg_node_t *cfg;
  cfg_source_t *src;
  rv_err_t *err;
  const cfg_yaml_node_t *root;
  const cfg_yaml_node_t *alias[CFG_KEYS_MAX];      /* value given under a node key's alias */
  const cfg_yaml_node_t *peer_alias[CFG_KEYS_MAX]; /* value given under a peer key's alias */
} load_t;

static int s_set(load_t *ld, const cfg_key_t *k, void *base, cfg_mark_t *mark,
                 const cfg_yaml_node_t *val, const char *label, const char *as,
                 cfg_alias_form_t form);

static int s_fail_at(load_t *ld, const cfg_yaml_node_t *at, const char *key, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));
static int s_fail_at(load_t *ld, const cfg_yaml_node_t *at, const char *key, const char *fmt,
                     ...) {
  char what[RV_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return cfg_source_fail(ld->src, ld->err, at ? at->line : 1, at ? at->col : 1, key, "%s", what);
}

static int s_unknown(load_t *ld, const cfg_table_t *t, const char *prefix,
                     const cfg_yaml_node_t *key, const char *label) {
  char q[96], near[128], known[512];
  cfg_yaml_quote(key->text, q, sizeof q);
  if (cfg_keys_suggest(t, prefix, key->text, t == &cfg_keys_node && !prefix[0], near,
                       sizeof near))
    return s_fail_at(ld, key, label, "unknown key %s; did you mean \"%s\"?", q, near);
  cfg_keys_children(t, prefix, known, sizeof known);
  return s_fail_at(ld, key, label, "unknown key %s; expected one of: %s", q, known);
}

/* Fills the keys of t that were not given: the default, or "missing required key" pointing at
 * the enclosing mapping (entry; for the top table, the key's section, else 1:1). */
static int s_defaults(load_t *ld, const cfg_table_t *t, void *base, cfg_mark_t *marks,
                      const cfg_yaml_node_t *entry, const char *prefix);

/* One entry (a mapping) of a node or actor list, walked against table t. */
static int s_walk_entry(load_t *ld, const cfg_table_t *t, const cfg_yaml_node_t *map, void *base,
                        cfg_mark_t *marks, const char *label) {
  char known[256], got[96], klabel[256];
  if (map->kind != CFG_YAML_MAP) {
    cfg_keys_children(t, "", known, sizeof known);
    return s_fail_at(ld, map, label, "expected a mapping of %s, got %s", known,
                     cfg_yaml_describe(map, got, sizeof got));
  }
  for (size_t i = 0; i < map->n; i++) {
    snprintf(klabel, sizeof klabel, "%s.%s", label, map->keys[i]->text);
    const cfg_key_t *k = cfg_keys_find(t, map->keys[i]->text);
    if (!k) return s_unknown(ld, t, "", map->keys[i], klabel);
    int rc = s_set(ld, k, base, &marks[cfg_keys_index(t, k)], map->items[i], klabel, k->path,
                   CFG_ALIAS_SAME);
    if (rc) return rc;
  }
  snprintf(klabel, sizeof klabel, "%s.", label);
  return s_defaults(ld, t, base, marks, map, klabel);
}

/* cluster.nodes or actors: a list of mappings. */
static int s_set_entries(load_t *ld, const cfg_key_t *k, const cfg_yaml_node_t *val,
                         const char *label) {
  char exp[160], got[96], elabel[128];
  cfg_value_expected(k, exp, sizeof exp);
  if (val->kind != CFG_YAML_SEQ)
    return s_fail_at(ld, val, label, "expected %s, got %s", exp,
                     cfg_yaml_describe(val, got, sizeof got));
  if ((long)val->n < k->min) return s_fail_at(ld, val, label, "expected %s, got none", exp);
  bool peers = k->type == CFG_T_NODELIST, clients = k->type == CFG_T_CLIENTLIST;
  char *array = (char *)ld->cfg + k->offset;
  int *count = (int *)((char *)ld->cfg + k->count_offset);
  cfg_value_clear(k, ld->cfg);
  for (size_t i = 0; i < val->n; i++) {
    snprintf(elabel, sizeof elabel, "%s[%zu]", label, i);
    if ((long)i >= k->max)
      return s_fail_at(ld, val->items[i], elabel, "expected %s, got %zu entries", exp, val->n);
    const cfg_yaml_node_t *item = val->items[i];
    cfg_mark_t at = {item->line, item->col, k->path};
    (*count)++; /* counted before it is filled, so that a failure still frees what it owns */
    if (peers) ld->src->node[i] = at;
    else if (clients) ld->src->client[i] = at;
    else ld->src->actor[i] = at;
    cfg_mark_t *marks = peers     ? ld->src->peer[i]
                        : clients ? ld->src->client_key[i]
                                  : ld->src->actor_key[i];
    int rc = s_walk_entry(ld, k->sub, item, array + i * k->sub->size, marks, elabel);
    if (rc) return rc;
  }
  return 0;
}

/* The JindoFS form: "host1:8103:0,host2:8103:0" (or a list of them) -> n1, n2, ... */
static int s_set_peers_alias(load_t *ld, const cfg_key_t *k, const cfg_yaml_node_t *val) {
  const char *alias = k->alias;
  char got[96], label[128], one[CFG_HOST_MAX + 32];
  const cfg_key_t *sub = k->sub->keys;
  size_t nsub = k->sub->n;
  cfg_node_t *cfg = ld->cfg;
  size_t items = val->kind == CFG_YAML_SEQ ? val->n : 1;
  if (val->kind == CFG_YAML_MAP)
    return s_fail_at(ld, val, alias, "expected \"host:port[:index],...\", got a mapping");
  cfg_value_clear(k, cfg);
  for (size_t j = 0; j < items; j++) {
    const cfg_yaml_node_t *it = val->kind == CFG_YAML_SEQ ? val->items[j] : val;
    if (it->kind != CFG_YAML_SCALAR)
      return s_fail_at(ld, it, alias, "expected host:port[:index], got %s",
                       cfg_yaml_describe(it, got, sizeof got));
    for (const char *s = it->text; *s;) {
      size_t n = strcspn(s, ",");
      const char *e = s + n;
      while (s < e && (*s == ' ' || *s == '\t' || *s == '\n')) s++;
      size_t m = (size_t)(e - s);
      while (m > 0 && (s[m - 1] == ' ' || s[m - 1] == '\t' || s[m - 1] == '\n')) m--;
      int i = cfg->nnodes;
      snprintf(label, sizeof label, "%s[%d]", alias, i);
      if (m > 0) {
        if (i >= k->max)
          return s_fail_at(ld, it, alias, "expected at most %ld host:port[:index] entries, got more",
                           k->max);
        snprintf(one, sizeof one, "%.*s", (int)m, s);
        cfg_peer_t *p = &cfg->nodes[i];
        long index;
        if (m >= sizeof one - 1 ||
            cfg_value_hostport(one, p->host, sizeof p->host, &p->raft_port, &index))
          return s_fail_at(ld, it, label, "expected host:port[:index], got %s",
                           cfg_yaml_quote(one, got, sizeof got));
        snprintf(p->id, sizeof p->id, "n%d", i + 1);
        cfg_mark_t at = {it->line, it->col, alias};
        ld->src->node[i] = at;
        p->voter = true; /* initial-conf lists the initial voters */
        for (size_t f = 0; f < nsub; f++)
          if (strcmp(sub[f].path, "client-port") != 0) ld->src->peer[i][f] = at;
        cfg->nnodes++;
      }
      s = *e ? e + 1 : e;
    }
  }
  if (cfg->nnodes == 0)
    return s_fail_at(ld, val, alias, "expected 1..%ld host:port[:index] entries, got none",
                     k->max);
  return 0;
}

/* A string or path list: a YAML list, or (alias forms) one string cut at newlines or commas. */
static int s_set_list(load_t *ld, const cfg_key_t *k, void *base, const cfg_yaml_node_t *val,
                      const char *label, cfg_alias_form_t form) {
  char why[512], exp[160], got[96], ilabel[256], one[CFG_PATH_MAX];
  cfg_value_clear(k, base);
  if (val->kind == CFG_YAML_SEQ) {
    for (size_t i = 0; i < val->n; i++) {
      const cfg_yaml_node_t *it = val->items[i];
      snprintf(ilabel, sizeof ilabel, "%s[%zu]", label, i);
      if (it->kind != CFG_YAML_SCALAR)
        return s_fail_at(ld, it, ilabel, "expected a string, got %s",
                         cfg_yaml_describe(it, got, sizeof got));
      if (cfg_value_append(k, base, it->text, ld->src->dir, why, sizeof why))
        return s_fail_at(ld, it, ilabel, "%s", why);
    }
    return 0;
  }
  if (val->kind != CFG_YAML_SCALAR || form == CFG_ALIAS_SAME)
    return s_fail_at(ld, val, label, "expected %s, got %s", cfg_value_expected(k, exp, sizeof exp),
                     cfg_yaml_describe(val, got, sizeof got));
  const char *sep = form == CFG_ALIAS_LINES ? "\n" : ",";
  for (const char *s = val->text; *s;) {
    size_t n = strcspn(s, sep);
    const char *e = s + n;
    size_t m;
    if (form == CFG_ALIAS_LINES) { /* fencing methods, as Hadoop reads them: # comments too */
      size_t start;
      m = fence_methods_line(s, n, &start);
      s += start;
    } else {
      while (s < e && strchr(" \t\r\n", *s)) s++;
      m = (size_t)(e - s);
      while (m > 0 && strchr(" \t\r\n", s[m - 1])) m--;
    }
    if (m > 0) {
      snprintf(ilabel, sizeof ilabel, "%s[%d]", label, *(int *)((char *)base + k->count_offset));
      snprintf(one, sizeof one, "%.*s", (int)m, s);
      if (cfg_value_append(k, base, one, ld->src->dir, why, sizeof why)) {
        /* in a literal block ("|"), point at the item's own line and column */
        cfg_yaml_node_t at = *val;
        if (val->literal_indent > 0) {
          int nl = 0;
          for (const char *c = val->text; c < s; c++) nl += *c == '\n';
          const char *bol = s;
          while (bol > val->text && bol[-1] != '\n') bol--;
          at.line = val->line + 1 + nl;
          at.col = val->literal_indent + 1 + (int)(s - bol);
        }
        return s_fail_at(ld, &at, ilabel, "%s", why);
      }
    }
    s = *e ? e + 1 : e;
  }
  return 0;
}

/* Stores val as k's value in base and records where; label names it in messages, as is what
 * the mark records (k->path or k->alias). A null val is "not given": nothing happens. */
static int s_set(load_t *ld, const cfg_key_t *k, void *base, cfg_mark_t *mark,
                 const cfg_yaml_node_t *val, const char *label, const char *as,
                 cfg_alias_form_t form) {
  char why[512], exp[160], got[96];
  int rc = 0;
  if (val->kind == CFG_YAML_SCALAR && val->null) return 0;
  switch (k->type) {
    case CFG_T_STRLIST:
    case CFG_T_PATHLIST:
      rc = s_set_list(ld, k, base, val, label, form);
      break;
    case CFG_T_NODELIST:
    case CFG_T_ACTORLIST:
    case CFG_T_CLIENTLIST:
      rc = form == CFG_ALIAS_PEERS ? s_set_peers_alias(ld, k, val)
                                   : s_set_entries(ld, k, val, label);
      break;
    default:
      if (val->kind != CFG_YAML_SCALAR)
        return s_fail_at(ld, val, label, "expected %s, got %s",
                         cfg_value_expected(k, exp, sizeof exp),
                         cfg_yaml_describe(val, got, sizeof got));
      if (cfg_value_set(k, base, val->text, ld->src->dir, why, sizeof why))
        return s_fail_at(ld, val, label, "%s", why);
  }
  if (rc) return rc;
  *mark = (cfg_mark_t){val->line, val->col, as};
  return 0;
}

/* The sections of the file (prefix "" = the top level), against cfg_keys_node. */
static int s_walk_section(load_t *ld, const cfg_yaml_node_t *map, const char *prefix) {
  const cfg_table_t *t = &cfg_keys_node;
  char full[256], known[256], got[96];
  for (size_t i = 0; i < map->n; i++) {
    const char *name = map->keys[i]->text;
    const cfg_yaml_node_t *val = map->items[i];
    snprintf(full, sizeof full, "%s%s%s", prefix, prefix[0] ? "." : "", name);
    const cfg_key_t *k = cfg_keys_find(t, full);
    const cfg_table_t *at;
    int rc;
    if (k) {
      rc = s_set(ld, k, ld->cfg, &ld->src->top[cfg_keys_index(t, k)], val, full, k->path,
                 CFG_ALIAS_SAME);
    } else if (cfg_keys_is_section(t, full)) {
      if (val->kind == CFG_YAML_SCALAR && val->null) continue;
      cfg_keys_children(t, full, known, sizeof known);
      if (val->kind != CFG_YAML_MAP)
        return s_fail_at(ld, val, full, "expected a mapping of %s, got %s", known,
                         cfg_yaml_describe(val, got, sizeof got));
      rc = s_walk_section(ld, val, full);
    } else if (!prefix[0] && (k = cfg_keys_find_alias(name, &at))) {
      (at == t ? ld->alias : ld->peer_alias)[cfg_keys_index(at, k)] = val;
      rc = 0;
    } else {
      rc = s_unknown(ld, t, prefix, map->keys[i], full);
    }
    if (rc) return rc;
  }
  return 0;
}

/* The same key given as itself (a) and as its alias (b): refused where the second one is. */
static int s_conflict(load_t *ld, const char *a_label, const cfg_mark_t *a, const char *b_label,
                      const cfg_yaml_node_t *b) {
  if (a->line > b->line || (a->line == b->line && a->col > b->col))
    return cfg_source_fail(ld->src, ld->err, a->line, a->col, a_label,
                           "also given as %s at line %d; give it once", b_label, b->line);
  return cfg_source_fail(ld->src, ld->err, b->line, b->col, b_label,
                         "also given as %s at line %d; give it once", a_label, a->line);
}

static int s_apply_aliases(load_t *ld) {
  const cfg_table_t *t = &cfg_keys_node;
  for (size_t i = 0; i < t->n; i++) {
    const cfg_key_t *k = &t->keys[i];
    const cfg_yaml_node_t *val = ld->alias[i];
    if (!val) continue;
    cfg_mark_t *mark = &ld->src->top[i];
    if (mark->as) return s_conflict(ld, k->path, mark, k->alias, val);
    int rc = s_set(ld, k, ld->cfg, mark, val, k->alias, k->alias, k->alias_form);
    if (rc) return rc;
  }
  return 0;
}

/* jfs.namespace.server.rpc-address: this node's client port ("host:port"). When node.id names no
 * entry, nothing is done here: cfg_rules.c says what is wrong with node.id. */
static int s_apply_rpc_address(load_t *ld) {
  const cfg_key_t *k = cfg_keys_find(&cfg_keys_peer, "client-port");
  size_t ki = cfg_keys_index(&cfg_keys_peer, k);
  const cfg_yaml_node_t *val = ld->peer_alias[ki];
  cfg_node_t *cfg = ld->cfg;
  char host[CFG_HOST_MAX], got[96], label[128];
  if (!val || (val->kind == CFG_YAML_SCALAR && val->null)) return 0;
  int self = -1;
  for (int i = 0; i < cfg->nnodes && self < 0; i++)
    if (!strcmp(cfg->nodes[i].id, cfg->node_id)) self = i;
  if (self < 0) return 0;
  cfg_mark_t *mark = &ld->src->peer[self][ki];
  if (mark->as) {
    snprintf(label, sizeof label, "cluster.nodes[%d].client-port", self);
    return s_conflict(ld, label, mark, k->alias, val);
  }
  int port;
  if (val->kind != CFG_YAML_SCALAR ||
      cfg_value_hostport(val->text, host, sizeof host, &port, NULL))
    return s_fail_at(ld, val, k->alias, "expected host:port, got %s",
                     cfg_yaml_describe(val, got, sizeof got));
  cfg->nodes[self].client_port = port;
  *mark = (cfg_mark_t){val->line, val->col, k->alias};
  return 0;
}

/* The actors of the default list (k->def: comma-separated names), each with its defaults. */
static int s_default_actors(load_t *ld, const cfg_key_t *k) {
  const cfg_key_t *name = cfg_keys_find(k->sub, "name");
  char one[CFG_ID_MAX + 1], why[256];
  for (const char *s = k->def; *s;) {
    size_t n = strcspn(s, ",");
    snprintf(one, sizeof one, "%.*s", (int)n, s);
    int i = ld->cfg->nactors++;
    cfg_actor_t *a = &ld->cfg->actors[i];
    if (cfg_value_set(name, a, one, ld->src->dir, why, sizeof why))
      return rv_err_set(ld->err, RV_EINTERNAL, "default actor %s: %s", one, why);
    ld->src->actor_key[i][cfg_keys_index(k->sub, name)].as = k->path; /* given, by the list */
    int rc = s_defaults(ld, k->sub, a, ld->src->actor_key[i], NULL, "actors[].");
    if (rc) return rc;
    s += n + (s[n] == ',');
  }
  return 0;
}

static int s_defaults(load_t *ld, const cfg_table_t *t, void *base, cfg_mark_t *marks,
                      const cfg_yaml_node_t *entry, const char *prefix) {
  char why[256], section[256], hint[160] = "";
  for (size_t i = 0; i < t->n; i++) {
    const cfg_key_t *k = &t->keys[i];
    if (marks[i].as) continue;
    if (k->required) {
      const cfg_yaml_node_t *at = entry;
      if (!at) {
        snprintf(section, sizeof section, "%s", k->path);
        char *dot = strrchr(section, '.');
        if (dot) *dot = '\0';
        at = dot ? cfg_yaml_find(ld->root, section) : ld->root;
        if (at && at->kind != CFG_YAML_MAP) at = NULL;
      }
      if (k->alias && t == &cfg_keys_node)
        snprintf(hint, sizeof hint, " (or its alias %s at the top level)", k->alias);
      char label[256];
      snprintf(label, sizeof label, "%s%s", prefix, k->path);
      return s_fail_at(ld, at, label, "missing required key%s", hint);
    }
    if (!k->def) continue; /* derived from other keys: s_derive */
    int rc = 0;
    if (k->type == CFG_T_ACTORLIST) rc = s_default_actors(ld, k);
    else if (cfg_value_set(k, base, k->def, ld->src->dir, why, sizeof why))
      rc = rv_err_set(ld->err, RV_EINTERNAL, "default of %s: %s", k->path, why);
    if (rc) return rc;
  }
  return 0;
}

/* A setting that is accepted must do what it says: fencing methods configured means a fencer to
 * run them, so one is added at the end of the actors (with its defaults) unless listed. */
static int s_add_fencer(load_t *ld) {
  cfg_node_t *cfg = ld->cfg;
  if (cfg->nfence_methods == 0 || cfg_node_actor(cfg, "fencer")) return 0;
  const cfg_mark_t *m = cfg_source_top(ld->src, "ha.fencing.methods");
  if (cfg->nactors >= CFG_MAX_ACTORS)
    return cfg_source_fail(ld->src, ld->err, m->line, m->col, m->as,
                           "fencing methods need the fencer actor, and actors already has the "
                           "most (%d): remove one, or list fencer in its place", CFG_MAX_ACTORS);
  const cfg_key_t *name = cfg_keys_find(&cfg_keys_actor, "name");
  char why[256];
  int i = cfg->nactors++;
  if (cfg_value_set(name, &cfg->actors[i], "fencer", ld->src->dir, why, sizeof why))
    return rv_err_set(ld->err, RV_EINTERNAL, "the fencer actor: %s", why);
  ld->src->actor_key[i][cfg_keys_index(&cfg_keys_actor, name)] = *m;
  return s_defaults(ld, &cfg_keys_actor, &cfg->actors[i], ld->src->actor_key[i], NULL,
                    "actors[].");
}

/* The same for the remote copy: ots.enabled (or ots.recovery-mode) means an ots-replicator to
 * upload (or recover), placed right after kv-store (it talks to it) unless listed. */
static int s_add_replicator(load_t *ld) {
  cfg_node_t *cfg = ld->cfg;
  if ((!cfg->ots_enabled && !cfg->ots_recovery_mode) || cfg_node_actor(cfg, "ots-replicator"))
    return 0;
  const char *key = cfg->ots_enabled ? "ots.enabled" : "ots.recovery-mode";
  const cfg_mark_t *m = cfg_source_top(ld->src, key);
  if (cfg->nactors >= CFG_MAX_ACTORS)
    return cfg_source_fail(ld->src, ld->err, m->line, m->col, m->as,
                           "the remote copy needs the ots-replicator actor, and actors already "
                           "has the most (%d): remove one, or list ots-replicator in its place",
                           CFG_MAX_ACTORS);
  int at = cfg->nactors;
  for (int i = 0; i < cfg->nactors; i++)
    if (strcmp(cfg->actors[i].name, "kv-store") == 0) at = i + 1;
  for (int i = cfg->nactors; i > at; i--) {
    cfg->actors[i] = cfg->actors[i - 1];
    ld->src->actor[i] = ld->src->actor[i - 1];
    memcpy(ld->src->actor_key[i], ld->src->actor_key[i - 1], sizeof ld->src->actor_key[i]);
  }
  cfg->nactors++;
  memset(&cfg->actors[at], 0, sizeof cfg->actors[at]);
  memset(&ld->src->actor[at], 0, sizeof ld->src->actor[at]);
  memset(ld->src->actor_key[at], 0, sizeof ld->src->actor_key[at]);
  const cfg_key_t *name = cfg_keys_find(&cfg_keys_actor, "name");
  char why[256];
  if (cfg_value_set(name, &cfg->actors[at], "ots-replicator", ld->src->dir, why, sizeof why))
    return rv_err_set(ld->err, RV_EINTERNAL, "the ots-replicator actor: %s", why);
  ld->src->actor_key[at][cfg_keys_index(&cfg_keys_actor, name)] = *m;
  return s_defaults(ld, &cfg_keys_actor, &cfg->actors[at], ld->src->actor_key[at], NULL,
                    "actors[].");
}

/* Defaults that depend on other keys: run-dir, log-dir, each peer's client-port, each actor's
 * shutdown-timeout-ms; the fencer actor when fencing methods are configured. */
static int s_derive(load_t *ld) {
  cfg_node_t *cfg = ld->cfg;
  cfg_source_t *src = ld->src;
  const cfg_mark_t *dd = cfg_source_top(src, "node.data-dir");
  struct {
    char *dir;
    const char *sub;
  } dirs[] = {{cfg->run_dir, "run"}, {cfg->log_dir, "log"}};
  for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
    if (dirs[i].dir[0]) continue;
    int w = snprintf(dirs[i].dir, CFG_PATH_MAX, "%s/%s", cfg->data_dir, dirs[i].sub);
    if (w < 0 || w >= CFG_PATH_MAX)
      return cfg_source_fail(src, ld->err, dd->line, dd->col, dd->as, "path too long");
  }
  size_t cp = cfg_keys_index(&cfg_keys_peer, cfg_keys_find(&cfg_keys_peer, "client-port"));
  size_t vk = cfg_keys_index(&cfg_keys_peer, cfg_keys_find(&cfg_keys_peer, "voter"));
  for (int i = 0; i < cfg->nnodes; i++) {
    cfg_peer_t *p = &cfg->nodes[i];
    if (!src->peer[i][vk].as) p->voter = true; /* also for nodes given by an alias's list */
    if (src->peer[i][cp].as) continue;
    if (p->raft_port + 100 > 65535) {
      char label[160];
      cfg_mark_t m = cfg_source_peer(src, i, "raft-port", label, sizeof label);
      return cfg_source_fail(src, ld->err, m.line, m.col, label,
                             "raft-port %d + 100 is not a port; give client-port", p->raft_port);
    }
    p->client_port = p->raft_port + 100;
  }
  int rc = s_add_replicator(ld);
  if (!rc) rc = s_add_fencer(ld);
  if (rc) return rc;
  size_t st =
      cfg_keys_index(&cfg_keys_actor, cfg_keys_find(&cfg_keys_actor, "shutdown-timeout-ms"));
  for (int i = 0; i < cfg->nactors; i++)
    if (!src->actor_key[i][st].as) cfg->actors[i].shutdown_timeout_ms = cfg->shutdown_timeout_ms;
  return 0;
}

/* A secret given as "@file": the file's content, trailing newlines cut; a warning when group
 * or others may read it. */
static int s_read_secret(load_t *ld, const cfg_key_t *k, const cfg_mark_t *m) {
  char **secret = (char **)((char *)ld->cfg + k->offset);
  if (!*secret || (*secret)[0] != '@') return 0;
  char path[CFG_PATH_MAX], q[96];
  cfg_source_t *src = ld->src;
  if (!(*secret)[1] || cfg_value_path(src->dir, *secret + 1, path, sizeof path))
    return cfg_source_fail(src, ld->err, m->line, m->col, m->as,
                           "expected @/path/to/file, got %s", cfg_yaml_quote(*secret, q, sizeof q));
  cfg_yaml_quote(path, q, sizeof q);
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    return cfg_source_fail(src, ld->err, m->line, m->col, m->as, "cannot read secret file %s: %s",
                           q, strerror(e));
  }
  char *buf = malloc(CFG_SECRET_MAX + 1);
  ssize_t n = 0, r = 0;
  while (buf && n <= CFG_SECRET_MAX &&
         (r = read(fd, buf + n, (size_t)(CFG_SECRET_MAX + 1 - n))) != 0) {
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    n += r;
  }
  int e = errno;
  close(fd);
  int rc = 0;
  if (!buf) rc = rv_err_set(ld->err, RV_ENOMEM, "%s: out of memory", src->name);
  else if (r < 0)
    rc = cfg_source_fail(src, ld->err, m->line, m->col, m->as, "cannot read secret file %s: %s",
                         q, strerror(e));
  else if (n > CFG_SECRET_MAX)
    rc = cfg_source_fail(src, ld->err, m->line, m->col, m->as,
                         "secret file %s is larger than %d bytes", q, CFG_SECRET_MAX);
  while (!rc && n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) n--;
  if (!rc && n == 0)
    rc = cfg_source_fail(src, ld->err, m->line, m->col, m->as, "secret file %s is empty", q);
  if (!rc && memchr(buf, '\0', (size_t)n))
    rc = cfg_source_fail(src, ld->err, m->line, m->col, m->as,
                         "secret file %s contains a NUL byte", q);
  if (!rc) {
    buf[n] = '\0';
    explicit_bzero(*secret, strlen(*secret));
    free(*secret);
    *secret = buf;
    buf = NULL;
    if (st.st_mode & 077)
      cfg_source_warn(src, m->line, m->col, m->as,
                      "secret file %s is open to group or others (mode %04o); chmod 600 it", q,
                      (unsigned)(st.st_mode & 07777));
  }
  if (buf) explicit_bzero(buf, CFG_SECRET_MAX + 1);
  free(buf);
  return rc;
}

/* The directory of name, absolute and clean, for relative paths. */
static int s_base_dir(const char *name, char *out, size_t len, rv_err_t *err) {
  char dir[CFG_PATH_MAX], cwd[CFG_PATH_MAX];
  const char *slash = strrchr(name, '/');
  if (!slash) snprintf(dir, sizeof dir, ".");
  else snprintf(dir, sizeof dir, "%.*s", slash == name ? 1 : (int)(slash - name), name);
  if (dir[0] != '/' && !getcwd(cwd, sizeof cwd))
    return rv_err_set(err, RV_EIO, "%s: cannot find the current directory: %s", name,
                      strerror(errno));
  if (cfg_value_path(dir[0] == '/' ? "/" : cwd, dir, out, len))
    return rv_err_set(err, RV_ECONFIG, "%s: path too long", name);
  return 0;
}

/* security.key: the secret file read (as any secret), then its key pair parsed, so that a file
 * that is not a key pair is refused here, naming the key, rather than at the first handshake. */
static int s_read_key_pair(load_t *ld) {
  const cfg_key_t *k = cfg_keys_find(&cfg_keys_node, "security.key");
  const cfg_mark_t *m = &ld->src->top[cfg_keys_index(&cfg_keys_node, k)];
  int rc = s_read_secret(ld, k, m);
  cfg_node_t *cfg = ld->cfg;
  if (rc || !cfg->security_key || !cfg->security_key[0]) return rc;
  char why[256];
  if (cfg_security_parse_pair(cfg->security_key, cfg->security_secret_z85,
                              cfg->security_public_z85, why, sizeof why))
    return cfg_source_fail(ld->src, ld->err, m->line, m->col, m->as, "%s", why);
  return 0;
}

static int s_name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads one client certificate file into text[CFG_CLIENT_FILE_MAX + 1]: 0, or -1 with why. */
static int s_read_cert(const char *path, char *text, char *why, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    snprintf(why, len, "cannot read: %s", strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    snprintf(why, len, "not a regular file");
    return -1;
  }
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fd, text + n, CFG_CLIENT_FILE_MAX + 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      snprintf(why, len, "cannot read: %s", strerror(errno));
      close(fd);
      return -1;
    }
    if (r == 0 || (n += (size_t)r) > CFG_CLIENT_FILE_MAX) break;
  }
  close(fd);
  if (n > CFG_CLIENT_FILE_MAX) {
    snprintf(why, len, "larger than %d bytes: not a public certificate", CFG_CLIENT_FILE_MAX);
    return -1;
  }
  text[n] = '\0';
  return 0;
}

/* security.clients-dir: every NAME.pub in it (sorted by name; other files and hidden ones are
 * not read) is a client of principal NAME, after the inline list. A file's metadata name, when
 * it has one, must be NAME too (a renamed file is refused rather than guessed at). A bad file,
 * a duplicate key or principal, or a node's key fails the load, naming the file. */
static int s_clients_dir(load_t *ld) {
  cfg_node_t *cfg = ld->cfg;
  const char *dir = cfg->security_clients_dir;
  if (!dir[0]) return 0;
  const cfg_mark_t *m = cfg_source_top(ld->src, "security.clients-dir");
  const char *key = m->as ? m->as : "security.clients-dir";
  DIR *d = opendir(dir);
  if (!d)
    return cfg_source_fail(ld->src, ld->err, m->line, m->col, key, "cannot read directory %s: %s",
                           dir, strerror(errno));
  char **names = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  for (struct dirent *e; !rc && (e = readdir(d));) {
    size_t l = strlen(e->d_name);
    if (e->d_name[0] == '.' || l <= 4 || strcmp(e->d_name + l - 4, ".pub") != 0) continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 64;
      char **more = realloc(names, cap * sizeof *names);
      if (!more) {
        rc = rv_err_set(ld->err, RV_ENOMEM, "out of memory");
        break;
      }
      names = more;
    }
    if (!(names[n] = strdup(e->d_name))) rc = rv_err_set(ld->err, RV_ENOMEM, "out of memory");
    else n++;
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, s_name_cmp);
  char *text = rc ? NULL : malloc(CFG_CLIENT_FILE_MAX + 1);
  if (!rc && !text) rc = rv_err_set(ld->err, RV_ENOMEM, "out of memory");
  for (size_t i = 0; !rc && i < n; i++) {
    char path[CFG_PATH_MAX + 256], why[CFG_PATH_MAX + 256], pub[CFG_KEY_Z85_LEN + 1], meta[128];
    char principal[256];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    snprintf(principal, sizeof principal, "%.*s", (int)(strlen(names[i]) - 4), names[i]);
    if (s_read_cert(path, text, why, sizeof why) == 0 &&
        cfg_security_parse_public(text, pub, why, sizeof why) == 0) {
      cfg_security_pair_name(text, meta, sizeof meta);
      if (meta[0] && strcmp(meta, principal) != 0)
        snprintf(why, sizeof why, "its name is \"%s\", not %s: the principal is the file's "
                 "name (rename the file, or make a certificate for %s)", meta, principal,
                 principal);
      else if (cfg_security_add_client(cfg, principal, pub, dir, why, sizeof why) == 0)
        continue;
    }
    rc = cfg_source_fail(ld->src, ld->err, m->line, m->col, key, "%s: %s", path, why);
  }
  free(text);
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  return rc;
}

int cfg_node_parse(const char *name, const char *yaml, size_t len, cfg_node_t **out, int warn_fd,
                   rv_err_t *err) {
  *out = NULL;
  cfg_yaml_node_t *root = NULL;
  int rc = cfg_yaml_parse(name, yaml, len, &root, err);
  if (rc) return rc;
  if (!root)
    return rv_err_set(err, RV_ECONFIG,
                      "%s:1:1: empty file; expected a mapping with at least node and cluster",
                      name);
  cfg_node_t *cfg = calloc(1, sizeof *cfg);
  cfg_source_t *src = calloc(1, sizeof *src);
  load_t ld = {.cfg = cfg, .src = src, .err = err, .root = root};
  if (!cfg || !src) {
    rc = rv_err_set(err, RV_ENOMEM, "%s: out of memory", name);
    goto done;
  }
  src->name = name;
  src->warn_fd = warn_fd;
  snprintf(cfg->source, sizeof cfg->source, "%s", name);
  if (root->kind != CFG_YAML_MAP) {
    char known[256], got[96];
    cfg_keys_children(&cfg_keys_node, "", known, sizeof known);
    rc = s_fail_at(&ld, root, NULL, "expected a mapping of sections (%s) at the top level, got %s",
                   known, cfg_yaml_describe(root, got, sizeof got));
    goto done;
  }
  const cfg_key_t *secret = cfg_keys_find(&cfg_keys_node, "ots.access-key-secret");
  rc = s_base_dir(name, src->dir, sizeof src->dir, err);
  if (!rc) rc = s_walk_section(&ld, root, "");
  if (!rc) rc = s_apply_aliases(&ld);
  if (!rc) rc = s_defaults(&ld, &cfg_keys_node, cfg, src->top, NULL, "");
  if (!rc) rc = s_apply_rpc_address(&ld);
  if (!rc) rc = s_derive(&ld);
  if (!rc) rc = s_read_secret(&ld, secret, &src->top[cfg_keys_index(&cfg_keys_node, secret)]);
  if (!rc) rc = s_read_key_pair(&ld);
  if (!rc) cfg->nclients = cfg->nclients_inline;
  if (!rc) rc = cfg_rules_check(cfg, src, err);
  if (!rc) rc = s_clients_dir(&ld);
done:
  cfg_yaml_destroy(&root);
  free(src);
  if (rc) cfg_node_destroy(&cfg);
  *out = cfg;
  return rc;
}

int cfg_node_load(const char *path, cfg_node_t **out, int warn_fd, rv_err_t *err) {
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return rv_err_set(err, RV_EIO, "%s: cannot read: %s", path, strerror(errno));
  size_t cap = 8192, n = 0;
  char *buf = malloc(cap);
  int rc = 0;
  while (buf && !rc) {
    if (n == cap) {
      char *more = cap > CFG_FILE_MAX ? NULL : realloc(buf, cap * 2);
      if (!more) {
        rc = cap > CFG_FILE_MAX ? rv_err_set(err, RV_ECONFIG, "%s: larger than %d bytes", path,
                                             CFG_FILE_MAX)
                                : rv_err_set(err, RV_ENOMEM, "%s: out of memory", path);
        break;
      }
      buf = more;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) rc = rv_err_set(err, RV_EIO, "%s: cannot read: %s", path, strerror(errno));
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(fd);
  if (!buf) return rv_err_set(err, RV_ENOMEM, "%s: out of memory", path);
  if (!rc && n > CFG_FILE_MAX)
    rc = rv_err_set(err, RV_ECONFIG, "%s: larger than %d bytes", path, CFG_FILE_MAX);
  if (!rc) rc = cfg_node_parse(path, buf, n, out, warn_fd, err);
  explicit_bzero(buf, n); /* the file may hold the secret itself */
  free(buf);
  return rc;
}

void cfg_node_destroy(cfg_node_t **cfg) {
  if (!cfg || !*cfg) return;
  for (size_t i = 0; i < cfg_keys_node.n; i++) cfg_value_clear(&cfg_keys_node.keys[i], *cfg);
  free(*cfg);
  *cfg = NULL;
}

const cfg_actor_t *cfg_node_actor(const cfg_node_t *cfg, const char *name) {
  for (int i = 0; i < cfg->nactors; i++)
    if (!strcmp(cfg->actors[i].name, name)) return &cfg->actors[i];
  return NULL;
}

void cfg_peer_endpoint(const cfg_peer_t *peer, int port, char *buf, size_t len) {
  bool v6 = strchr(peer->host, ':') != NULL;
  snprintf(buf, len, "tcp://%s%s%s:%d", v6 ? "[" : "", peer->host, v6 ? "]" : "", port);
}

void cfg_node_listen_endpoint(const cfg_node_t *cfg, int port, char *buf, size_t len) {
  cfg_peer_t p = cfg->nodes[cfg->self];
  if (cfg->listen_host[0]) snprintf(p.host, sizeof p.host, "%s", cfg->listen_host);
  cfg_peer_endpoint(&p, port, buf, len);
}
