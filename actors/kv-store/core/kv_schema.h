/* kv_schema: how the namespace is laid out in the ordered key-value store.
 *
 * Keys (first byte = table; integers 8-byte big-endian so they sort numerically):
 *   'D' parent(8) name      -> dentry: child inode(8) type(1)
 *                               one per directory entry; a directory's children are the
 *                               contiguous range 'D'+parent, in name (byte) order: ls is a
 *                               range scan, paged by seeking past the last name returned.
 *   'I' inode(8)            -> attributes (kv_attr_t, encoding below)
 *   'C' inode(8)            -> inline content of a file (absent when the file is empty)
 *   'E' inode(8)            -> the inode's extended attributes (absent when it has none): one
 *                               value holding them all (kv_xattrs_encode), so that a delete of
 *                               the inode deletes them with one point delete, a rename keeps
 *                               them (same inode), and a set is one read and one write. At
 *                               most KV_XATTRS_MAX of KV_XATTR_SIZE_MAX bytes each: 512 KiB
 *   'S' client(8)           -> session: last seq, last time, the result of that command
 *   'T' bucket(8) client(8) -> "" : sessions ordered by last use (bucketed time, kv_session.c),
 *                               for deterministic expiry
 *   'U' len(1) principal bucket(8) client(8) -> "" : one principal's sessions by last use (the
 *                               same buckets), so that a principal at its cap drops its own
 *                               least recently used session
 *   'N' principal           -> u64 sessions the principal holds (absent = 0)
 *   'M' "format"            -> u64 schema version (1)
 *   'M' "state"             -> u64 applied index, i64 clock (the largest command time seen,
 *                               ms), u64 next inode, u64 sessions held: one key, rewritten by
 *                               every write, so the applied index always moves with the
 *                               changes it covers
 *   'L' index(8)            -> the change log of the off-cluster replica (kv_chlog.h): node-local,
 *                               not replicated: never in a Raft snapshot nor in any digest;
 *                               index 0 holds its state, index p the namespace keys of the
 *                               write whose applied index is p
 * The root directory is inode 1 (KV_ROOT_INO); inode numbers are never reused.
 *
 * Attribute value (version 1), all big-endian:
 *   u8 version(1) u8 type u16 perm i64 mtime_ms i64 atime_ms u64 size
 *   u64 nchildren u64 sub_dirs u64 sub_files u64 sub_bytes str8 owner str8 group
 * Directories carry the totals of their whole subtree (below them, themselves excluded):
 * every write updates them along the ancestor chain, O(depth) attribute writes, so `count`
 * of any path is one read. Files have nchildren = sub_* = 0.
 *
 * Session value (version 1, or 2 with the owner at the end):
 *   u8 version u64 last_seq i64 last_time_ms, then the recorded result:
 *   u64 index u8 op u8 skipped(0) u32 code u64 inode u64 n str16 message
 *   version 2: str8 principal (the session's owner; a version 1 value belongs to nobody)
 * Pure: libc only. */
#ifndef KV_SCHEMA_H
#define KV_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv_cmd.h"
#include "kv_codec.h"
#include "kv_path.h"
#include "rv_error.h"

#define KV_ROOT_INO 1
#define KV_FORMAT 1

/* Key tables. */
#define KV_T_DENTRY 'D'
#define KV_T_ATTR 'I'
#define KV_T_CONTENT 'C'
#define KV_T_XATTR 'E' /* between 'C' and 'I': inside the namespace range */
#define KV_T_SESSION 'S'
#define KV_T_SESSION_LRU 'T'
#define KV_T_PRINCIPAL_LRU 'U'
#define KV_T_PRINCIPAL_COUNT 'N'
#define KV_T_META 'M'
#define KV_T_CHLOG 'L' /* node-local: see kv_chlog.h */

#define KV_KEY_MAX (1 + 8 + KV_NAME_MAX) /* the longest key: a dentry */

/* Meta key names. */
#define KV_META_FORMAT "format"
#define KV_META_STATE "state"

/* Entry types (on disk: never renumber). */
typedef enum { KV_TYPE_DIR = 1, KV_TYPE_FILE = 2 } kv_type_t;

/* Attributes of one inode. */
typedef struct {
  uint8_t type;       /* kv_type_t */
  uint16_t perm;      /* 0..07777 */
  int64_t mtime_ms;   /* modification time */
  int64_t atime_ms;   /* access time (set at create and by setattr; reads do not update it) */
  uint64_t size;      /* file: content bytes; directory: 0 */
  uint64_t nchildren; /* directory: direct entries */
  uint64_t sub_dirs;  /* directory: directories below it (itself excluded) */
  uint64_t sub_files; /* directory: files below it */
  uint64_t sub_bytes; /* directory: bytes of the files below it */
  char owner[KV_OWNER_MAX + 1]; /* NUL-terminated */
  char group[KV_OWNER_MAX + 1];
} kv_attr_t;

/* Key builders: write into out (KV_KEY_MAX bytes at least) and return the key length. */
size_t kv_key_dentry(uint8_t *out, uint64_t parent, const void *name, size_t nlen);
size_t kv_key_attr(uint8_t *out, uint64_t ino);
size_t kv_key_content(uint8_t *out, uint64_t ino);
size_t kv_key_xattr(uint8_t *out, uint64_t ino);
size_t kv_key_session(uint8_t *out, uint64_t client);
size_t kv_key_session_lru(uint8_t *out, int64_t time_ms, uint64_t client);
/* principal: a NUL-terminated name of at most KV_OWNER_MAX bytes. */
size_t kv_key_principal_lru(uint8_t *out, const char *principal, int64_t time_ms,
                            uint64_t client);
size_t kv_key_principal_count(uint8_t *out, const char *principal);
size_t kv_key_meta(uint8_t *out, const char *name);

/* Dentry value: 9 bytes. Decode returns RV_ECORRUPT on a wrong length or unknown type. */
#define KV_DENTRY_LEN 9
void kv_dentry_encode(uint8_t *out, uint64_t ino, uint8_t type);
int kv_dentry_decode(const uint8_t *v, size_t len, uint64_t *ino, uint8_t *type);

/* Attributes. encode appends to out; decode returns RV_ECORRUPT on malformed bytes. */
void kv_attr_encode(const kv_attr_t *a, kv_buf_t *out);
int kv_attr_decode(const uint8_t *v, size_t len, kv_attr_t *a);

/* Extended attributes (HDFS' defaults: dfs.namenode.fs-limits.max-xattrs-per-inode 32,
 * max-xattr-size 16384 bytes of name and value together). A name is stored with its namespace
 * in lower case ("user.x"); at most KV_XATTR_NAME_MAX bytes. */
#define KV_XATTRS_MAX 32
#define KV_XATTR_SIZE_MAX 16384
#define KV_XATTR_NAME_MAX 255
typedef struct {
  kv_bytes_t name;  /* borrowed from the encoded value */
  kv_bytes_t value;
} kv_xattr_t;
/* The 'E' value: u8 n, then n x (str8 name, str16 value), names in byte order, unique.
 * encode appends to out (the caller keeps the order and the limits). decode fills x[0..*n)
 * (borrowed from v; at most KV_XATTRS_MAX) and returns 0 or RV_ECORRUPT. */
void kv_xattrs_encode(const kv_xattr_t *x, size_t n, kv_buf_t *out);
int kv_xattrs_decode(const uint8_t *v, size_t len, kv_xattr_t *x, size_t *n);

/* A meta u64 value (8 bytes). decode returns RV_ECORRUPT on a wrong length. */
int kv_u64_decode(const uint8_t *v, size_t len, uint64_t *out);

/* The 'M' "state" value. */
typedef struct {
  uint64_t applied;    /* last applied log index */
  int64_t clock;       /* largest command time seen (ms) */
  uint64_t next_inode; /* next inode number to hand out */
  uint64_t nsessions;  /* sessions in the table */
} kv_state_t;
#define KV_STATE_LEN 32
void kv_state_encode(const kv_state_t *st, uint8_t *out);
/* RV_ECORRUPT on a wrong length or a next inode at or below the root's. */
int kv_state_decode(const uint8_t *v, size_t len, kv_state_t *st);

#endif
