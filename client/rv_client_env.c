/* rv_client_env: CURVE keys for librvclient from the environment (RV_CLIENT_KEY, RV_SERVER_KEYS),
 * for the tools and scripts that take a node list. I/O: reads the key file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_security.h"
#include "rv_client.h"

int rv_client_opts_env(rv_client_opts_t *o, rv_client_env_keys_t *st, rv_err_t *err) {
  memset(st, 0, sizeof *st);
  const char *file = getenv("RV_CLIENT_KEY");
  if (!file || !file[0]) return RV_OK;
  FILE *f = fopen(file, "r");
  if (!f) return rv_err_set(err, RV_EIO, "RV_CLIENT_KEY %s: cannot read: %s", file, strerror(errno));
  char text[4096];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  char why[256];
  int bad = cfg_security_parse_pair(text, st->secret, st->pub, why, sizeof why);
  cfg_security_pair_name(text, st->principal, sizeof st->principal);
  explicit_bzero(text, sizeof text);
  if (bad) return rv_err_set(err, RV_EINVAL, "RV_CLIENT_KEY %s: %s", file, why);
  unsigned k = 0;
  int rc = rv_client_server_keys_parse(getenv("RV_SERVER_KEYS"), st, &k, err);
  if (rc) return rc;
  if (!k) return rv_err_set(err, RV_EINVAL, "RV_CLIENT_KEY is set but RV_SERVER_KEYS is not: "
                            "the nodes' public keys are needed to authenticate them");
  o->curve_secret = st->secret;
  o->curve_public = st->pub;
  o->principal = st->principal;
  o->server_keys = st->keys;
  o->nserver_keys = k;
  return RV_OK;
}

int rv_client_server_keys_parse(const char *list, rv_client_env_keys_t *st, unsigned *n,
                                rv_err_t *err) {
  unsigned k = 0;
  for (const char *s = list ? list : ""; *s;) {
    size_t len = strcspn(s, ",");
    const char *eq = memchr(s, '=', len);
    if (k == RV_CLIENT_NODES_MAX || !eq || (size_t)(s + len - eq - 1) != 40 ||
        (size_t)(eq - s) >= RV_CLIENT_ADDR_MAX)
      return rv_err_set(err, RV_EINVAL, "RV_SERVER_KEYS: expected host:port=KEY,... (at most "
                        "%d, keys of 40 Z85 characters), got \"%.*s\"", RV_CLIENT_NODES_MAX,
                        (int)(len > 80 ? 80 : len), s);
    snprintf(st->addrs[k], sizeof st->addrs[k], "%.*s", (int)(eq - s), s);
    snprintf(st->keys_txt[k], sizeof st->keys_txt[k], "%.40s", eq + 1);
    st->keys[k] = (rv_client_server_key_t){.addr = st->addrs[k], .key = st->keys_txt[k]};
    k++;
    s += len + (s[len] == ',');
  }
  *n = k;
  return RV_OK;
}
