/* rv-notify-sink SOCKET OUT: plays systemd's side of sd_notify for tests. Binds an AF_UNIX
 * datagram socket at SOCKET (what NOTIFY_SOCKET names) and appends each datagram to OUT as one
 * line (its newlines as ';'), until killed. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: rv-notify-sink SOCKET OUT\n");
    return 2;
  }
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(argv[1]) >= sizeof sa.sun_path) {
    fprintf(stderr, "rv-notify-sink: %s: path too long\n", argv[1]);
    return 2;
  }
  strcpy(sa.sun_path, argv[1]);
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  unlink(argv[1]);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    perror("rv-notify-sink: bind");
    return 1;
  }
  FILE *out = fopen(argv[2], "a");
  if (!out) {
    perror("rv-notify-sink: open");
    return 1;
  }
  char buf[4096];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    if (n < 0) continue;
    for (ssize_t i = 0; i < n; i++)
      if (buf[i] == '\n') buf[i] = ';';
    buf[n] = '\0';
    fprintf(out, "%s\n", buf);
    fflush(out);
  }
}
