/* raftvisor status: a node's supervisor and actors as a table, or as JSON for scripts. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "rv_msgprint.h"

static void s_help(void) {
  printf(
      "usage: raftvisor status -c FILE [--json]\n"
      "       raftvisor status --cluster -c FILE [--key FILE] [-w table|json]   (see raftvisor endpoints)\n"
      "Shows a running node: the supervisor (pid, state, uptime, the node's health) and per\n"
      "actor its pid, state (starting, running, stopping, backoff, stopped, failed), uptime,\n"
      "restarts, health verdict with the last ping's round trip, loop lag (p99 and max over\n"
      "the last 10 to 20 s of how late its timers ran: a loop held up by a long handler, a\n"
      "blocked call or a pause shows here) and last exit (\"exited with code 3\", \"killed by\n"
      "signal 9\").\n"
      "  -c, --config FILE  the node's YAML configuration (required)\n"
      "  --json             one JSON object: schema_version (2), node, cluster, supervisor_pid,\n"
      "                     state, uptime_ms, raft (leader null when none is known),\n"
      "                     health, health_reason, actors[] with name, pid, state, uptime_ms,\n"
      "                     restarts, last_exit, health, health_reason, health_rtt_us, restart,\n"
      "                     loop_lag_p99_us, loop_lag_max_us, loop_lag_samples (0 until the\n"
      "                     actor's first heartbeat answer), cpu_wait_ms and starved (run-queue\n"
      "                     wait not counted against it as a hang, and the times that alone\n"
      "                     kept it from being judged hung); supervisor_stalls and\n"
      "                     supervisor_stalled_ms (the supervisor ran late; not counted against\n"
      "                     any actor); security {insecure, auth_refused}\n"
      "Exit codes: 0 ok, 1 failure, 2 usage error, 3 node not running.\n");
}

static const char *s_verdict(Rv__HealthVerdict v) {
  switch (v) {
    case RV__HEALTH_VERDICT__HEALTH_HEALTHY: return "healthy";
    case RV__HEALTH_VERDICT__HEALTH_UNHEALTHY: return "unhealthy";
    case RV__HEALTH_VERDICT__HEALTH_NOT_RESPONDING: return "not-responding";
    default: return "unknown";
  }
}

/* The JSON's schema: raised whenever a field changes meaning or type (2: leader is null, not "",
 * when none is known). The README documents every field. */
#define S_SCHEMA_VERSION 2

static void s_print_json(const Rv__StatusReply *r) {
  printf("{\"schema_version\":%d,\"node\":", S_SCHEMA_VERSION);
  cli_json_str(r->node);
  printf(",\"cluster\":");
  cli_json_str(r->cluster);
  printf(",\"supervisor_pid\":%u,\"state\":", r->supervisor_pid);
  cli_json_str(r->state);
  printf(",\"uptime_ms\":%llu,\"health\":\"%s\",\"health_reason\":",
         (unsigned long long)r->uptime_ms, s_verdict(r->node_health));
  cli_json_str(r->node_health_reason);
  printf(",\"run_dir\":");
  cli_json_str(r->run_dir);
  printf(",\"security\":{\"insecure\":%s,\"auth_refused\":%llu}", r->insecure ? "true" : "false",
         (unsigned long long)r->auth_refused);
  printf(",\"supervisor_stalls\":%llu,\"supervisor_stalled_ms\":%llu",
         (unsigned long long)r->supervisor_stalls, (unsigned long long)r->supervisor_stalled_ms);
  if (r->raft) {
    const Rv__RaftState *rs = r->raft;
    printf(",\"raft\":{\"role\":");
    cli_json_str(rs->role);
    printf(",\"term\":%llu,\"leader\":", (unsigned long long)rs->term);
    if (rs->leader_node[0])
      cli_json_str(rs->leader_node);
    else
      printf("null");
    printf(",\"commit\":%llu,\"applied\":%llu,\"last_index\":%llu,\"snapshot_index\":%llu,"
           "\"snapshots_refused\":%llu,\"dropped_not_member\":%llu,\"dropped_stranger\":%llu,"
           "\"dropped_malformed\":%llu,\"lease_reads\":%s,\"reads_lease\":%llu,"
           "\"reads_round\":%llu,\"incarnation\":\"%016llx\",",
           (unsigned long long)rs->commit, (unsigned long long)rs->applied,
           (unsigned long long)rs->last_index, (unsigned long long)rs->snapshot_index,
           (unsigned long long)rs->snapshots_refused, (unsigned long long)rs->dropped_not_member,
           (unsigned long long)rs->dropped_stranger, (unsigned long long)rs->dropped_malformed,
           rs->lease_reads ? "true" : "false", (unsigned long long)rs->reads_lease,
           (unsigned long long)rs->reads_round, (unsigned long long)rs->incarnation);
    printf("\"lease_wait\":");
    if (rs->lease_wait && rs->lease_wait[0])
      cli_json_str(rs->lease_wait);
    else
      printf("null");
    printf(",\"strangers\":[");
    for (size_t i = 0; i < rs->n_strangers; i++) {
      printf("%s", i ? "," : "");
      cli_json_str(rs->strangers[i]);
    }
    printf("],\"fault\":");
    if (rs->fault[0])
      cli_json_str(rs->fault);
    else
      printf("null");
    printf(",\"fence\":");
    if (rs->fence[0])
      cli_json_str(rs->fence);
    else
      printf("null");
    if (rs->feature_level) printf(",\"feature_level\":%u", rs->feature_level);
    else printf(",\"feature_level\":null");
    printf(",\"peers\":[");
    for (size_t i = 0; i < rs->n_peers; i++) {
      printf("%s{\"node\":", i ? "," : "");
      cli_json_str(rs->peers[i]->node);
      printf(",\"match\":%llu,\"next\":%llu,\"state\":", (unsigned long long)rs->peers[i]->match,
             (unsigned long long)rs->peers[i]->next);
      cli_json_str(rs->peers[i]->state);
      printf(",\"learner\":%s,\"active\":%s,\"feature_level\":",
             rs->peers[i]->learner ? "true" : "false", rs->peers[i]->active ? "true" : "false");
      if (rs->peers[i]->feature_level) printf("%u}", rs->peers[i]->feature_level);
      else printf("null}");
    }
    printf("],\"membership\":");
    cli_json_str(rs->membership);
    printf(",\"voters\":[");
    for (size_t i = 0; i < rs->n_voters; i++) {
      printf("%s", i ? "," : "");
      cli_json_str(rs->voters[i]);
    }
    printf("],\"learners\":[");
    for (size_t i = 0; i < rs->n_learners; i++) {
      printf("%s", i ? "," : "");
      cli_json_str(rs->learners[i]);
    }
    printf("]}");
  }
  printf(",\"actors\":[");
  for (size_t i = 0; i < r->n_actors; i++) {
    const Rv__ActorStatus *a = r->actors[i];
    printf("%s{\"name\":", i ? "," : "");
    cli_json_str(a->name);
    printf(",\"pid\":%u,\"state\":", a->pid);
    cli_json_str(a->state);
    printf(",\"uptime_ms\":%llu,\"restarts\":%u,\"last_exit\":", (unsigned long long)a->uptime_ms,
           a->restarts);
    cli_json_str(a->last_exit);
    printf(",\"health\":\"%s\",\"health_reason\":", s_verdict(a->health));
    cli_json_str(a->health_reason);
    printf(",\"health_rtt_us\":%llu,\"bad_frames\":%llu,\"port_rejected\":%llu,"
           "\"port_busy\":%llu,\"port_replies_dropped\":%llu,\"port_conns_refused\":%llu,"
           "\"restart\":", (unsigned long long)a->health_rtt_us, (unsigned long long)a->bad_frames,
           (unsigned long long)a->port_rejected, (unsigned long long)a->port_busy,
           (unsigned long long)a->port_replies_dropped, (unsigned long long)a->port_conns_refused);
    cli_json_str(a->restart_type);
    printf(",\"loop_lag_p99_us\":%llu,\"loop_lag_max_us\":%llu,\"loop_lag_samples\":%llu,"
           "\"port_inflight\":%llu,\"cpu_wait_ms\":%llu,\"starved\":%llu}",
           (unsigned long long)a->loop_lag_p99_us, (unsigned long long)a->loop_lag_max_us,
           (unsigned long long)a->loop_lag_samples, (unsigned long long)a->port_inflight,
           (unsigned long long)a->cpu_wait_ms, (unsigned long long)a->starved);
  }
  printf("]}\n");
}

static void s_print_text(const Rv__StatusReply *r) {
  char up[32];
  cli_format_duration(r->uptime_ms, up, sizeof up);
  printf("node %s  cluster %s  supervisor pid %u  %s  up %s  health %s%s%s\n", r->node, r->cluster,
         r->supervisor_pid, r->state, up, s_verdict(r->node_health),
         r->node_health_reason[0] ? ": " : "", r->node_health_reason);
  if (r->insecure)
    printf("INSECURE: security.insecure is true: the raft and client ports authenticate no one "
           "and encrypt nothing\n");
  else
    printf("security: CURVE on the raft and client ports; %llu connections or messages refused\n",
           (unsigned long long)r->auth_refused);
  if (r->raft) {
    const Rv__RaftState *rs = r->raft;
    printf("raft %s  term %llu  leader %s  commit %llu  applied %llu  last %llu  snapshot %llu\n",
           rs->role, (unsigned long long)rs->term, rs->leader_node[0] ? rs->leader_node : "-",
           (unsigned long long)rs->commit, (unsigned long long)rs->applied,
           (unsigned long long)rs->last_index, (unsigned long long)rs->snapshot_index);
    if (rs->fault[0]) printf("RAFT STOPPED ON THIS NODE: %s\n", rs->fault);
    if (rs->fence[0]) printf("%s\n", rs->fence);
    if (rs->snapshots_refused)
      printf("snapshots refused %llu (not from the leader this node follows, stale, or nothing "
             "new: see raft-peer.log)\n", (unsigned long long)rs->snapshots_refused);
    if (rs->n_strangers) {
      printf("STRANGERS (lost their data-dir; ignored until `raftvisor raft rejoin NODE`):");
      for (size_t i = 0; i < rs->n_strangers; i++) printf(" %s", rs->strangers[i]);
      printf("\n");
    }
    if (rs->dropped_not_member || rs->dropped_stranger || rs->dropped_malformed)
      printf("raft messages dropped before the core: %llu from non-members, %llu from strangers, "
             "%llu malformed (see raft-peer.log)\n", (unsigned long long)rs->dropped_not_member,
             (unsigned long long)rs->dropped_stranger, (unsigned long long)rs->dropped_malformed);
    if (rs->feature_level) printf("feature level %u\n", rs->feature_level);
    if (!rs->lease_reads)
      printf("lease reads off (raft.lease-reads: false): every read index takes a heartbeat "
             "round\n");
    else if (rs->lease_wait[0])
      printf("lease reads waiting: %s\n", rs->lease_wait);
    if (rs->reads_lease || rs->reads_round)
      printf("read indexes given as leader: %llu from the lease, %llu after a heartbeat round\n",
             (unsigned long long)rs->reads_lease, (unsigned long long)rs->reads_round);
    printf("members: this node %s; voters", rs->membership[0] ? rs->membership : "-");
    for (size_t i = 0; i < rs->n_voters; i++) printf(" %s", rs->voters[i]);
    printf("; learners");
    for (size_t i = 0; i < rs->n_learners; i++) printf(" %s", rs->learners[i]);
    printf("%s\n", rs->n_learners ? "" : " -");
    for (size_t i = 0; i < rs->n_peers; i++) {
      char level[16] = "?";
      if (rs->peers[i]->feature_level)
        snprintf(level, sizeof level, "%u", rs->peers[i]->feature_level);
      printf("  peer %-8s match %-10llu next %-10llu level %-2s %s%s%s\n", rs->peers[i]->node,
             (unsigned long long)rs->peers[i]->match, (unsigned long long)rs->peers[i]->next,
             level, rs->peers[i]->state, rs->peers[i]->learner ? " learner" : "",
             rs->peers[i]->active ? "" : " (inactive)");
    }
  }
  printf("%-16s %-8s %-9s %-8s %-8s %-22s %-19s %s\n", "ACTOR", "PID", "STATE", "UPTIME",
         "RESTARTS", "HEALTH", "LOOP LAG p99/max", "LAST EXIT");
  for (size_t i = 0; i < r->n_actors; i++) {
    const Rv__ActorStatus *a = r->actors[i];
    char pid[16] = "-", uptime[32] = "-", health[64];
    if (a->pid) snprintf(pid, sizeof pid, "%u", a->pid);
    if (a->uptime_ms) cli_format_duration(a->uptime_ms, uptime, sizeof uptime);
    if (a->health == RV__HEALTH_VERDICT__HEALTH_HEALTHY && a->health_rtt_us)
      snprintf(health, sizeof health, "healthy %lluus", (unsigned long long)a->health_rtt_us);
    else
      snprintf(health, sizeof health, "%s", s_verdict(a->health));
    char lag[48] = "-";
    if (a->loop_lag_samples)
      snprintf(lag, sizeof lag, "%.1f/%.1f ms", (double)a->loop_lag_p99_us / 1e3,
               (double)a->loop_lag_max_us / 1e3);
    printf("%-16s %-8s %-9s %-8s %-8u %-22s %-19s %s\n", a->name, pid, a->state, uptime,
           a->restarts, health, lag, a->last_exit[0] ? a->last_exit : "-");
    if (a->health_reason[0]) printf("%-16s   health: %s\n", "", a->health_reason);
    if (a->starved)
      printf("%-16s   starved: %llu times only its wait for a CPU (%llu ms in all) kept it from "
             "being judged hung: an overloaded host\n", "", (unsigned long long)a->starved,
             (unsigned long long)a->cpu_wait_ms);
    if (a->bad_frames || a->port_rejected || a->port_busy || a->port_replies_dropped ||
        a->port_conns_refused)
      printf("%-16s   refused: %llu bad frames; tcp port: %llu messages dropped, %llu requests "
             "answered busy, %llu replies dropped, %llu connections closed over the cap\n", "",
             (unsigned long long)a->bad_frames, (unsigned long long)a->port_rejected,
             (unsigned long long)a->port_busy, (unsigned long long)a->port_replies_dropped,
             (unsigned long long)a->port_conns_refused);
  }
}

int cli_status_main(int argc, char **argv) {
  const char *config = NULL, *fmt = NULL, *key = NULL;
  bool json = false, cluster = false;
  const cli_opt_t opts[] = {{"--config", "-c", NULL, &config},     {"--json", NULL, &json, NULL},
                            {"--cluster", NULL, &cluster, NULL},  {"--write-out", "-w", NULL, &fmt},
                            {"--key", NULL, NULL, &key},
                            {NULL}};
  int prc = cli_parse("status", argc, argv, opts, s_help, NULL, 0, NULL);
  if (prc) return prc < 0 ? CLI_OK : prc;
  if (!config) return cli_usage_error("status", "missing -c FILE (the node's YAML)");
  if (cluster) return cli_endpoints_run("status", config, key, json && !fmt ? "json" : fmt);
  if (key) return cli_usage_error("status", "--key goes with --cluster (this node: its control socket)");
  if (fmt) return cli_usage_error("status", "-w goes with --cluster (this node: --json)");
  cfg_node_t *cfg;
  int rc = cli_load_config(config, &cfg);
  if (rc) return rc;
  if ((rc = cli_require_running(cfg, NULL))) goto out;
  Rv__StatusRequest req = RV__STATUS_REQUEST__INIT;
  rv_msg_t reply;
  rv_err_t err;
  if (cli_request(cfg, RV_MSG_STATUS_REQUEST, &req.base, 5000, &reply, &err) != RV_OK) {
    fprintf(stderr, "raftvisor status: %s\n", err.msg);
    rc = CLI_FAILURE;
    goto out;
  }
  if (reply.type != RV_MSG_STATUS_REPLY) {
    fprintf(stderr, "raftvisor status: unexpected answer from node %s\n", cfg->node_id);
    rc = CLI_FAILURE;
  } else if (json) {
    s_print_json((Rv__StatusReply *)reply.body);
  } else {
    s_print_text((Rv__StatusReply *)reply.body);
  }
  rv_msg_clear(&reply);
out:
  cfg_node_destroy(&cfg);
  return rc;
}
