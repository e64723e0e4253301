/*
 * tools/frame/pcap.c: a capture file (pcap or pcapng, read by libpcap) as a
 * file of datagrams: the payload of each UDP packet, in order, optionally only
 * those to or from one port. Link types: Ethernet (VLAN tags skipped), raw
 * IP, Linux cooked (SLL, SLL2), BSD loopback. IPv4 fragments other than whole
 * datagrams are skipped, as are packets that are not UDP.
 * Built when libpcap's header is found (frame.mk); nopcap.c otherwise.
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

static unsigned be16(const unsigned char *p) {
    return (unsigned)p[0] << 8 | p[1];
}

/* The IP packet inside a link-layer frame, or NULL. */
static const unsigned char *ip_of(int link, const unsigned char *p, size_t *len) {
    size_t skip;
    unsigned type;
    switch (link) {
    case DLT_EN10MB:
        if (*len < 14) return NULL;
        type = be16(p + 12);
        skip = 14;
        while ((type == 0x8100 || type == 0x88A8) && *len >= skip + 4) {
            type = be16(p + skip + 2);
            skip += 4;
        }
        if (type != 0x0800 && type != 0x86DD) return NULL;
        break;
    case DLT_LINUX_SLL:
        skip = 16;
        break;
    case DLT_LINUX_SLL2:
        skip = 20;
        break;
    case DLT_NULL:
    case DLT_LOOP:
        skip = 4;
        break;
    case DLT_RAW:
#ifdef DLT_IPV4
    case DLT_IPV4:
    case DLT_IPV6:
#endif
        skip = 0;
        break;
    default:
        return NULL;
    }
    if (*len < skip) return NULL;
    *len -= skip;
    return p + skip;
}

/* The UDP payload of an IP packet, or NULL; *ports gets source and destination. */
static const unsigned char *udp_of(const unsigned char *p, size_t *len, unsigned ports[2]) {
    size_t hl, ulen;
    unsigned next;
    if (*len < 1) return NULL;
    if (p[0] >> 4 == 4) {
        if (*len < 20) return NULL;
        hl = (size_t)(p[0] & 15) * 4;
        if (p[9] != 17 || (be16(p + 6) & 0x3FFF) != 0 || *len < hl) return NULL; /* not UDP, or a fragment */
    } else if (p[0] >> 4 == 6) {
        if (*len < 40) return NULL;
        next = p[6];
        hl = 40;
        /* hop-by-hop, routing, destination options */
        while ((next == 0 || next == 43 || next == 60) && *len >= hl + 8) {
            next = p[hl];
            hl += ((size_t)p[hl + 1] + 1) * 8;
        }
        if (next != 17) return NULL;
    } else {
        return NULL;
    }
    if (*len < hl + 8) return NULL;
    p += hl;
    *len -= hl;
    ports[0] = be16(p);
    ports[1] = be16(p + 2);
    ulen = be16(p + 4);
    if (ulen >= 8 && ulen - 8 < *len - 8) *len = ulen; /* Ethernet padding */
    *len -= 8;
    return p + 8;
}

int capture_datagrams(const char *path, int port, int (*each)(void *ctx, const unsigned char *d, size_t len,
                                                               const char *where),
                      void *ctx) {
    char err[PCAP_ERRBUF_SIZE], where[128];
    struct pcap_pkthdr *h;
    const unsigned char *pkt;
    unsigned long n = 0;
    int rc = 0, got;
    pcap_t *pc = pcap_open_offline(path, err);
    if (!pc) {
        fail("cannot read the capture %s: %s", path, err);
        return EXIT_IO;
    }
    while (!rc && (got = pcap_next_ex(pc, &h, &pkt)) == 1) {
        size_t len = h->caplen;
        unsigned ports[2];
        const unsigned char *d = ip_of(pcap_datalink(pc), pkt, &len);
        n++;
        if (!d || !(d = udp_of(d, &len, ports))) continue;
        if (port >= 0 && ports[0] != (unsigned)port && ports[1] != (unsigned)port) continue;
        snprintf(where, sizeof where, "%s: packet %lu (UDP %u -> %u)%s", path, n, ports[0], ports[1],
                 h->caplen < h->len ? " (cut by the capture's snap length)" : "");
        rc = each(ctx, d, len, where);
    }
    if (!rc && got == -1) {
        fail("cannot read the capture %s: %s", path, pcap_geterr(pc));
        rc = EXIT_IO;
    }
    pcap_close(pc);
    return rc;
}

int capture_supported(void) {
    return 1;
}
