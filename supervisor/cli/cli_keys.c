/* raftvisor keys gen [--out DIR] NAME: a CURVE key pair for a node or a client, written with
 * czmq's zcert as two ZPL files: DIR/NAME.secret (the pair; mode 0600, what security.key and
 * security.client-key name) and DIR/NAME.pub (the public half, to hand around). Prints the
 * public key (Z85), the value of cluster.nodes[].public-key or security.clients[].key; never the
 * secret. Refuses to overwrite a key file. I/O shell over zcert. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <czmq.h>

#include "cfg_security.h"
#include "cli.h"

static void s_help(void) {
  printf(
      "usage: raftvisor keys gen [--out DIR] NAME\n"
      "Writes a new CURVE key pair (ZeroMQ's CurveZMQ, with czmq's zcert) for node or client\n"
      "NAME: DIR/NAME.secret (the pair, mode 0600: security.key of node NAME, or the\n"
      "security.client-key of a client) and DIR/NAME.pub (the public half). Prints the public\n"
      "key, as cluster.nodes[].public-key and security.clients[].key take it. The secret is\n"
      "never printed. An existing file is never overwritten.\n"
      "  --out DIR   where to write (default: the current directory; created 0700 if missing)\n"
      "  --json      print {\"name\":..., \"public_key\":..., \"secret_file\":..., \"public_file\":...}\n"
      "Exit codes: 0 written, 1 not written (the reason on stderr), 2 usage error.\n");
}

static int s_gen(const char *dir, const char *name, bool json) {
  char why[256], secret[CFG_PATH_MAX], pub[CFG_PATH_MAX];
  if (cfg_security_check_principal(name, why, sizeof why))
    return cli_usage_error("keys", "NAME: %s", why);
  if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
    fprintf(stderr, "raftvisor keys: cannot create directory %s: %s\n", dir, strerror(errno));
    return CLI_FAILURE;
  }
  if (snprintf(secret, sizeof secret, "%s/%s.secret", dir, name) >= (int)sizeof secret ||
      snprintf(pub, sizeof pub, "%s/%s.pub", dir, name) >= (int)sizeof pub)
    return cli_usage_error("keys", "--out DIR: path too long");
  const char *files[] = {secret, pub};
  for (int i = 0; i < 2; i++)
    if (access(files[i], F_OK) == 0) {
      fprintf(stderr, "raftvisor keys: %s exists; a key file is never overwritten (remove it "
                      "first if you mean to replace the key)\n", files[i]);
      return CLI_FAILURE;
    }
  zcert_t *cert = zcert_new();
  if (!cert) {
    fprintf(stderr, "raftvisor keys: cannot make a key pair (is libzmq built with CURVE?)\n");
    return CLI_FAILURE;
  }
  zcert_set_meta(cert, "name", "%s", name);
  /* zcert writes the secret file under a private umask; the chmod makes sure, whatever it did */
  mode_t old = umask(077);
  const char *failed = NULL;
  if (zcert_save_secret(cert, secret) != 0 || chmod(secret, 0600) != 0) failed = secret;
  umask(old);
  if (!failed && zcert_save_public(cert, pub) != 0) failed = pub;
  if (failed) {
    fprintf(stderr, "raftvisor keys: cannot write %s: %s\n", failed, strerror(errno));
    unlink(secret);
    zcert_destroy(&cert);
    return CLI_FAILURE;
  }
  if (json)
    printf("{\"name\":\"%s\",\"public_key\":\"%s\",\"secret_file\":\"%s\",\"public_file\":\"%s\"}\n",
           name, zcert_public_txt(cert), secret, pub);
  else
    printf("%s\n", zcert_public_txt(cert));
  zcert_destroy(&cert);
  return CLI_OK;
}

int cli_keys_main(int argc, char **argv) {
  const char *out = ".", *pos[2] = {NULL, NULL};
  bool json = false;
  int npos = 0;
  const cli_opt_t opts[] = {{"--out", NULL, NULL, &out}, {"--json", NULL, &json, NULL}, {NULL}};
  int prc = cli_parse("keys", argc, argv, opts, s_help, pos, 2, &npos);
  if (prc) return prc < 0 ? CLI_OK : prc;
  if (npos < 1) return cli_usage_error("keys", "missing the action: gen");
  if (strcmp(pos[0], "gen") != 0)
    return cli_usage_error("keys", "unknown action \"%s\"; expected gen", pos[0]);
  if (npos < 2 || !pos[1][0])
    return cli_usage_error("keys", "missing NAME (a node id, or a client's principal)");
  return s_gen(out[0] ? out : ".", pos[1], json);
}
