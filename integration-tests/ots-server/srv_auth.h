/* srv_auth.h: the test server's own signing (reference section 2): Base64 MD5 of a body,
 * Base64 HMAC-SHA1, the V2 request string-to-sign and the response string-to-sign. OpenSSL
 * libcrypto; no I/O. Independent of the client's ots_sign. */
#ifndef SRV_AUTH_H
#define SRV_AUTH_H
#include <stddef.h>

typedef struct {
  const char *name;  /* as received (any case) */
  const char *value; /* as received */
} srv_hdr_t;

/* Base64(MD5(data)) into out (at least 25 bytes, NUL-terminated). */
void srv_md5_b64(const void *data, size_t n, char out[25]);
/* Base64(HMAC-SHA1(key, msg)) into out (at least 29 bytes, NUL-terminated). */
void srv_hmac_sha1_b64(const char *key, const void *msg, size_t n, char out[29]);
/* "/" action "\nPOST\n\n" then, for every x-ots-* header but x-ots-signature sorted by lowered
 * name, lower(name) ":" trim(value) "\n" (2.1). Heap string, caller frees; NULL when out of
 * memory. */
char *srv_request_string_to_sign(const char *action, const srv_hdr_t *h, size_t n);
/* For every x-ots-* header but x-ots-signature sorted by lowered name, lower(name) ":" value
 * "\n", then "/" action (2.2). Heap string, caller frees. */
char *srv_response_string_to_sign(const char *action, const srv_hdr_t *h, size_t n);

#endif
