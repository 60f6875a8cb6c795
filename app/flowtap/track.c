/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The tracking stage of the worker pipeline, for the packets a worker owns:
 *   bulk flow lookup (insert what is new, evicting the oldest embryonic flow
 *   when the table is full) -> TCP tracking -> anomalies to events ->
 *   observations for the control core's detectors -> payload signatures
 *   (lib/sig: each direction's bytes in sequence order into a Hyperscan
 *   stream, signature_match events) -> flow records when a connection ends
 *   -> ladder lines when asked for.
 * And the worker's side of ageing (the timer wheel) and of the exit flush.
 * Everything here runs on the owning worker: no locks, no allocation.
 */
#include <inttypes.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring_elem.h>

#include "flowtap.h"

/* Flows aged per worker iteration at most: a burst of expiries waits. */
#define FT_AGE_BUDGET 256

/* A worker's buffer for a chained frame's payload: ft_pkt.payload_len is 16 bits. */
#define FT_PAYLOAD_BUF 65536u

uint64_t
ft_track_flows_per_worker(const struct ft_app *app)
{
	uint64_t n = app->cfg.flows_max;

	/* A capture never needs more flows than it has frames. */
	if (app->offline && app->capture_packets < n)
		n = RTE_MAX(app->capture_packets, (uint64_t)1024);
	return n;
}

/* The signature pools of one worker. Like the flow table, offline they
 * never need more streams than the capture has frames. */
static struct ft_sig_worker_params
sig_params(const struct ft_app *app, struct ft_worker *w)
{
	struct ft_sig_worker_params prm = {
		.streams = app->cfg.sig_streams,
		.ooo_bytes = app->cfg.sig_ooo_bytes,
		.ooo_chunks = app->cfg.sig_ooo_chunks,
		.socket = w != NULL ? w->socket : SOCKET_ID_ANY,
		.stats = w != NULL ? &w->stats : NULL,
	};

	if (app->offline && app->capture_packets < prm.streams)
		prm.streams = (uint32_t)RTE_MAX(app->capture_packets, (uint64_t)16);
	return prm;
}

uint64_t
ft_track_memory_per_worker(const struct ft_app *app)
{
	struct ft_sig_worker_params sp = sig_params(app, NULL);

	/* Entry, key slot, buckets (ordinary and extendable), free-slot ring,
	 * segment cache slots: see ft_flow_table_memory() for the table part.
	 * Signatures: their pools (Hyperscan's scratch and database are
	 * malloc'd, outside DPDK memory). */
	return ft_track_flows_per_worker(app) * (sizeof(struct ft_flow) + 96) +
	       (uint64_t)app->cfg.segment_cache * 32 + ft_sig_worker_memory(app->sig, &sp) +
	       FT_PAYLOAD_BUF;
}

int
ft_track_sig_setup(struct ft_app *app)
{
	char err[512];

	if (app->cfg.sig_rules[0] == '\0')
		return 0;
	if (ft_sig_load(app->cfg.sig_rules, app->cfg.sig_every_match, &app->sig, err,
			sizeof(err)) < 0)
		return ft_fail("%s", err);
	ft_stats_set(&app->control_stats, FT_CTR_SIG_RULES, ft_sig_rule_count(app->sig));
	if (ft_sig_rule_count(app->sig) == 0) {
		/* No rule: nothing to match, not a stream ever opened. */
		ft_sig_set_free(app->sig);
		app->sig = NULL;
	}
	return 0;
}

static uint64_t
live_now_ns(void)
{
	uint64_t dt = rte_get_tsc_cycles() - ft_app.start_tsc;

	return ft_app.wall_ns_at_start + (uint64_t)((double)dt * ft_app.ns_per_tsc);
}

/* Records and events ------------------------------------------------------- */

static void sig_close(struct ft_worker *w, struct ft_flow *f);

static void
write_record(struct ft_worker *w, struct ft_flow *f, enum ft_tcp_end end)
{
	struct ft_flow_record rec;

	/* The connection ends: its streams close first (end-anchored
	 * matches), so the record lists signature_match too. */
	sig_close(w, f);
	if (!(f->fflags & FT_FLOW_F_TCP) || (f->fflags & FT_FLOW_F_RECORD_DONE))
		return;
	f->fflags |= FT_FLOW_F_RECORD_DONE;
	if (w->records == NULL) {
		/* No flow log: nobody would read it (flows.records still counts
		 * the connections whose record is made). */
		ft_stats_add(&w->stats, FT_CTR_FLOWS_RECORDS, 1);
		return;
	}
	ft_flow_record_fill(&rec, w->flows, f, end);
	if (ft_ring_put(w, w->records, &rec, sizeof(rec), FT_CTR_FLOWS_RECORDS_DROPPED))
		ft_stats_add(&w->stats, FT_CTR_FLOWS_RECORDS, 1);
}

static void
emit_event(struct ft_worker *w, const struct ft_flow *f, unsigned int dir,
	   const struct ft_pkt *p, const struct ft_tcp_anomaly *a, uint64_t now)
{
	struct ft_event ev;
	/* src/dst are the connection's originator and responder; dir says
	 * which of them sent the packet. */
	const uint8_t *orig = dir == FT_TCP_ORIG ? p->src : p->dst;
	const uint8_t *resp = dir == FT_TCP_ORIG ? p->dst : p->src;

	memset(&ev, 0, sizeof(ev));
	ev.ts_ns = now;
	ev.type = a->type;
	ev.severity = (uint8_t)ft_event_default_severity(a->type);
	ev.dir = (uint8_t)dir;
	ev.ip_ver = p->ip_ver;
	ev.proto = p->l4_proto;
	ev.has = a->has | FT_EVF_STATES;
	if (!(p->tcp.flags & FT_TCP_ACK))
		ev.has &= (uint8_t)~FT_EVF_ACK; /* no ACK flag: its ack field means nothing */
	ev.orig_state = f->tcp.ep[FT_TCP_ORIG].state;
	ev.resp_state = f->tcp.ep[FT_TCP_RESP].state;
	ev.sport = dir == FT_TCP_ORIG ? p->sport : p->dport;
	ev.dport = dir == FT_TCP_ORIG ? p->dport : p->sport;
	ev.seq = a->seq;
	ev.ack = a->ack;
	ev.expected = a->expected;
	memcpy(ev.src, orig, sizeof(ev.src));
	memcpy(ev.dst, resp, sizeof(ev.dst));
	memcpy(ev.detail, a->detail, RTE_MIN(sizeof(ev.detail), sizeof(a->detail)));
	ev.detail[sizeof(ev.detail) - 1] = '\0';
	ft_worker_emit(w, &ev);
}

/* The observations held (in order) to the detectors' ring. */
static void
obs_flush(struct ft_worker *w)
{
	ft_ring_put_burst(w, w->observe, w->obs_buf, sizeof(w->obs_buf[0]), w->obs_n,
			  FT_CTR_OBSERVATIONS_DROPPED);
	w->obs_n = 0;
}

static void
observe(struct ft_worker *w, const struct ft_pkt *p, unsigned int dir, uint8_t kind,
	uint32_t isn, uint64_t now)
{
	struct ft_obs *o;
	/* The server: the SYN's receiver, the SYN+ACK's sender. */
	const bool server_sent = kind == FT_OBS_SERVER_ISN;

	RTE_SET_USED(dir);
	if (w->obs_n == RTE_DIM(w->obs_buf))
		obs_flush(w);
	o = &w->obs_buf[w->obs_n++];
	memset(o, 0, sizeof(*o));
	o->ts_ns = now;
	o->kind = kind;
	o->ip_ver = p->ip_ver;
	o->port = server_sent ? p->sport : p->dport;
	o->isn = isn;
	memcpy(o->addr, server_sent ? p->src : p->dst, sizeof(o->addr));
}

/* Payload signatures ------------------------------------------------------- */

struct sig_ctx {
	struct ft_worker *w;
	struct ft_flow *f;
	const struct ft_pkt *p;   /* the segment scanned, NULL when closing */
	uint64_t now;
};

/* A signature_match event: the flow's keys (from the table: at close there
 * is no packet), the stream's direction, both states, the segment's seq. */
static void
on_sig_match(void *arg, const struct ft_sig_match *m)
{
	struct sig_ctx *c = arg;
	struct ft_flow *f = c->f;
	struct ft_event ev;
	uint8_t addr[2][16];
	uint16_t port[2];

	ft_stats_anomaly(&c->w->stats, FT_EV_SIGNATURE_MATCH);
	f->tcp.anomalies |= UINT32_C(1) << FT_EV_SIGNATURE_MATCH;
	ft_flow_endpoints(c->w->flows, f, addr, port);
	memset(&ev, 0, sizeof(ev));
	ev.ts_ns = c->now;
	ev.type = FT_EV_SIGNATURE_MATCH;
	ev.severity = (uint8_t)ft_event_default_severity(FT_EV_SIGNATURE_MATCH);
	ev.dir = (uint8_t)m->dir;
	ev.ip_ver = f->ip_ver;
	ev.proto = IPPROTO_TCP;
	ev.has = FT_EVF_SIG | FT_EVF_STATES;
	if (c->p != NULL) {
		ev.has |= FT_EVF_SEQ;
		ev.seq = c->p->tcp.seq;
	}
	ev.orig_state = f->tcp.ep[FT_TCP_ORIG].state;
	ev.resp_state = f->tcp.ep[FT_TCP_RESP].state;
	ev.sport = port[0];
	ev.dport = port[1];
	ev.sig_id = m->rule->id;
	memcpy(ev.src, addr[0], sizeof(ev.src));
	memcpy(ev.dst, addr[1], sizeof(ev.dst));
	/* Rules' messages fit: ft_sig_load() refuses longer ones. */
	snprintf(ev.detail, sizeof(ev.detail), "%s", m->rule->msg);
	ft_worker_emit(c->w, &ev);
}

/*
 * Feed a payload segment to the flow's streams. The flow takes its slot at
 * its first payload byte rather than at creation: a SYN flood or a port
 * scan towards a port some rule names then takes no stream at all.
 */
static void
sig_feed(struct ft_worker *w, struct ft_flow *f, unsigned int dir, const struct ft_pkt *p,
	 const struct ft_tcp_payload *pl, uint64_t now)
{
	struct sig_ctx c = { .w = w, .f = f, .p = p, .now = now };
	const struct ft_tcp_endpoint *e = &f->tcp.ep[dir];
	struct ft_sig_segment seg;

	if (f->sig_slot == FT_SIG_NONE)
		f->sig_slot = ft_sig_port_wanted(ft_app.sig, p->sport, p->dport) ?
			      ft_sig_flow_open(w->sig, p->sport, p->dport) : FT_SIG_OFF;
	if (f->sig_slot == FT_SIG_OFF)
		return;
	/* A SYN's payload starts after the SYN's own sequence number. */
	seg.seq = p->tcp.seq + ((p->tcp.flags & FT_TCP_SYN) ? 1 : 0);
	seg.len = p->payload_len;
	seg.caplen = RTE_MIN(pl->caplen, (uint32_t)p->payload_len);
	seg.data = pl->data;
	seg.isn_known = (e->flags & FT_TCPE_ISN) != 0;
	seg.isn = e->isn;
	ft_sig_flow_feed(w->sig, f->sig_slot, dir, &seg, on_sig_match, &c);
}

static void
sig_close(struct ft_worker *w, struct ft_flow *f)
{
	struct sig_ctx c = { .w = w, .f = f, .p = NULL, .now = f->last_ns };

	if (f->sig_slot == FT_SIG_NONE || f->sig_slot == FT_SIG_OFF)
		return;
	ft_sig_flow_close(w->sig, f->sig_slot, on_sig_match, &c);
	f->sig_slot = FT_SIG_OFF;
}

/* The ladder: offline (--ladder FILTER) and live (/flowtap/ladder) ---------- */

static void
ladder_fill(struct ft_worker *w, const struct ft_flow *f, unsigned int dir, const struct ft_pkt *p,
	    uint64_t now, struct ft_ladder_line *l)
{
	memset(l, 0, sizeof(*l));
	l->ts_ns = now;
	l->first_ns = ft_flow_first_ns(w->flows, f);
	l->conn_id = f->conn_id;
	l->worker = (uint16_t)w->idx;
	l->dir = (uint8_t)dir;
	l->flags = p->tcp.flags;
	l->seq = p->tcp.seq;
	l->ack = p->tcp.ack;
	l->len = p->payload_len;
	l->win = p->tcp.win;
	l->ip_ver = p->ip_ver;
	l->state[0] = f->tcp.ep[FT_TCP_ORIG].state;
	l->state[1] = f->tcp.ep[FT_TCP_RESP].state;
	l->isn[0] = f->tcp.ep[FT_TCP_ORIG].isn;
	l->isn[1] = f->tcp.ep[FT_TCP_RESP].isn;
	memcpy(l->addr[0], dir == FT_TCP_ORIG ? p->src : p->dst, 16);
	memcpy(l->addr[1], dir == FT_TCP_ORIG ? p->dst : p->src, 16);
	l->port[0] = dir == FT_TCP_ORIG ? p->sport : p->dport;
	l->port[1] = dir == FT_TCP_ORIG ? p->dport : p->sport;
}

static bool
ladder_match(const struct rte_mbuf *m)
{
	struct pcap_pkthdr h;

	memset(&h, 0, sizeof(h));
	h.caplen = m->data_len;
	h.len = m->pkt_len;
	return pcap_offline_filter(&ft_app.ladder_prog, &h, rte_pktmbuf_mtod(m, const u_char *)) != 0;
}

/* A packet of the connection on the ladders that are on: offline's
 * (--ladder, to the control lcore) and the live one (/flowtap/ladder). */
static void
ladder_record(struct ft_worker *w, struct ft_flow *f, unsigned int dir, const struct ft_pkt *p,
	      const struct rte_mbuf *m, uint64_t now, enum ft_ladder_note note)
{
	struct ft_ladder_line l;

	ladder_fill(w, f, dir, p, now, &l);
	l.note = (uint8_t)note;
	if (ft_app.ladder_on) {
		if (!(f->fflags & FT_FLOW_F_LADDER) && ladder_match(m))
			f->fflags |= FT_FLOW_F_LADDER;
		if (f->fflags & FT_FLOW_F_LADDER)
			ft_ring_put(w, w->ladder, &l, sizeof(l), FT_CTR_EVENTS_DROPPED);
	}
	if (w->live_ladder_on)
		ft_requests_ladder_record(w, &l);
}

/* Flows ------------------------------------------------------------------- */

/* Make room in a full table: the oldest connection still in its handshake
 * goes (a SYN flood must not push out established connections). */
static bool
evict_one(struct ft_worker *w)
{
	struct ft_flow *victim = ft_flow_oldest_embryo(w->flows);

	if (victim == NULL)
		return false;
	write_record(w, victim, FT_END_EVICTED);
	ft_flow_remove(w->flows, victim);
	ft_flow_embryo_prefetch(w->flows);
	w->burst_evicted++;
	ft_stats_add(&w->stats, FT_CTR_FLOWS_EVICTED, 1);
	return true;
}

static struct ft_flow *
flow_create(struct ft_worker *w, const struct ft_pkt *p, const struct ft_flow_key *k, uint32_t sig,
	    unsigned int side, uint64_t now)
{
	const bool tcp = p->cls == FT_CLS_TCP;
	const bool syn = tcp && (p->tcp.flags & FT_TCP_SYN);
	uint8_t age;
	struct ft_flow *f;

	if (tcp && !syn && !ft_app.cfg.midstream) {
		ft_stats_add(&w->stats, FT_CTR_FLOWS_MIDSTREAM_SKIPPED, 1);
		return NULL;
	}
	age = tcp ? (syn ? FT_AGE_EMBRYONIC : FT_AGE_ESTABLISHED) :
	      p->cls == FT_CLS_UDP ? FT_FLOW_AGE_UDP : FT_FLOW_AGE_OTHER;
	/* Handshakes and one-sided non-TCP flows are what a full table sheds.
	 * No room for the hash in its buckets (a flood of crafted collisions)
	 * is another matter: evicting would not help. One eviction at most: it
	 * frees an entry, and the insert had already found a slot. */
	for (;;) {
		f = ft_flow_insert(w->flows, k, sig, now, age, syn || !tcp);
		if (f != NULL)
			break;
		if (rte_errno == ENOBUFS) {
			ft_stats_add(&w->stats, FT_CTR_FLOWS_BUCKET_FULL, 1);
			return NULL;
		}
		if (!evict_one(w)) {
			ft_stats_add(&w->stats, FT_CTR_FLOWS_TABLE_FULL, 1);
			return NULL;
		}
	}
	f->ip_ver = p->ip_ver;
	f->n_vlan = p->n_vlan;
	f->orig_side = (uint8_t)side;
	ft_stats_add(&w->stats, FT_CTR_FLOWS_CREATED, 1);
	if (tcp) {
		if (!ft_tcp_first_is_orig(p))
			f->orig_side = (uint8_t)(side ^ 1);
		ft_tcp_init(&f->tcp, p, true);
		f->fflags |= FT_FLOW_F_TCP;
		ft_stats_add(&w->stats, FT_CTR_FLOWS_TCP, 1);
	} else {
		ft_stats_add(&w->stats, p->cls == FT_CLS_UDP ? FT_CTR_FLOWS_UDP : FT_CTR_FLOWS_OTHER, 1);
	}
	return f;
}

/* The TCP direction (FT_TCP_ORIG or FT_TCP_RESP) of a packet from key side @p side. */
static inline unsigned int
flow_dir(const struct ft_flow *f, unsigned int side)
{
	return side == f->orig_side ? FT_TCP_ORIG : FT_TCP_RESP;
}

/*
 * Where a segment's payload is. A frame longer than one mbuf (a jumbo frame
 * from a port with scattered rx or from a capture, a host capture's 64 KiB
 * GRO frame, a reassembled datagram behind long L2 headers) comes in chained
 * mbufs: its payload is copied into the worker's buffer so that the
 * retransmission check and the signatures see all of its bytes, as they do a
 * one-mbuf frame's (they saw the first mbuf's, and called the rest a gap).
 * Rare, so a copy rather than teaching both consumers about chains.
 */
static inline void
payload_of(struct ft_worker *w, const struct rte_mbuf *m, const struct ft_pkt *p,
	   struct ft_tcp_payload *pl)
{
	uint32_t n;

	pl->data = rte_pktmbuf_mtod_offset(m, const uint8_t *, p->payload_off);
	if (likely(m->nb_segs == 1)) {
		pl->caplen = m->data_len > p->payload_off ? m->data_len - p->payload_off : 0;
		return;
	}
	n = m->pkt_len > p->payload_off ? m->pkt_len - p->payload_off : 0;
	n = RTE_MIN(n, (uint32_t)p->payload_len); /* at most 65535: the buffer's size */
	pl->caplen = n;
	if (n != 0)
		pl->data = rte_pktmbuf_read(m, p->payload_off, n, w->payload_buf);
}

/* The anomalies of one segment: every one counted, an event for the first
 * of its name on the flow (or for each, when the config asks). */
static __rte_always_inline void
emit_anomalies(struct ft_worker *w, const struct ft_flow *f, unsigned int dir,
	       const struct ft_pkt *p, const struct ft_tcp_result *r, uint64_t now)
{
	unsigned int i;

	for (i = 0; i < r->n; i++) {
		ft_stats_anomaly(&w->stats, r->a[i].type);
		if (r->a[i].first || ft_app.cfg.every_occurrence)
			emit_event(w, f, dir, p, &r->a[i], now);
	}
}

static void
track_tcp(struct ft_worker *w, struct ft_flow *f, unsigned int side, const struct ft_pkt *p,
	  const struct rte_mbuf *m, uint64_t now)
{
	struct ft_tcp_payload pl;
	struct ft_tcp_result r;
	unsigned int dir = flow_dir(f, side);

	payload_of(w, m, p, &pl);
	ft_tcp_track(&f->tcp, dir, p, &pl, w->segs, f->conn_id, &r);
	if (unlikely(r.verdict == FT_TCP_REUSE)) {
		/* Port reuse: the old connection's record is written now and a
		 * new connection starts in the same entry. */
		write_record(w, f, FT_END_NONE);
		ft_flow_renew(w->flows, f, now, true);
		f->sig_slot = FT_SIG_NONE; /* the new connection's bytes get new streams */
		f->orig_side = (uint8_t)side;
		ft_tcp_init(&f->tcp, p, true);
		dir = FT_TCP_ORIG;
		ft_stats_add(&w->stats, FT_CTR_FLOWS_PORT_REUSE, 1);
		ft_stats_add(&w->stats, FT_CTR_FLOWS_CREATED, 1);
		ft_stats_add(&w->stats, FT_CTR_FLOWS_TCP, 1);
		ft_tcp_track(&f->tcp, dir, p, &pl, w->segs, f->conn_id, &r);
	}
	emit_anomalies(w, f, dir, p, &r, now);
	/* Only bytes the receiver takes: a segment it drops (invalid flags,
	 * outside the window) carrying other bytes at the same seq first would
	 * otherwise be scanned instead of the real ones (an insertion). A SYN's
	 * data too: a host takes it only with a Fast Open cookie (RFC 7413);
	 * without one it drops it, and the sender sends the bytes again once
	 * established (or, inserting, other bytes). */
	if (w->sig != NULL && p->payload_len != 0 && !r.dropped &&
	    (!(p->tcp.flags & FT_TCP_SYN) || p->tcp.tfo_cookie))
		sig_feed(w, f, dir, p, &pl, now);
	/* A server that refuses a Fast Open SYN's data (a bogus or stale
	 * cookie) acknowledges the SYN alone: its peer sends those bytes
	 * again, or other bytes there, and they are what the server reads. */
	if (unlikely(r.obs & FT_TCP_OBS_SERVER_ISN) && w->sig != NULL)
		ft_sig_flow_unscan(w->sig, f->sig_slot, dir ^ 1, p->tcp.ack);
	if (unlikely(r.obs != 0) && w->observe != NULL) {
		if (r.obs & FT_TCP_OBS_SYN)
			observe(w, p, dir, FT_OBS_SYN, 0, now);
		if (r.obs & FT_TCP_OBS_SERVER_ISN)
			observe(w, p, dir, FT_OBS_SERVER_ISN, p->tcp.seq, now);
		if (r.obs & FT_TCP_OBS_ESTABLISHED) {
			/* Sent by the client: the server is its receiver. */
			observe(w, p, dir, FT_OBS_ESTABLISHED, 0, now);
		}
	}
	if ((f->fflags & FT_FLOW_F_EMBRYO) && !ft_tcp_is_embryonic(&f->tcp))
		ft_flow_embryo_leave(w->flows, f);
	/* The fast path moves no state: the ageing class set last time stands. */
	if (!r.fast)
		ft_flow_set_age(w->flows, f,
				((f->tcp.cflags & FT_TCPC_FINISHED) && !(f->fflags & FT_FLOW_F_RECORD_DONE)) ?
				(uint8_t)FT_FLOW_AGE_LINGER : (uint8_t)ft_tcp_age_class(&f->tcp));
	if (unlikely(ft_app.ladder_on | w->live_ladder_on))
		ladder_record(w, f, dir, p, m, now, FT_LADDER_NOTE_NONE);
}

/* Checksums ------------------------------------------------------------------ */

/* The checksum verdicts of one burst's TCP segments, counted once per burst. */
struct csum_counts {
	uint32_t bad, partial, unchecked;
};

/*
 * Would a host take this TCP segment, by its checksum ([general] checksums)?
 * The NIC's "good" stands, except on a datagram reassembled here (its flags
 * are no NIC's). Anything else is summed in software: the pseudo-header, the
 * header and every payload byte (lib/decode: about a third of an instruction
 * per byte, and some 80 per segment).
 * @return true when the host drops it; *expected is then the right checksum
 */
static inline bool
tcp_csum_bad(const struct rte_mbuf *m, const struct ft_pkt *p, struct csum_counts *cc,
	     uint16_t *expected)
{
	enum ft_csum_result r;

	if (ft_app.cfg.checksums == FT_CSUMS_OFF)
		return false;
	if ((m->ol_flags & (RTE_MBUF_F_RX_L4_CKSUM_MASK | ft_app.reasm_flag)) ==
	    RTE_MBUF_F_RX_L4_CKSUM_GOOD)
		return false;
	r = ft_decode_tcp_csum(m, p, expected);
	if (likely(r == FT_CSUM_GOOD))
		return false;
	if (r == FT_CSUM_UNCHECKED) {
		cc->unchecked++;
		return false;
	}
	if (r == FT_CSUM_PARTIAL && m->port < FT_MAX_PORTS && ft_app.csum_partial_ok[m->port]) {
		cc->partial++;
		return false;
	}
	cc->bad++;
	return true;
}

static void
csum_counts_add(struct ft_worker *w, const struct csum_counts *cc)
{
	if (likely((cc->bad | cc->partial | cc->unchecked) == 0))
		return;
	ft_stats_add(&w->stats, FT_CTR_TCP_BAD_CHECKSUM, cc->bad);
	ft_stats_add(&w->stats, FT_CTR_TCP_CHECKSUM_PARTIAL, cc->partial);
	ft_stats_add(&w->stats, FT_CTR_TCP_CHECKSUM_UNCHECKED, cc->unchecked);
}

/* A segment of a connection we follow that its receiver drops for its
 * checksum: nothing of it is tracked, not even the flow's last-seen time (a
 * stream of such segments must not keep a dead flow alive). */
static void
track_bad_checksum(struct ft_worker *w, struct ft_flow *f, unsigned int side,
		   const struct ft_pkt *p, const struct rte_mbuf *m, uint16_t expected, uint64_t now)
{
	struct ft_tcp_result r;
	const unsigned int dir = flow_dir(f, side);

	ft_tcp_bad_checksum(&f->tcp, dir, p, expected, &r);
	emit_anomalies(w, f, dir, p, &r, now);
	/* On the ladder, marked: an injection attempt is what a person
	 * reading it wants to see. */
	if (unlikely(ft_app.ladder_on | w->live_ladder_on))
		ladder_record(w, f, dir, p, m, now, FT_LADDER_NOTE_BAD_CHECKSUM);
}

/* Flows, per burst ----------------------------------------------------------- */

void
ft_track_burst(struct ft_worker *w, struct rte_mbuf **m, const struct ft_pkt *meta, unsigned int n)
{
	struct ft_flow_key keys[FT_MAX_BURST];
	const struct ft_flow_key *kp[FT_MAX_BURST];
	struct ft_flow *flows[FT_MAX_BURST];
	uint32_t sigs[FT_MAX_BURST];
	uint8_t side[FT_MAX_BURST], which[FT_MAX_BURST], bad[FT_MAX_BURST];
	uint16_t expected[FT_MAX_BURST];
	struct csum_counts cc = { 0, 0, 0 };
	unsigned int i, j, k = 0, made = 0;

	for (i = 0; i < n; i++) {
		const struct ft_pkt *p = &meta[i];

		/* TCP, UDP, ICMP and other IP have flows; fragments wait for
		 * reassembly, the rest has none. */
		if (p->cls > FT_CLS_OTHER_IP)
			continue;
		bad[k] = p->cls == FT_CLS_TCP && tcp_csum_bad(m[i], p, &cc, &expected[k]);
		side[k] = (uint8_t)ft_flow_key_make(p, &keys[k]);
		kp[k] = &keys[k];
		sigs[k] = p->hash;
		which[k] = (uint8_t)i;
		k++;
	}
	if (k == 0)
		return;
	ft_flow_lookup_bulk(w->flows, kp, sigs, k, flows);
	/* The segment cache's slots of the burst's data segments. */
	for (j = 0; j < k; j++) {
		const struct ft_flow *f = flows[j];
		const struct ft_pkt *p = &meta[which[j]];

		if (f != NULL && p->payload_len != 0 && (f->fflags & FT_FLOW_F_TCP))
			ft_tcp_segcache_prefetch(w->segs, f->conn_id, flow_dir(f, side[j]),
						 p->tcp.seq);
	}
	w->burst_evicted = 0;
	for (j = 0; j < k; j++) {
		const struct ft_pkt *p = &meta[which[j]];
		const uint64_t now = ft_pkt_time(w, m[which[j]]);
		struct ft_flow *f = flows[j];

		if (now > w->now_ns)
			w->now_ns = now;
		/* Since the bulk lookup, this burst may have created the flow;
		 * and an eviction frees an entry that the next creation takes,
		 * so an entry found before it may now be another flow's. */
		if ((f == NULL && made != 0) || unlikely(w->burst_evicted != 0))
			f = ft_flow_lookup(w->flows, &keys[j], sigs[j]);
		if (unlikely(bad[j])) {
			/* No flow is made for it: its receiver never saw it. */
			if (f != NULL && (f->fflags & FT_FLOW_F_TCP))
				track_bad_checksum(w, f, side[j], p, m[which[j]], expected[j], now);
			continue;
		}
		if (f == NULL) {
			f = flow_create(w, p, &keys[j], sigs[j], side[j], now);
			if (f == NULL)
				continue; /* counted; the packet is still in its class */
			made++;
		}
		if (f->fflags & FT_FLOW_F_TCP) {
			track_tcp(w, f, side[j], p, m[which[j]], now);
		} else if (side[j] != f->orig_side && !(f->fflags & FT_FLOW_F_REPLIED)) {
			f->fflags |= FT_FLOW_F_REPLIED;
			ft_flow_embryo_leave(w->flows, f);
		}
		/* After tracking: a port reuse wrote the old record with its own
		 * last packet's time. */
		if (now > f->last_ns)
			f->last_ns = now;
	}
	if (w->obs_n != 0)
		obs_flush(w);
	csum_counts_add(w, &cc);
	ft_stats_set(&w->stats, FT_CTR_FLOWS_ACTIVE, ft_flow_count(w->flows));
}

/* Ageing and exit ------------------------------------------------------------ */

static enum ft_flow_expiry
on_expire(struct ft_flow *f, void *arg)
{
	struct ft_worker *w = arg;

	if ((f->fflags & FT_FLOW_F_TCP) && (f->tcp.cflags & FT_TCPC_FINISHED) &&
	    !(f->fflags & FT_FLOW_F_RECORD_DONE)) {
		/* Its linger is over: the record goes out, the entry stays for
		 * TIME_WAIT (or the closed timeout) to recognise late packets. */
		write_record(w, f, FT_END_NONE);
		f->age = (uint8_t)ft_tcp_age_class(&f->tcp);
		return FT_FLOW_KEEP;
	}
	write_record(w, f, FT_END_TIMEOUT);
	ft_stats_add(&w->stats, FT_CTR_FLOWS_EXPIRED, 1);
	return FT_FLOW_FREE;
}

void
ft_track_age(struct ft_worker *w)
{
	if (!ft_app.offline)
		w->now_ns = live_now_ns();
	if (ft_flow_age(w->flows, w->now_ns, FT_AGE_BUDGET, on_expire, w) != 0)
		ft_stats_set(&w->stats, FT_CTR_FLOWS_ACTIVE, ft_flow_count(w->flows));
}

static enum ft_flow_expiry
on_exit_flush(struct ft_flow *f, void *arg)
{
	write_record(arg, f, FT_END_EXIT);
	return FT_FLOW_FREE;
}

/* flows.active keeps the flows the table held when the input ended: the
 * final counters' reader wants that, not the 0 that emptying it leaves. */
void
ft_track_flush(struct ft_worker *w)
{
	ft_stats_set(&w->stats, FT_CTR_FLOWS_ACTIVE, ft_flow_flush(w->flows, on_exit_flush, w));
}

int
ft_track_create(struct ft_app *app, struct ft_worker *w)
{
	struct ft_flow_table_params prm;
	char name[32];

	memset(&prm, 0, sizeof(prm));
	snprintf(name, sizeof(name), "ft_flows_%u", w->idx);
	prm.name = name;
	prm.max_flows = (uint32_t)ft_track_flows_per_worker(app);
	prm.socket = w->socket;
	prm.timeout_s[FT_AGE_EMBRYONIC] = app->cfg.timeout_embryonic;
	prm.timeout_s[FT_AGE_ESTABLISHED] = app->cfg.timeout_established;
	prm.timeout_s[FT_AGE_CLOSING] = app->cfg.timeout_closing;
	prm.timeout_s[FT_AGE_TIME_WAIT] = 2 * app->cfg.msl;
	prm.timeout_s[FT_AGE_CLOSED] = app->cfg.timeout_closed;
	prm.timeout_s[FT_FLOW_AGE_LINGER] = app->cfg.close_linger;
	prm.timeout_s[FT_FLOW_AGE_UDP] = app->cfg.timeout_udp;
	prm.timeout_s[FT_FLOW_AGE_OTHER] = app->cfg.timeout_other;
	w->flows = ft_flow_table_create(&prm);
	if (w->flows == NULL)
		return ft_fail("cannot allocate a flow table of %u flows on node %d: %s "
			       "(lower [flows] max, or give more memory)",
			       prm.max_flows, w->socket, rte_strerror(rte_errno));
	w->payload_buf = rte_malloc_socket("ft_payload", FT_PAYLOAD_BUF, 0, w->socket);
	if (w->payload_buf == NULL)
		return ft_fail("cannot allocate a worker's %u-byte payload buffer on node %d",
			       FT_PAYLOAD_BUF, w->socket);
	w->segs = ft_tcp_segcache_create(app->cfg.segment_cache, w->socket);
	if (w->segs == NULL)
		return ft_fail("cannot allocate a segment cache of %u slots: %s",
			       app->cfg.segment_cache, rte_strerror(rte_errno));
	if (app->sig != NULL) {
		struct ft_sig_worker_params sp = sig_params(app, w);

		w->sig = ft_sig_worker_create(app->sig, &sp);
		if (w->sig == NULL)
			return ft_fail("cannot allocate signature state for %u streams "
				       "(%" PRIu64 " bytes) on node %d: %s (lower [signatures] streams)",
				       sp.streams, ft_sig_worker_memory(app->sig, &sp), w->socket,
				       rte_strerror(rte_errno));
		app->winfo[w->idx].sig = w->sig;
	}
	if (!app->offline)
		w->now_ns = live_now_ns();
	return 0;
}

void
ft_track_free(struct ft_worker *w)
{
	ft_flow_table_free(w->flows);
	ft_tcp_segcache_free(w->segs);
	ft_sig_worker_free(w->sig);
	rte_free(w->payload_buf);
	w->payload_buf = NULL;
	w->flows = NULL;
	w->segs = NULL;
	w->sig = NULL;
}
