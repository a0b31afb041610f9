/* raftvisor: the command-line entry point; dispatches to one file per subcommand.
 * Built twice (supervisor/CMakeLists.txt): raftvisor-node has every command; raftvisor
 * (RV_CLI_LIGHT) has all but start, snapshot and meta-status, which need RocksDB, libcurl or
 * libmicrohttpd, and hands those to raftvisor-node beside it (s_in_node_program). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define S_VERSION "0.1.0"

static int s_version_main(int argc, char **argv) {
  if (argc > 1 && cli_is_help(argv[1])) {
    printf("usage: raftvisor version\nPrints the version of raftvisor (also: raftvisor "
           "--version).\n");
    return CLI_OK;
  }
  if (argc > 1) return cli_usage_error("version", "unexpected argument \"%s\"", argv[1]);
  printf("raftvisor %s\n", S_VERSION);
  return CLI_OK;
}

#ifdef RV_CLI_LIGHT
/* Runs `raftvisor CMD ARGS...` as raftvisor-node, found beside this program, in this process
 * (execv: the pid a caller or systemd sees stays the same). argv[0] is CMD. Returns only when
 * the program cannot be run, saying why. */
static int s_in_node_program(int argc, char **argv) {
  char self[PATH_MAX], path[PATH_MAX + 32];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    fprintf(stderr, "raftvisor %s: cannot find this program's directory (/proc/self/exe: %s), "
            "where raftvisor-node is\n", argv[0], strerror(errno));
    return CLI_FAILURE;
  }
  self[n] = '\0';
  char *slash = strrchr(self, '/');
  if (slash) *slash = '\0';
  snprintf(path, sizeof path, "%s/raftvisor-node", slash ? self : ".");
  char *nargv[argc + 2];
  nargv[0] = "raftvisor";
  for (int i = 0; i < argc; i++) nargv[i + 1] = argv[i];
  nargv[argc + 1] = NULL;
  fflush(stdout);
  fflush(stderr);
  execv(path, nargv);
  fprintf(stderr, "raftvisor %s: cannot run %s: %s (raftvisor-node is built and installed "
          "beside raftvisor; rebuild with scripts/build.sh or reinstall both)\n",
          argv[0], path, strerror(errno));
  return CLI_FAILURE;
}
#define S_NODE(main) s_in_node_program
#else
#define S_NODE(main) main
#endif

static const cli_command_t s_commands[] = {
    {"start", "start a node: its supervisor and actors (foreground, or --daemon)", S_NODE(cli_start_main)},
    {"stop", "stop a running node gracefully (actors in reverse start order)", cli_stop_main},
    {"status", "show a node's actors: pid, state, uptime, restarts, last exit, health",
     cli_status_main},
    {"restart", "restart one actor of a running node", cli_restart_main},
    {"raft", "Raft membership through the leader: add-learner, promote, remove, transfer NODE",
     cli_raft_main},
    {"fence", "fence another node with the configured methods (ha.fencing.methods), now",
     cli_fence_main},
    {"haadmin", "HA administration as 'hdfs haadmin': -getServiceState, -failover, -checkHealth, ...",
     cli_haadmin_main},
    {"tap", "print the messages that a node's actors send and receive, live", cli_tap_main},
    {"config", "check a node's YAML, print its effective values, or document every key",
     cli_config_main},
    {"fs", "the namespace, as 'hadoop fs': -mkdir, -put, -cat, -ls, -stat, -rm, -mv, -count",
     cli_fs_main},
    {"bench", "throughput and latency as clients see them (create, stat, mixed, bulk-load)",
     cli_bench_main},
    {"endpoints", "every node of the cluster asked over the network: role, term, lag, health",
     cli_endpoints_main},
    {"snapshot", "backups: save a consistent image from a node, verify it, restore a new node",
     S_NODE(cli_snapshot_main)},
    {"keys", "make a CURVE key pair for a node or a client: keys gen [--out DIR] NAME",
     cli_keys_main},
    {"meta-status", "the off-cluster replica on every node: _synced, lag, backlog; --digest",
     S_NODE(cli_meta_status_main)},
    {"finish-recovery", "leave recovery mode (a cluster rebuilt from its remote copy, state FINISH)",
     cli_recovery_main},
    {"version", "print the version of raftvisor", s_version_main},
};
#define S_NCOMMANDS (sizeof s_commands / sizeof s_commands[0])

static void s_help(FILE *f) {
  fprintf(f,
          "usage: raftvisor COMMAND [OPTIONS]\n"
          "A highly available file-system namespace, replicated by Raft, run as supervised "
          "actors.\n\ncommands:\n");
  for (size_t i = 0; i < S_NCOMMANDS; i++)
    fprintf(f, "  %-9s %s\n", s_commands[i].name, s_commands[i].summary);
  fprintf(f,
          "\noptions:\n"
          "  -h, --help  this text; 'raftvisor COMMAND --help' describes a command\n"
          "  --version   print the version and exit\n"
          "\nexit codes: 0 ok, 1 failure, 2 usage error, 3 node not running\n");
}

/* "--name=value" becomes "--name" "value" for every subcommand's parser, as GNU getopt_long
 * takes it; "--" ends the options (what follows is left alone). Returns the new argv (static
 * storage, NULL-terminated) and sets *argc. */
static char **s_split_long_options(int *argc, char **argv) {
  static char *out[2 * 256 + 1];
  static char names[256][64];
  int n = 0, k = 0;
  bool options = true;
  for (int i = 0; i < *argc && n < 2 * 256 - 1; i++) {
    char *a = argv[i], *eq = strchr(a, '=');
    if (options && strcmp(a, "--") == 0) options = false;
    size_t len = eq ? (size_t)(eq - a) : 0;
    if (options && i > 0 && strncmp(a, "--", 2) == 0 && eq && len > 2 && len < sizeof names[0] &&
        k < 256 && strspn(a + 2, "abcdefghijklmnopqrstuvwxyz-") == len - 2) {
      memcpy(names[k], a, len);
      names[k][len] = '\0';
      out[n++] = names[k++];
      out[n++] = eq + 1;
    } else {
      out[n++] = a;
    }
  }
  out[n] = NULL;
  *argc = n;
  return out;
}

int main(int argc, char **argv) {
  argv = s_split_long_options(&argc, argv);
  if (argc < 2) {
    s_help(stderr);
    return CLI_USAGE;
  }
  if (cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
    if (argc > 2 && strcmp(argv[1], "help") == 0) {
      for (size_t i = 0; i < S_NCOMMANDS; i++)
        if (strcmp(argv[2], s_commands[i].name) == 0) {
          char *hargv[] = {argv[2], "--help", NULL};
          return s_commands[i].main(2, hargv);
        }
    }
    s_help(stdout);
    return CLI_OK;
  }
  if (strcmp(argv[1], "--version") == 0) return s_version_main(1, argv);
  for (size_t i = 0; i < S_NCOMMANDS; i++)
    if (strcmp(argv[1], s_commands[i].name) == 0) return s_commands[i].main(argc - 1, argv + 1);
  fprintf(stderr, "raftvisor: unknown command \"%s\" (try 'raftvisor --help')\n", argv[1]);
  return CLI_USAGE;
}
