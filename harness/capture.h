/* capture: live libpcap capture of one lab's /24 on the loopback interface into a file. */
#ifndef PIC_CAPTURE_H
#define PIC_CAPTURE_H

#include <event2/event.h>
#include <stdint.h>

struct capture;

/* Starts capturing packets to or from net (e.g. "127.77.3.0/24") on the loopback interface into
 * path (pcap). EPERM with a clear log line without CAP_NET_RAW. */
int capture_start(struct capture **cp, struct event_base *base, const char *net, const char *path);
/* Moves every packet the kernel has queued into the file and flushes it, so the file can be read
 * now. */
void capture_sync(struct capture *c);
uint64_t capture_packets(const struct capture *c);
/* Packets the kernel dropped (should be 0; reported in results). */
uint64_t capture_dropped(const struct capture *c);
const char *capture_path(const struct capture *c);

#endif
