/* kv_perm: HDFS permission checks over the attributes of a resolved path (see kv_perm.h).
 * Pure: libc only. */
#include "kv_perm.h"

#include <stdio.h>
#include <string.h>

#include "kv_path.h"
#include "rv_error.h"

_Static_assert(KV_GROUPS_MAX == KV_CMD_GROUPS_MAX, "a command carries every group of a principal");

static const char *const s_access_names[8] = {
    "NONE", "EXECUTE", "WRITE", "WRITE_EXECUTE", "READ", "READ_EXECUTE", "READ_WRITE", "ALL"};

const char *kv_access_name(unsigned access) { return s_access_names[access & 7]; }

char *kv_perm_mode_str(uint16_t perm, char out[10]) {
  static const char sym[] = "rwx";
  for (int i = 0; i < 9; i++) out[i] = perm & (0400 >> i) ? sym[i % 3] : '-';
  if (perm & KV_PERM_STICKY) out[8] = perm & 01 ? 't' : 'T';
  out[9] = '\0';
  return out;
}

bool kv_perm_in_group(const kv_principal_t *p, const char *group) {
  for (size_t i = 0; i < p->ngroups; i++)
    if (strcmp(p->groups[i], group) == 0) return true;
  return false;
}

bool kv_perm_checked(const kv_principal_t *p) { return p->enforce && !p->superuser; }

bool kv_perm_allows(const kv_principal_t *p, const kv_attr_t *a, unsigned access) {
  unsigned bits;
  if (strcmp(p->user, a->owner) == 0)
    bits = (a->perm >> 6) & 7;
  else if (kv_perm_in_group(p, a->group))
    bits = (a->perm >> 3) & 7;
  else
    bits = a->perm & 7;
  return (bits & access) == access;
}

/* "\"/dir\":root:supergroup:drwxr-xr-x", the path escaped for a message. */
static const char *s_inode(char *buf, size_t cap, const char *path, size_t plen,
                           const kv_attr_t *a) {
  char shown[KV_PATH_SHOW_MAX * 4 + 16], mode[10];
  snprintf(buf, cap, "\"%s\":%s:%s:%c%s", kv_path_show(shown, sizeof shown, path, plen), a->owner,
           a->group, a->type == KV_TYPE_DIR ? 'd' : '-', kv_perm_mode_str(a->perm, mode));
  return buf;
}

int kv_perm_denied(const kv_principal_t *p, const char *path, size_t plen, const kv_attr_t *a,
                   unsigned access, char *msg, size_t cap) {
  char inode[KV_PERM_MSG_MAX];
  snprintf(msg, cap, "Permission denied: user=%s, access=%s, inode=%s", p->user,
           kv_access_name(access), s_inode(inode, sizeof inode, path, plen, a));
  return RV_EPERM;
}

static int s_check_one(const kv_principal_t *p, const kv_perm_path_t *pp, size_t i,
                       unsigned access, char *msg, size_t cap) {
  if (i >= pp->exist || kv_perm_allows(p, &pp->attrs[i], access)) return RV_OK;
  return kv_perm_denied(p, pp->path, pp->plen[i], &pp->attrs[i], access, msg, cap);
}

int kv_perm_check(const kv_principal_t *p, const kv_perm_path_t *pp, const kv_perm_want_t *w,
                  char *msg, size_t cap) {
  if (!kv_perm_checked(p)) return RV_OK;
  /* the deepest existing ancestor of the last component (the root for the root itself) */
  size_t ancestor = pp->depth == 0 ? 0 : pp->depth - 1;
  if (ancestor >= pp->exist) ancestor = pp->exist - 1;
  int rc;
  /* traverse: EXECUTE on every existing ancestor (a file in the way is the resolver's
   * ENOTDIR, reported before the checks) */
  for (size_t i = 0; i <= ancestor && i < pp->exist; i++) {
    if (pp->depth == 0) break; /* the root has no ancestors */
    if (pp->attrs[i].type != KV_TYPE_DIR) break;
    if ((rc = s_check_one(p, pp, i, KV_ACC_EXECUTE, msg, cap))) return rc;
  }
  bool leaf = pp->exist == pp->depth + 1;
  size_t parent = pp->depth - 1;
  if (pp->depth > 0 && (w->parent & KV_ACC_WRITE) && leaf) {
    const kv_attr_t *pa = &pp->attrs[parent], *ca = &pp->attrs[pp->depth];
    if ((pa->perm & KV_PERM_STICKY) && strcmp(pa->owner, p->user) != 0 &&
        strcmp(ca->owner, p->user) != 0) {
      char child[KV_PERM_MSG_MAX / 2], dir[KV_PERM_MSG_MAX / 2];
      snprintf(msg, cap, "Permission denied by sticky bit: user=%s, path=%s, parent=%s", p->user,
               s_inode(child, sizeof child, pp->path, pp->plen[pp->depth], ca),
               s_inode(dir, sizeof dir, pp->path, pp->plen[parent], pa));
      return RV_EPERM;
    }
  }
  if (w->ancestor && pp->depth > 0 && (rc = s_check_one(p, pp, ancestor, w->ancestor, msg, cap)))
    return rc;
  if (w->parent && pp->depth > 0 && (rc = s_check_one(p, pp, parent, w->parent, msg, cap)))
    return rc;
  if (w->access && leaf && (rc = s_check_one(p, pp, pp->depth, w->access, msg, cap))) return rc;
  if (w->owner && leaf && strcmp(pp->attrs[pp->depth].owner, p->user) != 0) {
    char shown[KV_PATH_SHOW_MAX * 4 + 16];
    snprintf(msg, cap, "Permission denied. user=%s is not the owner of inode=%s", p->user,
             kv_path_show(shown, sizeof shown, pp->path, pp->plen[pp->depth]));
    return RV_EPERM;
  }
  return RV_OK;
}

int kv_perm_check_chown(const kv_principal_t *p, const char *new_owner, const char *new_group,
                        char *msg, size_t cap) {
  if (!kv_perm_checked(p)) return RV_OK;
  if (new_owner && strcmp(new_owner, p->user) != 0) {
    snprintf(msg, cap, "User %s is not a super user (non-super user cannot change owner).",
             p->user);
    return RV_EPERM;
  }
  if (new_group && !kv_perm_in_group(p, new_group)) {
    snprintf(msg, cap, "User %s does not belong to %s", p->user, new_group);
    return RV_EPERM;
  }
  return RV_OK;
}

int kv_perm_check_superuser(const kv_principal_t *p, char *msg, size_t cap) {
  if (!p->enforce || p->superuser) return RV_OK;
  snprintf(msg, cap, "Access denied for user %s. Superuser privilege is required", p->user);
  return RV_EPERM;
}
