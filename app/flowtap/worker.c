/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker pipeline, per burst:
 *   rx -> decode -> owner check (hand over through an SPSC ring when another
 *   worker owns the flow; fragments are owned by their datagram's hash,
 *   unless every frame enters through this worker, which then reassembles
 *   them before the check, so that a datagram keeps its place among the
 *   packets of its flow) -> defragment (lib/defrag: a completed datagram is
 *   a new mbuf, tracked here when this worker owns its flow, else handed
 *   over to the owner) -> track
 *   (track.c: flow lookup, TCP states, events, records) -> count ->
 *   transmit (inline) or free. A reassembled datagram was never received:
 *   it is tracked and freed, never counted in packets.* nor transmitted.
 * Shared-nothing: a worker writes only its own struct ft_worker; it talks to
 * other cores only through single-producer single-consumer rings. No locks,
 * no atomic read-modify-write, no syscalls, no allocation here.
 */
#include <string.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_ring_elem.h>

#include "flowtap.h"

/* How far ahead the decoder prefetches frame data. */
#define FT_PREFETCH_AHEAD 3
/* Datagrams expired per worker iteration at most. */
#define FT_DEFRAG_AGE_BUDGET 256
/* Nested waits for a reassembly buffer (inside serve_incoming(), which does
 * not nest) before the datagram is given up: only two workers both waiting
 * nested could otherwise spin for ever. */
#define FT_WAIT_SPINS_MAX (1u << 22)

/* n items of @p size bytes, in order. Offline nothing may be lost: a full
 * ring is waited for (the control lcore drains it). Live, a worker never
 * waits: what does not fit is dropped and counted in @p dropped.
 * @return the items put */
unsigned int
ft_ring_put_burst(struct ft_worker *w, struct rte_ring *r, const void *objs, unsigned int size,
		  unsigned int n, enum ft_ctr dropped)
{
	const char *p = objs;
	unsigned int done = 0;

	for (;;) {
		done += rte_ring_sp_enqueue_burst_elem(r, p + (size_t)done * size, size, n - done,
						       NULL);
		if (done == n)
			return n;
		if (!ft_app.offline) {
			ft_stats_add(&w->stats, dropped, n - done);
			return done;
		}
		rte_pause();
	}
}

bool
ft_ring_put(struct ft_worker *w, struct rte_ring *r, void *obj, unsigned int size,
	    enum ft_ctr dropped)
{
	return ft_ring_put_burst(w, r, obj, size, 1, dropped) == 1;
}

/* An event of any stage (tracking, signatures, defragmentation) to the
 * control lcore: events.emitted, or events.dropped when its ring is full. */
void
ft_worker_emit(struct ft_worker *w, struct ft_event *ev)
{
	if (ft_ring_put(w, w->events, ev, sizeof(*ev), FT_CTR_EVENTS_DROPPED))
		ft_stats_add(&w->stats, FT_CTR_EVENTS_EMITTED, 1);
}

static inline bool
is_reassembled(const struct rte_mbuf *m)
{
	return (m->ol_flags & ft_app.reasm_flag) != 0;
}

/* Final-class counter of each decoder class (malformed: by reason instead). */
static const enum ft_ctr class_ctr[FT_CLS_MAX] = {
	[FT_CLS_TCP] = FT_CTR_TCP,
	[FT_CLS_UDP] = FT_CTR_UDP,
	[FT_CLS_ICMP] = FT_CTR_ICMP,
	[FT_CLS_OTHER_IP] = FT_CTR_OTHER_IP,
	[FT_CLS_FRAGMENT] = FT_CTR_FRAGMENT,
	[FT_CLS_NON_IP] = FT_CTR_NON_IP,
	[FT_CLS_MALFORMED] = FT_CTR_MAX,
};

/* Per-burst scratch of one worker: on its stack, never shared. */
struct ft_burst {
	uint32_t cls[FT_CLS_MAX];      /* class counts, added to stats once */
	uint16_t n_free;
	struct rte_mbuf *free[FT_MAX_BURST];
};

/* Only the counts: free[] is written before it is read (a memset of the
 * whole struct was rep stosq over 300 bytes per burst). */
static inline void
burst_init(struct ft_burst *b)
{
	memset(b->cls, 0, sizeof(b->cls));
	b->n_free = 0;
}

/* The packet's journey ends: forward it (inline) or free it (passive). */
static inline void
finish(struct ft_worker *w, struct ft_burst *b, struct rte_mbuf *m)
{
	int peer = ft_app.peer[m->port];

	/* Made here, never received: it is not forwarded. */
	if (unlikely(is_reassembled(m)))
		peer = -1;

	if (peer >= 0) {
		w->tx_buf[peer][w->tx_count[peer]++] = m;
		if (w->tx_count[peer] == RTE_DIM(w->tx_buf[peer]))
			ft_tx_flush_port(w, (uint16_t)peer);
		return;
	}
	b->free[b->n_free++] = m;
	if (b->n_free == RTE_DIM(b->free)) {
		rte_pktmbuf_free_bulk(b->free, b->n_free);
		b->n_free = 0;
	}
}

static void
burst_end(struct ft_worker *w, struct ft_burst *b)
{
	unsigned int c;

	for (c = 0; c < FT_CLS_MAX; c++)
		if (b->cls[c] != 0 && class_ctr[c] != FT_CTR_MAX)
			ft_stats_add(&w->stats, class_ctr[c], b->cls[c]);
	if (b->n_free != 0)
		rte_pktmbuf_free_bulk(b->free, b->n_free);
	b->n_free = 0;
}

static inline void
decode_mbuf(struct rte_mbuf *m, struct ft_pkt *p)
{
	ft_decode(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, m->pkt_len, p);
}

/* A host drops an IPv4 packet whose header checksum is wrong before anything
 * else sees it (a fragment before reassembly): it is malformed here, so that
 * it neither moves a connection nor lends bytes to a datagram. The NIC's
 * "good" stands (rx checksum offload); anything else is summed (5 to 15
 * 32-bit words). */
static inline bool
ip4_csum_bad(const struct rte_mbuf *m, const struct ft_pkt *p)
{
	if (ft_app.cfg.checksums == FT_CSUMS_OFF)
		return false;
	if ((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD)
		return false;
	return !ft_decode_ip4_csum_ok(rte_pktmbuf_mtod(m, const uint8_t *), p);
}

/* Reassembled datagrams to other workers, in order: as many as their
 * rings take now. */
static void
reasm_q_flush(struct ft_worker *w)
{
	uint32_t i, n = w->reasm_q_n;

	for (i = 0; i < n; i++)
		if (rte_ring_sp_enqueue(w->to[w->reasm_q_to[i]], w->reasm_q[i]) != 0)
			break;
	if (i == 0)
		return;
	ft_stats_add(&w->stats, FT_CTR_HANDOFF_OUT, i);
	memmove(w->reasm_q, w->reasm_q + i, sizeof(w->reasm_q[0]) * (n - i));
	memmove(w->reasm_q_to, w->reasm_q_to + i, sizeof(w->reasm_q_to[0]) * (n - i));
	w->reasm_q_n = n - i;
}

static void serve_incoming(struct ft_worker *w);

/* Outside any burst: offline, every reassembled datagram reaches its owner
 * before the next packet is read (exactness); live, what does not fit now
 * goes on the next iteration. */
static void
reasm_q_drain(struct ft_worker *w)
{
	reasm_q_flush(w);
	while (ft_app.offline && w->reasm_q_n != 0) {
		serve_incoming(w);
		rte_pause();
		reasm_q_flush(w);
	}
}

/* A reassembled datagram for another worker's flow. Never waits (this may
 * run inside serve_incoming()): the queue holds it meanwhile. */
static void
reasm_hand_over(struct ft_worker *w, unsigned int owner, struct rte_mbuf *m)
{
	if (w->reasm_q_n == 0 && rte_ring_sp_enqueue(w->to[owner], m) == 0) {
		ft_stats_add(&w->stats, FT_CTR_HANDOFF_OUT, 1);
		return;
	}
	/* Cannot overflow: the queue has a slot per reassembly buffer. */
	w->reasm_q[w->reasm_q_n] = m;
	w->reasm_q_to[w->reasm_q_n] = (uint16_t)owner;
	w->reasm_q_n++;
}

/* The reassembly pool is empty (called by the defragmenter). Offline,
 * wait for buffers to come back (exactness); live, give the datagram up. */
bool
ft_worker_wait_buffer(void *arg)
{
	struct ft_worker *w = arg;

	if (!ft_app.offline)
		return false;
	reasm_q_flush(w);
	if (!w->serving)
		serve_incoming(w);
	else if (++w->wait_spins > FT_WAIT_SPINS_MAX)
		return false;
	rte_pause();
	return true;
}

/* Give a fragment to this worker's defragmenter. @p out may be @p frag.
 * @return the datagram it completed, decoded into @p out (trackable), or
 *         NULL */
static struct rte_mbuf *
defrag_one(struct ft_worker *w, struct rte_mbuf *m, const struct ft_pkt *frag,
	   struct ft_pkt *out)
{
	struct rte_mbuf *r = ft_defrag_add(w->defrag, m, frag, ft_pkt_time(w, m));

	if (r == NULL)
		return NULL;
	decode_mbuf(r, out);
	if (out->cls > FT_CLS_OTHER_IP) {
		/* Malformed inside, or fragmented again: nothing to track. */
		ft_stats_add(&w->stats, FT_CTR_DEFRAG_UNDECODABLE, 1);
		rte_pktmbuf_free(r);
		return NULL;
	}
	return r;
}

/* Packets this worker owns: the rest of the pipeline (they are finished by
 * the caller, in arrival order). Fragments go to the defragmenter; a
 * datagram they complete is tracked in their place when this worker owns
 * its flow, else handed over. */
static void
process_owned(struct ft_worker *w, struct ft_burst *b, struct rte_mbuf **m,
	      const struct ft_pkt *meta, unsigned int n)
{
	struct rte_mbuf *tm[FT_MAX_BURST], *made[FT_MAX_BURST];
	struct ft_pkt tmeta[FT_MAX_BURST];
	unsigned int i, k = 0, n_made = 0, n_frag = 0, n_tcp = 0, n_opt_bad = 0;

	/* TCP counted in a register: an increment in memory per packet is a
	 * chain of store-to-load forwards, one after the other. */
	for (i = 0; i < n; i++) {
		n_opt_bad += meta[i].tcp.opt_bad; /* 0 unless TCP */
		if (unlikely(is_reassembled(m[i])))
			continue; /* counted when its fragments were */
		if (likely(meta[i].cls == FT_CLS_TCP))
			n_tcp++;
		else
			b->cls[meta[i].cls]++;
	}
	b->cls[FT_CLS_TCP] += n_tcp;
	if (unlikely(n_opt_bad != 0))
		ft_stats_add(&w->stats, FT_CTR_TCP_OPT_INVALID, n_opt_bad);
	n_frag = b->cls[FT_CLS_FRAGMENT];
	if (likely(n_frag == 0)) {
		ft_track_burst(w, m, meta, n);
		return;
	}
	for (i = 0; i < n; i++) {
		struct rte_mbuf *r;
		unsigned int owner;

		if (meta[i].cls != FT_CLS_FRAGMENT) {
			tm[k] = m[i];
			tmeta[k++] = meta[i];
			continue;
		}
		r = defrag_one(w, m[i], &meta[i], &tmeta[k]);
		if (r == NULL)
			continue;
		owner = ft_decode_owner(tmeta[k].hash, ft_app.n_workers);
		if (owner != w->idx) {
			reasm_hand_over(w, owner, r);
			continue;
		}
		tm[k++] = r;
		made[n_made++] = r;
	}
	if (k != 0)
		ft_track_burst(w, tm, tmeta, k);
	for (i = 0; i < n_made; i++)
		rte_pktmbuf_free(made[i]);
}

static inline void
finish_all(struct ft_worker *w, struct ft_burst *b, struct rte_mbuf **m, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		finish(w, b, m[i]);
}

static void handoff_burst(struct ft_worker *w, struct rte_mbuf **pkts, unsigned int n);

/*
 * Serve this worker's own incoming rings once. Called while it waits for room
 * in another worker's ring (lossless mode), so two workers waiting on each
 * other both make progress. Handed-over packets never block in turn (a
 * datagram they complete waits in the reassembled queue), and this does not
 * nest.
 */
static void
serve_incoming(struct ft_worker *w)
{
	struct rte_mbuf *pkts[FT_MAX_BURST];
	unsigned int i, n;

	if (w->serving)
		return;
	w->serving = true;
	for (i = 0; i < ft_app.n_workers; i++) {
		if (w->from[i] == NULL)
			continue;
		n = rte_ring_sc_dequeue_burst(w->from[i], (void **)pkts, FT_MAX_BURST, NULL);
		if (n != 0)
			handoff_burst(w, pkts, n);
	}
	w->serving = false;
}

static void
hand_over(struct ft_worker *w, struct ft_burst *b, unsigned int to, struct rte_mbuf **m,
	  unsigned int n)
{
	unsigned int sent = rte_ring_sp_enqueue_burst(w->to[to], (void **)m, n, NULL);

	/* Offline, the capture waits for the owner: the analysis must be exact
	 * and nothing is lost by waiting. Live, a wait would only move the loss
	 * to the NIC's rx queue, so the packet goes on untracked instead. */
	while (ft_app.offline && sent < n) {
		serve_incoming(w);
		rte_pause();
		sent += rte_ring_sp_enqueue_burst(w->to[to], (void **)(m + sent), n - sent, NULL);
	}
	ft_stats_add(&w->stats, FT_CTR_HANDOFF_OUT, sent);
	for (; unlikely(sent < n); sent++) {
		/* A datagram reassembled here waits in the reassembled queue
		 * (never lost, as elsewhere). */
		if (is_reassembled(m[sent])) {
			reasm_hand_over(w, to, m[sent]);
			continue;
		}
		/* The owner is behind: the packet goes on untracked, counted. */
		ft_stats_add(&w->stats, FT_CTR_HANDOFF_FULL, 1);
		finish(w, b, m[sent]);
	}
}

/* A packet this worker will look up (TCP, UDP, ICMP, other IP: a flow's):
 * its bucket is fetched while the rest of the burst is decoded, since the
 * bulk lookup would otherwise wait for it from memory. */
static inline void
flow_hint(const struct ft_worker *w, const struct ft_pkt *p)
{
	if (p->cls <= FT_CLS_OTHER_IP)
		ft_flow_prefetch_sig(w->flows, p->hash);
}

/* A burst from a NIC queue: decode, keep what we own, hand over the rest. */
static void
rx_burst(struct ft_worker *w, struct rte_mbuf **pkts, unsigned int n)
{
	const unsigned int nw = ft_app.n_workers;
	struct ft_pkt meta[FT_MAX_BURST];
	struct rte_mbuf *mine[FT_MAX_BURST];
	/* What this worker finishes itself, in arrival order: inline, a bump
	 * in the wire must not reorder what it forwards. */
	struct rte_mbuf *keep[FT_MAX_BURST];
	struct rte_mbuf *stage[FT_MAX_WORKERS][FT_MAX_BURST];
	/* Datagrams reassembled here for flows of this worker (tracked, then
	 * freed: they were never received). */
	struct rte_mbuf *made[FT_MAX_BURST];
	uint16_t n_stage[FT_MAX_WORKERS];
	uint64_t bytes = 0;
	struct ft_burst b;
	unsigned int i, n_mine = 0, n_keep = 0, n_out = 0, n_made = 0;

	burst_init(&b);
	memset(n_stage, 0, sizeof(n_stage[0]) * nw);
	/* Offline the mbufs were written by the control lcore (reader.c) on
	 * another CPU, their second line too (the capture time, read when the
	 * packet is tracked): fetch the burst's mbufs at once, not one miss
	 * after another. Live the driver has just written them here. */
	if (ft_app.offline)
		for (i = 0; i < n; i++) {
			rte_prefetch0(pkts[i]);
			rte_prefetch0(RTE_PTR_ADD(pkts[i], RTE_CACHE_LINE_SIZE));
		}
	for (i = 0; i < n && i < FT_PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct ft_pkt *p = &meta[n_mine];
		unsigned int owner;

		if (i + FT_PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + FT_PREFETCH_AHEAD], void *));
		bytes += m->pkt_len;
		decode_mbuf(m, p);
		if (unlikely(p->cls < FT_CLS_NON_IP && ip4_csum_bad(m, p))) {
			p->cls = FT_CLS_MALFORMED;
			p->malformed = FT_MAL_IP4_BAD_CHECKSUM;
		}
		if (unlikely(p->cls == FT_CLS_MALFORMED)) {
			ft_stats_malformed(&w->stats, p->malformed);
			keep[n_keep++] = m;
			continue;
		}
		if (p->cls == FT_CLS_NON_IP) {
			b.cls[FT_CLS_NON_IP]++;
			keep[n_keep++] = m;
			continue;
		}
		if (unlikely(p->cls == FT_CLS_FRAGMENT) && ft_app.defrag_at_entry) {
			/* The datagram it completes goes on in its place. */
			b.cls[FT_CLS_FRAGMENT]++;
			keep[n_keep++] = m;
			m = defrag_one(w, m, p, p);
			if (m == NULL)
				continue;
		}
		owner = ft_decode_owner(p->hash, nw);
		if (owner == w->idx) {
			flow_hint(w, p);
			mine[n_mine++] = m;
			if (unlikely(is_reassembled(m)))
				made[n_made++] = m;
			else
				keep[n_keep++] = m;
		} else {
			stage[owner][n_stage[owner]++] = m;
			n_out++;
		}
	}
	ft_stats_add(&w->stats, FT_CTR_RX, n);
	ft_stats_add(&w->stats, FT_CTR_RX_BYTES, bytes);
	if (n_out != 0)
		for (i = 0; i < nw; i++)
			if (n_stage[i] != 0)
				hand_over(w, &b, i, stage[i], n_stage[i]);
	process_owned(w, &b, mine, meta, n_mine);
	finish_all(w, &b, made, n_made);
	finish_all(w, &b, keep, n_keep);
	burst_end(w, &b);
}

/* A burst handed over by another worker: we own all of it. */
static void
handoff_burst(struct ft_worker *w, struct rte_mbuf **pkts, unsigned int n)
{
	struct ft_pkt meta[FT_MAX_BURST];
	struct ft_burst b;
	unsigned int i;

	burst_init(&b);
	/* Re-decoding is cheaper than carrying the metadata through the ring
	 * (the decoder touches the cache lines the tracker needs anyway). */
	for (i = 0; i < n; i++) {
		if (i + FT_PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + FT_PREFETCH_AHEAD], void *));
		decode_mbuf(pkts[i], &meta[i]);
		flow_hint(w, &meta[i]);
	}
	ft_stats_add(&w->stats, FT_CTR_HANDOFF_IN, n);
	process_owned(w, &b, pkts, meta, n);
	finish_all(w, &b, pkts, n);
	burst_end(w, &b);
}

int
ft_worker_main(void *arg)
{
	struct ft_worker *w = arg;
	struct rte_ring *from[FT_MAX_WORKERS];
	struct rte_mbuf *pkts[FT_MAX_BURST];
	const uint16_t burst = (uint16_t)RTE_MIN(ft_app.cfg.burst, (uint32_t)FT_MAX_BURST);
	unsigned int n_from = 0, i;
	uint64_t iterations = 0, busy = 0;

	for (i = 0; i < ft_app.n_workers; i++)
		if (w->from[i] != NULL)
			from[n_from++] = w->from[i];

	for (;;) {
		int state = __atomic_load_n(&ft_app.run_state, __ATOMIC_ACQUIRE);
		unsigned int work = 0;

		if (unlikely(state == FT_STOP))
			break;
		w->wait_spins = 0;
		if (unlikely(w->reasm_q_n != 0))
			reasm_q_drain(w);
		if (likely(state == FT_RUN)) {
			for (i = 0; i < w->n_rxq; i++) {
				uint16_t n = rte_eth_rx_burst(w->rxq[i].port, w->rxq[i].queue, pkts, burst);

				if (n != 0) {
					rx_burst(w, pkts, n);
					work += n;
				}
			}
		}
		/* Offline: the capture as the control lcore read it; also while
		 * draining, so that every frame read is analysed. */
		if (w->feed != NULL) {
			unsigned int n = rte_ring_sc_dequeue_burst(w->feed, (void **)pkts, burst, NULL);

			if (n != 0) {
				rx_burst(w, pkts, n);
				work += n;
			}
		}
		for (i = 0; i < n_from; i++) {
			unsigned int n = rte_ring_sc_dequeue_burst(from[i], (void **)pkts, burst, NULL);

			if (n != 0) {
				handoff_burst(w, pkts, n);
				work += n;
			}
		}
		work += ft_tx_serve_proxied(w);
		ft_tx_flush_all(w);
		ft_track_age(w);
		ft_defrag_age(w->defrag, w->now_ns, FT_DEFRAG_AGE_BUDGET);
		ft_requests_serve(w);
		if (work != 0)
			ft_stats_set(&w->stats, FT_CTR_BUSY_ITERATIONS, ++busy);
		/* Release: everything this iteration did is visible to the
		 * control lcore once it sees the new count (quiescence check). */
		__atomic_store_n(&w->stats.ctr[FT_CTR_ITERATIONS], ++iterations, __ATOMIC_RELEASE);
	}
	ft_tx_flush_all(w);
	/* Datagrams still in reassembly go (defrag.dropped.exit, no event). */
	ft_defrag_flush(w->defrag);
	/* Every connection still open gets its record ("exit"); the control
	 * lcore drains the record ring meanwhile. */
	ft_track_flush(w);
	__atomic_store_n(&w->flushed, 1, __ATOMIC_RELEASE);
	return 0;
}

static struct rte_ring *
ring_create(const char *fmt, unsigned int a, unsigned int b, unsigned int esize,
	    unsigned int count, int socket)
{
	char name[RTE_RING_NAMESIZE];
	struct rte_ring *r;

	snprintf(name, sizeof(name), fmt, a, b);
	r = rte_ring_create_elem(name, esize, count, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (r == NULL)
		ft_fail("cannot create ring %s (%u slots): %s", name, count, rte_strerror(rte_errno));
	return r;
}

int
ft_workers_create(struct ft_app *app)
{
	unsigned int lcore, i, j, n = 0;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct ft_worker *w;
		int socket = (int)rte_lcore_to_socket_id(lcore);

		if (n == FT_MAX_WORKERS)
			return ft_fail("more than %d worker lcores", FT_MAX_WORKERS);
		/* On the worker's own node: its counters and rings stay local. */
		w = rte_zmalloc_socket("ft_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);
		if (w == NULL)
			return ft_fail("cannot allocate worker state on node %d", socket);
		w->idx = n;
		w->lcore = lcore;
		w->socket = socket;
		w->txq = (uint16_t)n;
		app->workers[n] = w;
		app->winfo[n].lcore = lcore;
		app->winfo[n].socket = socket;
		app->winfo[n].stats = &w->stats;
		n++;
	}
	app->n_workers = n;
	if (n == 0)
		return ft_fail("no worker lcore: give at least two lcores (-l 0-1): the first is the control lcore");

	for (i = 0; i < n; i++) {
		struct ft_worker *w = app->workers[i];

		w->events = ring_create("ft_ev_%u%.0u", i, 0, sizeof(struct ft_event),
					app->cfg.event_ring, w->socket);
		/* Records go to the flow log's writer: without a flow log no
		 * ring, and the worker counts records without building them. */
		if (app->cfg.flow_log[0] != '\0') {
			w->records = ring_create("ft_rec_%u%.0u", i, 0, sizeof(struct ft_flow_record),
						 app->cfg.record_ring, w->socket);
			if (w->records == NULL)
				return -1;
		}
		w->observe = ring_create("ft_obs_%u%.0u", i, 0, sizeof(struct ft_obs),
					 app->cfg.observe_ring, w->socket);
		if (w->events == NULL || w->observe == NULL)
			return -1;
		if (app->ladder_on) {
			w->ladder = ring_create("ft_lad_%u%.0u", i, 0, sizeof(struct ft_ladder_line),
						4096, w->socket);
			if (w->ladder == NULL)
				return -1;
		}
		if (ft_track_create(app, w) < 0 || ft_defrag_setup(app, w) < 0 ||
		    ft_requests_create(app, w) < 0)
			return -1;
		for (j = 0; j < n; j++) {
			struct rte_ring *r;

			if (i == j)
				continue;
			/* The consumer's node: it touches the ring every iteration. */
			r = ring_create("ft_ho_%u_%u", i, j, sizeof(void *), app->cfg.handoff_ring,
					app->workers[j]->socket);
			if (r == NULL)
				return -1;
			w->to[j] = r;
			app->workers[j]->from[i] = r;
		}
	}
	return 0;
}

void
ft_workers_free(struct ft_app *app)
{
	unsigned int i, j;

	for (i = 0; i < app->n_workers; i++) {
		struct ft_worker *w = app->workers[i];
		void *m;

		if (w == NULL)
			continue;
		for (j = 0; j < app->n_workers; j++) {
			if (w->to[j] == NULL)
				continue;
			/* Drained before stop; whatever is left is freed, not leaked. */
			while (rte_ring_dequeue(w->to[j], &m) == 0)
				rte_pktmbuf_free(m);
			rte_ring_free(w->to[j]);
		}
		rte_ring_free(w->events);
		rte_ring_free(w->records);
		rte_ring_free(w->observe);
		rte_ring_free(w->ladder);
		ft_requests_free(w);
		ft_tx_free(w);
		ft_track_free(w);
	}
	/* Last: the rings above may have held reassembled datagrams of any
	 * worker's pool. */
	for (i = 0; i < app->n_workers; i++) {
		if (app->workers[i] == NULL)
			continue;
		ft_defrag_teardown(app->workers[i]);
		rte_free(app->workers[i]);
		app->workers[i] = NULL;
	}
}
