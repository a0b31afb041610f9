/* cfg_yaml: builds the marked tree of cfg_yaml.h from libyaml's event stream.
 *
 * Pure apart from memory: the caller hands in the bytes. The event API (not libyaml's document
 * loader) is used so that duplicate keys are caught while building, with both lines known, and so
 * that aliases can be refused before they are expanded (no "billion laughs"). An explicit stack of
 * open mappings/lists bounds the depth; nothing here recurses deeper than CFG_YAML_DEPTH_MAX. */
#include "cfg_yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* One open mapping or list while the events stream in. */
typedef struct {
  cfg_yaml_node_t *node; /* the container */
  cfg_yaml_node_t *key;  /* mapping: a key waiting for its value (owned here until then) */
} frame_t;

typedef struct {
  const char *name;   /* for messages */
  const char *buf;    /* the text being parsed (len bytes), to measure block indentation */
  size_t len;
  rv_err_t *err;
  cfg_yaml_node_t *root;
  frame_t stack[CFG_YAML_DEPTH_MAX];
  int depth;
} builder_t;

static void s_node_free(cfg_yaml_node_t *node) {
  if (!node) return;
  for (size_t i = 0; i < node->n; i++) {
    if (node->keys) s_node_free(node->keys[i]);
    s_node_free(node->items[i]);
  }
  if (node->text) {
    /* Scalars may be secrets (ots.access-key-secret): do not leave them in freed memory. */
    explicit_bzero(node->text, strlen(node->text));
    free(node->text);
  }
  free(node->keys);
  free(node->items);
  free(node);
}

void cfg_yaml_destroy(cfg_yaml_node_t **root) {
  if (!root || !*root) return;
  s_node_free(*root);
  *root = NULL;
}

static cfg_yaml_node_t *s_node_new(cfg_yaml_kind_t kind, yaml_mark_t mark) {
  cfg_yaml_node_t *node = calloc(1, sizeof *node);
  if (!node) return NULL;
  node->kind = kind;
  node->line = (int)mark.line + 1;
  node->col = (int)mark.column + 1;
  node->index = -1;
  return node;
}

const char *cfg_yaml_quote(const char *text, char *buf, size_t len) {
  size_t o = 0;
  if (len < 8) {
    if (len) buf[0] = '\0';
    return buf;
  }
  buf[o++] = '"';
  for (size_t i = 0; text[i]; i++) {
    unsigned char c = (unsigned char)text[i];
    char esc[8];
    if (c == '"' || c == '\\') snprintf(esc, sizeof esc, "\\%c", c);
    else if (c == '\n') snprintf(esc, sizeof esc, "\\n");
    else if (c == '\t') snprintf(esc, sizeof esc, "\\t");
    else if (c < 0x20 || c == 0x7f) snprintf(esc, sizeof esc, "\\x%02x", c);
    else esc[0] = (char)c, esc[1] = '\0';
    size_t n = strlen(esc);
    /* Past about 60 bytes, cut, but not inside a UTF-8 sequence. */
    bool cut = i >= 60 && (c & 0xC0) != 0x80;
    if (cut || o + n + 5 > len) {
      memcpy(buf + o, "...", 3);
      o += 3;
      break;
    }
    memcpy(buf + o, esc, n);
    o += n;
  }
  buf[o++] = '"';
  buf[o] = '\0';
  return buf;
}

const char *cfg_yaml_describe(const cfg_yaml_node_t *node, char *buf, size_t len) {
  const char *what = NULL;
  if (node->kind == CFG_YAML_MAP) what = "a mapping";
  else if (node->kind == CFG_YAML_SEQ) what = "a list";
  else if (node->null && !node->text[0]) what = "nothing";
  if (what) {
    snprintf(buf, len, "%s", what);
    return buf;
  }
  return cfg_yaml_quote(node->text, buf, len);
}

void cfg_yaml_path(const cfg_yaml_node_t *node, char *buf, size_t len) {
  const cfg_yaml_node_t *chain[CFG_YAML_DEPTH_MAX + 2];
  int n = 0;
  for (; node && node->parent && n < (int)(sizeof chain / sizeof *chain); node = node->parent)
    chain[n++] = node;
  size_t o = 0;
  if (len) buf[0] = '\0';
  while (n-- > 0 && o < len) {
    const cfg_yaml_node_t *c = chain[n];
    int w;
    if (c->key) w = snprintf(buf + o, len - o, "%s%s", o ? "." : "", c->key);
    else w = snprintf(buf + o, len - o, "[%d]", c->index);
    if (w < 0) break;
    o += (size_t)w;
  }
}

/* path of a would-be child named key of container c (for a duplicate key, not yet attached). */
static void s_child_path(const cfg_yaml_node_t *c, const char *key, char *buf, size_t len) {
  char parent[512];
  cfg_yaml_path(c, parent, sizeof parent);
  if (snprintf(buf, len, "%s%s%s", parent, parent[0] ? "." : "", key) >= (int)len && len > 4)
    memcpy(buf + len - 4, "...", 4); /* a path this long is cut, visibly */
}

static int s_fail(builder_t *b, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int s_fail(builder_t *b, int line, int col, const char *fmt, ...) {
  char what[RV_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return rv_err_set(b->err, RV_ECONFIG, "%s:%d:%d: %s", b->name, line, col, what);
}

static int s_append(builder_t *b, cfg_yaml_node_t *c, cfg_yaml_node_t *key,
                    cfg_yaml_node_t *node) {
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 4;
    cfg_yaml_node_t **items = realloc(c->items, cap * sizeof *items);
    if (!items) return rv_err_set(b->err, RV_ENOMEM, "%s: out of memory", b->name);
    c->items = items;
    if (c->kind == CFG_YAML_MAP) {
      cfg_yaml_node_t **keys = realloc(c->keys, cap * sizeof *keys);
      if (!keys) return rv_err_set(b->err, RV_ENOMEM, "%s: out of memory", b->name);
      c->keys = keys;
    }
    c->cap = cap;
  }
  if (key) {
    c->keys[c->n] = key;
    node->key = key->text;
  }
  c->items[c->n++] = node;
  node->parent = c;
  return 0;
}

/* Places node under the innermost open container (or as the root). Takes ownership of node in
 * every case: on failure it is freed. */
static int s_attach(builder_t *b, cfg_yaml_node_t *node) {
  if (b->depth == 0) {
    b->root = node;
    return 0;
  }
  frame_t *f = &b->stack[b->depth - 1];
  cfg_yaml_node_t *c = f->node;
  int rc = 0;
  if (c->kind == CFG_YAML_SEQ) {
    node->index = (int)c->n;
    rc = s_append(b, c, NULL, node);
  } else if (!f->key) {
    char path[512];
    if (node->kind != CFG_YAML_SCALAR) {
      cfg_yaml_path(c, path, sizeof path);
      rc = s_fail(b, node->line, node->col, "%s%skeys must be plain strings, not %s", path,
                  path[0] ? ": " : "", node->kind == CFG_YAML_MAP ? "mappings" : "lists");
    } else {
      for (size_t i = 0; i < c->n && !rc; i++) {
        if (strcmp(c->keys[i]->text, node->text) != 0) continue;
        s_child_path(c, node->text, path, sizeof path);
        char q[96];
        rc = s_fail(b, node->line, node->col, "%s: duplicate key %s (first at line %d)", path,
                    cfg_yaml_quote(node->text, q, sizeof q), c->keys[i]->line);
      }
    }
    if (!rc) {
      f->key = node;
      node->parent = c;
      return 0;
    }
  } else {
    rc = s_append(b, c, f->key, node);
    if (!rc) f->key = NULL;
  }
  if (rc) s_node_free(node);
  return rc;
}

static bool s_is_null(const yaml_event_t *ev) {
  if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
  const char *t = (const char *)ev->data.scalar.value;
  return !t[0] || !strcmp(t, "~") || !strcmp(t, "null") || !strcmp(t, "Null") ||
         !strcmp(t, "NULL");
}

/* A literal block's indentation: the leading spaces of its first non-blank line, which follows
 * the line of its "|" (where the event starts). 0 when it cannot be told. */
static int s_indent(const builder_t *b, const yaml_event_t *ev) {
  size_t o = ev->start_mark.index;
  while (o < b->len && b->buf[o] != '\n') o++; /* the rest of the "|" line */
  while (o < b->len) {
    size_t k = 0;
    for (o++; o < b->len && b->buf[o] == ' '; o++) k++;
    if (o < b->len && b->buf[o] != '\n' && b->buf[o] != '\r') return (int)k;
    while (o < b->len && b->buf[o] != '\n') o++;
  }
  return 0;
}

static int s_scalar(builder_t *b, const yaml_event_t *ev) {
  cfg_yaml_node_t *node = s_node_new(CFG_YAML_SCALAR, ev->start_mark);
  if (!node) return rv_err_set(b->err, RV_ENOMEM, "%s: out of memory", b->name);
  size_t n = ev->data.scalar.length;
  if (memchr(ev->data.scalar.value, '\0', n)) {
    free(node);
    return s_fail(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                  "a value contains a NUL byte");
  }
  node->text = malloc(n + 1);
  if (!node->text) {
    free(node);
    return rv_err_set(b->err, RV_ENOMEM, "%s: out of memory", b->name);
  }
  memcpy(node->text, ev->data.scalar.value, n);
  node->text[n] = '\0';
  node->null = s_is_null(ev);
  if (ev->data.scalar.style == YAML_LITERAL_SCALAR_STYLE) node->literal_indent = s_indent(b, ev);
  return s_attach(b, node);
}

static int s_open(builder_t *b, cfg_yaml_kind_t kind, const yaml_event_t *ev) {
  if (b->depth == CFG_YAML_DEPTH_MAX)
    return s_fail(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                  "nested deeper than %d levels", CFG_YAML_DEPTH_MAX);
  cfg_yaml_node_t *node = s_node_new(kind, ev->start_mark);
  if (!node) return rv_err_set(b->err, RV_ENOMEM, "%s: out of memory", b->name);
  int rc = s_attach(b, node);
  if (rc) return rc;
  b->stack[b->depth].node = node;
  b->stack[b->depth].key = NULL;
  b->depth++;
  return 0;
}

/* libyaml's own words and mark; reader errors (bad UTF-8) carry only a byte offset. */
static int s_syntax_error(builder_t *b, const yaml_parser_t *p, const char *buf) {
  if (p->error == YAML_MEMORY_ERROR)
    return rv_err_set(b->err, RV_ENOMEM, "%s: out of memory", b->name);
  int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
  if (p->error == YAML_READER_ERROR) {
    line = col = 1;
    for (size_t i = 0; i < p->problem_offset; i++) {
      if (buf[i] == '\n') line++, col = 1;
      else col++;
    }
  }
  const char *problem = p->problem ? p->problem : "syntax error";
  if (p->context)
    return s_fail(b, line, col, "%s (%s at line %d)", problem, p->context,
                  (int)p->context_mark.line + 1);
  return s_fail(b, line, col, "%s", problem);
}

int cfg_yaml_parse(const char *name, const char *buf, size_t len, cfg_yaml_node_t **root,
                   rv_err_t *err) {
  *root = NULL;
  builder_t b = {.name = name, .buf = buf, .len = len, .err = err};
  yaml_parser_t p;
  if (!yaml_parser_initialize(&p)) return rv_err_set(err, RV_ENOMEM, "%s: out of memory", name);
  yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
  int rc = 0, docs = 0;
  bool done = false;
  while (!done && !rc) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&p, &ev)) {
      rc = s_syntax_error(&b, &p, buf);
      break;
    }
    int line = (int)ev.start_mark.line + 1, col = (int)ev.start_mark.column + 1;
    switch (ev.type) {
      case YAML_DOCUMENT_START_EVENT:
        if (++docs > 1) rc = s_fail(&b, line, col, "only one YAML document is allowed in a file");
        break;
      case YAML_SCALAR_EVENT:
        rc = s_scalar(&b, &ev);
        break;
      case YAML_MAPPING_START_EVENT:
        rc = s_open(&b, CFG_YAML_MAP, &ev);
        break;
      case YAML_SEQUENCE_START_EVENT:
        rc = s_open(&b, CFG_YAML_SEQ, &ev);
        break;
      case YAML_MAPPING_END_EVENT:
      case YAML_SEQUENCE_END_EVENT:
        b.depth--;
        break;
      case YAML_ALIAS_EVENT:
        rc = s_fail(&b, line, col, "aliases (*%s) are not supported; repeat the value",
                    (const char *)ev.data.alias.anchor);
        break;
      case YAML_STREAM_END_EVENT:
        done = true;
        break;
      default:
        break;
    }
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&p);
  if (rc) {
    for (int i = 0; i < b.depth; i++) s_node_free(b.stack[i].key);
    s_node_free(b.root);
    return rc;
  }
  /* "---" alone, or "~": a document that says nothing is as good as none. */
  if (b.root && b.root->kind == CFG_YAML_SCALAR && b.root->null) cfg_yaml_destroy(&b.root);
  *root = b.root;
  return 0;
}

const cfg_yaml_node_t *cfg_yaml_get(const cfg_yaml_node_t *map, const char *key) {
  if (!map || map->kind != CFG_YAML_MAP) return NULL;
  for (size_t i = 0; i < map->n; i++)
    if (!strcmp(map->keys[i]->text, key)) return map->items[i];
  return NULL;
}

const cfg_yaml_node_t *cfg_yaml_find(const cfg_yaml_node_t *root, const char *path) {
  const cfg_yaml_node_t *whole = cfg_yaml_get(root, path);
  if (whole) return whole;
  const cfg_yaml_node_t *node = root;
  const char *s = path;
  while (node && *s) {
    if (*s == '[') {
      char *end;
      long i = strtol(s + 1, &end, 10);
      if (*end != ']' || node->kind != CFG_YAML_SEQ || i < 0 || (size_t)i >= node->n) return NULL;
      node = node->items[i];
      s = end + 1;
    } else {
      if (*s == '.') s++;
      size_t n = strcspn(s, ".[");
      char key[256];
      if (n == 0 || n >= sizeof key) return NULL;
      memcpy(key, s, n);
      key[n] = '\0';
      node = cfg_yaml_get(node, key);
      s += n;
    }
  }
  return node;
}
