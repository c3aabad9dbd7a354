/* sa: socket addresses (IPv4/IPv6 literal + port) parsed, printed and compared. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "net/sa.h"

#define LOG_MODULE "sa"

int sa_set(struct sockaddr_storage *sa, const char *ip, uint16_t port)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;

	if (!sa || !ip)
		return EINVAL;
	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, ip, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		return 0;
	}
	return EINVAL;
}

/* Accepts "a.b.c.d:port" and "[v6]:port"; a bare v6 literal without brackets is refused
 * because its last group cannot be told from a port. */
int sa_parse(struct sockaddr_storage *sa, const char *hostport)
{
	char ip[INET6_ADDRSTRLEN + 1];
	const char *colon, *host, *end;
	unsigned long port;
	size_t hlen;
	char *ep;

	if (!sa || !hostport)
		return EINVAL;
	if (hostport[0] == '[') {
		host = hostport + 1;
		end = strchr(host, ']');
		if (!end || end[1] != ':')
			return EINVAL;
		colon = end + 1;
	} else {
		host = hostport;
		colon = strrchr(hostport, ':');
		if (!colon || memchr(hostport, ':', (size_t)(colon - hostport)))
			return EINVAL;
		end = colon;
	}
	hlen = (size_t)(end - host);
	if (hlen == 0 || hlen >= sizeof(ip))
		return EINVAL;
	memcpy(ip, host, hlen);
	ip[hlen] = '\0';
	if (colon[1] < '0' || colon[1] > '9')
		return EINVAL;
	errno = 0;
	port = strtoul(colon + 1, &ep, 10);
	if (errno || *ep || port > 65535)
		return EINVAL;
	if (hostport[0] == '[' && !strchr(ip, ':'))
		return EINVAL;
	return sa_set(sa, ip, (uint16_t)port);
}

bool sa_is_ip(const char *s)
{
	unsigned char b[sizeof(struct in6_addr)];

	return s && (inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1);
}

socklen_t sa_len(const struct sockaddr *sa)
{
	if (!sa)
		return 0;
	switch (sa->sa_family) {
	case AF_INET:
		return sizeof(struct sockaddr_in);
	case AF_INET6:
		return sizeof(struct sockaddr_in6);
	default:
		return 0;
	}
}

uint16_t sa_port(const struct sockaddr *sa)
{
	if (!sa)
		return 0;
	switch (sa->sa_family) {
	case AF_INET:
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	case AF_INET6:
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	default:
		return 0;
	}
}

void sa_set_port(struct sockaddr_storage *sa, uint16_t port)
{
	if (!sa)
		return;
	if (sa->ss_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons(port);
	else if (sa->ss_family == AF_INET6)
		((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
}

char *sa_ip(const struct sockaddr *sa, char *buf, size_t size)
{
	const void *a = NULL;

	if (!buf || !size)
		return buf;
	buf[0] = '\0';
	if (!sa)
		return buf;
	if (sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (!a || !inet_ntop(sa->sa_family, a, buf, (socklen_t)size))
		buf[0] = '\0';
	return buf;
}

char *sa_fmt(const struct sockaddr *sa, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];

	if (!buf || !size)
		return buf;
	sa_ip(sa, ip, sizeof(ip));
	if (sa && sa->sa_family == AF_INET6)
		snprintf(buf, size, "[%s]:%u", ip, sa_port(sa));
	else if (sa && sa->sa_family == AF_INET)
		snprintf(buf, size, "%s:%u", ip, sa_port(sa));
	else
		snprintf(buf, size, "?");
	return buf;
}

bool sa_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	if (!a || !b || a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0 &&
		       x->sin6_scope_id == y->sin6_scope_id;
	}
	return false;
}
