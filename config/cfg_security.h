/* cfg_security: the checks of security.* and cluster.nodes[].public-key values: CURVE keys as
 * Z85 text, client principals, and the key pair of a zcert secret file (what `raftvisor keys
 * gen` writes and security.key / security.client-key name). Pure: text in, verdict out; the
 * runtime (actors/runtime/rv_curve.h) turns the keys into socket options. */
#ifndef CFG_SECURITY_H
#define CFG_SECURITY_H

#include <stdbool.h>
#include <stddef.h>

#include "cfg_node.h"

/* A check (cfg_check_fn): "" (not given), or exactly CFG_KEY_Z85_LEN characters of the Z85
 * alphabet. Returns 0, or -1 with why = "expected ..., got ...". */
int cfg_security_check_key(const char *text, char *why, size_t len);

/* A check (cfg_check_fn): 1..CFG_PRINCIPAL_MAX characters of [A-Za-z0-9._@-], not starting
 * with "node:" (reserved for the nodes' own keys on the Raft port). */
int cfg_security_check_principal(const char *text, char *why, size_t len);

/* Reads the key pair of a zcert secret file's text (its "curve" section: public-key = "...",
 * secret-key = "..."). Returns 0 with secret_z85 and public_z85 (CFG_KEY_Z85_LEN + 1 bytes
 * each) filled, or -1 with why saying what is missing or malformed (never quoting the secret).
 * A public certificate (no secret-key) is refused with a hint that the secret file is needed. */
int cfg_security_parse_pair(const char *text, char *secret_z85, char *public_z85, char *why,
                            size_t len);

/* Reads the public key of a zcert public certificate's text (NAME.pub, as `raftvisor keys gen`
 * writes it: curve: public-key = "..."), into public_z85 (CFG_KEY_Z85_LEN + 1 bytes). Returns 0,
 * or -1 with why: no public-key, a malformed one, or a secret-key present (a secret file does
 * not belong with the public certificates a server reads). */
int cfg_security_parse_public(const char *text, char *public_z85, char *why, size_t len);

/* Adds the client (principal, key) to cfg->clients after the others, unless it may not be one:
 * a principal cfg_security_check_principal refuses, a node's key, a key or a principal already
 * listed, too many clients. Returns 0, or -1 with why naming the entry it collides with
 * ("security.clients[0] (alice)", or "DIR/alice.pub" for one added before from dir). */
int cfg_security_add_client(cfg_node_t *cfg, const char *principal, const char *key,
                            const char *dir, char *why, size_t len);

/* The metadata name of a zcert file's text (`name = "..."`, what `raftvisor keys gen NAME` sets:
 * the principal a client key is meant for), into out[len]; "" when there is none. */
void cfg_security_pair_name(const char *text, char *out, size_t len);

#endif
