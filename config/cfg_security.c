/* cfg_security: Z85 keys, principals and zcert secret files, checked as text. Pure. */
#include "cfg_security.h"

#include <stdio.h>
#include <string.h>

/* The Z85 alphabet (ZeroMQ RFC 32). */
static const char s_z85[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

static bool s_is_key(const char *s, size_t n) {
  if (n != CFG_KEY_Z85_LEN) return false;
  for (size_t i = 0; i < n; i++)
    if (!s[i] || !strchr(s_z85, s[i])) return false;
  return true;
}

int cfg_security_check_key(const char *text, char *why, size_t len) {
  if (!text[0] || s_is_key(text, strlen(text))) return 0;
  size_t n = strlen(text);
  snprintf(why, len, "expected a CURVE public key (%d characters of Z85, as `raftvisor keys gen` "
           "prints it), got %zu characters%s", CFG_KEY_Z85_LEN, n,
           n == CFG_KEY_Z85_LEN ? " with one outside the Z85 alphabet" : "");
  return -1;
}

int cfg_security_check_principal(const char *text, char *why, size_t len) {
  size_t n = strlen(text);
  bool ok = n >= 1 && n <= CFG_PRINCIPAL_MAX && strncmp(text, "node:", 5) != 0;
  for (size_t i = 0; ok && i < n; i++)
    ok = (text[i] >= 'a' && text[i] <= 'z') || (text[i] >= 'A' && text[i] <= 'Z') ||
         (text[i] >= '0' && text[i] <= '9') || strchr("._@-", text[i]);
  if (ok) return 0;
  snprintf(why, len, "expected a principal of 1..%d characters of [A-Za-z0-9._@-] (\"node:\" is "
           "reserved), got \"%.*s\"%s", CFG_PRINCIPAL_MAX, n > 64 ? 64 : (int)n, text,
           n > 64 ? "..." : "");
  return -1;
}

/* The value of `name = "value"` on a line of text (ZPL, as czmq writes it), into out[len]:
 * 1 found, 0 absent, -1 found but not a key. */
static int s_zpl_key(const char *text, const char *name, char *out) {
  size_t nl = strlen(name);
  for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
    const char *s = line;
    while (*s == ' ' || *s == '\t') s++;
    if (strncmp(s, name, nl) != 0) continue;
    s += nl;
    while (*s == ' ' || *s == '\t') s++;
    if (*s != '=') continue;
    s++;
    while (*s == ' ' || *s == '\t') s++;
    char quote = (*s == '"' || *s == '\'') ? *s++ : 0;
    size_t n = quote ? strcspn(s, (char[]){quote, '\n', 0}) : strcspn(s, " \t\r\n#");
    if (!s_is_key(s, n)) return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    return 1;
  }
  return 0;
}

int cfg_security_parse_pair(const char *text, char *secret_z85, char *public_z85, char *why,
                            size_t len) {
  int pub = s_zpl_key(text, "public-key", public_z85);
  int sec = s_zpl_key(text, "secret-key", secret_z85);
  if (pub == 1 && sec == 1) return 0;
  if (pub == 1 && sec == 0)
    snprintf(why, len, "this is a public certificate (no secret-key): name the secret file "
             "`raftvisor keys gen` wrote (NAME.secret)");
  else if (pub < 0 || sec < 0)
    snprintf(why, len, "the %s in the key file is not %d characters of Z85",
             pub < 0 ? "public-key" : "secret-key", CFG_KEY_Z85_LEN);
  else
    snprintf(why, len, "expected a CURVE key pair as `raftvisor keys gen` writes it "
             "(curve: public-key = \"...\", secret-key = \"...\"), found %s",
             pub == 1 ? "no secret-key" : "no public-key");
  return -1;
}

int cfg_security_parse_public(const char *text, char *public_z85, char *why, size_t len) {
  char secret[CFG_KEY_Z85_LEN + 1];
  int pub = s_zpl_key(text, "public-key", public_z85);
  int sec = s_zpl_key(text, "secret-key", secret);
  explicit_bzero(secret, sizeof secret);
  if (sec != 0) {
    snprintf(why, len, "holds a secret-key: this is a secret file (NAME.secret); only public "
             "certificates (NAME.pub) belong here: move it away and keep it private");
    return -1;
  }
  if (pub == 1) return 0;
  if (pub < 0)
    snprintf(why, len, "its public-key is not %d characters of Z85", CFG_KEY_Z85_LEN);
  else
    snprintf(why, len, "no public-key: expected a public certificate as `raftvisor keys gen` "
             "writes it (curve: public-key = \"...\")");
  return -1;
}

/* Names client i of cfg in a message: its inline entry, or its file in dir. */
static void s_client_name(const cfg_node_t *cfg, int i, const char *dir, char *out, size_t len) {
  if (i < cfg->nclients_inline)
    snprintf(out, len, "security.clients[%d] (%s)", i, cfg->clients[i].principal);
  else
    snprintf(out, len, "%s/%s.pub", dir, cfg->clients[i].principal);
}

int cfg_security_add_client(cfg_node_t *cfg, const char *principal, const char *key,
                            const char *dir, char *why, size_t len) {
  char other[CFG_PATH_MAX + 96];
  if (cfg_security_check_principal(principal, why, len)) return -1;
  for (int j = 0; j < cfg->nnodes; j++)
    if (!strcmp(key, cfg->nodes[j].public_key)) {
      snprintf(why, len, "key %s is node %s's key: a client needs its own key pair", key,
               cfg->nodes[j].id);
      return -1;
    }
  for (int j = 0; j < cfg->nclients; j++) {
    if (!strcmp(key, cfg->clients[j].key)) {
      s_client_name(cfg, j, dir, other, sizeof other);
      snprintf(why, len, "key %s is listed already, by %s", key, other);
      return -1;
    }
    if (!strcmp(principal, cfg->clients[j].principal)) {
      s_client_name(cfg, j, dir, other, sizeof other);
      snprintf(why, len, "principal %s is listed already, by %s: give it one key", principal,
               other);
      return -1;
    }
  }
  if (cfg->nclients >= CFG_MAX_CLIENTS_ALL) {
    snprintf(why, len, "more than %d clients in all", CFG_MAX_CLIENTS_ALL);
    return -1;
  }
  cfg_client_t *c = &cfg->clients[cfg->nclients++];
  snprintf(c->principal, sizeof c->principal, "%s", principal);
  snprintf(c->key, sizeof c->key, "%s", key);
  return 0;
}

void cfg_security_pair_name(const char *text, char *out, size_t len) {
  out[0] = '\0';
  for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
    while (*l == ' ' || *l == '\t') l++;
    const char *q = strncmp(l, "name", 4) == 0 ? strchr(l, '"') : NULL;
    if (!q) continue;
    snprintf(out, len, "%.*s", (int)strcspn(q + 1, "\"\n"), q + 1);
    return;
  }
}
