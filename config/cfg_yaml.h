/* cfg_yaml: a YAML document as a small tree of scalars, mappings and lists, each node carrying
 * the line and column it started at, so every later message can point into the file.
 *
 * Built from libyaml's event stream. Refused while building, with "name:line:col: ..." messages:
 * syntax errors (libyaml's own problem text and mark), duplicate keys in one mapping, keys that
 * are not scalars, aliases (*name), more than one document, NUL bytes in a scalar, nesting deeper
 * than CFG_YAML_DEPTH_MAX. Tags are ignored: every scalar is kept as text, and the reader of the
 * tree decides what the text means. Internal to config/. */
#ifndef CFG_YAML_H
#define CFG_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "rv_error.h"

#define CFG_YAML_DEPTH_MAX 32 /* nested mappings/lists; a node file needs 4 */

typedef enum {
  CFG_YAML_SCALAR, /* text */
  CFG_YAML_MAP,    /* ordered key -> value pairs, keys unique */
  CFG_YAML_SEQ     /* ordered items */
} cfg_yaml_kind_t;

typedef struct cfg_yaml_node cfg_yaml_node_t;
struct cfg_yaml_node {
  cfg_yaml_kind_t kind;
  int line;                 /* 1-based, where the node starts (libyaml's start mark) */
  int col;                  /* 1-based */
  char *text;               /* scalar: its value, NUL-terminated, no NUL inside; else NULL */
  bool null;                /* scalar: a plain "", "~", "null" (YAML's null: "not given") */
  int literal_indent;       /* scalar written as a literal block ("|"): its indentation, so that
                               line k of text is the file's line `line` + 1 + k, at column
                               literal_indent + 1; else 0 */
  cfg_yaml_node_t *parent;  /* NULL for the root */
  const char *key;          /* value in a mapping: its key's text (borrowed); else NULL */
  int index;                /* item of a list: its position; else -1 */
  size_t n;                 /* mapping: pairs; list: items */
  cfg_yaml_node_t **keys;   /* mapping: the key scalars, in file order; else NULL */
  cfg_yaml_node_t **items;  /* mapping: the values (items[i] under keys[i]); list: the items */
  size_t cap;               /* allocated length of keys/items */
};

/* Parses buf (len bytes, need not be NUL-terminated) into a tree. Returns 0 with *root set
 * (caller owns; free with cfg_yaml_destroy), or 0 with *root NULL when the stream holds no
 * document (empty, or only comments), or RV_ECONFIG / RV_ENOMEM with err reading
 * "name:line:col: [key: ]what". */
int cfg_yaml_parse(const char *name, const char *buf, size_t len, cfg_yaml_node_t **root,
                   rv_err_t *err);

/* Frees the tree (scalar texts are wiped first: they may hold secrets); nulls *root; safe on NULL
 * and twice. */
void cfg_yaml_destroy(cfg_yaml_node_t **root);

/* The value under key in map, or NULL (also when map is NULL or not a mapping). Borrowed. */
const cfg_yaml_node_t *cfg_yaml_get(const cfg_yaml_node_t *map, const char *key);

/* The node at a dotted path with list indexes ("cluster.nodes[1].raft-port"), or NULL. Keys that
 * themselves contain dots are matched whole at the top level first ("namespace.ots.instance").
 * Borrowed. */
const cfg_yaml_node_t *cfg_yaml_find(const cfg_yaml_node_t *root, const char *path);

/* Writes node's path from the root ("cluster.nodes[1].raft-port"; "" for the root) into buf. */
void cfg_yaml_path(const cfg_yaml_node_t *node, char *buf, size_t len);

/* text as it reads in a message: double-quoted, control characters and quotes escaped, cut
 * to about 60 bytes with "..." ("\"12ms\""). Written into buf, which is returned. */
const char *cfg_yaml_quote(const char *text, char *buf, size_t len);

/* How node reads in a message: "a mapping", "a list", or the scalar's text quoted and shortened
 * ("\"12ms\""). Written into buf, which is returned. */
const char *cfg_yaml_describe(const cfg_yaml_node_t *node, char *buf, size_t len);

#endif
