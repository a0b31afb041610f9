/* raft_incarnation: the durable half of raft_gate (I/O shell): this node's incarnation id and
 * the incarnations it remembers of the other members, two small files in the Raft directory
 * (<data-dir>/raft), each replaced atomically (written under a temporary name, fsynced, renamed,
 * directory fsynced) so that a crash leaves the old or the new one, never a mix:
 *   incarnation    "raftvisor-incarnation 1\n<16 hex digits>\n": created once, with the
 *                  directory, from getrandom; a data-dir that lost it is a new node
 *   incarnations   "raftvisor-incarnations 1\n" then one "<raft id> <incarnation>\n" per
 *                  member heard from (16 hex digits each); absent = none yet
 * A damaged file is refused with RV_ECORRUPT naming the file and the line: it is never guessed
 * at (a lost table would let a wiped node vote twice; a made-up one would shut a member out). */
#ifndef RAFT_INCARNATION_H
#define RAFT_INCARNATION_H

#include <stdbool.h>
#include <stdint.h>

#include "raft_gate.h"
#include "rv_error.h"

/* Reads this node's incarnation from dir/incarnation, creating it (random, never 0) when the
 * file does not exist; *created says which. Returns 0, RV_ECORRUPT or RV_EIO. */
int raft_incarnation_self(const char *dir, uint64_t *inc, bool *created, rv_err_t *err);

/* Loads the remembered incarnations (dir/incarnations) into *t (emptied first). A missing file
 * is an empty table. Returns 0, RV_ECORRUPT or RV_EIO. */
int raft_incarnation_load(const char *dir, raft_gate_table_t *t, rv_err_t *err);

/* Replaces dir/incarnations with *t, durably, before returning 0; RV_EIO otherwise (the old file
 * stays). */
int raft_incarnation_save(const char *dir, const raft_gate_table_t *t, rv_err_t *err);

#endif
