/* health_core: verdicts from pings and pongs. Pure: libc only. */
#include "health_core.h"

#include <stdio.h>
#include <string.h>

void health_core_init(health_core_t *h, const char *const *names, int n, uint64_t timeout_ms) {
  memset(h, 0, sizeof *h);
  h->timeout_us = timeout_ms * 1000u;
  for (int i = 0; i < n && i < CFG_MAX_ACTORS; i++) {
    snprintf(h->targets[i].name, sizeof h->targets[i].name, "%s", names[i]);
    h->ntargets++;
  }
}

uint64_t health_core_ping_round(health_core_t *h, uint64_t now_us) {
  h->seq++;
  for (int i = 0; i < h->ntargets; i++) {
    health_target_t *t = &h->targets[i];
    t->last_seq = h->seq;
    t->last_sent_us = now_us;
    if (!t->waiting) {
      t->waiting = true;
      t->waiting_since_us = now_us;
    }
  }
  return h->seq;
}

void health_core_pong(health_core_t *h, const char *name, uint64_t seq, bool healthy,
                      const char *reason, uint64_t now_us) {
  for (int i = 0; i < h->ntargets; i++) {
    health_target_t *t = &h->targets[i];
    if (strcmp(t->name, name) != 0) continue;
    if (seq == 0 || seq > t->last_seq) return; /* never sent: ignore */
    if (seq == t->last_seq) t->rtt_us = now_us - t->last_sent_us;
    if (seq == t->last_seq) t->waiting = false; /* an older answer leaves the newer ping open */
    t->verdict = healthy ? HEALTH_HEALTHY : HEALTH_UNHEALTHY;
    snprintf(t->reason, sizeof t->reason, "%s",
             reason && *reason ? reason : healthy ? "" : "reports itself unhealthy");
    return;
  }
}

void health_core_persist(health_core_t *h, const char *name, uint64_t seq, bool cannot_persist) {
  for (int i = 0; i < h->ntargets; i++) {
    health_target_t *t = &h->targets[i];
    if (strcmp(t->name, name) != 0) continue;
    if (seq == 0 || seq > t->last_seq) return;
    t->cannot_persist = cannot_persist;
    return;
  }
}

void health_core_evaluate(health_core_t *h, uint64_t now_us) {
  h->node_verdict = HEALTH_HEALTHY;
  h->node_reason[0] = '\0';
  int worst = -1;
  for (int i = 0; i < h->ntargets; i++) {
    health_target_t *t = &h->targets[i];
    if (t->waiting && now_us - t->waiting_since_us > h->timeout_us) {
      t->verdict = HEALTH_NOT_RESPONDING;
      snprintf(t->reason, sizeof t->reason, "no answer to health pings for %llu ms",
               (unsigned long long)((now_us - t->waiting_since_us) / 1000u));
    }
    /* rank: not responding > unhealthy > unknown > healthy */
    static const int rank[] = {1, 0, 2, 3};
    if (t->verdict != HEALTH_HEALTHY && (worst < 0 || rank[t->verdict] > rank[h->targets[worst].verdict]))
      worst = i;
  }
  if (worst >= 0) {
    const health_target_t *t = &h->targets[worst];
    h->node_verdict = t->verdict == HEALTH_UNKNOWN ? HEALTH_UNKNOWN : HEALTH_UNHEALTHY;
    snprintf(h->node_reason, sizeof h->node_reason, "%s: %s", t->name,
             t->verdict == HEALTH_UNKNOWN ? "not checked yet" : t->reason);
  }
}
