/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The defragmentation stage's wiring: one defragmenter (lib/defrag) per
 * worker on the worker's node, the "reassembled" mbuf flag, the events it
 * emits (through the worker's event ring, as track.c's), and the ol_flags a
 * reassembled datagram inherits once the ports are known. The stage itself
 * runs in worker.c (process_owned()).
 */
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>

#include "flowtap.h"

/* Reassembly buffers (64 KiB each) per worker: a datagram lives in one from
 * its completion until its flow's owner has tracked it. */
#define FT_DEFRAG_REASM_MBUFS 64

static void
defrag_event(void *arg, const struct ft_event *ev)
{
	struct ft_event copy = *ev; /* the ring takes a non-const object */

	ft_worker_emit(arg, &copy);
}

uint64_t
ft_defrag_memory_per_worker(const struct ft_app *app)
{
	return ft_defrag_memory(app->cfg.defrag_max_datagrams, app->cfg.defrag_max_held,
				FT_DEFRAG_REASM_MBUFS);
}

int
ft_defrag_setup(struct ft_app *app, struct ft_worker *w)
{
	static const struct rte_mbuf_dynflag reasm_flag = { .name = "ft_reassembled" };
	struct ft_defrag_params prm;
	char name[32];
	int bit;

	if (app->reasm_flag == 0) {
		bit = rte_mbuf_dynflag_register(&reasm_flag);
		if (bit < 0)
			return ft_fail("cannot register the mbuf flag ft_reassembled: %s",
				       rte_strerror(rte_errno));
		app->reasm_flag = RTE_BIT64(bit);
	}
	memset(&prm, 0, sizeof(prm));
	snprintf(name, sizeof(name), "ft_dfg_%u", w->idx);
	prm.name = name;
	prm.socket = w->socket;
	prm.max_datagrams = app->cfg.defrag_max_datagrams;
	prm.max_fragments = app->cfg.defrag_max_fragments;
	prm.max_held = app->cfg.defrag_max_held;
	prm.max_size = app->cfg.defrag_max_size;
	prm.timeout_ns = (uint64_t)app->cfg.defrag_timeout * 1000000000u;
	prm.policy = (enum ft_defrag_policy)app->cfg.defrag_policy;
	prm.every_occurrence = app->cfg.every_occurrence;
	prm.reasm_mbufs = FT_DEFRAG_REASM_MBUFS;
	prm.reasm_flag = app->reasm_flag;
	prm.stats = &w->stats;
	prm.event = defrag_event;
	prm.event_arg = w;
	prm.wait = ft_worker_wait_buffer;
	prm.wait_arg = w;
	w->defrag = ft_defrag_create(&prm);
	if (w->defrag == NULL)
		return ft_fail("cannot allocate a defragmenter of %u datagrams and %u fragments on node %d: %s "
			       "(lower [defrag] max_datagrams or max_held, or give more memory)",
			       prm.max_datagrams, prm.max_held, w->socket, rte_strerror(rte_errno));
	/* Every reassembly buffer may wait for room at once: the queue never
	 * holds more than the pool has. */
	w->reasm_q_cap = FT_DEFRAG_REASM_MBUFS;
	w->reasm_q = rte_zmalloc_socket("ft_reasm_q", sizeof(*w->reasm_q) * w->reasm_q_cap,
					RTE_CACHE_LINE_SIZE, w->socket);
	w->reasm_q_to = rte_zmalloc_socket("ft_reasm_q_to", sizeof(*w->reasm_q_to) * w->reasm_q_cap,
					   RTE_CACHE_LINE_SIZE, w->socket);
	if (w->reasm_q == NULL || w->reasm_q_to == NULL)
		return ft_fail("cannot allocate the reassembled-datagram queue on node %d", w->socket);
	return 0;
}

void
ft_defrag_ports_ready(struct ft_app *app)
{
	unsigned int i;

	/* The capture time travels in the rx timestamp dynfield (always
	 * copied) and this flag. */
	for (i = 0; i < app->n_workers; i++)
		if (app->workers[i] != NULL && app->workers[i]->defrag != NULL)
			ft_defrag_set_copy_flags(app->workers[i]->defrag, app->ts_dynflag);
}

void
ft_defrag_teardown(struct ft_worker *w)
{
	while (w->reasm_q_n != 0)
		rte_pktmbuf_free(w->reasm_q[--w->reasm_q_n]);
	ft_defrag_free(w->defrag);
	rte_free(w->reasm_q);
	rte_free(w->reasm_q_to);
	w->defrag = NULL;
	w->reasm_q = NULL;
	w->reasm_q_to = NULL;
}
