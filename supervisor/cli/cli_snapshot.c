/* raftvisor snapshot save|status|restore: backups of the namespace, as etcdctl snapshot does.
 * save streams a consistent image from one running node over its client port (kv-store's
 * FS_SNAPSHOT_READ, chunk by chunk: never held whole) into a snapshot file
 * (cli_snapshot_file.h), written atomically; status verifies a file; restore seeds a new node's
 * data-dir from one (cli_snapshot_restore.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_auth.h"
#include "cli_snapshot.h"
#include "cli_snapshot_file.h"
#include "rv_client.h"

#define S_TIMEOUT_MS 5000 /* one chunk from the node */
#define S_RETRY_MS 30000  /* then the save fails */

static void s_help(void) {
  printf(
      "usage: raftvisor snapshot save FILE (-c NODE.yaml | --nodes HOST:PORT) [--json]\n"
      "       raftvisor snapshot status FILE [--json]\n"
      "       raftvisor snapshot restore FILE --data-dir DIR -c NODE.yaml [--json]\n"
      "Backups of the namespace, as 'etcdctl snapshot': 'raftvisor snapshot save --help' and\n"
      "the others describe each. Exit codes: 0 ok, 1 failure (a corrupt file, a refused\n"
      "data-dir, a node that failed the save), 2 usage error, 3 the node could not be reached.\n");
}

void cli_snapshot_print(const cli_snap_summary_t *s, const char *file, bool json) {
  char when[32] = "?";
  time_t t = (time_t)(s->h.created_ms / 1000);
  struct tm tm;
  if (gmtime_r(&t, &tm)) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (json) {
    printf("{\"schema_version\":1,\"file\":");
    cli_json_str(file);
    printf(",\"format_version\":%u,\"cluster\":", s->h.version);
    cli_json_str(s->h.cluster);
    printf(",\"node\":");
    cli_json_str(s->h.node);
    printf(",\"index\":%" PRIu64 ",\"term\":%" PRIu64 ",\"created\":\"%s\",\"store_format\":%"
           PRIu64 ",\"pairs\":%" PRIu64 ",\"entries\":%" PRIu64 ",\"size\":%" PRIu64
           ",\"crc32\":\"%08x\",\"digest\":\"%016" PRIx64 "\"}\n",
           s->h.index, s->h.term, when, s->h.store_format, s->pairs, s->dirs_files,
           s->file_bytes, s->crc, s->digest);
    return;
  }
  printf("file:            %s\n"
         "format version:  %u\n"
         "cluster:         %s (saved from node %s at %s)\n"
         "raft index:      %" PRIu64 "\n"
         "raft term:       %" PRIu64 "\n"
         "store format:    %" PRIu64 "\n"
         "pairs:           %" PRIu64 " (%" PRIu64 " directories and files)\n"
         "size:            %" PRIu64 " bytes\n"
         "crc32:           %08x\n"
         "digest:          %016" PRIx64 " (as 'raftvisor fs -digest' prints it at index %"
         PRIu64 ")\n",
         file, s->h.version, s->h.cluster, s->h.node, when, s->h.index, s->h.term,
         s->h.store_format, s->pairs, s->dirs_files, s->file_bytes, s->crc, s->digest,
         s->h.index);
}

/* ---- save ---------------------------------------------------------------------------------- */

static void s_save_help(void) {
  printf(
      "usage: raftvisor snapshot save FILE (-c NODE.yaml | --nodes HOST:PORT) [--json]\n"
      "Saves a consistent image of the namespace from one running node (the YAML's own node,\n"
      "or the first of --nodes) into FILE: every directory, file, attribute and content, and\n"
      "the client sessions, as that node has applied them up to one Raft index, with that\n"
      "index, its term, the cluster's name and checksums. The image is streamed from the\n"
      "node (a consistent RocksDB view, read chunk by chunk) into FILE.part, which is fsynced\n"
      "and renamed to FILE at the end: FILE is complete or absent. Progress goes to stderr\n"
      "when it is a terminal. Then prints what 'raftvisor snapshot status FILE' prints.\n"
      "  -c, --config FILE   a node's YAML: the image comes from that node\n"
      "  --nodes HOST:PORT   a node's client address instead (the first of a list)\n"
      "  --key FILE          our CURVE key pair (default: $RV_CLIENT_KEY, else the YAML's\n"
      "                      security.client-key)\n"
      "  --server-key H:P=K  the node's public key with --nodes (default: $RV_SERVER_KEYS)\n"
      "  --json              the summary as one JSON object\n"
      "Exit codes: 0 saved, 1 failure, 2 usage error, 3 the node could not be reached.\n");
}

static int s_save(int argc, char **argv) {
  const char *config = NULL, *nodes = NULL, *key = NULL, *server_key = NULL, *pos[1];
  bool json = false;
  int npos = 0;
  const cli_opt_t opts[] = {{"--config", "-c", NULL, &config},
                            {"--nodes", NULL, NULL, &nodes},
                            {"--key", NULL, NULL, &key},
                            {"--server-key", NULL, NULL, &server_key},
                            {"--json", NULL, &json, NULL},
                            {NULL}};
  int prc = cli_parse("snapshot save", argc, argv, opts, s_save_help, pos, 1, &npos);
  if (prc) return prc < 0 ? CLI_OK : prc;
  if (npos != 1) return cli_usage_error("snapshot save", "expected one FILE");
  if (!config == !nodes)
    return cli_usage_error("snapshot save", "give either -c NODE.yaml or --nodes HOST:PORT");
  const char *file = pos[0];
  char list[RV_CLIENT_NODES_MAX * RV_CLIENT_ADDR_MAX], addrs[RV_CLIENT_NODES_MAX][RV_CLIENT_ADDR_MAX];
  rv_err_t err;
  int n = 0;
  rv_client_opts_t o;
  rv_client_opts_default(&o);
  o.timeout_ms = S_TIMEOUT_MS;
  o.retry_ms = S_RETRY_MS;
  static cli_auth_t auth; /* CURVE: our key pair and the node's public key (o borrows them) */
  if (config) {
    cfg_node_t *cfg;
    int rc = cli_load_config(config, &cfg);
    if (rc) return rc;
    cli_cluster_nodes(cfg, list, sizeof list);
    rc = cli_auth_load("snapshot save", cfg, key, server_key, &auth, &o);
    cfg_node_destroy(&cfg);
    if (rc) return rc;
  } else {
    snprintf(list, sizeof list, "%s", nodes);
    int rc = cli_auth_load("snapshot save", NULL, key, server_key, &auth, &o);
    if (rc) return rc;
  }
  if (rv_client_nodes_parse(list, addrs, &n, &err) != RV_OK || n < 1)
    return cli_usage_error("snapshot save", "--nodes: %s", err.msg);
  rv_client_t *c = NULL;
  if (rv_client_new(addrs[0], &o, &c, &err) != RV_OK) {
    fprintf(stderr, "raftvisor snapshot save: %s\n", err.msg);
    return CLI_FAILURE;
  }
  uint64_t stream = 0;
  while (!stream)
    if (getrandom(&stream, sizeof stream, 0) != sizeof stream) stream = (uint64_t)time(NULL);
  bool tty = isatty(STDERR_FILENO);
  cli_snap_writer_t *w = NULL;
  cli_snap_header_t first;
  memset(&first, 0, sizeof first);
  rv_client_result_t res = {0};
  int status = CLI_OK;
  uint64_t offset = 0;
  for (;;) {
    rv_client_req_t q = {.op = RV_CLIENT_SNAPSHOT_READ,
                         .snapshot_stream = stream,
                         .snapshot_offset = offset};
    rv_client_result_clear(&res); /* the chunk before (rv_client_call zeroes, not frees) */
    rv_client_call(c, &q, &res);
    if (res.code != RV_OK) {
      bool unreachable = res.code == RV_ETIMEDOUT && res.attempts == 0;
      fprintf(stderr, "raftvisor snapshot save: %s at offset %" PRIu64 ": %s%s\n", addrs[0],
              offset, res.msg, unreachable ? "; is the node running?" : "");
      status = unreachable ? CLI_NOT_RUNNING : CLI_FAILURE;
      break;
    }
    const rv_client_image_t *im = &res.image;
    if (!w) {
      snprintf(first.cluster, sizeof first.cluster, "%s", im->cluster);
      snprintf(first.node, sizeof first.node, "%s", im->node);
      first.index = im->index;
      first.term = im->term;
      first.store_format = im->store_format;
      first.created_ms = (uint64_t)time(NULL) * 1000;
      if (cli_snap_writer_open(file, &first, &w, &err) != RV_OK) {
        fprintf(stderr, "raftvisor snapshot save: %s\n", err.msg);
        status = CLI_FAILURE;
        break;
      }
    } else if (im->index != first.index || im->term != first.term ||
               strcmp(im->node, first.node) != 0 || im->offset != offset) {
      fprintf(stderr, "raftvisor snapshot save: the node answered offset %" PRIu64 " of a "
              "different view (node %s, index %" PRIu64 ") than the save began with (node %s, "
              "index %" PRIu64 ", offset %" PRIu64 "); nothing saved\n", im->offset, im->node,
              im->index, first.node, first.index, offset);
      status = CLI_FAILURE;
      break;
    }
    if (cli_snap_writer_block(w, res.content, res.len, &err) != RV_OK) {
      fprintf(stderr, "raftvisor snapshot save: the chunk at offset %" PRIu64 " from %s: %s\n",
              offset, addrs[0], err.msg);
      status = CLI_FAILURE;
      break;
    }
    offset += res.len;
    if (tty) {
      fprintf(stderr, "\rsaving index %" PRIu64 " from %s: %.1f MB written", first.index,
              first.node, (double)cli_snap_writer_bytes(w) / 1e6);
      if (im->estimated_keys)
        fprintf(stderr, " (about %" PRIu64 " keys in all)", im->estimated_keys);
    }
    if (im->last) break;
  }
  if (tty && w) fputc('\n', stderr);
  cli_snap_summary_t sum;
  if (status == CLI_OK && cli_snap_writer_finish(w, &sum, &err) != RV_OK) {
    fprintf(stderr, "raftvisor snapshot save: %s\n", err.msg);
    status = CLI_FAILURE;
  }
  if (status == CLI_OK) cli_snapshot_print(&sum, file, json);
  cli_snap_writer_destroy(&w);
  rv_client_result_clear(&res);
  rv_client_destroy(&c);
  return status;
}

/* ---- status -------------------------------------------------------------------------------- */

static void s_status_help(void) {
  printf(
      "usage: raftvisor snapshot status FILE [--json]\n"
      "Reads FILE whole and verifies it: its format version, the header's, every block's and\n"
      "the whole file's CRC-32, every pair's encoding and key order, the totals at its end.\n"
      "Prints the format version, cluster, node, Raft index and term, store format, pairs,\n"
      "entries (directories and files), size, CRC-32 and the namespace digest (the one\n"
      "'raftvisor fs -digest' prints: a node at the same index must print the same).\n"
      "  --json   one JSON object: schema_version, file, format_version, cluster, node,\n"
      "           index, term, created, store_format, pairs, entries, size, crc32, digest\n"
      "A damaged, truncated or foreign file is refused naming the byte offset (exit 1).\n");
}

static int s_status(int argc, char **argv) {
  const char *pos[1];
  bool json = false;
  int npos = 0;
  const cli_opt_t opts[] = {{"--json", NULL, &json, NULL}, {NULL}};
  int prc = cli_parse("snapshot status", argc, argv, opts, s_status_help, pos, 1, &npos);
  if (prc) return prc < 0 ? CLI_OK : prc;
  if (npos != 1) return cli_usage_error("snapshot status", "expected one FILE");
  cli_snap_summary_t sum;
  rv_err_t err;
  if (cli_snap_read(pos[0], NULL, NULL, &sum, &err) != RV_OK) {
    fprintf(stderr, "raftvisor snapshot status: %s\n", err.msg);
    return CLI_FAILURE;
  }
  cli_snapshot_print(&sum, pos[0], json);
  return CLI_OK;
}

int cli_snapshot_main(int argc, char **argv) {
  if (argc < 2 || cli_is_help(argv[1])) {
    s_help();
    return argc < 2 ? CLI_USAGE : CLI_OK;
  }
  if (strcmp(argv[1], "save") == 0) return s_save(argc - 1, argv + 1);
  if (strcmp(argv[1], "status") == 0) return s_status(argc - 1, argv + 1);
  if (strcmp(argv[1], "restore") == 0) return cli_snapshot_restore_main(argc - 1, argv + 1);
  return cli_usage_error("snapshot", "unknown subcommand \"%s\" (save, status, restore)",
                         argv[1]);
}
