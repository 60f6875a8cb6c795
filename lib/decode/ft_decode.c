/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowtap packet decoder: see ft_decode.h for the contract.
 *
 * Every bound is checked in 32-bit arithmetic before the bytes it covers are
 * read, so neither a lying length field nor a short capture can make the
 * decoder read past caplen. On a malformed frame the fields decoded before the
 * fault are left in place (useful when debugging a capture); cls, malformed
 * and a zero hash are what callers must look at.
 */
#include <stddef.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>
#ifdef RTE_ARCH_X86_64
#include <emmintrin.h>
#ifdef __SSE4_2__
#include <nmmintrin.h>
#endif
#endif

#include "ft_decode.h"

/* IPv6 extension headers netinet/in.h does not name (RFC 7401, RFC 5533). */
#define FT_IPPROTO_HIP 139
#define FT_IPPROTO_SHIM6 140

/* TCP option kinds and the lengths we trust (RFC 9293, RFC 7323, RFC 2018). */
#define FT_TCPOPT_EOL 0
#define FT_TCPOPT_NOP 1
#define FT_TCPOPT_MSS 2
#define FT_TCPOPT_WSCALE 3
#define FT_TCPOPT_SACK_PERM 4
#define FT_TCPOPT_TS 8
#define FT_TCPOPT_FASTOPEN 34 /* RFC 7413 */
#define FT_TCPOPT_EXP 254     /* RFC 6994; Fast Open's experiment ID is 0xF989 */
#define FT_TFO_EXID 0xf989
#define FT_TFO_COOKIE_MIN 4   /* bytes; Linux's TCP_FASTOPEN_COOKIE_MIN */
#define FT_TCPOLEN_MSS 4
#define FT_TCPOLEN_WSCALE 3
#define FT_TCPOLEN_SACK_PERM 2
#define FT_TCPOLEN_TS 10

#define FT_IP4_RESERVED_FLAG 0x8000 /* "evil bit": must be zero on the wire */
#define FT_IP6_FRAG_HLEN 8
#define FT_IP6_RT_TYPE0 0 /* RFC 2460 (deprecated): addresses, the last one final */
#define FT_IP6_RT_TYPE2 2 /* RFC 6275: one address, the home address */
#define FT_IP6_RT_SRH 4   /* RFC 8754: segment list, segment 0 final */
#define FT_IP6_FRAG_OFF_MASK 0xfff8 /* 13-bit offset in 8-byte units, already << 3 */
#define FT_IP6_FRAG_M 0x0001
#define FT_ICMP_MIN_HLEN 4 /* type, code, checksum: all ICMP/ICMPv6 have them */

/* PPPoE session stage (RFC 2516 section 4) and the PPP protocols we follow (RFC 1661, 1332, 5072). */
#define FT_PPPOE_HLEN 6
#define FT_PPPOE_VER_TYPE 0x11 /* version 1, type 1: the only ones defined */
#define FT_PPPOE_CODE_SESSION 0x00
#define FT_PPP_PROTO_LEN 2
#define FT_PPP_PROTO_IP4 0x0021
#define FT_PPP_PROTO_IP6 0x0057

/* Arbitrary non-zero seed so an all-zero tuple does not hash to zero. */
#define FT_SYM_HASH_SEED 0x5f1a7c3du

/*
 * Byte loads through memcpy: the frame may start at any alignment (pcap
 * buffers, a test's odd offset) and struct rte_ether_hdr is only
 * __rte_aligned(2), so we never dereference a wider type at data + off.
 * The packed rte_ip/tcp/udp headers are fine to read through directly.
 */
static inline uint16_t
ft_rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return rte_be_to_cpu_16(v);
}

static inline uint32_t
ft_rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return rte_be_to_cpu_32(v);
}

/* Bytes of the transport header we may read: bounded by datagram and capture. */
static inline uint32_t
ft_avail(uint32_t caplen, uint32_t ip_end, uint32_t off)
{
	uint32_t lim = RTE_MIN(caplen, ip_end);

	return lim > off ? lim - off : 0;
}

static inline enum ft_pkt_class
ft_malformed(struct ft_pkt *p, enum ft_malformed_reason why)
{
	p->cls = FT_CLS_MALFORMED;
	p->malformed = why;
	p->hash = 0; /* never steer on garbage: keeps malformed frames deterministic */
	return FT_CLS_MALFORMED;
}

static inline bool
ft_is_vlan_tpid(uint16_t etype)
{
	return etype == RTE_ETHER_TYPE_VLAN || etype == RTE_ETHER_TYPE_QINQ ||
	       etype == RTE_ETHER_TYPE_QINQ1;
}

/* Fragment class common to both families: L4 is not decoded, payload is all of it. */
static inline void
ft_set_fragment(struct ft_pkt *p, uint32_t data_off, uint32_t ip_end)
{
	p->cls = FT_CLS_FRAGMENT;
	p->l4_off = (uint16_t)data_off;
	p->payload_off = (uint16_t)data_off;
	p->payload_len = (uint16_t)(ip_end - data_off);
	p->l4_proto = p->frag.next_proto;
}

/*
 * An IPv4 address into a 16-byte address field: the address, then zeros,
 * in one 16-byte store. The symmetric hash and the flow key read the field
 * back at once in 8- and 16-byte loads; after a 4-byte store (the rest
 * zeroed by ft_decode()'s memset) those loads cannot be forwarded from the
 * store buffer and wait for the stores to retire: the first load of the
 * hash was half of its time inline (perf annotate).
 */
static inline void
ft_store_ip4(uint8_t field[16], const void *addr)
{
#ifdef RTE_ARCH_X86_64
	uint32_t a;

	memcpy(&a, addr, 4);
	_mm_storeu_si128((__m128i *)(void *)field, _mm_cvtsi32_si128((int)a));
#else
	memcpy(field, addr, 4); /* the rest is zero already */
#endif
}

static enum ft_malformed_reason
ft_decode_ip4(const uint8_t *data, uint32_t caplen, uint32_t wirelen, struct ft_pkt *p,
	      uint32_t *ip_end)
{
	const uint32_t l3 = p->l3_off;
	const struct rte_ipv4_hdr *ip;
	uint32_t hlen, totlen;
	uint16_t frag;

	p->ip_ver = 4;
	if (caplen - l3 < sizeof(*ip))
		return FT_MAL_TRUNC_IP4;
	ip = (const struct rte_ipv4_hdr *)(data + l3);
	if ((ip->version_ihl >> 4) != 4)
		return FT_MAL_IP4_BAD_VERSION;
	hlen = (uint32_t)(ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) * RTE_IPV4_IHL_MULTIPLIER;
	if (hlen < sizeof(*ip) || hlen > caplen - l3)
		return FT_MAL_IP4_BAD_IHL;
	totlen = rte_be_to_cpu_16(ip->total_length);
	/* wirelen, not caplen: a snaplen-cut capture still has a valid datagram */
	if (totlen < hlen || totlen > wirelen - l3)
		return FT_MAL_IP4_BAD_TOTLEN;

	/* Anything past l3 + totlen is Ethernet padding, not transport bytes. */
	*ip_end = l3 + totlen;
	p->ttl = ip->time_to_live;
	p->ip_len = (uint16_t)totlen;
	p->l4_proto = ip->next_proto_id;
	ft_store_ip4(p->src, &ip->src_addr);
	ft_store_ip4(p->dst, &ip->dst_addr);
	p->l4_off = (uint16_t)(l3 + hlen);

	frag = rte_be_to_cpu_16(ip->fragment_offset);
	if ((frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0) {
		p->frag.id = rte_be_to_cpu_16(ip->packet_id);
		p->frag.offset = (uint16_t)((frag & RTE_IPV4_HDR_OFFSET_MASK) *
					    RTE_IPV4_HDR_OFFSET_UNITS);
		p->frag.more = !!(frag & RTE_IPV4_HDR_MF_FLAG);
		p->frag.df = !!(frag & RTE_IPV4_HDR_DF_FLAG);
		p->frag.reserved = !!(frag & FT_IP4_RESERVED_FLAG);
		p->frag.next_proto = ip->next_proto_id;
		ft_set_fragment(p, l3 + hlen, *ip_end);
	}
	return FT_MAL_NONE;
}

static enum ft_malformed_reason
ft_decode_ip6(const uint8_t *data, uint32_t caplen, uint32_t wirelen, struct ft_pkt *p,
	      uint32_t *ip_end)
{
	const uint32_t l3 = p->l3_off;
	const struct rte_ipv6_hdr *ip;
	uint32_t plen, off, lim, hlen, n_ext;
	uint16_t fo;
	uint8_t nh;

	p->ip_ver = 6;
	if (caplen - l3 < sizeof(*ip))
		return FT_MAL_TRUNC_IP6;
	ip = (const struct rte_ipv6_hdr *)(data + l3);
	if ((rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6)
		return FT_MAL_IP6_BAD_VERSION;
	plen = rte_be_to_cpu_16(ip->payload_len);
	if (sizeof(*ip) + plen > wirelen - l3)
		return FT_MAL_IP6_BAD_PLEN;

	*ip_end = l3 + sizeof(*ip) + plen;
	/* 40 + plen may exceed 65535 (plen > 65495); saturate rather than wrap. */
	p->ip_len = (uint16_t)RTE_MIN(sizeof(*ip) + plen, (uint32_t)UINT16_MAX);
	p->ttl = ip->hop_limits;
	memcpy(p->src, ip->src_addr, 16);
	memcpy(p->dst, ip->dst_addr, 16);

	/* An extension header must fit in the datagram and in what we captured. */
	lim = RTE_MIN(*ip_end, caplen);
	off = l3 + sizeof(*ip);
	nh = ip->proto;
	for (n_ext = 0;; n_ext++) {
		switch (nh) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_MH:
		case FT_IPPROTO_HIP:
		case FT_IPPROTO_SHIM6:
		case IPPROTO_AH:
		case IPPROTO_FRAGMENT:
			break;
		default:
			/* Transport, or 59 / 50 (no next header, ESP): end of the walk. */
			goto done;
		}
		/* Bounded walk: a chain of tiny headers must not cost unbounded work. */
		if (n_ext == FT_DECODE_MAX_IP6_EXT)
			return FT_MAL_IP6_EXT_TOO_MANY;
		/* Every extension header is at least 8 bytes: covers the length byte. */
		if (lim < off || lim - off < 8)
			return FT_MAL_IP6_EXT_TRUNC;
		if (nh == IPPROTO_FRAGMENT)
			hlen = FT_IP6_FRAG_HLEN;
		else if (nh == IPPROTO_AH)
			hlen = ((uint32_t)data[off + 1] + 2) * 4; /* RFC 4302: 32-bit words - 2 */
		else
			hlen = ((uint32_t)data[off + 1] + 1) * 8; /* RFC 8200: 8-octet units - 1 */
		if (hlen > lim - off)
			return FT_MAL_IP6_EXT_TRUNC;

		/* A Routing header on its way (segments left): the transport's
		 * checksum sums its final destination, not the header's. Types
		 * whose addresses are compressed (RPL, 3) are not read. */
		if (nh == IPPROTO_ROUTING && data[off + 3] != 0) {
			const uint8_t type = data[off + 2];

			if ((type == FT_IP6_RT_TYPE0 || type == FT_IP6_RT_TYPE2) && hlen >= 24)
				p->final_dst_off = (uint16_t)(off + 8 + 16 * ((hlen - 8) / 16 - 1));
			else if (type == FT_IP6_RT_SRH && hlen >= 24)
				p->final_dst_off = (uint16_t)(off + 8);
		}
		if (nh == IPPROTO_FRAGMENT) {
			fo = ft_rd16(data + off + 2);
			/* An atomic fragment (RFC 6946) is a whole datagram: keep walking. */
			if ((fo & (FT_IP6_FRAG_OFF_MASK | FT_IP6_FRAG_M)) != 0) {
				p->frag.id = ft_rd32(data + off + 4);
				p->frag.offset = fo & FT_IP6_FRAG_OFF_MASK;
				p->frag.more = fo & FT_IP6_FRAG_M;
				p->frag.frag_hdr_off = (uint16_t)(off - l3);
				p->frag.next_proto = data[off];
				ft_set_fragment(p, off + hlen, *ip_end);
				return FT_MAL_NONE;
			}
		}
		nh = data[off];
		off += hlen;
	}
done:
	p->l4_proto = nh;
	p->l4_off = (uint16_t)off;
	return FT_MAL_NONE;
}

/*
 * The PPPoE session header at off and the PPP protocol field after it. On
 * success *etype becomes the ethertype of what PPP carries (0 when not IP:
 * LCP, IPCP, ... or a protocol field compressed to 1 byte, which reads as
 * another protocol), and *end the end of the PPPoE payload.
 *
 * The session id is recorded but, unlike a VLAN id, is not part of the flow
 * identity (flow key, symmetric hash). VLANs may separate address spaces that
 * overlap; a PPPoE session is one subscriber's point-to-point link whose
 * addresses the access concentrator assigns, so the addresses (with the VLANs
 * around the session) already tell connections apart. The id alone would not
 * even identify the session: it is unique only together with both MAC
 * addresses (RFC 2516 section 4), which no key holds. And a session
 * re-established with the same address (static address, quick reconnect)
 * keeps its TCP connections under a new id: keying on it would split them.
 */
static enum ft_malformed_reason
ft_decode_pppoe(const uint8_t *data, uint32_t caplen, uint32_t wirelen, uint32_t off,
		struct ft_pkt *p, uint16_t *etype, uint32_t *end)
{
	uint32_t plen;
	uint16_t proto;

	/* The protocol field is part of the fixed header: IP cannot be found without it. */
	if (caplen - off < FT_PPPOE_HLEN + FT_PPP_PROTO_LEN)
		return FT_MAL_TRUNC_PPPOE;
	if (data[off] != FT_PPPOE_VER_TYPE || data[off + 1] != FT_PPPOE_CODE_SESSION)
		return FT_MAL_PPPOE_BAD_HEADER;
	/* The length counts the PPP protocol field: below 2 there is no PPP frame. */
	plen = ft_rd16(data + off + 4);
	if (plen < FT_PPP_PROTO_LEN || plen > wirelen - off - FT_PPPOE_HLEN)
		return FT_MAL_PPPOE_BAD_LEN;

	p->pppoe = 1;
	p->pppoe_sid = ft_rd16(data + off + 2);
	*end = off + FT_PPPOE_HLEN + plen;
	proto = ft_rd16(data + off + FT_PPPOE_HLEN);
	if (proto == FT_PPP_PROTO_IP4)
		*etype = RTE_ETHER_TYPE_IPV4;
	else if (proto == FT_PPP_PROTO_IP6)
		*etype = RTE_ETHER_TYPE_IPV6;
	else
		*etype = 0;
	return FT_MAL_NONE;
}

/* Options are inside [opt, opt + len), len = doff*4 - 20, already within
 * caplen. An option whose length is below 2 or runs past the header ends
 * the walk and marks the segment (opt_bad), which is still TCP: Linux's
 * tcp_parse_options() stops there too and accepts the segment, so a monitor
 * that dropped it would miss what the host takes (an evasion). */
static void
ft_decode_tcp_opts(const uint8_t *opt, uint32_t len, struct ft_tcp_meta *t)
{
	uint32_t i = 0, olen;
	uint8_t kind;

	while (i < len) {
		kind = opt[i];
		if (kind == FT_TCPOPT_EOL)
			break;
		if (kind == FT_TCPOPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2)
			goto bad;
		olen = opt[i + 1];
		if (olen < 2 || olen > len - i)
			goto bad;
		/* A known kind with a wrong length is ignored, as stacks do. */
		switch (kind) {
		case FT_TCPOPT_MSS:
			if (olen == FT_TCPOLEN_MSS)
				t->mss = ft_rd16(opt + i + 2);
			break;
		case FT_TCPOPT_WSCALE:
			/* Kept as sent: the tracker judges shifts above 14 (RFC 7323). */
			if (olen == FT_TCPOLEN_WSCALE) {
				t->wscale = opt[i + 2];
				t->has_wscale = 1;
			}
			break;
		case FT_TCPOPT_SACK_PERM:
			if (olen == FT_TCPOLEN_SACK_PERM)
				t->sack_perm = 1;
			break;
		case FT_TCPOPT_TS:
			if (olen == FT_TCPOLEN_TS) {
				t->has_ts = 1;
				t->ts_val = ft_rd32(opt + i + 2);
				t->ts_ecr = ft_rd32(opt + i + 6);
			}
			break;
		case FT_TCPOPT_FASTOPEN:
			/* Kind and length alone ask for a cookie: no data taken. */
			if (olen >= 2 + FT_TFO_COOKIE_MIN)
				t->tfo_cookie = 1;
			break;
		case FT_TCPOPT_EXP:
			if (olen >= 4 + FT_TFO_COOKIE_MIN && ft_rd16(opt + i + 2) == FT_TFO_EXID)
				t->tfo_cookie = 1;
			break;
		default:
			break;
		}
		i += olen;
	}
	return;
bad:
	t->opt_bad = 1;
}

static enum ft_malformed_reason
ft_decode_tcp(const uint8_t *data, uint32_t caplen, uint32_t ip_end, struct ft_pkt *p)
{
	const uint32_t l4 = p->l4_off;
	const struct rte_tcp_hdr *th;
	uint32_t hlen;

	if (ft_avail(caplen, ip_end, l4) < sizeof(*th))
		return FT_MAL_TRUNC_TCP;
	th = (const struct rte_tcp_hdr *)(data + l4);
	hlen = (uint32_t)(th->data_off >> 4) * 4;
	if (hlen < sizeof(*th))
		return FT_MAL_TCP_BAD_DOFF;
	if (hlen > ip_end - l4 || hlen > caplen - l4)
		return FT_MAL_TCP_DOFF_OVERRUN;

	p->cls = FT_CLS_TCP;
	p->sport = rte_be_to_cpu_16(th->src_port);
	p->dport = rte_be_to_cpu_16(th->dst_port);
	p->tcp.seq = rte_be_to_cpu_32(th->sent_seq);
	p->tcp.ack = rte_be_to_cpu_32(th->recv_ack);
	p->tcp.win = rte_be_to_cpu_16(th->rx_win);
	p->tcp.urp = rte_be_to_cpu_16(th->tcp_urp);
	p->tcp.flags = th->tcp_flags;
	p->tcp.wscale = 0;
	p->tcp.has_wscale = 0;
	p->l4_hlen = (uint16_t)hlen;
	p->payload_off = (uint16_t)(l4 + hlen);
	p->payload_len = (uint16_t)(ip_end - (l4 + hlen));
	ft_decode_tcp_opts(data + l4 + sizeof(*th), hlen - sizeof(*th), &p->tcp);
	return FT_MAL_NONE;
}

static enum ft_malformed_reason
ft_decode_udp(const uint8_t *data, uint32_t caplen, uint32_t ip_end, struct ft_pkt *p)
{
	const uint32_t l4 = p->l4_off;
	const struct rte_udp_hdr *uh;
	uint32_t ulen;

	if (ft_avail(caplen, ip_end, l4) < sizeof(*uh))
		return FT_MAL_TRUNC_UDP;
	uh = (const struct rte_udp_hdr *)(data + l4);
	ulen = rte_be_to_cpu_16(uh->dgram_len);
	if (ulen < sizeof(*uh) || ulen > ip_end - l4)
		return FT_MAL_UDP_BAD_LEN;

	p->cls = FT_CLS_UDP;
	p->sport = rte_be_to_cpu_16(uh->src_port);
	p->dport = rte_be_to_cpu_16(uh->dst_port);
	p->l4_hlen = sizeof(*uh);
	p->payload_off = (uint16_t)(l4 + sizeof(*uh));
	/* The IP length bounds the payload, as for TCP; ulen was only validated. */
	p->payload_len = (uint16_t)(ip_end - (l4 + sizeof(*uh)));
	return FT_MAL_NONE;
}

/* Dispatch on the transport once l4_off and ip_end are known. */
static enum ft_malformed_reason
ft_decode_l4(const uint8_t *data, uint32_t caplen, uint32_t ip_end, struct ft_pkt *p)
{
	const uint8_t icmp = p->ip_ver == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;

	if (p->l4_proto == IPPROTO_TCP)
		return ft_decode_tcp(data, caplen, ip_end, p);
	if (p->l4_proto == IPPROTO_UDP)
		return ft_decode_udp(data, caplen, ip_end, p);

	/* ICMP and other transports: no header is parsed, the rest is payload. */
	p->payload_off = p->l4_off;
	p->payload_len = (uint16_t)(ip_end - p->l4_off);
	if (p->l4_proto == icmp) {
		if (ft_avail(caplen, ip_end, p->l4_off) < FT_ICMP_MIN_HLEN)
			return FT_MAL_TRUNC_ICMP;
		p->cls = FT_CLS_ICMP;
	} else {
		p->cls = FT_CLS_OTHER_IP;
	}
	return FT_MAL_NONE;
}

/*
 * Zero a decoded view in 16-byte stores. memset() of its 108 bytes compiles
 * to rep stosq (so does a loop of vector stores), whose start-up was a
 * quarter of ft_decode()'s time inline (perf annotate). Seven stores, the
 * last overlapping the sixth: a change of the struct's size past them
 * stops the build here.
 */
static inline void
pkt_clear(struct ft_pkt *p)
{
#ifdef RTE_ARCH_X86_64
	char *c = (char *)p;
	const __m128i z = _mm_setzero_si128();

	_Static_assert(sizeof(*p) > 96 && sizeof(*p) <= 112, "pkt_clear() covers 97 to 112 bytes");
	_mm_storeu_si128((__m128i *)(void *)c, z);
	_mm_storeu_si128((__m128i *)(void *)(c + 16), z);
	_mm_storeu_si128((__m128i *)(void *)(c + 32), z);
	_mm_storeu_si128((__m128i *)(void *)(c + 48), z);
	_mm_storeu_si128((__m128i *)(void *)(c + 64), z);
	_mm_storeu_si128((__m128i *)(void *)(c + 80), z);
	_mm_storeu_si128((__m128i *)(void *)(c + sizeof(*p) - 16), z);
#else
	memset(p, 0, sizeof(*p));
#endif
}

enum ft_pkt_class
ft_decode(const uint8_t *data, uint32_t caplen, uint32_t wirelen, struct ft_pkt *p)
{
	enum ft_malformed_reason why;
	uint32_t off, ip_end = 0, pppoe_end;
	uint16_t etype;

	pkt_clear(p);
	p->malformed = FT_MAL_NONE;
	/* A frame is never shorter than what was captured of it. */
	if (wirelen < caplen)
		wirelen = caplen;

	if (caplen < RTE_ETHER_HDR_LEN)
		return ft_malformed(p, FT_MAL_TRUNC_ETHER);
	etype = ft_rd16(data + offsetof(struct rte_ether_hdr, ether_type));
	off = RTE_ETHER_HDR_LEN;
	while (ft_is_vlan_tpid(etype)) {
		if (p->n_vlan == FT_DECODE_MAX_VLAN)
			return ft_malformed(p, FT_MAL_VLAN_TOO_DEEP);
		if (caplen - off < RTE_VLAN_HLEN)
			return ft_malformed(p, FT_MAL_TRUNC_VLAN);
		p->vlan[p->n_vlan++] = ft_rd16(data + off) & RTE_VLAN_ID_MASK;
		etype = ft_rd16(data + off + 2);
		off += RTE_VLAN_HLEN;
	}
	if (etype == RTE_ETHER_TYPE_PPPOE_SESSION) {
		why = ft_decode_pppoe(data, caplen, wirelen, off, p, &etype, &pppoe_end);
		if (why != FT_MAL_NONE)
			return ft_malformed(p, why);
		off += FT_PPPOE_HLEN + FT_PPP_PROTO_LEN;
		/*
		 * What PPP carries ends with the PPPoE payload: from here on it is
		 * the frame, so an IP length reaching past it is malformed and the
		 * bytes after it are padding, never transport bytes.
		 */
		wirelen = pppoe_end;
		caplen = RTE_MIN(caplen, pppoe_end);
	}
	p->l3_off = (uint16_t)off;

	if (etype == RTE_ETHER_TYPE_IPV4) {
		why = ft_decode_ip4(data, caplen, wirelen, p, &ip_end);
	} else if (etype == RTE_ETHER_TYPE_IPV6) {
		why = ft_decode_ip6(data, caplen, wirelen, p, &ip_end);
	} else {
		p->cls = FT_CLS_NON_IP; /* hash stays 0: nothing to steer on */
		return FT_CLS_NON_IP;
	}
	if (why != FT_MAL_NONE)
		return ft_malformed(p, why);

	if (p->cls == FT_CLS_FRAGMENT) {
		/* Only the 3-tuple + id is common to all fragments of a datagram;
		 * IPv6 identifies it by addresses and id alone (RFC 8200 4.5), so
		 * that fragments that disagree on the next header meet (and are
		 * told apart as inconsistent) in one defragmenter. */
		p->hash = ft_decode_sym_hash(p->src, 0, p->dst, 0,
					     p->ip_ver == 4 ? p->frag.next_proto : 0, p->frag.id);
		return FT_CLS_FRAGMENT;
	}

	why = ft_decode_l4(data, caplen, ip_end, p);
	if (why != FT_MAL_NONE)
		return ft_malformed(p, why);
	p->hash = ft_decode_sym_hash(p->src, p->sport, p->dst, p->dport, p->l4_proto,
				     ((uint32_t)p->vlan[0] << 16) | p->vlan[1]);
	return (enum ft_pkt_class)p->cls;
}

/*
 * The tuple hashed, endpoints in canonical order so both directions produce
 * the same words: [0..1] low address, [2..3] high address, [4] low port,
 * high port and protocol, [5] extra.
 *
 * It is an array of uint64_t, not a struct, on purpose: rte_hash_crc() reads
 * its input through uint64_t (and uint32_t, ...) pointers, so at -O2 with
 * strict aliasing GCC may drop stores made through any other type (seen:
 * the hash ignored ports and protocol). 48 bytes keeps every read 8 wide.
 */
#define FT_SYM_WORDS 6

uint32_t
ft_decode_sym_hash(const uint8_t *a, uint16_t ap, const uint8_t *b, uint16_t bp,
		   uint8_t proto, uint32_t extra)
{
	uint64_t w[FT_SYM_WORDS];
	int c = ft_addr_cmp(a, b);

	if (c > 0 || (c == 0 && ap > bp)) {
		const uint8_t *x = a;
		uint16_t xp = ap;

		a = b;
		ap = bp;
		b = x;
		bp = xp;
	}
	memcpy(&w[0], a, 16);
	memcpy(&w[2], b, 16);
	w[4] = (uint64_t)ap | (uint64_t)bp << 16 | (uint64_t)proto << 32;
	w[5] = extra;
#ifdef __SSE4_2__
	/* The crc32 instruction itself, as rte_hash_crc() computes it: the
	 * build targets SSE4.2 (DPDK's flags), and rte_hash_crc() tests which
	 * CRC it may use on every 8 bytes, a third of this function's
	 * instructions on every packet. The same values (test_decode pins them). */
	{
		uint64_t h = FT_SYM_HASH_SEED;
		unsigned int i;

		for (i = 0; i < FT_SYM_WORDS; i++)
			h = _mm_crc32_u64(h, w[i]);
		return (uint32_t)h;
	}
#else
	return rte_hash_crc(w, sizeof(w), FT_SYM_HASH_SEED);
#endif
}

/* Checksums ---------------------------------------------------------------- */

/* a + b in ones' complement arithmetic on 64 bits (the carry goes round). */
static inline uint64_t
csum_add64(uint64_t a, uint64_t b)
{
	a += b;
	return a + (a < b);
}

/*
 * The ones' complement sum of @p n bytes as 16-bit words loaded natively,
 * left unfolded (fold it with ft_csum_fold64()). Eight
 * bytes per add (RFC 1071 section 2(B): a sum of wider words folds to the
 * same 16-bit sum): a load, an add and an add of the carry, where DPDK's
 * rte_raw_cksum() takes a load and an add per two bytes (callgrind, bulk
 * segments of 1400 bytes: 841 instructions per segment with it).
 */
static inline uint64_t
csum_acc(const uint8_t *p, uint32_t n)
{
	uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, w0, w1, w2, w3;
	uint32_t w32;
	uint16_t w16;
	uint8_t last[2] = { 0, 0 };

	/* Four carry chains, so that the adds need not wait for each other
	 * (one 32-byte memcpy() became vector loads stored and read back). */
	for (; n >= 32; p += 32, n -= 32) {
		memcpy(&w0, p, 8);
		memcpy(&w1, p + 8, 8);
		memcpy(&w2, p + 16, 8);
		memcpy(&w3, p + 24, 8);
		s0 = csum_add64(s0, w0);
		s1 = csum_add64(s1, w1);
		s2 = csum_add64(s2, w2);
		s3 = csum_add64(s3, w3);
	}
	s0 = csum_add64(csum_add64(s0, s1), csum_add64(s2, s3));
	if (n >= 16) {
		memcpy(&w0, p, 8);
		memcpy(&w1, p + 8, 8);
		s0 = csum_add64(csum_add64(s0, w0), w1);
		p += 16;
		n -= 16;
	}
	/* The last 0 to 15 bytes: 8, 4, 2 and 1 (the cascade takes fewer
	 * instructions than a zero-padded copy, 11 per packet on short ones) */
	if (n & 8) {
		memcpy(&w0, p, 8);
		s0 = csum_add64(s0, w0);
		p += 8;
	}
	if (n & 4) {
		memcpy(&w32, p, 4);
		s0 = csum_add64(s0, w32);
		p += 4;
	}
	if (n & 2) {
		memcpy(&w16, p, 2);
		s0 = csum_add64(s0, w16);
		p += 2;
	}
	if (n & 1) {
		/* The first byte of a word, whatever the host's byte order. */
		last[0] = *p;
		memcpy(&w16, last, 2);
		s0 = csum_add64(s0, w16);
	}
	return s0;
}

/* The folded sum of @p n bytes. */
static uint16_t
csum_bytes(const uint8_t *p, uint32_t n)
{
	return ft_csum_fold64(csum_acc(p, n));
}

/*
 * The folded sum of @p len bytes at @p off of a frame whose bytes span
 * several mbufs (the caller sums a segment within one mbuf itself).
 * DPDK 22.11's rte_raw_cksum_mbuf() is not used: after a segment of odd
 * length it byte-swaps the next segment's 32-bit sum truncated to 16 bits,
 * losing that segment's carries (a wrong verdict on a chain split at an odd
 * byte: tests/unit/test_decode.c has one).
 * @return 0, or -1 when the frame holds fewer bytes
 */
static int
chain_sum(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint16_t *out)
{
	uint32_t done = 0, sum = 0;

	if (off + len > rte_pktmbuf_pkt_len(m))
		return -1;
	while (m != NULL && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	for (; done < len && m != NULL; m = m->next, off = 0) {
		const uint32_t n = RTE_MIN((uint32_t)m->data_len - off, len - done);
		const uint16_t s = csum_bytes(rte_pktmbuf_mtod_offset(m, const uint8_t *, off), n);

		/* A segment that starts at an odd byte of the sum has its words
		 * shifted by one: its sum is the byte-swapped one. */
		sum += (done & 1) ? rte_bswap16(s) : s;
		done += n;
	}
	if (done != len)
		return -1; /* a chain shorter than its pkt_len says */
	*out = ft_csum_fold(sum);
	return 0;
}

/* The TCP pseudo-header's sum, unfolded: the addresses (behind a Routing
 * header, the final destination), the protocol and the TCP length (IPv4's
 * 16-bit length or IPv6's 32-bit one: at most 65535 here, so its high half
 * is zero either way). */
static inline uint64_t
tcp_pseudo_sum(const struct rte_mbuf *m, const struct ft_pkt *p, uint32_t tcp_len)
{
	uint64_t sum, a[4];
	uint32_t a4[2];

	sum = (uint64_t)rte_cpu_to_be_16((uint16_t)IPPROTO_TCP) + rte_cpu_to_be_16((uint16_t)tcp_len);
	if (p->ip_ver == 4) {
		memcpy(&a4[0], p->src, 4);
		memcpy(&a4[1], p->dst, 4);
		return sum + a4[0] + a4[1];
	}
	memcpy(&a[0], p->src, 16);
	memcpy(&a[2], p->final_dst_off == 0 ? p->dst :
		       rte_pktmbuf_mtod_offset(m, const uint8_t *, p->final_dst_off), 16);
	return csum_add64(sum, csum_add64(csum_add64(a[0], a[1]), csum_add64(a[2], a[3])));
}

/* Sums are of 16-bit words as loaded natively from network-order bytes
 * (as DPDK's rte_raw_cksum() sums them too): a ones' complement sum commutes
 * with swapping bytes, so only the result needs rte_be_to_cpu_16(). */
enum ft_csum_result
ft_decode_tcp_csum(const struct rte_mbuf *m, const struct ft_pkt *p, uint16_t *expected)
{
	const uint32_t tcp_len = (uint32_t)p->ip_len - (uint32_t)(p->l4_off - p->l3_off);
	const uint64_t pseudo_sum = tcp_pseudo_sum(m, p, tcp_len);
	uint16_t data, field, pseudo;

	if (likely(p->l4_off + tcp_len <= m->data_len)) {
		/* The common case, a segment in one mbuf: its bytes' sum and the
		 * pseudo-header's added unfolded, one fold (two sums folded apart,
		 * then together, took 25 instructions more per segment). Its own
		 * sum serves the verdicts below when the total is wrong. */
		const uint64_t seg = csum_acc(rte_pktmbuf_mtod_offset(m, const uint8_t *, p->l4_off),
					      tcp_len);

		if (ft_csum_fold64(csum_add64(seg, pseudo_sum)) == 0xffff)
			return FT_CSUM_GOOD;
		data = ft_csum_fold64(seg);
	} else if (chain_sum(m, p->l4_off, tcp_len, &data) != 0) {
		/* ft_decode() bounded ip_len by the frame; a capture's snap
		 * length can still have cut the segment short of it. */
		return FT_CSUM_UNCHECKED;
	}
	pseudo = ft_csum_fold64(pseudo_sum);
	if (ft_csum_fold((uint32_t)pseudo + data) == 0xffff)
		return FT_CSUM_GOOD;
	/* The header is within the first mbuf: ft_decode() read it there. */
	memcpy(&field, rte_pktmbuf_mtod_offset(m, const uint8_t *, p->l4_off + 16), 2);
	if (expected != NULL)
		*expected = rte_be_to_cpu_16((uint16_t)~ft_csum_fold((uint32_t)pseudo + data +
								   (uint16_t)~field));
	/* 0 and 0xffff are the same number in ones' complement. */
	if (field == pseudo || ((uint16_t)(field ^ pseudo) == 0xffff && (field == 0 || pseudo == 0)))
		return FT_CSUM_PARTIAL;
	return FT_CSUM_BAD;
}

/* Names --------------------------------------------------------------------- */

static const char *const ft_class_names[] = {
	[FT_CLS_TCP] = "tcp",
	[FT_CLS_UDP] = "udp",
	[FT_CLS_ICMP] = "icmp",
	[FT_CLS_OTHER_IP] = "other_ip",
	[FT_CLS_FRAGMENT] = "fragment",
	[FT_CLS_NON_IP] = "non_ip",
	[FT_CLS_MALFORMED] = "malformed",
};
_Static_assert(RTE_DIM(ft_class_names) == FT_CLS_MAX, "a class has no name");

/* Part of the stats JSON contract: append, never rename. */
static const char *const ft_mal_names[] = {
	[FT_MAL_NONE] = "none",
	[FT_MAL_TRUNC_ETHER] = "trunc_ether",
	[FT_MAL_TRUNC_VLAN] = "trunc_vlan",
	[FT_MAL_VLAN_TOO_DEEP] = "vlan_too_deep",
	[FT_MAL_TRUNC_IP4] = "trunc_ip4",
	[FT_MAL_IP4_BAD_VERSION] = "ip4_bad_version",
	[FT_MAL_IP4_BAD_IHL] = "ip4_bad_ihl",
	[FT_MAL_IP4_BAD_TOTLEN] = "ip4_bad_totlen",
	[FT_MAL_TRUNC_IP6] = "trunc_ip6",
	[FT_MAL_IP6_BAD_VERSION] = "ip6_bad_version",
	[FT_MAL_IP6_BAD_PLEN] = "ip6_bad_plen",
	[FT_MAL_IP6_EXT_TRUNC] = "ip6_ext_trunc",
	[FT_MAL_IP6_EXT_TOO_MANY] = "ip6_ext_too_many",
	[FT_MAL_TRUNC_TCP] = "trunc_tcp",
	[FT_MAL_TCP_BAD_DOFF] = "tcp_bad_doff",
	[FT_MAL_TCP_DOFF_OVERRUN] = "tcp_doff_overrun",
	[FT_MAL_TRUNC_UDP] = "trunc_udp",
	[FT_MAL_UDP_BAD_LEN] = "udp_bad_len",
	[FT_MAL_TRUNC_ICMP] = "trunc_icmp",
	[FT_MAL_TRUNC_PPPOE] = "trunc_pppoe",
	[FT_MAL_PPPOE_BAD_HEADER] = "pppoe_bad_header",
	[FT_MAL_PPPOE_BAD_LEN] = "pppoe_bad_len",
	[FT_MAL_IP4_BAD_CHECKSUM] = "ip4_bad_checksum",
};
_Static_assert(RTE_DIM(ft_mal_names) == FT_MAL_MAX, "a malformed reason has no name");

const char *
ft_pkt_class_name(unsigned int cls)
{
	/* The NULL check catches a gap the size assertion cannot see. */
	return cls < FT_CLS_MAX && ft_class_names[cls] != NULL ? ft_class_names[cls] : "unknown";
}

const char *
ft_malformed_name(unsigned int reason)
{
	return reason < FT_MAL_MAX && ft_mal_names[reason] != NULL ? ft_mal_names[reason] :
								      "unknown";
}
