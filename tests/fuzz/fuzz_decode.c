/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness: the decoder on any bytes.
 *
 * The frame is decoded whole and again with only part of it captured (as a
 * segmented mbuf or a truncated capture shows it), and the metadata is held
 * to the decoder's promises: one class, a named reason exactly when
 * malformed, headers inside the captured bytes, lengths inside the frame.
 * ASan sees any read past the input (libFuzzer gives exactly `size` bytes).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ft_pkt p, q;
	uint32_t len = size > 65535 ? 65535 : (uint32_t)size;

	ft_decode(data, len, len, &p);
	check_meta(&p, len, len);
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
