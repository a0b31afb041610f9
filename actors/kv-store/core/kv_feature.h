/* kv_feature: feature levels, the cluster-wide gate on replicated command types (as etcd's
 * cluster version gates its features).
 *
 * A replicated command is applied by every member, so a command type may enter the log only
 * once every member runs a build that knows it: a node of an older build cannot apply it (the
 * build before this one skipped such an entry as undecodable, so its namespace silently
 * differed from the others'). Each build therefore has a feature level, an integer bumped
 * whenever a replicated command type (an op, or a flag of one) or a replicated state format is
 * added; the table below says which level each op needs:
 *
 *   level 1  the release e7e8172 (2026-11-22): mkdir 1, put 2, touchz 3, rm 4 (flags -r,
 *            file-only, dir-only), mv 5, setattr 6
 *   level 2  this build: append 7, truncate 8, concat 9, setxattr 10, removexattr 11 (the
 *            'E' table), the recovery of a new cluster 64-67 (RecoveryBegin, Rows, Finish,
 *            Leave; the 'M' "recovery" key)
 *
 * Every node advertises its level (kv-store tells its raft-peer, which says it in every frame
 * to the other nodes: raft.proto RaftBatch.feature_level); the leader's raft-peer reports the
 * level each member last said (PeerProgress.feature_level), and the leader's kv-store refuses a
 * client command whose op needs a level above some member's (kv_feature_gate), naming the op,
 * the level and the nodes below it. A member whose level is not known (not heard from since
 * this leader began to lead) counts as level 1, after a short grace for its first answer; a
 * build that says no level (the builds before this one) is level 1.
 *
 * The apply side: a replica that meets a command above its own level (an op number it does not
 * know in a well-formed command, kv_cmd_newer; or, under RV_TEST_FEATURE_LEVEL, an op of a
 * level above the one it is told to have) does not skip it: kv_core_apply returns RV_ECONFIG
 * and kv-store stops with exit 78 (a configuration error: the supervisor stops the node rather
 * than restart it), naming the log index and the op: this build is older than the cluster.
 *
 * Not gated yet: the command encoding. Since permissions (version 2 commands, kv_cmd.h) every
 * command this build proposes names its principal, which the release e7e8172 cannot decode at
 * all; see the README's "Upgrades" for what that means for a rolling upgrade from it.
 * Pure: libc only. */
#ifndef KV_FEATURE_H
#define KV_FEATURE_H

#include <stdbool.h>
#include <stddef.h>

#define KV_FEATURE_LEVEL 2       /* this build's: every op of the table above */
#define KV_FEATURE_MEMBERS_MAX 16 /* members a view holds (= CFG_MAX_NODES) */
#define KV_FEATURE_NODE_MAX 64    /* bytes of a node name, NUL included */

/* The level an op needs (kv_op_t, or a recovery op), or 0 for a number this build does not
 * know. */
unsigned kv_feature_op_level(int op);

/* One member of the Raft configuration (a voter or a learner) as the leader knows it. */
typedef struct {
  char node[KV_FEATURE_NODE_MAX]; /* cluster.nodes[].id */
  unsigned level;                 /* the level it last said; 0 = not known */
  bool active;                    /* it answered the leader recently (an unknown level will
                                     come with its next frame) */
} kv_feature_member_t;

/* What the gate decides on: every member (the leader included). */
typedef struct {
  size_t n;
  kv_feature_member_t m[KV_FEATURE_MEMBERS_MAX];
  bool settling; /* leadership is new: members not heard from yet may still answer */
} kv_feature_view_t;

/* The level every member is known to have: the least over the members, a member whose level is
 * not known counting as 1; 0 when the view holds no member. */
unsigned kv_feature_cluster_level(const kv_feature_view_t *v);

/* Whether a command that needs level `need` may enter the log now. Returns
 *   RV_OK        every member is at `need` or above;
 *   RV_EUNAVAIL  no member is known to be below, but some member's level is not known yet and
 *                may still come (settling, or the member is active): retry;
 *   RV_EFEATURE  some member is below `need`, or not known and silent: not retriable.
 * On failure why (cap bytes) says so, without the op:
 *   "needs every node at feature level 2; n3 runs level 1: upgrade it (raftvisor endpoints
 *    shows each node's level)". */
int kv_feature_gate(const kv_feature_view_t *v, unsigned need, char *why, size_t cap);

#endif
