/* cfg_keys: the one table of configuration keys, as Redis keeps static_configs[].
 *
 * Each key says its canonical dotted path, the flat JindoFS/HDFS property that may stand for it,
 * its type and bounds, its default (as YAML text, parsed by the same code as the file), the field
 * it fills, an optional validator and one line of documentation. The loader (cfg_node.c), the
 * dump and the Markdown reference (cfg_dump.c) and the tests that keep node.example.yaml honest
 * all read this table and nothing else. Internal to config/. */
#ifndef CFG_KEYS_H
#define CFG_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "cfg_node.h"

#define CFG_KEYS_MAX 64 /* keys in one table; per-key bookkeeping arrays are this long */

typedef enum {
  CFG_T_STRING,    /* char[size]; any text that fits (and passes check) */
  CFG_T_PATH,      /* char[size]; "" or a path, relative ones resolved against the file's dir */
  CFG_T_ID,        /* char[size]; [a-z0-9][a-z0-9_-]{0,31} */
  CFG_T_INT,       /* int; decimal, in min..max */
  CFG_T_BOOL,      /* bool; true/false, yes/no, on/off, any case */
  CFG_T_ENUM,      /* int-sized enum; one of names[], value = index */
  CFG_T_STRLIST,   /* char *[cap] + int count; each item passes check */
  CFG_T_PATHLIST,  /* the same, items resolved as paths */
  CFG_T_SECRET,    /* char * (owned); "@file" is read by the loader; never printed */
  CFG_T_NODELIST,  /* cfg_peer_t[cap] + int count; entries follow cfg_keys_peer */
  CFG_T_ACTORLIST, /* cfg_actor_t[cap] + int count; entries follow cfg_keys_actor */
  CFG_T_CLIENTLIST /* cfg_client_t[cap] + int count; entries follow cfg_keys_client */
} cfg_type_t;

/* How a key's alias spells the value, when not as the canonical key does. */
typedef enum {
  CFG_ALIAS_SAME,     /* the canonical form */
  CFG_ALIAS_PEERS,    /* JindoFS "host:port[:index],..." -> entries n1..nN, client-port = +100 */
  CFG_ALIAS_HOSTPORT, /* "host:port" -> the port; of this node's entry (a cluster.nodes key) */
  CFG_ALIAS_LINES,    /* HDFS: one item per line of a string (or a list); blank lines and
                         "#" comments outside parentheses skipped (fencing methods) */
  CFG_ALIAS_COMMAS    /* HDFS: comma-separated items in a string (or a list) */
} cfg_alias_form_t;

/* A check beyond the type. Returns 0, or -1 with why = "expected ..., got ..." (no key, no
 * position: the caller adds them). text is never a secret. */
typedef int(cfg_check_fn)(const char *text, char *why, size_t len);

typedef struct cfg_key cfg_key_t;

/* A table: the keys of one struct (cfg_node_t, or one entry of a list of them). */
typedef struct {
  const cfg_key_t *keys;
  size_t n;
  const char *prefix;  /* how its paths read in docs: "" or "cluster.nodes[]." */
  size_t size;         /* sizeof the struct its keys fill (one entry of a list) */
} cfg_table_t;

struct cfg_key {
  const char *path;            /* canonical, dotted: "supervisor.heartbeat-interval-ms" */
  const char *alias;           /* flat property accepted at the top level, or NULL */
  cfg_alias_form_t alias_form;
  cfg_type_t type;
  bool required;               /* no default: absent is an error */
  const char *def;             /* default, as YAML text; NULL = required, or derived (below) */
  const char *def_doc;         /* a derived default, as docs show it ("<data-dir>/run") */
  long min, max;               /* int: bounds; lists: number of entries */
  const char *const *names;    /* enum: NULL-terminated, in the C enum's order */
  size_t offset;               /* the field, within the table's struct */
  size_t size;                 /* sizeof the field (a char array, or a whole array of items) */
  size_t count_offset;         /* lists: the int that counts the items */
  cfg_check_fn *check;         /* scalar (or list item) check beyond the type, or NULL */
  const cfg_table_t *sub;      /* node/actor lists: the keys of one entry */
  const char *doc;             /* one line, for the reference and the example file */
};

extern const cfg_table_t cfg_keys_node;  /* cfg_node_t: every section's keys, in file order */
extern const cfg_table_t cfg_keys_peer;  /* cfg_peer_t: one cluster.nodes entry */
extern const cfg_table_t cfg_keys_actor; /* cfg_actor_t: one actors entry */
extern const cfg_table_t cfg_keys_client; /* cfg_client_t: one security.clients entry */

/* The key of t at path (exact), or NULL. Borrowed (static). */
const cfg_key_t *cfg_keys_find(const cfg_table_t *t, const char *path);

/* The key whose alias is name, in cfg_keys_node or cfg_keys_peer (*t says which), or NULL. */
const cfg_key_t *cfg_keys_find_alias(const char *name, const cfg_table_t **t);

/* Its index in t (k must belong to t). */
size_t cfg_keys_index(const cfg_table_t *t, const cfg_key_t *k);

/* True when path names a section of t: some key's path starts with path + ".". */
bool cfg_keys_is_section(const cfg_table_t *t, const char *path);

/* The names valid directly under section prefix ("" = top) of t, ", "-separated, into buf. */
void cfg_keys_children(const cfg_table_t *t, const char *prefix, char *buf, size_t len);

/* The name valid under prefix that is closest to name (Levenshtein), when close enough to be a
 * typo (at most 2 edits, or a third of the name); with_aliases adds the top-level aliases.
 * Returns buf, or NULL when nothing is close. */
const char *cfg_keys_suggest(const cfg_table_t *t, const char *prefix, const char *name,
                             bool with_aliases, char *buf, size_t len);

/* Edit distance between a and b (insert, delete, substitute), for suggestions. */
int cfg_keys_distance(const char *a, const char *b);

#endif
