/* raft_snap_flow: snapshot stream bookkeeping (see raft_snap_flow.h). Pure: libc only. */
#include "raft_snap_flow.h"

#include <string.h>

void raft_snap_send_init(raft_snap_send_t *s, uint64_t id, uint64_t window, int64_t now_ms) {
  memset(s, 0, sizeof *s);
  s->id = id;
  s->window = window ? window : 1;
  s->progress_ms = now_ms;
}

bool raft_snap_send_want(const raft_snap_send_t *s) {
  return !s->fetching && !s->last_sent && s->sent - s->acked < s->window;
}

void raft_snap_send_fetching(raft_snap_send_t *s) { s->fetching = true; }

bool raft_snap_send_data(raft_snap_send_t *s, uint64_t offset, uint64_t len, bool last,
                         int64_t now_ms) {
  if (!s->fetching || offset != s->sent || s->last_sent) return false;
  s->fetching = false;
  s->sent += len;
  s->last_sent = last;
  s->progress_ms = now_ms;
  return true;
}

bool raft_snap_send_ack(raft_snap_send_t *s, uint64_t offset, int64_t now_ms) {
  if (offset < s->acked || offset > s->sent) return false;
  if (offset > s->acked) s->progress_ms = now_ms;
  s->acked = offset;
  return true;
}

bool raft_snap_send_all_acked(const raft_snap_send_t *s) {
  return s->last_sent && s->acked == s->sent;
}

bool raft_snap_send_stalled(const raft_snap_send_t *s, int64_t now_ms, int64_t timeout_ms) {
  return now_ms - s->progress_ms >= timeout_ms;
}

void raft_snap_recv_init(raft_snap_recv_t *r) { memset(r, 0, sizeof *r); }

raft_snap_verdict_t raft_snap_recv_chunk(raft_snap_recv_t *r, uint64_t id, uint64_t offset,
                                         uint64_t len, bool last, int64_t now_ms) {
  if (offset == 0) {
    r->active = true;
    r->id = id;
    r->next = 0;
    r->complete = false;
  } else if (!r->active || r->id != id) {
    return RAFT_SNAP_UNKNOWN;
  } else if (r->complete || offset != r->next) {
    raft_snap_recv_init(r);
    return RAFT_SNAP_GAP;
  }
  r->next += len;
  r->complete = last;
  r->progress_ms = now_ms;
  return RAFT_SNAP_TAKE;
}

const char *raft_snap_verdict_name(raft_snap_verdict_t v) {
  switch (v) {
    case RAFT_SNAP_TAKE: return "take";
    case RAFT_SNAP_GAP: return "gap";
    case RAFT_SNAP_UNKNOWN: return "unknown stream";
  }
  return "?";
}
