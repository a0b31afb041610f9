/* raft_wire: conversions between the Raft core's structs and protobuf (no I/O). */
#include "raft_wire.h"

#include <stdlib.h>
#include <string.h>

raft_id_t raft_wire_node_id(const char *name) {
  uint64_t h = 14695981039346656037ull;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
    h ^= *p;
    h *= 1099511628211ull;
  }
  return h ? h : 1;
}

void raft_wire_conf_encode(const raft_conf_t *c, Rv__RaftConf *pb) {
  rv__raft_conf__init(pb);
  pb->n_voters = c->n_voters;
  pb->voters = (uint64_t *)c->voters;
  pb->n_learners = c->n_learners;
  pb->learners = (uint64_t *)c->learners;
}

int raft_wire_conf_decode(const Rv__RaftConf *pb, raft_conf_t *c, rv_err_t *err) {
  memset(c, 0, sizeof *c);
  if (!pb) return RV_OK;
  if (pb->n_voters > RAFT_MAX_MEMBERS || pb->n_learners > RAFT_MAX_MEMBERS)
    return rv_err_set(err, RV_EDECODE, "a configuration of %zu voters and %zu learners (max %d)",
                      pb->n_voters, pb->n_learners, RAFT_MAX_MEMBERS);
  /* an empty repeated field decodes as NULL, which memcpy must not be given even for 0 bytes */
  if (pb->n_voters) memcpy(c->voters, pb->voters, pb->n_voters * sizeof *c->voters);
  c->n_voters = pb->n_voters;
  if (pb->n_learners) memcpy(c->learners, pb->learners, pb->n_learners * sizeof *c->learners);
  c->n_learners = pb->n_learners;
  return RV_OK;
}

int raft_wire_msg_encode(const raft_msg_t *m, raft_wire_msg_t *w, rv_err_t *err) {
  memset(w, 0, sizeof *w);
  Rv__RaftMessage *pb = &w->msg;
  rv__raft_message__init(pb);
  pb->type = (uint32_t)m->type;
  pb->from = m->from;
  pb->to = m->to;
  pb->term = m->term;
  pb->log_term = m->log_term;
  pb->index = m->index;
  pb->commit = m->commit;
  pb->reject = m->reject;
  pb->reject_hint = m->reject_hint;
  pb->ctx = m->ctx;
  pb->transfer = m->transfer;
  if (m->type == RAFT_MSG_SNAP) {
    rv__raft_snapshot_meta__init(&w->snap);
    w->snap.index = m->snapshot.index;
    w->snap.term = m->snapshot.term;
    raft_wire_conf_encode(&m->snapshot.conf, &w->conf);
    w->snap.conf = &w->conf;
    pb->snapshot = &w->snap;
  }
  if (m->n_entries) {
    w->entry_structs = calloc(m->n_entries, sizeof *w->entry_structs);
    w->entry_ptrs = calloc(m->n_entries, sizeof *w->entry_ptrs);
    if (!w->entry_structs || !w->entry_ptrs) {
      raft_wire_msg_release(w);
      return rv_err_set(err, RV_ENOMEM, "out of memory encoding a Raft message");
    }
    for (size_t i = 0; i < m->n_entries; i++) {
      Rv__RaftEntry *e = &w->entry_structs[i];
      rv__raft_entry__init(e);
      e->term = m->entries[i].term;
      e->index = m->entries[i].index;
      e->type = (uint32_t)m->entries[i].type;
      e->data.data = m->entries[i].data;
      e->data.len = m->entries[i].len;
      w->entry_ptrs[i] = e;
    }
    pb->n_entries = m->n_entries;
    pb->entries = w->entry_ptrs;
  }
  return RV_OK;
}

void raft_wire_msg_release(raft_wire_msg_t *w) {
  free(w->entry_structs);
  free(w->entry_ptrs);
  w->entry_structs = NULL;
  w->entry_ptrs = NULL;
}

/* A term the core could never reach: refused here, so that no code path after decoding (logs,
 * the fencer's handover term, the core) sees a term that would wrap to 0 at the next campaign. */
static int s_term_check(const char *field, uint64_t term, rv_err_t *err) {
  if (term <= RAFT_TERM_MAX) return RV_OK;
  return rv_err_set(err, RV_EDECODE, "%s %llu beyond the largest Raft term %llu", field,
                    (unsigned long long)term, (unsigned long long)RAFT_TERM_MAX);
}

int raft_wire_term_check(const char *field, uint64_t term, rv_err_t *err) {
  return s_term_check(field, term, err);
}

int raft_wire_msg_decode(const Rv__RaftMessage *pb, raft_msg_t *m, rv_err_t *err) {
  memset(m, 0, sizeof *m);
  if (pb->type < RAFT_MSG_PRE_VOTE || pb->type > RAFT_MSG_TYPE_MAX)
    return rv_err_set(err, RV_EDECODE, "unknown Raft message type %u", pb->type);
  int trc = s_term_check("term", pb->term, err);
  if (!trc) trc = s_term_check("log term", pb->log_term, err);
  if (!trc && pb->snapshot) trc = s_term_check("snapshot term", pb->snapshot->term, err);
  for (size_t i = 0; !trc && i < pb->n_entries; i++)
    trc = s_term_check("entry term", pb->entries[i]->term, err);
  if (trc) return trc;
  m->type = (raft_msg_type_t)pb->type;
  m->from = pb->from;
  m->to = pb->to;
  m->term = pb->term;
  m->log_term = pb->log_term;
  m->index = pb->index;
  m->commit = pb->commit;
  m->reject = pb->reject;
  m->reject_hint = pb->reject_hint;
  m->ctx = pb->ctx;
  m->transfer = pb->transfer;
  if (pb->snapshot) {
    m->snapshot.index = pb->snapshot->index;
    m->snapshot.term = pb->snapshot->term;
    int rc = raft_wire_conf_decode(pb->snapshot->conf, &m->snapshot.conf, err);
    if (rc) return rc;
  }
  if (pb->n_entries) {
    m->entries = calloc(pb->n_entries, sizeof *m->entries);
    if (!m->entries) return rv_err_set(err, RV_ENOMEM, "out of memory decoding a Raft message");
    for (size_t i = 0; i < pb->n_entries; i++) {
      const Rv__RaftEntry *e = pb->entries[i];
      if (e->type > RAFT_ENTRY_CONF) {
        raft_wire_msg_free(m);
        return rv_err_set(err, RV_EDECODE, "Raft entry %llu of unknown type %u",
                          (unsigned long long)e->index, e->type);
      }
      m->entries[i] = (raft_entry_t){.term = e->term,
                                     .index = e->index,
                                     .type = (raft_entry_type_t)e->type,
                                     .data = e->data.data,
                                     .len = e->data.len};
    }
    m->n_entries = pb->n_entries;
  }
  return RV_OK;
}

void raft_wire_msg_free(raft_msg_t *m) {
  free(m->entries);
  m->entries = NULL;
  m->n_entries = 0;
}
