/* fence_ssh: sshfence's ssh command line and remote script (see the header). */
#include "fence_ssh.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char fence_ssh_script[] =
    "# raftvisor sshfence: stop for good the raftvisor node listening on the given ports\n"
    "set -u\n"
    "ports=\"$*\"\n"
    "pids_on() { ss -Hltnp \"sport = :$1\" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | "
    "sort -u; }\n"
    "listened() { [ -n \"$(ss -Hltn \"sport = :$1\" 2>/dev/null)\" ]; }\n"
    "sup_of() { tr '\\0' '\\n' <\"/proc/$1/environ\" 2>/dev/null | "
    "sed -n 's/^RV_SUPERVISOR_PID=//p'; }\n"
    "running() { local st; st=$(sed 's/.*) //' \"/proc/$1/stat\" 2>/dev/null | cut -c1); "
    "[ -n \"$st\" ] && [ \"$st\" != Z ] && [ \"$st\" != X ]; }\n"
    "members() { local d; for d in /proc/[0-9]*; do "
    "tr '\\0' '\\n' <\"$d/environ\" 2>/dev/null | grep -qx \"RV_SUPERVISOR_PID=$1\" && "
    "running \"${d#/proc/}\" && echo \"${d#/proc/}\"; done; }\n"
    "sups=\"\"\n"
    "for p in $ports; do\n"
    "  pids=$(pids_on \"$p\")\n"
    "  if [ -z \"$pids\" ] && listened \"$p\"; then\n"
    "    echo \"port $p is held by a process that $(id -un) cannot see: not fenced\" >&2; exit 1\n"
    "  fi\n"
    "  for pid in $pids; do\n"
    "    s=$(sup_of \"$pid\")\n"
    "    if [ -z \"$s\" ]; then\n"
    "      echo \"port $p is held by pid $pid ($(cat /proc/$pid/comm 2>/dev/null)), not an actor "
    "of a raftvisor node: not fenced\" >&2; exit 1\n"
    "    fi\n"
    "    sups=\"$sups $s\"\n"
    "  done\n"
    "done\n"
    "sups=$(echo $sups | tr ' ' '\\n' | sort -u)\n"
    "if [ -z \"$sups\" ]; then\n"
    "  echo \"nothing of the node runs and nothing listens on ports $ports: fenced\"; exit 0\n"
    "fi\n"
    "for s in $sups; do kill -STOP \"$s\" 2>/dev/null; done\n"
    "for s in $sups; do\n"
    "  m=$(members \"$s\")\n"
    "  echo \"killing supervisor pid $s (stopped first, so it restarts nothing) and its "
    "processes:\" $m\n"
    "  kill -KILL \"$s\" $m 2>/dev/null\n"
    "done\n"
    "deadline=$((SECONDS + 10))\n"
    "while :; do\n"
    "  left=\"\"\n"
    "  for s in $sups; do running \"$s\" && left=\"$left $s\"; left=\"$left $(members \"$s\")\"; "
    "done\n"
    "  for p in $ports; do listened \"$p\" && left=\"$left port:$p\"; done\n"
    "  left=$(echo $left)\n"
    "  [ -z \"$left\" ] && break\n"
    "  if [ $SECONDS -ge $deadline ]; then echo \"still running after 10 s: $left\" >&2; exit 1; "
    "fi\n"
    "  sleep 0.05\n"
    "done\n"
    "echo \"fenced: no process of the node runs and nothing listens on ports $ports\"\n"
    "exit 0\n";

/* Appends one printf-formatted argument (NULL when out of memory, caught by the caller). */
static void s_add(char **argv, int *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void s_add(char **argv, int *n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&argv[*n], fmt, ap) < 0) argv[*n] = NULL;
  va_end(ap);
  (*n)++;
}

char **fence_ssh_argv(const cfg_node_t *cfg, const fence_method_t *m, const cfg_peer_t *target,
                      const char *known_hosts) {
  enum { MAX = 40 + 2 * CFG_MAX_SSH_KEYS };
  char **argv = calloc(MAX, sizeof *argv);
  if (!argv) return NULL;
  int n = 0;
  s_add(argv, &n, "ssh");
  s_add(argv, &n, "-T");
  s_add(argv, &n, "-o");
  s_add(argv, &n, "BatchMode=yes");
  s_add(argv, &n, "-o");
  s_add(argv, &n, "ConnectTimeout=%d", (cfg->ssh_connect_timeout_ms + 999) / 1000);
  s_add(argv, &n, "-o");
  s_add(argv, &n, "StrictHostKeyChecking=accept-new");
  s_add(argv, &n, "-o");
  s_add(argv, &n, "UserKnownHostsFile=%s", known_hosts);
  s_add(argv, &n, "-o");
  s_add(argv, &n, "IdentitiesOnly=yes");
  s_add(argv, &n, "-o");
  s_add(argv, &n, "PasswordAuthentication=no");
  for (int i = 0; i < cfg->nssh_private_key_files; i++) {
    s_add(argv, &n, "-i");
    s_add(argv, &n, "%s", cfg->ssh_private_key_files[i]);
  }
  s_add(argv, &n, "-p");
  s_add(argv, &n, "%d", m->port);
  if (m->user[0]) {
    s_add(argv, &n, "-l");
    s_add(argv, &n, "%s", m->user);
  }
  s_add(argv, &n, "%s", target->host);
  s_add(argv, &n, "bash -s -- %d %d", target->raft_port, target->client_port);
  for (int i = 0; i < n; i++)
    if (!argv[i]) { /* free every argument, the NULL ones skipped */
      for (int j = 0; j < n; j++) free(argv[j]);
      free(argv);
      return NULL;
    }
  return argv;
}

void fence_ssh_argv_free(char ***argv) {
  if (!argv || !*argv) return;
  for (char **a = *argv; *a; a++) free(*a);
  free(*argv);
  *argv = NULL;
}
