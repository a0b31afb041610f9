/* kv_auth: who a client request is for, as this server decides it: the principal its
 * connection authenticated (rv_listener_peer_t.principal, CURVE), or, only in a cluster whose
 * YAML says security.insecure: true, the user the request asserts (FsRequest.user). Its groups
 * come from the server's YAML (security.groups), never from the client; the superuser and the
 * permissions switch too. The leader stamps all of it into the commands it proposes
 * (kv_auth_stamp), so every replica's apply decides the same whatever its own YAML says.
 * I/O shell (configuration only; no sockets). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv_actor_int.h"

/* The groups security.groups gives user ("user=g1,g2"), into p. */
static void s_groups_of(const cfg_node_t *cfg, const char *user, kv_principal_t *p) {
  size_t ul = strlen(user);
  for (int i = 0; i < cfg->nsecurity_groups; i++) {
    const char *e = cfg->security_groups[i];
    if (strncmp(e, user, ul) != 0 || e[ul] != '=') continue;
    for (const char *g = e + ul + 1; *g && p->ngroups < KV_GROUPS_MAX;) {
      size_t n = strcspn(g, ",");
      if (n > 0 && n <= KV_OWNER_MAX) { /* the loader checked every name; be safe anyway */
        char name[KV_OWNER_MAX + 1];
        memcpy(name, g, n);
        name[n] = '\0';
        if (!kv_perm_in_group(p, name)) memcpy(p->groups[p->ngroups++], name, n + 1);
      }
      g += n + (g[n] == ',');
    }
  }
}

/* A user name as kv-store records owners: 1..KV_OWNER_MAX bytes, no control characters. */
static bool s_name_ok(const char *u) {
  size_t n = strlen(u);
  if (n == 0 || n > KV_OWNER_MAX || !kv_utf8_valid(u, n, NULL)) return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)u[i] < 0x20 || u[i] == 0x7f) return false;
  return true;
}

int kv_auth_principal(kv_actor_t *s, const rv_listener_peer_t *peer, const Rv__FsRequest *q,
                      kv_principal_t *p, char *why, size_t cap) {
  const cfg_node_t *cfg = s->cfg;
  memset(p, 0, sizeof *p);
  const char *user = peer->principal;
  if (!user[0] && cfg->security_insecure) user = q->user ? q->user : "";
  if (!user[0]) {
    snprintf(why, cap,
             cfg->security_insecure
                 ? "Permission denied: the request names no user (set HADOOP_USER_NAME)"
                 : "Permission denied: the connection is not authenticated (this client port "
                   "takes authenticated clients only; security.insecure is false)");
    return RV_EPERM;
  }
  if (!s_name_ok(user)) {
    snprintf(why, cap, "Permission denied: user name of %zu bytes is not valid (1..%d bytes of "
             "UTF-8, no control characters)", strlen(user), KV_OWNER_MAX);
    return RV_EPERM;
  }
  memcpy(p->user, user, strlen(user) + 1); /* s_name_ok: at most KV_OWNER_MAX bytes */
  s_groups_of(cfg, p->user, p);
  p->superuser = strcmp(p->user, cfg->security_superuser) == 0 ||
                 kv_perm_in_group(p, cfg->security_supergroup);
  p->enforce = cfg->security_permissions;
  return RV_OK;
}

int kv_auth_superuser(kv_actor_t *s, const rv_listener_peer_t *peer, const Rv__FsRequest *q,
                      char *why, size_t cap) {
  Rv__FsRequest none = RV__FS_REQUEST__INIT;
  kv_principal_t who;
  int rc = kv_auth_principal(s, peer, q ? q : &none, &who, why, cap);
  if (rc) return rc;
  if (who.superuser) return RV_OK;
  snprintf(why, cap, "Access denied for user %s. Superuser privilege is required", who.user);
  return RV_EPERM;
}

void kv_auth_stamp(const kv_principal_t *p, kv_cmd_t *cmd) {
  cmd->user = (kv_bytes_t){(const uint8_t *)p->user, strlen(p->user)};
  cmd->pflags = (uint8_t)((p->superuser ? KV_P_SUPERUSER : 0) | (p->enforce ? KV_P_ENFORCE : 0));
  cmd->ngroups = (uint8_t)p->ngroups;
  for (size_t i = 0; i < p->ngroups; i++)
    cmd->groups[i] = (kv_bytes_t){(const uint8_t *)p->groups[i], strlen(p->groups[i])};
}

uint16_t kv_auth_create_mode(const kv_actor_t *s, unsigned requested, bool dir) {
  unsigned umask = (unsigned)strtoul(s->cfg->security_umask, NULL, 8) & 0777;
  unsigned mode = requested ? requested : dir ? 0777 : 0666;
  return (uint16_t)(mode & ~umask);
}

void kv_auth_open(const kv_actor_t *s) {
  const cfg_node_t *cfg = s->cfg;
  if (cfg->security_insecure)
    rv_warn("INSECURE: security.insecure is true: clients are believed to be whoever they say "
            "(no authentication); permissions are checked for the user a request asserts");
  if (!cfg->security_permissions)
    rv_warn("security.permissions is false: no permission is checked (owners and modes are "
            "still recorded)");
  rv_info("permissions %s, superuser %s, supergroup %s, umask %s, %d users with groups",
          cfg->security_permissions ? "on" : "off", cfg->security_superuser,
          cfg->security_supergroup, cfg->security_umask, cfg->nsecurity_groups);
}
