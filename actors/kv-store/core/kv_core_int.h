/* kv_core_int: what the core's files share and nobody else sees: the core struct, the
 * read-through-the-batch accessors, path resolution and the subtree-total updates.
 * Pure: libc and rv_common only. */
#ifndef KV_CORE_INT_H
#define KV_CORE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "kv_batch.h"
#include "kv_cache.h"
#include "kv_core.h"
#include "kv_perm.h"
#include "kv_recovery.h"

/* The meta values ('M' "state"), held here and written with every write that changes them. */
typedef kv_state_t kv_meta_t;

/* The inodes along a path, as resolved: ino[0] is the root, ino[i] the i-th component. */
typedef struct {
  size_t depth; /* components resolved; ino[0..depth] are valid */
  uint64_t ino[KV_DEPTH_MAX + 1];
  uint8_t type[KV_DEPTH_MAX + 1];
} kv_chain_t;

/* A change of subtree totals (signed). */
typedef struct {
  int64_t dirs, files, bytes;
} kv_delta_t;

struct kv_core {
  kv_store_t *store; /* borrowed */
  kv_core_config_t cfg;
  kv_batch_t *batch;   /* pending writes of the entries being applied */
  kv_cache_t *cache;   /* recent store values (NULL when disabled); see kv_cache.h */
  kv_meta_t committed; /* as in the store */
  kv_meta_t pending;   /* as in store + batch */
  int64_t lru_floor;   /* no session's bucket is older (INT64_MIN = unknown); only an
                          optimisation: it lets most commands skip the expiry scan, and
                          its value never changes an outcome */
  kv_buf_t val;        /* scratch for reads */
  kv_buf_t enc;        /* scratch for encodings */
  kv_path_t pa, pb;    /* parsed paths of the command or read (big: kept here) */
  kv_chain_t ca, cb;   /* their resolutions */
  bool chlog_on;       /* cfg.chlog_max_bytes > 0 */
  bool chlog_tidy;     /* dropped entries (or an old log) wait to be deleted */
  uint64_t chlog_tidy_from; /* no entry below this index is left (those deleted by this core):
                               a tidy seeks here, not over the tombstones of earlier tidies */
  kv_chlog_state_t chlog;         /* the change log's state as in the store */
  kv_chlog_state_t chlog_pending; /* as in store + batch */
  kv_buf_t chlog_buf;  /* the entry being built */
  kv_recovery_t rec;         /* the recovery state as in the store (kv_recovery.h) */
  kv_recovery_t rec_pending; /* as in store + batch */
  kv_recovery_t rec_saved;   /* rec_pending before the recovery command being applied */
  /* an entry applied in parts (kv_core_apply_part): a RecoveryRows command whose rows are
   * written a bounded slice at a time; in memory only (after a restart the entry is applied
   * again from its first row, which the recovery state's `partial` flag makes safe) */
  uint64_t part_index; /* the entry whose rows [0, part_off) are written (0: none) */
  size_t part_off;
  size_t part_limit;   /* rows the op may write in this call (0: no limit) */
  bool part_more;      /* the op stopped at part_off with rows left */
  bool part_quiet;     /* this call writes a part that is not the last: no session expiry (the
                          last part expires sessions exactly as a whole apply would) */
  uint64_t *stack;     /* rm -r: directories still to empty */
  size_t nstack, capstack;
  kv_attr_t *pattrs;   /* permission checks: the attributes along a path (KV_DEPTH_MAX + 2),
                          allocated at the first check */
  size_t *pplen;       /* and the lengths of its prefixes */
  kv_principal_t reader; /* who the reads are for (kv_core_read_as) */
  bool reader_checked;   /* false: reads are not checked */
  kv_buf_t pf_keys;      /* kv_core_prefetch: the names' keys, one after another */
  kv_bytes_t *pf_list;   /* and each of them */
  size_t pf_cap;
};

/* The op being applied. */
typedef struct {
  kv_core_t *core;
  const kv_cmd_t *cmd;
  kv_result_t *res;
  rv_err_t *err;            /* storage errors only */
  const kv_principal_t *who; /* the command's principal (a version 1 command: unchecked) */
} kv_opctx_t;

/* Sets res to a failure with a printf message and returns 0 (an op's failure is an outcome, not
 * an error of the apply). */
int kv_res_fail(kv_result_t *res, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Point reads and writes through the batch. get returns 0 (val filled), RV_ENOTFOUND, or a
 * storage error with err set. */
int kv_core_get(kv_core_t *c, const uint8_t *key, size_t klen, kv_buf_t *val, rv_err_t *err);
int kv_core_put(kv_core_t *c, const uint8_t *key, size_t klen, const void *v, size_t vlen,
                rv_err_t *err);
int kv_core_del(kv_core_t *c, const uint8_t *key, size_t klen, rv_err_t *err);

/* Attributes of ino: 0, or RV_ECORRUPT when missing or malformed (a dentry pointed at it), or
 * a storage error. */
int kv_core_attr_get(kv_core_t *c, uint64_t ino, kv_attr_t *a, rv_err_t *err);
int kv_core_attr_put(kv_core_t *c, uint64_t ino, const kv_attr_t *a, rv_err_t *err);

/* The entry name under parent: 0 with *ino and *type, RV_ENOTFOUND, or a storage error. */
int kv_core_dentry_get(kv_core_t *c, uint64_t parent, const void *name, size_t nlen, uint64_t *ino,
                       uint8_t *type, rv_err_t *err);

/* Resolves the first upto components of path into ch. Returns 0 (ch->depth == upto),
 * RV_ENOTFOUND (component ch->depth is missing), RV_ENOTDIR (the prefix of ch->depth
 * components is a file but the path goes on), or a storage error. */
int kv_core_resolve(kv_core_t *c, const kv_path_t *path, size_t upto, kv_chain_t *ch,
                    rv_err_t *err);

/* The reason a resolution failed, into buf: ENOTFOUND names the missing prefix ("/a/b: no
 * such file or directory"), ENOTDIR the file in the way ("/a is not a directory"). Returns buf. */
const char *kv_core_resolve_why(char *buf, size_t cap, const kv_path_t *path, const kv_chain_t *ch,
                                int rc);

/* Adds d to the subtree totals of ch->ino[0..parent] (the ancestors of a changed entry, the
 * parent ch->ino[parent] included), dchildren to the parent's nchildren, and stamps the
 * parent's mtime with mtime when touch is true. RV_ECORRUPT if a total would go negative. */
int kv_core_adjust(kv_core_t *c, const kv_chain_t *ch, size_t parent, kv_delta_t d,
                   int64_t dchildren, bool touch, int64_t mtime, rv_err_t *err);

/* The subtree totals an entry with attributes a contributes to its ancestors. */
kv_delta_t kv_delta_of(const kv_attr_t *a);

/* Renders a path (or its first len bytes) for a message into buf. */
const char *kv_show(char *buf, size_t cap, const void *p, size_t len);
#define KV_SHOW_CAP (KV_PATH_SHOW_MAX * 4 + 16)

/* Fails the op being applied: res gets code and "<op> <path>: <reason>" ("rm -r <path>",
 * "mv <src> <dst>"), the paths quoted safely. Built only on failure. Returns 0 (an op's failure is
 * an outcome, not an error of the apply). */
int kv_op_fail(kv_opctx_t *x, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Parses p into pa (kv_path.h rules); false, with the op failed (RV_EINVAL, the path and the
 * reason in the message), when it is not a valid path. */
bool kv_op_parse(kv_opctx_t *x, kv_path_t *pa, const kv_bytes_t *p);

/* kv_op_fail with the reason a resolution of path failed (kv_core_resolve_why). */
int kv_op_resolve_fail(kv_opctx_t *x, const kv_path_t *path, const kv_chain_t *ch, int rc);

/* Checks an owner or group name of a command: 1..KV_OWNER_MAX bytes of UTF-8 without control
 * characters. Returns true, or fails the op and returns false. */
bool kv_op_name_ok(kv_opctx_t *x, const kv_bytes_t *name, const char *field);

/* The write ops (kv_ops_create.c, kv_ops_remove.c): each returns 0 with *ctx->res set, or a
 * storage error. The caller rolls the batch back when res->code != RV_OK. */
int kv_op_mkdir(kv_opctx_t *ctx);
int kv_op_put(kv_opctx_t *ctx);
int kv_op_touchz(kv_opctx_t *ctx);
int kv_op_setattr(kv_opctx_t *ctx);
int kv_op_rm(kv_opctx_t *ctx);
int kv_op_mv(kv_opctx_t *ctx);
/* The content ops (kv_ops_content.c): append, truncate, concat. */
int kv_op_append(kv_opctx_t *ctx);
int kv_op_truncate(kv_opctx_t *ctx);
int kv_op_concat(kv_opctx_t *ctx);
/* Extended attributes (kv_ops_xattr.c). */
int kv_op_setxattr(kv_opctx_t *ctx);
int kv_op_removexattr(kv_opctx_t *ctx);

/* Helpers of the creating ops (kv_ops_create.c), shared with the content ops.
 * attrs_ok: perm, owner and group of a creating command are valid (else the op is failed).
 * attr_new: new attributes of type and perm, stamped with the command's time, owned as an entry
 * made under the directory parent is. link_new: links a new entry (attributes a, content when
 * non-NULL) as component i of pa under ch->ino[i], updates the ancestors and extends ch to
 * depth i + 1. parent: resolves the parent of pa's last component into ch (creating it with
 * KV_F_PARENTS) after checking `ancestor` access on the deepest existing ancestor and the
 * traversal; 0 with res untouched when the parent is there, 0 with res failed, or a storage
 * error. */
bool kv_op_attrs_ok(kv_opctx_t *x);
int kv_op_attr_new(kv_opctx_t *x, kv_attr_t *a, uint8_t type, uint16_t perm, uint64_t parent);
int kv_op_link_new(kv_opctx_t *x, const kv_path_t *pa, kv_chain_t *ch, size_t i,
                   const kv_attr_t *a, const kv_bytes_t *content, uint64_t *ino_out);
int kv_op_parent(kv_opctx_t *x, const kv_path_t *pa, kv_chain_t *ch, unsigned ancestor);
int kv_op_file_parent(kv_opctx_t *x); /* parse, attrs, not root, parent (touchz, append) */
/* The recovery commands (kv_recovery.c): BEGIN, ROWS, FINISH, LEAVE. ROWS and FINISH scan the
 * store: the batch must hold no earlier entry's writes. */
int kv_op_recovery(kv_opctx_t *ctx);
/* Loads the recovery state key into rec and rec_pending (none when absent). */
int kv_recovery_load(kv_core_t *c, rv_err_t *err);

/* Permission checks of the ops (kv_op_access.c). Each returns 0 or a storage error; a denial
 * fails the op (RV_EPERM, Hadoop's message as the whole result message): the caller goes on
 * only when x->res->code is still 0.
 * kv_op_check: w (kv_perm.h) on the path pa whose first `exist` inodes (the root included) ch
 * resolved; depth is the number of components of the path checked (pa->n, or pa->n + 1 for the
 * entry a rename makes inside a destination directory). */
int kv_op_check(kv_opctx_t *x, const kv_path_t *pa, const kv_chain_t *ch, size_t depth,
                size_t exist, const kv_perm_want_t *w);
/* access on one entry, a the attributes of the first k components of pa. */
int kv_op_check_attr(kv_opctx_t *x, const kv_path_t *pa, size_t k, const kv_attr_t *a,
                     unsigned access);
/* Recursive delete: access on directory top (attributes ta, the first k components of pa) and
 * on every directory below it that is not empty (HDFS subAccess with ignoreEmptyDir). Scans the
 * store: call before the op writes anything under top. */
int kv_op_check_subtree(kv_opctx_t *x, const kv_path_t *pa, size_t k, uint64_t top,
                        const kv_attr_t *ta, unsigned access);
/* The owner and group of an entry the op creates under the directory parent: the command's
 * (version 1), or the principal and the parent's group (HDFS). */
int kv_op_new_owner(kv_opctx_t *x, uint64_t parent, char owner[KV_OWNER_MAX + 1],
                    char group[KV_OWNER_MAX + 1]);

/* Sessions (kv_session.c). */
typedef struct {
  bool found;
  char principal[KV_OWNER_MAX + 1]; /* who the session belongs to; "" = nobody in particular
                                       (version 1 commands, or a session recorded before) */
  uint64_t last_seq;
  int64_t last_time;
  kv_result_t result;
} kv_session_t;

int kv_session_get(kv_core_t *c, uint64_t client, kv_session_t *s, rv_err_t *err);
/* Whether adding a session for principal would take it past session_max_per_principal. */
int kv_session_principal_full(kv_core_t *c, const char *principal, bool *full, rv_err_t *err);
/* Drops principal's least recently used session (never keep's), to make room for a new one.
 * Scans the store: the batch must hold no earlier entry's writes. */
int kv_session_evict_principal(kv_core_t *c, const char *principal, uint64_t keep,
                               rv_err_t *err);
/* The LRU bucket width (session_ttl_ms / 16, at least 1; 60 s without a TTL), and the bucket
 * (its start time) of time t. */
int64_t kv_session_bucket_width(const kv_core_t *c);
int64_t kv_session_bucket(const kv_core_t *c, int64_t t);
/* Records (seq, time, res) for client, moving its LRU entries; counts a new session (for
 * principal too, whose session it becomes; an existing session keeps its principal). */
int kv_session_put(kv_core_t *c, uint64_t client, const kv_session_t *old, const char *principal,
                   uint64_t seq, int64_t now, const kv_result_t *res, rv_err_t *err);
/* Whether kv_session_evict might drop anything at time now with adding new sessions (false
 * means it certainly would not). */
bool kv_session_evict_due(const kv_core_t *c, int64_t now, int adding);
/* Drops expired sessions and those over session_max (counting adding sessions about to be
 * added), least recently used first, at most KV_EVICT_PER_CMD; never the session of keep (the
 * client of the command being applied, whose use is now). Scans the store: the batch must hold
 * no earlier entry's writes (the caller flushes first). */
int kv_session_evict(kv_core_t *c, int64_t now, uint64_t keep, int adding, rv_err_t *err);

/* The change log (kv_chlog.c). open: loads or starts the log (or marks an old one for
 * deletion when off), after the meta is loaded. record: adds the pending write's entry (or drops
 * the log past its cap) and the log state to the batch; call just before the store write.
 * committed: the write succeeded. */
int kv_chlog_open(kv_core_t *c, rv_err_t *err);
int kv_chlog_record(kv_core_t *c, rv_err_t *err);
void kv_chlog_committed(kv_core_t *c);

#endif
