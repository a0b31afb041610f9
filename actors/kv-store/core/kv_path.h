/* kv_path: validation and splitting of namespace paths, and safe rendering for messages.
 *
 * Rules (HDFS NameNode-like; HDFS's DFSUtil.isValidName is the model):
 *  - absolute: starts with '/'; "/" alone is the root;
 *  - at most KV_PATH_MAX (4096) bytes; each component 1..KV_NAME_MAX (255) bytes;
 *  - no empty component in the middle: "/a//b" is refused (the NameNode refuses it; clients
 *    such as the CLI normalise before sending, as Hadoop's Path does);
 *  - one trailing '/' is accepted and ignored: "/a/b/" names "/a/b", whatever its type (HDFS
 *    normalises it away); "/a/b//" is refused (empty component);
 *  - components "." and ".." are refused (no relative walking in the namespace);
 *  - ':' is refused inside a component (HDFS refuses it: it breaks URIs);
 *  - no NUL byte; bytes must be valid UTF-8 (any Unicode name is fine, invalid sequences,
 *    overlong forms and surrogates are refused, so every name prints and round-trips through
 *    JSON).
 * Every error is RV_EINVAL with a message naming the path (escaped) and the reason, e.g.
 *   path "/a/../b": component 2 is "..", which is not allowed
 * Pure: libc only. */
#ifndef KV_PATH_H
#define KV_PATH_H

#include <stddef.h>
#include <stdint.h>

#include "rv_error.h"

#define KV_PATH_MAX 4096               /* bytes in a path */
#define KV_NAME_MAX 255                /* bytes in one component */
#define KV_DEPTH_MAX (KV_PATH_MAX / 2) /* components in a path ("/a" per level) */
#define KV_PATH_SHOW_MAX 160           /* bytes of a path quoted in a message before "..." */

/* A parsed path: borrowed from the caller's bytes, valid while they are. */
typedef struct {
  const char *p; /* the path as given */
  size_t len;    /* its length (trailing slash included) */
  size_t n;      /* number of components; 0 for the root */
  struct {
    uint16_t off; /* first byte of the component in p */
    uint16_t len; /* its length, 1..KV_NAME_MAX */
  } c[KV_DEPTH_MAX];
} kv_path_t;

/* Validates p[0..len) and splits it into out (caller-provided; large, so keep it off small
 * stacks). Returns 0 or RV_EINVAL with err naming the path and the reason. */
int kv_path_parse(kv_path_t *out, const char *p, size_t len, rv_err_t *err);

/* Component i of path (i < path->n), as pointer and length. */
static inline const char *kv_path_name(const kv_path_t *path, size_t i, size_t *len) {
  *len = path->c[i].len;
  return path->p + path->c[i].off;
}

/* The length of the prefix naming the first k components ("/a/b" for k = 2; 1 for k = 0, the
 * root): for messages about a parent ("parent /a/b does not exist"). */
size_t kv_path_prefix_len(const kv_path_t *path, size_t k);

/* Writes p[0..len) into out (cap bytes, NUL-terminated, cap >= 8) for a message: printable
 * ASCII and valid UTF-8 as is, '"' and '\\' escaped, other bytes as \xNN, cut with "..." after
 * about KV_PATH_SHOW_MAX bytes. Returns out. */
char *kv_path_show(char *out, size_t cap, const void *p, size_t len);

/* true when p[0..len) is valid UTF-8 without NUL; on false, *bad (when non-NULL) is the offset
 * of the first bad byte. Used for names, owners and groups. */
int kv_utf8_valid(const void *p, size_t len, size_t *bad);

#endif
