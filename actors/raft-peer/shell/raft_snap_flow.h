/* raft_snap_flow: sequencing and flow control of a snapshot stream between two raft-peers,
 * as pure bookkeeping (no sockets, no clock: time is an argument), so it is tested alone.
 *
 * A stream is a sequence of chunks identified by their byte offset in the stream. The sender
 * (leader) pulls chunks from its kv-store one at a time and has at most `window` bytes sent
 * but not acknowledged by the follower; the follower acknowledges the offset up to which it
 * has taken the chunks in. The receiver (follower) takes chunks strictly in order: offset 0
 * (re)starts a stream, any other offset must be exactly where the previous chunk ended, else
 * the stream is broken (a gap or a duplicate), and the leader starts it again later.
 * Pure: libc only. */
#ifndef RAFT_SNAP_FLOW_H
#define RAFT_SNAP_FLOW_H

#include <stdbool.h>
#include <stdint.h>

/* ---- sender ------------------------------------------------------------------------------- */
typedef struct {
  uint64_t id;          /* the stream */
  uint64_t window;      /* bytes that may be sent and not yet acknowledged, >= 1 */
  uint64_t sent;        /* bytes sent (the offset of the next chunk) */
  uint64_t acked;       /* bytes the receiver acknowledged, <= sent */
  bool fetching;        /* a chunk at offset `sent` is asked of kv-store and not yet here */
  bool last_sent;       /* the last chunk went out */
  int64_t progress_ms;  /* when the stream last moved (data or ack) */
} raft_snap_send_t;

void raft_snap_send_init(raft_snap_send_t *s, uint64_t id, uint64_t window, int64_t now_ms);

/* True when the next chunk should be asked of kv-store now (nothing being fetched, the last
 * chunk not yet sent, and the window not full). The caller asks for offset s->sent and calls
 * raft_snap_send_fetching. */
bool raft_snap_send_want(const raft_snap_send_t *s);
void raft_snap_send_fetching(raft_snap_send_t *s);

/* kv-store delivered the chunk [offset, offset + len). Returns true when it is the chunk being
 * fetched (the caller then sends it on), false for anything else (drop it). */
bool raft_snap_send_data(raft_snap_send_t *s, uint64_t offset, uint64_t len, bool last,
                         int64_t now_ms);

/* The receiver acknowledged offset. Returns true when it is in [acked, sent] (the window moves),
 * false for an impossible value (drop it). */
bool raft_snap_send_ack(raft_snap_send_t *s, uint64_t offset, int64_t now_ms);

/* True when every byte was sent and acknowledged (the receiver's "done" is still awaited). */
bool raft_snap_send_all_acked(const raft_snap_send_t *s);

/* True when the stream has not moved for timeout_ms. */
bool raft_snap_send_stalled(const raft_snap_send_t *s, int64_t now_ms, int64_t timeout_ms);

/* ---- receiver ----------------------------------------------------------------------------- */
typedef struct {
  bool active;          /* a stream is being received */
  uint64_t id;
  uint64_t next;        /* the offset the next chunk must have */
  bool complete;        /* the last chunk was taken */
  int64_t progress_ms;
} raft_snap_recv_t;

typedef enum {
  RAFT_SNAP_TAKE = 0,   /* in order: take it (next has moved past it) */
  RAFT_SNAP_GAP,        /* not where the stream stands: drop it; the stream is reset */
  RAFT_SNAP_UNKNOWN,    /* a non-zero offset of a stream not being received: drop it */
} raft_snap_verdict_t;

void raft_snap_recv_init(raft_snap_recv_t *r);

/* A chunk [offset, offset + len) of stream id arrives. Offset 0 starts the stream afresh
 * (abandoning any other). */
raft_snap_verdict_t raft_snap_recv_chunk(raft_snap_recv_t *r, uint64_t id, uint64_t offset,
                                         uint64_t len, bool last, int64_t now_ms);

/* Stable names for logs: "take", "gap", "unknown stream". */
const char *raft_snap_verdict_name(raft_snap_verdict_t v);

#endif
