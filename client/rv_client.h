/* rv_client: librvclient, the C client of a raftvisor namespace (the protocol is
 * messages/kv.proto; the raftvisor CLI's `fs` command and the benchmarks use it).
 *
 * A client is given every node of the cluster ("host:client-port,...") and finds the leader by
 * itself, as HDFS' ConfiguredFailoverProxyProvider does: it sends to one node at a time; a node
 * that is not the leader answers with the leader's address and the client goes there (adding it
 * to its list if it was not given: a client may be given one node only); a node
 * that does not answer within the attempt timeout, or cannot be reached, is skipped for the
 * next one in the list (round robin, backing off briefly after a full round). Whatever the
 * failovers, an operation ends within the retry deadline: with the server's answer, or with
 * RV_ETIMEDOUT ("no node answered").
 *
 * Exactly-once writes: each write carries the client's session (a random 64-bit client id and
 * a sequence number). Retries of one write, on any node, carry the same pair; the replicated
 * session table applies it once and answers every retry with the outcome of that one apply
 * (result.replayed tells a retry's answer). A session has one write in flight at a time, so a
 * client has `lanes` sessions: lane k may have one operation in flight, independently of the
 * others. Reads need no session; they use lanes too, which bounds what is in flight.
 *
 * Reads are linearizable by default (ReadIndex on whichever node serves them: followers too);
 * RV_CLIENT_STALE asks for a stale read, served at once by the node the client talks to.
 *
 * Two interfaces over one engine:
 *   - synchronous (the CLI): rv_client_call and the rv_client_<op> wrappers block until the
 *     operation is decided (or the retry deadline passes);
 *   - asynchronous (benchmarks, many concurrent clients from one thread): rv_client_submit
 *     starts an operation on a free lane and returns at once; rv_client_poll waits (up to a
 *     timeout) for the next completed operation, driving retries and failovers meanwhile.
 * One DEALER socket per node, one thread: a client is not thread-safe (use one per thread).
 *
 * Authentication (CURVE, when opts carry keys): a server that refuses the client's key (not in
 * its security.clients) is detected at the handshake (ZeroMQ's socket monitor), not waited out:
 * once every node has refused it, an operation ends at once with RV_EPERM and a message that
 * names the principal ("the server refused our key: is alice's public key listed in
 * security.clients?"); a server that does not speak CURVE, or a client without keys facing one
 * that does, ends the same way with its own message.
 *
 * Errors: functions return 0 or an rv code (common/rv_error.h); the detail is in an rv_err_t or
 * in the result's message. RV_EPERM: the cluster refused the user (HDFS permissions: the
 * message is Hadoop's, e.g. "Permission denied: user=alice, access=WRITE,
 * inode=\"/dir\":root:supergroup:drwxr-xr-x"); not retriable. Ownership: the caller owns every rv_client_t and result; strings
 * passed in are borrowed for the duration of the call (submit copies what it needs). */
#ifndef RV_CLIENT_H
#define RV_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rv_error.h"

#define RV_CLIENT_NODES_MAX 16          /* nodes in one client's list */
#define RV_CLIENT_LANES_MAX 4096        /* operations in flight at once */
#define RV_CLIENT_DATA_MAX (4u << 20)   /* put content a client sends at most (the cluster's
                                           inline limit, 1 MiB by default, may be lower) */
#define RV_CLIENT_MSG_MAX 640           /* bytes of a result message, NUL included */
#define RV_CLIENT_NAME_MAX 255          /* bytes of an entry name */
#define RV_CLIENT_OWNER_MAX 64          /* bytes of an owner or group */
#define RV_CLIENT_ADDR_MAX 280          /* "host:port" of a node, NUL included */

typedef struct rv_client rv_client_t;

/* Operations; the numbers are messages/kv.proto's FsOp. */
typedef enum {
  RV_CLIENT_MKDIR = 1,  /* path; RV_CLIENT_PARENTS = mkdir -p */
  RV_CLIENT_PUT = 2,    /* path, data; RV_CLIENT_PARENTS, RV_CLIENT_OVERWRITE */
  RV_CLIENT_TOUCHZ = 3, /* path */
  RV_CLIENT_RM = 4,      /* path; one of RV_CLIENT_RECURSIVE, _FILE_ONLY, _DIR_ONLY at most */
  RV_CLIENT_MV = 5,      /* path, path2 */
  RV_CLIENT_SETATTR = 6, /* path, attrs */
  RV_CLIENT_APPEND = 7,  /* path, data: appended atomically (a missing file is created);
                            result.n = the file's size after it */
  RV_CLIENT_TRUNCATE = 8, /* path, length: the file cut to length bytes (a larger one is
                             RV_EINVAL, as HDFS); result.n = length */
  RV_CLIENT_CONCAT = 9,  /* path (the target), sources, nsources: HDFS concat in one command;
                            result.n = the target's size after it */
  RV_CLIENT_SETXATTR = 10, /* path, xattr_name, xattr_value/xattr_len: set an extended
                              attribute (create or replace); result.n = the entry's count */
  RV_CLIENT_REMOVEXATTR = 11, /* path, xattr_name */
  RV_CLIENT_STAT = 16,   /* path */
  RV_CLIENT_LS = 17,     /* path, start_after, limit: one page */
  RV_CLIENT_CAT = 18,    /* path */
  RV_CLIENT_COUNT = 19,  /* path */
  RV_CLIENT_GETXATTRS = 21, /* path: the extended attributes the user may see (result.xattrs) */
  RV_CLIENT_DIGEST = 20,  /* no path: the answering node's namespace digest (result.digest) */
  RV_CLIENT_NODE_STATUS = 40, /* no path: the answering node's own status (result.status) */
  RV_CLIENT_SNAPSHOT_READ = 41 /* no path: one chunk of a consistent image of the answering
                                  node's store (snapshot_stream, snapshot_offset; the pairs in
                                  result.content, the rest in result.image). Give the client
                                  one node: a chunk is only good from the node holding the view */,
  RV_CLIENT_RECOVERY_LEAVE = 42 /* no path, a write: leave recovery mode (state FINISH ->
                                   writable); result.n = 1 when it left, 0 when none was on */
} rv_client_op_t;

/* One node's status, as its kv-store answers RV_CLIENT_NODE_STATUS (see kv.proto NodeStatus). */
typedef struct {
  char node[64], cluster[64];
  char role[16];          /* "" when kv-store has not heard from its raft-peer */
  uint64_t term;
  char leader[64];        /* "" = none known */
  uint64_t commit, applied, last_index;
  uint64_t db_size;       /* bytes */
  char health[160];       /* "healthy" or "unhealthy: why" */
  char version[32];
  uint64_t uptime_ms;
  unsigned feature_level; /* the replicated commands its build knows (actors/kv-store/core/
                             kv_feature.h); 0 = a build that does not say (level 1) */
  unsigned cluster_level; /* on the leader: the least level over the members (what writes
                             may use); 0 on a follower, which does not gather the levels */
} rv_client_node_status_t;

/* One chunk of a node's store image, as FS_SNAPSHOT_READ answers it (kv.proto SnapshotImage). */
typedef struct {
  uint64_t stream, offset;
  bool last;              /* no pairs follow */
  uint64_t index, term;   /* the Raft index the view reflects and the term of its entry */
  char cluster[64], node[64];
  uint64_t store_format;  /* the namespace store's format version */
  uint64_t estimated_keys;
} rv_client_image_t;

/* Request flags. */
#define RV_CLIENT_PARENTS 0x01   /* create missing parent directories */
#define RV_CLIENT_OVERWRITE 0x02 /* put: replace an existing file */
#define RV_CLIENT_RECURSIVE 0x04 /* rm: a directory and everything under it */
#define RV_CLIENT_STALE 0x08     /* reads: no ReadIndex; the contacted node answers at once */
#define RV_CLIENT_FILE_ONLY 0x10 /* rm: refuse a directory, even an empty one (RV_EISDIR), in
                                    the same atomic step as the removal: HDFS' -rm without -r */
#define RV_CLIENT_DIR_ONLY 0x20  /* rm: an empty directory only: a file is RV_ENOTDIR, a
                                    non-empty directory RV_ENOTEMPTY (-rmdir) */
/* rm without any of RECURSIVE, FILE_ONLY, DIR_ONLY removes a file or an empty directory. */

/* setattr: which fields of rv_client_attrs_t to set (the numbers are kv_cmd.h's KV_SET_*). */
#define RV_CLIENT_SET_MTIME 0x01
#define RV_CLIENT_SET_ATIME 0x02
#define RV_CLIENT_SET_PERM 0x04
#define RV_CLIENT_SET_OWNER 0x08
#define RV_CLIENT_SET_GROUP 0x10
#define RV_CLIENT_SET_ALL 0x1f

/* A node's CURVE public key (Z85), for the client to pin when it connects to addr. */
typedef struct {
  const char *addr; /* "host:port", as in the node list (and as leaders are announced) */
  const char *key;  /* its public key: cluster.nodes[].public-key */
} rv_client_server_key_t;

typedef struct {
  int timeout_ms;  /* one attempt on one node: no answer within this, try the next node;
                      default 1000 (1..600000) */
  int retry_ms;    /* an operation gives up (RV_ETIMEDOUT) this long after it started;
                      default 15000; at least timeout_ms */
  unsigned lanes;  /* operations in flight at once (one session each); default 1
                      (1..RV_CLIENT_LANES_MAX) */
  const char *user;  /* the user this client says it is, sent with every request; NULL =
                        $HADOOP_USER_NAME when set, else the login name. Only a cluster whose
                        YAML says security.insecure: true believes it; a secure one takes the
                        principal the connection authenticated. What the client creates is
                        owned by that user, in the parent directory's group (HDFS) */
  /* CURVE (authentication and encryption): the client's key pair (Z85 secret and public), the
   * principal it stands for (for messages only: the server decides who a key is), and every
   * node's public key. NULL secret = plain tcp, for clusters run with security.insecure. A
   * node whose key is not listed cannot be connected to (RV_EINVAL at creation; skipped when a
   * leader is announced at an unlisted address). All borrowed until rv_client_destroy. */
  const char *curve_secret;
  const char *curve_public;
  const char *principal;
  const rv_client_server_key_t *server_keys;
  unsigned nserver_keys;
} rv_client_opts_t;

/* New attributes for setattr: only the fields named in `set` are sent; one command changes
 * them all at once (on a file or a directory, never its subtree: chmod -R is the caller's walk).
 * Strings are borrowed for the call. */
typedef struct {
  unsigned set;          /* RV_CLIENT_SET_* bits; at least one */
  unsigned perm;         /* SET_PERM: 0..07777 */
  const char *owner;     /* SET_OWNER: 1..RV_CLIENT_OWNER_MAX bytes of UTF-8, no control chars */
  const char *group;     /* SET_GROUP: the same rules */
  int64_t mtime_ms;      /* SET_MTIME: ms since the epoch (ignored with times_now) */
  int64_t atime_ms;      /* SET_ATIME */
  bool times_now;        /* the times named in `set` take the leader's clock (as creates do) */
} rv_client_attrs_t;

/* One extended attribute (getxattrs). */
typedef struct {
  char name[256];               /* "user.x": NUL-terminated */
  uint8_t *value;               /* owned by the result; NUL-terminated for convenience */
  size_t len;
} rv_client_xattr_t;

/* One request (borrowed by submit, which copies it). */
typedef struct {
  rv_client_op_t op;
  const char *path;        /* absolute; "//" is normalised to "/" before sending */
  const char *path2;       /* mv destination */
  const void *data;        /* put content (len bytes) */
  size_t len;
  unsigned flags;          /* RV_CLIENT_* flags */
  unsigned perm;           /* creates: permission bits; 0 = 0755 / 0644 */
  const char *start_after; /* ls: the last name of the previous page; NULL = from the first */
  unsigned limit;          /* ls: entries per page; 0 = the server's default (1000) */
  const char *pattern;     /* ls: only names matching this glob (kv_glob.h); NULL = all */
  rv_client_attrs_t attrs; /* setattr */
  uint64_t snapshot_stream; /* snapshot read: the stream (non-zero, the caller's random id) */
  uint64_t snapshot_offset; /* snapshot read: pair bytes received so far */
  uint64_t length;          /* truncate: the new length */
  const char *const *sources; /* concat: nsources source paths (1..1024), in order */
  size_t nsources;
  const char *xattr_name;   /* setxattr, removexattr: NAMESPACE.name */
  const void *xattr_value;  /* setxattr: xattr_len bytes (may be 0) */
  size_t xattr_len;
} rv_client_req_t;

/* Attributes of one entry. */
typedef struct {
  char name[RV_CLIENT_NAME_MAX + 1]; /* ls: the entry's name; stat: "" */
  bool dir;                          /* a directory (else a file) */
  unsigned perm;
  int64_t mtime_ms, atime_ms;
  uint64_t size;                     /* files: bytes */
  uint64_t nchildren;                /* directories: direct entries */
  char owner[RV_CLIENT_OWNER_MAX + 1];
  char group[RV_CLIENT_OWNER_MAX + 1];
  uint64_t inode;
  uint64_t dirs, files, bytes;       /* the subtree, as -count shows it */
} rv_client_stat_t;

/* The outcome of one operation. Embedded by the caller: zero it (or rv_client_result_clear it)
 * before first use; the calls that fill it clear it first. */
typedef struct {
  uint64_t tag;                 /* the caller's, from submit (sync calls: 0) */
  rv_client_op_t op;
  int code;                     /* RV_OK, or the failure: RV_ENOTFOUND, RV_EEXIST, ...;
                                   RV_ETIMEDOUT when no node decided it in time;
                                   RV_ERECOVERY (25021): a write while the cluster is being
                                   rebuilt from its remote copy (read-only); msg is then
                                   exactly RV_ERECOVERY_MSG;
                                   RV_EFEATURE (70): a write some member's build does not
                                   know (an older build: the message names the level the op
                                   needs and the nodes below it); upgrade them */
  char msg[RV_CLIENT_MSG_MAX];  /* "" on success; the server's (or the client's) reason */
  uint64_t index;               /* writes: the log index that decided it; reads: the index the
                                   answer was read at */
  uint64_t inode, n;            /* writes: as the server reports (see kv.proto) */
  bool replayed;                /* a write whose answer is the recorded outcome of an earlier
                                   apply (a retry) */
  rv_client_stat_t stat;        /* stat */
  rv_client_stat_t *entries;    /* ls: one page (owned by the result) */
  size_t nentries;
  bool more;                    /* ls: more entries follow: ask again after `resume` */
  char resume[RV_CLIENT_NAME_MAX + 1]; /* ls with more: the start_after of the next page */
  uint8_t *content;             /* cat: the content (owned, NUL-terminated for convenience) */
  size_t len;
  uint64_t dirs, files, bytes;  /* count */
  uint64_t digest;              /* digest: FNV-1a 64 of the namespace (directories, files,
                                   attributes, contents) of the node that answered (`node`),
                                   at its applied index (`index`) */
  unsigned replicas;            /* masters holding the data (the cluster's size) */
  char node[RV_CLIENT_ADDR_MAX]; /* "host:port" of the node that answered; "" if none */
  unsigned attempts;            /* sends, retries and redirects included */
  uint64_t latency_us;          /* from submit to completion */
  rv_client_node_status_t status; /* node status */
  rv_client_image_t image;      /* snapshot read (its pairs are content / len) */
  rv_client_xattr_t *xattrs;    /* getxattrs: in name order (owned by the result) */
  size_t nxattrs;
} rv_client_result_t;

/* Counters since rv_client_new. */
typedef struct {
  uint64_t ops;       /* operations completed */
  uint64_t sends;     /* requests sent (first attempts and retries) */
  uint64_t redirects; /* "not the leader" answers followed */
  uint64_t timeouts;  /* attempts that got no answer within timeout_ms */
  uint64_t retries;   /* retriable answers (the server decided nothing) */
  uint64_t stray;     /* answers to attempts already given up on, dropped */
  uint64_t busy;      /* busy answers (RV_EBUSY: the node's per-connection caps), retried on
                         the same node after a backoff (also counted in retries) */
} rv_client_stats_t;

/* Defaults as documented on each field. */
void rv_client_opts_default(rv_client_opts_t *o);

/* Keys read from the environment by rv_client_opts_env; must outlive the opts that borrow. */
typedef struct {
  char secret[41], pub[41], principal[65];
  char addrs[RV_CLIENT_NODES_MAX][RV_CLIENT_ADDR_MAX];
  char keys_txt[RV_CLIENT_NODES_MAX][41];
  rv_client_server_key_t keys[RV_CLIENT_NODES_MAX];
} rv_client_env_keys_t;

/* For tools and scripts given a node list rather than a YAML: sets o's CURVE fields from
 * RV_CLIENT_KEY (a key pair file written by `raftvisor keys gen`) and RV_SERVER_KEYS
 * ("host:port=KEY,...": each node's public key; split at the first '=', as Z85 has no ','),
 * into store. Returns 0 (nothing set when RV_CLIENT_KEY is unset or empty), or RV_EINVAL /
 * RV_EIO with err naming the variable and what is wrong. */
int rv_client_opts_env(rv_client_opts_t *o, rv_client_env_keys_t *store, rv_err_t *err);

/* Parses list, in RV_SERVER_KEYS' form ("host:port=KEY,..."), into store->addrs, keys_txt and
 * keys; *n counts them. Returns 0, or RV_EINVAL with err quoting the bad element. */
int rv_client_server_keys_parse(const char *list, rv_client_env_keys_t *store, unsigned *n,
                                rv_err_t *err);

/* Parses a node list "host:port,host:port,..." (IPv6 hosts bracketed: "[::1]:7201") into
 * nodes[RV_CLIENT_NODES_MAX][...] and *n. Returns 0, or RV_EINVAL naming the bad element. */
int rv_client_nodes_parse(const char *list, char nodes[][RV_CLIENT_ADDR_MAX], int *n,
                          rv_err_t *err);

/* A client of the cluster whose nodes are listed ("host:port,..."); the first is tried first.
 * o may be NULL (defaults). Connects one DEALER per node (asynchronously: no node need be up).
 * Returns 0 and *out (caller owns; rv_client_destroy), or RV_EINVAL (bad list or options, err
 * says which), RV_ENOMEM / RV_EIO. */
int rv_client_new(const char *nodes, const rv_client_opts_t *o, rv_client_t **out, rv_err_t *err);

/* Closes the sockets, abandons operations in flight; nulls *c; safe on NULL and twice. */
void rv_client_destroy(rv_client_t **c);

/* Synchronous: runs one operation to its end. Needs no operation in flight (else RV_EBUSY in
 * res->code). Returns res->code; res is cleared first, then filled (caller clears it). */
int rv_client_call(rv_client_t *c, const rv_client_req_t *req, rv_client_result_t *res);

/* The same, one per operation (flags: RV_CLIENT_*). */
int rv_client_mkdir(rv_client_t *c, const char *path, unsigned flags, rv_client_result_t *res);
int rv_client_put(rv_client_t *c, const char *path, const void *data, size_t len, unsigned flags,
                  rv_client_result_t *res);
int rv_client_touchz(rv_client_t *c, const char *path, rv_client_result_t *res);
int rv_client_rm(rv_client_t *c, const char *path, unsigned flags, rv_client_result_t *res);
int rv_client_mv(rv_client_t *c, const char *src, const char *dst, rv_client_result_t *res);
int rv_client_stat(rv_client_t *c, const char *path, unsigned flags, rv_client_result_t *res);
int rv_client_ls(rv_client_t *c, const char *path, const char *start_after, unsigned limit,
                 unsigned flags, rv_client_result_t *res);
/* ls filtered by a glob (pattern, kv_glob.h): only matching names come back, and a page may
 * be short or empty with more set (the node bounds its work per request); go on after
 * res->resume. */
int rv_client_ls_match(rv_client_t *c, const char *path, const char *start_after,
                       const char *pattern, unsigned flags, rv_client_result_t *res);
int rv_client_cat(rv_client_t *c, const char *path, unsigned flags, rv_client_result_t *res);
int rv_client_count(rv_client_t *c, const char *path, unsigned flags, rv_client_result_t *res);
/* setattr: one atomic change of the attributes a names (a borrowed). Client-side errors
 * (nothing to set, a bad mask, perm, owner or group) are RV_EINVAL in res before anything is
 * sent; the server checks again. */
int rv_client_setattr(rv_client_t *c, const char *path, const rv_client_attrs_t *a,
                      rv_client_result_t *res);
/* append: data[0..len) appended to path's content in one replicated command (exactly once
 * under retries); a missing file is created (its parent must exist). truncate: path cut to
 * length bytes. concat: the sources' contents appended to target, in order, and the sources
 * removed, in one command (HDFS' rules: files in the target's directory). */
int rv_client_append(rv_client_t *c, const char *path, const void *data, size_t len,
                     rv_client_result_t *res);
int rv_client_truncate(rv_client_t *c, const char *path, uint64_t length,
                       rv_client_result_t *res);
int rv_client_concat(rv_client_t *c, const char *target, const char *const *sources,
                     size_t nsources, rv_client_result_t *res);
/* Extended attributes: set (create or replace) name = value[0..len); remove name; get those
 * the user may see (res->xattrs). Names and limits as HDFS' (the server checks them). */
int rv_client_setxattr(rv_client_t *c, const char *path, const char *name, const void *value,
                       size_t len, rv_client_result_t *res);
int rv_client_removexattr(rv_client_t *c, const char *path, const char *name,
                          rv_client_result_t *res);
int rv_client_getxattrs(rv_client_t *c, const char *path, unsigned flags,
                        rv_client_result_t *res);
/* digest of the namespace on the node that answers (res->node), with its applied index
 * (res->index): linearizable by default (the node first applies up to the leader's commit
 * index), RV_CLIENT_STALE = at once. Nodes that report the same index must report the same
 * digest. O(namespace size) on the node. */
/* Leaves recovery mode (a cluster rebuilt from its remote copy, state FINISH): the namespace
 * becomes writable. RV_EBUSY while the recovery is RUNNING (res->msg says how far it is). */
int rv_client_recovery_leave(rv_client_t *c, rv_client_result_t *res);
int rv_client_digest(rv_client_t *c, unsigned flags, rv_client_result_t *res);
/* The status of the node that answers: give the client that one node only. */
int rv_client_node_status(rv_client_t *c, rv_client_result_t *res);

/* Asynchronous: starts req on a free lane, tagged with the caller's tag, and returns at once.
 * Returns 0; RV_EBUSY when every lane has an operation in flight (poll first); RV_EINVAL /
 * RV_ETOOBIG for a request that cannot be sent (err says why; nothing was started). */
int rv_client_submit(rv_client_t *c, const rv_client_req_t *req, uint64_t tag, rv_err_t *err);

/* Waits up to timeout_ms (0 = just look, -1 = until something completes or nothing is in
 * flight) for a completed operation, sending, retrying and failing over meanwhile. Returns 0
 * with *res filled (cleared first; caller clears it), RV_EAGAIN when none completed in time,
 * RV_ECLOSED when nothing is in flight. */
int rv_client_poll(rv_client_t *c, int timeout_ms, rv_client_result_t *res);

/* Operations in flight (submitted, not yet returned by poll). */
size_t rv_client_inflight(const rv_client_t *c);

/* Frees what a result owns (entries, content) and zeroes it; safe twice. */
void rv_client_result_clear(rv_client_result_t *res);

rv_client_stats_t rv_client_stats(const rv_client_t *c);

/* The node list entry a client will try next ("host:port"). Borrowed. */
const char *rv_client_current(const rv_client_t *c);

/* Sessions, for tools and tests that must control exactly-once: pins lane's session to
 * (client_id, next_seq) for its next write, e.g. to send a write again with the same id and
 * seq as an earlier one, from this or another process. client_id 0 = no session (writes carry
 * no id: no retry detection). Returns RV_EINVAL for a bad lane, RV_EBUSY while it is in use. */
int rv_client_session_set(rv_client_t *c, unsigned lane, uint64_t client_id, uint64_t next_seq);
/* The session of lane: its client id and the seq its next write will carry. */
void rv_client_session_get(const rv_client_t *c, unsigned lane, uint64_t *client_id,
                           uint64_t *next_seq);

#endif
