/* kv_core: the replicated file-system namespace, as a pure state machine over an ordered
 * key-value store.
 *
 * Every replica feeds the same committed Raft entries, in log order, to kv_core_apply; each
 * entry is a command encoded by kv_cmd_encode (mkdir, put, touchz, rm, mv, setattr, append,
 * truncate, concat). Because everything an apply depends on is in the store or in the command
 * bytes (the time to stamp is the leader's, inside the command; configuration must be equal on
 * every replica), all replicas
 * reach byte-identical stores; kv_core_digest lets tests compare them.
 *
 * Exactly-once (DESIGN.md rule 5; Raft dissertation §6.3):
 *  - log index: the applied index is written in the same atomic batch as the changes of the
 *    command(s) it covers, so after a crash the store is at some applied index with exactly the
 *    changes up to it. Entries at or below the applied index are skipped (not re-applied) and
 *    answer with their recorded result when the client's session still holds it. Indexes may
 *    have gaps (Raft entries that are not commands never reach the core) but never go back.
 *  - client sessions: a command carries (client id, seq). The session table (replicated state,
 *    written in the same batch) keeps, per client, the last seq applied and its result. A
 *    command with seq == last is a retry: it answers the recorded result and changes nothing.
 *    seq < last, or a seq > 1 from a client without a session (never seen, or expired), answers
 *    RV_ESTALE without applying: clients keep one command outstanding and start a new session
 *    (new client id, seq 1) after an ESTALE. client id 0 opts out (no retry detection).
 *  - sessions belong to the principal whose command started them (version 2 commands, kv_cmd.h):
 *    a command of another principal naming the session answers RV_EPERM and changes nothing
 *    (neither the seq nor the recorded result is touched or shown), so a forged seq cannot
 *    block the owner. One principal holds at most session_max_per_principal sessions: a new one
 *    past it evicts that principal's least recently used session, never another principal's.
 *  - sessions expire deterministically: by the largest command time seen so far ("clock"; the
 *    leader's clock may step back after a failover, the clock never does), a session unused
 *    for session_ttl_ms (up to 1/16 more: last use is tracked in buckets of ttl/16) is dropped,
 *    and when more than session_max clients hold sessions the least recently used (by bucket,
 *    then client id) is dropped. A command never expires its own client's session. At most
 *    KV_EVICT_PER_CMD sessions are dropped per command, so no command's batch grows unboundedly.
 *
 * Atomicity: one command is one batch (kv_core_apply) or part of one batch
 * (kv_core_apply_batch); a command that fails changes nothing but its session record and the
 * applied index. rm -r of a directory is one command and hence one batch, holding a delete for
 * every key under it: fine up to rm_max_entries (default 1,000,000 entries, some 60 MB of
 * batch); larger subtrees are refused with RV_ETOOBIG and must be removed in parts. (Making it
 * unbounded needs a background "trash" sweep: rename into a hidden directory, then delete in
 * bounded commands. Not done.)
 *
 * Permissions (kv_perm.h): a version 2 command names its principal, and each op checks HDFS's
 * rules against the state at its own index (through the pending batch), failing with RV_EPERM
 * and Hadoop's message; version 1 commands apply unchecked, as they did when first applied.
 *
 * Reads (stat, ls, cat, count) see the last written state; they do not go through the log. The
 * shell makes them linearizable (ReadIndex) or allows stale reads, not the core.
 *
 * The core keeps a write-through cache of recent small values (kv_cache.h), so it must be the
 * store's only writer while it is open: a tool that changes the store must stop the core first.
 *
 * Grouping: kv_core_apply_batch applies many entries with one store write (one fsync), with
 * results identical to applying them one by one (tests compare digests); the group is split
 * only where a command must scan state that earlier entries changed (rm -r, session expiry).
 *
 * Results of reads and writes are values (kv_result_t, kv_stat_t, ...) owned by the caller.
 * Functions return 0 or an rv code; for apply, a non-zero return means the *storage* failed
 * (RV_EIO, RV_ENOMEM, RV_ECORRUPT), not the command: see kv_core_apply.
 * Pure: libc and rv_common only. Not thread-safe: one caller (the actor's loop). */
#ifndef KV_CORE_H
#define KV_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv_chlog.h"
#include "kv_cmd.h"
#include "kv_codec.h"
#include "kv_feature.h"
#include "kv_path.h"
#include "kv_perm.h"
#include "kv_recovery.h"
#include "kv_schema.h"
#include "kv_store.h"
#include "rv_error.h"

#define KV_MSG_MAX 512      /* bytes of a result message, NUL included */
#define KV_EVICT_PER_CMD 64 /* sessions dropped by one command at most */
#define KV_LS_DEFAULT 1000  /* ls entries per page when the caller asks for 0 */
#define KV_LS_MAX 100000    /* ls entries per page at most */
#define KV_LS_SCAN_MAX 8192  /* names a filtered ls looks at per call at most */
#define KV_SESSION_TTL_MAX (1000ll * 3600 * 24 * 366 * 10) /* ten years, in ms */

typedef struct kv_core kv_core_t;

/* Configuration. Every field marked (replicated) changes the outcome of commands, so it must be
 * the same on every replica of a cluster (the shell takes it from the cluster's configuration). */
typedef struct {
  uint32_t inline_max;     /* (replicated) content bytes one put may store; default 1 MiB,
                              at most KV_DATA_MAX; larger puts fail with RV_ETOOBIG */
  uint32_t session_max;    /* (replicated) client sessions kept; default 100000; >= 1 */
  uint32_t session_max_per_principal; /* (replicated) sessions one principal holds at most;
                              default 10000; a new one past it evicts that principal's least
                              recently used session (never another principal's) */
  int64_t session_ttl_ms;  /* (replicated) unused this long (+ up to 1/16), a session expires;
                              default 1 h; 0 = only session_max evicts; at most
                              KV_SESSION_TTL_MAX */
  uint64_t rm_max_entries; /* (replicated) entries one rm -r may remove; default 1000000 */
  size_t cache_entries;    /* recent small values kept in memory (kv_cache.h); default 65536;
                              0 = none. Speed only: never changes an outcome */
  uint16_t root_perm;      /* (replicated) the root directory, made when the store is empty: */
  char root_owner[KV_OWNER_MAX + 1]; /*  default 0755 root:supergroup, times 0 */
  char root_group[KV_OWNER_MAX + 1];
  uint64_t chlog_max_bytes; /* the off-cluster replica's change log (kv_chlog.h): 0 = off (the
                               default: nothing recorded, an existing log is deleted); else
                               on, with this cap on its live bytes. Node-local, not replicated:
                               never changes an outcome */
  unsigned feature_level;   /* the ops this replica may apply (kv_feature.h): default and at
                               most KV_FEATURE_LEVEL; lower only to stand for an older build
                               (RV_TEST_FEATURE_LEVEL). Node-local: an entry above it is not
                               applied but refused (kv_core_apply: RV_ECONFIG) */
} kv_core_config_t;

/* The outcome of one command, as the client sees it. Recorded in the session table, so a
 * retried command gets the same bytes back. */
typedef struct {
  int code;             /* RV_OK or the failure (RV_ENOTFOUND, RV_EEXIST, ...) */
  bool skipped;         /* true: not applied now (index already applied, or a retried seq);
                           the fields are the recorded outcome of the first apply when known */
  uint8_t op;           /* kv_op_t; 0 when the command did not decode */
  uint64_t index;       /* log index whose apply decided this outcome */
  uint64_t inode;       /* mkdir: the directory (the deepest, for -p); put/touchz: the file;
                           rm/mv/setattr: the inode removed / moved / changed; 0 on failure */
  uint64_t n;           /* mkdir: directories created; rm: entries removed (itself included);
                           put: bytes stored; otherwise 0 */
  char msg[KV_MSG_MAX]; /* "" on success; "<op> <path>: <reason>" on failure */
} kv_result_t;

/* One log entry for kv_core_apply_batch (borrowed). */
typedef struct {
  uint64_t index;
  const uint8_t *data;
  size_t len;
  bool raft_only;       /* an entry of Raft's own (a new leader's empty entry, a configuration
                           change): no command; applying it only moves the applied index, so
                           that "applied" reaches "commit" on an idle cluster and a restart
                           does not ask for it again (res->skipped, res->op 0) */
} kv_entry_t;

/* HDFS `-count`: a directory counts itself. */
typedef struct {
  uint64_t dirs;
  uint64_t files;
  uint64_t bytes;
} kv_count_t;

/* stat of one entry. */
typedef struct {
  uint64_t inode;
  kv_attr_t attr;   /* type, perm, times, size, owner, group, nchildren */
  kv_count_t count; /* the subtree (HDFS -count) */
} kv_stat_t;

typedef struct {
  char name[KV_NAME_MAX + 1]; /* NUL-terminated (names hold no NUL) */
  kv_stat_t st;
} kv_ls_entry_t;

/* An ls page; embedded by the caller: kv_ls_init / kv_ls_close. */
typedef struct {
  kv_ls_entry_t *items; /* owned; n entries in name (byte) order */
  size_t n, cap;
  bool more; /* more entries follow: ask again with start_after = resume */
  char resume[KV_NAME_MAX + 1]; /* with more: the last name looked at (the last entry's, or,
                                   filtered, the last name the scan passed over) */
  size_t resume_len;
} kv_ls_t;

typedef enum {
  KV_DIGEST_NAMESPACE = 1, /* directories, files, attributes, contents, extended attributes
                              ('D', 'I', 'C', 'E') */
  KV_DIGEST_ALL = 2        /* everything replicated, sessions and meta (applied index)
                              included; not the node-local change log ('L') */
} kv_digest_scope_t;

/* What kv_core_check found (on success). */
typedef struct {
  uint64_t dirs, files, bytes; /* the whole namespace, root included */
  uint64_t keys;               /* keys in the store */
  uint64_t sessions;
} kv_check_t;

/* Defaults as documented on each field. */
void kv_core_config_default(kv_core_config_t *cfg);

/* Opens the namespace held in store (borrowed: it must outlive the core). An empty store is
 * formatted (root directory, meta keys) in one write, identically on every replica. Returns 0
 * and *out (caller owns; kv_core_destroy), or RV_EINVAL (bad configuration), RV_ECORRUPT (store
 * holds something else or a newer format), RV_EIO / RV_ENOMEM, with err set. After the shell
 * replaces the store's contents (snapshot install), it destroys the core and opens a new one. */
int kv_core_new(kv_store_t *store, const kv_core_config_t *cfg, kv_core_t **out, rv_err_t *err);

/* Frees the core (not the store) and nulls *core; safe on NULL and twice. */
void kv_core_destroy(kv_core_t **core);

/* The last log index whose changes are in the store. */
uint64_t kv_core_applied(const kv_core_t *core);
/* Client sessions held. */
uint64_t kv_core_sessions(const kv_core_t *core);

/* Applies the committed log entry (index, cmd[0..len)) and writes its changes, its session
 * record and the applied index in one atomic store write.
 * Returns 0 when the entry is consumed: *res holds the client-visible outcome (which may be a
 * failure such as RV_ENOTFOUND, or RV_EDECODE for bytes that are not a command; those still
 * advance the applied index, identically on every replica). Returns non-zero only when storage
 * failed (RV_EIO, RV_ENOMEM, RV_ECORRUPT, err set): nothing was written, the core is back at
 * its last written state, and *res is meaningless; the shell should treat it as fatal (stop and
 * let the supervisor restart the actor, which re-reads the store and replays from Raft).
 * RV_ECONFIG (nothing written either): the entry is a command of a newer build (an op number
 * this build does not know, in a well-formed command: kv_cmd_newer) or of a level above
 * cfg.feature_level; err names the log index and the op. Skipping it would make this replica
 * differ from the others, and restarting cannot help: the shell stops for good (exit 78).
 * index must be > 0; an index <= kv_core_applied() is skipped (res->skipped). */
int kv_core_apply(kv_core_t *core, uint64_t index, const uint8_t *cmd, size_t len, kv_result_t *res,
                  rv_err_t *err);

/* The same for n entries in increasing index order, in as few store writes as possible (one,
 * unless a command needs a scan of state that earlier entries changed: rm -r and session expiry
 * flush the entries before them first). results[i] is entry i's outcome (results holds n).
 * Every write is atomic and carries its applied index, so a failure (non-zero return) leaves
 * the store at the end of some entry j < n (kv_core_applied tells which): call again with the
 * same entries; those written are skipped. */
int kv_core_apply_batch(kv_core_t *core, const kv_entry_t *entries, size_t n, kv_result_t *results,
                        rv_err_t *err);

/* Reads ahead, into the cache, what the creates among entries[0..n) will look up first: whether
 * each new name is free. One multi-key store read (kv_store_multi_get; RocksDB's batched
 * MultiGet checks each memtable's and each L0 file's bloom filter for all the names at once)
 * instead of one point read per create, each of which probes every memtable and L0 file on its
 * own: a quarter of a follower's kv-store loop in a bulk load. It changes nothing but the cache,
 * which only ever holds what the store holds (kv_cache.h), so no outcome: a name it could not
 * resolve (a parent made by an earlier entry of the same slice) is read by the apply as
 * before. A no-op without a cache, with writes pending, or for fewer than two creates. */
void kv_core_prefetch(kv_core_t *core, const kv_entry_t *entries, size_t n);

/* kv_core_apply_batch in two steps, so that the shell can answer clients before the store
 * write: the first applies the entries and leaves their last write pending (earlier writes, for
 * scans, are done as kv_core_apply_batch does them); the second writes it. Until the second
 * returns 0, the outcomes are decided (the entries are committed: a replay gives the same) but
 * not written: the core must not be used for anything else in between. A failure of either
 * leaves the core at its last written state, as kv_core_apply_batch's does. */
int kv_core_apply_batch_unwritten(kv_core_t *core, const kv_entry_t *entries, size_t n,
                                  kv_result_t *results, rv_err_t *err);
int kv_core_write_applied(kv_core_t *core, rv_err_t *err);

/* Applies one entry (borrowed) in parts: a RecoveryRows command (no session) with more than
 * max_rows rows left writes the next max_rows of them and the recovery state's `partial` flag
 * in one store write, without moving the applied index or the cursor, and sets *complete =
 * false: call again with the same entry for the next part. Otherwise (the last part, any other
 * entry, max_rows 0, or while the change log is on, whose entries are recorded per applied
 * index) it applies the entry as kv_core_apply_batch does (results in *res) and *complete =
 * true. Rows written by parts of an entry that never completes (a crash, a store reopened) are
 * safe: the entry applies again from its first row (kv_recovery.h). Returns as
 * kv_core_apply_batch does. */
int kv_core_apply_part(kv_core_t *c, const kv_entry_t *e, size_t max_rows, kv_result_t *res,
                       bool *complete, rv_err_t *err);

/* Whom the following reads are for (copied): each read checks HDFS' permissions for p
 * (traverse; stat nothing more; ls READ_EXECUTE on a directory; cat READ; count READ_EXECUTE
 * on a directory (HDFS checks every directory below too: here the one read stays O(1)); digest
 * the superuser) and fails with RV_EPERM and Hadoop's message. NULL = reads are not checked
 * (the default: tools and tests). */
void kv_core_read_as(kv_core_t *core, const kv_principal_t *p);

/* Reads. path is path[0..len) (kv_path.h rules). Each returns 0, or RV_EINVAL (bad path),
 * RV_ENOTFOUND, RV_ENOTDIR (a parent is a file), RV_EISDIR (cat of a directory), or a storage
 * code, with err naming the path: "stat /a/b: /a is not a directory". */
int kv_core_stat(kv_core_t *core, const char *path, size_t len, kv_stat_t *out, rv_err_t *err);
int kv_core_count(kv_core_t *core, const char *path, size_t len, kv_count_t *out, rv_err_t *err);
/* The content of a file into out (replaced; caller owns out). */
int kv_core_cat(kv_core_t *core, const char *path, size_t len, kv_buf_t *out, rv_err_t *err);
/* One page of a directory's entries, in name order, starting after the name start_after
 * (NULL / 0 bytes = from the first), at most limit (0 = KV_LS_DEFAULT, capped at KV_LS_MAX).
 * For a file, the page holds the file itself (as HDFS' ls does). out is reset first. Cost:
 * one seek plus one read per entry returned, whatever the directory's size. */
int kv_core_ls(kv_core_t *core, const char *path, size_t len, const char *start_after, size_t salen,
               size_t limit, kv_ls_t *out, rv_err_t *err);

/* kv_core_ls with a filter: only the entries whose names match the glob pattern
 * pat[0..patlen) (kv_glob.h; 0 bytes = all) are returned. The scan starts at the pattern's
 * literal prefix and ends where names no longer start with it, and looks at KV_LS_SCAN_MAX
 * names per call at most (then out->more is set and out->resume says where to go on), so
 * neither the reply nor one call's work grows with the directory. A bad pattern is RV_EINVAL
 * with GlobPattern's message. A file lists as itself when its name matches (else empty). */
int kv_core_ls_match(kv_core_t *core, const char *path, size_t len, const char *start_after,
                     size_t salen, size_t limit, const char *pat, size_t patlen, kv_ls_t *out,
                     rv_err_t *err);

/* The extended attributes of path that the reader may see (kv_core_read_as: READ on the entry;
 * trusted.* for the superuser only), encoded as the 'E' value (kv_xattrs_decode) into out
 * (replaced; empty = none). Errors as kv_core_stat's. */
int kv_core_getxattrs(kv_core_t *core, const char *path, size_t len, kv_buf_t *out,
                      rv_err_t *err);

/* An xattr name as HDFS takes it (NAMESPACE.rest, the namespace user, trusted, security, system
 * or raw in any case, rest not empty, at most KV_XATTR_NAME_MAX bytes): 0 with the normalised
 * name (namespace in lower case) in norm[0..*nlen) (norm holds KV_XATTR_NAME_MAX bytes), or
 * RV_EINVAL with HDFS' message in why. */
int kv_xattr_name_check(const uint8_t *p, size_t len, char *norm, size_t *nlen, char *why,
                        size_t cap);

void kv_ls_init(kv_ls_t *ls);
void kv_ls_close(kv_ls_t *ls);

/* FNV-1a 64 over every key and value of scope, in key order (each as u32 length + bytes), so
 * replicas at the same applied index can be compared. O(store size). */
int kv_core_digest(kv_core_t *core, kv_digest_scope_t scope, uint64_t *out, rv_err_t *err);
/* The same digest, one pair at a time (start from KV_FNV64_INIT; pairs in key order): what a
 * store image (`raftvisor snapshot status`) computes from its stream. Returns the new h; a pair
 * outside scope leaves h as it is. */
uint64_t kv_digest_pair(uint64_t h, kv_digest_scope_t scope, const uint8_t *k, size_t kl,
                        const uint8_t *v, size_t vl);

/* fsck: walks the whole tree from the root and recounts everything; checks that every
 * directory's nchildren and subtree totals equal the recount, that every dentry has its
 * attributes with a matching type, that no attribute, content or dentry is unreachable, that
 * content lengths equal sizes, that next_inode is above every inode, and that the session
 * table and its LRU index agree. Returns 0 (and *out when non-NULL) or RV_ECORRUPT naming the
 * first inconsistency. Reads the store itself, not the cache. O(store size) time; memory: the
 * recursion (depth) and the child lists of the directories on the current path. */
int kv_core_check(kv_core_t *core, kv_check_t *out, rv_err_t *err);

/* ---- the replica's change log (kv_chlog.h) ------------------------------------------------ */

/* The log's state as last written (info->enabled false when cfg.chlog_max_bytes is 0). */
void kv_core_chlog_info(const kv_core_t *core, kv_chlog_info_t *info);

/* A replica holds the namespace at below_index (the remote synced_index): entries only a replica
 * before it would need may go. Raises the floor to min(below_index, applied) and clears
 * base_needed when below_index >= the floor; one store write of the state (the entries are
 * deleted by kv_core_chlog_tidy). Returns 0, RV_ENOTFOUND when the log is off, or a storage
 * code. Call between applies. Durable as the store's writes are (the actor syncs the WAL every
 * ~100 ms): a trim lost to an OS crash only leaves more log, the safe direction. */
int kv_core_chlog_trim(kv_core_t *core, uint64_t below_index, rv_err_t *err);

/* Whether dropped or trimmed entries (or a disabled log's keys) wait to be deleted. */
bool kv_core_chlog_tidy_due(const kv_core_t *core);
/* Deletes up to max of them in one store write (*deleted says how many). Bounded, so the
 * caller's loop never stalls on a dropped log of millions of entries. Call between applies. */
int kv_core_chlog_tidy(kv_core_t *core, size_t max, size_t *deleted, rv_err_t *err);

/* ---- recovery of a new cluster from the remote copy (kv_recovery.h) ------------------------ */

/* The recovery state as last written (phase KV_RECOVERY_NONE when not recovering). */
void kv_core_recovery(const kv_core_t *core, kv_recovery_t *out);
/* true while a recovery is RUNNING or FINISH: client writes are refused with RV_ERECOVERY. */
bool kv_core_read_only(const kv_core_t *core);

#endif
