/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/decode: every class, every malformed reason, VLANs, PPPoE
 * sessions, IPv4 options, IPv6 extension headers, fragments, TCP options,
 * Ethernet padding, the symmetric hash and worker selection.
 *
 * Every frame is decoded from a malloc'ed copy of exactly caplen bytes (once
 * aligned, once at an odd address) so ASan reports any read past caplen and
 * UBSan any misaligned load. No EAL is needed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "ft_decode.h"
#include "ft_unit.h"

#define FRAME_MAX 2048

#define ETH_IP4 0x0800
#define ETH_IP6 0x86dd
#define ETH_ARP 0x0806
#define ETH_LLDP 0x88cc
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_QINQ1 0x9100
#define ETH_PPPOE_DISC 0x8863
#define ETH_PPPOE_SESS 0x8864

#define PPP_IP4 0x0021
#define PPP_IP6 0x0057
#define PPP_LCP 0xc021
#define PPP_IPCP 0x8021
#define PPPOE_SID 0x2a17
#define PPPOE_HLEN 8 /* PPPoE session header + PPP protocol */

#define P_HOP 0
#define P_ICMP 1
#define P_TCP 6
#define P_UDP 17
#define P_RT 43
#define P_FRAG 44
#define P_GRE 47
#define P_ESP 50
#define P_AH 51
#define P_ICMP6 58
#define P_NONE 59
#define P_DST 60
#define P_MH 135
#define P_HIP 139
#define P_SHIM6 140

#define IP4_MF 0x2000
#define IP4_DF 0x4000
#define IP4_RSV 0x8000

#define A4 0x0a000001u /* 10.0.0.1 */
#define B4 0x0a000002u /* 10.0.0.2 */
static const uint8_t A6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t B6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

/* MSS 1460, SACK-permitted, timestamps 0x11223344/0, NOP, window scale 7. */
static const uint8_t syn_opts[] = {
	2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0, 1, 3, 3, 7,
};

struct frame {
	uint8_t b[FRAME_MAX];
	uint32_t len;      /* bytes built = wirelen */
	uint32_t caplen;   /* valid when cut */
	int cut;           /* capture shorter than the frame */
	int ipver;
	uint32_t l3, l4;   /* where the builder put the IP and transport headers */
	uint32_t pppoe;    /* where it put the PPPoE header; 0 when none */
};

/* ---- frame builders ---------------------------------------------------- */

static void
put8(struct frame *f, uint8_t v)
{
	if (f->len >= FRAME_MAX) {
		fprintf(stderr, "frame too long\n");
		abort();
	}
	f->b[f->len++] = v;
}

static void
put16(struct frame *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static void
put32(struct frame *f, uint32_t v)
{
	put16(f, (uint16_t)(v >> 16));
	put16(f, (uint16_t)v);
}

static void
putn(struct frame *f, const uint8_t *p, uint32_t n)
{
	while (n--)
		put8(f, *p++);
}

static void
fill(struct frame *f, uint32_t n, uint8_t v)
{
	while (n--)
		put8(f, v);
}

static void
set16(struct frame *f, uint32_t off, uint16_t v)
{
	f->b[off] = (uint8_t)(v >> 8);
	f->b[off + 1] = (uint8_t)v;
}

static void
cut(struct frame *f, uint32_t caplen)
{
	f->cut = 1;
	f->caplen = caplen;
}

static void
b_eth(struct frame *f, uint16_t etype)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };

	putn(f, macs, sizeof(macs));
	put16(f, etype);
}

static void
b_vlan(struct frame *f, uint16_t tci, uint16_t etype)
{
	put16(f, tci);
	put16(f, etype);
}

/* PPPoE session header (version/type 1/1, code 0) and PPP protocol; length set by ip_done(). */
static void
b_pppoe(struct frame *f, uint16_t proto)
{
	f->pppoe = f->len;
	put8(f, 0x11);
	put8(f, 0);
	put16(f, PPPOE_SID);
	put16(f, 2);
	put16(f, proto);
}

/* The PPPoE payload ends at the current frame end. */
static void
pppoe_done(struct frame *f)
{
	set16(f, f->pppoe + 4, (uint16_t)(f->len - f->pppoe - 6));
}

/* IPv4 header with optlen bytes of NOP options; total length set by ip_done(). */
static void
b_ip4(struct frame *f, uint32_t src, uint32_t dst, uint8_t proto, uint32_t optlen,
      uint16_t frag, uint16_t id)
{
	f->l3 = f->len;
	f->ipver = 4;
	put8(f, (uint8_t)(0x40 | (5 + optlen / 4)));
	put8(f, 0);
	put16(f, 0);
	put16(f, id);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put32(f, src);
	put32(f, dst);
	fill(f, optlen, 1);
}

static void
b_ip6(struct frame *f, const uint8_t *src, const uint8_t *dst, uint8_t nh)
{
	f->l3 = f->len;
	f->ipver = 6;
	put32(f, 0x60012345);
	put16(f, 0);
	put8(f, nh);
	put8(f, 63);
	putn(f, src, 16);
	putn(f, dst, 16);
}

/* Set the IP (and PPPoE) length fields so the datagram ends at the current frame end. */
static void
ip_done(struct frame *f)
{
	if (f->ipver == 4)
		set16(f, f->l3 + 2, (uint16_t)(f->len - f->l3));
	else
		set16(f, f->l3 + 4, (uint16_t)(f->len - f->l3 - 40));
	if (f->pppoe != 0)
		pppoe_done(f);
}

/* Generic IPv6 extension header of (hlen8 + 1) * 8 bytes, padded with PadN. */
static void
b_ext(struct frame *f, uint8_t nh, uint8_t hlen8)
{
	uint32_t n = ((uint32_t)hlen8 + 1) * 8 - 2;

	put8(f, nh);
	put8(f, hlen8);
	put8(f, 1);
	put8(f, (uint8_t)(n - 2));
	fill(f, n - 2, 0);
}

static void
b_ah(struct frame *f, uint8_t nh, uint8_t len)
{
	put8(f, nh);
	put8(f, len);
	put16(f, 0);
	put32(f, 0x100);
	put32(f, 1);
	fill(f, ((uint32_t)len + 2) * 4 - 12, 0xaa);
}

static void
b_frag6(struct frame *f, uint8_t nh, uint16_t off_bytes, int more, uint32_t id)
{
	put8(f, nh);
	put8(f, 0);
	put16(f, (uint16_t)(off_bytes | (more ? 1 : 0)));
	put32(f, id);
}

static void
b_tcp(struct frame *f, uint16_t sp, uint16_t dp, uint32_t seq, uint32_t ack, uint8_t flags,
      uint16_t win, const uint8_t *opts, uint32_t olen)
{
	uint32_t hl = 20 + ((olen + 3) & ~3u);

	f->l4 = f->len;
	put16(f, sp);
	put16(f, dp);
	put32(f, seq);
	put32(f, ack);
	put8(f, (uint8_t)((hl / 4) << 4));
	put8(f, flags);
	put16(f, win);
	put16(f, 0);
	put16(f, 0);
	putn(f, opts, olen);
	fill(f, hl - 20 - olen, 0);
}

static void
b_udp(struct frame *f, uint16_t sp, uint16_t dp, uint32_t plen)
{
	f->l4 = f->len;
	put16(f, sp);
	put16(f, dp);
	put16(f, (uint16_t)(8 + plen));
	put16(f, 0);
	fill(f, plen, 0x55);
}

static void
b_icmp(struct frame *f, uint8_t type, uint32_t extra)
{
	f->l4 = f->len;
	put8(f, type);
	put8(f, 0);
	put16(f, 0);
	fill(f, extra, 0);
}

static void
v4_hdr(struct frame *f, uint8_t proto)
{
	b_eth(f, ETH_IP4);
	b_ip4(f, A4, B4, proto, 0, IP4_DF, 0x1234);
}

static void
v6_hdr(struct frame *f, uint8_t nh)
{
	b_eth(f, ETH_IP6);
	b_ip6(f, A6, B6, nh);
}

/* A plain IPv4 TCP segment A:40000 -> B:80 with payload bytes. */
static void
v4_tcp(struct frame *f, const uint8_t *opts, uint32_t olen, uint32_t payload)
{
	v4_hdr(f, P_TCP);
	b_tcp(f, 40000, 80, 0x01020304, 0, FT_TCP_SYN, 64240, opts, olen);
	fill(f, payload, 'x');
	ip_done(f);
}

/* ---- cases: builders and checks ---------------------------------------- */

/* A check returns NULL when fine, else the failed expression. */
#define EXPECT(c)                \
	do {                     \
		if (!(c))        \
			return #c; \
	} while (0)

static int
addr4_is(const uint8_t *a, uint32_t v)
{
	static const uint8_t zero[12];

	return a[0] == (uint8_t)(v >> 24) && a[1] == (uint8_t)(v >> 16) &&
	       a[2] == (uint8_t)(v >> 8) && a[3] == (uint8_t)v && memcmp(a + 4, zero, 12) == 0;
}

static void
bld_tcp4_syn(struct frame *f)
{
	v4_tcp(f, syn_opts, sizeof(syn_opts), 0);
}

static const char *
chk_tcp4_syn(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->ip_ver == 4 && p->l4_proto == P_TCP && p->ttl == 64 && p->n_vlan == 0);
	EXPECT(p->l3_off == 14 && p->l4_off == 34 && p->l4_hlen == 40);
	EXPECT(p->payload_off == 74 && p->payload_len == 0 && p->ip_len == 60);
	EXPECT(p->sport == 40000 && p->dport == 80);
	EXPECT(p->tcp.seq == 0x01020304 && p->tcp.ack == 0 && p->tcp.win == 64240);
	EXPECT(p->tcp.flags == FT_TCP_SYN);
	EXPECT(p->tcp.mss == 1460 && p->tcp.wscale == 7 && p->tcp.sack_perm == 1);
	EXPECT(p->tcp.has_ts == 1 && p->tcp.ts_val == 0x11223344 && p->tcp.ts_ecr == 0);
	EXPECT(p->tcp.opt_bad == 0);
	EXPECT(addr4_is(p->src, A4) && addr4_is(p->dst, B4));
	EXPECT(p->hash != 0 && p->hash == ft_decode_sym_hash(p->src, 40000, p->dst, 80, P_TCP, 0));
	return NULL;
}

static void
bld_tcp4_wscale255(struct frame *f)
{
	static const uint8_t o[] = { 1, 3, 3, 255, 8, 10, 0, 0, 0, 9, 0xff, 0xee, 0xdd, 0xcc };

	v4_hdr(f, P_TCP);
	b_tcp(f, 40000, 80, 1, 2, FT_TCP_ACK | FT_TCP_PSH, 512, o, sizeof(o));
	fill(f, 5, 'y');
	ip_done(f);
}

static const char *
chk_tcp4_wscale255(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	/* 255 is kept as sent (the tracker uses 14, RFC 7323). */
	EXPECT(p->tcp.wscale == 255 && p->tcp.has_wscale);
	EXPECT(p->tcp.has_ts && p->tcp.ts_val == 9 && p->tcp.ts_ecr == 0xffeeddcc);
	EXPECT(p->tcp.mss == 0 && p->tcp.sack_perm == 0);
	EXPECT(p->tcp.flags == (FT_TCP_ACK | FT_TCP_PSH) && p->tcp.ack == 2);
	EXPECT(p->l4_hlen == 36 && p->payload_len == 5);
	return NULL;
}

/* TCP Fast Open (RFC 7413): a SYN with data and a cookie (kind 34, 8 bytes),
 * a cookie request (kind 34 alone) with the experimental kind 254 (ExID
 * 0xF989) and a 2-byte cookie, below the 4 a cookie takes; kind 254 of
 * another experiment, then 254 with ExID 0xF989 and a 4-byte cookie. */
static void
syn_with_opts(struct frame *f, const uint8_t *o, uint32_t olen)
{
	v4_hdr(f, P_TCP);
	b_tcp(f, 40000, 80, 1, 0, FT_TCP_SYN, 512, o, olen);
	fill(f, 7, 'g');
	ip_done(f);
}

static void
bld_tcp4_tfo(struct frame *f)
{
	static const uint8_t o[] = { 34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1 };

	syn_with_opts(f, o, sizeof(o));
}

static void
bld_tcp4_tfo_request(struct frame *f)
{
	static const uint8_t o[] = { 34, 2, 1, 1, 254, 6, 0xf9, 0x89, 1, 2, 1, 1 };

	syn_with_opts(f, o, sizeof(o));
}

static void
bld_tcp4_tfo_exp(struct frame *f)
{
	static const uint8_t o[] = { 254, 4, 0x12, 0x34, 254, 8, 0xf9, 0x89, 9, 9, 9, 9 };

	syn_with_opts(f, o, sizeof(o));
}

static const char *
chk_tfo_cookie(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->tcp.tfo_cookie == 1 && p->tcp.opt_bad == 0 && p->payload_len == 7);
	return NULL;
}

static const char *
chk_tfo_none(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->tcp.tfo_cookie == 0 && p->tcp.opt_bad == 0 && p->payload_len == 7);
	return NULL;
}

static void
bld_tcp4_plain(struct frame *f)
{
	v4_tcp(f, NULL, 0, 10);
}

static const char *
chk_tcp4_plain(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(!p->tcp.has_wscale && p->tcp.mss == 0 && p->tcp.tfo_cookie == 0);
	EXPECT(p->tcp.sack_perm == 0 && p->tcp.has_ts == 0);
	EXPECT(p->l4_hlen == 20 && p->payload_off == 54 && p->payload_len == 10);
	return NULL;
}

static void
bld_tcp4_ipopts(struct frame *f)
{
	b_eth(f, ETH_IP4);
	b_ip4(f, A4, B4, P_TCP, 8, 0, 7);
	b_tcp(f, 1042, 25, 100, 200, FT_TCP_ACK, 1000, NULL, 0);
	fill(f, 4, 'h');
	ip_done(f);
}

static const char *
chk_tcp4_ipopts(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->l4_off == 14 + 28 && p->ip_len == 28 + 20 + 4);
	EXPECT(p->sport == 1042 && p->dport == 25 && p->payload_len == 4);
	return NULL;
}

static void
bld_tcp4_qinq(struct frame *f)
{
	b_eth(f, ETH_QINQ);
	b_vlan(f, 0x2064, ETH_VLAN); /* PCP 1, id 100 */
	b_vlan(f, 0xe0c8, ETH_IP4);  /* PCP 7, id 200 */
	b_ip4(f, A4, B4, P_TCP, 0, 0, 1);
	b_tcp(f, 40000, 80, 1, 0, FT_TCP_SYN, 100, syn_opts, sizeof(syn_opts));
	ip_done(f);
}

static const char *
chk_tcp4_qinq(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->n_vlan == 2 && p->vlan[0] == 100 && p->vlan[1] == 200);
	EXPECT(p->l3_off == 22 && p->l4_off == 42 && p->tcp.mss == 1460);
	EXPECT(p->hash == ft_decode_sym_hash(p->src, 40000, p->dst, 80, P_TCP, (100u << 16) | 200));
	return NULL;
}

static void
bld_udp4_vlan9100(struct frame *f)
{
	b_eth(f, ETH_QINQ1);
	b_vlan(f, 0xffff, ETH_IP4);
	b_ip4(f, A4, B4, P_UDP, 0, 0, 1);
	b_udp(f, 5353, 53, 2);
	ip_done(f);
}

static const char *
chk_udp4_vlan9100(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->n_vlan == 1 && p->vlan[0] == 0xfff && p->vlan[1] == 0 && p->l3_off == 18);
	EXPECT(p->hash == ft_decode_sym_hash(p->src, 5353, p->dst, 53, P_UDP, 0xfffu << 16));
	return NULL;
}

static void
bld_udp4(struct frame *f)
{
	v4_hdr(f, P_UDP);
	b_udp(f, 5353, 53, 12);
	ip_done(f);
}

static const char *
chk_udp4(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->sport == 5353 && p->dport == 53 && p->l4_proto == P_UDP);
	EXPECT(p->l4_off == 34 && p->l4_hlen == 8 && p->payload_off == 42 && p->payload_len == 12);
	EXPECT(p->hash == ft_decode_sym_hash(p->src, 5353, p->dst, 53, P_UDP, 0));
	return NULL;
}

static void
bld_udp6(struct frame *f)
{
	v6_hdr(f, P_UDP);
	b_udp(f, 123, 123, 3);
	ip_done(f);
}

static const char *
chk_udp6(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->ip_ver == 6 && p->ttl == 63 && p->ip_len == 40 + 11);
	EXPECT(memcmp(p->src, A6, 16) == 0 && memcmp(p->dst, B6, 16) == 0);
	EXPECT(p->l4_off == 54 && p->payload_off == 62 && p->payload_len == 3);
	return NULL;
}

static void
bld_icmp4(struct frame *f)
{
	v4_hdr(f, P_ICMP);
	b_icmp(f, 8, 60);
	ip_done(f);
}

static const char *
chk_icmp(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->sport == 0 && p->dport == 0 && p->l4_off == f->l4);
	EXPECT(p->l4_proto == (f->ipver == 4 ? P_ICMP : P_ICMP6));
	EXPECT(p->hash == ft_decode_sym_hash(p->src, 0, p->dst, 0, p->l4_proto, 0));
	return NULL;
}

static void
bld_icmp6(struct frame *f)
{
	v6_hdr(f, P_ICMP6);
	b_icmp(f, 128, 4);
	ip_done(f);
}

static void
bld_gre4(struct frame *f)
{
	v4_hdr(f, P_GRE);
	fill(f, 4, 0);
	ip_done(f);
}

static const char *
chk_other(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->sport == 0 && p->dport == 0 && p->hash != 0);
	return NULL;
}

static void
bld_icmp6_in_ip4(struct frame *f)
{
	v4_hdr(f, P_ICMP6);
	b_icmp(f, 128, 4);
	ip_done(f);
}

static void
bld_icmp4_in_ip6(struct frame *f)
{
	v6_hdr(f, P_ICMP);
	b_icmp(f, 8, 4);
	ip_done(f);
}

static void
bld_ip6_hbh_none(struct frame *f)
{
	v6_hdr(f, P_HOP);
	b_ext(f, P_NONE, 0);
	ip_done(f);
}

static const char *
chk_ip6_hbh_none(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->l4_proto == P_NONE && p->l4_off == 14 + 48 && p->payload_len == 0);
	return NULL;
}

static void
bld_ip6_esp(struct frame *f)
{
	v6_hdr(f, P_HOP);
	b_ext(f, P_ESP, 0);
	fill(f, 24, 0xee);
	ip_done(f);
}

static const char *
chk_ip6_esp(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->l4_proto == P_ESP && p->l4_off == 14 + 48 && p->payload_len == 24);
	return NULL;
}

static void
bld_arp(struct frame *f)
{
	b_eth(f, ETH_ARP);
	fill(f, 28, 0);
	fill(f, 18, 0); /* padding to 60 */
}

static void
bld_lldp_vlan(struct frame *f)
{
	b_eth(f, ETH_VLAN);
	b_vlan(f, 42, ETH_LLDP);
	fill(f, 20, 0);
}

static const char *
chk_non_ip(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->ip_ver == 0 && p->hash == 0);
	EXPECT(p->l3_off == (p->n_vlan ? 18 : 14));
	EXPECT(p->n_vlan == 0 || p->vlan[0] == 42);
	return NULL;
}

static void
bld_ip6_ext_tcp(struct frame *f)
{
	v6_hdr(f, P_HOP);
	b_ext(f, P_DST, 0);   /* 8 */
	b_ext(f, P_RT, 1);    /* 16 */
	b_ext(f, P_TCP, 0);   /* 8 */
	b_tcp(f, 443, 50000, 7, 8, FT_TCP_SYN | FT_TCP_ACK, 65535, syn_opts, sizeof(syn_opts));
	fill(f, 3, 'z');
	ip_done(f);
}

static const char *
chk_ip6_ext_tcp(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->l4_proto == P_TCP && p->l4_off == 14 + 40 + 32);
	EXPECT(p->sport == 443 && p->dport == 50000 && p->tcp.flags == (FT_TCP_SYN | FT_TCP_ACK));
	EXPECT(p->tcp.mss == 1460 && p->tcp.wscale == 7 && p->tcp.has_ts);
	EXPECT(p->payload_off == 14 + 40 + 32 + 40 && p->payload_len == 3);
	EXPECT(p->ip_len == 40 + 32 + 40 + 3);
	return NULL;
}

static void
bld_ip6_ah_udp(struct frame *f)
{
	v6_hdr(f, P_AH);
	b_ah(f, P_UDP, 4); /* (4 + 2) * 4 = 24 bytes */
	b_udp(f, 500, 500, 0);
	ip_done(f);
}

static const char *
chk_ip6_ah_udp(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->l4_off == 14 + 40 + 24 && p->sport == 500 && p->payload_len == 0);
	return NULL;
}

static void
bld_ip6_mh_hip_shim6(struct frame *f)
{
	v6_hdr(f, P_MH);
	b_ext(f, P_HIP, 0);
	b_ext(f, P_SHIM6, 1);
	b_ext(f, P_NONE, 0);
	ip_done(f);
}

static const char *
chk_ip6_mh_hip_shim6(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->l4_proto == P_NONE && p->l4_off == 14 + 40 + 32);
	return NULL;
}

static void
bld_ip6_atomic(struct frame *f)
{
	v6_hdr(f, P_FRAG);
	b_frag6(f, P_UDP, 0, 0, 0xdeadbeef);
	b_udp(f, 1000, 2000, 4);
	ip_done(f);
}

static const char *
chk_ip6_atomic(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->l4_off == 14 + 48 && p->sport == 1000 && p->payload_len == 4);
	EXPECT(p->frag.id == 0 && p->frag.more == 0 && p->frag.frag_hdr_off == 0);
	return NULL;
}

static void
bld_ip6_8ext(struct frame *f)
{
	int i;

	v6_hdr(f, P_DST);
	for (i = 0; i < 7; i++)
		b_ext(f, P_DST, 0);
	b_ext(f, P_UDP, 0);
	b_udp(f, 1, 2, 0);
	ip_done(f);
}

static void
bld_ip6_9ext(struct frame *f)
{
	int i;

	v6_hdr(f, P_DST);
	for (i = 0; i < 8; i++)
		b_ext(f, P_DST, 0);
	b_ext(f, P_UDP, 0);
	b_udp(f, 1, 2, 0);
	ip_done(f);
}

static void
v4_frag(struct frame *f, uint16_t fragfield, uint32_t data_len)
{
	b_eth(f, ETH_IP4);
	b_ip4(f, A4, B4, P_TCP, 0, fragfield, 0xbeef);
	if (fragfield & 0x1fff) {
		fill(f, data_len, 'd');
	} else {
		b_tcp(f, 40000, 80, 1, 0, FT_TCP_ACK, 100, NULL, 0);
		fill(f, data_len - 20, 'd');
	}
	ip_done(f);
}

static void
bld_frag4_first(struct frame *f)
{
	v4_frag(f, IP4_MF, 40);
}

static void
bld_frag4_middle(struct frame *f)
{
	v4_frag(f, IP4_MF | (1480 / 8), 1480);
}

static void
bld_frag4_last(struct frame *f)
{
	v4_frag(f, 2960 / 8, 100);
}

static void
bld_frag4_flags(struct frame *f)
{
	v4_frag(f, IP4_RSV | IP4_DF | 1, 8);
}

static const char *
chk_frag4(const struct frame *f, const struct ft_pkt *p)
{
	uint16_t ff = (uint16_t)(f->b[f->l3 + 6] << 8 | f->b[f->l3 + 7]);

	EXPECT(p->frag.id == 0xbeef && p->frag.next_proto == P_TCP && p->l4_proto == P_TCP);
	EXPECT(p->frag.offset == (ff & 0x1fff) * 8);
	EXPECT(p->frag.more == !!(ff & IP4_MF) && p->frag.df == !!(ff & IP4_DF));
	EXPECT(p->frag.reserved == !!(ff & IP4_RSV) && p->frag.frag_hdr_off == 0);
	EXPECT(p->l4_off == 34 && p->payload_off == 34 && p->payload_len == f->len - 34);
	EXPECT(p->sport == 0 && p->dport == 0 && p->l4_hlen == 0 && p->tcp.seq == 0);
	EXPECT(p->hash == ft_decode_sym_hash(p->src, 0, p->dst, 0, P_TCP, 0xbeef));
	return NULL;
}

static void
bld_frag6_first(struct frame *f)
{
	v6_hdr(f, P_HOP);
	b_ext(f, P_FRAG, 0);
	b_frag6(f, P_UDP, 0, 1, 0x01020304);
	b_udp(f, 1000, 2000, 1224);
	ip_done(f);
}

static const char *
chk_frag6_first(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->frag.id == 0x01020304 && p->frag.offset == 0 && p->frag.more == 1);
	EXPECT(p->frag.frag_hdr_off == 48 && p->frag.next_proto == P_UDP && p->l4_proto == P_UDP);
	EXPECT(p->l4_off == 14 + 56 && p->payload_off == 14 + 56 && p->payload_len == 1232);
	EXPECT(p->sport == 0 && p->hash == ft_decode_sym_hash(A6, 0, B6, 0, 0, 0x01020304));
	return NULL;
}

static void
bld_frag6_last(struct frame *f)
{
	v6_hdr(f, P_FRAG);
	b_frag6(f, P_UDP, 1232, 0, 0x01020304);
	fill(f, 100, 'u');
	ip_done(f);
}

static const char *
chk_frag6_last(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->frag.id == 0x01020304 && p->frag.offset == 1232 && p->frag.more == 0);
	EXPECT(p->frag.frag_hdr_off == 40 && p->frag.next_proto == P_UDP && p->frag.df == 0);
	EXPECT(p->l4_off == 14 + 48 && p->payload_len == 100);
	EXPECT(p->hash == ft_decode_sym_hash(A6, 0, B6, 0, 0, 0x01020304));
	return NULL;
}

static void
bld_pad_tcp4(struct frame *f)
{
	v4_tcp(f, NULL, 0, 0);
	fill(f, 60 - f->len, 0); /* 40-byte datagram in a 60-byte frame */
}

static void
bld_pad_udp4(struct frame *f)
{
	v4_hdr(f, P_UDP);
	b_udp(f, 9, 9, 0);
	ip_done(f);
	fill(f, 60 - f->len, 0);
}

static const char *
chk_padded(const struct frame *f, const struct ft_pkt *p)
{
	EXPECT(f->len == 60 && p->payload_len == 0);
	EXPECT(p->ip_len == (p->l4_proto == P_TCP ? 40 : 28));
	return NULL;
}

static void
bld_cut_payload(struct frame *f)
{
	v4_tcp(f, syn_opts, sizeof(syn_opts), 100);
	cut(f, f->l4 + 40);
}

static const char *
chk_cut_payload(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->tcp.mss == 1460 && p->payload_off == 74 && p->payload_len == 100);
	return NULL;
}

static void
bld_opt_wrong_len(struct frame *f)
{
	static const uint8_t o[] = { 2, 3, 5, 3, 4, 7, 0, 1 };

	v4_tcp(f, o, sizeof(o), 0);
}

static const char *
chk_opt_wrong_len(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->tcp.mss == 0 && !p->tcp.has_wscale);
	return NULL;
}

static void
bld_opt_eol(struct frame *f)
{
	static const uint8_t o[] = { 2, 4, 5, 0xb4, 0, 3, 0, 0 }; /* bogus bytes after EOL */

	v4_tcp(f, o, sizeof(o), 0);
}

static const char *
chk_opt_eol(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->tcp.mss == 1460 && !p->tcp.has_wscale);
	return NULL;
}

/* -- PPPoE sessions -- */

/* Ethernet, PPPoE, IPv4 SYN A:40000 -> B:80 with the usual options. */
static void
bld_pppoe_tcp4(struct frame *f)
{
	b_eth(f, ETH_PPPOE_SESS);
	b_pppoe(f, PPP_IP4);
	b_ip4(f, A4, B4, P_TCP, 0, IP4_DF, 0x1234);
	b_tcp(f, 40000, 80, 0x01020304, 0, FT_TCP_SYN, 64240, syn_opts, sizeof(syn_opts));
	ip_done(f);
}

static const char *
chk_pppoe_tcp4(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->pppoe == 1 && p->pppoe_sid == PPPOE_SID && p->n_vlan == 0);
	EXPECT(p->l3_off == 14 + PPPOE_HLEN && p->l4_off == 14 + PPPOE_HLEN + 20);
	EXPECT(p->ip_len == 60 && p->payload_len == 0 && p->tcp.mss == 1460 && p->tcp.wscale == 7);
	/* The session id is not part of the flow identity: the hash of the plain frame. */
	EXPECT(p->hash == ft_decode_sym_hash(p->src, 40000, p->dst, 80, P_TCP, 0));
	return NULL;
}

static void
bld_pppoe_tcp6_qinq(struct frame *f)
{
	b_eth(f, ETH_QINQ);
	b_vlan(f, 100, ETH_VLAN);
	b_vlan(f, 200, ETH_PPPOE_SESS);
	b_pppoe(f, PPP_IP6);
	b_ip6(f, A6, B6, P_TCP);
	b_tcp(f, 50000, 443, 7, 8, FT_TCP_ACK | FT_TCP_PSH, 512, NULL, 0);
	fill(f, 9, 'q');
	ip_done(f);
}

static const char *
chk_pppoe_tcp6_qinq(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->pppoe == 1 && p->n_vlan == 2 && p->vlan[0] == 100 && p->vlan[1] == 200);
	EXPECT(p->ip_ver == 6 && p->l3_off == 22 + PPPOE_HLEN && p->l4_off == 22 + PPPOE_HLEN + 40);
	EXPECT(p->sport == 50000 && p->dport == 443 && p->payload_len == 9);
	EXPECT(p->hash == ft_decode_sym_hash(A6, 50000, B6, 443, P_TCP, (100u << 16) | 200));
	return NULL;
}

static void
bld_pppoe_udp4_padded(struct frame *f)
{
	b_eth(f, ETH_PPPOE_SESS);
	b_pppoe(f, PPP_IP4);
	b_ip4(f, A4, B4, P_UDP, 0, 0, 1);
	b_udp(f, 7, 7, 0);
	ip_done(f);
	fill(f, 60 - f->len, 0); /* after the PPPoE payload: padding, not IP */
}

static void
bld_pppoe_longer_than_ip(struct frame *f)
{
	bld_pppoe_udp4_padded(f);
	pppoe_done(f); /* the padding is now inside the session payload, still not IP */
}

static const char *
chk_pppoe_udp4_padded(const struct frame *f, const struct ft_pkt *p)
{
	EXPECT(f->len == 60 && p->pppoe == 1 && p->ip_len == 28 && p->payload_len == 0);
	EXPECT(p->l4_off == 14 + PPPOE_HLEN + 20 && p->sport == 7);
	return NULL;
}

static void
bld_pppoe_icmp6(struct frame *f)
{
	b_eth(f, ETH_PPPOE_SESS);
	b_pppoe(f, PPP_IP6);
	b_ip6(f, A6, B6, P_ICMP6);
	b_icmp(f, 128, 8);
	ip_done(f);
}

static void
bld_pppoe_cut_payload(struct frame *f)
{
	bld_pppoe_tcp4(f);
	fill(f, 100, 'x');
	ip_done(f);
	cut(f, f->l4 + 40); /* snaplen: the PPPoE and IP lengths hold, the capture stops */
}

static const char *
chk_pppoe_cut_payload(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->pppoe == 1 && p->tcp.mss == 1460 && p->payload_len == 100);
	return NULL;
}

static void
bld_pppoe_lcp(struct frame *f)
{
	b_eth(f, ETH_PPPOE_SESS);
	b_pppoe(f, PPP_LCP);
	put8(f, 9); /* Echo-Request, id 1, length 8, magic */
	put8(f, 1);
	put16(f, 8);
	put32(f, 0x0a0b0c0d);
	pppoe_done(f);
}

static void
bld_pppoe_ipcp_vlan(struct frame *f)
{
	b_eth(f, ETH_VLAN);
	b_vlan(f, 42, ETH_PPPOE_SESS);
	b_pppoe(f, PPP_IPCP);
	put8(f, 1); /* Configure-Request, id 1, length 10, IP-Address 0.0.0.0 */
	put8(f, 1);
	put16(f, 10);
	put8(f, 3);
	put8(f, 6);
	put32(f, 0);
	pppoe_done(f);
}

/* Boundary: the 8 bytes complete to the last one, nothing after (length 2). */
static void
bld_pppoe_hdr_exact(struct frame *f)
{
	b_eth(f, ETH_PPPOE_SESS);
	b_pppoe(f, PPP_LCP);
}

static const char *
chk_pppoe_non_ip(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->ip_ver == 0 && p->hash == 0 && p->pppoe == 1 && p->pppoe_sid == PPPOE_SID);
	EXPECT(p->l3_off == 14 + 4 * p->n_vlan + PPPOE_HLEN);
	EXPECT(p->n_vlan == 0 || p->vlan[0] == 42);
	return NULL;
}

/* Discovery is not walked, even when its bytes would pass for a session. */
static void
bld_pppoe_discovery(struct frame *f)
{
	b_eth(f, ETH_PPPOE_DISC);
	b_pppoe(f, PPP_IP4);
	b_ip4(f, A4, B4, P_UDP, 0, 0, 1);
	b_udp(f, 1, 2, 0);
	ip_done(f);
	f->b[f->pppoe + 1] = 0x09; /* PADI */
}

static const char *
chk_pppoe_discovery(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->ip_ver == 0 && p->hash == 0 && p->pppoe == 0 && p->pppoe_sid == 0);
	EXPECT(p->l3_off == 14);
	return NULL;
}

/* The PPPoE header of a good IPv4 TCP frame cut to n bytes (PPP protocol included). */
static void
pppoe_hdr_cut(struct frame *f, uint32_t n)
{
	bld_pppoe_tcp4(f);
	f->len = f->pppoe + n;
}

static void
bld_trunc_pppoe_none(struct frame *f)
{
	pppoe_hdr_cut(f, 0);
}

static void
bld_trunc_pppoe_hdr(struct frame *f)
{
	pppoe_hdr_cut(f, 5);
}

static void
bld_trunc_pppoe_noproto(struct frame *f)
{
	pppoe_hdr_cut(f, 6);
}

/* Boundary: one byte short of the complete header. */
static void
bld_trunc_pppoe_short1(struct frame *f)
{
	pppoe_hdr_cut(f, PPPOE_HLEN - 1);
}

static void
bld_trunc_pppoe_qinq_cap(struct frame *f)
{
	bld_pppoe_tcp6_qinq(f);
	cut(f, f->pppoe + PPPOE_HLEN - 1); /* complete on the wire, cut by the capture */
}

static void
bld_pppoe_bad_version(struct frame *f)
{
	bld_pppoe_tcp4(f);
	f->b[f->pppoe] = 0x21;
}

static void
bld_pppoe_bad_type(struct frame *f)
{
	bld_pppoe_tcp4(f);
	f->b[f->pppoe] = 0x12;
}

static void
bld_pppoe_bad_code(struct frame *f)
{
	bld_pppoe_tcp4(f);
	f->b[f->pppoe + 1] = 0xa7; /* PADT belongs to discovery */
}

static void
bld_pppoe_len_high(struct frame *f)
{
	bld_pppoe_tcp4(f);
	set16(f, f->pppoe + 4, (uint16_t)(f->len - f->pppoe - 6 + 1));
}

static void
bld_pppoe_len_max(struct frame *f)
{
	bld_pppoe_tcp4(f);
	set16(f, f->pppoe + 4, 0xffff);
}

static void
bld_pppoe_len_0(struct frame *f)
{
	bld_pppoe_tcp4(f);
	set16(f, f->pppoe + 4, 0);
}

static void
bld_pppoe_len_1(struct frame *f)
{
	bld_pppoe_tcp4(f);
	set16(f, f->pppoe + 4, 1);
}

/* The session payload, not the frame, bounds the datagram. */
static void
bld_pppoe_ip4_totlen(struct frame *f)
{
	bld_pppoe_tcp4(f);
	set16(f, f->pppoe + 4, (uint16_t)(f->len - f->pppoe - 6 - 1));
}

static void
bld_pppoe_ip4_hdr_cut(struct frame *f)
{
	bld_pppoe_tcp4(f);
	set16(f, f->pppoe + 4, 2 + 19);
}

static void
bld_pppoe_len2_then_ip4(struct frame *f)
{
	bld_pppoe_tcp4(f);
	set16(f, f->pppoe + 4, 2);
}

static void
bld_pppoe_ip6_plen(struct frame *f)
{
	bld_pppoe_tcp6_qinq(f);
	set16(f, f->pppoe + 4, (uint16_t)(f->len - f->pppoe - 6 - 1));
}

/* -- malformed -- */

static void
bld_trunc_ether(struct frame *f)
{
	fill(f, 13, 0);
}

static void
bld_trunc_ether_empty(struct frame *f)
{
	v4_tcp(f, NULL, 0, 0);
	cut(f, 0);
}

static void
bld_trunc_vlan(struct frame *f)
{
	b_eth(f, ETH_VLAN);
	put16(f, 5);
}

static void
bld_trunc_vlan2(struct frame *f)
{
	b_eth(f, ETH_QINQ);
	b_vlan(f, 5, ETH_VLAN);
	fill(f, 3, 0);
}

static void
bld_vlan_too_deep(struct frame *f)
{
	b_eth(f, ETH_QINQ);
	b_vlan(f, 1, ETH_VLAN);
	b_vlan(f, 2, ETH_VLAN);
	b_vlan(f, 3, ETH_IP4);
	b_ip4(f, A4, B4, P_UDP, 0, 0, 1);
	b_udp(f, 1, 2, 0);
	ip_done(f);
}

static const char *
chk_vlan_kept(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->n_vlan == 2 && p->vlan[0] == 1 && p->vlan[1] == 2);
	return NULL;
}

static void
bld_trunc_ip4(struct frame *f)
{
	v4_hdr(f, P_TCP);
	f->len -= 1; /* 19 bytes of IPv4 header */
}

static void
bld_trunc_ip4_cap(struct frame *f)
{
	v4_tcp(f, NULL, 0, 0);
	cut(f, 14 + 10);
}

static void
bld_ip4_bad_version(struct frame *f)
{
	v4_tcp(f, NULL, 0, 0);
	f->b[f->l3] = 0x65;
}

static void
bld_ip4_ihl_low(struct frame *f)
{
	v4_tcp(f, NULL, 0, 0);
	f->b[f->l3] = 0x44;
}

static void
bld_ip4_ihl_beyond(struct frame *f)
{
	v4_tcp(f, NULL, 0, 0); /* 40 bytes of datagram, IHL 15 says 60 */
	f->b[f->l3] = 0x4f;
}

static void
bld_ip4_totlen_low(struct frame *f)
{
	v4_tcp(f, NULL, 0, 0);
	set16(f, f->l3 + 2, 19);
}

static void
bld_ip4_totlen_ihl(struct frame *f)
{
	b_eth(f, ETH_IP4);
	b_ip4(f, A4, B4, P_UDP, 4, 0, 1); /* IHL 6 = 24 bytes */
	b_udp(f, 1, 2, 0);
	set16(f, f->l3 + 2, 22);
}

static void
bld_ip4_totlen_high(struct frame *f)
{
	v4_tcp(f, NULL, 0, 0);
	set16(f, f->l3 + 2, 41);
}

static void
bld_trunc_ip6(struct frame *f)
{
	v6_hdr(f, P_UDP);
	f->len -= 1;
}

static void
bld_ip6_bad_version(struct frame *f)
{
	v6_hdr(f, P_UDP);
	b_udp(f, 1, 2, 0);
	ip_done(f);
	f->b[f->l3] = 0x40;
}

static void
bld_ip6_bad_plen(struct frame *f)
{
	v6_hdr(f, P_UDP);
	b_udp(f, 1, 2, 0);
	set16(f, f->l3 + 4, 9);
}

static void
bld_ip6_ext_past_end(struct frame *f)
{
	v6_hdr(f, P_HOP);
	b_ext(f, P_UDP, 1); /* 16 bytes, the datagram only holds 8 */
	set16(f, f->l3 + 4, 8);
}

static void
bld_ip6_ext_past_cap(struct frame *f)
{
	v6_hdr(f, P_HOP);
	b_ext(f, P_UDP, 1);
	b_udp(f, 1, 2, 0);
	ip_done(f);
	cut(f, 14 + 40 + 10);
}

static void
bld_ip6_ext_tiny(struct frame *f)
{
	v6_hdr(f, P_DST);
	fill(f, 4, 0); /* fewer than 8 bytes left for an extension header */
	ip_done(f);
}

static void
bld_ip6_frag_hdr_cut(struct frame *f)
{
	v6_hdr(f, P_FRAG);
	b_frag6(f, P_UDP, 8, 0, 1);
	ip_done(f);
	cut(f, f->len - 1);
}

static void
bld_trunc_tcp(struct frame *f)
{
	v4_hdr(f, P_TCP);
	fill(f, 19, 0);
	ip_done(f);
	fill(f, 60 - f->len, 0); /* padding must not count as TCP bytes */
}

static void
bld_trunc_tcp_cap(struct frame *f)
{
	v4_tcp(f, syn_opts, sizeof(syn_opts), 0);
	cut(f, f->l4 + 12);
}

static void
bld_tcp_bad_doff(struct frame *f)
{
	v4_tcp(f, NULL, 0, 8);
	f->b[f->l4 + 12] = 0x40;
}

static void
bld_tcp_doff_ip(struct frame *f)
{
	v4_tcp(f, NULL, 0, 0);
	f->b[f->l4 + 12] = 0xf0;
	fill(f, 60, 0); /* bytes exist in the frame, not in the datagram */
}

static void
bld_tcp_doff_cap(struct frame *f)
{
	v4_tcp(f, syn_opts, sizeof(syn_opts), 0);
	cut(f, f->l4 + 24);
}

static void
bld_tcp_opt_len1(struct frame *f)
{
	static const uint8_t o[] = { 2, 1, 0, 0 };

	v4_tcp(f, o, sizeof(o), 0);
}

static void
bld_tcp_opt_past(struct frame *f)
{
	static const uint8_t o[] = { 8, 10, 0, 0 };

	v4_tcp(f, o, sizeof(o), 4);
}

static void
bld_tcp_opt_nolen(struct frame *f)
{
	static const uint8_t o[] = { 1, 1, 1, 3 };

	v4_tcp(f, o, sizeof(o), 0);
}

/* MSS, then a timestamps option whose length runs past the header. */
static void
bld_tcp_opt_mss_then_past(struct frame *f)
{
	static const uint8_t o[] = { 2, 4, 5, 0xb4, 8, 10, 0, 0 };

	v4_tcp(f, o, sizeof(o), 0);
}

/* A bad option length ends the walk (as in Linux's tcp_parse_options());
 * the segment is TCP, with its ports, hash and payload. */
static const char *
chk_opt_bad(const struct frame *f, const struct ft_pkt *p)
{
	(void)f;
	EXPECT(p->tcp.opt_bad == 1 && p->l4_off == 34 && p->sport == 40000 && p->dport == 80);
	EXPECT(p->hash != 0 && p->hash == ft_decode_sym_hash(p->src, 40000, p->dst, 80, P_TCP, 0));
	EXPECT(p->payload_off == p->l4_off + p->l4_hlen && p->tcp.has_ts == 0);
	return NULL;
}

static const char *
chk_opt_bad_mss(const struct frame *f, const struct ft_pkt *p)
{
	EXPECT(p->tcp.mss == 1460);
	return chk_opt_bad(f, p);
}

static void
bld_trunc_udp(struct frame *f)
{
	v4_hdr(f, P_UDP);
	fill(f, 7, 0);
	ip_done(f);
}

static void
bld_udp_len_low(struct frame *f)
{
	v4_hdr(f, P_UDP);
	b_udp(f, 1, 2, 4);
	ip_done(f);
	set16(f, f->l4 + 4, 7);
}

static void
bld_udp_len_high(struct frame *f)
{
	v4_hdr(f, P_UDP);
	b_udp(f, 1, 2, 4);
	ip_done(f);
	set16(f, f->l4 + 4, 13);
	fill(f, 60 - f->len, 0);
}

static void
bld_trunc_icmp(struct frame *f)
{
	v4_hdr(f, P_ICMP);
	fill(f, 3, 0);
	ip_done(f);
	fill(f, 60 - f->len, 0);
}

static void
bld_trunc_icmp6(struct frame *f)
{
	v6_hdr(f, P_ICMP6);
	fill(f, 3, 0);
	ip_done(f);
}

struct tcase {
	const char *name;
	void (*build)(struct frame *f);
	enum ft_pkt_class cls;
	enum ft_malformed_reason mal;
	const char *(*check)(const struct frame *f, const struct ft_pkt *p);
};

#define OK(name, b, cls, chk) { name, b, FT_CLS_##cls, FT_MAL_NONE, chk }
#define BAD(name, b, why, chk) { name, b, FT_CLS_MALFORMED, FT_MAL_##why, chk }

static const struct tcase cases[] = {
	OK("tcp4 syn: mss 1460, wscale 7, sack-perm, timestamps", bld_tcp4_syn, TCP, chk_tcp4_syn),
	OK("tcp4 wscale 255 kept as sent, ts values", bld_tcp4_wscale255, TCP, chk_tcp4_wscale255),
	OK("tcp4 Fast Open cookie (kind 34)", bld_tcp4_tfo, TCP, chk_tfo_cookie),
	OK("tcp4 Fast Open cookie request, short experimental cookie: none", bld_tcp4_tfo_request, TCP,
	   chk_tfo_none),
	OK("tcp4 Fast Open cookie (kind 254, ExID 0xF989) after another experiment", bld_tcp4_tfo_exp,
	   TCP, chk_tfo_cookie),
	OK("tcp4 no options, payload", bld_tcp4_plain, TCP, chk_tcp4_plain),
	OK("tcp4 with ipv4 options", bld_tcp4_ipopts, TCP, chk_tcp4_ipopts),
	OK("tcp4 qinq 0x88a8/0x8100", bld_tcp4_qinq, TCP, chk_tcp4_qinq),
	OK("udp4 vlan 0x9100 id 4095", bld_udp4_vlan9100, UDP, chk_udp4_vlan9100),
	OK("udp4", bld_udp4, UDP, chk_udp4),
	OK("udp6", bld_udp6, UDP, chk_udp6),
	OK("icmp4 echo", bld_icmp4, ICMP, chk_icmp),
	OK("icmp6 echo", bld_icmp6, ICMP, chk_icmp),
	OK("ipv4 gre is other_ip", bld_gre4, OTHER_IP, chk_other),
	OK("icmpv6 over ipv4 is other_ip", bld_icmp6_in_ip4, OTHER_IP, chk_other),
	OK("icmp over ipv6 is other_ip", bld_icmp4_in_ip6, OTHER_IP, chk_other),
	OK("ipv6 hbh then no-next-header", bld_ip6_hbh_none, OTHER_IP, chk_ip6_hbh_none),
	OK("ipv6 hbh then esp", bld_ip6_esp, OTHER_IP, chk_ip6_esp),
	OK("arp is non_ip", bld_arp, NON_IP, chk_non_ip),
	OK("lldp in vlan is non_ip", bld_lldp_vlan, NON_IP, chk_non_ip),
	OK("ipv6 hbh+dst+routing then tcp", bld_ip6_ext_tcp, TCP, chk_ip6_ext_tcp),
	OK("ipv6 ah (len+2)*4 then udp", bld_ip6_ah_udp, UDP, chk_ip6_ah_udp),
	OK("ipv6 mobility/hip/shim6 walked", bld_ip6_mh_hip_shim6, OTHER_IP, chk_ip6_mh_hip_shim6),
	OK("ipv6 atomic fragment is not a fragment", bld_ip6_atomic, UDP, chk_ip6_atomic),
	OK("ipv6 8 extension headers accepted", bld_ip6_8ext, UDP, NULL),
	OK("ipv4 first fragment", bld_frag4_first, FRAGMENT, chk_frag4),
	OK("ipv4 middle fragment", bld_frag4_middle, FRAGMENT, chk_frag4),
	OK("ipv4 last fragment", bld_frag4_last, FRAGMENT, chk_frag4),
	OK("ipv4 fragment df and reserved flags", bld_frag4_flags, FRAGMENT, chk_frag4),
	OK("ipv6 first fragment after hbh", bld_frag6_first, FRAGMENT, chk_frag6_first),
	OK("ipv6 last fragment", bld_frag6_last, FRAGMENT, chk_frag6_last),
	OK("ethernet padding: 60-byte frame, 40-byte tcp4", bld_pad_tcp4, TCP, chk_padded),
	OK("ethernet padding: 60-byte frame, 28-byte udp4", bld_pad_udp4, UDP, chk_padded),
	OK("caplen cuts payload only: payload from ip length", bld_cut_payload, TCP,
	   chk_cut_payload),
	OK("known tcp option with wrong length skipped", bld_opt_wrong_len, TCP, chk_opt_wrong_len),
	OK("tcp option eol ends the walk", bld_opt_eol, TCP, chk_opt_eol),
	OK("pppoe tcp4 syn", bld_pppoe_tcp4, TCP, chk_pppoe_tcp4),
	OK("qinq + pppoe tcp6 with payload", bld_pppoe_tcp6_qinq, TCP, chk_pppoe_tcp6_qinq),
	OK("pppoe udp4 padded to 60: padding after the session payload", bld_pppoe_udp4_padded, UDP,
	   chk_pppoe_udp4_padded),
	OK("pppoe payload longer than the datagram", bld_pppoe_longer_than_ip, UDP,
	   chk_pppoe_udp4_padded),
	OK("pppoe icmp6", bld_pppoe_icmp6, ICMP, chk_icmp),
	OK("pppoe, caplen cuts payload only", bld_pppoe_cut_payload, TCP, chk_pppoe_cut_payload),
	OK("pppoe lcp is non_ip", bld_pppoe_lcp, NON_IP, chk_pppoe_non_ip),
	OK("vlan + pppoe ipcp is non_ip", bld_pppoe_ipcp_vlan, NON_IP, chk_pppoe_non_ip),
	OK("pppoe header complete to the last byte", bld_pppoe_hdr_exact, NON_IP, chk_pppoe_non_ip),
	OK("pppoe discovery is non_ip, not walked", bld_pppoe_discovery, NON_IP, chk_pppoe_discovery),

	BAD("13-byte frame", bld_trunc_ether, TRUNC_ETHER, NULL),
	BAD("caplen 0", bld_trunc_ether_empty, TRUNC_ETHER, NULL),
	BAD("vlan tag cut", bld_trunc_vlan, TRUNC_VLAN, NULL),
	BAD("second vlan tag cut", bld_trunc_vlan2, TRUNC_VLAN, NULL),
	BAD("three vlan tags", bld_vlan_too_deep, VLAN_TOO_DEEP, chk_vlan_kept),
	BAD("19-byte ipv4 header", bld_trunc_ip4, TRUNC_IP4, NULL),
	BAD("ipv4 header cut by caplen", bld_trunc_ip4_cap, TRUNC_IP4, NULL),
	BAD("ipv4 version 6", bld_ip4_bad_version, IP4_BAD_VERSION, NULL),
	BAD("ipv4 ihl 4", bld_ip4_ihl_low, IP4_BAD_IHL, NULL),
	BAD("ipv4 ihl 15 beyond caplen", bld_ip4_ihl_beyond, IP4_BAD_IHL, NULL),
	BAD("ipv4 total length 19", bld_ip4_totlen_low, IP4_BAD_TOTLEN, NULL),
	BAD("ipv4 total length below ihl*4", bld_ip4_totlen_ihl, IP4_BAD_TOTLEN, NULL),
	BAD("ipv4 total length beyond frame", bld_ip4_totlen_high, IP4_BAD_TOTLEN, NULL),
	BAD("39-byte ipv6 header", bld_trunc_ip6, TRUNC_IP6, NULL),
	BAD("ipv6 version 4", bld_ip6_bad_version, IP6_BAD_VERSION, NULL),
	BAD("ipv6 payload length beyond frame", bld_ip6_bad_plen, IP6_BAD_PLEN, NULL),
	BAD("ipv6 ext header past datagram end", bld_ip6_ext_past_end, IP6_EXT_TRUNC, NULL),
	BAD("ipv6 ext header past caplen", bld_ip6_ext_past_cap, IP6_EXT_TRUNC, NULL),
	BAD("ipv6 ext header under 8 bytes", bld_ip6_ext_tiny, IP6_EXT_TRUNC, NULL),
	BAD("ipv6 fragment header cut", bld_ip6_frag_hdr_cut, IP6_EXT_TRUNC, NULL),
	BAD("ipv6 9 extension headers", bld_ip6_9ext, IP6_EXT_TOO_MANY, NULL),
	BAD("19 bytes of tcp in a padded frame", bld_trunc_tcp, TRUNC_TCP, NULL),
	BAD("caplen cuts the tcp header", bld_trunc_tcp_cap, TRUNC_TCP, NULL),
	BAD("tcp data offset 4", bld_tcp_bad_doff, TCP_BAD_DOFF, NULL),
	BAD("tcp data offset beyond datagram", bld_tcp_doff_ip, TCP_DOFF_OVERRUN, NULL),
	BAD("tcp data offset beyond caplen", bld_tcp_doff_cap, TCP_DOFF_OVERRUN, NULL),
	OK("tcp option length 1: tcp, opt_bad", bld_tcp_opt_len1, TCP, chk_opt_bad),
	OK("tcp option past header: tcp, opt_bad, its payload", bld_tcp_opt_past, TCP, chk_opt_bad),
	OK("tcp option length byte missing: tcp, opt_bad", bld_tcp_opt_nolen, TCP, chk_opt_bad),
	OK("tcp mss then an option past the header: mss read", bld_tcp_opt_mss_then_past, TCP,
	   chk_opt_bad_mss),
	BAD("7 bytes of udp", bld_trunc_udp, TRUNC_UDP, NULL),
	BAD("udp length 7", bld_udp_len_low, UDP_BAD_LEN, NULL),
	BAD("udp length beyond datagram", bld_udp_len_high, UDP_BAD_LEN, NULL),
	BAD("3 bytes of icmp", bld_trunc_icmp, TRUNC_ICMP, NULL),
	BAD("3 bytes of icmpv6", bld_trunc_icmp6, TRUNC_ICMP, NULL),
	BAD("pppoe ethertype, no header", bld_trunc_pppoe_none, TRUNC_PPPOE, NULL),
	BAD("5 bytes of pppoe header", bld_trunc_pppoe_hdr, TRUNC_PPPOE, NULL),
	BAD("pppoe header without ppp protocol", bld_trunc_pppoe_noproto, TRUNC_PPPOE, NULL),
	BAD("pppoe header one byte short", bld_trunc_pppoe_short1, TRUNC_PPPOE, NULL),
	BAD("qinq + pppoe header cut by caplen", bld_trunc_pppoe_qinq_cap, TRUNC_PPPOE, NULL),
	BAD("pppoe version 2", bld_pppoe_bad_version, PPPOE_BAD_HEADER, NULL),
	BAD("pppoe type 2", bld_pppoe_bad_type, PPPOE_BAD_HEADER, NULL),
	BAD("pppoe session code 0xa7", bld_pppoe_bad_code, PPPOE_BAD_HEADER, NULL),
	BAD("pppoe length one byte beyond the frame", bld_pppoe_len_high, PPPOE_BAD_LEN, NULL),
	BAD("pppoe length 65535", bld_pppoe_len_max, PPPOE_BAD_LEN, NULL),
	BAD("pppoe length 0", bld_pppoe_len_0, PPPOE_BAD_LEN, NULL),
	BAD("pppoe length 1", bld_pppoe_len_1, PPPOE_BAD_LEN, NULL),
	BAD("ipv4 total length beyond the pppoe payload", bld_pppoe_ip4_totlen, IP4_BAD_TOTLEN, NULL),
	BAD("ipv4 header cut by the pppoe length", bld_pppoe_ip4_hdr_cut, TRUNC_IP4, NULL),
	BAD("pppoe length 2, ipv4 after it", bld_pppoe_len2_then_ip4, TRUNC_IP4, NULL),
	BAD("ipv6 payload length beyond the pppoe payload", bld_pppoe_ip6_plen, IP6_BAD_PLEN, NULL),
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* ---- runner ------------------------------------------------------------- */

/* The cases and checks here say what failed (NULL: nothing) rather than
 * whether it did. */
static void
result(const char *name, const char *why)
{
	checkf(name, why == NULL, "%s", why);
}

/*
 * Decode from a heap copy of exactly caplen bytes at offset shift, so any read
 * past caplen is a heap overflow for ASan and shift 1 exercises odd alignment.
 */
static enum ft_pkt_class
decode_exact(const uint8_t *frame, uint32_t caplen, uint32_t wirelen, uint32_t shift,
	     struct ft_pkt *p)
{
	uint8_t *buf = malloc(shift + caplen + (shift + caplen == 0));
	enum ft_pkt_class c;

	if (buf == NULL)
		abort();
	memcpy(buf + shift, frame, caplen);
	c = ft_decode(buf + shift, caplen, wirelen, p);
	free(buf);
	return c;
}

/* Properties every decode must have, whatever the input. */
static const char *
invariants(enum ft_pkt_class ret, const struct ft_pkt *p, uint32_t caplen, uint32_t wirelen)
{
	EXPECT(ret == p->cls && p->cls < FT_CLS_MAX && p->malformed < FT_MAL_MAX);
	EXPECT((p->cls == FT_CLS_MALFORMED) == (p->malformed != FT_MAL_NONE));
	EXPECT(p->n_vlan <= FT_DECODE_MAX_VLAN);
	/* A walked session header puts what PPP carries right after it. */
	EXPECT(p->pppoe <= 1 && (p->pppoe || p->pppoe_sid == 0));
	if (p->pppoe)
		EXPECT(p->l3_off == 14 + 4 * p->n_vlan + PPPOE_HLEN);
	if (p->cls == FT_CLS_MALFORMED || p->cls == FT_CLS_NON_IP)
		EXPECT(p->hash == 0);
	if (p->cls == FT_CLS_NON_IP)
		EXPECT(p->ip_ver == 0);
	if (p->cls == FT_CLS_MALFORMED || p->cls == FT_CLS_NON_IP)
		return NULL;
	EXPECT(p->ip_ver == 4 || p->ip_ver == 6);
	EXPECT(p->l3_off <= caplen && p->l4_off <= caplen);
	EXPECT(p->payload_off >= p->l4_off);
	/* Payload ends exactly where the datagram does, never at the frame end. */
	EXPECT((uint32_t)p->payload_off + p->payload_len == (uint32_t)p->l3_off + p->ip_len);
	EXPECT((uint32_t)p->l3_off + p->ip_len <= wirelen);
	if (p->cls == FT_CLS_TCP || p->cls == FT_CLS_UDP)
		EXPECT((uint32_t)p->l4_off + p->l4_hlen <= caplen &&
		       p->payload_off == p->l4_off + p->l4_hlen);
	if (p->cls != FT_CLS_TCP)
		EXPECT(p->tcp.seq == 0 && p->tcp.wscale == 0 && p->tcp.flags == 0);
	if (p->cls != FT_CLS_FRAGMENT)
		EXPECT(p->frag.id == 0 && p->frag.offset == 0 && p->frag.more == 0);
	if (p->cls != FT_CLS_TCP && p->cls != FT_CLS_UDP)
		EXPECT(p->sport == 0 && p->dport == 0);
	return NULL;
}

static const char *
run_case(const struct tcase *tc)
{
	static struct frame f;
	static char msg[512];
	struct ft_pkt p, p1;
	enum ft_pkt_class c, c1;
	uint32_t caplen, wirelen;
	const char *why;

	memset(&f, 0, sizeof(f));
	tc->build(&f);
	wirelen = f.len;
	caplen = f.cut ? f.caplen : f.len;
	c = decode_exact(f.b, caplen, wirelen, 0, &p);
	c1 = decode_exact(f.b, caplen, wirelen, 1, &p1);
	if (c != c1 || memcmp(&p, &p1, sizeof(p)) != 0)
		return "result depends on buffer alignment";
	why = invariants(c, &p, caplen, wirelen);
	if (why != NULL)
		return why;
	if (p.cls != tc->cls || p.malformed != tc->mal) {
		snprintf(msg, sizeof(msg), "got %s/%s, want %s/%s", ft_pkt_class_name(p.cls),
			 ft_malformed_name(p.malformed), ft_pkt_class_name(tc->cls),
			 ft_malformed_name(tc->mal));
		return msg;
	}
	return tc->check != NULL ? tc->check(&f, &p) : NULL;
}

/* Every table frame at every caplen from 0 to its length, both alignments. */
static const char *
caplen_sweep(unsigned int *n_decodes)
{
	static struct frame f;
	static char msg[512];
	struct ft_pkt p, p1;
	enum ft_pkt_class c, c1;
	const char *why;
	unsigned int i;
	uint32_t cap;

	for (i = 0; i < N_CASES; i++) {
		memset(&f, 0, sizeof(f));
		cases[i].build(&f);
		for (cap = 0; cap <= f.len; cap++) {
			c = decode_exact(f.b, cap, f.len, 0, &p);
			c1 = decode_exact(f.b, cap, f.len, 1, &p1);
			(*n_decodes) += 2;
			why = c != c1 || memcmp(&p, &p1, sizeof(p)) != 0 ?
				      "alignment dependent" :
				      invariants(c, &p, cap, f.len);
			if (why != NULL) {
				snprintf(msg, sizeof(msg), "%s at caplen %u: %s", cases[i].name,
					 cap, why);
				return msg;
			}
		}
	}
	return NULL;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* Table frames with random bytes changed, random caplen and wirelen. */
static const char *
mutation_fuzz(unsigned int rounds)
{
	static struct frame f;
	static char msg[512];
	struct ft_pkt p;
	enum ft_pkt_class c;
	const char *why;
	uint32_t cap, wire, n, k;
	unsigned int r;

	for (r = 0; r < rounds; r++) {
		memset(&f, 0, sizeof(f));
		cases[rng() % N_CASES].build(&f);
		if (f.len == 0)
			continue;
		n = 1 + rng() % 4;
		for (k = 0; k < n; k++)
			f.b[rng() % f.len] = (uint8_t)rng();
		cap = rng() % (f.len + 1);
		wire = f.len + (rng() % 3 == 0 ? rng() % 64 : 0);
		c = decode_exact(f.b, cap, wire, rng() & 1, &p);
		why = invariants(c, &p, cap, wire);
		if (why != NULL) {
			snprintf(msg, sizeof(msg), "round %u: %s", r, why);
			return msg;
		}
	}
	return NULL;
}

/* ---- hash, owner and names ---------------------------------------------- */

/* The symmetric hash over 20000 pseudo-random tuples (IPv4-mapped and IPv6
 * addresses, equal addresses, every protocol byte), folded into one value
 * computed with rte_hash_crc(): how it is computed may change, what it gives
 * may not (it picks each packet's worker and flow table slot). */
#define SYM_HASH_PINNED 0x7aa0ce13u

static const char *
test_sym_hash_pinned(void)
{
	static char msg[64];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	uint32_t acc = 0, i;
	uint8_t a[16], b[16];

	for (i = 0; i < 20000; i++) {
		unsigned int k;

		for (k = 0; k < 16; k++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			a[k] = (uint8_t)(x >> 56);
			b[k] = (uint8_t)(x >> 48);
		}
		if (i % 4 == 1) /* IPv4 keys: 12 bytes alike */
			memset(a, 0, 12), memset(b, 0, 12);
		if (i % 7 == 3)
			memcpy(b, a, 16);
		acc = acc * 31 + ft_decode_sym_hash(a, (uint16_t)(x >> 8), b, (uint16_t)(x >> 24),
						    (uint8_t)i, (uint32_t)(x >> 32));
	}
	if (acc == SYM_HASH_PINNED)
		return NULL;
	snprintf(msg, sizeof(msg), "folded 0x%08x, pinned 0x%08x", acc, SYM_HASH_PINNED);
	return msg;
}

static uint32_t
hash_of(void (*build)(struct frame *f, int rev), int rev)
{
	static struct frame f;
	struct ft_pkt p;

	memset(&f, 0, sizeof(f));
	build(&f, rev);
	decode_exact(f.b, f.len, f.len, 0, &p);
	return p.hash;
}

static void
h_tcp4(struct frame *f, int rev)
{
	v4_hdr(f, P_TCP);
	if (rev) {
		memcpy(f->b + f->l3 + 12, (const uint8_t[]){ 10, 0, 0, 2, 10, 0, 0, 1 }, 8);
		b_tcp(f, 80, 40000, 9, 2, FT_TCP_SYN | FT_TCP_ACK, 100, NULL, 0);
	} else {
		b_tcp(f, 40000, 80, 1, 0, FT_TCP_SYN, 100, NULL, 0);
	}
	ip_done(f);
}

static void
h_tcp4_port(struct frame *f, int rev)
{
	(void)rev;
	v4_hdr(f, P_TCP);
	b_tcp(f, 40001, 80, 1, 0, FT_TCP_SYN, 100, NULL, 0);
	ip_done(f);
}

static void
h_tcp4_vlan(struct frame *f, int rev)
{
	(void)rev;
	b_eth(f, ETH_VLAN);
	b_vlan(f, 7, ETH_IP4);
	b_ip4(f, A4, B4, P_TCP, 0, IP4_DF, 0x1234);
	b_tcp(f, 40000, 80, 1, 0, FT_TCP_SYN, 100, NULL, 0);
	ip_done(f);
}

/* The same segment as h_tcp4(f, 0) in a PPPoE session; sid_variant picks another session id. */
static void
h_tcp4_pppoe(struct frame *f, int sid_variant)
{
	b_eth(f, ETH_PPPOE_SESS);
	b_pppoe(f, PPP_IP4);
	if (sid_variant)
		set16(f, f->pppoe + 2, 0x0001);
	b_ip4(f, A4, B4, P_TCP, 0, IP4_DF, 0x1234);
	b_tcp(f, 40000, 80, 1, 0, FT_TCP_SYN, 100, NULL, 0);
	ip_done(f);
}

static void
h_udp4(struct frame *f, int rev)
{
	(void)rev;
	v4_hdr(f, P_UDP);
	b_udp(f, 40000, 80, 0);
	ip_done(f);
}

static void
h_tcp6(struct frame *f, int rev)
{
	b_eth(f, ETH_IP6);
	if (rev) {
		b_ip6(f, B6, A6, P_TCP);
		b_tcp(f, 443, 50000, 9, 2, FT_TCP_SYN | FT_TCP_ACK, 100, NULL, 0);
	} else {
		b_ip6(f, A6, B6, P_TCP);
		b_tcp(f, 50000, 443, 1, 0, FT_TCP_SYN, 100, NULL, 0);
	}
	ip_done(f);
}

static void
h_frag4(struct frame *f, int which)
{
	static const uint16_t ff[] = { IP4_MF, IP4_MF | 185, 370, IP4_MF };

	b_eth(f, ETH_IP4);
	if (which == 3)
		b_ip4(f, B4, A4, P_TCP, 0, ff[which], 0xbeef);
	else
		b_ip4(f, A4, B4, P_TCP, 0, ff[which], 0xbeef);
	fill(f, 64, 'd');
	ip_done(f);
}

static const char *
test_owner(void)
{
	static unsigned int bucket[64];
	uint8_t a[16] = { 10, 1 }, b[16] = { 10, 2 };
	unsigned int n, i, h, min, max;

	EXPECT(ft_decode_owner(0, 7) == 0 && ft_decode_owner(UINT32_MAX, 7) == 6);
	EXPECT(ft_decode_owner(UINT32_MAX, 1) == 0 && ft_decode_owner(0x80000000u, 2) == 1);
	for (n = 1; n <= 64; n++) {
		memset(bucket, 0, sizeof(bucket));
		for (i = 0; i < 16384; i++) {
			a[2] = (uint8_t)(i >> 8);
			a[3] = (uint8_t)i;
			h = ft_decode_sym_hash(a, (uint16_t)(1024 + i), b, 443, P_TCP, 0);
			EXPECT(ft_decode_owner(h, n) < n);
			bucket[ft_decode_owner(h, n)]++;
		}
		/* Flows spread over workers: each gets within 25% of its share. */
		min = max = bucket[0];
		for (i = 1; i < n; i++) {
			min = bucket[i] < min ? bucket[i] : min;
			max = bucket[i] > max ? bucket[i] : max;
		}
		EXPECT(min * 4 >= 16384 / n * 3 && max * 4 <= 16384 / n * 5);
	}
	return NULL;
}

static const char *const want_cls[] = {
	"tcp", "udp", "icmp", "other_ip", "fragment", "non_ip", "malformed",
};

static const char *const want_mal[] = {
	"none", "trunc_ether", "trunc_vlan", "vlan_too_deep", "trunc_ip4", "ip4_bad_version",
	"ip4_bad_ihl", "ip4_bad_totlen", "trunc_ip6", "ip6_bad_version", "ip6_bad_plen",
	"ip6_ext_trunc", "ip6_ext_too_many", "trunc_tcp", "tcp_bad_doff", "tcp_doff_overrun",
	"trunc_udp", "udp_bad_len", "trunc_icmp", "trunc_pppoe", "pppoe_bad_header",
	"pppoe_bad_len", "ip4_bad_checksum",
};

static const char *
test_names(void)
{
	unsigned int i;

	EXPECT(sizeof(want_cls) / sizeof(want_cls[0]) == FT_CLS_MAX);
	EXPECT(sizeof(want_mal) / sizeof(want_mal[0]) == FT_MAL_MAX);
	for (i = 0; i < FT_CLS_MAX; i++)
		EXPECT(strcmp(ft_pkt_class_name(i), want_cls[i]) == 0);
	for (i = 0; i < FT_MAL_MAX; i++)
		EXPECT(strcmp(ft_malformed_name(i), want_mal[i]) == 0);
	EXPECT(strcmp(ft_pkt_class_name(FT_CLS_MAX), "unknown") == 0);
	EXPECT(strcmp(ft_malformed_name(FT_MAL_MAX), "unknown") == 0);
	EXPECT(strcmp(ft_malformed_name(~0u), "unknown") == 0);
	return NULL;
}

/* Every class and every malformed reason appears in the table at least once. */
static const char *
test_coverage(void)
{
	unsigned int i, k;
	int seen;

	for (k = 0; k < FT_CLS_MAX; k++) {
		for (seen = 0, i = 0; i < N_CASES; i++)
			seen |= cases[i].cls == k;
		if (!seen)
			return want_cls[k];
	}
	for (k = 1; k < FT_MAL_MAX; k++) {
		if (k == FT_MAL_IP4_BAD_CHECKSUM)
			continue; /* the worker's verdict, not ft_decode()'s: test_checksums() */
		for (seen = 0, i = 0; i < N_CASES; i++)
			seen |= cases[i].mal == k;
		if (!seen)
			return want_mal[k];
	}
	return NULL;
}

/* ---- checksums ----------------------------------------------------------- */

/* RFC 1071 by the book: big-endian 16-bit words, carries folded at the end. */
static uint16_t
ref_sum(const uint8_t *b, uint32_t n, uint32_t sum)
{
	for (; n > 1; b += 2, n -= 2)
		sum += (uint32_t)b[0] << 8 | b[1];
	if (n != 0)
		sum += (uint32_t)b[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Where a frame built here names its final destination, when a Routing
 * header does (0: the IPv6 header's destination). */
static uint32_t ref_final_dst;

/* The pseudo-header's sum of the frame's TCP segment (it ends the frame). */
static uint16_t
ref_pseudo(const struct frame *f)
{
	const uint32_t tcp_len = f->len - f->l4;

	if (f->ipver == 4)
		return ref_sum(f->b + f->l3 + 12, 8, P_TCP + tcp_len);
	return ref_sum(f->b + f->l3 + 8, 16,
		       ref_sum(f->b + (ref_final_dst ? ref_final_dst : f->l3 + 24), 16, P_TCP + tcp_len));
}

/* Write the right IPv4 header and TCP checksums; @return the TCP one. */
static uint16_t
csum_fill(struct frame *f)
{
	uint16_t c;

	if (f->ipver == 4) {
		set16(f, f->l3 + 10, 0);
		set16(f, f->l3 + 10, (uint16_t)~ref_sum(f->b + f->l3, (f->b[f->l3] & 15u) * 4, 0));
	}
	set16(f, f->l4 + 16, 0);
	c = (uint16_t)~ref_sum(f->b + f->l4, f->len - f->l4, ref_pseudo(f));
	set16(f, f->l4 + 16, c);
	return c;
}

/* A frame as a chain of mbufs of @p seg bytes each (the last one shorter),
 * built by hand: the checksum reads data_len, next and pkt_len only. */
#define CHAIN_MAX 1200
static void
chain_of(struct rte_mbuf *m, uint8_t *data, uint32_t len, uint32_t seg)
{
	uint32_t off = 0, i = 0;

	memset(m, 0, sizeof(*m) * CHAIN_MAX);
	do {
		m[i].buf_addr = data + off;
		m[i].data_len = (uint16_t)RTE_MIN(seg, len - off);
		off += m[i].data_len;
		if (i > 0)
			m[i - 1].next = &m[i];
		i++;
	} while (off < len && i < CHAIN_MAX);
	m[0].pkt_len = len;
	m[0].nb_segs = (uint16_t)i;
}

static enum ft_csum_result
tcp_csum_of(struct frame *f, uint32_t seg, uint16_t *expected)
{
	static struct rte_mbuf m[CHAIN_MAX];
	struct ft_pkt p;

	if (ft_decode(f->b, f->len, f->len, &p) != FT_CLS_TCP)
		return (enum ft_csum_result)99;
	chain_of(m, f->b, f->len, seg);
	return ft_decode_tcp_csum(m, &p, expected);
}

/* The end-around-carry folds against folding by the book, on the edges of
 * every carry and on pseudo-random sums (a fixed xorshift: repeatable). */
static uint16_t
ref_fold64(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static const char *
test_csum_folds(void)
{
	static const uint64_t edges[] = {
		0, 1, 0xffff, 0x10000, 0x1fffe, 0xfffeffff, 0xffff0000, 0xffff0001, 0xffffffff,
		0x100000000, 0x1ffffffff, 0xffffffff00000000, 0xffffffff00000001,
		0xfffffffffffffffe, 0xffffffffffffffff, 0x8000800080008000, 0x0001000100010001,
	};
	uint64_t x = 0x9e3779b97f4a7c15;
	unsigned int i;

	for (i = 0; i < RTE_DIM(edges) + 1000000; i++) {
		uint64_t s;

		if (i < RTE_DIM(edges)) {
			s = edges[i];
		} else {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			s = x >> (x & 31); /* wide and narrow sums alike */
		}
		if (ft_csum_fold64(s) != ref_fold64(s))
			return "ft_csum_fold64() differs from the book";
		if (ft_csum_fold((uint32_t)s) != ref_fold64((uint32_t)s))
			return "ft_csum_fold() differs from the book";
	}
	return NULL;
}

/* The IPv4 header sum and the TCP verdicts, against the sums above. */
static const char *
test_checksums(void)
{
	struct frame f;
	struct ft_pkt p;
	uint16_t right, exp = 0;
	uint32_t seg;

	/* IPv4 header, with and without options */
	memset(&f, 0, sizeof(f));
	v4_tcp(&f, NULL, 0, 5);
	csum_fill(&f);
	EXPECT(ft_decode(f.b, f.len, f.len, &p) == FT_CLS_TCP && ft_decode_ip4_csum_ok(f.b, &p));
	f.b[f.l3 + 8] ^= 0x40; /* the TTL */
	EXPECT(!ft_decode_ip4_csum_ok(f.b, &p));
	memset(&f, 0, sizeof(f));
	b_eth(&f, ETH_IP4);
	b_ip4(&f, 0xfffffffeu, 0xffffffffu, P_TCP, 40, 0, 0xffff);
	b_tcp(&f, 65535, 65535, 0xffffffffu, 0, FT_TCP_ACK, 65535, NULL, 0);
	fill(&f, 601, 0xff);
	ip_done(&f);
	right = csum_fill(&f);
	EXPECT(ft_decode(f.b, f.len, f.len, &p) == FT_CLS_TCP && ft_decode_ip4_csum_ok(f.b, &p));
	set16(&f, f.l3 + 10, 0);
	EXPECT(!ft_decode_ip4_csum_ok(f.b, &p));
	csum_fill(&f);

	/* TCP over IPv4: carries everywhere (0xff bytes), an odd length; whole,
	 * and chained at every split (odd and even, one byte per mbuf too) */
	for (seg = 1; seg <= f.len; seg = seg < 16 ? seg + 1 : seg * 2 + 1)
		EXPECT(tcp_csum_of(&f, seg, NULL) == FT_CSUM_GOOD);
	EXPECT(tcp_csum_of(&f, f.len, NULL) == FT_CSUM_GOOD);
	f.b[f.len - 300] ^= 0x01; /* one payload bit, deep in a chain */
	for (seg = 7; seg <= f.len; seg = seg * 2 + 1) {
		exp = 0;
		EXPECT(tcp_csum_of(&f, seg, &exp) == FT_CSUM_BAD && exp != right);
	}
	f.b[f.len - 300] ^= 0x01;
	set16(&f, f.l4 + 16, (uint16_t)(right ^ 0x8000));
	EXPECT(tcp_csum_of(&f, 64, &exp) == FT_CSUM_BAD && exp == right);
	/* What a host with checksum offload writes: the pseudo-header's sum */
	set16(&f, f.l4 + 16, ref_pseudo(&f));
	EXPECT(tcp_csum_of(&f, f.len, &exp) == FT_CSUM_PARTIAL && exp == right);
	/* A capture's snap length cut the segment: not judged */
	set16(&f, f.l4 + 16, right);
	{
		static struct rte_mbuf m[CHAIN_MAX];

		EXPECT(ft_decode(f.b, f.len, f.len, &p) == FT_CLS_TCP);
		chain_of(m, f.b, f.len - 1, 512);
		EXPECT(ft_decode_tcp_csum(m, &p, NULL) == FT_CSUM_UNCHECKED);
	}

	/* TCP over IPv6, behind an extension header (not summed) */
	memset(&f, 0, sizeof(f));
	b_eth(&f, ETH_IP6);
	b_ip6(&f, A6, B6, P_DST);
	b_ext(&f, P_TCP, 1);
	b_tcp(&f, 40000, 80, 7, 9, FT_TCP_ACK | FT_TCP_PSH, 512, syn_opts, sizeof(syn_opts));
	fill(&f, 1001, 0xa5);
	ip_done(&f);
	right = csum_fill(&f);
	EXPECT(tcp_csum_of(&f, f.len, NULL) == FT_CSUM_GOOD);
	EXPECT(tcp_csum_of(&f, 101, NULL) == FT_CSUM_GOOD);
	f.b[f.l3 + 39] ^= 0x10; /* the destination: in the pseudo-header */
	EXPECT(tcp_csum_of(&f, f.len, &exp) == FT_CSUM_BAD);
	f.b[f.l3 + 39] ^= 0x10;
	f.b[f.l4 - 3] ^= 0x10; /* the extension header's padding: not */
	EXPECT(tcp_csum_of(&f, f.len, NULL) == FT_CSUM_GOOD);
	/* 0 and 0xffff are one number: a sum whose right field is 0xffff may
	 * carry 0 (RFC 1624), and a partial sum of 0xffff may be written 0 */
	set16(&f, f.l4 + 16, right == 0xffff ? 0 : right);
	EXPECT(tcp_csum_of(&f, f.len, NULL) == FT_CSUM_GOOD);

	/* A Routing header with segments left: the sum is of its final
	 * destination (RFC 8200 8.1), not of the header's next hop. SRH (type
	 * 4, segment 0 final) and type 2 (its one address). */
	for (seg = 0; seg < 2; seg++) {
		static const uint8_t next_hop[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, [15] = 9 };
		const uint8_t type = seg == 0 ? 4 : 2;

		memset(&f, 0, sizeof(f));
		b_eth(&f, ETH_IP6);
		b_ip6(&f, A6, next_hop, P_RT);
		put8(&f, P_TCP);
		put8(&f, type == 4 ? 4 : 2); /* 8-octet units after the first 8 */
		put8(&f, type);
		put8(&f, 1);                 /* segments left */
		put32(&f, 0);
		ref_final_dst = f.len;
		putn(&f, B6, 16);            /* SRH segment 0, type 2's address: final */
		if (type == 4)
			putn(&f, next_hop, 16);
		b_tcp(&f, 40000, 80, 7, 9, FT_TCP_ACK, 512, NULL, 0);
		fill(&f, 33, 0x5a);
		ip_done(&f);
		csum_fill(&f);
		ref_final_dst = 0;
		EXPECT(tcp_csum_of(&f, f.len, NULL) == FT_CSUM_GOOD);
		/* Summed over the next hop instead: what a stack that ignored the
		 * header would write, wrong. */
		set16(&f, f.l4 + 16, 0);
		set16(&f, f.l4 + 16, (uint16_t)~ref_sum(f.b + f.l4, f.len - f.l4, ref_pseudo(&f)));
		EXPECT(tcp_csum_of(&f, f.len, NULL) == FT_CSUM_BAD);
	}
	return NULL;
}

/* ft_addr_cmp() must order addresses exactly as memcmp(): the flow key's
 * canonical side and the symmetric hash depend on it. */
static const char *
test_addr_cmp(void)
{
	uint8_t a[16], b[16];
	uint32_t x = 12345;
	unsigned int i, k;

	for (i = 0; i < 100000; i++) {
		for (k = 0; k < 16; k++) {
			x = x * 1103515245u + 12345u;
			a[k] = (uint8_t)(x >> 16);
			/* Mostly equal bytes, so every position gets to decide. */
			b[k] = (x >> 8) % 4 == 0 ? (uint8_t)(x >> 24) : a[k];
		}
		if ((ft_addr_cmp(a, b) > 0) != (memcmp(a, b, 16) > 0) ||
		    (ft_addr_cmp(a, b) == 0) != (memcmp(a, b, 16) == 0))
			return "differs from memcmp";
	}
	return NULL;
}

int
main(void)
{
	static const uint8_t z[16];
	uint32_t h0, h1, h2, h3;
	unsigned int i, n_decodes = 0;
	const char *why;
	char name[128];

	for (i = 0; i < N_CASES; i++)
		result(cases[i].name, run_case(&cases[i]));

	result("table covers every class and malformed reason", test_coverage());
	result("ft_addr_cmp orders as memcmp", test_addr_cmp());

	h0 = hash_of(h_tcp4, 0);
	h1 = hash_of(h_tcp4, 1);
	result("hash: tcp4 equal in both directions", h0 != 0 && h0 == h1 ? NULL : "h0 != h1");
	result("hash: tcp4 different port differs",
	       hash_of(h_tcp4_port, 0) != h0 ? NULL : "same hash");
	result("hash: tcp4 different vlan differs",
	       hash_of(h_tcp4_vlan, 0) != h0 ? NULL : "same hash");
	result("hash: udp differs from tcp", hash_of(h_udp4, 0) != h0 ? NULL : "same hash");
	result("hash: pppoe session id is not part of the flow identity",
	       hash_of(h_tcp4_pppoe, 0) == h0 && hash_of(h_tcp4_pppoe, 1) == h0 ? NULL : "differs");
	h0 = hash_of(h_tcp6, 0);
	h1 = hash_of(h_tcp6, 1);
	result("hash: tcp6 equal in both directions", h0 != 0 && h0 == h1 ? NULL : "h0 != h1");
	result("hash: sym_hash same address, ports swapped",
	       ft_decode_sym_hash(A6, 1, A6, 2, P_UDP, 5) ==
			       ft_decode_sym_hash(A6, 2, A6, 1, P_UDP, 5) ?
		       NULL :
		       "differ");
	result("hash: sym_hash extra and proto matter",
	       ft_decode_sym_hash(z, 0, z, 0, 0, 0) != ft_decode_sym_hash(z, 0, z, 0, 0, 1) &&
			       ft_decode_sym_hash(z, 0, z, 0, 0, 0) !=
				       ft_decode_sym_hash(z, 0, z, 0, 6, 0) ?
		       NULL :
		       "same");
	result("hash: sym_hash values as pinned (owners and table slots do not move)",
	       test_sym_hash_pinned());
	h0 = hash_of(h_frag4, 0);
	h1 = hash_of(h_frag4, 1);
	h2 = hash_of(h_frag4, 2);
	h3 = hash_of(h_frag4, 3);
	result("hash: ipv4 fragments of one datagram share it, both directions",
	       h0 != 0 && h0 == h1 && h1 == h2 && h2 == h3 ? NULL : "differ");
	result("owner: in range and balanced for 1..64 workers", test_owner());
	result("names: classes and malformed reasons", test_names());
	result("checksums: folds as by the book (edges and 1000000 sums)", test_csum_folds());
	result("checksums: IPv4 header, TCP over v4 and v6, chained at every split", test_checksums());
	why = caplen_sweep(&n_decodes);
	snprintf(name, sizeof(name), "no overread: every frame at every caplen (%u decodes)",
		 n_decodes);
	result(name, why);
	result("no overread: 20000 mutated frames", mutation_fuzz(20000));

	return ft_unit_summary();
}
