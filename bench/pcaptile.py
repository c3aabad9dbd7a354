#!/usr/bin/env python3
"""Makes a large capture for the decoder benchmark: writes copies of a lab capture (classic pcap,
Ethernet or raw IPv4) one after the other until OUT reaches MB megabytes. Each copy moves every
127.x.y.z address to its own 10.a.b.z (so its connections are new ones) and its time past the
previous copy's end; the TLS secrets of the original key log still open every copy.

usage: pcaptile.py IN.pcap OUT.pcap MB
"""
import struct
import sys


def main():
    src, dst, mb = sys.argv[1], sys.argv[2], float(sys.argv[3])
    with open(src, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        sys.exit("pcaptile.py: %s: not a little-endian classic pcap" % src)
    linktype = struct.unpack("<I", data[20:24])[0]
    ip_off = {1: 14, 101: 0, 228: 0}.get(linktype)
    if ip_off is None:
        sys.exit("pcaptile.py: %s: link type %d not handled" % (src, linktype))
    nano = magic == 0xA1B23C4D
    pkts, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        pkts.append((sec, frac, bytearray(data[off + 16:off + 16 + incl]), orig))
        off += 16 + incl
    if not pkts:
        sys.exit("pcaptile.py: %s: no packets" % src)
    span = pkts[-1][0] - pkts[0][0] + 1
    target = int(mb * 1e6)
    written, copy = 24, 0
    with open(dst, "wb") as out:
        out.write(data[:24])
        while written < target:
            hi, lo = 10 + (copy >> 16), (copy >> 8) & 0xFF
            third = copy & 0xFF
            chunks = []
            for sec, frac, pkt, orig in pkts:
                p = pkt
                if len(p) >= ip_off + 20 and (p[ip_off] >> 4) == 4:
                    p = bytearray(pkt)
                    for a in (ip_off + 12, ip_off + 16):
                        if p[a] == 127:
                            p[a], p[a + 1], p[a + 2] = hi, lo, third
                chunks.append(struct.pack("<IIII", sec + copy * span, frac, len(p), orig))
                chunks.append(bytes(p))
            blob = b"".join(chunks)
            out.write(blob)
            written += len(blob)
            copy += 1
    print("pcaptile.py: %d copies of %s (%d packets each, %s) -> %s, %.1f MB"
          % (copy, src, len(pkts), "ns" if nano else "us", dst, written / 1e6))


if __name__ == "__main__":
    main()
