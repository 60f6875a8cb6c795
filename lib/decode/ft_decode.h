/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FT_DECODE_H
#define FT_DECODE_H

/**
 * @file
 * flowtap packet decoder.
 *
 * Owns: parsing of one frame (Ethernet, 802.1Q/QinQ, a PPPoE session with its
 * PPP protocol field, IPv4 with options, IPv6 with a bounded walk of extension
 * headers, TCP with options, UDP, ICMP and ICMPv6) into a small metadata
 * record, the classification of the frame into exactly one class, the named
 * reasons a frame is malformed, and the software symmetric hash that decides
 * which worker owns a packet.
 *
 * Also the checksums a host verifies before it takes a packet: the IPv4
 * header's and TCP's (ft_decode_ip4_csum_ok(), ft_decode_tcp_csum()).
 *
 * The decoder never reads past @p caplen bytes and never writes to the
 * packet. It does not allocate and has no global state, so every worker can
 * call it concurrently.
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Most VLAN tags the decoder walks (802.1ad outer + 802.1Q inner). */
#define FT_DECODE_MAX_VLAN 2
/** Most IPv6 extension headers walked before the packet is called malformed. */
#define FT_DECODE_MAX_IP6_EXT 8

/** The one class every decoded frame falls in. */
enum ft_pkt_class {
	FT_CLS_TCP = 0,   /**< IPv4/IPv6 TCP segment, headers complete */
	FT_CLS_UDP,       /**< UDP datagram */
	FT_CLS_ICMP,      /**< ICMP or ICMPv6 */
	FT_CLS_OTHER_IP,  /**< IP with another transport protocol */
	FT_CLS_FRAGMENT,  /**< an IPv4 or IPv6 fragment (L4 not decoded) */
	FT_CLS_NON_IP,    /**< not IP (ARP, LLDP, ...) */
	FT_CLS_MALFORMED, /**< see ft_pkt.malformed for the reason */
	FT_CLS_MAX
};

/**
 * Why a frame is malformed. Names (ft_malformed_name()) are part of the
 * stats JSON contract: add reasons at the end, never rename.
 */
enum ft_malformed_reason {
	FT_MAL_NONE = 0,
	FT_MAL_TRUNC_ETHER,        /**< shorter than an Ethernet header */
	FT_MAL_TRUNC_VLAN,         /**< VLAN tag cut off */
	FT_MAL_VLAN_TOO_DEEP,      /**< more than FT_DECODE_MAX_VLAN tags */
	FT_MAL_TRUNC_IP4,          /**< shorter than a 20-byte IPv4 header */
	FT_MAL_IP4_BAD_VERSION,    /**< IPv4 ethertype, version field not 4 */
	FT_MAL_IP4_BAD_IHL,        /**< IHL below 5 or beyond the frame */
	FT_MAL_IP4_BAD_TOTLEN,     /**< total length below IHL*4 or beyond the frame */
	FT_MAL_TRUNC_IP6,          /**< shorter than a 40-byte IPv6 header */
	FT_MAL_IP6_BAD_VERSION,    /**< IPv6 ethertype, version field not 6 */
	FT_MAL_IP6_BAD_PLEN,       /**< payload length beyond the frame */
	FT_MAL_IP6_EXT_TRUNC,      /**< an extension header runs past the datagram */
	FT_MAL_IP6_EXT_TOO_MANY,   /**< more than FT_DECODE_MAX_IP6_EXT ext headers */
	FT_MAL_TRUNC_TCP,          /**< fewer than 20 bytes of TCP header */
	FT_MAL_TCP_BAD_DOFF,       /**< TCP data offset below 5 */
	FT_MAL_TCP_DOFF_OVERRUN,   /**< data offset beyond the segment */
	FT_MAL_TRUNC_UDP,          /**< fewer than 8 bytes of UDP header */
	FT_MAL_UDP_BAD_LEN,        /**< UDP length below 8 or beyond the datagram */
	FT_MAL_TRUNC_ICMP,         /**< fewer than 4 (ICMP) / 4 (ICMPv6) bytes */
	FT_MAL_TRUNC_PPPOE,        /**< PPPoE session header or PPP protocol field cut off */
	FT_MAL_PPPOE_BAD_HEADER,   /**< PPPoE version/type not 1/1, or code not 0 (session data) */
	FT_MAL_PPPOE_BAD_LEN,      /**< PPPoE length below 2 (no PPP protocol) or beyond the frame */
	FT_MAL_IP4_BAD_CHECKSUM,   /**< IPv4 header checksum wrong (set by the worker, not by
				        ft_decode(): see ft_decode_ip4_csum_ok()) */
	FT_MAL_MAX
};

/** TCP flag bits as on the wire (byte 13 of the TCP header). */
#define FT_TCP_FIN 0x01
#define FT_TCP_SYN 0x02
#define FT_TCP_RST 0x04
#define FT_TCP_PSH 0x08
#define FT_TCP_ACK 0x10
#define FT_TCP_URG 0x20
#define FT_TCP_ECE 0x40
#define FT_TCP_CWR 0x80


/** TCP fields the tracker needs, host byte order. */
struct ft_tcp_meta {
	uint32_t seq;
	uint32_t ack;
	uint32_t ts_val;     /**< valid when has_ts */
	uint32_t ts_ecr;     /**< valid when has_ts */
	uint16_t win;        /**< raw (unscaled) window */
	uint16_t mss;        /**< 0 when absent */
	uint16_t urp;        /**< urgent pointer (meaningful with FT_TCP_URG) */
	uint8_t flags;       /**< FT_TCP_* */
	uint8_t wscale;      /**< shift as sent (any byte, 255 included), valid when has_wscale */
	uint8_t sack_perm;   /**< SACK-permitted option present */
	uint8_t has_ts;      /**< timestamps option present */
	uint8_t has_wscale;  /**< window-scale option present */
	uint8_t opt_bad;     /**< an option's length is below 2 or runs past the header: the
				  options are read up to it (as Linux reads them), the segment
				  is tracked (packets.tcp_opt_invalid) */
	uint8_t tfo_cookie;  /**< a TCP Fast Open cookie (RFC 7413: kind 34, or the experimental
				  kind 254 with ExID 0xF989), 4 bytes or more: only then may a
				  server take a SYN's data */
};

/** Fragment fields, valid when ft_pkt.cls == FT_CLS_FRAGMENT. */
struct ft_frag_meta {
	uint32_t id;         /**< IPv4 identification or IPv6 fragment id */
	uint16_t offset;     /**< byte offset of this fragment's data */
	uint16_t frag_hdr_off; /**< IPv6: offset of the Fragment header from l3_off */
	uint8_t more;        /**< MF / M flag */
	uint8_t df;          /**< IPv4 DF flag */
	uint8_t reserved;    /**< IPv4 reserved flag bit set */
	uint8_t next_proto;  /**< protocol the reassembled datagram carries */
};

/**
 * Decoded view of one frame. Offsets are from the start of the frame.
 * Addresses are kept in network byte order; IPv4 addresses occupy the first
 * 4 bytes of src/dst and the rest is zero, so a key built from them compares
 * correctly for both families.
 */
struct ft_pkt {
	uint8_t cls;          /**< enum ft_pkt_class */
	uint8_t malformed;    /**< enum ft_malformed_reason, FT_MAL_NONE unless malformed */
	uint8_t ip_ver;       /**< 4, 6, or 0 for non-IP */
	uint8_t l4_proto;     /**< IPPROTO_* of the transport (last next-header) */
	uint8_t n_vlan;       /**< VLAN tags seen */
	uint8_t ttl;          /**< IPv4 TTL or IPv6 hop limit */
	uint8_t pppoe;        /**< 1: a valid PPPoE session header was walked (pppoe_sid set) */
	uint16_t vlan[FT_DECODE_MAX_VLAN]; /**< VLAN ids, outer first, 0 when absent */
	uint16_t pppoe_sid;   /**< PPPoE session id, host order; not part of the flow identity */
	uint16_t l3_off;      /**< start of the IP header (non-IP: of what the last type field names) */
	uint16_t l4_off;      /**< start of the transport header */
	uint16_t l4_hlen;     /**< transport header length (TCP: doff*4) */
	uint16_t payload_off; /**< start of the transport payload */
	uint16_t payload_len; /**< transport payload bytes, bounded by IP length */
	uint16_t ip_len;      /**< IP datagram length from the header (v4 total, v6 40+plen) */
	uint16_t final_dst_off; /**< IPv6: where a Routing header with segments left names the
				     final destination (what a transport checksum sums, RFC 8200
				     section 8.1); 0 when the header's destination is final */
	uint16_t sport;       /**< host order; 0 for protocols without ports */
	uint16_t dport;
	uint32_t hash;        /**< symmetric hash: same for both directions */
	uint8_t src[16];
	uint8_t dst[16];
	struct ft_tcp_meta tcp;
	struct ft_frag_meta frag;
};

/**
 * Decode one Ethernet frame.
 *
 * @param data    first byte of the frame
 * @param caplen  bytes available at @p data (the decoder reads no further)
 * @param wirelen bytes of the whole frame (>= caplen when the mbuf is
 *                segmented or the capture truncated it); IP lengths are
 *                checked against this
 * @param p       filled in; p->cls is always set
 * @return p->cls
 *
 * Headers must be within @p caplen; a header that is cut off is malformed
 * whatever @p wirelen says: FT_MAL_TRUNC_* for a fixed header, the reason of
 * the length field that points past the bytes otherwise (ip4_bad_ihl for cut
 * IPv4 options, tcp_doff_overrun for cut TCP options, ip6_ext_trunc).
 *
 * Inside a PPPoE session the PPPoE payload is the frame for what PPP carries:
 * its length is checked against @p wirelen (pppoe_bad_len), bounds the IP
 * datagram, and bytes after it are padding, as after an IP datagram.
 */
enum ft_pkt_class ft_decode(const uint8_t *data, uint32_t caplen, uint32_t wirelen,
			    struct ft_pkt *p);

/**
 * Symmetric hash of a 5-tuple (plus VLANs): equal for (a,ap,b,bp) and
 * (b,bp,a,ap). ft_decode() stores it in ft_pkt.hash for TCP/UDP/ICMP/other
 * IP; for fragments it hashes addresses, protocol (IPv4 only) and identification, so all
 * fragments of a datagram (but not the reassembled segment) share it.
 */
uint32_t ft_decode_sym_hash(const uint8_t *a, uint16_t ap, const uint8_t *b, uint16_t bp,
			    uint8_t proto, uint32_t extra);

/**
 * Order two 16-byte addresses as memcmp() does (<0, 0, >0), inline: every
 * packet compares its two addresses twice (hash and flow key), and a libc
 * call there cost 8% of a worker (perf, replay of 1M connections).
 */
static inline int
ft_addr_cmp(const uint8_t *a, const uint8_t *b)
{
	uint64_t x, y;

	memcpy(&x, a, 8);
	memcpy(&y, b, 8);
	if (x == y) {
		memcpy(&x, a + 8, 8);
		memcpy(&y, b + 8, 8);
		if (x == y)
			return 0;
	}
	x = __builtin_bswap64(x);
	y = __builtin_bswap64(y);
	return x < y ? -1 : 1;
}

/*
 * The folds add each half of a word to the other in one add of the word and
 * itself rotated by half its width: the upper half of that sum is the two
 * halves' ones' complement sum, its end-around carry included (the lower
 * half's carry comes in; the upper half cannot carry out once it did). Five
 * instructions for 64 to 16 bits, where two rounds of mask, shift and add
 * per halving took 14 (as in the Linux kernel's csum_fold()).
 */

/** Fold a 32-bit ones' complement sum of 16-bit words to 16 bits. */
static inline uint16_t
ft_csum_fold(uint32_t sum)
{
	return (uint16_t)((sum + ((sum >> 16) | (sum << 16))) >> 16);
}

/** Fold a 64-bit ones' complement sum of wider words (32 or 64 bits) to the
 *  16-bit one of the same bytes (RFC 1071 section 2(B)), in either byte order. */
static inline uint16_t
ft_csum_fold64(uint64_t s)
{
	return ft_csum_fold((uint32_t)((s + ((s >> 32) | (s << 32))) >> 32));
}

/**
 * Whether a decoded IPv4 packet's header checksum is right (the ones'
 * complement sum of the header's 16-bit words is 0xffff). Not IPv4: true.
 * Inline: every IPv4 packet pays it, and a call cost as much as the sum.
 *
 * @param frame  the frame ft_decode() decoded into @p p (the header is
 *               within its caplen: ft_decode() checked the IHL against it)
 */
static inline bool
ft_decode_ip4_csum_ok(const uint8_t *frame, const struct ft_pkt *p)
{
	const uint8_t *h = frame + p->l3_off;
	const unsigned int words = (h[0] & 0x0fu); /* 32-bit words: 5..15 */
	uint64_t sum = 0;
	unsigned int i;
	uint32_t w;

	if (p->ip_ver != 4)
		return true;
	/* Word by word (one memcpy() of the 20 bytes became a vector load
	 * stored to the stack and read back), the fixed 5 apart from the
	 * options: one loop of up to 15 took 21 more instructions per packet. */
	for (i = 0; i < 5; i++) {
		memcpy(&w, h + 4 * i, 4);
		sum += w;
	}
	for (; i < words; i++) {
		memcpy(&w, h + 4 * i, 4);
		sum += w;
	}
	return ft_csum_fold64(sum) == 0xffffu;
}

/** What a TCP segment's checksum says (ft_decode_tcp_csum()). */
enum ft_csum_result {
	FT_CSUM_GOOD = 0,  /**< right: a host takes the segment */
	FT_CSUM_BAD,       /**< wrong: a host drops the segment */
	FT_CSUM_PARTIAL,   /**< holds only the pseudo-header's sum: what a Linux or BSD host
			        writes when its NIC is to finish the sum (checksum offload), and
			        what Linux's GRO leaves in segments it merged; seen in captures
			        taken on such a host, never right on a wire */
	FT_CSUM_UNCHECKED, /**< the segment is not all there (a capture's snap length): not judged */
};

struct rte_mbuf;

/**
 * Verify a decoded TCP segment's checksum in software: pseudo-header
 * (addresses, protocol, TCP length), header and payload, across chained
 * mbufs. The TCP length is the IP datagram's length less its headers, so
 * IPv4 options and IPv6 extension headers are not summed. Behind an IPv6
 * Routing header with segments left, the destination summed is the final
 * one it names (ft_pkt.final_dst_off: types 0, 2 and 4, the SRH; RPL's
 * compressed addresses are not read, so its segments sum the next hop).
 *
 * @param m         the mbuf @p p was decoded from (a reassembled datagram too)
 * @param p         ft_pkt.cls must be FT_CLS_TCP
 * @param expected  if not NULL, set to the checksum the segment should carry
 *                  (host order) when the result is FT_CSUM_BAD or FT_CSUM_PARTIAL
 * @return the verdict
 */
enum ft_csum_result ft_decode_tcp_csum(const struct rte_mbuf *m, const struct ft_pkt *p,
				       uint16_t *expected);

/** Name of a class, e.g. "tcp"; "unknown" when out of range. */
const char *ft_pkt_class_name(unsigned int cls);

/** Name of a malformed reason, e.g. "tcp_bad_doff"; "unknown" when out of range. */
const char *ft_malformed_name(unsigned int reason);

/**
 * Pick the owning worker from a hash without a division.
 * @return a value in [0, n_workers)
 */
static inline unsigned int
ft_decode_owner(uint32_t hash, unsigned int n_workers)
{
	return (unsigned int)(((uint64_t)hash * n_workers) >> 32);
}

#ifdef __cplusplus
}
#endif

#endif /* FT_DECODE_H */
