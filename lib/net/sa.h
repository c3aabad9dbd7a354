/* sa: socket addresses (IPv4/IPv6 literal + port) parsed, printed and compared. */
#ifndef PIC_SA_H
#define PIC_SA_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Parses an IP literal ("127.77.0.4", "::1") and port; EINVAL if ip is not a literal. */
int sa_set(struct sockaddr_storage *sa, const char *ip, uint16_t port);
/* Parses "ip:port" or "[v6]:port"; EINVAL on anything else. */
int sa_parse(struct sockaddr_storage *sa, const char *hostport);
/* True if s is an IPv4 or IPv6 literal. */
bool sa_is_ip(const char *s);
socklen_t sa_len(const struct sockaddr *sa);
uint16_t sa_port(const struct sockaddr *sa);
void sa_set_port(struct sockaddr_storage *sa, uint16_t port);
/* Writes "ip:port" ("[v6]:port") into buf; returns buf. */
char *sa_fmt(const struct sockaddr *sa, char *buf, size_t size);
/* Writes only the IP. */
char *sa_ip(const struct sockaddr *sa, char *buf, size_t size);
bool sa_equal(const struct sockaddr *a, const struct sockaddr *b);

#endif
