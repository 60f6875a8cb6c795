/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Offline, the control lcore reads the capture and the worker analyses it.
 *
 * The pcap PMD reads a capture inside rte_eth_rx_burst(): a file read and a
 * copy per frame, about as long as the whole analysis of the frame. Polled by
 * the worker, that time added to the analysis; the control lcore, meanwhile,
 * mostly slept (it only drains the workers' rings). So offline the control
 * lcore polls the capture's queue and passes each burst, as read, through a
 * single-producer single-consumer ring (the worker's feed) to the worker that
 * was given the queue; reading and analysis overlap on two CPUs.
 *
 * The worker takes its feed exactly as it would take the queue: rx_burst() on
 * every burst, in capture order, with its hand-over to other workers
 * unchanged; the mbufs carry the pcap PMD's timestamps. The control lcore
 * never waits for room: a burst the feed cannot take yet is held and offered
 * again on the next pass, so the control lcore keeps draining the rings a
 * worker may be waiting on (no deadlock). Live, and offline when the lcores
 * have no CPU besides the workers' (ft_reader_setup()), workers poll their
 * queues themselves.
 */
#include <sched.h>
#include <stdio.h>

#include <rte_lcore.h>
#include <rte_ring.h>

#include "flowtap.h"

/* Frames a feed holds: about a millisecond of analysis, so that the
 * control lcore can drain the other rings, or nap (control_loop.c) once
 * it is half full, without the worker running dry. */
#define FT_FEED_RING 8192
/* Bursts read per pass, so the rings the workers fill are drained between. */
#define FT_FEED_BURSTS_PER_PASS 8

static struct ft_feed {
	struct ft_rxq_ref q;                   /* the queue read */
	struct ft_worker *w;                   /* the worker fed */
	bool dry;                              /* the last read found nothing (the end) */
	uint16_t n_held, first;                /* a read burst not yet taken by the feed */
	struct rte_mbuf *held[FT_MAX_BURST];
} feeds[FT_MAX_RXQ_PER_WORKER * FT_MAX_WORKERS];
static unsigned int n_feeds;

unsigned int
ft_reader_pool_room(const struct ft_app *app)
{
	return app->offline ? FT_FEED_RING + FT_MAX_BURST : 0;
}

/* CPUs the lcores may run on, together. */
static unsigned int
lcore_cpus(void)
{
	rte_cpuset_t all, one;
	unsigned int lc;

	CPU_ZERO(&all);
	RTE_LCORE_FOREACH(lc) {
		one = rte_lcore_cpuset(lc);
		CPU_OR(&all, &all, &one);
	}
	return (unsigned int)CPU_COUNT(&all);
}

int
ft_reader_setup(struct ft_app *app)
{
	unsigned int i, q;

	/* By default only with a CPU for the control lcore besides the
	 * workers': a busy reader on a worker's CPU slows everything
	 * (measured, 2 workers on 2 CPUs: 2.4 Mpps with worker 0 reading, 1.05
	 * with the control lcore reading). Then worker 0 polls the capture
	 * itself. --reader forces either way (tests cover both paths on any
	 * machine). */
	if (!app->offline || app->opt.reader == FT_READER_WORKER ||
	    (app->opt.reader == FT_READER_AUTO && lcore_cpus() <= app->n_workers))
		return 0;
	for (i = 0; i < app->n_workers; i++) {
		struct ft_worker *w = app->workers[i];
		char name[RTE_RING_NAMESIZE];

		if (w->n_rxq == 0)
			continue;
		snprintf(name, sizeof(name), "ft_feed_%u", i);
		w->feed = rte_ring_create(name, FT_FEED_RING, w->socket,
					  RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (w->feed == NULL)
			return ft_fail("cannot create the capture's ring to worker %u: %s", i,
				       rte_strerror(rte_errno));
		for (q = 0; q < w->n_rxq; q++) {
			feeds[n_feeds].q = w->rxq[q];
			feeds[n_feeds].w = w;
			n_feeds++;
		}
		/* The control lcore polls them now (winfo still shows them:
		 * their frames are this worker's). */
		w->n_rxq = 0;
	}
	return 0;
}

/* What the feed takes of the held burst. @return frames passed */
static unsigned int
feed_push(struct ft_feed *f)
{
	unsigned int n = rte_ring_sp_enqueue_burst(f->w->feed, (void **)&f->held[f->first],
						   f->n_held, NULL);

	f->first = (uint16_t)(f->first + n);
	f->n_held = (uint16_t)(f->n_held - n);
	if (f->n_held == 0)
		f->first = 0;
	return n;
}

unsigned int
ft_reader_poll(struct ft_app *app, bool read_more)
{
	const uint16_t burst = (uint16_t)RTE_MIN(app->cfg.burst, (uint32_t)FT_MAX_BURST);
	unsigned int i, b, moved = 0;

	for (i = 0; i < n_feeds; i++) {
		struct ft_feed *f = &feeds[i];

		if (f->n_held != 0)
			moved += feed_push(f);
		/* Read ahead while the feed has room for a whole burst. */
		for (b = 0; read_more && b < FT_FEED_BURSTS_PER_PASS && f->n_held == 0 &&
			    rte_ring_free_count(f->w->feed) >= burst; b++) {
			f->n_held = rte_eth_rx_burst(f->q.port, f->q.queue, f->held, burst);
			f->dry = f->n_held == 0;
			if (f->dry)
				break;
			moved += feed_push(f);
		}
	}
	return moved;
}

bool
ft_reader_on(const struct ft_app *app)
{
	RTE_SET_USED(app);
	return n_feeds != 0;
}

bool
ft_reader_ahead(const struct ft_app *app)
{
	unsigned int i;

	RTE_SET_USED(app);
	for (i = 0; i < n_feeds; i++)
		if (!feeds[i].dry && rte_ring_count(feeds[i].w->feed) < FT_FEED_RING / 2)
			return false;
	return true;
}

bool
ft_reader_idle(const struct ft_app *app)
{
	unsigned int i;

	RTE_SET_USED(app);
	for (i = 0; i < n_feeds; i++)
		if (feeds[i].n_held != 0 || rte_ring_count(feeds[i].w->feed) != 0)
			return false;
	return true;
}

void
ft_reader_free(struct ft_app *app)
{
	struct rte_mbuf *m;
	unsigned int i;

	for (i = 0; i < n_feeds; i++) {
		struct ft_feed *f = &feeds[i];

		/* Only after an early stop (a failed start-up): nothing is
		 * held once the workers drained their feeds. */
		rte_pktmbuf_free_bulk(&f->held[f->first], f->n_held);
		f->n_held = 0;
	}
	n_feeds = 0;
	for (i = 0; i < app->n_workers; i++) {
		if (app->workers[i] == NULL || app->workers[i]->feed == NULL)
			continue;
		while (rte_ring_sc_dequeue(app->workers[i]->feed, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(app->workers[i]->feed);
		app->workers[i]->feed = NULL;
	}
}
