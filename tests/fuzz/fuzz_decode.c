/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness: the decoder on any bytes.
 *
 * The frame is decoded whole and again with only part of it captured (as a
 * segmented mbuf or a truncated capture shows it), and the metadata is held
 * to the decoder's promises: one class, a named reason exactly when
 * malformed, headers inside the captured bytes, lengths inside the frame.
 * ASan sees any read past the input (libFuzzer gives exactly `size` bytes).
 * A decoded packet's checksums are judged too: the IPv4 header's within the
 * frame, and the TCP one the same whether the frame is one mbuf or a chain
 * split at any byte.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <string.h>

#include <rte_mbuf.h>

#include "ft_decode.h"
#include "ft_fuzz.h"

static void
check_meta(const struct ft_pkt *p, uint32_t caplen, uint32_t wirelen)
{
	REQUIRE(p->cls < FT_CLS_MAX);
	REQUIRE((p->cls == FT_CLS_MALFORMED) == (p->malformed != FT_MAL_NONE));
	REQUIRE(p->malformed < FT_MAL_MAX);
	REQUIRE(p->n_vlan <= FT_DECODE_MAX_VLAN);
	if (p->cls == FT_CLS_MALFORMED || p->cls == FT_CLS_NON_IP)
		return;
	REQUIRE(p->ip_ver == 4 || p->ip_ver == 6);
	REQUIRE(p->l3_off < caplen);
	REQUIRE((uint32_t)p->l3_off + p->ip_len <= wirelen);
	if (p->cls == FT_CLS_FRAGMENT) {
		REQUIRE(p->frag.offset % 8 == 0);
		return;
	}
	REQUIRE(p->l4_off >= p->l3_off);
	if (p->cls == FT_CLS_TCP) {
		REQUIRE(p->l4_hlen >= 20 && p->l4_hlen <= 60);
		REQUIRE((uint32_t)p->l4_off + p->l4_hlen <= caplen);
		REQUIRE(p->payload_off == p->l4_off + p->l4_hlen);
		REQUIRE((uint32_t)p->payload_off + p->payload_len <= (uint32_t)p->l3_off + p->ip_len);
	}
}

/* The frame as one mbuf, or as two split at @p split, built by hand (the
 * checksum reads buf_addr, data_off, data_len, pkt_len and next only). */
static void
as_mbufs(struct rte_mbuf m[2], const uint8_t *data, uint32_t len, uint32_t split)
{
	memset(m, 0, 2 * sizeof(m[0]));
	m[0].buf_addr = (void *)(uintptr_t)data;
	m[0].pkt_len = len;
	m[0].data_len = (uint16_t)(split != 0 && split < len ? split : len);
	m[0].nb_segs = 1;
	if (m[0].data_len < len) {
		m[1].buf_addr = (void *)(uintptr_t)(data + split);
		m[1].data_len = (uint16_t)(len - split);
		m[0].next = &m[1];
		m[0].nb_segs = 2;
	}
}

static void
check_checksums(const uint8_t *data, uint32_t len, const struct ft_pkt *p)
{
	struct rte_mbuf one[2], two[2];
	uint16_t e1 = 0, e2 = 0;
	enum ft_csum_result r1, r2;

	if (p->cls > FT_CLS_FRAGMENT)
		return;
	(void)ft_decode_ip4_csum_ok(data, p);
	if (p->cls != FT_CLS_TCP)
		return;
	as_mbufs(one, data, len, 0);
	/* A split past the header, at an odd byte when it can be (the header
	 * is in the first mbuf, as ft_decode() read it there). */
	as_mbufs(two, data, len, (uint32_t)p->payload_off + ((len - p->payload_off) / 2 | 1));
	r1 = ft_decode_tcp_csum(one, p, &e1);
	r2 = ft_decode_tcp_csum(two, p, &e2);
	REQUIRE(r1 == r2);
	REQUIRE(r1 == FT_CSUM_GOOD || r1 == FT_CSUM_UNCHECKED || e1 == e2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ft_pkt p, q;
	uint32_t len = size > 65535 ? 65535 : (uint32_t)size;

	ft_decode(data, len, len, &p);
	check_meta(&p, len, len);
	check_checksums(data, len, &p);
	/* The same frame with part of it captured: never a read beyond caplen,
	 * and a header cut off is malformed rather than read. */
	ft_decode(data, len / 2, len, &q);
	check_meta(&q, len / 2, len);
	/* Symmetric hash: swapping the endpoints gives the same value. */
	if (p.cls <= FT_CLS_OTHER_IP)
		REQUIRE(ft_decode_sym_hash(p.src, p.sport, p.dst, p.dport, p.l4_proto, 0) ==
			ft_decode_sym_hash(p.dst, p.dport, p.src, p.sport, p.l4_proto, 0));
	return 0;
}
