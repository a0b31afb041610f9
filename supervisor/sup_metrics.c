/* sup_metrics: the Prometheus exposition, /health and /ready of a node, from a view of the
 * supervisor's state. Pure apart from heap memory (open_memstream); no I/O. */
#include "sup_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "rv_hist.h"

#define S_VERSION "0.1.0"

/* Writes s as a Prometheus label value or a JSON string body: \, " and newlines escaped. */
static void s_esc(FILE *f, const char *s) {
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '\\' || c == '"') fprintf(f, "\\%c", c);
    else if (c == '\n') fputs("\\n", f);
    else if (c < 0x20) fprintf(f, " ");
    else fputc(c, f);
  }
}

static void s_head(FILE *f, const char *name, const char *type, const char *help) {
  fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One family with one sample per actor: vals[i] for child i. */
static void s_per_actor(FILE *f, const sup_metrics_view_t *v, const char *name, const char *type,
                        const char *help, const unsigned long long *vals) {
  s_head(f, name, type, help);
  for (int i = 0; i < v->core->nchildren; i++) {
    fprintf(f, "%s{actor=\"", name);
    s_esc(f, v->core->children[i].name);
    fprintf(f, "\"} %llu\n", vals[i]);
  }
}

static void s_actors(FILE *f, const sup_metrics_view_t *v) {
  unsigned long long vals[SUP_MAX_CHILDREN];
  for (int i = 0; i < v->core->nchildren; i++) vals[i] = v->core->children[i].state == SUP_CHILD_RUNNING;
  s_per_actor(f, v, "raftvisor_actor_up", "gauge", "1 while the actor is running (ready), else 0",
              vals);
  for (int i = 0; i < v->core->nchildren; i++) vals[i] = v->core->children[i].restarts;
  s_per_actor(f, v, "raftvisor_actor_restarts_total", "counter",
              "restarts of the actor since the node started (automatic and requested)", vals);
  for (int i = 0; i < v->core->nchildren; i++) vals[i] = v->core->children[i].starved;
  s_per_actor(f, v, "raftvisor_actor_starved_total", "counter",
              "times only the actor's wait for a CPU (runnable, not scheduled) kept the hang "
              "detector from judging it hung or late to start", vals);
  s_head(f, "raftvisor_actor_cpu_wait_seconds_total", "counter",
         "run-queue wait of the actor's threads not counted against it by the hang detector");
  for (int i = 0; i < v->core->nchildren; i++) {
    fprintf(f, "raftvisor_actor_cpu_wait_seconds_total{actor=\"");
    s_esc(f, v->core->children[i].name);
    fprintf(f, "\"} %.3f\n", (double)v->core->children[i].cpu_wait_ms / 1000.0);
  }
  s_head(f, "raftvisor_actor_last_exit_code", "gauge",
         "exit code of the actor's last exit; -1 if it never exited or was killed by a signal");
  for (int i = 0; i < v->core->nchildren; i++) {
    const sup_actor_metrics_t *am = &v->actors[i];
    long code = am->exited && WIFEXITED(am->last_status) ? WEXITSTATUS(am->last_status) : -1;
    fprintf(f, "raftvisor_actor_last_exit_code{actor=\"");
    s_esc(f, v->core->children[i].name);
    fprintf(f, "\"} %ld\n", code);
  }
  s_head(f, "raftvisor_actor_last_exit_signal", "gauge",
         "signal that ended the actor's last run; 0 if none");
  for (int i = 0; i < v->core->nchildren; i++) {
    const sup_actor_metrics_t *am = &v->actors[i];
    int sig = am->exited && WIFSIGNALED(am->last_status) ? WTERMSIG(am->last_status) : 0;
    fprintf(f, "raftvisor_actor_last_exit_signal{actor=\"");
    s_esc(f, v->core->children[i].name);
    fprintf(f, "\"} %d\n", sig);
  }
  if (v->health && v->health_fresh) {
    s_head(f, "raftvisor_actor_healthy", "gauge",
           "1 when the health-monitor's last verdict on the actor is healthy");
    for (size_t h = 0; h < v->health->n_actors; h++) {
      fprintf(f, "raftvisor_actor_healthy{actor=\"");
      s_esc(f, v->health->actors[h]->actor);
      fprintf(f, "\"} %d\n", v->health->actors[h]->verdict == RV__HEALTH_VERDICT__HEALTH_HEALTHY);
    }
    s_head(f, "raftvisor_actor_health_rtt_seconds", "gauge",
           "round trip of the health-monitor's last answered ping to the actor");
    for (size_t h = 0; h < v->health->n_actors; h++) {
      fprintf(f, "raftvisor_actor_health_rtt_seconds{actor=\"");
      s_esc(f, v->health->actors[h]->actor);
      fprintf(f, "\"} %.6f\n", (double)v->health->actors[h]->rtt_us / 1e6);
    }
  }
}

/* The runtime's counters: each actor's from its HeartbeatAcks, the supervisor's own. */
/* One rv_mailbox_stats_t field per process, as a family of type `type` (counter, gauge). */
static void s_runtime_typed(FILE *f, const sup_metrics_view_t *v, const char *name,
                            const char *type, const char *help, size_t off) {
  s_head(f, name, type, help);
  fprintf(f, "%s{actor=\"supervisor\"} %llu\n", name,
          (unsigned long long)*(const uint64_t *)((const char *)&v->supervisor_mb + off));
  for (int i = 0; i < v->core->nchildren; i++) {
    fprintf(f, "%s{actor=\"", name);
    s_esc(f, v->core->children[i].name);
    fprintf(f, "\"} %llu\n",
            (unsigned long long)*(const uint64_t *)((const char *)&v->actors[i].mb + off));
  }
}

static void s_runtime_family(FILE *f, const sup_metrics_view_t *v, const char *name,
                             const char *help, size_t off) {
  s_runtime_typed(f, v, name, "counter", help, off);
}

/* One gauge per actor, in seconds, from the microseconds at offset off of its metrics. */
static void s_lag_family(FILE *f, const sup_metrics_view_t *v, const char *name,
                         const char *help, size_t off) {
  s_head(f, name, "gauge", help);
  for (int i = 0; i < v->core->nchildren; i++) {
    fprintf(f, "%s{actor=\"", name);
    s_esc(f, v->core->children[i].name);
    fprintf(f, "\"} %.6f\n",
            (double)*(const uint64_t *)((const char *)&v->actors[i] + off) / 1e6);
  }
}

static void s_runtime(FILE *f, const sup_metrics_view_t *v) {
  s_runtime_family(f, v, "raftvisor_runtime_messages_received_total",
                   "envelopes received and decoded by the process (since it started)",
                   offsetof(rv_mailbox_stats_t, msgs_in));
  s_runtime_family(f, v, "raftvisor_runtime_messages_sent_total",
                   "envelopes the process handed to ZeroMQ for sending (since it started)",
                   offsetof(rv_mailbox_stats_t, msgs_out));
  s_runtime_family(f, v, "raftvisor_runtime_bad_frames_total",
                   "frames dropped by the size or decode checks (since the process started)",
                   offsetof(rv_mailbox_stats_t, bad_frames));
  s_runtime_family(f, v, "raftvisor_runtime_dropped_sends_total",
                   "sends refused because the receiver was absent or its queue full",
                   offsetof(rv_mailbox_stats_t, dropped_sends));
  s_runtime_family(f, v, "raftvisor_runtime_auth_refused_total",
                   "tcp connections refused at the CURVE handshake (unknown or no key) and Raft "
                   "messages whose routing id is not their key's node",
                   offsetof(rv_mailbox_stats_t, auth_refused));
  s_runtime_family(f, v, "raftvisor_port_rejected_total",
                   "messages a tcp port dropped: bad framing, unknown sender, codec refusal",
                   offsetof(rv_mailbox_stats_t, port_rejected));
  s_runtime_family(f, v, "raftvisor_port_busy_total",
                   "requests answered busy (retriable): their connection does not read its replies",
                   offsetof(rv_mailbox_stats_t, port_busy));
  s_runtime_family(f, v, "raftvisor_port_replies_dropped_total",
                   "replies dropped: the client is gone, or its queue is over the limit",
                   offsetof(rv_mailbox_stats_t, port_replies_dropped));
  s_runtime_family(f, v, "raftvisor_port_connections_refused_total",
                   "connections closed at once because the port holds its cap of connections",
                   offsetof(rv_mailbox_stats_t, port_conns_refused));
  s_runtime_typed(f, v, "raftvisor_port_inflight_requests", "gauge",
                   "requests of the tcp port's connections waiting in the actor now (each "
                   "connection may have limits.client-inflight; more are answered busy)",
                   offsetof(rv_mailbox_stats_t, port_inflight));
  s_lag_family(f, v, "raftvisor_runtime_loop_lag_seconds",
               "worst lateness of the actor's loop timers over its last heartbeat interval",
               offsetof(sup_actor_metrics_t, loop_lag_us));
  s_lag_family(f, v, "raftvisor_runtime_loop_lag_p99_seconds",
               "99th percentile of the lateness of the actor's timer runs over the last 10 to 20 s",
               offsetof(sup_actor_metrics_t, loop_lag_p99_us));
  s_lag_family(f, v, "raftvisor_runtime_loop_lag_max_seconds",
               "largest lateness of the actor's timer runs over the last 10 to 20 s",
               offsetof(sup_actor_metrics_t, loop_lag_max_us));
}

static void s_gauge(FILE *f, const char *name, const char *help, unsigned long long value) {
  s_head(f, name, "gauge", help);
  fprintf(f, "%s %llu\n", name, value);
}

static void s_counter(FILE *f, const char *name, const char *help, unsigned long long value) {
  s_head(f, name, "counter", help);
  fprintf(f, "%s %llu\n", name, value);
}

/* The samples of one histogram (rv_hist.h's bounds) named name, with labels ("" or
 * "op=\"mkdir\","); the HELP and TYPE lines are the caller's. */
void sup_metrics_histogram(FILE *f, const char *name, const char *labels, const Rv__Histogram *h) {
  unsigned long long cum = 0;
  for (size_t i = 0; i < RV_HIST_NBUCKETS; i++) {
    cum += i < h->n_buckets ? h->buckets[i] : 0;
    if (i < RV_HIST_NBOUNDS)
      fprintf(f, "%s_bucket{%sle=\"%g\"} %llu\n", name, labels,
              (double)rv_hist_bound_us(i) / 1e6, cum);
    else
      fprintf(f, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, labels, cum);
  }
  size_t ll = strlen(labels);
  /* labels without the trailing comma, for _sum and _count */
  fprintf(f, "%s_sum%s%.*s%s %.6f\n", name, ll ? "{" : "", (int)(ll ? ll - 1 : 0), labels,
          ll ? "}" : "", (double)h->sum_us / 1e6);
  fprintf(f, "%s_count%s%.*s%s %llu\n", name, ll ? "{" : "", (int)(ll ? ll - 1 : 0), labels,
          ll ? "}" : "", (unsigned long long)h->count);
}

static void s_raft(FILE *f, const sup_metrics_view_t *v) {
  const Rv__RaftState *r = v->raft;
  if (!r) return;
  s_gauge(f, "raftvisor_raft_term", "current Raft term", r->term);
  s_head(f, "raftvisor_raft_role", "gauge", "1 for this node's Raft role, 0 for the others");
  static const char *const roles[] = {"follower", "pre-candidate", "candidate", "leader"};
  for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
    fprintf(f, "raftvisor_raft_role{role=\"%s\"} %d\n", roles[i], strcmp(r->role, roles[i]) == 0);
  s_gauge(f, "raftvisor_raft_has_leader", "1 when this node knows a leader", r->leader != 0);
  s_head(f, "raftvisor_raft_leader_changes_total", "counter",
         "changes of the leader this node knows (to none included), seen since the node started");
  fprintf(f, "raftvisor_raft_leader_changes_total %llu\n", (unsigned long long)v->leader_changes);
  s_gauge(f, "raftvisor_raft_commit_index", "highest log index known committed", r->commit);
  s_gauge(f, "raftvisor_raft_applied_index", "highest log index applied by kv-store", r->applied);
  s_gauge(f, "raftvisor_raft_last_index", "last index in this node's log", r->last_index);
  s_gauge(f, "raftvisor_raft_snapshot_index", "index of the latest snapshot", r->snapshot_index);
  s_head(f, "raftvisor_raft_snapshots_refused_total", "counter",
         "snapshot chunks or installs Raft refused (not from this node's leader, stale)");
  fprintf(f, "raftvisor_raft_snapshots_refused_total %llu\n",
          (unsigned long long)r->snapshots_refused);
  s_gauge(f, "raftvisor_raft_voters", "voters in the configuration in force", r->n_voters);
  s_counter(f, "raftvisor_raft_proposals_total", "proposals this node's Raft accepted as leader",
            r->proposals);
  s_counter(f, "raftvisor_raft_proposals_failed_total",
            "proposals refused (not the leader, too many uncommitted bytes)", r->proposals_failed);
  s_head(f, "raftvisor_raft_read_indexes_total", "counter",
         "read indexes this node gave as leader, from its lease or after a heartbeat round");
  fprintf(f, "raftvisor_raft_read_indexes_total{by=\"lease\"} %llu\n",
          (unsigned long long)r->reads_lease);
  fprintf(f, "raftvisor_raft_read_indexes_total{by=\"round\"} %llu\n",
          (unsigned long long)r->reads_round);
  s_counter(f, "raftvisor_raft_snapshots_sent_total",
            "snapshot streams this node started to followers", r->snapshots_sent);
  s_counter(f, "raftvisor_raft_snapshots_installed_total",
            "snapshots this node installed from its leader", r->snapshots_installed);
  if (r->log_saves) {
    s_head(f, "raftvisor_raft_log_fsync_duration_seconds", "histogram",
           "one save of the Raft log: its record written and fdatasync'ed");
    sup_metrics_histogram(f, "raftvisor_raft_log_fsync_duration_seconds", "", r->log_saves);
  }
  s_counter(f, "raftvisor_raft_log_saved_entries_total",
            "entries written by Raft log saves (divided by the saves' count: the batch size)",
            r->log_saved_entries);
  if (r->n_peers) {
    s_head(f, "raftvisor_raft_peer_lag_entries", "gauge",
           "leader only: entries of the leader's log a follower has not acknowledged");
    for (size_t i = 0; i < r->n_peers; i++) {
      const Rv__PeerProgress *p = r->peers[i];
      fprintf(f, "raftvisor_raft_peer_lag_entries{peer=\"");
      s_esc(f, p->node);
      fprintf(f, "\"} %llu\n",
              (unsigned long long)(r->last_index > p->match ? r->last_index - p->match : 0));
    }
    s_head(f, "raftvisor_raft_peer_active", "gauge",
           "leader only: 1 when the follower answered within the last election timeout");
    for (size_t i = 0; i < r->n_peers; i++) {
      fprintf(f, "raftvisor_raft_peer_active{peer=\"");
      s_esc(f, r->peers[i]->node);
      fprintf(f, "\"} %d\n", r->peers[i]->active);
    }
  }
}

/* The off-cluster replica, from the ots-replicator's report (sent every second). */
static void s_repl(FILE *f, const sup_metrics_view_t *v) {
  const Rv__ReplStatus *r = v->repl;
  if (!r || !r->uploader) return;
  const Rv__ReplUploader *u = r->uploader;
  s_gauge(f, "raftvisor_replica_active", "1 while this node's replicator uploads (the leader's)",
          u->active);
  s_gauge(f, "raftvisor_replica_synced_index",
          "the Raft index the remote copy holds (its meta row, as last read or written)",
          u->synced_index);
  s_gauge(f, "raftvisor_replica_lag_entries",
          "this node's commit index minus the remote copy's synced_index",
          r->commit_index > u->synced_index ? r->commit_index - u->synced_index : 0);
  s_gauge(f, "raftvisor_replica_backlog_bytes",
          "this node's change log not yet in the remote copy (kv-store's live bytes)",
          r->log ? r->log->live_bytes : 0);
  s_gauge(f, "raftvisor_replica_last_upload_timestamp_seconds",
          "wall clock of the remote copy's last commit", (unsigned long long)(u->last_upload_ms / 1000));
  s_counter(f, "raftvisor_replica_uploads_total", "commits to the remote copy by this replicator",
            u->uploads);
  s_counter(f, "raftvisor_replica_upload_bytes_total",
            "key + value bytes of this replicator's incremental commits", u->upload_bytes);
  s_counter(f, "raftvisor_replica_base_copies_total", "base copies this replicator committed",
            u->base_copies);
  s_counter(f, "raftvisor_replica_errors_total", "failed attempts of this replicator", u->errors);
}

static void s_kv(FILE *f, const sup_metrics_view_t *v) {
  const Rv__KvStats *k = v->kv;
  if (!k) return;
  s_gauge(f, "raftvisor_kv_sessions", "client sessions in the replicated session table",
          k->sessions);
  s_gauge(f, "raftvisor_kv_pending_requests", "requests waiting for their entry or read index",
          k->pending);
  s_gauge(f, "raftvisor_kv_db_size_bytes", "RocksDB's size: SST files and memtables", k->db_size);
  s_gauge(f, "raftvisor_kv_write_stopped", "1 while RocksDB stops writes (a stall)",
          k->write_stopped);
  s_gauge(f, "raftvisor_kv_delayed_write_rate_bytes", "bytes per second RocksDB slows writes to "
          "(a slowdown); 0 when writes are not delayed", k->delayed_write_rate);
  s_head(f, "raftvisor_kv_operations_total", "counter",
         "namespace operations answered by this node's kv-store, by type");
  for (size_t i = 0; i < k->n_ops; i++)
    fprintf(f, "raftvisor_kv_operations_total{op=\"%s\"} %llu\n", k->ops[i]->op,
            (unsigned long long)(k->ops[i]->latency ? k->ops[i]->latency->count : 0));
  s_head(f, "raftvisor_kv_operation_errors_total", "counter",
         "namespace operations answered with an error (a retry or a refusal), by type");
  for (size_t i = 0; i < k->n_ops; i++)
    fprintf(f, "raftvisor_kv_operation_errors_total{op=\"%s\"} %llu\n", k->ops[i]->op,
            (unsigned long long)k->ops[i]->errors);
  s_head(f, "raftvisor_kv_operation_duration_seconds", "histogram",
         "request received -> reply sent, in kv-store, by type");
  for (size_t i = 0; i < k->n_ops; i++) {
    if (!k->ops[i]->latency) continue;
    char labels[96];
    snprintf(labels, sizeof labels, "op=\"%.60s\",", k->ops[i]->op);
    sup_metrics_histogram(f, "raftvisor_kv_operation_duration_seconds", labels,
                          k->ops[i]->latency);
  }
}

static void s_fences(FILE *f, const sup_metrics_view_t *v) {
  s_head(f, "raftvisor_fence_attempts_total", "counter",
         "fencing method attempts relayed by this node, by method and outcome");
  for (int i = 0; i < v->nfences; i++) {
    fprintf(f, "raftvisor_fence_attempts_total{method=\"");
    s_esc(f, v->fences[i].method);
    fprintf(f, "\",outcome=\"%s\"} %llu\n", v->fences[i].outcome,
            (unsigned long long)v->fences[i].count);
  }
}

char *sup_metrics_render(const sup_metrics_view_t *v, size_t *len) {
  char *buf = NULL;
  FILE *f = open_memstream(&buf, len);
  if (!f) return NULL;
  s_head(f, "raftvisor_build_info", "gauge", "always 1; the labels say what runs");
  fprintf(f, "raftvisor_build_info{version=\"%s\",node=\"", S_VERSION);
  s_esc(f, v->cfg->node_id);
  fprintf(f, "\",cluster=\"");
  s_esc(f, v->cfg->cluster_id);
  fprintf(f, "\"} 1\n");
  s_head(f, "raftvisor_supervisor_uptime_seconds", "gauge", "time since the supervisor started");
  fprintf(f, "raftvisor_supervisor_uptime_seconds %.3f\n", (double)v->uptime_ms / 1000.0);
  s_counter(f, "raftvisor_supervisor_stalls_total",
            "times the supervisor ran late (paused, an overloaded host): not counted against "
            "any actor's heartbeat", v->core->stalls);
  s_head(f, "raftvisor_supervisor_stalled_seconds_total", "counter",
         "total lateness of those stalls");
  fprintf(f, "raftvisor_supervisor_stalled_seconds_total %.3f\n",
          (double)v->core->stalled_ms / 1000.0);
  char *hjson = NULL;
  size_t hlen = 0;
  bool healthy = sup_health_verdict(v, &hjson, &hlen);
  free(hjson);
  s_gauge(f, "raftvisor_node_healthy", "1 when GET /health answers 200 (the node can serve)",
          healthy);
  s_actors(f, v);
  s_runtime(f, v);
  s_raft(f, v);
  s_kv(f, v);
  s_repl(f, v);
  s_fences(f, v);
  s_head(f, "raftvisor_http_requests_total", "counter", "GET and HEAD requests served");
  fprintf(f, "raftvisor_http_requests_total %llu\n", (unsigned long long)v->http_requests);
  if (fclose(f) != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

/* ---- /health and /ready ------------------------------------------------------------------- */

#define S_MAX_CHECKS 8

typedef struct {
  FILE *f;
  int n;
  const char *failing[S_MAX_CHECKS];
  int nfailing;
} s_checks_t;

static bool s_checks_start(s_checks_t *c, const sup_metrics_view_t *v, char **json, size_t *len) {
  *json = NULL;
  memset(c, 0, sizeof *c);
  if (!(c->f = open_memstream(json, len))) return false;
  fprintf(c->f, "{\"node\":\"");
  s_esc(c->f, v->cfg->node_id);
  fprintf(c->f, "\",\"checks\":[");
  return true;
}

static void s_check(s_checks_t *c, const char *name, bool ok, const char *reason) {
  fprintf(c->f, "%s{\"name\":\"%s\",\"ok\":%s,\"reason\":", c->n++ ? "," : "", name,
          ok ? "true" : "false");
  if (ok) {
    fprintf(c->f, "null}");
    return;
  }
  fprintf(c->f, "\"");
  s_esc(c->f, reason);
  fprintf(c->f, "\"}");
  if (c->nfailing < S_MAX_CHECKS) c->failing[c->nfailing++] = name;
}

/* Ends the object with "<verdict>": ok and "failing": [names]; returns ok (false if the text
 * could not be made: *json is then NULL). */
static bool s_checks_end(s_checks_t *c, const char *verdict, char **json) {
  bool ok = c->nfailing == 0;
  fprintf(c->f, "],\"%s\":%s,\"failing\":[", verdict, ok ? "true" : "false");
  for (int i = 0; i < c->nfailing; i++) fprintf(c->f, "%s\"%s\"", i ? "," : "", c->failing[i]);
  fprintf(c->f, "]}\n");
  if (fclose(c->f) != 0) {
    free(*json);
    *json = NULL;
    return false;
  }
  return ok;
}

static bool s_has(const sup_metrics_view_t *v, const char *actor) {
  return cfg_node_actor(v->cfg, actor) != NULL;
}

bool sup_health_verdict(const sup_metrics_view_t *v, char **json, size_t *len) {
  s_checks_t c;
  if (!s_checks_start(&c, v, json, len)) return false;
  char why[512] = "";
  /* (stopped: a transient or temporary actor that ended cleanly, as it may) */
  for (int i = 0; i < v->core->nchildren && !why[0]; i++)
    if (v->core->children[i].state != SUP_CHILD_RUNNING &&
        v->core->children[i].state != SUP_CHILD_STOPPED)
      snprintf(why, sizeof why, "actor %s is %s", v->core->children[i].name,
               sup_child_state_name(v->core->children[i].state));
  if (v->core->state != SUP_NODE_RUNNING)
    snprintf(why, sizeof why, "the node is %s", sup_node_state_name(v->core->state));
  s_check(&c, "actors", !why[0], why);
  if (s_has(v, "health-monitor")) {
    bool ok = v->health && v->health_fresh &&
              v->health->node_verdict == RV__HEALTH_VERDICT__HEALTH_HEALTHY;
    s_check(&c, "health-monitor", ok,
            !v->health ? "no report from the health-monitor yet"
            : !v->health_fresh ? "the health-monitor's reports stopped"
            : v->health->node_reason[0] ? v->health->node_reason
                                        : "the health-monitor says the node is not healthy");
  }
  if (s_has(v, "raft-peer")) {
    const Rv__RaftState *r = v->raft;
    s_check(&c, "raft-leader", r && r->leader != 0,
            r ? "no leader known (an election is running, or no quorum)"
              : "no Raft state from raft-peer yet");
    s_check(&c, "raft-fault", !r || !r->fault[0], r ? r->fault : "");
    s_check(&c, "raft-member", !r || strcmp(r->membership, "not-member") != 0,
            "this node is not in the Raft configuration");
  }
  return s_checks_end(&c, "healthy", json);
}

bool sup_ready_verdict(const sup_metrics_view_t *v, char **json, size_t *len) {
  s_checks_t c;
  if (!s_checks_start(&c, v, json, len)) return false;
  s_check(&c, "started", v->core->state == SUP_NODE_RUNNING,
          v->core->state == SUP_NODE_STARTING ? "actors are still starting"
                                              : "the node is stopping");
  return s_checks_end(&c, "ready", json);
}
