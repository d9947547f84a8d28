/* virtio-vsock's host side on Unix sockets, as Firecracker does it
 * (firecracker docs/vsock.md): vmon listens on PATH; a host program that
 * connects there sends "CONNECT <port>\n" and, once the guest accepts on
 * that port, reads "OK <host_port>\n" (host_port: the port vmon gave the
 * connection on the host side, CID 2), then the stream is the guest's. A
 * guest that connects to CID 2 port P reaches whoever listens on the Unix
 * socket "PATH_P". */
#ifndef VMON_BACKEND_VSOCK_UDS_H
#define VMON_BACKEND_VSOCK_UDS_H

#include <stddef.h>
#include <stdint.h>

/* "CONNECT 4294967295\n" is 19 bytes; a longer line is refused. */
#define VSOCK_UDS_LINE_MAX 32

/* The handshake line so far (len bytes, read one at a time so nothing of
 * the stream after it is taken). Returns 1 with *port for a complete
 * line "CONNECT <decimal port>\n" (port < 2^32, 1 to 10 digits), 0 when
 * it is a valid beginning without its newline yet, -EINVAL otherwise
 * (also once len reaches VSOCK_UDS_LINE_MAX with no newline). */
int vsock_uds_parse_connect(const char *line, size_t len, uint32_t *port);

/* "OK <port>\n" into out (at least VSOCK_UDS_LINE_MAX bytes); its length. */
size_t vsock_uds_ok_line(uint32_t port, char *out);

/* Listens on path, non-blocking. A stale socket file (nobody accepts on
 * it) is replaced; a live one (another vmon) is -EADDRINUSE. */
int vsock_uds_listen(const char *path, int *fd);
/* Connects, non-blocking, to "path_port": 0 with *fd, or -errno (nobody
 * listens: -ENOENT or -ECONNREFUSED). */
int vsock_uds_connect_port(const char *path, uint32_t port, int *fd);

#endif
