/* raft_store internals, shared by raft_store.c (open, recovery, load, close),
 * raft_store_write.c (save, compact, roll-over, recycling), raft_store_codec.c (the record
 * format, pure) and raft_store_files.c (segment files, spares, the preparing thread, I/O with the
 * fault hook). Not an API: see raft_store.h. Internal names carry the short prefix rs_ (types
 * rs_*_t), statics s_. */
#ifndef RAFT_STORE_INT_H
#define RAFT_STORE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "raft_store.h"

#define RS_HDR 24                    /* record header bytes */
#define RS_ALIGN 8                   /* records start at multiples of this */
#define RS_FIRST_SEGMENT (1u << 20)  /* a fresh log's first segment; sizes double from there */
#define RS_MIN_SEGMENT (64u << 10)   /* smallest segment_bytes accepted */
#define RS_MAX_SEGMENT (1u << 30)    /* largest segment_bytes accepted (lengths are 32-bit) */
#define RS_MAX_SPARES 8
#define RS_FORMAT 1u                 /* checkpoint format version */
#define RS_CLUSTER_MAX 200           /* longest cluster id kept in a checkpoint */

enum { RS_REC_CHECKPOINT = 1, RS_REC_UPDATE = 2, RS_REC_SEAL = 3 };
enum { RS_OP_SNAPSHOT = 1, RS_OP_ENTRIES = 2, RS_OP_HARD = 3, RS_OP_COMPACT = 4 };

/* A growable byte buffer. */
typedef struct {
  uint8_t *p;
  size_t len, cap;
} rs_buf_t;

/* The log's state apart from the entries: what a checkpoint records, what replay tracks. */
typedef struct {
  raft_hard_state_t hard;
  raft_snapshot_meta_t snap;
  raft_index_t last; /* last entry index; snap.index when the log after it is empty */
} rs_state_t;

/* A checkpoint's contents. */
typedef struct {
  uint32_t format;
  char cluster[RS_CLUSTER_MAX + 1];
  raft_id_t node;
  rs_state_t st;
} rs_checkpoint_t;

/* One decoded record header (valid records only). */
typedef struct {
  uint8_t type;
  const uint8_t *payload;
  uint32_t len;
  uint64_t next; /* offset of the record after it */
} rs_rec_t;

/* A segment of the live log. */
typedef struct {
  uint64_t seq;
  uint64_t size;
  bool sealed;            /* it ends with a seal (only the newest may be unsealed) */
  raft_index_t seal_last; /* the last index when it was sealed */
} rs_seg_t;

/* A spare in the pool. */
typedef struct {
  uint64_t id;
  uint64_t size;
} rs_spare_t;

struct raft_store {
  char dir[4096];
  int dirfd;
  int lockfd;
  raft_store_options_t opts;
  char cluster[RS_CLUSTER_MAX + 1];
  raft_id_t node;

  /* the live segments, oldest first; the newest (segs[n_segs - 1]) is appended to through fd */
  rs_seg_t *segs;
  size_t n_segs, cap_segs;
  int fd;
  uint64_t off;          /* where the next record goes in the newest segment */
  bool spare_asked;      /* a spare was asked for since the newest segment began */

  rs_state_t disk;       /* the state the records on disk add up to */
  rs_state_t mem;        /* disk plus the deferred saves */
  uint64_t install_seq;  /* the segment of the latest durable snapshot install (0 = none): every
                            segment before it is dead */
  rs_buf_t pending;      /* the operations of deferred saves, encoded, not yet written */
  rs_buf_t scratch;      /* checkpoints and seals being written */

  int failed;            /* 0, or the code every save returns after a failed write or sync */
  char failed_msg[RV_ERR_MSG_MAX];

  raft_storage_state_t recovered; /* from open until load hands it over */
  bool loaded;           /* load handed it over, or a write made it stale */

  /* the spare pool, shared with the preparing thread */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t thread;
  bool thread_running, stop, want_spare;
  uint64_t want_size;
  rs_spare_t spares[RS_MAX_SPARES];
  size_t n_spares;
  uint64_t next_spare_id;
};

/* ---- codec (raft_store_codec.c, pure) ---------------------------------------------------- */

int rs_buf_reserve(rs_buf_t *b, size_t more);
void rs_buf_free(rs_buf_t *b);
/* Appends one operation; return RV_ENOMEM when the buffer cannot grow. */
int rs_op_snapshot(rs_buf_t *b, uint8_t op, const raft_snapshot_meta_t *m);
int rs_op_entries(rs_buf_t *b, const raft_entry_t *ents, size_t n);
int rs_op_hard(rs_buf_t *b, const raft_hard_state_t *h);
int rs_checkpoint_encode(rs_buf_t *b, const rs_checkpoint_t *c);
int rs_seal_encode(rs_buf_t *b, raft_index_t last);

/* Fills hdr for a record of type and generation gen whose payload is payload[0..len) and which
 * goes at offset off; returns the record's size on disk (header, payload, padding). */
uint64_t rs_record_header(uint8_t hdr[RS_HDR], uint8_t type, uint64_t gen, uint64_t off,
                          const uint8_t *payload, size_t len);
/* The size on disk of a record with a payload of len bytes. */
uint64_t rs_record_size(size_t len);
/* True when seg[off..] (seg holds size bytes) is a valid record of generation gen; fills *rec. */
bool rs_record_check(const uint8_t *seg, uint64_t size, uint64_t off, uint64_t gen, rs_rec_t *rec);
/* True when the 24 bytes at seg[off] are all zero (never written, or zeroed). */
bool rs_header_zero(const uint8_t *seg, uint64_t size, uint64_t off);

/* True when seg[off..] holds a valid record of a generation older than gen (a recycled file's
 * previous content): a clean end of the log, not damage. */
bool rs_record_old(const uint8_t *seg, uint64_t size, uint64_t off, uint64_t gen);
/* How many bytes from off a record of generation gen that does not check may have been written
 * over: its claimed size when the header is of gen and the length fits, else the header. */
uint64_t rs_torn_extent(const uint8_t *seg, uint64_t size, uint64_t off, uint64_t gen);

int rs_checkpoint_decode(const uint8_t *p, size_t len, rs_checkpoint_t *c);
int rs_seal_decode(const uint8_t *p, size_t len, raft_index_t *last);

/* Replay: the state and the entries after it. Entries are consecutive and end at st.last. */
typedef struct {
  rs_state_t st;
  raft_entry_t *ents;
  size_t n, cap;
  size_t head;             /* ents[head..n) are live; those before were compacted away */
  bool installed;          /* the record just applied held a snapshot install */
} rs_replay_t;

/* Applies an update record's operations to r, copying the entries. Returns 0, RV_ECORRUPT when
 * the payload does not decode (*why says what), or RV_ENOMEM. */
int rs_replay_update(rs_replay_t *r, const uint8_t *p, size_t len, const char **why);
/* The end of replay: drops entries covered by the snapshot and checks that the rest follow it
 * without a gap. Returns 0, or RV_ECORRUPT with *from / *to the missing indexes. */
int rs_replay_finish(rs_replay_t *r, raft_index_t *from, raft_index_t *to);
void rs_replay_free(rs_replay_t *r);

/* ---- files (raft_store_files.c) ---------------------------------------------------------- */

void rs_seg_name(char *buf, size_t len, uint64_t seq);
void rs_spare_name(char *buf, size_t len, uint64_t id);

/* Sets err from errno value e for operation what on file (NULL = the directory), and returns
 * RV_ENOSPACE or RV_EIO. */
int rs_io_err(raft_store_t *s, rv_err_t *err, int e, const char *what, const char *file,
              uint64_t off);
/* pwritev / fdatasync / fsync of the directory, through the fault hook; 0 or an errno value. */
int rs_pwritev(raft_store_t *s, int fd, const char *file, struct iovec *iov, int n,
               uint64_t off);
int rs_datasync(raft_store_t *s, int fd, const char *file);
int rs_dirsync(raft_store_t *s);
/* Writes zeros over [off, off + len) of fd, then fdatasyncs. 0 or an errno value. */
int rs_zero_range(raft_store_t *s, int fd, const char *file, uint64_t off, uint64_t len);

/* Takes a spare of at least need bytes out of the pool, or, when the pool has none, prepares one
 * now of size bytes (zeros written and synced, file and directory). Returns 0 with *out (its
 * file is still spare-<id>.log), or RV_ENOSPACE / RV_EIO with nothing changed. */
int rs_spare_take(raft_store_t *s, uint64_t need, uint64_t size, rs_spare_t *out, rv_err_t *err);
/* Puts a spare that rs_spare_take returned back into the pool. */
void rs_spare_untake(raft_store_t *s, const rs_spare_t *sp);
/* Prepares a new segment of size bytes named final (zeros written, synced, renamed, directory
 * synced). 0 or an errno value; *what says which step failed. */
int rs_prepare(raft_store_t *s, uint64_t size, const char *final, const char **what);
/* Gives a dead segment back: into the pool when it is full size and the pool has room, else
 * deleted. Does not sync the directory. 0 or an errno value. */
int rs_spare_give(raft_store_t *s, const rs_seg_t *seg);
/* Asks the preparing thread for one spare of size bytes unless the pool has one. */
void rs_spare_ask(raft_store_t *s, uint64_t size);
/* Adds a spare found at open to the pool (deleting it when the pool is full); id is its number. */
void rs_spare_found(raft_store_t *s, uint64_t id, uint64_t size);
/* Starts / stops the preparing thread. */
int rs_spares_start(raft_store_t *s, rv_err_t *err);
void rs_spares_stop(raft_store_t *s);

/* ---- writing (raft_store_write.c) -------------------------------------------------------- */

/* The size of the segment after the newest one. */
uint64_t rs_next_segment_size(const raft_store_t *s);
/* Writes a checkpoint of s->disk at offset 0 of the newest segment and fdatasyncs. */
int rs_write_checkpoint(raft_store_t *s, rv_err_t *err);
/* Rolls over to a new segment that can take a record of need bytes after its checkpoint
 * (sealing the newest first, unless a crash left it sealed already). */
int rs_roll_over(raft_store_t *s, uint64_t need, rv_err_t *err);
/* Recycles the dead segments at the head of the log, then syncs the directory. */
int rs_recycle(raft_store_t *s, rv_err_t *err);
/* Writes the deferred saves, if any, as one record, durably. */
int rs_flush(raft_store_t *s, rv_err_t *err);
/* Adds a segment to the live list. */
int rs_segs_push(raft_store_t *s, uint64_t seq, uint64_t size, rv_err_t *err);

#endif
