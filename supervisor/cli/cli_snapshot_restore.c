/* raftvisor snapshot restore: seeds a new node's data-dir from a snapshot file, offline (the
 * node is not running; as etcdutl snapshot restore). The file is verified whole first, then read
 * again into <data-dir>/kv (kv-store's bulk loader: ordered pairs straight into SST files) and
 * <data-dir>/raft gets a Raft log holding only that snapshot: its index and term, and the
 * configuration of the YAML's voters. So three nodes restored from one file start as a new
 * cluster that holds exactly the file's namespace, and elect a leader in a later term. */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "cli.h"
#include "cli_snapshot.h"
#include "kv_rocks.h"
#include "kv_schema.h"
#include "raft_store.h"
#include "raft_wire.h"

static void s_help(void) {
  printf(
      "usage: raftvisor snapshot restore FILE --data-dir DIR -c NODE.yaml [--json]\n"
      "Seeds a new node's data-dir from FILE (made by 'raftvisor snapshot save'): the\n"
      "namespace exactly as the file holds it, and a Raft log that starts at the file's index\n"
      "and term with the voters of NODE.yaml's cluster.nodes as its configuration. Restore\n"
      "every node of the new cluster from the same file, then start them: they form a new\n"
      "cluster (NODE.yaml's cluster.id) holding that namespace; 'raftvisor fs -digest' prints\n"
      "the digest 'snapshot status' shows. The file is verified whole before anything is\n"
      "written. DIR (default: NODE.yaml's node.data-dir) must be empty or absent (its parent\n"
      "must exist); it is refused otherwise. If anything fails, what was written is removed.\n"
      "  --data-dir DIR        the new node's data-dir (it must be the YAML's node.data-dir\n"
      "                        when the node starts)\n"
      "  -c, --config FILE     the new node's YAML (node.id, cluster.id, cluster.nodes)\n"
      "  --json                the summary as one JSON object\n"
      "Exit codes: 0 restored, 1 failure (a corrupt file, a non-empty DIR), 2 usage error.\n");
}

static int s_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* Removes path and everything under it (absent is fine). */
static void s_rmtree(const char *path) { nftw(path, s_rm_one, 16, FTW_DEPTH | FTW_PHYS); }

/* 0 when dir is absent (created) or empty; else prints why not and returns CLI_FAILURE. */
static int s_empty_dir(const char *dir, bool *created) {
  *created = false;
  DIR *d = opendir(dir);
  if (!d && errno == ENOENT) {
    if (mkdir(dir, 0750) != 0) {
      fprintf(stderr, "raftvisor snapshot restore: cannot create the data-dir %s: %s (its "
              "parent must exist)\n", dir, strerror(errno));
      return CLI_FAILURE;
    }
    *created = true;
    return CLI_OK;
  }
  if (!d) {
    fprintf(stderr, "raftvisor snapshot restore: data-dir %s: %s\n", dir, strerror(errno));
    return CLI_FAILURE;
  }
  struct dirent *e;
  const char *found = NULL;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      found = e->d_name;
      break;
    }
  int rc = CLI_OK;
  if (found) {
    fprintf(stderr, "raftvisor snapshot restore: the data-dir %s is not empty (it holds "
            "\"%s\"): a restore seeds a new node only; refused\n", dir, found);
    rc = CLI_FAILURE;
  }
  closedir(d);
  return rc;
}

static int s_load_pair(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                       rv_err_t *err) {
  return kv_rocks_loader_put(arg, k, kl, v, vl, err);
}

/* The Raft log of the new node: the snapshot alone, hard state at its term. */
static int s_seed_raft(const cfg_node_t *cfg, const char *dir, const cli_snap_summary_t *s,
                       rv_err_t *err) {
  raft_store_t *st = NULL;
  int rc = raft_store_open(dir, cfg->cluster_id, raft_wire_node_id(cfg->node_id), NULL, &st,
                           err);
  if (rc) return rc;
  raft_update_t u;
  memset(&u, 0, sizeof u);
  u.has_snapshot = true;
  u.snapshot.index = s->h.index;
  u.snapshot.term = s->h.term;
  for (int i = 0; i < cfg->nnodes; i++)
    if (cfg->nodes[i].voter)
      u.snapshot.conf.voters[u.snapshot.conf.n_voters++] = raft_wire_node_id(cfg->nodes[i].id);
  u.has_hard_state = true;
  u.hard.term = s->h.term;
  u.hard.commit = s->h.index;
  u.must_sync = true;
  rc = raft_store_save(st, &u, err);
  raft_store_close(&st);
  return rc;
}

int cli_snapshot_restore_main(int argc, char **argv) {
  const char *config = NULL, *data_dir = NULL, *pos[1];
  bool json = false;
  int npos = 0;
  const cli_opt_t opts[] = {{"--config", "-c", NULL, &config},
                            {"--data-dir", NULL, NULL, &data_dir},
                            {"--json", NULL, &json, NULL},
                            {NULL}};
  int prc = cli_parse("snapshot restore", argc, argv, opts, s_help, pos, 1, &npos);
  if (prc) return prc < 0 ? CLI_OK : prc;
  if (npos != 1) return cli_usage_error("snapshot restore", "expected one FILE");
  if (!config) return cli_usage_error("snapshot restore", "missing -c NODE.yaml (the new node's)");
  const char *file = pos[0];
  cfg_node_t *cfg;
  int rc = cli_load_config(config, &cfg);
  if (rc) return rc;
  if (!data_dir) data_dir = cfg->data_dir;
  cli_snap_summary_t sum;
  rv_err_t err;
  int status = CLI_FAILURE;
  char kv[CFG_PATH_MAX + 16], raft[CFG_PATH_MAX + 16];
  bool created = false, wrote = false;
  if (snprintf(kv, sizeof kv, "%s/kv", data_dir) >= (int)sizeof kv ||
      snprintf(raft, sizeof raft, "%s/raft", data_dir) >= (int)sizeof raft) {
    fprintf(stderr, "raftvisor snapshot restore: --data-dir is too long\n");
    goto out;
  }
  /* everything checked before anything is written */
  if (cli_snap_read(file, NULL, NULL, &sum, &err) != RV_OK) {
    fprintf(stderr, "raftvisor snapshot restore: %s; nothing restored\n", err.msg);
    goto out;
  }
  if (sum.h.store_format > KV_FORMAT) {
    fprintf(stderr, "raftvisor snapshot restore: %s holds a namespace store of format %" PRIu64
            ", newer than this build's (%d); use a raftvisor at least as new as the one that "
            "saved it\n", file, sum.h.store_format, KV_FORMAT);
    goto out;
  }
  if (!sum.h.term || !sum.h.index) {
    fprintf(stderr, "raftvisor snapshot restore: %s has no Raft index or term (index %" PRIu64
            ", term %" PRIu64 "); nothing restored\n", file, sum.h.index, sum.h.term);
    goto out;
  }
  if (s_empty_dir(data_dir, &created)) goto out;
  wrote = true;
  kv_rocks_loader_t *load = NULL;
  if ((rc = kv_rocks_loader_new(kv, 0, &load, &err)) ||
      (rc = cli_snap_read(file, s_load_pair, load, NULL, &err)) ||
      (rc = kv_rocks_loader_finish(load, &err))) {
    kv_rocks_loader_destroy(&load);
    fprintf(stderr, "raftvisor snapshot restore: the namespace into %s: %s\n", kv, err.msg);
    goto out;
  }
  kv_rocks_loader_destroy(&load);
  if ((rc = s_seed_raft(cfg, raft, &sum, &err))) {
    fprintf(stderr, "raftvisor snapshot restore: the Raft log in %s: %s\n", raft, err.msg);
    goto out;
  }
  status = CLI_OK;
  if (!json) {
    cli_snapshot_print(&sum, file, false);
    printf("restored into %s for node %s of cluster %s: Raft log starting at index %" PRIu64
           " (term %" PRIu64 ")\n", data_dir, cfg->node_id, cfg->cluster_id, sum.h.index,
           sum.h.term);
    if (strcmp(data_dir, cfg->data_dir) != 0)
      printf("note: %s names node.data-dir %s; start the node with a YAML naming %s\n", config,
             cfg->data_dir, data_dir);
  } else {
    cli_snapshot_print(&sum, file, true);
  }
out:
  if (status != CLI_OK && wrote) {
    s_rmtree(kv);
    s_rmtree(raft);
    if (created) rmdir(data_dir);
  }
  cfg_node_destroy(&cfg);
  return status;
}
