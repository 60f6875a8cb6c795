/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inline transmit. A worker sends on its own tx queue of a port (queue =
 * worker index) when the port has one for it. A port with fewer tx queues
 * than workers (a one-queue net_memif, a VF) still works: the workers beyond
 * its queues hand their packets for it through an SPSC ring to the worker
 * holding queue (index mod queues), which sends them with its own. A flow's
 * packets always take the same path, so per-flow order is kept.
 */
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "flowtap.h"

/* A full tx queue is retried for [ports] tx_retry_us, like testpmd's "io
 * retry": a peer that lost its CPU for a moment catches up without loss,
 * while the NIC's rx ring absorbs what arrives meanwhile. Past the bound
 * the rest is dropped and counted: a bump in the wire must not queue
 * without bound. Busy-waits on the TSC: no syscall. */
static uint16_t
tx_retry(struct ft_worker *w, uint16_t port, struct rte_mbuf **m, uint16_t n, uint16_t sent)
{
	const uint64_t deadline = rte_get_tsc_cycles() + ft_app.tx_retry_tsc;
	uint16_t first = sent;

	while (sent < n && rte_get_tsc_cycles() < deadline) {
		rte_pause();
		sent += rte_eth_tx_burst(port, w->txq, m + sent, n - sent);
	}
	ft_stats_add(&w->stats, FT_CTR_TX_RETRIED, sent - first);
	return sent;
}

static void
tx_send(struct ft_worker *w, uint16_t port, struct rte_mbuf **m, uint16_t n)
{
	uint16_t sent = rte_eth_tx_burst(port, w->txq, m, n);

	if (unlikely(sent < n) && ft_app.tx_retry_tsc != 0)
		sent = tx_retry(w, port, m, n, sent);
	ft_stats_add(&w->stats, FT_CTR_TX, sent);
	if (unlikely(sent < n)) {
		ft_stats_add(&w->stats, FT_CTR_TX_FAILED, n - sent);
		rte_pktmbuf_free_bulk(&m[sent], n - sent);
	}
}

void
ft_tx_flush_port(struct ft_worker *w, uint16_t port)
{
	uint16_t n = w->tx_count[port];
	unsigned int sent;

	if (n == 0)
		return;
	w->tx_count[port] = 0;
	if (likely(w->tx_ring[port] == NULL)) {
		tx_send(w, port, w->tx_buf[port], n);
		return;
	}
	sent = rte_ring_sp_enqueue_burst(w->tx_ring[port], (void **)w->tx_buf[port], n, NULL);
	ft_stats_add(&w->stats, FT_CTR_HANDOFF_TX_OUT, sent);
	if (unlikely(sent < n)) {
		ft_stats_add(&w->stats, FT_CTR_TX_FAILED, n - sent);
		rte_pktmbuf_free_bulk(&w->tx_buf[port][sent], n - sent);
	}
}

void
ft_tx_flush_all(struct ft_worker *w)
{
	unsigned int p;

	for (p = 0; p < ft_app.n_ports; p++)
		ft_tx_flush_port(w, (uint16_t)p);
}

unsigned int
ft_tx_serve_proxied(struct ft_worker *w)
{
	struct rte_mbuf *m[FT_MAX_BURST];
	unsigned int i, n, total = 0;

	for (i = 0; i < w->n_tx_from; i++) {
		n = rte_ring_sc_dequeue_burst(w->tx_from[i].ring, (void **)m, FT_MAX_BURST, NULL);
		if (n == 0)
			continue;
		ft_stats_add(&w->stats, FT_CTR_HANDOFF_TX_IN, n);
		tx_send(w, w->tx_from[i].port, m, (uint16_t)n);
		total += n;
	}
	return total;
}

int
ft_tx_setup(struct ft_app *app)
{
	unsigned int i, p;
	char name[RTE_RING_NAMESIZE];

	if (app->cfg.mode != FT_MODE_INLINE)
		return 0;
	for (p = 0; p < app->n_ports; p++) {
		unsigned int ntxq = app->pinfo[p].n_txq;

		if (app->peer[p] < 0)
			continue; /* not in a pair: nothing is sent on it */
		for (i = ntxq; i < app->n_workers; i++) {
			struct ft_worker *w = app->workers[i], *holder = app->workers[i % ntxq];
			struct rte_ring *r;

			if (holder->n_tx_from == RTE_DIM(holder->tx_from))
				return ft_fail("too many tx hand-over rings for worker %u", holder->idx);
			snprintf(name, sizeof(name), "ft_tx_%u_%u", i, p);
			r = rte_ring_create(name, app->cfg.handoff_ring, holder->socket,
					    RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (r == NULL)
				return ft_fail("cannot create ring %s: %s", name, rte_strerror(rte_errno));
			w->tx_ring[p] = r;
			holder->tx_from[holder->n_tx_from].port = (uint16_t)p;
			holder->tx_from[holder->n_tx_from].ring = r;
			holder->n_tx_from++;
		}
	}
	return 0;
}

void
ft_tx_free(struct ft_worker *w)
{
	unsigned int p;
	void *m;

	for (p = 0; p < FT_MAX_PORTS; p++) {
		if (w->tx_ring[p] == NULL)
			continue;
		while (rte_ring_dequeue(w->tx_ring[p], &m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(w->tx_ring[p]);
		w->tx_ring[p] = NULL;
	}
}
