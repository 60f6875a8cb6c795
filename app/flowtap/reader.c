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
 *
 * When lib/capture can read the capture (app->capture_native: classic pcap
 * or single-section pcapng, records whole and within an mbuf), the control
 * lcore reads it with lib/capture instead of polling the pcap PMD: the same
 * frames, lengths and timestamps (tests/unit/test_capture.c compares them with libpcap's), at a
 * read() per MiB and one copy per frame instead of libpcap's two fread()s.
 * On the offline benchmarks the control lcore spent about 70% of its time in
 * libpcap and read(), and was the slower stage. The PMD's port stays (its
 * id, and its counters plus the reader's: ft_reader_port_stats()).
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>

#include "flowtap.h"
#include "ft_capture.h"

/* Frames a feed holds: about a millisecond of analysis, so that the
 * control lcore can drain the other rings, or nap (control_loop.c) once
 * it is half full, without the worker running dry. */
#define FT_FEED_RING 8192
/* Bursts read per pass, so the rings the workers fill are drained between. */
#define FT_FEED_BURSTS_PER_PASS 8
/* A stream's long frame waits for the mbufs of its chain while its worker
 * has frames to work through (their mbufs come back as it does). With the
 * feed empty, what still holds the pool (fragments the defragmenter keeps
 * until capture time moves on, which only new frames do) may never give
 * it back: after this long the frame is dropped and counted (rx_nombuf), as
 * the pcap PMD drops a frame it has no mbufs for. */
#define FT_FEED_NOMBUF_MS 100

static struct ft_feed {
	struct ft_rxq_ref q;                   /* the queue read */
	struct ft_worker *w;                   /* the worker fed */
	bool dry;                              /* the last read found nothing (the end) */
	struct ft_capture *cap;                /* lib/capture reads the queue's capture, or NULL */
	struct rte_mempool *pool;              /* its mbufs */
	/* Copied after each read, for the port's counters: read by telemetry
	 * threads (relaxed), valid after the reader is closed. */
	struct ft_capture_stats cstats;
	uint64_t starved_since;                /* TSC since a long frame waits for mbufs, or 0 */
	uint16_t n_held, first;                /* a read burst not yet taken by the feed */
	struct rte_mbuf *held[FT_MAX_BURST];
} feeds[FT_MAX_RXQ_PER_WORKER * FT_MAX_WORKERS];
static unsigned int n_feeds;
static unsigned int n_feeds_made; /* the feeds' counters stay after ft_reader_free() */

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

/* The capture's one queue (offline there is one port, with one rx queue)
 * is read by lib/capture. */
static int
open_capture(struct ft_app *app)
{
	struct ft_feed *f = &feeds[0];
	int socket;

	if (n_feeds != 1)
		return 0;
	/* The pcap PMD registered the rx timestamp field; register it
	 * otherwise (the same name gives the same field). */
	if (app->ts_dynfield < 0 &&
	    rte_mbuf_dyn_rx_timestamp_register(&app->ts_dynfield, &app->ts_dynflag) != 0)
		return ft_fail("cannot register the mbuf timestamp field: %s",
			       rte_strerror(rte_errno));
	socket = app->pinfo[f->q.port].socket;
	f->pool = app->pool[socket < 0 ? 0 : socket];
	if (app->capture_stream) { /* opened before the EAL, its header read */
		f->cap = app->capture_stream_cap;
		app->capture_stream_cap = NULL;
		ft_capture_set_timestamp(f->cap, app->ts_dynfield, app->ts_dynflag);
	} else {
		f->cap = ft_capture_open(app->opt.pcap_path, app->cfg.mbuf_size - RTE_PKTMBUF_HEADROOM,
					 app->ts_dynfield, app->ts_dynflag);
	}
	if (f->pool == NULL || f->cap == NULL)
		return ft_fail("cannot read capture '%s': %s", app->opt.pcap_path,
			       f->pool == NULL ? "no mbuf pool" : strerror(errno));
	return 0;
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
	 * machine). A stream is always read here (its port is a placeholder), and
	 * a capture that is not Ethernet (only lib/capture makes it so). */
	if (!app->offline || app->opt.reader == FT_READER_WORKER ||
	    (app->opt.reader == FT_READER_AUTO && !app->capture_stream &&
	     !app->capture_not_ethernet && lcore_cpus() <= app->n_workers))
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
	n_feeds_made = n_feeds;
	return app->capture_native ? open_capture(app) : 0;
}

static void
note_capture_stats(struct ft_feed *f)
{
	struct ft_capture_stats cs;

	ft_capture_stats(f->cap, &cs);
	__atomic_store_n(&f->cstats.frames, cs.frames, __ATOMIC_RELAXED);
	__atomic_store_n(&f->cstats.bytes, cs.bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&f->cstats.errors, cs.errors, __ATOMIC_RELAXED);
	__atomic_store_n(&f->cstats.nombuf, cs.nombuf, __ATOMIC_RELAXED);
}

/* Records lib/capture has taken from the capture: delivered, given up, or
 * dropped for want of mbufs. */
static uint64_t
records_taken(const struct ft_capture_stats *cs)
{
	return __atomic_load_n(&cs->frames, __ATOMIC_RELAXED) +
	       __atomic_load_n(&cs->errors, __ATOMIC_RELAXED) +
	       __atomic_load_n(&cs->nombuf, __ATOMIC_RELAXED);
}

/* A stream's long frame waiting for mbufs: dropped once they have not come
 * back for FT_FEED_NOMBUF_MS with the worker's feed empty. */
static void
mbufs_wanted(const struct ft_app *app, struct ft_feed *f)
{
	const uint64_t now = rte_get_tsc_cycles();

	if (!ft_capture_wants_mbufs(f->cap) || rte_ring_count(f->w->feed) != 0) {
		f->starved_since = 0;
		return;
	}
	if (f->starved_since == 0) {
		f->starved_since = now;
	} else if (now - f->starved_since > FT_FEED_NOMBUF_MS * app->tsc_hz / 1000) {
		ft_capture_drop_frame(f->cap);
		note_capture_stats(f);
		f->starved_since = 0;
	}
}

/* lib/capture has read its last frame. A record it could not read (the file
 * changed since the scan; a stream's record it cannot take, or a stream cut
 * short) ends the capture early: it counts as a frame lost before rx
 * (ierrors, as the pcap PMD counts a libpcap error), and the capture's size
 * becomes what was read, so the analysis ends now. A stream's size is known
 * only now. */
static void
capture_ended(struct ft_app *app, const struct ft_feed *f)
{
	const struct ft_capture_stats *cs = &f->cstats; /* just noted */

	if (app->capture_stream) {
		if (cs->errors != 0)
			fprintf(stderr, "flowtap: warning: capture '%s' ends early, at %s; %" PRIu64
				" frames read before it\n", app->opt.pcap_path,
				ft_capture_end_reason(f->cap), cs->frames);
		app->capture_packets = records_taken(cs);
		return;
	}
	if (cs->errors == 0 || records_taken(cs) >= app->capture_packets)
		return;
	fprintf(stderr, "flowtap: warning: capture '%s' changed while read (%s): %" PRIu64
		" of %" PRIu64 " frames read\n", app->opt.pcap_path, ft_capture_end_reason(f->cap),
		cs->frames, app->capture_packets);
	app->capture_packets = records_taken(cs);
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
			if (f->cap != NULL) {
				f->n_held = ft_capture_read_burst(f->cap, f->pool, f->q.port,
								  f->held, burst);
				note_capture_stats(f);
				/* Nothing with frames left: the pool is
				 * empty for now (the workers hold its mbufs),
				 * or a stream's next record is not all here. */
				if (!f->dry && ft_capture_done(f->cap))
					capture_ended(app, f);
				f->dry = ft_capture_done(f->cap);
				if (f->n_held == 0)
					mbufs_wanted(app, f);
				else
					f->starved_since = 0;
			} else {
				f->n_held = rte_eth_rx_burst(f->q.port, f->q.queue, f->held, burst);
				f->dry = f->n_held == 0;
			}
			if (f->n_held == 0)
				break;
			moved += feed_push(f);
		}
	}
	return moved;
}

void
ft_reader_port_stats(const struct ft_app *app, unsigned int p, struct rte_eth_stats *st)
{
	unsigned int i;

	for (i = 0; i < n_feeds_made; i++) {
		const struct ft_capture_stats *cs = &feeds[i].cstats;

		if (feeds[i].q.port != app->pinfo[p].port_id)
			continue;
		st->ipackets += __atomic_load_n(&cs->frames, __ATOMIC_RELAXED);
		st->ibytes += __atomic_load_n(&cs->bytes, __ATOMIC_RELAXED);
		st->ierrors += __atomic_load_n(&cs->errors, __ATOMIC_RELAXED);
		st->rx_nombuf += __atomic_load_n(&cs->nombuf, __ATOMIC_RELAXED);
	}
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
ft_reader_waiting(const struct ft_app *app)
{
	unsigned int i;

	RTE_SET_USED(app);
	for (i = 0; i < n_feeds; i++)
		if (feeds[i].cap != NULL && feeds[i].n_held == 0 && ft_capture_waiting(feeds[i].cap))
			return true;
	return false;
}

uint64_t
ft_reader_frames_read(const struct ft_app *app)
{
	uint64_t n = 0;
	unsigned int i;

	RTE_SET_USED(app);
	for (i = 0; i < n_feeds_made; i++)
		n += records_taken(&feeds[i].cstats);
	return n;
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
		ft_capture_close(f->cap);
		f->cap = NULL;
	}
	n_feeds = 0;
	ft_capture_close(app->capture_stream_cap); /* not handed to a feed */
	app->capture_stream_cap = NULL;
	for (i = 0; i < app->n_workers; i++) {
		if (app->workers[i] == NULL || app->workers[i]->feed == NULL)
			continue;
		while (rte_ring_sc_dequeue(app->workers[i]->feed, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(app->workers[i]->feed);
		app->workers[i]->feed = NULL;
	}
}
