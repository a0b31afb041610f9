/* raftvisor endpoints (and status --cluster): every node of the YAML's cluster asked over the
 * network, on its client port (kv-store answers FS_NODE_STATUS), as etcdctl endpoint status
 * --cluster does: one table, or JSON. Needs no run directory: works from any host that can
 * reach the nodes. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_auth.h"
#include "rv_client.h"

#define S_TIMEOUT_MS 1000 /* one attempt on one node */
#define S_RETRY_MS 2000   /* then the node counts as unreachable */

static void s_help(void) {
  printf(
      "usage: raftvisor endpoints -c FILE [--key FILE] [-w table|json]\n"
      "       raftvisor status --cluster -c FILE [--key FILE] [-w table|json]\n"
      "Asks every node of the cluster in FILE (any node's YAML) over the network, on its\n"
      "client port, and prints one line per node: node, address, Raft role, term, leader,\n"
      "commit index, applied index, lag (the highest commit index answered minus this node's\n"
      "applied index), database size, health (as the node's kv-store sees it: attached to its\n"
      "raft-peer and a leader known), version, feature level (the replicated commands its\n"
      "build knows; 1? = an older build that does not say), uptime (of its kv-store). Needs\n"
      "no access to the node's run directory: it works from any host that reaches the client\n"
      "ports.\n"
      "  -c, --config FILE     a node's YAML (cluster.nodes, and security for the keys)\n"
      "  --key FILE            the client's CURVE key pair (default $RV_CLIENT_KEY, else the\n"
      "                        YAML's security.client-key)\n"
      "  -w, --write-out FMT   table (default) or json: {\"schema_version\":1, \"cluster\",\n"
      "                        \"nodes\":[{node, address, reachable, role, term, leader, commit,\n"
      "                        applied, lag, db_size, health, version, feature_level,\n"
      "                        cluster_level, uptime_ms, error}]} (absent values are null;\n"
      "                        cluster_level: the leader's, the least over the members)\n"
      "Exit codes: 0 every node answered, 1 some did not, 2 usage error, 3 none did.\n");
}

typedef struct {
  char address[RV_CLIENT_ADDR_MAX];
  bool ok;
  rv_client_node_status_t st;
  char error[RV_CLIENT_MSG_MAX];
} s_row_t;

static void s_ask(const cfg_peer_t *p, const rv_client_opts_t *base, s_row_t *row) {
  bool v6 = strchr(p->host, ':') != NULL;
  snprintf(row->address, sizeof row->address, "%s%s%s:%d", v6 ? "[" : "", p->host, v6 ? "]" : "",
           p->client_port);
  rv_client_opts_t o = *base;
  o.timeout_ms = S_TIMEOUT_MS;
  o.retry_ms = S_RETRY_MS;
  rv_client_t *c = NULL;
  rv_err_t err;
  if (rv_client_new(row->address, &o, &c, &err) != RV_OK) {
    snprintf(row->error, sizeof row->error, "%.600s", err.msg);
    return;
  }
  rv_client_result_t res = {0};
  if (rv_client_node_status(c, &res) == RV_OK) {
    row->ok = true;
    row->st = res.status;
  } else {
    snprintf(row->error, sizeof row->error, "%s",
             res.code == RV_ETIMEDOUT && res.attempts == 0 ? "unreachable" : res.msg);
  }
  rv_client_result_clear(&res);
  rv_client_destroy(&c);
}

static void s_json_str(const char *s) {
  if (!s) {
    printf("null");
    return;
  }
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') printf("\\%c", *p);
    else if (*p < 0x20) printf("\\u%04x", *p);
    else putchar(*p);
  }
  putchar('"');
}

static void s_size(uint64_t b, char *buf, size_t len) {
  static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
  double v = (double)b;
  size_t u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    u++;
  }
  snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

int cli_endpoints_run(const char *cmd, const char *config, const char *key, const char *fmt) {
  bool json;
  if (!fmt || strcmp(fmt, "table") == 0) json = false;
  else if (strcmp(fmt, "json") == 0) json = true;
  else return cli_usage_error(cmd, "-w expects table or json, got \"%s\"", fmt);
  cfg_node_t *cfg;
  int rc = cli_load_config(config, &cfg);
  if (rc) return rc;
  rv_client_opts_t base;
  rv_client_opts_default(&base);
  static cli_auth_t auth;
  if ((rc = cli_auth_load(cmd, cfg, key, NULL, &auth, &base))) {
    cfg_node_destroy(&cfg);
    return rc;
  }
  s_row_t rows[CFG_MAX_NODES];
  memset(rows, 0, sizeof rows);
  uint64_t top_commit = 0;
  int answered = 0;
  for (int i = 0; i < cfg->nnodes; i++) {
    s_ask(&cfg->nodes[i], &base, &rows[i]);
    if (rows[i].ok) {
      answered++;
      if (rows[i].st.commit > top_commit) top_commit = rows[i].st.commit;
    }
  }
  if (json) {
    printf("{\"schema_version\":1,\"cluster\":");
    s_json_str(cfg->cluster_id);
    printf(",\"nodes\":[");
  } else {
    printf("%-8s %-22s %-13s %-6s %-8s %-10s %-10s %-6s %-9s %-9s %-5s %-8s %s\n", "NODE",
           "ADDRESS", "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED", "LAG", "DB SIZE", "VERSION",
           "LEVEL", "UPTIME", "HEALTH");
  }
  for (int i = 0; i < cfg->nnodes; i++) {
    const s_row_t *r = &rows[i];
    const rv_client_node_status_t *st = &r->st;
    uint64_t lag = r->ok && top_commit > st->applied ? top_commit - st->applied : 0;
    if (json) {
      printf("%s{\"node\":", i ? "," : "");
      s_json_str(cfg->nodes[i].id);
      printf(",\"address\":");
      s_json_str(r->address);
      printf(",\"reachable\":%s", r->ok ? "true" : "false");
      if (r->ok) {
        printf(",\"role\":");
        s_json_str(st->role[0] ? st->role : NULL);
        printf(",\"term\":%llu,\"leader\":", (unsigned long long)st->term);
        s_json_str(st->leader[0] ? st->leader : NULL);
        printf(",\"commit\":%llu,\"applied\":%llu,\"lag\":%llu,\"db_size\":%llu,\"health\":",
               (unsigned long long)st->commit, (unsigned long long)st->applied,
               (unsigned long long)lag, (unsigned long long)st->db_size);
        s_json_str(st->health);
        printf(",\"version\":");
        s_json_str(st->version);
        printf(",\"feature_level\":%u,\"cluster_level\":",
               st->feature_level ? st->feature_level : 1);
        if (st->cluster_level) printf("%u", st->cluster_level);
        else printf("null");
        printf(",\"uptime_ms\":%llu,\"error\":null}", (unsigned long long)st->uptime_ms);
      } else {
        printf(",\"role\":null,\"term\":null,\"leader\":null,\"commit\":null,\"applied\":null,"
               "\"lag\":null,\"db_size\":null,\"health\":null,\"version\":null,"
               "\"feature_level\":null,\"cluster_level\":null,\"uptime_ms\":null,\"error\":");
        s_json_str(r->error);
        printf("}");
      }
    } else if (r->ok) {
      char size[32], up[32], level[16];
      s_size(st->db_size, size, sizeof size);
      cli_format_duration(st->uptime_ms, up, sizeof up);
      if (st->feature_level) snprintf(level, sizeof level, "%u", st->feature_level);
      else snprintf(level, sizeof level, "1?"); /* a build that does not say */
      printf("%-8s %-22s %-13s %-6llu %-8s %-10llu %-10llu %-6llu %-9s %-9s %-5s %-8s %s\n",
             cfg->nodes[i].id, r->address, st->role[0] ? st->role : "-",
             (unsigned long long)st->term, st->leader[0] ? st->leader : "-",
             (unsigned long long)st->commit, (unsigned long long)st->applied,
             (unsigned long long)lag, size, st->version, level, up, st->health);
    } else {
      printf("%-8s %-22s %-13s %-6s %-8s %-10s %-10s %-6s %-9s %-9s %-5s %-8s %s\n",
             cfg->nodes[i].id, r->address, "-", "-", "-", "-", "-", "-", "-", "-", "-", "-",
             r->error);
    }
  }
  if (json) printf("]}\n");
  rc = answered == cfg->nnodes ? CLI_OK : answered ? CLI_FAILURE : CLI_NOT_RUNNING;
  if (rc == CLI_NOT_RUNNING)
    fprintf(stderr, "raftvisor %s: no node of cluster %s answered; is it running?\n", cmd,
            cfg->cluster_id);
  cfg_node_destroy(&cfg);
  return rc;
}

int cli_endpoints_main(int argc, char **argv) {
  const char *config = NULL, *fmt = NULL, *key = NULL;
  const cli_opt_t opts[] = {{"--config", "-c", NULL, &config},
                            {"--write-out", "-w", NULL, &fmt},
                            {"--key", NULL, NULL, &key},
                            {NULL}};
  int prc = cli_parse("endpoints", argc, argv, opts, s_help, NULL, 0, NULL);
  if (prc) return prc < 0 ? CLI_OK : prc;
  if (!config) return cli_usage_error("endpoints", "missing -c FILE (a node's YAML)");
  return cli_endpoints_run("endpoints", config, key, fmt);
}
