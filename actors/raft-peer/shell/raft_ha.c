/* raft_ha: health-driven leadership on the raft-peer (I/O shell). With ha.automatic-failover the
 * health-monitor's can_lead (the node's own checks: actors, disk, fsync and RocksDB writes,
 * apply) decides whether this node may campaign or accept a transfer (the core's knob,
 * raft_core_set_campaign), and a leader unfit for longer than ha.unhealthy-grace-ms hands
 * leadership to the most caught-up active voter (a follower that is itself unfit ignores the
 * TimeoutNow, the core aborts after an election timeout, and the next one is tried). This is what
 * Raft cannot see: a leader alive but unable to do its job. With ha.preferred-leader a leader
 * that is not the preferred node hands leadership to it once it is active and caught up, retried
 * with backoff while it refuses (unfit) or lags. Raft's own elections stay on regardless.
 *
 * Whatever ha.automatic-failover says, a node that cannot persist (its own Raft log saves fail,
 * or the health-monitor's report names an actor whose writes fail or a data disk under
 * HEALTH_PERSIST_FLOOR_BYTES) neither campaigns nor accepts a transfer, and as leader hands
 * leadership to the most caught-up active voter at once: a leader whose kv-store cannot write
 * commits entries it never applies, so no client is ever answered. Votes need no knob: a vote
 * goes out only after the hard state holding it is durable (msgs_after_persist), so a node
 * whose log cannot persist grants none, and one whose log still persists (RocksDB alone fails)
 * grants durable ones, which Raft's safety asks for and nothing more. A leader whose own log
 * cannot persist sends nothing at all (the update waits for its save), so its followers elect
 * another after an election timeout; the transfer is for the leader whose log still works. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "raft_peer_int.h"

#define S_RETRY_MS 400          /* between automatic handover attempts */
#define S_PREFERRED_MIN_MS 1000 /* preferred-leader retries: 1 s doubling ... */
#define S_PREFERRED_MAX_MS 30000 /* ... up to 30 s */

static int64_t s_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Tells the core whether it may campaign: only while it can persist, and, with
 * ha.automatic-failover, while fit. */
static void s_sync_campaign(raft_peer_t *p) {
  raft_ha_t *h = &p->ha;
  bool allowed = !h->persist_failing && (!p->cfg->ha_automatic_failover || h->fit);
  if (allowed == h->campaign) return;
  h->campaign = allowed;
  raft_core_set_campaign(p->core, allowed);
}

static void s_set_fit(raft_peer_t *p, bool fit, const char *reason, int64_t now) {
  raft_ha_t *h = &p->ha;
  if (fit == h->fit) return;
  h->fit = fit;
  h->unfit_since_ms = fit ? 0 : now;
  snprintf(h->reason, sizeof h->reason, "%s", fit ? "" : reason);
  if (!p->cfg->ha_automatic_failover) return;
  s_sync_campaign(p);
  if (fit) rv_info("automatic failover: this node is healthy again: it may campaign and lead");
  else rv_warn("automatic failover: this node is unhealthy (%s): it does not campaign nor accept "
               "leadership", reason);
}

/* Recomputes whether this node can persist (its own log saves, the last report). */
static void s_persist_update(raft_peer_t *p, int64_t now) {
  raft_ha_t *h = &p->ha;
  bool failing = p->store_error[0] || h->cannot_persist[0];
  if (failing == h->persist_failing) return;
  h->persist_failing = failing;
  h->persist_since_ms = failing ? now : 0;
  h->next_try_ms = 0;
  s_sync_campaign(p);
  if (failing)
    rv_warn("this node cannot persist (%s): it does not campaign nor accept leadership%s",
            p->store_error[0] ? p->store_error : h->cannot_persist,
            p->soft.role == RAFT_LEADER ? ", and hands leadership away" : "");
  else
    rv_info("this node can persist again: it may campaign and lead");
}

void raft_ha_health(raft_peer_t *p, const Rv__HealthReport *r) {
  int64_t now = s_now_ms();
  p->ha.report_ms = now;
  snprintf(p->ha.cannot_persist, sizeof p->ha.cannot_persist, "%s",
           r->cannot_persist ? r->cannot_persist : "");
  s_set_fit(p, r->can_lead, r->node_reason ? r->node_reason : "", now);
  s_persist_update(p, now);
}

/* The active voter with the longest log other than this node and `avoid` (tried last time);
 * `avoid` itself when it is the only one; 0 when none. With `only` set, that node if eligible
 * and caught up to last, else 0. */
static raft_id_t s_pick(raft_peer_t *p, raft_id_t avoid, raft_id_t only, raft_index_t last) {
  raft_id_t best = 0, fallback = 0;
  raft_index_t best_match = 0;
  for (int i = 0; i < p->cfg->nnodes; i++) {
    raft_id_t id = p->ids[i];
    raft_progress_t pr;
    if (id == p->self || raft_core_progress(p->core, id, &pr) != RV_OK) continue;
    if (pr.learner || !pr.recent_active) continue;
    if (only) {
      if (id == only && pr.match >= last) return id;
      continue;
    }
    if (id == avoid) {
      fallback = id;
      continue;
    }
    if (!best || pr.match > best_match) {
      best = id;
      best_match = pr.match;
    }
  }
  return only ? 0 : best ? best : fallback;
}

static raft_id_t s_preferred_id(const raft_peer_t *p) {
  for (int i = 0; i < p->cfg->nnodes; i++)
    if (strcmp(p->cfg->nodes[i].id, p->cfg->ha_preferred_leader) == 0) return p->ids[i];
  return 0;
}

void raft_ha_tick(raft_peer_t *p) {
  raft_ha_t *h = &p->ha;
  int64_t now = s_now_ms();
  const cfg_node_t *cfg = p->cfg;
  /* reports stopped (the health-monitor is down or restarting): nothing to go by, so fit */
  if (h->report_ms && now - h->report_ms > 3 * (int64_t)cfg->health_ping_interval_ms + 500) {
    h->report_ms = 0;
    h->cannot_persist[0] = '\0';
    s_set_fit(p, true, "", now);
  }
  s_persist_update(p, now);
  if (p->soft.role != RAFT_LEADER || p->xfer.active) return;
  raft_status_t st;
  raft_core_status(p->core, &st);
  if (st.transferee) return;
  if (h->persist_failing && now >= h->next_try_ms) {
    raft_id_t to = s_pick(p, h->last_target, 0, st.last_index);
    h->next_try_ms = now + S_RETRY_MS;
    if (!to) return;
    h->last_target = to;
    if (raft_core_transfer_leader(p->core, to) == RV_OK)
      rv_warn("this leader cannot persist for %lld ms (%s); handing leadership to %s",
              (long long)(now - h->persist_since_ms),
              p->store_error[0] ? p->store_error : h->cannot_persist, raft_peer_node_name(p, to));
    return;
  }
  if (cfg->ha_automatic_failover && !h->fit &&
      now - h->unfit_since_ms >= (int64_t)cfg->ha_unhealthy_grace_ms && now >= h->next_try_ms) {
    raft_id_t to = s_pick(p, h->last_target, 0, st.last_index);
    h->next_try_ms = now + S_RETRY_MS;
    if (!to) return;
    h->last_target = to;
    if (raft_core_transfer_leader(p->core, to) == RV_OK)
      rv_warn("automatic failover: this leader is unhealthy for %lld ms (%s); handing leadership "
              "to %s", (long long)(now - h->unfit_since_ms), h->reason,
              raft_peer_node_name(p, to));
    return;
  }
  if (!cfg->ha_preferred_leader[0] || strcmp(cfg->ha_preferred_leader, cfg->node_id) == 0 ||
      now < h->preferred_next_ms)
    return;
  raft_id_t pref = s_preferred_id(p);
  if (!pref || !s_pick(p, 0, pref, st.last_index)) return;
  h->preferred_backoff_ms = h->preferred_backoff_ms
                                ? (h->preferred_backoff_ms * 2 > S_PREFERRED_MAX_MS
                                       ? S_PREFERRED_MAX_MS
                                       : h->preferred_backoff_ms * 2)
                                : S_PREFERRED_MIN_MS;
  h->preferred_next_ms = now + h->preferred_backoff_ms;
  if (raft_core_transfer_leader(p->core, pref) == RV_OK)
    rv_info("preferred leader: %s is caught up; handing leadership to it",
            cfg->ha_preferred_leader);
}
