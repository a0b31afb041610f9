/* cfg_dump: writes a cfg_node_t back out as YAML (the effective configuration, defaults
 * included, secrets shown as "<hidden>"), and the key table as a Markdown reference.
 *
 * Both walk the key table only, so a new key appears in both without touching this file. Output
 * is built in memory (open_memstream) and written to the fd at once. The dump is valid YAML that
 * cfg_node_parse reads back to the same values, the secret aside. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg_keys.h"
#include "cfg_node.h"

/* Closes the memory stream f (whose buffer and size open_memstream keeps in *buf, *n, valid
 * only once it is closed) and writes it all to fd. */
static void s_flush(FILE *f, char **buf, size_t *n, int fd) {
  fclose(f);
  for (size_t o = 0; *buf && o < *n;) {
    ssize_t w = write(fd, *buf + o, *n - o);
    if (w <= 0) break;
    o += (size_t)w;
  }
  free(*buf);
}

static void s_quoted(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c == '\n') fputs("\\n", f);
    else if (c == '\t') fputs("\\t", f);
    else if (c < 0x20 || c == 0x7f) fprintf(f, "\\x%02x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

/* An id or enum name plain, unless YAML would read it as something else than a string. */
static void s_word(FILE *f, const char *s) {
  static const char *const special[] = {"true", "false", "yes", "no", "on", "off", "null", "~"};
  bool quote = strspn(s, "0123456789") == strlen(s);
  for (size_t i = 0; i < sizeof special / sizeof *special; i++) quote |= !strcmp(s, special[i]);
  if (quote) s_quoted(f, s);
  else fputs(s, f);
}

static const void *s_field(const cfg_key_t *k, const void *base) {
  return (const char *)base + k->offset;
}

/* One value that fits on a line: a scalar, or a string list in flow form. */
static void s_value(FILE *f, const cfg_key_t *k, const void *base) {
  const void *v = s_field(k, base);
  switch (k->type) {
    case CFG_T_STRING:
    case CFG_T_PATH: s_quoted(f, v); break;
    case CFG_T_ID: s_word(f, v); break;
    case CFG_T_INT: fprintf(f, "%d", *(const int *)v); break;
    case CFG_T_BOOL: fputs(*(const bool *)v ? "true" : "false", f); break;
    case CFG_T_ENUM: fputs(k->names[*(const int *)v], f); break;
    case CFG_T_SECRET: {
      const char *s = *(char *const *)v;
      fputs(s && s[0] ? "\"<hidden>\"" : "\"\"", f);
      break;
    }
    case CFG_T_STRLIST:
    case CFG_T_PATHLIST: {
      char *const *items = v;
      int n = *(const int *)((const char *)base + k->count_offset);
      fputc('[', f);
      for (int i = 0; i < n; i++) {
        if (i) fputs(", ", f);
        s_quoted(f, items[i]);
      }
      fputc(']', f);
      break;
    }
    default: break;
  }
}

/* A list of entries: nodes as one flow mapping per line, actors as block mappings. */
static void s_entries(FILE *f, const cfg_key_t *k, const void *base, int indent) {
  int n = *(const int *)((const char *)base + k->count_offset);
  if (n == 0) {
    fputs(" []\n", f);
    return;
  }
  fputc('\n', f);
  bool flow = k->type == CFG_T_NODELIST || k->type == CFG_T_CLIENTLIST;
  for (int i = 0; i < n; i++) {
    const void *entry = (const char *)s_field(k, base) + (size_t)i * k->sub->size;
    fprintf(f, "%*s- %s", indent, "", flow ? "{" : "");
    for (size_t j = 0; j < k->sub->n; j++) {
      const cfg_key_t *sk = &k->sub->keys[j];
      if (flow) fprintf(f, "%s%s: ", j ? ", " : "", sk->path);
      else fprintf(f, "%*s%s: ", j ? indent + 2 : 0, "", sk->path);
      s_value(f, sk, entry);
      if (!flow) fputc('\n', f);
    }
    if (flow) fputs("}\n", f);
  }
}

/* path's components before the last (its sections), into comps; returns how many. */
static int s_sections(const char *path, char comps[][64], int max) {
  int n = 0;
  for (const char *s = path; n < max;) {
    size_t len = strcspn(s, ".");
    if (!s[len]) break;
    snprintf(comps[n++], 64, "%.*s", (int)len, s);
    s += len + 1;
  }
  return n;
}

void cfg_node_dump(const cfg_node_t *cfg, int fd) {
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  if (!f) return;
  fputs("# raftvisor: the effective configuration of node ", f);
  s_quoted(f, cfg->node_id);
  fputs(", from ", f);
  s_quoted(f, cfg->source);
  fputs(" (defaults included, secrets hidden)\n", f);
  char prev[4][64], cur[4][64];
  int nprev = 0;
  for (size_t i = 0; i < cfg_keys_node.n; i++) {
    const cfg_key_t *k = &cfg_keys_node.keys[i];
    int ncur = s_sections(k->path, cur, 4), same = 0;
    while (same < ncur && same < nprev && !strcmp(cur[same], prev[same])) same++;
    for (int j = same; j < ncur; j++) fprintf(f, "%s%*s%s:\n", j ? "" : "\n", 2 * j, "", cur[j]);
    if (ncur == 0) fputc('\n', f);
    const char *leaf = strrchr(k->path, '.');
    fprintf(f, "%*s%s:", 2 * ncur, "", leaf ? leaf + 1 : k->path);
    if (k->type == CFG_T_NODELIST || k->type == CFG_T_ACTORLIST || k->type == CFG_T_CLIENTLIST) {
      s_entries(f, k, cfg, 2 * ncur + 2);
    } else {
      fputc(' ', f);
      s_value(f, k, cfg);
      fputc('\n', f);
    }
    memcpy(prev, cur, sizeof prev);
    nprev = ncur;
  }
  s_flush(f, &buf, &n, fd);
}

/* A Markdown table cell: '|' escaped, '<' and '>' as entities (not HTML tags), newlines
 * flattened. */
static void s_cell(FILE *f, const char *s) {
  for (; *s; s++) {
    if (*s == '|') fputs("\\|", f);
    else if (*s == '<') fputs("&lt;", f);
    else if (*s == '>') fputs("&gt;", f);
    else fputc(*s == '\n' ? ' ' : *s, f);
  }
}

static void s_type_doc(FILE *f, const cfg_key_t *k) {
  switch (k->type) {
    case CFG_T_STRING: fputs("string", f); break;
    case CFG_T_PATH: fputs("path", f); break;
    case CFG_T_ID: fputs("id", f); break;
    case CFG_T_INT: fprintf(f, "int %ld..%ld", k->min, k->max); break;
    case CFG_T_BOOL: fputs("bool", f); break;
    case CFG_T_ENUM:
      fputs("enum:", f);
      for (int i = 0; k->names[i]; i++) fprintf(f, "%s %s", i ? "," : "", k->names[i]);
      break;
    case CFG_T_STRLIST: fprintf(f, "string list (at most %ld)", k->max); break;
    case CFG_T_PATHLIST: fprintf(f, "path list (at most %ld)", k->max); break;
    case CFG_T_SECRET: fputs("secret", f); break;
    case CFG_T_NODELIST: fprintf(f, "node list (%ld..%ld)", k->min, k->max); break;
    case CFG_T_ACTORLIST: fprintf(f, "actor list (%ld..%ld)", k->min, k->max); break;
    case CFG_T_CLIENTLIST: fprintf(f, "client list (%ld..%ld)", k->min, k->max); break;
  }
}

static void s_row(FILE *f, const char *prefix, const cfg_key_t *k) {
  static const char *const forms[] = {
      [CFG_ALIAS_SAME] = "",
      [CFG_ALIAS_PEERS] = " (\"host:port[:index],...\": ids n1..nN in order)",
      [CFG_ALIAS_HOSTPORT] = " (\"host:port\": this node's)",
      [CFG_ALIAS_LINES] = " (one per line)",
      [CFG_ALIAS_COMMAS] = " (comma-separated)"};
  fprintf(f, "| `%s%s` | ", prefix, k->path);
  if (k->alias) fprintf(f, "`%s`%s", k->alias, forms[k->alias_form]);
  fputs(" | ", f);
  s_type_doc(f, k);
  fputs(" | ", f);
  if (k->required) fputs("*required*", f);
  else if (k->def_doc) fprintf(f, "`%s`", k->def_doc); /* code: '<' stays as is */
  else if (k->type == CFG_T_ACTORLIST && k->def) fprintf(f, "`[{name: %s}]`", k->def);
  else if (k->def && !k->def[0]) fputs("`\"\"`", f);
  else if (k->def) fprintf(f, "`%s`", k->def);
  else fputs("`[]`", f);
  fputs(" | ", f);
  s_cell(f, k->doc);
  fputs(" |\n", f);
}

void cfg_keys_document(int fd) {
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  if (!f) return;
  fputs("# raftvisor node configuration keys\n\n"
        "One YAML file per node; sections are mappings, keys use dashes (see "
        "config/node.example.yaml).\nUnknown and duplicate keys are errors. Relative paths are "
        "taken from the file's directory.\nThe aliases are flat JindoFS/HDFS properties, given at "
        "the top level of the same file;\na key given both ways is an error.\n\n"
        "| key | alias | type | default | description |\n"
        "|-----|-------|------|---------|-------------|\n",
        f);
  for (size_t i = 0; i < cfg_keys_node.n; i++) {
    const cfg_key_t *k = &cfg_keys_node.keys[i];
    s_row(f, "", k);
    for (size_t j = 0; k->sub && j < k->sub->n; j++) s_row(f, k->sub->prefix, &k->sub->keys[j]);
  }
  s_flush(f, &buf, &n, fd);
}

/* ---- the configuration as environment variables ------------------------------------------ */

/* name with '.' and '-' turned into '_', then "=" and the value, malloc'd into *out (or NULL). */
static void s_env_one(char **out, const char *name, const char *value) {
  size_t n = strlen(name), v = strlen(value);
  char *s = malloc(n + v + 2);
  if (!s) return;
  for (size_t i = 0; i < n; i++) s[i] = name[i] == '.' || name[i] == '-' ? '_' : name[i];
  s[n] = '=';
  memcpy(s + n + 1, value, v + 1);
  *out = s;
}

/* A scalar or list value as plain text (lists joined by ","), malloc'd; NULL when the key has
 * no place in the environment (secrets, node and actor lists). */
static char *s_env_value(const cfg_key_t *k, const cfg_node_t *cfg) {
  const void *v = s_field(k, cfg);
  char *buf = NULL;
  size_t n = 0;
  FILE *f;
  switch (k->type) {
    case CFG_T_SECRET:
    case CFG_T_NODELIST:
    case CFG_T_ACTORLIST:
    case CFG_T_CLIENTLIST: return NULL;
    default: break;
  }
  if (!(f = open_memstream(&buf, &n))) return NULL;
  switch (k->type) {
    case CFG_T_STRING:
    case CFG_T_PATH:
    case CFG_T_ID: fputs(v, f); break;
    case CFG_T_INT: fprintf(f, "%d", *(const int *)v); break;
    case CFG_T_BOOL: fputs(*(const bool *)v ? "true" : "false", f); break;
    case CFG_T_ENUM: fputs(k->names[*(const int *)v], f); break;
    case CFG_T_STRLIST:
    case CFG_T_PATHLIST: {
      char *const *items = v;
      int c = *(const int *)((const char *)cfg + k->count_offset);
      for (int i = 0; i < c; i++) fprintf(f, "%s%s", i ? "," : "", items[i]);
      break;
    }
    default: break;
  }
  fclose(f);
  return buf;
}

char **cfg_node_environ(const cfg_node_t *cfg) {
  size_t cap = 2 * cfg_keys_node.n + 1, n = 0;
  char **env = calloc(cap, sizeof *env);
  if (!env) return NULL;
  for (size_t i = 0; i < cfg_keys_node.n; i++) {
    const cfg_key_t *k = &cfg_keys_node.keys[i];
    char *value = s_env_value(k, cfg);
    if (!value) continue;
    s_env_one(&env[n], k->path, value);
    if (env[n]) n++;
    if (k->alias && k->alias_form != CFG_ALIAS_HOSTPORT && k->alias_form != CFG_ALIAS_PEERS) {
      s_env_one(&env[n], k->alias, value);
      if (env[n]) n++;
    }
    free(value);
  }
  env[n] = NULL;
  return env;
}

void cfg_node_environ_free(char ***env) {
  if (!env || !*env) return;
  for (char **e = *env; *e; e++) free(*e);
  free(*env);
  *env = NULL;
}
