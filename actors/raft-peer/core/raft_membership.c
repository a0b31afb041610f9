/* raft_membership: configurations, learners and single-server membership changes (thesis §4).
 * Pure.
 *
 * The rule we chose, and why: a configuration takes effect on a node as soon as its entry is
 * appended to that node's log, committed or not, and is undone if the entry is truncated away
 * (thesis §4.1: "a server always uses the latest configuration in its log, regardless of whether
 * the entry is committed"). Changes go one server at a time, so any majority of the old and any
 * majority of the new configuration overlap; a leader accepts a change only once the previous
 * one is applied and an entry of its own term has committed (the thesis §4.1 erratum: otherwise
 * a new leader could overlap an uncommitted change of an earlier term with its own).
 *
 * Each conf entry carries the whole configuration after the change, so a node that joins later
 * (with an empty bootstrap) learns the membership from the first conf entry it receives.
 * Encoding, little-endian: 'C', version 1, type, n_voters, n_learners, 3 zero bytes, node (u64),
 * voters (u64 each), learners (u64 each), ctx_len (u32), ctx. */
#include <stdlib.h>
#include <string.h>

#include "raft_internal.h"

#define S_CONF_MAGIC 0x43
#define S_CONF_VERSION 1
#define S_CONF_HEADER 16

static bool s_contains(const raft_id_t *ids, size_t n, raft_id_t id) {
  for (size_t k = 0; k < n; k++)
    if (ids[k] == id) return true;
  return false;
}

bool raft_conf_is_voter(const raft_conf_t *c, raft_id_t id) {
  return id != 0 && s_contains(c->voters, c->n_voters, id);
}

bool raft_conf_is_learner(const raft_conf_t *c, raft_id_t id) {
  return id != 0 && s_contains(c->learners, c->n_learners, id);
}

bool raft_conf_valid(const raft_conf_t *c) {
  if (c->n_voters > RAFT_MAX_MEMBERS || c->n_learners > RAFT_MAX_MEMBERS ||
      c->n_voters + c->n_learners > RAFT_MAX_MEMBERS)
    return false;
  for (size_t k = 0; k < c->n_voters; k++)
    if (c->voters[k] == 0 || s_contains(c->voters, k, c->voters[k])) return false;
  for (size_t k = 0; k < c->n_learners; k++)
    if (c->learners[k] == 0 || s_contains(c->learners, k, c->learners[k]) ||
        s_contains(c->voters, c->n_voters, c->learners[k]))
      return false;
  return true;
}

size_t raft_membership_quorum(const raft_core_t *r) { return r->conf.n_voters / 2 + 1; }

static void s_put_u64(uint8_t *p, uint64_t v) {
  for (int k = 0; k < 8; k++) p[k] = (uint8_t)(v >> (8 * k));
}

static uint64_t s_get_u64(const uint8_t *p) {
  uint64_t v = 0;
  for (int k = 0; k < 8; k++) v |= (uint64_t)p[k] << (8 * k);
  return v;
}

/* Returns a malloc'ed encoding (caller frees) and its length. */
static uint8_t *s_encode(const raft_conf_change_t *cc, const raft_conf_t *conf, size_t *len) {
  size_t n_ids = conf->n_voters + conf->n_learners;
  *len = S_CONF_HEADER + 8 * n_ids + 4 + cc->ctx_len;
  uint8_t *buf = raft_xmalloc(*len);
  memset(buf, 0, S_CONF_HEADER);
  buf[0] = S_CONF_MAGIC;
  buf[1] = S_CONF_VERSION;
  buf[2] = (uint8_t)cc->type;
  buf[3] = (uint8_t)conf->n_voters;
  buf[4] = (uint8_t)conf->n_learners;
  s_put_u64(buf + 8, cc->node);
  uint8_t *p = buf + S_CONF_HEADER;
  for (size_t k = 0; k < conf->n_voters; k++, p += 8) s_put_u64(p, conf->voters[k]);
  for (size_t k = 0; k < conf->n_learners; k++, p += 8) s_put_u64(p, conf->learners[k]);
  uint32_t cl = (uint32_t)cc->ctx_len;
  for (int k = 0; k < 4; k++) p[k] = (uint8_t)(cl >> (8 * k));
  if (cc->ctx_len) memcpy(p + 4, cc->ctx, cc->ctx_len);
  return buf;
}

int raft_conf_change_decode(const uint8_t *data, size_t len, raft_conf_change_t *cc,
                            raft_conf_t *conf) {
  if (!data || len < S_CONF_HEADER + 4 || data[0] != S_CONF_MAGIC || data[1] != S_CONF_VERSION)
    return RV_EDECODE;
  raft_conf_change_t c = {.type = data[2], .node = s_get_u64(data + 8)};
  if (c.type < RAFT_CONF_ADD_VOTER || c.type > RAFT_CONF_REMOVE) return RV_EDECODE;
  raft_conf_t f = {.n_voters = data[3], .n_learners = data[4]};
  if (f.n_voters + f.n_learners > RAFT_MAX_MEMBERS) return RV_EDECODE;
  size_t need = S_CONF_HEADER + 8 * (f.n_voters + f.n_learners) + 4;
  if (len < need) return RV_EDECODE;
  const uint8_t *p = data + S_CONF_HEADER;
  for (size_t k = 0; k < f.n_voters; k++, p += 8) f.voters[k] = s_get_u64(p);
  for (size_t k = 0; k < f.n_learners; k++, p += 8) f.learners[k] = s_get_u64(p);
  uint32_t cl = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  if (len - need != cl) return RV_EDECODE;
  if (!raft_conf_valid(&f)) return RV_EDECODE;
  c.ctx = cl ? p + 4 : NULL;
  c.ctx_len = cl;
  if (cc) *cc = c;
  if (conf) *conf = f;
  return 0;
}

/* The latest decodable conf entry in (lo, hi], or 0; *bad counts undecodable ones seen. */
static raft_index_t s_find_conf(const raft_core_t *r, raft_index_t lo, raft_index_t hi,
                                raft_conf_t *out, uint64_t *bad) {
  for (raft_index_t i = hi; i > lo; i--) {
    const raft_entry_t *e = raft_log_entry(&r->log, i);
    if (!e || e->type != RAFT_ENTRY_CONF) continue;
    if (raft_conf_change_decode(e->data, e->len, NULL, out) == 0) return i;
    (*bad)++;
  }
  return 0;
}

void raft_membership_log_changed(raft_core_t *r, raft_index_t from) {
  raft_index_t snap = r->log.snap.index, last = raft_log_last_index(&r->log);
  raft_conf_t conf;
  raft_index_t at;
  if (from == 0) return;
  if (r->conf_index >= from) {
    /* The entry that defined our configuration was truncated away: fall back to the latest
     * one that remains (thesis §4.1: "a log entry for a configuration change can be removed
     * ..., in which case a server must be prepared to fall back to the previous
     * configuration in its log"). */
    at = s_find_conf(r, snap, last, &conf, &r->bad_conf_entries);
    if (at == 0) {
      at = snap;
      conf = r->log.snap.conf;
    }
  } else {
    at = s_find_conf(r, from - 1 > snap ? from - 1 : snap, last, &conf, &r->bad_conf_entries);
    if (at == 0) return;
  }
  if (at == r->conf_index && memcmp(&conf, &r->conf, sizeof conf) == 0) return;
  /* a leader remembers a member this change removes (see raft_core.leaving) */
  r->leaving = 0;
  if (r->role == RAFT_LEADER && at > r->conf_index) {
    for (size_t k = 0; k < r->conf.n_voters + r->conf.n_learners; k++) {
      raft_id_t id = k < r->conf.n_voters ? r->conf.voters[k]
                                          : r->conf.learners[k - r->conf.n_voters];
      if (id != r->id && !raft_conf_is_voter(&conf, id) && !raft_conf_is_learner(&conf, id)) {
        r->leaving = id;
        r->leaving_index = at;
      }
    }
  }
  r->conf = conf;
  r->conf_index = at;
  raft_progress_sync(r);
}

void raft_membership_conf_at(const raft_core_t *r, raft_index_t index, raft_conf_t *out) {
  uint64_t bad = 0; /* already counted when the entries were appended */
  if (s_find_conf(r, r->log.snap.index, index, out, &bad) == 0) *out = r->log.snap.conf;
}

void raft_membership_leaving_check(raft_core_t *r) {
  /* forgotten once the removal is committed and the removed member holds it (or at the next
   * role change or configuration change): until then it costs a tracker and messages */
  if (!r->leaving || r->log.committed < r->leaving_index) return;
  raft_tracker_t *pr = raft_progress_find(r, r->leaving);
  if (pr && pr->match < r->leaving_index) return;
  r->leaving = 0;
  raft_progress_sync(r);
}

void raft_membership_committed(raft_core_t *r) {
  raft_membership_leaving_check(r);
  /* thesis §4.2.2: a leader that is not part of the new configuration "steps down (returns to
   * follower state) once the Cnew entry is committed". */
  if (r->role == RAFT_LEADER && r->log.committed >= r->conf_index &&
      !raft_conf_is_voter(&r->conf, r->id))
    raft_become_follower(r, r->term, 0);
}

static bool s_remove(raft_id_t *ids, size_t *n, raft_id_t id) {
  for (size_t k = 0; k < *n; k++) {
    if (ids[k] != id) continue;
    memmove(ids + k, ids + k + 1, (*n - k - 1) * sizeof *ids);
    (*n)--;
    return true;
  }
  return false;
}

/* The configuration after cc, or an error code. */
static int s_apply_change(const raft_conf_t *cur, const raft_conf_change_t *cc, raft_conf_t *next) {
  *next = *cur;
  bool voter = raft_conf_is_voter(cur, cc->node), learner = raft_conf_is_learner(cur, cc->node);
  switch (cc->type) {
    case RAFT_CONF_ADD_VOTER:
      if (voter) return RV_EEXIST;
      if (learner) s_remove(next->learners, &next->n_learners, cc->node);
      if (next->n_voters + next->n_learners >= RAFT_MAX_MEMBERS) return RV_EINVAL;
      next->voters[next->n_voters++] = cc->node;
      return 0;
    case RAFT_CONF_ADD_LEARNER:
      if (learner) return RV_EEXIST;
      if (voter) return RV_EINVAL; /* demotion is not offered */
      if (next->n_voters + next->n_learners >= RAFT_MAX_MEMBERS) return RV_EINVAL;
      next->learners[next->n_learners++] = cc->node;
      return 0;
    case RAFT_CONF_REMOVE:
      if (voter) {
        if (cur->n_voters == 1) return RV_EINVAL;
        s_remove(next->voters, &next->n_voters, cc->node);
        return 0;
      }
      if (learner) {
        s_remove(next->learners, &next->n_learners, cc->node);
        return 0;
      }
      return RV_ENOTFOUND;
  }
  return RV_EINVAL;
}

int raft_core_propose_conf_change(raft_core_t *r, const raft_conf_change_t *cc,
                                  raft_proposal_t *out) {
  raft_proposal_t dummy;
  if (!out) out = &dummy;
  *out = (raft_proposal_t){0};
  if (!cc || cc->node == 0 || (cc->ctx_len && !cc->ctx) || cc->ctx_len > UINT32_MAX)
    return RV_EINVAL;
  if (r->role != RAFT_LEADER) {
    out->leader = r->leader;
    return RV_ENOTLEADER;
  }
  out->leader = r->id;
  if (!raft_conf_is_voter(&r->conf, r->id)) return RV_ENOTLEADER;
  if (r->transferee) return RV_EBUSY;
  /* One change at a time: the previous one (or anything in our log when we were elected) must
   * be applied first. */
  if (r->pending_conf_index > r->log.applied) return RV_EBUSY;
  /* thesis §4.1 (erratum, raft-dev 2015): "a leader may not append a new configuration entry
   * until it has committed an entry from its current term". */
  raft_term_t ct = 0;
  if (raft_log_term(&r->log, r->log.committed, &ct) != 0 || ct != r->term) return RV_EBUSY;
  raft_conf_t next;
  int rc = s_apply_change(&r->conf, cc, &next);
  if (rc != 0) return rc;
  size_t len;
  uint8_t *buf = s_encode(cc, &next, &len);
  out->index = raft_replication_append_local(r, RAFT_ENTRY_CONF, buf, len);
  out->term = r->term;
  free(buf);
  r->pending_conf_index = out->index;
  raft_replication_bcast_append(r);
  raft_ready_collect_garbage(r);
  return 0;
}
