/* raft_wire: the Raft core's plain structs <-> their protobuf form (messages/raft.proto), and
 * node names <-> Raft ids. Decoding checks what the protobuf types cannot (member counts, enum
 * ranges); the core checks the rest (contiguous entries, recipient). */
#ifndef RAFT_WIRE_H
#define RAFT_WIRE_H

#include "raft.pb-c.h"
#include "raft_core.h"
#include "rv_error.h"

/* The Raft id of a node name: FNV-1a 64 of the name, never 0. Stable across restarts and list
 * order; raft_wire_ids checks a configuration for the (astronomically unlikely) collision. */
raft_id_t raft_wire_node_id(const char *name);

/* Builds a protobuf message from m. The result points into m (entries' data, borrowed) and into
 * arena storage the caller provides through raft_wire_msg_t; valid while both live. */
typedef struct {
  Rv__RaftMessage msg;
  Rv__RaftSnapshotMeta snap;
  Rv__RaftConf conf;
  Rv__RaftEntry *entry_structs; /* n_entries, malloc'd */
  Rv__RaftEntry **entry_ptrs;   /* n_entries, malloc'd */
} raft_wire_msg_t;

int raft_wire_msg_encode(const raft_msg_t *m, raft_wire_msg_t *w, rv_err_t *err);
void raft_wire_msg_release(raft_wire_msg_t *w);

/* RV_EDECODE naming field when term is beyond RAFT_TERM_MAX (a term of UINT64_MAX would wrap the
 * next campaign to 0): every term that arrives from the network passes it before the core. */
int raft_wire_term_check(const char *field, uint64_t term, rv_err_t *err);

/* Fills m from a decoded protobuf message; refuses (RV_EDECODE) an unknown type and any term
 * beyond RAFT_TERM_MAX (term, log term, snapshot term, entry terms). m->entries is malloc'd (free with
 * raft_wire_msg_free); entries' data point into pb (borrowed while pb lives). */
int raft_wire_msg_decode(const Rv__RaftMessage *pb, raft_msg_t *m, rv_err_t *err);
void raft_wire_msg_free(raft_msg_t *m);

void raft_wire_conf_encode(const raft_conf_t *c, Rv__RaftConf *pb);
int raft_wire_conf_decode(const Rv__RaftConf *pb, raft_conf_t *c, rv_err_t *err);

#endif
