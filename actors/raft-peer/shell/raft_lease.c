/* raft_lease: the cluster-wide gate on lease reads (I/O shell).
 *
 * A leader's lease is sound only if every voter that acknowledged it refuses other candidates
 * for long enough in real time. This build's voters time that vote lease on the clock as well
 * as in ticks (raft_config_t.clock_us); a build before it (2026-12-05) times it in ticks alone,
 * and a voter of that build resumed from a pause ends its lease at once. So in a mixed cluster
 * (a rolling upgrade, a node started from an older package) the leader must not serve reads
 * from its lease: every frame says whether its sender keeps clock leases
 * (RaftBatch.clock_leases; older builds say nothing, which reads as no), and the leader allows
 * lease reads only while every other voter's last frame said yes. A voter not heard from since
 * this raft-peer started counts as no. Reads then take a heartbeat round, as with
 * raft.lease-reads: false; status says why (raft.lease_wait).
 *
 * RV_TEST_NO_CLOCK_LEASES=1 (tests only, warned at start) makes this node say no, as an older
 * build does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft_peer_int.h"
#include "rv_log.h"

#define S_TEST_ENV "RV_TEST_NO_CLOCK_LEASES"

bool raft_lease_says(void) {
  static int says = -1;
  if (says < 0) {
    const char *v = getenv(S_TEST_ENV);
    says = !(v && strcmp(v, "1") == 0);
    if (!says)
      rv_warn("%s=1 (tests only): this node says its vote leases run on ticks alone, as a build "
              "before clock leases does; no leader serves lease reads while it is a voter",
              S_TEST_ENV);
  }
  return says == 1;
}

/* Why this node may not serve lease reads now, into why ("" = it may); returns whether the
 * reason is worth a log line (not "not heard from yet", which every start goes through). */
static bool s_wait_reason(raft_peer_t *p, char *why, size_t len) {
  why[0] = '\0';
  if (!p->cfg->raft_lease_reads) return false;
  if (!raft_lease_says()) {
    snprintf(why, len, "this node's vote leases run on ticks alone (%s=1)", S_TEST_ENV);
    return true;
  }
  raft_status_t st;
  raft_core_status(p->core, &st);
  for (size_t k = 0; k < st.conf.n_voters; k++) {
    raft_id_t id = st.conf.voters[k];
    int node = id == p->self ? -1 : raft_peer_node_of(p, id);
    if (id == p->self || (node >= 0 && p->peer_clock_leases[node])) continue;
    bool heard = node >= 0 && p->peer_level[node] != 0;
    char name[32];
    if (node >= 0)
      snprintf(name, sizeof name, "%s", raft_peer_node_name(p, id));
    else
      snprintf(name, sizeof name, "id %llu", (unsigned long long)id);
    snprintf(why, len, "voter %s %s", name,
             heard ? "does not say it keeps clock leases (a build before them)"
                   : "not heard from since this raft-peer started");
    return heard;
  }
  return false;
}

void raft_lease_update(raft_peer_t *p) {
  char why[sizeof p->lease_wait];
  bool worth_a_line = s_wait_reason(p, why, sizeof why);
  raft_core_allow_lease(p->core, why[0] == '\0');
  if (strcmp(why, p->lease_wait) == 0) return;
  if (worth_a_line)
    rv_info("lease reads off: %s; reads take a heartbeat round", why);
  else if (!why[0] && p->lease_logged)
    rv_info("lease reads on: every voter keeps clock leases");
  p->lease_logged = worth_a_line;
  snprintf(p->lease_wait, sizeof p->lease_wait, "%s", why);
}
