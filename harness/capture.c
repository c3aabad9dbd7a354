/* capture: libpcap on "lo" filtered to one lab's network, written as the lab runs. */
#define LOG_MODULE "capture"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "capture.h"

struct capture {
	pcap_t *pc;
	pcap_dumper_t *dump;
	struct event *ev;
	uint64_t packets;
	char path[512];
};

static void capture_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct capture *c = (struct capture *)user;

	pcap_dump((u_char *)c->dump, h, bytes);
	c->packets++;
}

static void capture_drain(struct capture *c)
{
	int n, rounds = 0;

	/* Bounded: a busy lab cannot keep us here forever. */
	do
		n = pcap_dispatch(c->pc, -1, capture_packet, (u_char *)c);
	while (n > 0 && ++rounds < 1000);
}

static void capture_read_cb(evutil_socket_t fd, short what, void *arg)
{
	capture_drain(arg);
}

static void capture_destroy(void *data)
{
	struct capture *c = data;

	if (c->ev)
		event_free(c->ev);
	if (c->pc && c->dump)
		capture_drain(c);
	if (c->dump)
		pcap_dump_close(c->dump);
	if (c->pc)
		pcap_close(c->pc);
}

int capture_start(struct capture **cp, struct event_base *base, const char *net, const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	char filter[128];
	struct bpf_program prog;
	struct capture *c;
	int err = 0, rc;

	c = mem_zalloc(sizeof(*c), capture_destroy);
	if (!c)
		return ENOMEM;
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->pc = pcap_create("lo", errbuf);
	if (!c->pc) {
		log_error("pcap_create(lo): %s", errbuf);
		err = ENODEV;
		goto out;
	}
	pcap_set_snaplen(c->pc, 262144);
	pcap_set_immediate_mode(c->pc, 1);
	pcap_set_buffer_size(c->pc, 32 << 20);
	rc = pcap_activate(c->pc);
	if (rc < 0) {
		log_error("cannot capture on lo: %s (needs root or CAP_NET_RAW)",
			  pcap_geterr(c->pc));
		err = rc == PCAP_ERROR_PERM_DENIED ? EPERM : EIO;
		goto out;
	}
	snprintf(filter, sizeof(filter), "net %s", net);
	if (pcap_compile(c->pc, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		log_error("filter '%s': %s", filter, pcap_geterr(c->pc));
		err = EINVAL;
		goto out;
	}
	rc = pcap_setfilter(c->pc, &prog);
	pcap_freecode(&prog);
	if (rc != 0 || pcap_setnonblock(c->pc, 1, errbuf) != 0) {
		log_error("filter/nonblock: %s", pcap_geterr(c->pc));
		err = EIO;
		goto out;
	}
	c->dump = pcap_dump_open(c->pc, path);
	if (!c->dump) {
		log_error("cannot write %s: %s", path, pcap_geterr(c->pc));
		err = EIO;
		goto out;
	}
	c->ev = event_new(base, pcap_get_selectable_fd(c->pc), EV_READ | EV_PERSIST,
			  capture_read_cb, c);
	if (!c->ev || event_add(c->ev, NULL) != 0) {
		err = ENOMEM;
		goto out;
	}
out:
	if (err)
		mem_deref(c);
	else
		*cp = c;
	return err;
}

void capture_sync(struct capture *c)
{
	capture_drain(c);
	pcap_dump_flush(c->dump);
}

uint64_t capture_packets(const struct capture *c)
{
	return c->packets;
}

uint64_t capture_dropped(const struct capture *c)
{
	struct pcap_stat st;

	if (pcap_stats(c->pc, &st) != 0)
		return 0;
	return st.ps_drop;
}

const char *capture_path(const struct capture *c)
{
	return c->path;
}
