/* rv-ots-server: a strict local Tablestore-protocol server for tests and demos (issue 9).
 *   rv-ots-server --listen 127.0.0.1:PORT --data DIR --instance NAME --access-key-id ID
 *                 --access-key-secret @FILE [--fault-file FILE] [--txn-timeout-ms N]
 *                 [--max-skew-s N]
 * PORT 0 binds a free port; the line "rv-ots-server: listening on HOST:PORT" on stderr says
 * which. Stops cleanly on SIGTERM or SIGINT. Exit codes: 0 clean stop, 2 bad command line,
 * 75 temporary failure (port taken, store locked), 78 configuration error. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv_http.h"

enum { EXIT_USAGE = 2, EXIT_TEMPFAIL = 75, EXIT_CONFIG = 78 };

static int usage(const char *msg) {
  fprintf(stderr,
          "rv-ots-server: %s\nusage: rv-ots-server --listen 127.0.0.1:PORT --data DIR --instance NAME "
          "--access-key-id ID --access-key-secret @FILE [--fault-file FILE] [--txn-timeout-ms N] [--max-skew-s N]\n",
          msg);
  return EXIT_USAGE;
}

static int read_secret(const char *arg, char *out, size_t outlen) {
  if (arg[0] != '@') { fprintf(stderr, "rv-ots-server: --access-key-secret takes @FILE (a secret on the command line is visible to ps)\n"); return -1; }
  FILE *f = fopen(arg + 1, "r");
  if (!f) { fprintf(stderr, "rv-ots-server: --access-key-secret %s: %s\n", arg, strerror(errno)); return -1; }
  size_t n = fread(out, 1, outlen - 1, f);
  fclose(f);
  out[n] = 0;
  out[strcspn(out, "\r\n")] = 0;
  if (!out[0]) { fprintf(stderr, "rv-ots-server: --access-key-secret %s: the file is empty\n", arg); return -1; }
  return 0;
}

static long number(const char *s, long lo, long hi) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  return errno || end == s || *end || v < lo || v > hi ? -1 : v;
}

int main(int argc, char **argv) {
  const char *listen = NULL, *data = NULL, *instance = NULL, *akid = NULL, *secret_arg = NULL, *fault = NULL;
  long txn_ms = 60000, skew_s = 900;
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    if (i + 1 >= argc) return usage("every option takes a value");
    const char *v = argv[++i];
    if (!strcmp(o, "--listen")) listen = v;
    else if (!strcmp(o, "--data")) data = v;
    else if (!strcmp(o, "--instance")) instance = v;
    else if (!strcmp(o, "--access-key-id")) akid = v;
    else if (!strcmp(o, "--access-key-secret")) secret_arg = v;
    else if (!strcmp(o, "--fault-file")) fault = v;
    else if (!strcmp(o, "--txn-timeout-ms")) { if ((txn_ms = number(v, 1, 3600000)) < 0) return usage("--txn-timeout-ms: expected 1..3600000"); }
    else if (!strcmp(o, "--max-skew-s")) { if ((skew_s = number(v, 0, 86400)) < 0) return usage("--max-skew-s: expected 0..86400"); }
    else { fprintf(stderr, "rv-ots-server: unknown option '%s'\n", o); return usage("bad command line"); }
  }
  if (!listen || !data || !instance || !akid || !secret_arg)
    return usage("--listen, --data, --instance, --access-key-id and --access-key-secret are required");
  char host[64];
  const char *colon = strrchr(listen, ':');
  long port = colon ? number(colon + 1, 0, 65535) : -1;
  if (!colon || port < 0 || (size_t)(colon - listen) >= sizeof host) return usage("--listen: expected IPv4:PORT with PORT 0..65535");
  memcpy(host, listen, (size_t)(colon - listen));
  host[colon - listen] = 0;
  size_t il = strlen(instance);
  if (il < 3 || il > 16 || strspn(instance, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != il)
    return usage("--instance: expected 3-16 letters, digits or '-'");
  char secret[256];
  if (read_secret(secret_arg, secret, sizeof secret)) return EXIT_CONFIG;

  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* before any thread starts: they all inherit it */
  signal(SIGPIPE, SIG_IGN);

  srv_t s;
  char err[512];
  if (srv_open(&s, data, err, sizeof err)) { fprintf(stderr, "rv-ots-server: %s\n", err); return EXIT_TEMPFAIL; }
  s.txn_timeout_ms = txn_ms;
  srv_fault_t *f = srv_fault_new(fault);
  srv_http_config_t cfg = {host, (uint16_t)port, instance, akid, secret, skew_s * 1000};
  uint16_t bound = 0;
  srv_http_t *h = srv_http_start(&cfg, &s, f, &bound, err, sizeof err);
  if (!h) {
    fprintf(stderr, "rv-ots-server: %s\n", err);
    srv_fault_destroy(&f);
    srv_close(&s);
    return EXIT_TEMPFAIL;
  }
  fprintf(stderr, "rv-ots-server: listening on %s:%u instance %s data %s%s%s\n", host, (unsigned)bound, instance, data,
          fault ? " fault-file " : "", fault ? fault : "");
  int sig = 0;
  sigwait(&sigs, &sig);
  fprintf(stderr, "rv-ots-server: signal %d, stopping\n", sig);
  srv_http_stop(&h);
  srv_fault_destroy(&f);
  srv_close(&s);
  return 0;
}
