/* kv_perm: HDFS's permission model (FSPermissionChecker), as a pure function of a principal and
 * the attributes along a path.
 *
 * What HDFS decides, and so what this decides (HDFS Permissions Guide; FSPermissionChecker):
 *  - one class per check: the owner's bits when the user owns the inode, else the group's bits
 *    when the user belongs to the inode's group, else the others' bits (never a union);
 *  - traverse: EXECUTE on every existing ancestor of the path (the path itself excluded);
 *  - ancestor access: on the deepest existing ancestor (the parent when it exists): create,
 *    mkdir (of a missing directory), the destination of a rename;
 *  - parent access: on the parent: delete and the source of a rename (WRITE), and with it the
 *    sticky bit: a parent with the sticky bit lets only the owner of the child or of the parent
 *    remove or rename the child;
 *  - access: on the path itself (READ for cat, READ_EXECUTE for listing a directory, WRITE for
 *    overwrite and set-times);
 *  - sub access: on the path and every directory below it that is not empty (recursive delete:
 *    ALL); the caller walks the subtree and asks kv_perm_allows per directory;
 *  - owner: only the owner (or the superuser) may chmod or chown; only the superuser may give a
 *    file away to another user; the owner may set the group to a group it belongs to;
 *  - the superuser (HDFS: the user running the NameNode, or any member of the supergroup)
 *    bypasses every check; with permissions disabled (dfs.permissions.enabled=false) nothing is
 *    checked, but owners and modes are still recorded and shown.
 * Messages are Hadoop's AccessControlException texts, word for word:
 *   Permission denied: user=alice, access=WRITE, inode="/dir":root:supergroup:drwxr-xr-x
 *   Permission denied by sticky bit: user=bob, path="/tmp/f":alice:staff:-rw-r--r--,
 *     parent="/tmp":root:supergroup:drwxrwxrwt
 *   Permission denied. user=alice is not the owner of inode=/f
 *   User alice is not a super user (non-super user cannot change owner).
 *   User alice does not belong to eng
 *   Access denied for user alice. Superuser privilege is required
 * Pure: libc only. */
#ifndef KV_PERM_H
#define KV_PERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv_schema.h"

#define KV_GROUPS_MAX 32   /* groups of one principal, at most */
#define KV_PERM_MSG_MAX 512 /* a denial message, NUL included (paths are cut to fit) */
#define KV_PERM_STICKY 01000

/* HDFS' FsAction: the bits asked for (r = 4, w = 2, x = 1). */
typedef enum {
  KV_ACC_NONE = 0,
  KV_ACC_EXECUTE = 1,
  KV_ACC_WRITE = 2,
  KV_ACC_WRITE_EXECUTE = 3,
  KV_ACC_READ = 4,
  KV_ACC_READ_EXECUTE = 5,
  KV_ACC_READ_WRITE = 6,
  KV_ACC_ALL = 7
} kv_access_t;

/* Who asks. A value (no pointers), so a core keeps one as long as it likes. */
typedef struct {
  char user[KV_OWNER_MAX + 1];                    /* the principal's short name; "" = nobody */
  char groups[KV_GROUPS_MAX][KV_OWNER_MAX + 1];   /* the groups the server knows it in */
  size_t ngroups;
  bool superuser; /* HDFS' isSuper: the superuser, or a member of the supergroup */
  bool enforce;   /* permissions enabled (dfs.permissions.enabled); false: nothing is checked */
} kv_principal_t;

/* FsAction's name as Hadoop prints it: "NONE", "EXECUTE", "WRITE", "WRITE_EXECUTE", "READ",
 * "READ_EXECUTE", "READ_WRITE", "ALL". Borrowed static string. */
const char *kv_access_name(unsigned access);

/* "rwxr-xr-t" as FsPermission.toString() prints the 9 bits (the sticky bit shows as t, or T
 * when others lack x); out holds 10 bytes. Returns out. */
char *kv_perm_mode_str(uint16_t perm, char out[10]);

/* True when p is a member of group. */
bool kv_perm_in_group(const kv_principal_t *p, const char *group);

/* Whether the checks apply to p at all (permissions on and not the superuser). */
bool kv_perm_checked(const kv_principal_t *p);

/* HDFS hasPermission: the bits of the one class p falls in (owner, group, other) hold every bit
 * of access. Ignores superuser and enforce: the caller asks kv_perm_checked first. */
bool kv_perm_allows(const kv_principal_t *p, const kv_attr_t *a, unsigned access);

/* The attributes along one path, as resolved: inode i (0 = the root) has attrs[i] for
 * i < exist; the path has `depth` components (so depth + 1 inodes when it all exists: exist is
 * at most depth + 1). path[0..plen[i]) names inode i ("/" for the root), for messages. */
typedef struct {
  const kv_attr_t *attrs; /* exist of them */
  size_t exist;
  size_t depth;
  const char *path;
  const size_t *plen; /* depth + 1 prefix lengths */
} kv_perm_path_t;

/* What a command needs on its path (FSPermissionChecker.checkPermission's arguments; sub access
 * is the caller's walk). 0 / false = not checked. */
typedef struct {
  unsigned ancestor; /* on the deepest existing ancestor of the last component */
  unsigned parent;   /* on the parent (which must exist); WRITE also applies the sticky bit */
  unsigned access;   /* on the path itself (when it exists) */
  bool owner;        /* p must own the path */
} kv_perm_want_t;

/* The checks in HDFS' order: traverse, sticky bit, ancestor, parent, access, owner. Returns 0,
 * or RV_EPERM with Hadoop's message in msg[0..cap). Passes at once when !kv_perm_checked(p). */
int kv_perm_check(const kv_principal_t *p, const kv_perm_path_t *pp, const kv_perm_want_t *w,
                  char *msg, size_t cap);

/* The denial of access on one inode (path shown as given), for the caller's own checks (the
 * sub-access walk). Returns RV_EPERM. */
int kv_perm_denied(const kv_principal_t *p, const char *path, size_t plen, const kv_attr_t *a,
                   unsigned access, char *msg, size_t cap);

/* chown / chgrp (setOwner) beyond the owner check: a non-superuser may set the owner only to
 * itself and the group only to one of its groups. new_owner / new_group NULL = unchanged.
 * Returns 0 or RV_EPERM with Hadoop's message. */
int kv_perm_check_chown(const kv_principal_t *p, const char *new_owner, const char *new_group,
                        char *msg, size_t cap);

/* Superuser-only operations (HDFS checkSuperuserPrivilege). 0 or RV_EPERM. */
int kv_perm_check_superuser(const kv_principal_t *p, char *msg, size_t cap);

#endif
