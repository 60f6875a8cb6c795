/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Classic pcap and pcapng read without libpcap (see ft_capture.h for why and
 * what).
 *
 * The file is read through one buffer: a read() fills it, records (pcapng:
 * blocks) are taken from it in order, and one cut by the buffer's end is
 * moved to its front before the next read(). Records are checked again as
 * they are read (the file may have changed since the scan): a bad one ends
 * the capture.
 *
 * pcapng is taken as libpcap 1.10 reads it, in the part of the format real
 * captures use: one section (a second Section Header Block is left to
 * libpcap), Ethernet interfaces with one snapshot length, Enhanced Packet
 * Blocks, any time resolution and offset; every other block is skipped, as
 * libpcap skips it, once its length and trailer are checked. Simple Packet
 * Blocks and the obsolete Packet Block are left to libpcap.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_memcpy.h>
#include <rte_mbuf_dyn.h>

#include "ft_capture.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_FILE_HDR 24
#define PCAP_REC_HDR  16
/* libpcap's largest snapshot for Ethernet (max_snaplen_for_dlt()): a file
 * header's snaplen of 0 or above it means this. */
#define PCAP_MAX_SNAPLEN 262144u

/* Link types read (the tcpdump.org LINKTYPE_ values a file carries). */
#define LINKTYPE_NULL       0u   /* BSD loopback: 4-byte address family, the writer's byte order */
#define LINKTYPE_ETHERNET   1u
#define LINKTYPE_RAW        101u /* raw IPv4 or IPv6, by the version nibble */
#define LINKTYPE_LOOP       108u /* OpenBSD loopback: 4-byte address family, big-endian */
#define LINKTYPE_LINUX_SLL  113u /* Linux cooked capture v1 (tcpdump -i any, before 4.99) */
#define LINKTYPE_IPV4       228u
#define LINKTYPE_IPV6       229u
#define LINKTYPE_LINUX_SLL2 276u /* Linux cooked capture v2 (tcpdump -i any) */

#define ETH_HDR 14u
#define ETHERTYPE_IPV4 0x0800u
#define ETHERTYPE_IPV6 0x86ddu

#define PCAPNG_SHB 0x0a0d0d0au       /* Section Header Block (its type reads the same swapped) */
#define PCAPNG_IDB 1u                /* Interface Description Block */
#define PCAPNG_PB  2u                /* Packet Block (obsolete) */
#define PCAPNG_SPB 3u                /* Simple Packet Block */
#define PCAPNG_EPB 6u                /* Enhanced Packet Block */
#define PCAPNG_BYTE_ORDER 0x1a2b3c4du
#define PCAPNG_SHB_MIN 28u           /* block header, byte order, versions, section length, trailer */
#define PCAPNG_SHB_MAX (1u << 20)    /* libpcap refuses a larger first SHB */
#define PCAPNG_BLOCK_MIN 12u         /* block header and trailer */
#define PCAPNG_EPB_HDR 28u           /* block header and the EPB's fixed fields */
#define PCAPNG_OPT_END 0u
#define PCAPNG_OPT_TSRESOL 9u
#define PCAPNG_OPT_TSOFFSET 14u
/* Interfaces of a pcapng section this reader keeps; a file with more is
 * left to libpcap. */
#define PCAPNG_MAX_IFACES 64u

/* How a pcapng interface's time stamps are read (libpcap's conversion to
 * microseconds, computed the way libpcap computes it), and its link type. */
struct ng_iface {
	uint64_t tsresol;   /* units per second: a power of 10 or of 2 */
	int64_t tsoffset;   /* seconds added */
	bool binary;        /* tsresol is a power of 2 */
	uint16_t linktype;
};

/* What the file header says (pcapng: the section header and interfaces). */
struct pcap_format {
	bool ng;
	bool swapped;
	bool nsec;          /* classic: nanosecond fractions */
	uint32_t snaplen;   /* as libpcap takes it: at most PCAP_MAX_SNAPLEN */
	uint32_t linktype;  /* classic: the file's; pcapng: the first interface's */
	bool not_ethernet;  /* some interface's link type is not Ethernet */
	uint32_t n_ifaces;  /* pcapng: interfaces described so far */
	struct ng_iface ifaces[PCAPNG_MAX_IFACES];
};

/* One record (pcapng: packet block), in host order. The frame delivered
 * is eth_len bytes of an Ethernet header made for it (none for an Ethernet
 * record) then the record's bytes from net_off: frame_len in all. */
struct pcap_rec {
	uint64_t t;         /* classic: seconds << 32 | fraction; pcapng: the block's time stamp */
	uint32_t iface;     /* pcapng: the interface it was captured on */
	uint32_t caplen;    /* captured bytes in the record */
	uint32_t data_off;  /* where the captured bytes start in the record */
	uint32_t size;      /* bytes of the whole record */
	uint32_t linktype;
	uint32_t net_off;   /* where the bytes delivered after eth[] start in the record */
	uint32_t frame_len; /* bytes delivered: eth_len + caplen - the link header */
	uint8_t eth_len;    /* 0, or ETH_HDR (a cut link header: fewer, see rec_frame()) */
	uint8_t eth[ETH_HDR];
};

struct ft_capture {
	int fd;
	struct pcap_format fmt;
	uint32_t max_frame;
	int ts_field;
	uint64_t ts_flag;
	bool eof;           /* read() returned 0: what is in the buffer is all */
	bool done;
	bool stream;        /* a pipe (or standard input): read once, as bytes arrive */
	bool starved;       /* stream: the last refill found no more bytes for now */
	bool waiting;       /* stream: the last burst stopped at a record not all arrived */
	bool wants_mbufs;   /* stream: the last burst stopped at a long frame the pool had too
			     * few mbufs to chain now */
	uint8_t *buf;
	size_t pos, end;    /* unread bytes are buf[pos, end) */
	char why[96];       /* why the last record or block was refused */
	char end_why[128];  /* why the capture ended before its end, "" if it did not */
	/* Written by the reading lcore only, read with relaxed loads. */
	uint64_t frames, bytes, errors, nombuf;
};

/* field16(), field32(), field64(): a file's field at p, in host order. */
#define FT_CAPTURE_FIELD(bits)                                                  \
	static inline uint##bits##_t                                            \
	field##bits(const uint8_t *p, bool swapped)                             \
	{                                                                       \
		uint##bits##_t v;                                               \
		memcpy(&v, p, sizeof(v));                                       \
		return swapped ? rte_bswap##bits(v) : v;                        \
	}
FT_CAPTURE_FIELD(16)
FT_CAPTURE_FIELD(32)
FT_CAPTURE_FIELD(64)

/* A link header's field in network byte order. */
#define NET_SWAPPED (RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN)

/* A snapshot length as libpcap takes it for Ethernet. */
static inline uint32_t
adjust_snaplen(uint32_t snaplen)
{
	return snaplen == 0 || snaplen > PCAP_MAX_SNAPLEN ? PCAP_MAX_SNAPLEN : snaplen;
}

/*
 * Link types other than Ethernet are delivered as Ethernet frames, so that
 * the decoder and everything after it (and the port's byte counts) see one
 * kind of frame: the link header is replaced by a 14-byte Ethernet header
 * whose EtherType says what follows (the cooked header's protocol, the
 * loopback header's address family, the raw packet's IP version) and whose
 * source address is the cooked header's link address when it is a MAC
 * (zeros otherwise). A host's capture (tcpdump -i any, a tunnel, loopback)
 * is then analysed as a tap's would be. libpcap, and so the pcap PMD,
 * delivers the link header as it is, which flowtap's decoder cannot read:
 * such a file is never left to the PMD (flowtap reads it as a stream when
 * this reader's scan refuses it).
 */

/* Bytes of a link type's header, or -1 for a link type not read. */
static int
link_hdr_len(uint32_t linktype)
{
	switch (linktype) {
	case LINKTYPE_ETHERNET:
	case LINKTYPE_RAW:
	case LINKTYPE_IPV4:
	case LINKTYPE_IPV6:
		return 0;
	case LINKTYPE_NULL:
	case LINKTYPE_LOOP:
		return 4;
	case LINKTYPE_LINUX_SLL:
		return 16;
	case LINKTYPE_LINUX_SLL2:
		return 20;
	default:
		return -1;
	}
}

/* Why a link type is not read. */
static void
refuse_linktype(uint32_t linktype, char *why, size_t whylen)
{
	snprintf(why, whylen, "link type %u (reads Ethernet, Linux cooked v1 and v2, raw IP and "
		 "BSD loopback)", linktype);
}

/* The EtherType for a BSD address family (AF_INET, and AF_INET6 as Linux,
 * NetBSD/OpenBSD, FreeBSD and macOS number it: Wireshark's list). */
static uint16_t
af_ethertype(uint32_t af)
{
	switch (af) {
	case 2:
		return ETHERTYPE_IPV4;
	case 10: case 24: case 28: case 30:
		return ETHERTYPE_IPV6;
	default:
		return 0; /* not IP: the decoder counts it as such */
	}
}

/* Where a record's frame is and how long (@p r's caplen, data_off and
 * linktype set); its Ethernet header is made by rec_eth() once the record's
 * bytes are at hand. A record cut inside its link header is delivered as an
 * Ethernet header one byte short (at most caplen bytes), which the decoder
 * counts as truncated. */
static inline void
rec_frame(struct pcap_rec *r)
{
	uint32_t lh;

	if (likely(r->linktype == LINKTYPE_ETHERNET)) {
		r->eth_len = 0;
		r->net_off = r->data_off;
		r->frame_len = r->caplen;
		return;
	}
	lh = (uint32_t)link_hdr_len(r->linktype);
	if (r->caplen < lh) {
		r->eth_len = (uint8_t)RTE_MIN(r->caplen, ETH_HDR - 1);
		r->net_off = r->data_off + r->caplen;
		r->frame_len = r->eth_len;
	} else {
		r->eth_len = ETH_HDR;
		r->net_off = r->data_off + lh;
		r->frame_len = ETH_HDR + r->caplen - lh;
	}
}

/* Make a non-Ethernet record's Ethernet header from its link header (@p rec:
 * the whole record). */
static void
rec_eth(struct pcap_rec *r, const uint8_t *rec, bool swapped)
{
	const uint8_t *l = rec + r->data_off, *net = rec + r->net_off;
	const uint32_t net_len = r->frame_len - r->eth_len;
	uint16_t type = 0;
	uint32_t af;

	memset(r->eth, 0, sizeof(r->eth));
	if (r->eth_len < ETH_HDR)
		return; /* cut inside its link header */
	switch (r->linktype) {
	case LINKTYPE_RAW:
		if (net_len != 0)
			type = net[0] >> 4 == 4 ? ETHERTYPE_IPV4 :
			       net[0] >> 4 == 6 ? ETHERTYPE_IPV6 : 0;
		break;
	case LINKTYPE_IPV4:
		type = ETHERTYPE_IPV4;
		break;
	case LINKTYPE_IPV6:
		type = ETHERTYPE_IPV6;
		break;
	case LINKTYPE_NULL:
		/* The capturing host's byte order, normally the file's. */
		af = field32(l, swapped);
		if (af > 0xffff)
			af = rte_bswap32(af);
		type = af_ethertype(af);
		break;
	case LINKTYPE_LOOP:
		type = af_ethertype(field32(l, NET_SWAPPED));
		break;
	case LINKTYPE_LINUX_SLL:
		/* packet type, ARPHRD type, address length, 8 address bytes, protocol */
		type = field16(l + 14, NET_SWAPPED);
		if (l[4] == 0 && l[5] == 6)
			memcpy(r->eth + 6, l + 6, 6);
		break;
	case LINKTYPE_LINUX_SLL2:
		/* protocol, reserved, interface, ARPHRD type, packet type,
		 * address length, 8 address bytes */
		type = field16(l, NET_SWAPPED);
		if (l[11] == 6)
			memcpy(r->eth + 6, l + 12, 6);
		break;
	default:
		break;
	}
	r->eth[12] = (uint8_t)(type >> 8);
	r->eth[13] = (uint8_t)type;
}

/* A classic pcap file header (24 bytes at h). @return true when this reader
 * takes the format. */
static bool
parse_pcap_header(const uint8_t *h, struct pcap_format *f, char *why, size_t whylen)
{
	uint32_t magic;

	memcpy(&magic, h, sizeof(magic));
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS) {
		f->nsec = magic == PCAP_MAGIC_NS;
	} else if (magic == rte_bswap32(PCAP_MAGIC_US) || magic == rte_bswap32(PCAP_MAGIC_NS)) {
		f->swapped = true;
		f->nsec = magic == rte_bswap32(PCAP_MAGIC_NS);
	} else {
		snprintf(why, whylen, "neither pcap nor pcapng (magic 0x%08x)", magic);
		return false;
	}
	/* Other versions have lengths libpcap may swap: left to libpcap. */
	if (field16(h + 4, f->swapped) != 2 || field16(h + 6, f->swapped) != 4) {
		snprintf(why, whylen, "pcap version %u.%u (reads 2.4)", field16(h + 4, f->swapped),
			 field16(h + 6, f->swapped));
		return false;
	}
	f->snaplen = adjust_snaplen(field32(h + 16, f->swapped));
	/* Exactly a link type read: the upper bits (FCS length, reserved)
	 * are left to libpcap. */
	f->linktype = field32(h + 20, f->swapped);
	if (link_hdr_len(f->linktype) < 0) {
		refuse_linktype(f->linktype, why, whylen);
		return false;
	}
	f->not_ethernet = f->linktype != LINKTYPE_ETHERNET;
	return true;
}

/* A pcapng file's first Section Header Block (@p avail bytes at h, the whole
 * file when fewer than the buffer). libpcap checks its length and version,
 * not its trailer. @return its length, or 0 when this reader leaves the file
 * to libpcap. */
static uint32_t
parse_pcapng_header(const uint8_t *h, size_t avail, struct pcap_format *f, char *why,
		    size_t whylen)
{
	uint32_t order, len;
	uint16_t major, minor;

	f->ng = true;
	if (avail < PCAPNG_SHB_MIN) {
		snprintf(why, whylen, "pcapng cut inside its section header");
		return 0;
	}
	memcpy(&order, h + 8, sizeof(order));
	if (order != PCAPNG_BYTE_ORDER && order != rte_bswap32(PCAPNG_BYTE_ORDER)) {
		snprintf(why, whylen, "pcapng with a bad byte-order magic");
		return 0;
	}
	f->swapped = order != PCAPNG_BYTE_ORDER;
	len = field32(h + 4, f->swapped);
	major = field16(h + 12, f->swapped);
	minor = field16(h + 14, f->swapped);
	if (len < PCAPNG_SHB_MIN || len > PCAPNG_SHB_MAX || len % 4 != 0 || len > avail) {
		snprintf(why, whylen, "pcapng section header of %u bytes", len);
		return 0;
	}
	if (major != 1 || (minor != 0 && minor != 2)) {
		snprintf(why, whylen, "pcapng version %u.%u (reads 1.0 and 1.2)", major, minor);
		return 0;
	}
	return len;
}

/* A classic record header at h. */
static inline void
parse_pcap_rec(const uint8_t *h, const struct pcap_format *f, struct pcap_rec *r)
{
	r->t = (uint64_t)field32(h, f->swapped) << 32 | field32(h + 4, f->swapped);
	r->caplen = field32(h + 8, f->swapped);
	r->data_off = PCAP_REC_HDR;
	r->size = PCAP_REC_HDR + r->caplen;
	r->linktype = f->linktype;
	rec_frame(r);
}

/* A record this reader delivers as libpcap and the pcap PMD would: one that
 * libpcap would neither refuse nor cut to the snapshot length, and whose
 * frame fits one mbuf. */
static inline bool
rec_ok(const struct pcap_rec *r, const struct pcap_format *f, uint32_t max_frame)
{
	return r->caplen <= f->snaplen && r->frame_len <= max_frame;
}

/* Why a record's captured length is refused. */
static void
refuse_caplen(struct ft_capture *c, const struct pcap_rec *r, uint32_t room)
{
	if (r->caplen > c->fmt.snaplen)
		snprintf(c->why, sizeof(c->why), "%u captured bytes, above the snaplen %u", r->caplen,
			 c->fmt.snaplen);
	else if (r->caplen > room)
		snprintf(c->why, sizeof(c->why), "%u captured bytes, above its block's %u", r->caplen, room);
	else
		snprintf(c->why, sizeof(c->why), "a frame of %u bytes, above an mbuf's %u",
			 r->frame_len, c->max_frame);
}

/* An Interface Description Block's body (@p len bytes at b, after the block
 * header): the interface is added, with libpcap's checks (a link type read,
 * the first interface's snapshot length, its time options well formed).
 * @return false, with @p why set, when the file is left to libpcap. */
static bool
ng_add_iface(struct pcap_format *f, const uint8_t *b, uint32_t len, char *why, size_t whylen)
{
	struct ng_iface *i;
	bool saw_res = false, saw_off = false;
	uint32_t off = 8, snaplen;
	uint16_t linktype;
	unsigned int k;

	if (len < 8) {
		snprintf(why, whylen, "an interface block of %u bytes", len + PCAPNG_BLOCK_MIN);
		return false;
	}
	linktype = field16(b, f->swapped);
	snaplen = adjust_snaplen(field32(b + 4, f->swapped));
	if (link_hdr_len(linktype) < 0) {
		refuse_linktype(linktype, why, whylen);
		return false;
	}
	if (f->n_ifaces == 0) {
		f->linktype = linktype;
		f->snaplen = snaplen;
	} else if (snaplen != f->snaplen) {
		snprintf(why, whylen, "interfaces with snapshot lengths %u and %u", f->snaplen, snaplen);
		return false;
	}
	if (f->n_ifaces == PCAPNG_MAX_IFACES) {
		snprintf(why, whylen, "more than %u interfaces", PCAPNG_MAX_IFACES);
		return false;
	}
	i = &f->ifaces[f->n_ifaces];
	i->tsresol = 1000000;
	i->tsoffset = 0;
	i->binary = false;
	i->linktype = linktype;
	if (linktype != LINKTYPE_ETHERNET)
		f->not_ethernet = true;
	while (off < len) {
		uint16_t code, olen;
		uint32_t padded;

		if (len - off < 4)
			goto bad;
		code = field16(b + off, f->swapped);
		olen = field16(b + off + 2, f->swapped);
		padded = ((uint32_t)olen + 3) & ~3u;
		off += 4;
		if (len - off < padded)
			goto bad;
		if (code == PCAPNG_OPT_END) {
			if (olen != 0)
				goto bad;
			break;
		}
		if (code == PCAPNG_OPT_TSRESOL) {
			uint8_t v = b[off];

			if (olen != 1 || saw_res || (v & 0x80 ? (v & 0x7f) > 63 : v > 19))
				goto bad;
			saw_res = true;
			i->binary = (v & 0x80) != 0;
			if (i->binary) {
				i->tsresol = (uint64_t)1 << (v & 0x7f);
			} else {
				for (i->tsresol = 1, k = 0; k < v; k++)
					i->tsresol *= 10;
			}
		} else if (code == PCAPNG_OPT_TSOFFSET) {
			if (olen != 8 || saw_off)
				goto bad;
			saw_off = true;
			i->tsoffset = (int64_t)field64(b + off, f->swapped);
		}
		off += padded;
	}
	f->n_ifaces++;
	return true;
bad:
	snprintf(why, whylen, "interface %u has a malformed option", f->n_ifaces);
	return false;
}

/* The capture time of a record in microseconds, as the pcap PMD computes it
 * from libpcap's struct timeval: tv_sec * 1000000 + tv_usec, in 64 bits. */
static inline uint64_t
rec_us(const struct pcap_format *f, const struct pcap_rec *r)
{
	const struct ng_iface *i;
	uint64_t sec, frac;

	if (!f->ng) {
		/* libpcap 1.10 reads both fields as signed 32-bit and opens
		 * at microsecond precision for the PMD: a nanosecond
		 * fraction is divided by 1000. */
		int32_t s = (int32_t)(uint32_t)(r->t >> 32), fr = (int32_t)(uint32_t)r->t;

		return (uint64_t)((int64_t)s * 1000000 + (f->nsec ? fr / 1000 : fr));
	}
	/* pcapng: seconds and fraction in the interface's units, the
	 * fraction scaled to microseconds; tv_usec is its low 32 bits, as
	 * an int. The usual resolutions divide by constants. */
	i = &f->ifaces[r->iface];
	if (i->tsresol == 1000000 && !i->binary) {
		sec = r->t / 1000000;
		frac = r->t % 1000000;
	} else if (i->tsresol == 1000000000 && !i->binary) {
		sec = r->t / 1000000000;
		frac = r->t % 1000000000 / 1000;
	} else {
		sec = r->t / i->tsresol;
		frac = r->t % i->tsresol;
		if (i->binary)
			frac = frac * 1000000 / i->tsresol;
		else if (i->tsresol > 1000000)
			frac /= i->tsresol / 1000000;
		else
			frac *= 1000000 / i->tsresol;
	}
	sec += (uint64_t)i->tsoffset;
	return sec * 1000000 + (uint64_t)(int64_t)(int32_t)(uint32_t)frac;
}

/* Whether a stream has bytes (or its end) to read now: a poll() rather
 * than O_NONBLOCK, which would change a descriptor the shell may share. */
static bool
readable_now(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) > 0;
}

/* Read after the buffer's bytes until it holds @p want (or is full) or the
 * file ends; a stream, unless told to @p wait, also stops at the bytes that
 * have arrived (c->starved). @return -1 on a read error */
static int
read_more(struct ft_capture *c, size_t want, bool wait)
{
	ssize_t got;

	c->starved = false;
	while (!c->eof && c->end < want && c->end < FT_CAPTURE_BUF) {
		if (c->stream && !wait && !readable_now(c->fd)) {
			c->starved = true;
			break;
		}
		got = read(c->fd, c->buf + c->end, FT_CAPTURE_BUF - c->end);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (got == 0)
			c->eof = true;
		c->end += (size_t)got;
	}
	return 0;
}

/* Fill the buffer: keep its unread bytes, read more after them (a file to
 * the buffer's end or its own, a stream what has arrived).
 * @return -1 on a read error */
static int
refill(struct ft_capture *c)
{
	if (c->pos != 0) {
		memmove(c->buf, c->buf + c->pos, c->end - c->pos);
		c->end -= c->pos;
		c->pos = 0;
	}
	return read_more(c, FT_CAPTURE_BUF, false);
}

/* A stream's file header (pcap) or section header (pcapng), waited for:
 * the first 12 bytes say which, and a section header's length. */
static int
read_stream_header(struct ft_capture *c)
{
	uint32_t order, len;

	if (read_more(c, 12, true) < 0)
		return -1;
	if (c->end < 12 || field32(c->buf, false) != PCAPNG_SHB)
		return read_more(c, PCAP_FILE_HDR, true);
	memcpy(&order, c->buf + 8, sizeof(order));
	len = field32(c->buf + 4, order != PCAPNG_BYTE_ORDER);
	/* parse_pcapng_header() refuses a bad length or order. */
	if (len > PCAPNG_SHB_MAX)
		len = PCAPNG_SHB_MAX;
	return read_more(c, len < PCAPNG_SHB_MIN ? PCAPNG_SHB_MIN : len, true);
}

/* A reader of @p fd (taken over), its header parsed: c->done when this
 * reader cannot read it (@p why says why). */
static struct ft_capture *
reader_new(int fd, bool stream, uint32_t max_frame, char *why, size_t whylen)
{
	struct ft_capture *c;

	if (fd < 0)
		return NULL; /* open() said why */
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return NULL;
	}
	c->fd = fd;
	c->stream = stream;
	c->max_frame = max_frame;
	c->ts_field = -1;
	c->buf = calloc(1, FT_CAPTURE_BUF); /* zero pages until read into */
	if (c->buf == NULL)
		goto fail;
	if (stream) {
#ifdef F_SETPIPE_SZ
		/* A pipe of the buffer's size (Linux gives 64 KiB; an
		 * unprivileged process may raise it to fs/pipe-max-size, 1 MiB
		 * by default): a writer and this reader on a shared CPU then
		 * switch every MiB, not every 64 KiB. Not a pipe, or not
		 * allowed: no matter. */
		(void)fcntl(fd, F_SETPIPE_SZ, (int)FT_CAPTURE_BUF);
#endif
		if (read_stream_header(c) < 0)
			goto fail;
	} else {
		(void)posix_fadvise(c->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		if (refill(c) < 0)
			goto fail;
	}
	if (c->end >= 4 && field32(c->buf, false) == PCAPNG_SHB) {
		c->pos = parse_pcapng_header(c->buf, c->end, &c->fmt, why, whylen);
		c->done = c->pos == 0;
	} else if (c->end < PCAP_FILE_HDR) {
		snprintf(why, whylen, c->end == 0 ? "empty" : "shorter than a pcap file header");
		c->done = true;
	} else {
		c->done = !parse_pcap_header(c->buf, &c->fmt, why, whylen);
		c->pos = PCAP_FILE_HDR;
	}
	return c;
fail: {
	int err = errno;

	ft_capture_close(c);
	errno = err;
	return NULL;
}
}

/* What next_record() found. */
enum rec_next {
	REC_OK,         /* a record this reader delivers, whole in the buffer */
	REC_END,        /* the end of the file, on a record boundary */
	REC_CUT_HEADER, /* the file ends inside a record header */
	REC_REFUSED,    /* one this reader leaves to libpcap (c->why says why) */
	REC_CUT,        /* the file ends inside a record's data */
	REC_IO_ERROR,   /* read() failed (errno) */
	REC_AGAIN,      /* a stream: the rest of the record has not arrived yet */
};

/* Make @p n bytes from c->pos whole in the buffer.
 * @return REC_OK, REC_CUT (the file ends first), REC_AGAIN (a stream's
 *   bytes have not all arrived) or REC_IO_ERROR */
static inline enum rec_next
have(struct ft_capture *c, size_t n)
{
	while (c->end - c->pos < n) {
		if (c->eof)
			return REC_CUT;
		if (refill(c) < 0)
			return REC_IO_ERROR;
		if (c->starved && c->end - c->pos < n)
			return REC_AGAIN;
	}
	return REC_OK;
}

/* Make the next record's (block's) header of @p n bytes whole in the buffer.
 * @return REC_OK, REC_END (the file ends before it), REC_CUT_HEADER,
 *   REC_AGAIN or REC_IO_ERROR */
static inline enum rec_next
have_header(struct ft_capture *c, size_t n)
{
	if (c->end - c->pos < n) {
		if (refill(c) < 0)
			return REC_IO_ERROR;
		if (c->starved && c->end - c->pos < n)
			return REC_AGAIN;
		if (c->pos == c->end)
			return REC_END;
		if (c->end - c->pos < n)
			return REC_CUT_HEADER;
	}
	return REC_OK;
}

/* The next classic record. */
static enum rec_next
next_pcap_record(struct ft_capture *c, struct pcap_rec *r)
{
	enum rec_next got = have_header(c, PCAP_REC_HDR);

	if (got != REC_OK)
		return got;
	parse_pcap_rec(c->buf + c->pos, &c->fmt, r);
	if (!rec_ok(r, &c->fmt, c->max_frame)) {
		refuse_caplen(c, r, UINT32_MAX);
		return REC_REFUSED;
	}
	/* Read more while the data runs past the buffer. */
	return have(c, r->size);
}

/* The next pcapng packet block: the blocks before it are checked (length,
 * trailer) and skipped as libpcap skips them, its interfaces added. */
static enum rec_next
next_pcapng_record(struct ft_capture *c, struct pcap_rec *r)
{
	struct pcap_format *f = &c->fmt;

	for (;;) {
		const uint8_t *b;
		uint32_t type, len, body, trailer, room;
		enum rec_next got = have_header(c, 8);

		if (got == REC_END && f->n_ifaces == 0) {
			snprintf(c->why, sizeof(c->why), "no interface description block");
			return REC_REFUSED;
		}
		if (got != REC_OK)
			return got;
		b = c->buf + c->pos;
		type = field32(b, f->swapped);
		len = field32(b + 4, f->swapped);
		/* libpcap takes blocks of up to 16 MiB; one longer than the
		 * buffer is left to it. */
		if (len < PCAPNG_BLOCK_MIN || len % 4 != 0 || len > FT_CAPTURE_BUF) {
			snprintf(c->why, sizeof(c->why), "a block of %u bytes", len);
			return REC_REFUSED;
		}
		got = have(c, len);
		if (got != REC_OK)
			return got;
		b = c->buf + c->pos;
		trailer = field32(b + len - 4, f->swapped);
		if (trailer != len) {
			snprintf(c->why, sizeof(c->why), "a block whose trailer says %u bytes, not %u",
				 trailer, len);
			return REC_REFUSED;
		}
		body = len - PCAPNG_BLOCK_MIN;
		switch (type) {
		case PCAPNG_EPB:
			if (body < PCAPNG_EPB_HDR - 8) {
				snprintf(c->why, sizeof(c->why), "a packet block of %u bytes", len);
				return REC_REFUSED;
			}
			room = body - (PCAPNG_EPB_HDR - 8); /* bytes for the frame */
			r->iface = field32(b + 8, f->swapped);
			r->t = (uint64_t)field32(b + 12, f->swapped) << 32 | field32(b + 16, f->swapped);
			r->caplen = field32(b + 20, f->swapped);
			r->data_off = PCAPNG_EPB_HDR;
			r->size = len;
			if (r->iface >= f->n_ifaces) {
				snprintf(c->why, sizeof(c->why), "a packet on undescribed interface %u",
					 r->iface);
				return REC_REFUSED;
			}
			r->linktype = f->ifaces[r->iface].linktype;
			rec_frame(r);
			if (!rec_ok(r, f, c->max_frame) || r->caplen > room) {
				refuse_caplen(c, r, room);
				return REC_REFUSED;
			}
			return REC_OK;
		case PCAPNG_IDB:
			if (!ng_add_iface(f, b + 8, body, c->why, sizeof(c->why)))
				return REC_REFUSED;
			break;
		case PCAPNG_SHB:
			snprintf(c->why, sizeof(c->why), "a second section");
			return REC_REFUSED;
		case PCAPNG_SPB:
		case PCAPNG_PB:
			snprintf(c->why, sizeof(c->why), "a %s packet block",
				 type == PCAPNG_SPB ? "simple" : "obsolete");
			return REC_REFUSED;
		default:
			break; /* statistics, names, secrets, custom: not frames */
		}
		c->pos += len;
	}
}

/* The next record: its header in @p r and, with REC_OK, the whole record at
 * c->buf + c->pos (not consumed). The scan and the reader both walk the file
 * with it, so they stop at the same record for the same reason. */
static inline enum rec_next
next_record(struct ft_capture *c, struct pcap_rec *r)
{
	return c->fmt.ng ? next_pcapng_record(c, r) : next_pcap_record(c, r);
}

int
ft_capture_scan(const char *path, uint32_t max_frame, struct ft_capture_info *info)
{
	struct ft_capture *c;
	struct pcap_rec r;
	enum rec_next next;

	memset(info, 0, sizeof(*info));
	c = reader_new(open(path, O_RDONLY | O_CLOEXEC), false, max_frame, info->why,
		       sizeof(info->why));
	if (c == NULL)
		return -1;
	if (c->done) {
		ft_capture_close(c);
		return 0;
	}
	while ((next = next_record(c, &r)) == REC_OK) {
		c->pos += r.size;
		info->frames++;
		info->bytes += r.frame_len;
		if (r.frame_len > info->max_caplen)
			info->max_caplen = r.frame_len;
	}
	info->linktype = c->fmt.linktype;
	info->not_ethernet = c->fmt.not_ethernet;
	switch (next) {
	case REC_END:
		info->readable = true;
		break;
	case REC_CUT_HEADER:
		snprintf(info->why, sizeof(info->why), "cut inside the header of record %" PRIu64,
			 info->frames + 1);
		break;
	case REC_REFUSED:
		snprintf(info->why, sizeof(info->why), "record %" PRIu64 ": %s", info->frames + 1,
			 c->why);
		break;
	case REC_CUT:
		snprintf(info->why, sizeof(info->why), "cut inside record %" PRIu64, info->frames + 1);
		break;
	case REC_OK:    /* not after the loop */
	case REC_AGAIN: /* not from a file */
	case REC_IO_ERROR: {
		int err = errno;

		ft_capture_close(c);
		errno = err;
		return -1;
	}
	}
	ft_capture_close(c);
	return 0;
}

struct ft_capture *
ft_capture_open(const char *path, uint32_t max_frame, int ts_field, uint64_t ts_flag)
{
	char why[128];
	struct ft_capture *c = reader_new(open(path, O_RDONLY | O_CLOEXEC), false, max_frame, why,
					  sizeof(why));

	if (c == NULL)
		return NULL;
	if (c->done) {
		ft_capture_close(c);
		errno = EINVAL;
		return NULL;
	}
	ft_capture_set_timestamp(c, ts_field, ts_flag);
	return c;
}

struct ft_capture *
ft_capture_open_stream(int fd, char *why, size_t whylen)
{
	struct ft_capture *c;

	why[0] = '\0';
	/* Any length up to the snapshot length: longer than an mbuf, chained. */
	c = reader_new(fd, true, PCAP_MAX_SNAPLEN, why, whylen);
	if (c == NULL) {
		snprintf(why, whylen, "%s", strerror(errno));
		return NULL;
	}
	if (c->done) {
		ft_capture_close(c);
		errno = EINVAL;
		return NULL;
	}
	return c;
}

void
ft_capture_set_timestamp(struct ft_capture *c, int ts_field, uint64_t ts_flag)
{
	c->ts_field = ts_field;
	c->ts_flag = ts_flag;
}

/* The capture ends here: consumed, or at a record this reader cannot
 * deliver (counted, as the pcap PMD counts a libpcap error; its reason
 * kept for ft_capture_end_reason()). */
static void
finish(struct ft_capture *c, enum rec_next next, uint64_t frame)
{
	c->done = true;
	if (next == REC_END)
		return;
	__atomic_store_n(&c->errors, c->errors + 1, __ATOMIC_RELAXED);
	switch (next) {
	case REC_CUT_HEADER:
	case REC_CUT:
		snprintf(c->end_why, sizeof(c->end_why), "cut inside record %" PRIu64, frame);
		break;
	case REC_IO_ERROR:
		snprintf(c->end_why, sizeof(c->end_why), "read error at record %" PRIu64 ": %s", frame,
			 strerror(errno));
		break;
	default: /* REC_REFUSED, or REC_OK with a frame it cannot deliver: c->why */
		snprintf(c->end_why, sizeof(c->end_why), "record %" PRIu64 ": %s", frame, c->why);
		break;
	}
}

/* Most mbufs one frame is read into. */
#define CHAIN_MAX_SEGS 256

enum chain_result { CHAIN_OK, CHAIN_NO_MBUFS, CHAIN_REFUSED };

/* Copy a record's frame (its made Ethernet header, then its bytes) to
 * @p dst, @p len bytes from frame offset @p off. */
static inline void
copy_frame(uint8_t *dst, const struct pcap_rec *r, const uint8_t *rec, uint32_t off, uint32_t len)
{
	if (off < r->eth_len) {
		uint32_t n = RTE_MIN(len, (uint32_t)r->eth_len - off);

		memcpy(dst, r->eth + off, n);
		dst += n;
		off += n;
		len -= n;
	}
	rte_memcpy(dst, rec + r->net_off + (off - r->eth_len), len);
}

/*
 * A stream's frame longer than its mbuf, in a chain laid out as DPDK's pcap
 * PMD lays one out (eth_pcap_rx_jumbo()): the first mbuf filled to its
 * tailroom, then mbufs without headroom, each filled in turn. A file never
 * needs this (its scan leaves such files to the PMD); a stream cannot be
 * given to it. Refused (c->why) when the pool could never hold the chain.
 */
static enum chain_result
read_chained(struct ft_capture *c, struct rte_mempool *mp, struct rte_mbuf *head,
	     const struct pcap_rec *r)
{
	struct rte_mbuf *segs[CHAIN_MAX_SEGS], *m = head;
	const uint8_t *rec = c->buf + c->pos;
	const uint32_t seg_room = rte_pktmbuf_data_room_size(mp);
	uint32_t off = 0, take = rte_pktmbuf_tailroom(head);
	uint32_t n = (r->frame_len - take + seg_room - 1) / seg_room, i;

	if (n + 1 > CHAIN_MAX_SEGS || n + 1 > mp->size) {
		snprintf(c->why, sizeof(c->why), "a frame of %u bytes needs %u mbufs (the pool has %u)",
			 r->frame_len, n + 1, mp->size);
		return CHAIN_REFUSED;
	}
	if (rte_pktmbuf_alloc_bulk(mp, segs, n) != 0)
		return CHAIN_NO_MBUFS;
	copy_frame(rte_pktmbuf_mtod(head, uint8_t *), r, rec, 0, take);
	head->data_len = (uint16_t)take;
	for (i = 0; i < n; i++) {
		off += take;
		m->next = segs[i];
		m = segs[i];
		m->data_off = 0;
		take = RTE_MIN(r->frame_len - off, (uint32_t)m->buf_len);
		copy_frame(rte_pktmbuf_mtod(m, uint8_t *), r, rec, off, take);
		m->data_len = (uint16_t)take;
	}
	head->nb_segs = (uint16_t)(n + 1);
	return CHAIN_OK;
}

uint16_t
ft_capture_read_burst(struct ft_capture *c, struct rte_mempool *mp, uint16_t port,
		      struct rte_mbuf **pkts, uint16_t n)
{
	uint64_t bytes = 0;
	uint16_t i;

	c->waiting = false;
	c->wants_mbufs = false;
	if (c->done || n == 0)
		return 0;
	if (rte_pktmbuf_alloc_bulk(mp, pkts, n) != 0)
		return 0; /* nothing consumed: read again once mbufs come back */
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct pcap_rec r;
		enum rec_next next = next_record(c, &r);

		if (unlikely(next != REC_OK)) {
			if (next == REC_AGAIN) /* more of a stream later */
				c->waiting = true;
			else
				finish(c, next, c->frames + i + 1);
			break;
		}
		if (unlikely(r.eth_len != 0))
			rec_eth(&r, c->buf + c->pos, c->fmt.swapped);
		if (unlikely(r.frame_len > rte_pktmbuf_tailroom(m))) {
			enum chain_result got = CHAIN_REFUSED;

			if (c->stream) /* a file's records fit (its scan) */
				got = read_chained(c, mp, m, &r);
			if (got == CHAIN_NO_MBUFS) {
				c->wants_mbufs = true; /* nothing consumed: again once mbufs are back */
				break;
			}
			if (got == CHAIN_REFUSED) {
				if (!c->stream)
					snprintf(c->why, sizeof(c->why), "%u captured bytes: the file changed",
						 r.caplen);
				finish(c, REC_OK, c->frames + i + 1);
				break;
			}
		} else {
			copy_frame(rte_pktmbuf_mtod(m, uint8_t *), &r, c->buf + c->pos, 0, r.frame_len);
			m->data_len = (uint16_t)r.frame_len;
		}
		c->pos += r.size;
		m->pkt_len = r.frame_len;
		m->port = port;
		if (c->ts_field >= 0) {
			*RTE_MBUF_DYNFIELD(m, c->ts_field, rte_mbuf_timestamp_t *) =
				rec_us(&c->fmt, &r);
			m->ol_flags |= c->ts_flag;
		}
		bytes += r.frame_len;
	}
	if (i < n)
		rte_pktmbuf_free_bulk(pkts + i, n - i);
	__atomic_store_n(&c->frames, c->frames + i, __ATOMIC_RELAXED);
	__atomic_store_n(&c->bytes, c->bytes + bytes, __ATOMIC_RELAXED);
	return i;
}

bool
ft_capture_done(const struct ft_capture *c)
{
	return c->done;
}

bool
ft_capture_waiting(const struct ft_capture *c)
{
	return c->waiting;
}

const char *
ft_capture_end_reason(const struct ft_capture *c)
{
	return c->end_why;
}

bool
ft_capture_wants_mbufs(const struct ft_capture *c)
{
	return c->wants_mbufs;
}

bool
ft_capture_drop_frame(struct ft_capture *c)
{
	struct pcap_rec r;

	if (c->done || next_record(c, &r) != REC_OK)
		return false; /* the next read_burst() says what is there */
	c->pos += r.size;
	c->wants_mbufs = false;
	__atomic_store_n(&c->nombuf, c->nombuf + 1, __ATOMIC_RELAXED);
	return true;
}

void
ft_capture_stats(const struct ft_capture *c, struct ft_capture_stats *st)
{
	st->frames = __atomic_load_n(&c->frames, __ATOMIC_RELAXED);
	st->bytes = __atomic_load_n(&c->bytes, __ATOMIC_RELAXED);
	st->errors = __atomic_load_n(&c->errors, __ATOMIC_RELAXED);
	st->nombuf = __atomic_load_n(&c->nombuf, __ATOMIC_RELAXED);
}

void
ft_capture_close(struct ft_capture *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c);
}
