/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every libFuzzer harness in tests/fuzz shares: libFuzzer's entry
 * points (declared here: -Wmissing-prototypes), REQUIRE(), which aborts, so
 * that a broken promise is a crash libFuzzer keeps as an artifact, and the
 * EAL start-up and mbuf pool of the harnesses that need DPDK memory.
 */
#ifndef FT_FUZZ_H
#define FT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <rte_mbuf.h>

#include "../unit/ft_unit.h"

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Start the EAL as harness @p name (abort on failure). libFuzzer ends with
 * exit(): the runtime directory goes with it. */
static inline void
ft_fuzz_eal_init(const char *name)
{
	if (ft_unit_eal_init(name) < 0)
		abort();
	atexit(ft_unit_eal_cleanup);
}

/* A pool of @p n mbufs that hold @p frame_max bytes each (abort when memory
 * is short). */
static inline struct rte_mempool *
ft_fuzz_pool(const char *name, unsigned int n, unsigned int frame_max)
{
	struct rte_mempool *mp = rte_pktmbuf_pool_create(name, n, 0, 0,
							 (uint16_t)(frame_max + RTE_PKTMBUF_HEADROOM),
							 SOCKET_ID_ANY);

	REQUIRE(mp != NULL);
	return mp;
}

#endif /* FT_FUZZ_H */
