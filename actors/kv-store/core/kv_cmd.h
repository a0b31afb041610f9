/* kv_cmd: the namespace commands that travel through the Raft log, and their byte encoding.
 *
 * A command is proposed by the leader, committed by Raft and applied by every replica, so its
 * bytes must say everything the apply needs: who sent it (client id and sequence number, for
 * exactly-once), when (the leader's clock at proposal time, which becomes the mtime, so every
 * replica stamps the same value) and the operation's arguments.
 *
 * Wire format, version 1 (all integers big-endian, see kv_codec.h); one layout for every op,
 * fields an op does not use must be zero / empty (the decoder refuses them, so garbage rarely
 * decodes):
 *   u8  version (1)        u8  op (kv_op_t)
 *   u64 client_id          u64 seq            i64 time_ms
 *   u8  flags (KV_F_*)     u8  set_mask (KV_SET_*, setattr only)
 *   u16 perm (07777 max)   i64 mtime_ms       i64 atime_ms      (setattr only)
 *   str16 path             str16 path2 (mv destination)
 *   str8 owner             str8 group
 *   str32 data (put and append: the content; truncate: the new length as u64; concat: the
 *               sources as u16 n, then n x str16 path; setxattr: str8 name, str16 value;
 *               removexattr: the name)
 * Version 2 (what the leader proposes since permissions are enforced) appends who asked, as the
 * leader authenticated it, so that every replica decides the same (kv_perm.h):
 *   str8 user (1..KV_OWNER_MAX bytes)   u8 pflags (KV_P_*)   u8 ngroups (<= KV_GROUPS_MAX)
 *   str8 group * ngroups
 * and creates carry no owner nor group (the owner is the user, the group the parent's, as in
 * HDFS). Version 1 commands (logs written before) decode with no user: they apply unchecked,
 * with the owner and group they carry, exactly as they did when first applied.
 * Decoding is defensive: truncated input, trailing bytes, an unknown version or op, flags or
 * fields an op does not take → RV_EDECODE; input over KV_CMD_MAX or data over KV_DATA_MAX →
 * RV_ETOOBIG; each with a message saying which field. It never reads out of bounds and never
 * allocates. Semantic checks (path rules, owner names, permission range, the configured inline
 * limit) happen at apply time, because their outcome is a result the client must see.
 * Pure: libc only. */
#ifndef KV_CMD_H
#define KV_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv_codec.h"
#include "rv_error.h"

#define KV_CMD_VERSION 2   /* written when the command names its user; 1 otherwise */
#define KV_CMD_VERSION_LEGACY 1
#define KV_CMD_GROUPS_MAX 32 /* = kv_perm.h's KV_GROUPS_MAX */
#define KV_DATA_MAX                                                                            \
  (4u << 20)                              /* hard cap of one put's content: 4 MiB (an envelope \
                                             is 8 MiB at most) */
#define KV_CMD_MAX (KV_DATA_MAX + 16384u) /* a whole encoded command */
#define KV_OWNER_MAX 64                   /* bytes in an owner or group name */
#define KV_PERM_MAX 07777                 /* permission bits, sticky/setuid/setgid included */

/* Operations. The numbers are on the wire and in the replicated state: never renumber. A new
 * op needs a level in kv_feature.c's table (and KV_FEATURE_LEVEL bumped): the leader proposes it
 * only once every member's build knows it. */
typedef enum {
  KV_OP_MKDIR = 1,  /* path, perm, owner, group; KV_F_PARENTS = mkdir -p */
  KV_OP_PUT = 2,    /* path, perm, owner, group, data; KV_F_PARENTS, KV_F_OVERWRITE */
  KV_OP_TOUCHZ = 3, /* path, perm, owner, group */
  KV_OP_RM = 4,     /* path; KV_F_RECURSIVE = rm -r, KV_F_FILE_ONLY, KV_F_DIR_ONLY (one at most) */
  KV_OP_MV = 5,     /* path (source), path2 (destination) */
  KV_OP_SETATTR = 6, /* path, set_mask and the fields it names */
  KV_OP_APPEND = 7,  /* path, perm (used when it creates), data: appended to the file's content
                        in one apply; a missing file is created (Hadoop's -appendToFile) */
  KV_OP_TRUNCATE = 8, /* path, data = the new length (KV_TRUNCATE_LEN bytes, u64 big-endian) */
  KV_OP_CONCAT = 9,  /* path (the target), data = the sources (kv_concat_srcs_encode) */
  KV_OP_SETXATTR = 10, /* path, data = str8 name, str16 value: set (create or replace) */
  KV_OP_REMOVEXATTR = 11 /* path, data = the name */
} kv_op_t;
#define KV_OP_MIN KV_OP_MKDIR
#define KV_OP_LAST KV_OP_REMOVEXATTR /* the last namespace (client) op */

#define KV_TRUNCATE_LEN 8     /* truncate's data: the new length, u64 big-endian */
#define KV_CONCAT_SRCS_MAX 1024 /* sources of one concat at most */

/* The recovery of a new cluster from the off-cluster replica (kv_recovery.h): proposed by the
 * leader's kv-store for its ots-replicator, never by clients. Numbered well above the
 * namespace ops so that those can grow. They carry their arguments in `data` only (encoded by
 * kv_recovery.h) and no session (client_id 0). */
#define KV_OP_RECOVERY_BEGIN 64  /* state none -> RUNNING (an empty namespace only) */
#define KV_OP_RECOVERY_ROWS 65   /* rows after the replicated cursor, exactly once */
#define KV_OP_RECOVERY_FINISH 66 /* RUNNING -> FINISH at the end of the source's rows */
#define KV_OP_RECOVERY_LEAVE 67  /* FINISH -> none: the namespace is writable again */
#define KV_OP_RECOVERY_FIRST KV_OP_RECOVERY_BEGIN
#define KV_OP_RECOVERY_LAST KV_OP_RECOVERY_LEAVE

/* Whether op is a namespace op (client write) or a recovery op. */
static inline bool kv_op_is_recovery(int op) {
  return op >= KV_OP_RECOVERY_FIRST && op <= KV_OP_RECOVERY_LAST;
}

/* flags */
#define KV_F_PARENTS 0x01   /* create missing parent directories */
#define KV_F_OVERWRITE 0x02 /* put: replace an existing file */
#define KV_F_RECURSIVE 0x04 /* rm: remove a directory and everything under it */
#define KV_F_FILE_ONLY 0x08 /* rm: refuse a directory, empty or not (RV_EISDIR): HDFS' -rm
                               without -r, decided atomically with the removal */
#define KV_F_DIR_ONLY 0x10  /* rm: remove an empty directory only: a file is RV_ENOTDIR, a
                               non-empty directory RV_ENOTEMPTY (-rmdir) */
/* rm's flags exclude one another: at most one of KV_F_RECURSIVE, KV_F_FILE_ONLY, KV_F_DIR_ONLY
 * (the decoder takes any of them; the apply refuses two with RV_EINVAL). Without any, rm removes
 * a file or an empty directory. Older replicas decode neither new flag: upgrade every replica
 * before clients send them. */

/* pflags (version 2): how the leader judged the user */
#define KV_P_SUPERUSER 0x01 /* the superuser or a member of the supergroup: no checks */
#define KV_P_ENFORCE 0x02   /* permissions enabled (security.permissions) */
#define KV_P_ALL 0x03

/* setattr mask: which fields to set */
#define KV_SET_MTIME 0x01
#define KV_SET_ATIME 0x02
#define KV_SET_PERM 0x04
#define KV_SET_OWNER 0x08
#define KV_SET_GROUP 0x10
#define KV_SET_ALL 0x1f

/* A command. For decoded commands every kv_bytes_t borrows from the input bytes (valid while
 * they are); for encoding they borrow from the caller. */
typedef struct {
  uint8_t op;         /* kv_op_t */
  uint64_t client_id; /* 0 = no session (no retry detection) */
  uint64_t seq;       /* the client's sequence number, from 1; ignored when client_id is 0 */
  int64_t time_ms;    /* leader's clock at proposal time, ms since the epoch */
  uint8_t flags;      /* KV_F_* */
  uint8_t set_mask;   /* KV_SET_* (setattr) */
  uint16_t perm;      /* permission bits (mkdir, put, touchz, setattr) */
  int64_t mtime_ms;   /* setattr */
  int64_t atime_ms;   /* setattr */
  kv_bytes_t path;    /* every op */
  kv_bytes_t path2;   /* mv destination */
  kv_bytes_t owner;   /* mkdir, put, touchz, setattr */
  kv_bytes_t group;   /* mkdir, put, touchz, setattr */
  kv_bytes_t data;    /* put */
  kv_bytes_t user;    /* version 2: the principal; empty = a version 1 command (unchecked) */
  uint8_t pflags;     /* version 2: KV_P_* */
  uint8_t ngroups;    /* version 2: the principal's groups, as the leader's server knows them */
  kv_bytes_t groups[KV_CMD_GROUPS_MAX];
} kv_cmd_t;

/* The op's name ("mkdir", "put", "touchz", "rm", "mv", "setattr", "append", "truncate",
 * "concat", "setxattr", "removexattr", "recovery-begin",
 * "recovery-rows", "recovery-finish", "recovery-leave"), or "op?" when unknown.
 * Borrowed static string. */
const char *kv_op_name(int op);

/* Appends the encoding of cmd to out. Returns 0, or RV_EINVAL / RV_ETOOBIG (err says which
 * field) when cmd could not decode: the encoder refuses what the decoder would. */
int kv_cmd_encode(const kv_cmd_t *cmd, kv_buf_t *out, rv_err_t *err);

/* Decodes buf[0..len) into out (zeroed first). Returns 0, RV_EDECODE or RV_ETOOBIG; see
 * above. */
int kv_cmd_decode(const uint8_t *buf, size_t len, kv_cmd_t *out, rv_err_t *err);

/* concat's sources: n paths (each at most UINT16_MAX bytes, n <= KV_CONCAT_SRCS_MAX) appended
 * to out as u16 n, n x str16. Returns 0 or RV_EINVAL. */
int kv_concat_srcs_encode(const kv_bytes_t *srcs, size_t n, kv_buf_t *out, rv_err_t *err);
/* Decodes data into srcs (borrowed from data; at most cap of them) and *n. Returns 0, or
 * RV_EDECODE when data is not such a list (truncated, trailing bytes, n over cap or 0). */
int kv_concat_srcs_decode(const kv_bytes_t *data, kv_bytes_t *srcs, size_t cap, size_t *n);

/* Whether buf is a command of a build newer than this one: a known version whose layout
 * (the one every op shares, above) parses to its last byte, carrying an op number this build
 * does not know (kv_cmd_decode refuses it as RV_EDECODE). Then *op is that number. A newer
 * build's op is only ever proposed once every member knows it (kv_feature.h), so a replica
 * that meets one is older than the cluster and must stop; bytes that do not parse are garbage
 * instead, and are applied as a failed command, identically on every replica. */
bool kv_cmd_newer(const uint8_t *buf, size_t len, uint8_t *op);

/* Peeks at the client id and sequence number of an encoded command without decoding the rest;
 * returns false when the header is truncated or of an unknown version. */
bool kv_cmd_peek_session(const uint8_t *buf, size_t len, uint64_t *client_id, uint64_t *seq);

#endif
