/* srv_http.h: rv-ots-server's HTTP front (libmicrohttpd, one thread per connection): framing
 * and authentication checks of reference section 8 items 1-3 and 8, faults, dispatch to the
 * operation handlers, signed answers, one log line per request on stderr. */
#ifndef SRV_HTTP_H
#define SRV_HTTP_H
#include <stdint.h>

#include "srv.h"
#include "srv_fault.h"

typedef struct srv_http srv_http_t;

typedef struct {
  const char *listen_host; /* dotted IPv4 */
  uint16_t port;           /* 0 = any free port */
  const char *instance;
  const char *access_key_id;
  const char *access_key_secret;
  int64_t max_skew_ms;     /* allowed |x-ots-date - now| */
} srv_http_config_t;

/* Starts serving s (borrowed) with faults f (borrowed, may be NULL). Returns the server or
 * NULL with err filled. *bound_port receives the port actually bound. */
srv_http_t *srv_http_start(const srv_http_config_t *cfg, srv_t *s, srv_fault_t *f, uint16_t *bound_port,
                           char *err, size_t errlen);
/* Wakes blackholed and delayed requests, stops the daemon, frees; nulls *h. */
void srv_http_stop(srv_http_t **h);

#endif
