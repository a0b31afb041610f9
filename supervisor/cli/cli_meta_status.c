/* raftvisor meta-status: the off-cluster replica as every node of the cluster sees it (the
 * JindoFS `jindo jfs -metaStatus -detail` of this system), asked over the network on each
 * node's client port (kv-store answers ReplStatusRequest with the change log, its replicator's
 * last report, and Raft's role and commit index): one line per node, or JSON. With --digest,
 * the remote copy itself is read (its backend, from the YAML's ots.* keys) at its meta row and
 * hashed as `fs -digest` hashes the namespace, so the two can be compared. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_auth.h"
#include "kv_chlog.h"
#include "kv_codec.h"
#include "repl_backend.h"
#include "rv_client.h"
#include "rv_msgtypes.h"

#define S_TIMEOUT_MS 2000
#define S_STALE_MS 5000 /* a replicator report older than this does not vouch for _synced */

static void s_help(void) {
  printf(
      "usage: raftvisor meta-status [--detail] [--json] -c FILE | --nodes HOST:PORT,...\n"
      "       raftvisor meta-status --json --every MS [--for S] -c FILE | --nodes ...\n"
      "       raftvisor meta-status --digest -c FILE\n"
      "The off-cluster replica (ots.enabled) as each node sees it, asked over the network on\n"
      "its client port: one line per node,\n"
      "  LEADER   host:raft-port   _synced=1 synced_index=N commit_index=N lag_entries=0 lag_s=0.0 backlog_bytes=N\n"
      "  FOLLOWER host:raft-port   synced_index=N commit_index=N lag_entries=N lag_s=0.0 backlog_bytes=N\n"
      "_synced=1 on the leader exactly when the remote copy holds every committed entry (its\n"
      "synced_index is at the leader's commit index, in a report under 5 s old); lag_entries is\n"
      "commit_index - synced_index; lag_s the seconds since the remote copy last moved while it\n"
      "lags; backlog_bytes the node's change log not yet uploaded. A node with the replica off\n"
      "says replica=off; one that does not answer, UNREACHABLE. During a recovery the line ends\n"
      "with state=RUNNING rows=N bytes=N rate=R/s eta=Ns, then state=FINISH. A cluster rebuilt\n"
      "from a remote copy ends its lines with epoch=E (its epoch: the copy's + 1; the replica's\n"
      "fencing token is E << 32 | Raft term); one never recovered has epoch 0 and says nothing.\n"
      "  -c, --config FILE   a node's YAML (cluster.nodes; --digest also reads ots.*)\n"
      "      --nodes LIST    client addresses host:port,... instead of a YAML\n"
      "      --key FILE      our CURVE key pair (default: $RV_CLIENT_KEY, else the YAML's\n"
      "                      security.client-key); node keys from the YAML or $RV_SERVER_KEYS\n"
      "      --detail        also the epoch, state, backend, the remote meta row's epoch and\n"
      "                      Raft term (remote_epoch=, remote_term=: its token's two halves),\n"
      "                      generation, last upload, last error, base copy progress, the\n"
      "                      change log's floor and overflows\n"
      "      --json          one object: {\"schema_version\":1, \"cluster\", \"nodes\":[{node,\n"
      "                      address, reachable, role, replica, synced, synced_index,\n"
      "                      commit_index, lag_entries, lag_s, backlog_bytes, epoch, state,\n"
      "                      backend, remote_epoch, remote_term, generation, last_upload_ms,\n"
      "                      last_error,\n"
      "                      base_rows_done, base_rows_total, log_floor, log_overflows,\n"
      "                      recovery, error}]} (absent values are null)\n"
      "      --every MS      with --json: sample every MS ms (10..60000), one object per line\n"
      "                      with \"time_ms\" (wall clock of the answers); after the first\n"
      "                      sample only the leader is asked (all nodes again when it is no\n"
      "                      longer one); --for S stops after S seconds (default: until killed)\n"
      "      --digest        read the remote copy at its meta row and print\n"
      "                      \"DIGEST SYNCED_INDEX remote:BACKEND\": the same FNV-1a as\n"
      "                      `raftvisor fs -digest` over the same rows, so a copy that holds\n"
      "                      the namespace at index N prints what fs -digest prints at N\n"
      "Exit codes: 0 every node answered (--digest: read), 1 some did not (or a failure),\n"
      "2 usage error, 3 none did.\n");
}

typedef struct {
  char id[CFG_ID_MAX + 1];
  char shown[RV_CLIENT_ADDR_MAX];  /* host:raft-port (from the YAML) or the address given */
  char address[RV_CLIENT_ADDR_MAX]; /* host:client-port */
  bool ok;
  rv_msg_t msg;                     /* the ReplStatus */
  char error[512];
} s_node_t;

static int64_t s_wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What a line says, from one ReplStatus. */
typedef struct {
  const char *role;   /* "LEADER", "FOLLOWER", "CANDIDATE", "UNKNOWN" */
  bool replica_on;
  bool has_report, fresh;
  bool synced;        /* leader only */
  uint64_t synced_index, commit_index, lag_entries, backlog;
  double lag_s;
} s_view_t;

static void s_view(const Rv__ReplStatus *rs, int64_t now_ms, s_view_t *v) {
  memset(v, 0, sizeof *v);
  v->role = rs->role && rs->role[0] ? rs->role : "UNKNOWN";
  v->replica_on = (rs->log && rs->log->enabled) || rs->uploader;
  const Rv__ReplUploader *up = rs->uploader;
  v->has_report = up != NULL;
  v->fresh = up && now_ms - up->reported_ms <= S_STALE_MS;
  v->synced_index = up ? up->synced_index : 0;
  v->commit_index = rs->commit_index;
  v->lag_entries = v->commit_index > v->synced_index ? v->commit_index - v->synced_index : 0;
  if (v->lag_entries && up && up->last_upload_ms)
    v->lag_s = (double)(now_ms - up->last_upload_ms) / 1000.0;
  v->backlog = rs->log ? rs->log->live_bytes : 0;
  v->synced = strcmp(v->role, "LEADER") == 0 && up && v->fresh && up->active &&
              v->synced_index >= v->commit_index;
}

static void s_recovery_text(const Rv__RecoveryProgress *r) {
  if (!r || !r->state || !r->state[0]) return;
  printf(" state=%s", r->state);
  if (strcmp(r->state, "FINISH") != 0)
    printf(" rows=%" PRIu64 " bytes=%" PRIu64 " rate=%.0f/s eta=%.0fs", r->rows, r->bytes,
           r->rate_rows_s, r->eta_s);
  else
    printf(" rows=%" PRIu64 " bytes=%" PRIu64, r->rows, r->bytes);
}

static void s_line(const s_node_t *n, bool detail, int64_t now_ms) {
  if (!n->ok) {
    printf("%-9s%-24s error=\"%s\"\n", "UNREACHABLE", n->shown, n->error);
    return;
  }
  const Rv__ReplStatus *rs = (const Rv__ReplStatus *)n->msg.body;
  s_view_t v;
  s_view(rs, now_ms, &v);
  printf("%-9s%-24s", v.role, n->shown);
  if (!v.replica_on) {
    printf(" replica=off");
    s_recovery_text(rs->recovery);
    if (rs->recovery && rs->recovery->epoch) printf(" epoch=%" PRIu64, rs->recovery->epoch);
    printf("\n");
    return;
  }
  if (strcmp(v.role, "LEADER") == 0) printf(" _synced=%d", v.synced ? 1 : 0);
  printf(" synced_index=%" PRIu64 " commit_index=%" PRIu64 " lag_entries=%" PRIu64
         " lag_s=%.1f backlog_bytes=%" PRIu64,
         v.synced_index, v.commit_index, v.lag_entries, v.lag_s, v.backlog);
  s_recovery_text(rs->recovery);
  uint64_t epoch = rs->recovery ? rs->recovery->epoch : 0;
  if (epoch || detail) printf(" epoch=%" PRIu64, epoch);
  if (detail) {
    const Rv__ReplUploader *up = rs->uploader;
    if (up) {
      printf(" state=%s backend=\"%s\" remote_epoch=%" PRIu64 " remote_term=%" PRIu64
             " generation=%" PRIu64,
             up->state, up->backend, repl_token_epoch(up->remote_term),
             repl_token_term(up->remote_term), up->generation);
      if (up->last_upload_ms)
        printf(" last_upload_s_ago=%.1f", (double)(now_ms - up->last_upload_ms) / 1000.0);
      if (up->base_rows_total || up->base_rows_done)
        printf(" base_rows=%" PRIu64 "/%" PRIu64, up->base_rows_done, up->base_rows_total);
      printf(" report_age_s=%.1f", (double)(now_ms - up->reported_ms) / 1000.0);
      if (up->last_error && up->last_error[0]) printf(" last_error=\"%s\"", up->last_error);
    } else {
      printf(" state=no-report");
    }
    if (rs->log)
      printf(" log_floor=%" PRIu64 " log_overflows=%" PRIu64 "%s", rs->log->floor,
             rs->log->overflows, rs->log->base_copy_needed ? " base_copy_needed=1" : "");
  }
  printf("\n");
}

/* A JSON string, or null. */
static void s_json_str(const char *s) {
  if (s) cli_json_str(s);
  else printf("null");
}

static void s_json_u64(const char *k, uint64_t v) { printf(",\"%s\":%" PRIu64, k, v); }

static void s_json(const s_node_t *n, bool first, int64_t now_ms) {
  printf("%s{\"node\":", first ? "" : ",");
  s_json_str(n->id[0] ? n->id : NULL);
  printf(",\"address\":");
  s_json_str(n->address);
  printf(",\"reachable\":%s", n->ok ? "true" : "false");
  if (!n->ok) {
    printf(",\"role\":null,\"replica\":null,\"synced\":null,\"synced_index\":null,"
           "\"commit_index\":null,\"lag_entries\":null,\"lag_s\":null,\"backlog_bytes\":null,"
           "\"epoch\":null,\"state\":null,\"backend\":null,\"remote_epoch\":null,"
           "\"remote_term\":null,\"generation\":null,"
           "\"last_upload_ms\":null,\"last_error\":null,\"base_rows_done\":null,"
           "\"base_rows_total\":null,\"log_floor\":null,\"log_overflows\":null,"
           "\"recovery\":null,\"error\":");
    s_json_str(n->error);
    printf("}");
    return;
  }
  const Rv__ReplStatus *rs = (const Rv__ReplStatus *)n->msg.body;
  const Rv__ReplUploader *up = rs->uploader;
  s_view_t v;
  s_view(rs, now_ms, &v);
  printf(",\"role\":");
  s_json_str(v.role);
  printf(",\"replica\":\"%s\"", v.replica_on ? "on" : "off");
  if (strcmp(v.role, "LEADER") == 0) printf(",\"synced\":%s", v.synced ? "true" : "false");
  else printf(",\"synced\":null");
  s_json_u64("synced_index", v.synced_index);
  s_json_u64("commit_index", v.commit_index);
  s_json_u64("lag_entries", v.lag_entries);
  printf(",\"lag_s\":%.1f", v.lag_s);
  s_json_u64("backlog_bytes", v.backlog);
  s_json_u64("epoch", rs->recovery ? rs->recovery->epoch : 0);
  printf(",\"state\":");
  s_json_str(up ? up->state : NULL);
  printf(",\"backend\":");
  s_json_str(up ? up->backend : NULL);
  if (up) {
    s_json_u64("remote_epoch", repl_token_epoch(up->remote_term));
    s_json_u64("remote_term", repl_token_term(up->remote_term));
    s_json_u64("generation", up->generation);
    printf(",\"last_upload_ms\":%" PRId64 ",\"last_error\":", up->last_upload_ms);
    s_json_str(up->last_error && up->last_error[0] ? up->last_error : NULL);
    s_json_u64("base_rows_done", up->base_rows_done);
    s_json_u64("base_rows_total", up->base_rows_total);
  } else {
    printf(",\"remote_epoch\":null,\"remote_term\":null,\"generation\":null,\"last_upload_ms\":null,"
           "\"last_error\":null,\"base_rows_done\":null,\"base_rows_total\":null");
  }
  if (rs->log) {
    s_json_u64("log_floor", rs->log->floor);
    s_json_u64("log_overflows", rs->log->overflows);
  } else {
    printf(",\"log_floor\":null,\"log_overflows\":null");
  }
  const Rv__RecoveryProgress *r = rs->recovery;
  if (r && r->state && r->state[0]) {
    printf(",\"recovery\":{\"state\":");
    s_json_str(r->state);
    printf(",\"rows\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"rows_total\":%" PRIu64
           ",\"bytes_total\":%" PRIu64 ",\"rate_rows_s\":%.1f,\"eta_s\":%.1f}",
           r->rows, r->bytes, r->rows_total, r->bytes_total, r->rate_rows_s, r->eta_s);
  } else {
    printf(",\"recovery\":null");
  }
  printf(",\"error\":null}");
}

static void s_ask(s_node_t *n, const cli_auth_t *auth) {
  Rv__ReplStatusRequest q = RV__REPL_STATUS_REQUEST__INIT;
  int rc = cli_node_call(n->address, auth, "meta-status", RV_MSG_REPL_STATUS_REQUEST, &q.base,
                         RV_MSG_REPL_STATUS, S_TIMEOUT_MS, &n->msg, n->error, sizeof n->error);
  n->ok = rc == RV_OK;
}

/* --every: one JSON object per sample, asking only the leader once it is known. */
static int s_watch(s_node_t *ns, int n, const cfg_node_t *cfg, const cli_auth_t *auth,
                   long every_ms, double for_secs) {
  int leader = -1;
  int64_t start = s_wall_ms(), next = start;
  for (;;) {
    int64_t now = s_wall_ms();
    if (for_secs > 0 && now - start >= (int64_t)(for_secs * 1000)) return CLI_OK;
    if (now < next) {
      struct timespec ts = {(next - now) / 1000, ((next - now) % 1000) * 1000000};
      nanosleep(&ts, NULL);
      continue;
    }
    next += every_ms;
    if (next < now) next = now + every_ms; /* a slow round: no burst to catch up */
    for (int i = 0; i < n; i++) {
      if (leader >= 0 && i != leader) {
        ns[i].ok = false;
        snprintf(ns[i].error, sizeof ns[i].error, "not asked (--every asks the leader)");
        continue;
      }
      s_ask(&ns[i], auth);
    }
    int found = -1;
    for (int i = 0; i < n; i++) {
      const char *role = ns[i].ok ? ((const Rv__ReplStatus *)ns[i].msg.body)->role : NULL;
      if (role && strcmp(role, "LEADER") == 0) found = i;
    }
    leader = found;
    now = s_wall_ms();
    printf("{\"schema_version\":1,\"time_ms\":%" PRId64 ",\"cluster\":", now);
    s_json_str(cfg ? cfg->cluster_id : NULL);
    printf(",\"nodes\":[");
    bool first = true;
    for (int i = 0; i < n; i++) {
      if (!ns[i].ok && leader >= 0) continue;
      s_json(&ns[i], first, now);
      first = false;
    }
    printf("]}\n");
    fflush(stdout);
    for (int i = 0; i < n; i++) rv_msg_clear(&ns[i].msg);
  }
}

/* ---- --digest ------------------------------------------------------------------------------ */

typedef struct {
  uint64_t h, rows, skipped;
} s_digest_t;

static int s_digest_row(void *arg, const repl_row_t *row) {
  s_digest_t *d = arg;
  if (!kv_chlog_in_scope(row->key, row->klen)) { /* never uploaded; counted if ever seen */
    d->skipped++;
    return 0;
  }
  d->h = kv_digest_row(d->h, row->key, row->klen, row->val, row->vlen);
  d->rows++;
  return 0;
}

static int s_digest(const cfg_node_t *cfg) {
  if (!cfg->ots_endpoint[0]) {
    fprintf(stderr, "raftvisor meta-status: %s: ots.endpoint is not set: no remote copy to read\n",
            cfg->source);
    return CLI_FAILURE;
  }
  repl_backend_cfg_t bc = {.endpoint = cfg->ots_endpoint,
                           .instance = cfg->ots_instance,
                           .access_key_id = cfg->ots_access_key_id,
                           .access_key_secret = cfg->ots_access_key_secret,
                           .cluster_id = cfg->cluster_id};
  rv_err_t err;
  repl_backend_t *b = repl_backend_open(&bc, &err);
  if (!b) {
    fprintf(stderr, "raftvisor meta-status: %s\n", err.msg);
    return CLI_FAILURE;
  }
  int rc = RV_OK;
  repl_meta_t meta;
  s_digest_t d;
  for (int attempt = 0; attempt < 5; attempt++) { /* the copy may move under a scan: again */
    d = (s_digest_t){.h = KV_FNV64_INIT};
    rc = repl_backend_read_meta(b, &meta, &err);
    static uint8_t last[REPL_KEY_MAX], after[REPL_KEY_MAX];
    size_t llen = 0, alen = 0;
    bool done = false;
    while (!rc && !done) {
      rc = repl_backend_scan(b, &meta, after, alen, 10000, s_digest_row, &d, last, &llen, &done,
                             &err);
      memcpy(after, last, llen);
      alen = llen;
    }
    if (rc != RV_ESTALE) break;
  }
  if (rc == RV_ENOTFOUND) {
    fprintf(stderr, "raftvisor meta-status: %s holds no copy of cluster %s yet\n",
            repl_backend_describe(b), cfg->cluster_id);
  } else if (rc) {
    fprintf(stderr, "raftvisor meta-status: %s\n", err.msg);
  } else {
    printf("%016" PRIx64 " %" PRIu64 " remote:%s\n", d.h, meta.synced_index,
           repl_backend_describe(b));
    fprintf(stderr, "%" PRIu64 " rows, generation %" PRIu64 ", epoch %" PRIu64 ", term %" PRIu64
            "%s\n", d.rows, meta.generation, repl_token_epoch(meta.term), repl_token_term(meta.term),
            d.skipped ? " (rows outside the namespace skipped)" : "");
  }
  repl_backend_close(&b);
  return rc ? CLI_FAILURE : CLI_OK;
}

/* ---- main --------------------------------------------------------------------------------- */

int cli_meta_status_main(int argc, char **argv) {
  const char *config = NULL, *nodes = NULL, *key = NULL;
  bool detail = false, json = false, digest = false;
  const char *every_s = NULL, *for_s = NULL;
  const cli_opt_t opts[] = {{"--every", NULL, NULL, &every_s},
                            {"--for", NULL, NULL, &for_s},{"--config", "-c", NULL, &config},
                            {"--nodes", NULL, NULL, &nodes},
                            {"--key", NULL, NULL, &key},
                            {"--detail", NULL, &detail, NULL},
                            {"--json", NULL, &json, NULL},
                            {"--digest", NULL, &digest, NULL},
                            {NULL}};
  int prc = cli_parse("meta-status", argc, argv, opts, s_help, NULL, 0, NULL);
  if (prc) return prc < 0 ? CLI_OK : prc;
  if (!config && !nodes)
    return cli_usage_error("meta-status", "missing -c FILE (a node's YAML) or --nodes LIST");
  if (config && nodes) return cli_usage_error("meta-status", "give -c FILE or --nodes, not both");
  if (digest && !config)
    return cli_usage_error("meta-status", "--digest needs -c FILE (it reads ots.* from it)");
  long every_ms = 0;
  double for_secs = 0;
  if (every_s) {
    char *end;
    every_ms = strtol(every_s, &end, 10);
    if (*end || every_ms < 10 || every_ms > 60000 || !json || digest)
      return cli_usage_error("meta-status", "--every expects 10..60000 ms, with --json");
  }
  if (for_s) {
    char *end;
    for_secs = strtod(for_s, &end);
    if (*end || for_secs <= 0 || for_secs > 86400 || !every_ms)
      return cli_usage_error("meta-status", "--for expects 0 < S <= 86400, with --every");
  }
  cfg_node_t *cfg = NULL;
  if (config) {
    int rc = cli_load_config(config, &cfg);
    if (rc) return rc;
  }
  if (digest) {
    int rc = s_digest(cfg);
    cfg_node_destroy(&cfg);
    return rc;
  }
  s_node_t *ns = calloc(RV_CLIENT_NODES_MAX, sizeof *ns);
  int n = 0;
  if (!ns) return CLI_FAILURE;
  if (cfg) {
    for (int i = 0; i < cfg->nnodes && n < RV_CLIENT_NODES_MAX; i++, n++) {
      const cfg_peer_t *p = &cfg->nodes[i];
      bool v6 = strchr(p->host, ':') != NULL;
      snprintf(ns[n].id, sizeof ns[n].id, "%s", p->id);
      snprintf(ns[n].shown, sizeof ns[n].shown, "%s%s%s:%d", v6 ? "[" : "", p->host,
               v6 ? "]" : "", p->raft_port);
      snprintf(ns[n].address, sizeof ns[n].address, "%s%s%s:%d", v6 ? "[" : "", p->host,
               v6 ? "]" : "", p->client_port);
    }
  } else {
    for (const char *s = nodes; *s && n < RV_CLIENT_NODES_MAX;) {
      size_t k = strcspn(s, ",");
      if (k == 0 || k >= sizeof ns[n].address) {
        free(ns);
        return cli_usage_error("meta-status", "--nodes: expected host:port,..., got \"%s\"",
                               nodes);
      }
      snprintf(ns[n].address, sizeof ns[n].address, "%.*s", (int)k, s);
      snprintf(ns[n].shown, sizeof ns[n].shown, "%s", ns[n].address);
      n++;
      s += k + (s[k] == ',');
    }
  }
  static cli_auth_t auth;
  rv_client_opts_t unused;
  rv_client_opts_default(&unused);
  int arc = cli_auth_load("meta-status", cfg, key, NULL, &auth, &unused);
  if (arc) {
    free(ns);
    cfg_node_destroy(&cfg);
    return arc;
  }
  if (every_ms) {
    int rc = s_watch(ns, n, cfg, &auth, every_ms, for_secs);
    free(ns);
    cfg_node_destroy(&cfg);
    return rc;
  }
  int answered = 0;
  for (int i = 0; i < n; i++) {
    s_ask(&ns[i], &auth);
    answered += ns[i].ok;
  }
  int64_t now = s_wall_ms();
  if (json) {
    printf("{\"schema_version\":1,\"cluster\":");
    s_json_str(cfg ? cfg->cluster_id : NULL);
    printf(",\"nodes\":[");
    for (int i = 0; i < n; i++) s_json(&ns[i], i == 0, now);
    printf("]}\n");
  } else {
    for (int i = 0; i < n; i++) s_line(&ns[i], detail, now);
  }
  for (int i = 0; i < n; i++) rv_msg_clear(&ns[i].msg);
  int rc = answered == n ? CLI_OK : answered ? CLI_FAILURE : CLI_NOT_RUNNING;
  if (rc == CLI_NOT_RUNNING)
    fprintf(stderr, "raftvisor meta-status: no node answered; is the cluster running?\n");
  free(ns);
  cfg_node_destroy(&cfg);
  return rc;
}
