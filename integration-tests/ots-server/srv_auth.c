/* srv_auth.c: MD5, HMAC-SHA1 and the two strings to sign (reference 2.1, 2.2). No I/O. */
#include "srv_auth.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void srv_md5_b64(const void *data, size_t n, char out[25]) {
  unsigned char d[16];
  unsigned int dl = 0;
  EVP_Digest(data, n, d, &dl, EVP_md5(), NULL);
  EVP_EncodeBlock((unsigned char *)out, d, 16);
}

void srv_hmac_sha1_b64(const char *key, const void *msg, size_t n, char out[29]) {
  unsigned char d[20];
  unsigned int dl = 0;
  HMAC(EVP_sha1(), key, (int)strlen(key), msg, n, d, &dl);
  EVP_EncodeBlock((unsigned char *)out, d, 20);
}

typedef struct {
  char *name; /* lowered */
  const char *value;
} pair_t;

static int pair_cmp(const void *a, const void *b) {
  return strcmp(((const pair_t *)a)->name, ((const pair_t *)b)->name);
}

/* The signed x-ots-* headers, lowered and sorted; returns the count or -1. */
static long collect(const srv_hdr_t *h, size_t n, pair_t **out) {
  pair_t *v = calloc(n ? n : 1, sizeof *v);
  if (!v) return -1;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (strncasecmp(h[i].name, "x-ots-", 6) != 0 || strcasecmp(h[i].name, "x-ots-signature") == 0) continue;
    v[k].name = strdup(h[i].name);
    if (!v[k].name) { for (size_t j = 0; j < k; j++) free(v[j].name); free(v); return -1; }
    for (char *c = v[k].name; *c; c++) *c = (char)tolower((unsigned char)*c);
    v[k].value = h[i].value;
    k++;
  }
  qsort(v, k, sizeof *v, pair_cmp);
  *out = v;
  return (long)k;
}

static char *build(const char *prefix, const char *suffix, const srv_hdr_t *h, size_t n, bool trim) {
  pair_t *v;
  long k = collect(h, n, &v);
  if (k < 0) return NULL;
  size_t cap = strlen(prefix) + strlen(suffix) + 1;
  for (long i = 0; i < k; i++) cap += strlen(v[i].name) + strlen(v[i].value) + 2;
  char *s = malloc(cap), *w = s;
  if (s) {
    w = stpcpy(w, prefix);
    for (long i = 0; i < k; i++) {
      const char *val = v[i].value;
      size_t len = strlen(val);
      if (trim) {
        while (len && isspace((unsigned char)*val)) { val++; len--; }
        while (len && isspace((unsigned char)val[len - 1])) len--;
      }
      w = stpcpy(w, v[i].name);
      *w++ = ':';
      memcpy(w, val, len);
      w += len;
      *w++ = '\n';
    }
    strcpy(w, suffix);
  }
  for (long i = 0; i < k; i++) free(v[i].name);
  free(v);
  return s;
}

char *srv_request_string_to_sign(const char *action, const srv_hdr_t *h, size_t n) {
  size_t l = strlen(action) + 16;
  char *prefix = malloc(l);
  if (!prefix) return NULL;
  strcpy(prefix, "/");
  strcat(prefix, action);
  strcat(prefix, "\nPOST\n\n");
  char *s = build(prefix, "", h, n, true);
  free(prefix);
  return s;
}

char *srv_response_string_to_sign(const char *action, const srv_hdr_t *h, size_t n) {
  size_t l = strlen(action) + 2;
  char *suffix = malloc(l);
  if (!suffix) return NULL;
  strcpy(suffix, "/");
  strcat(suffix, action);
  char *s = build("", suffix, h, n, false);
  free(suffix);
  return s;
}
