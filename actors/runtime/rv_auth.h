/* rv_auth: who a CURVE key stands for, decided from the node's configuration alone. Pure (no
 * sockets, no clocks): the ZAP handler (rv_zap) asks it at every handshake, the Raft links
 * (rv_peers) ask it again for every message, so both decisions are unit-tested without ZeroMQ.
 *
 * Two ZAP domains, one per kind of port:
 *   - RV_AUTH_DOMAIN_RAFT (raft-port): the key must be one of cluster.nodes[].public-key; the
 *     connection's User-Id becomes "node:<id>" of the node that owns the key. The routing id a
 *     peer presents ("<cluster>/<node>") is its own claim: rv_auth_peer_node checks it against
 *     the User-Id, so a node's key cannot speak as another node (a down node's id included);
 *   - RV_AUTH_DOMAIN_CLIENT (client-port): the key must be one of security.clients[].key; the
 *     User-Id is that entry's principal. Nodes' keys are not principals and are refused there.
 * Any other mechanism (NULL, PLAIN) or domain is refused: with security.insecure false there is
 * no unauthenticated way in. */
#ifndef RV_AUTH_H
#define RV_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg_node.h"

#define RV_AUTH_DOMAIN_RAFT "raftvisor-raft"
#define RV_AUTH_DOMAIN_CLIENT "raftvisor-client"
#define RV_AUTH_NODE_PREFIX "node:" /* User-Id of a node's key on the Raft port */
#define RV_AUTH_USER_MAX 256        /* bytes of a User-Id, NUL included */

/* The verdict on one handshake: true with user[len] = the User-Id to give the connection, or
 * false with why[wlen] = the reason (for the log: the key in Z85, never a secret). cfg is
 * borrowed; key is the client's 32-byte public key (mechanism "CURVE"). */
bool rv_auth_decide(const cfg_node_t *cfg, const char *domain, const char *mechanism,
                    const uint8_t *key, size_t keylen, char *user, size_t len, char *why,
                    size_t wlen);

/* On the Raft port: the index in cfg->nodes of the node that a message comes from, given the
 * routing id the peer presented (id[idlen]) and the User-Id of its connection (user, "" when
 * the port is insecure). Returns the index, or -1 with why[wlen] filled: an id that is not
 * "<cluster>/<node>" of another node of this cluster; or, when secure, an id that is not the
 * node the key belongs to. */
int rv_auth_peer_node(const cfg_node_t *cfg, const uint8_t *id, size_t idlen, const char *user,
                      char *why, size_t wlen);

/* Z85 text of a 32-byte key into out (CFG_KEY_Z85_LEN + 1 bytes). Returns out. */
char *rv_auth_z85(const uint8_t key[32], char *out);

#endif
