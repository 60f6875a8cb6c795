/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness: defragmentation over a sequence of frames.
 *
 * The first byte picks the overlap policy; the rest is a list of frames as
 * the other sequence harness reads them ("dt len_hi len_lo bytes...", the
 * clock moving dt*dt*10 ms). Every frame goes into an mbuf; the fragments go
 * to a small defragmenter (16 datagrams, 16 fragments each, 64 held, 5 s),
 * so inputs fill it, evict, expire, overlap and complete. A reassembled
 * datagram must decode, in the family of its fragments. After each
 * input the defragmenter is flushed and held to its promises: every mbuf of
 * both pools home, and every fragment accounted:
 *   fragments == fragments_used + dropped.* (nothing held after the flush).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_memory.h>

#include "ft_decode.h"
#include "ft_defrag.h"
#include "ft_stats.h"
#include "ft_fuzz.h"

#define FUZZ_POOL 512
#define FUZZ_FRAME_MAX 9000

static struct rte_mempool *pool;
static struct ft_defrag *defrag[FT_DEFRAG_POLICY_MAX];
static struct ft_stats stats;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const struct rte_mbuf_dynflag flag = { .name = "ft_fuzz_reassembled" };
	struct ft_defrag_params prm;
	char name[32];
	unsigned int i;
	int bit;

	RTE_SET_USED(argc);
	RTE_SET_USED(argv);
	ft_fuzz_eal_init("fuzz_defrag");
	pool = ft_fuzz_pool("fuzz_rx", FUZZ_POOL, FUZZ_FRAME_MAX);
	bit = rte_mbuf_dynflag_register(&flag);
	REQUIRE(bit >= 0);
	for (i = 0; i < FT_DEFRAG_POLICY_MAX; i++) {
		memset(&prm, 0, sizeof(prm));
		snprintf(name, sizeof(name), "fuzz_defrag_%u", i);
		prm.name = name;
		prm.socket = SOCKET_ID_ANY;
		prm.max_datagrams = 16;
		prm.max_fragments = 16;
		prm.max_held = 64;
		prm.max_size = FT_DEFRAG_MAX_SIZE;
		prm.timeout_ns = 5000000000ull;
		prm.policy = (enum ft_defrag_policy)i;
		prm.reasm_mbufs = 2;
		prm.reasm_flag = RTE_BIT64(bit);
		prm.stats = &stats;
		defrag[i] = ft_defrag_create(&prm);
		if (defrag[i] == NULL)
			abort();
	}
	return 0;
}

/* Every fragment given is accounted once nothing is held. */
static void
check_identity(void)
{
	uint64_t out = stats.ctr[FT_CTR_DEFRAG_FRAGMENTS_USED];
	unsigned int c;

	for (c = FT_CTR_DEFRAG_DROPPED_TIMEOUT; c <= FT_CTR_DEFRAG_DROPPED_EXIT; c++)
		out += stats.ctr[c];
	REQUIRE(stats.ctr[FT_CTR_DEFRAG_FRAGMENTS] == out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t now = 1700000000ull * 1000000000ull;
	struct ft_defrag *d;
	size_t off = 1;

	if (size < 1)
		return 0;
	d = defrag[data[0] % FT_DEFRAG_POLICY_MAX];
	memset(&stats, 0, sizeof(stats));
	while (off + 3 <= size) {
		const uint8_t dt = data[off];
		uint32_t len = (uint32_t)data[off + 1] << 8 | data[off + 2];
		struct rte_mbuf *m, *r;
		struct ft_pkt p, q;

		off += 3;
		if (len > size - off)
			len = (uint32_t)(size - off);
		if (len > FUZZ_FRAME_MAX)
			len = FUZZ_FRAME_MAX;
		m = rte_pktmbuf_alloc(pool);
		REQUIRE(m != NULL);
		memcpy(rte_pktmbuf_append(m, (uint16_t)len), data + off, len);
		off += len;
		now += (uint64_t)dt * dt * 10000000ull;
		ft_defrag_age(d, now, 64);
		if (ft_decode(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, m->pkt_len, &p) ==
		    FT_CLS_FRAGMENT) {
			r = ft_defrag_add(d, m, &p, now);
			if (r != NULL) {
				ft_decode(rte_pktmbuf_mtod(r, const uint8_t *), r->data_len, r->pkt_len, &q);
				/* Not necessarily a whole datagram: IPv6 may nest a
				 * second Fragment header (the worker counts that). */
				REQUIRE(q.cls < FT_CLS_MAX && q.ip_ver == p.ip_ver);
				rte_pktmbuf_free(r);
			}
		}
		rte_pktmbuf_free(m);
		REQUIRE(ft_defrag_held(d) <= 64 && ft_defrag_in_flight(d) <= 16);
	}
	ft_defrag_flush(d);
	REQUIRE(ft_defrag_held(d) == 0 && ft_defrag_in_flight(d) == 0);
	check_identity();
	REQUIRE(rte_mempool_avail_count(pool) == FUZZ_POOL);
	REQUIRE(rte_mempool_avail_count(ft_defrag_pool(d)) == ft_defrag_pool(d)->size);
	return 0;
}
