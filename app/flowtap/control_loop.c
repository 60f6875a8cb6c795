/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control lcore: drains the workers' event rings into the event log
 * (and the control socket's recent events), prints the periodic status
 * line, notices the end of a capture or a signal, steps the workers through
 * drain and stop, and writes the final counters.
 * It only reads the workers' counters (relaxed loads): no shared writes.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ring_elem.h>

#include "flowtap.h"
#include "ft_json.h"

#define FT_EVENT_DRAIN_BURST 64
/* Offline: a capture that yields nothing new for this long, while its
 * workers keep polling, is over. */
#define FT_OFFLINE_STALL_S 5
/* ... and one that yields nothing for this long is over whatever the
 * workers do (a worker that stopped polling must not hang the analysis). */
#define FT_OFFLINE_HANG_S 60
/* A control loop pass this much later than the last (its naps are 1 ms at
 * most) means this lcore was kept off its CPU: that time is not counted
 * towards a stall. */
#define FT_OFFLINE_AWAY_MS 100
/* Events and flow records reach their files (or stdout) at most this long
 * after they were drained: someone may be following them (tail -f, a log
 * shipper), and stdio would hold them until a 4 KiB buffer filled, which a
 * quiet link may take hours to do, or until exit. */
#define FT_OUTPUT_FLUSH_MS 200

static void
write_event(struct ft_app *app, const struct ft_event *ev)
{
	/* For /flowtap/events and /flowtap/anomalies. */
	ft_control_event_record(ev);
	if (app->events_out != NULL)
		ft_event_write_json(app->events_out, ev, ft_tcp_state_name);
}

/* The detectors' own counters into the control lcore's stats: once per
 * drain of the observation rings, not per observation (offline, the control
 * lcore also reads the capture, and is the slower stage). */
static void
detect_counters_sync(struct ft_app *app)
{
	struct ft_detect_counters dc;

	if (app->detect == NULL)
		return;
	ft_detect_counters(app->detect, &dc);
	ft_stats_set(&app->control_stats, FT_CTR_DETECT_OBSERVATIONS, dc.observations);
	ft_stats_set(&app->control_stats, FT_CTR_DETECT_HOSTS, dc.hosts);
	ft_stats_set(&app->control_stats, FT_CTR_DETECT_HOSTS_EVICTED, dc.hosts_evicted);
}

/* The cross-flow detectors run here, on the workers' observations. */
static void
run_detectors(struct ft_app *app, const struct ft_obs *o)
{
	struct ft_event ev[4];
	unsigned int i, n;

	if (app->detect == NULL)
		return;
	n = ft_detect_observe(app->detect, o, ev, RTE_DIM(ev));
	for (i = 0; i < n; i++) {
		ft_stats_anomaly(&app->control_stats, ev[i].type);
		ft_stats_add(&app->control_stats, FT_CTR_EVENTS_EMITTED, 1);
		write_event(app, &ev[i]);
	}
}

/*
 * Offline, the detectors judge a capture's observations in capture-time
 * order whatever the number of workers. One worker's observations come in
 * capture order: they are judged at once. With several, the rings interleave
 * by when the control lcore drains them, so the observations are held (at
 * most [detect] reorder of them, allocated once) and judged sorted once the
 * workers are done; when the buffer fills, its older half is judged early
 * (detect.reordered_early). Live they are judged as they come.
 */
static struct {
	struct ft_obs *v;
	size_t n, cap;
} obs_backlog;

/* Allocated once at start-up when it is wanted (offline, several workers). */
int
ft_detect_backlog_setup(struct ft_app *app)
{
	if (!app->offline || app->n_workers == 1)
		return 0;
	obs_backlog.v = malloc((size_t)app->cfg.detect_reorder * sizeof(*obs_backlog.v));
	if (obs_backlog.v == NULL)
		return ft_fail("cannot allocate the detectors' reorder buffer of %u observations "
			       "(lower [detect] reorder)", app->cfg.detect_reorder);
	obs_backlog.cap = app->cfg.detect_reorder;
	return 0;
}

/* Capture time first; the rest of the record breaks ties, so the order is total. */
static int
obs_cmp(const void *a, const void *b)
{
	const struct ft_obs *x = a, *y = b;

	if (x->ts_ns != y->ts_ns)
		return x->ts_ns < y->ts_ns ? -1 : 1;
	return memcmp(&x->kind, &y->kind, sizeof(*x) - offsetof(struct ft_obs, kind));
}

/* Judge the @p n oldest held observations, keep the rest. */
static void
backlog_judge(struct ft_app *app, size_t n)
{
	size_t i;

	if (obs_backlog.n == 0)
		return; /* nothing held (qsort must not get a null array) */
	qsort(obs_backlog.v, obs_backlog.n, sizeof(obs_backlog.v[0]), obs_cmp);
	for (i = 0; i < n; i++)
		run_detectors(app, &obs_backlog.v[i]);
	detect_counters_sync(app);
	memmove(obs_backlog.v, obs_backlog.v + n, (obs_backlog.n - n) * sizeof(obs_backlog.v[0]));
	obs_backlog.n -= n;
}

static void
observe(struct ft_app *app, const struct ft_obs *o)
{
	if (obs_backlog.v == NULL) {
		run_detectors(app, o);
		return;
	}
	if (obs_backlog.n == obs_backlog.cap) {
		ft_stats_add(&app->control_stats, FT_CTR_DETECT_REORDERED_EARLY, obs_backlog.n / 2);
		backlog_judge(app, obs_backlog.n / 2);
	}
	obs_backlog.v[obs_backlog.n++] = *o;
}

static void
observe_backlog_flush(struct ft_app *app)
{
	backlog_judge(app, obs_backlog.n);
	free(obs_backlog.v);
	memset(&obs_backlog, 0, sizeof(obs_backlog));
}

/* Take what one ring holds, in bursts, handing each item to @p fn; adds the
 * items taken to `drained`. */
#define DRAIN_RING(ring, type, fn)                                                    \
	do {                                                                          \
		type items_[FT_EVENT_DRAIN_BURST];                                    \
		unsigned int n_, i_;                                                  \
		do {                                                                  \
			n_ = rte_ring_sc_dequeue_burst_elem((ring), items_, sizeof(items_[0]), \
							    RTE_DIM(items_), NULL);   \
			for (i_ = 0; i_ < n_; i_++)                                   \
				fn;                                                   \
			drained += n_;                                                \
		} while (n_ == RTE_DIM(items_));                                      \
	} while (0)

/* Everything the workers sent: events, flow records, observations, ladder
 * lines. @return the items taken */
static unsigned int
drain_events(struct ft_app *app)
{
	unsigned int w, drained = 0, before;

	for (w = 0; w < app->n_workers; w++) {
		struct ft_worker *wk = app->workers[w];

		DRAIN_RING(wk->events, struct ft_event, write_event(app, &items_[i_]));
		before = drained;
		DRAIN_RING(wk->observe, struct ft_obs, observe(app, &items_[i_]));
		if (drained != before)
			detect_counters_sync(app);
		if (wk->records != NULL)
			DRAIN_RING(wk->records, struct ft_flow_record,
				   ft_flow_record_write_json(app->flow_log_out, &items_[i_]));
		if (wk->ladder != NULL)
			DRAIN_RING(wk->ladder, struct ft_ladder_line,
				   ft_ladder_print(app, &items_[i_], stdout));
	}
	return drained;
}

static void
flush_outputs(const struct ft_app *app)
{
	if (app->events_out != NULL)
		fflush(app->events_out);
	if (app->flow_log_out != NULL)
		fflush(app->flow_log_out);
	fflush(stdout); /* '-' outputs and ladder lines */
}

static bool
workers_flushed(const struct ft_app *app)
{
	unsigned int i;

	for (i = 0; i < app->n_workers; i++)
		if (!__atomic_load_n(&app->workers[i]->flushed, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

static void
sum_stats(const struct ft_app *app, struct ft_stats *out)
{
	struct ft_stats *blocks[FT_MAX_WORKERS + 1];
	unsigned int i;

	for (i = 0; i < app->n_workers; i++)
		blocks[i] = &app->workers[i]->stats;
	blocks[i] = (struct ft_stats *)&app->control_stats;
	ft_stats_sum(out, blocks, app->n_workers + 1);
}

static uint64_t
sum_ctr(const struct ft_app *app, enum ft_ctr id)
{
	uint64_t t = 0;
	unsigned int i;

	for (i = 0; i < app->n_workers; i++)
		t += __atomic_load_n(&app->workers[i]->stats.ctr[id], __ATOMIC_RELAXED);
	return t;
}

/* The workers' loop counts, now. */
static void
iterations_now(const struct ft_app *app, uint64_t *it)
{
	unsigned int i;

	for (i = 0; i < app->n_workers; i++)
		it[i] = __atomic_load_n(&app->workers[i]->stats.ctr[FT_CTR_ITERATIONS],
					__ATOMIC_ACQUIRE);
}

/* Whether every worker ran two whole loops since @p it (iterations_now()):
 * it finished whatever it held then (quiescence), and offline, a worker that
 * polled and found nothing shows a stalled capture where one kept off its
 * CPU (an overloaded machine, valgrind) is only slow. */
static bool
workers_polled_since(const struct ft_app *app, const uint64_t *it)
{
	uint64_t now[FT_MAX_WORKERS];
	unsigned int i;

	iterations_now(app, now);
	for (i = 0; i < app->n_workers; i++)
		if (now[i] < it[i] + 2)
			return false;
	return true;
}

/*
 * True when no packet is in flight between workers: during an interval in
 * which every worker completed two whole iterations (so any packet it held at
 * the start was finished, and its hand-over done), nothing was handed over or
 * taken, and everything handed over was taken.
 */
static bool
workers_quiescent(struct ft_app *app)
{
	uint64_t it0[FT_MAX_WORKERS];
	uint64_t out0, in0, out1, in1;
	uint64_t deadline = rte_get_tsc_cycles() + app->tsc_hz; /* 1 s */

	iterations_now(app, it0);
	out0 = sum_ctr(app, FT_CTR_HANDOFF_OUT) + sum_ctr(app, FT_CTR_HANDOFF_TX_OUT);
	in0 = sum_ctr(app, FT_CTR_HANDOFF_IN) + sum_ctr(app, FT_CTR_HANDOFF_TX_IN);
	while (!workers_polled_since(app, it0)) {
		if (rte_get_tsc_cycles() > deadline)
			return false;
		rte_pause();
	}
	out1 = sum_ctr(app, FT_CTR_HANDOFF_OUT) + sum_ctr(app, FT_CTR_HANDOFF_TX_OUT);
	in1 = sum_ctr(app, FT_CTR_HANDOFF_IN) + sum_ctr(app, FT_CTR_HANDOFF_TX_IN);
	return out0 == out1 && in0 == in1 && out1 == in1;
}

static void
status_line(struct ft_app *app, uint64_t *last_rx, uint64_t *last_tsc)
{
	struct ft_stats s;
	uint64_t now = rte_get_tsc_cycles();
	double dt = (double)(now - *last_tsc) / (double)app->tsc_hz;

	sum_stats(app, &s);
	fprintf(stderr,
		"flowtap: %.3f Mpps, rx %" PRIu64 ", flows %" PRIu64 ", malformed %" PRIu64
		", drops: rx %" PRIu64 " handoff %" PRIu64 " tx %" PRIu64 " events %" PRIu64 "\n",
		dt > 0 ? (double)(s.ctr[FT_CTR_RX] - *last_rx) / dt / 1e6 : 0.0, s.ctr[FT_CTR_RX],
		s.ctr[FT_CTR_FLOWS_ACTIVE], ft_stats_malformed_total(&s), ft_ports_rx_lost(app),
		s.ctr[FT_CTR_HANDOFF_FULL], s.ctr[FT_CTR_TX_FAILED], s.ctr[FT_CTR_EVENTS_DROPPED]);
	*last_rx = s.ctr[FT_CTR_RX];
	*last_tsc = now;
}

int
ft_control_loop(struct ft_app *app)
{
	const uint64_t hz = app->tsc_hz;
	uint64_t last_status = rte_get_tsc_cycles(), status_rx = 0;
	uint64_t progress_rx = 0, progress_tsc = last_status, last_pass = last_status;
	uint64_t progress_it[FT_MAX_WORKERS] = { 0 };
	uint64_t start = last_status, last_flush = last_status;
	bool unflushed = false;
	/* Live, the control lcore may share a CPU with a worker (or with the
	 * sender of a benchmark): it naps after each drain unless the rings
	 * were filling (a quarter of the smallest, which a 1 ms nap leaves far
	 * from full at any rate the workers can produce); a busy loop there
	 * would take half the CPU from the worker it shares with. Offline it
	 * reads the capture for the workers (reader.c), as a poll-mode lcore,
	 * napping only while every worker has half a feed of frames queued or
	 * the capture is all read, and nothing was drained (a worker waits for
	 * room in its rings there). */
	const unsigned int smallest_ring = RTE_MIN(app->cfg.event_ring, app->cfg.record_ring);
	const unsigned int busy_mark = RTE_MIN(smallest_ring, app->cfg.observe_ring) / 4;

	for (;;) {
		uint64_t now = rte_get_tsc_cycles();
		int state = __atomic_load_n(&app->run_state, __ATOMIC_RELAXED);
		/* Offline: read ahead while running; once draining, only pass
		 * on what was read. */
		const bool reading = state == FT_RUN && ft_reader_on(app);
		const unsigned int read = ft_reader_poll(app, reading);
		/* Rings that had items are looked at again at once: a worker
		 * waiting for room (offline) or dropping (live) must not wait for
		 * the control lcore's nap. */
		const unsigned int drained = drain_events(app);

		unflushed |= drained != 0;
		if (unflushed && now - last_flush >= FT_OUTPUT_FLUSH_MS * hz / 1000) {
			flush_outputs(app);
			unflushed = false;
			last_flush = now;
		}

		if (state == FT_RUN) {
			bool stop = ft_signal_received != 0;

			/* A stream has no size until it ends, and a slow
			 * one (tcpdump -w - | flowtap --pcap -) is not a
			 * stalled one: it ends with its writer. */
			if (app->offline && !stop && app->capture_packets != UINT64_MAX) {
				uint64_t seen = sum_ctr(app, FT_CTR_RX) + ft_ports_rx_lost(app);

				/* This lcore reads the capture (or watches who
				 * does): time it was away is nobody's stall. */
				if (now - last_pass > FT_OFFLINE_AWAY_MS * hz / 1000)
					progress_tsc += now - last_pass;
				if (seen >= app->capture_packets) {
					stop = true;
				} else if (seen != progress_rx) {
					progress_rx = seen;
					progress_tsc = now;
					iterations_now(app, progress_it);
				} else if (now - progress_tsc > FT_OFFLINE_STALL_S * hz &&
					   (workers_polled_since(app, progress_it) ||
					    now - progress_tsc > FT_OFFLINE_HANG_S * hz)) {
					fprintf(stderr,
						"flowtap: warning: capture stalled after %" PRIu64 " of %" PRIu64 " frames\n",
						seen, app->capture_packets);
					stop = true;
				}
			}
			if (stop)
				__atomic_store_n(&app->run_state, FT_DRAIN, __ATOMIC_RELEASE);
			else if (!app->offline && app->cfg.status_interval != 0 &&
				 now - last_status >= app->cfg.status_interval * hz)
				status_line(app, &status_rx, &last_status);
			last_pass = now;
		} else if (state == FT_DRAIN) {
			if (ft_reader_idle(app) && workers_quiescent(app)) {
				/* Queries need the workers' loop: none from now on. */
				ft_control_stop_queries();
				__atomic_store_n(&app->run_state, FT_STOP, __ATOMIC_RELEASE);
				break;
			}
		}
		if (reading && drained == 0 && ft_reader_waiting(app))
			usleep(100); /* a stream with nothing new: its writer is slower */
		else if (reading && (drained != 0 || !ft_reader_ahead(app)))
			rte_pause();
		else if (reading)
			usleep(50); /* the workers have work queued (or all is
				     * read): a CPU shared with one is left to it */
		else if (drained + read == 0 || (!app->offline && drained < busy_mark))
			usleep(state == FT_RUN ? 1000 : 100);
	}
	/* The workers write the records of every open connection as they
	 * leave: keep draining until they are all done. */
	while (!workers_flushed(app)) {
		drain_events(app);
		usleep(100);
	}
	rte_eal_mp_wait_lcore();
	drain_events(app);
	observe_backlog_flush(app);
	/* The workers are gone: the requests they might still have held too. */
	ft_control_release();
	app->duration_s = (double)(rte_get_tsc_cycles() - start) / (double)hz;
	return 0;
}

static void
write_ports_json(struct ft_app *app, FILE *f)
{
	unsigned int p;

	fputs("  \"ports\": [", f);
	for (p = 0; p < app->n_ports; p++) {
		const struct ft_port_info *pi = &app->pinfo[p];
		struct rte_eth_stats st;

		memset(&st, 0, sizeof(st));
		ft_port_stats(app, p, &st);
		fprintf(f, "%s\n    {\"port\": %u, \"name\": ", p ? "," : "", pi->port_id);
		ft_json_str(f, pi->name);
		fprintf(f, ", \"driver\": ");
		ft_json_str(f, pi->driver);
		fprintf(f, ", \"socket\": %d, \"rx_queues\": %u, \"tx_queues\": %u, \"peer\": %d, \"rss\": %s, "
			"\"ipackets\": %" PRIu64 ", \"opackets\": %" PRIu64 ", \"imissed\": %" PRIu64
			", \"ierrors\": %" PRIu64 ", \"rx_nombuf\": %" PRIu64 ", \"oerrors\": %" PRIu64 "}",
			pi->socket, pi->n_rxq, pi->n_txq, pi->peer, pi->rss ? "true" : "false",
			st.ipackets, st.opackets, st.imissed, st.ierrors, st.rx_nombuf, st.oerrors);
	}
	fputs("\n  ],\n", f);
}

static void
write_workers_json(struct ft_app *app, FILE *f)
{
	unsigned int i, q;

	fputs("  \"workers\": [", f);
	for (i = 0; i < app->n_workers; i++) {
		const struct ft_worker_info *wi = &app->winfo[i];
		const struct ft_stats *s = wi->stats;

		fprintf(f, "%s\n    {\"lcore\": %u, \"socket\": %d, \"remote_numa\": %s, \"queues\": [",
			i ? "," : "", wi->lcore, wi->socket, wi->remote_numa ? "true" : "false");
		for (q = 0; q < wi->n_rxq; q++)
			fprintf(f, "%s[%u, %u]", q ? ", " : "", wi->rxq[q].port, wi->rxq[q].queue);
		fprintf(f, "], \"rx\": %" PRIu64 ", \"handoff_out\": %" PRIu64 ", \"handoff_in\": %" PRIu64
			", \"handoff_full\": %" PRIu64 ", \"busy_iterations\": %" PRIu64 "}",
			s->ctr[FT_CTR_RX], s->ctr[FT_CTR_HANDOFF_OUT], s->ctr[FT_CTR_HANDOFF_IN],
			s->ctr[FT_CTR_HANDOFF_FULL], s->ctr[FT_CTR_BUSY_ITERATIONS]);
	}
	fputs("\n  ],\n", f);
}

/* Every mempool after the drain: an object not back home is a leak of the
 * pipeline (written only once the ports are stopped, at exit). */
static void
write_mempools_json(const struct ft_app *app, FILE *f)
{
	unsigned int i;

	if (!app->ports_stopped)
		return;
	fputs("  \"mempools\": {", f);
	for (i = 0; i < app->n_mempools; i++) {
		fputs(i ? ", " : "", f);
		ft_json_str(f, app->mempool[i].name);
		fprintf(f, ": {\"size\": %" PRIu32 ", \"in_use_at_exit\": %" PRIu32 "}",
			app->mempool[i].size, app->mempool[i].in_use);
	}
	fprintf(f, "},\n  \"mempools_ok\": %s,\n", ft_mempools_ok(app) ? "true" : "false");
}

/* Matches of rule @p r summed over the workers (each the only writer of its own). */
static uint64_t
sig_rule_matches(const struct ft_app *app, unsigned int r)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < app->n_workers; i++)
		n += ft_sig_worker_rule_matches(app->workers[i]->sig, r);
	return n;
}

/* "signatures": {..., "by_rule": {"<id>": matches, ...}}, every rule in file order. */
static void
stats_json_group_extra(FILE *f, const char *group, int indent, void *arg)
{
	struct ft_app *app = arg;
	unsigned int r, n = ft_sig_rule_count(app->sig);

	if (strcmp(group, "signatures") != 0)
		return;
	fprintf(f, ",\n%*s\"by_rule\": {", indent, "");
	for (r = 0; r < n; r++)
		fprintf(f, "%s\n%*s\"%" PRIu32 "\": %" PRIu64, r ? "," : "", indent + 2, "",
			ft_sig_rule_at(app->sig, r)->id, sig_rule_matches(app, r));
	if (n != 0)
		fprintf(f, "\n%*s", indent, "");
	fputc('}', f);
}

int
ft_write_stats_json(struct ft_app *app, FILE *f)
{
	struct ft_stats s;

	sum_stats(app, &s);
	fprintf(f, "{\n  \"version\": \"" FT_VERSION "\",\n  \"mode\": \"%s\",\n", ft_mode_name(app->cfg.mode));
	if (app->offline) {
		uint64_t lost = ft_ports_rx_lost(app);
		/* A stream stopped before its end has no known size: what
		 * was read of it, and not complete. */
		const bool cut = app->capture_packets == UINT64_MAX;
		const uint64_t packets = cut ? ft_reader_frames_read(app) : app->capture_packets;

		fputs("  \"capture\": {\"file\": ", f);
		ft_json_str(f, app->opt.pcap_path);
		fprintf(f, ", \"packets\": %" PRIu64 ", \"lost_before_rx\": %" PRIu64 ", \"complete\": %s},\n",
			packets, lost, !cut && s.ctr[FT_CTR_RX] + lost == packets ? "true" : "false");
	}
	fprintf(f, "  \"duration_s\": %.6f,\n", app->duration_s);
	write_ports_json(app, f);
	write_workers_json(app, f);
	write_mempools_json(app, f);
	ft_stats_write_json_members_ext(f, &s, 2, stats_json_group_extra, app);
	fputs("\n}\n", f);
	fflush(f);
	return ferror(f) ? -1 : 0;
}

/* The checksum verdicts, when there are any; and when wrong sums are common
 * in a capture, the likely reason (a host drops what flowtap set aside here,
 * but a capture rewritten or anonymised without fixing its sums is not
 * what a host got). */
static void
print_checksums(const struct ft_app *app, const struct ft_stats *s, FILE *f)
{
	const uint64_t ip_bad = s->malformed[FT_MAL_IP4_BAD_CHECKSUM];
	const uint64_t bad = ip_bad + s->ctr[FT_CTR_TCP_BAD_CHECKSUM];
	const uint64_t ip = s->ctr[FT_CTR_TCP] + s->ctr[FT_CTR_UDP] + s->ctr[FT_CTR_ICMP] +
			    s->ctr[FT_CTR_OTHER_IP] + s->ctr[FT_CTR_FRAGMENT] + ip_bad;

	if (bad + s->ctr[FT_CTR_TCP_CHECKSUM_PARTIAL] + s->ctr[FT_CTR_TCP_CHECKSUM_UNCHECKED] == 0)
		return;
	fprintf(f, "  checksums (%s): ip4 header wrong %" PRIu64 ", tcp wrong %" PRIu64
		", tcp partial (offload) %" PRIu64 ", tcp not all captured %" PRIu64 "\n",
		ft_checksums_name(app->cfg.checksums), ip_bad, s->ctr[FT_CTR_TCP_BAD_CHECKSUM],
		s->ctr[FT_CTR_TCP_CHECKSUM_PARTIAL], s->ctr[FT_CTR_TCP_CHECKSUM_UNCHECKED]);
	if (app->offline && bad * 10 >= ip && bad >= 10)
		fprintf(f, "  note: %" PRIu64 " of %" PRIu64 " IP packets carry wrong checksums and were not "
			"analysed, as a host drops them; a capture rewritten or anonymised without fixing "
			"them? --set general.checksums=off takes every packet as it is\n", bad, ip);
}

void
ft_print_summary(struct ft_app *app, FILE *f)
{
	struct ft_stats s;
	unsigned int i, n_anom = 0;

	sum_stats(app, &s);
	if (app->offline)
		fprintf(f, "flowtap: %s: %" PRIu64 " frames %s in %.3f s (%.3f Mpps) by %u worker%s\n",
			app->opt.pcap_path, s.ctr[FT_CTR_RX],
			!ft_reader_on(app) ? "read (pcap PMD)" :
			app->capture_native ? "read by the control lcore (lib/capture) and analysed" :
			"read by the control lcore (pcap PMD) and analysed", app->duration_s,
			app->duration_s > 0 ? (double)s.ctr[FT_CTR_RX] / app->duration_s / 1e6 : 0.0,
			app->n_workers, app->n_workers == 1 ? "" : "s");
	else
		fprintf(f, "flowtap: %" PRIu64 " frames received in %.1f s by %u worker%s\n",
			s.ctr[FT_CTR_RX], app->duration_s, app->n_workers, app->n_workers == 1 ? "" : "s");
	fprintf(f, "  tcp %" PRIu64 ", udp %" PRIu64 ", icmp %" PRIu64 ", other ip %" PRIu64
		", fragments %" PRIu64 ", non-ip %" PRIu64 ", malformed %" PRIu64 ", untracked (hand-over full) %" PRIu64 "\n",
		s.ctr[FT_CTR_TCP], s.ctr[FT_CTR_UDP], s.ctr[FT_CTR_ICMP], s.ctr[FT_CTR_OTHER_IP],
		s.ctr[FT_CTR_FRAGMENT], s.ctr[FT_CTR_NON_IP], ft_stats_malformed_total(&s),
		s.ctr[FT_CTR_HANDOFF_FULL]);
	for (i = 1; i < FT_MAL_MAX; i++)
		if (s.malformed[i] != 0)
			fprintf(f, "    malformed %-18s %" PRIu64 "\n", ft_malformed_name(i), s.malformed[i]);
	if (app->cfg.mode == FT_MODE_INLINE)
		fprintf(f, "  forwarded %" PRIu64 ", tx failed %" PRIu64 "\n", s.ctr[FT_CTR_TX],
			s.ctr[FT_CTR_TX_FAILED]);
	fprintf(f, "  flows created %" PRIu64 ", active %" PRIu64 "\n", s.ctr[FT_CTR_FLOWS_CREATED],
		s.ctr[FT_CTR_FLOWS_ACTIVE]);
	print_checksums(app, &s, f);
	for (i = 0; i < FT_EV_MAX; i++) {
		if (s.anomaly[i] == 0)
			continue;
		fprintf(f, "%s %s %" PRIu64, n_anom++ ? "," : "  anomalies:", ft_event_name(i), s.anomaly[i]);
	}
	if (n_anom != 0)
		fputc('\n', f);
	if (app->sig != NULL)
		fprintf(f, "  signatures: %" PRIu64 " rules, %" PRIu64 " matches, %" PRIu64
			" connections matched, %" PRIu64 " bytes scanned, %" PRIu64 " gaps, %" PRIu64
			" without a free stream\n",
			s.ctr[FT_CTR_SIG_RULES], s.ctr[FT_CTR_SIG_MATCHES], s.ctr[FT_CTR_SIG_FLOWS],
			s.ctr[FT_CTR_SIG_BYTES], s.ctr[FT_CTR_SIG_GAPS], s.ctr[FT_CTR_SIG_STREAMS_FULL]);
	fprintf(f, "  accounting: %s (%" PRIu64 " received, %" PRIu64 " in final classes)\n",
		ft_stats_accounting_ok(&s) ? "ok" : "MISMATCH", s.ctr[FT_CTR_RX], ft_stats_accounted(&s));
	if (app->ports_stopped && !ft_mempools_ok(app))
		for (i = 0; i < app->n_mempools; i++)
			if (app->mempool[i].in_use != 0)
				fprintf(f, "  MEMPOOL %s: %" PRIu32 " of %" PRIu32 " objects not returned\n",
					app->mempool[i].name, app->mempool[i].in_use, app->mempool[i].size);
}
