/* rv_auth: the authentication decisions over a cfg_node_t (keys -> node or principal; routing
 * id vs the key's node). Pure: see the header. */
#include "rv_auth.h"

#include <stdio.h>
#include <string.h>

static const char s_z85[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

char *rv_auth_z85(const uint8_t key[32], char *out) {
  size_t o = 0;
  for (size_t i = 0; i < 32; i += 4) { /* ZeroMQ RFC 32: 4 bytes, big-endian, as 5 digits */
    uint32_t v = (uint32_t)key[i] << 24 | (uint32_t)key[i + 1] << 16 |
                 (uint32_t)key[i + 2] << 8 | key[i + 3];
    for (int d = 4; d >= 0; d--) {
      out[o + (size_t)d] = s_z85[v % 85];
      v /= 85;
    }
    o += 5;
  }
  out[o] = '\0';
  return out;
}

bool rv_auth_decide(const cfg_node_t *cfg, const char *domain, const char *mechanism,
                    const uint8_t *key, size_t keylen, char *user, size_t len, char *why,
                    size_t wlen) {
  user[0] = '\0';
  bool raft = !strcmp(domain, RV_AUTH_DOMAIN_RAFT), client = !strcmp(domain, RV_AUTH_DOMAIN_CLIENT);
  if (!raft && !client) {
    snprintf(why, wlen, "unknown ZAP domain \"%.64s\"", domain);
    return false;
  }
  if (strcmp(mechanism, "CURVE") != 0 || keylen != 32) {
    snprintf(why, wlen, "a %.16s handshake without a CURVE key (only CURVE is accepted)",
             mechanism);
    return false;
  }
  char z85[CFG_KEY_Z85_LEN + 1];
  rv_auth_z85(key, z85);
  for (int i = 0; i < cfg->nnodes; i++) {
    if (strcmp(cfg->nodes[i].public_key, z85) != 0) continue;
    if (client) {
      snprintf(why, wlen, "key %s is node %s's, not a client's (security.clients)", z85,
               cfg->nodes[i].id);
      return false;
    }
    snprintf(user, len, "%s%s", RV_AUTH_NODE_PREFIX, cfg->nodes[i].id);
    return true;
  }
  if (client)
    for (int i = 0; i < cfg->nclients; i++)
      if (!strcmp(cfg->clients[i].key, z85)) {
        snprintf(user, len, "%s", cfg->clients[i].principal);
        return true;
      }
  snprintf(why, wlen, "unknown key %s (not in %s)", z85,
           raft ? "cluster.nodes[].public-key" : "security.clients");
  return false;
}

int rv_auth_peer_node(const cfg_node_t *cfg, const uint8_t *id, size_t idlen, const char *user,
                      char *why, size_t wlen) {
  size_t cl = strlen(cfg->cluster_id);
  int who = -1;
  if (idlen > cl + 1 && !memcmp(id, cfg->cluster_id, cl) && id[cl] == '/')
    for (int i = 0; i < cfg->nnodes && who < 0; i++)
      if (i != cfg->self && strlen(cfg->nodes[i].id) == idlen - cl - 1 &&
          !memcmp(id + cl + 1, cfg->nodes[i].id, idlen - cl - 1))
        who = i;
  /* what the peer claims, printable, for messages: at most 64 bytes, others as '?' */
  char claim[65];
  size_t n = idlen < 64 ? idlen : 64;
  for (size_t i = 0; i < n; i++) claim[i] = id[i] >= 0x20 && id[i] < 0x7f ? (char)id[i] : '?';
  claim[n] = '\0';
  if (who < 0) {
    snprintf(why, wlen, "a frame from \"%s\", not a node of cluster %s", claim, cfg->cluster_id);
    return -1;
  }
  if (cfg->security_insecure) return who;
  size_t pl = strlen(RV_AUTH_NODE_PREFIX);
  if (!user || strncmp(user, RV_AUTH_NODE_PREFIX, pl) != 0 ||
      strcmp(user + pl, cfg->nodes[who].id) != 0) {
    snprintf(why, wlen, "a frame presenting id \"%s\" over a connection authenticated as "
             "\"%.64s\": a node's key may speak only as that node", claim,
             user && user[0] ? user : "(nobody)");
    return -1;
  }
  return who;
}
