/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The commands the workers answer: /flowtap/flows, /flowtap/flow and
 * /flowtap/ladder.
 *
 * Request path. Each worker has a single-producer single-consumer ring of
 * pointers to requests, and this file one request slot per worker, with the
 * buffer its answer goes into. A query runs under one mutex (telemetry runs
 * a thread per client, and the rings have a single producer): it fills the
 * slots of the workers it asks, enqueues them, and waits until each has
 * seen its request's done flag set (store-release by the worker,
 * load-acquire here) or FT_CTL_TIMEOUT_MS passed. A worker that did not
 * answer in time keeps its slot: the reply says which worker was late, and
 * the slot is reused only once its answer arrived, so a late answer never
 * lands in freed or reused memory. Slots and ladder histories are freed
 * only after the workers have exited (ft_control_release()).
 *
 * Listings are cut three ways, and the reply says which: by limit=, by what
 * a worker copies per page (FT_CTL_PAGE_FLOWS), and by the 16 KiB a
 * telemetry reply holds. "next" is then the cursor to continue from
 * (from=W.P: worker W, its listing position P).
 */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_ring.h>

#include "ft_control_priv.h"
#include "ft_decode.h"

#define POLL_US 50

struct ft_ctl_slot {
	struct ft_ctl_request req;
	bool in_flight;         /* enqueued; the worker may still write req and buf */
	void *buf;              /* where the answer's entries go */
};

static struct {
	pthread_mutex_t lock;   /* one query at a time; guards everything below */
	bool stopped;           /* the workers no longer answer */
	unsigned int n_workers;
	const struct ft_worker_info *workers;
	struct ft_ctl_slot *slot;           /* [n_workers] */
	struct ft_ctl_ladder **ladder;      /* [n_workers], allocated when first armed */
	bool ladder_armed;
	char ladder_filter[160];            /* as armed, for the replies */
} q = { .lock = PTHREAD_MUTEX_INITIALIZER };

static size_t
slot_buf_size(void)
{
	return RTE_MAX(FT_CTL_PAGE_FLOWS * sizeof(struct ft_ctl_flow),
		       FT_CTL_PAGE_LINES * sizeof(struct ft_ladder_line));
}

static void
queries_free_locked(void)
{
	unsigned int i;

	for (i = 0; q.slot != NULL && i < q.n_workers; i++)
		free(q.slot[i].buf);
	for (i = 0; q.ladder != NULL && i < q.n_workers; i++)
		free(q.ladder[i]);
	free(q.slot);
	free(q.ladder);
	q.slot = NULL;
	q.ladder = NULL;
	q.n_workers = 0;
	q.ladder_armed = false;
	q.ladder_filter[0] = '\0';
}

int
ft_ctl_queries_init(const struct ft_control_view *view)
{
	unsigned int i, n = view->n_workers;
	int rc = 0;

	if (n > FT_CTL_MAX_WORKERS)
		return -E2BIG;
	pthread_mutex_lock(&q.lock);
	if (q.slot != NULL) {
		/* Registered again: slots of the old workers may still be in
		 * flight; keep them (they are only freed after the workers). */
		q.workers = view->workers;
		pthread_mutex_unlock(&q.lock);
		return n == q.n_workers ? 0 : -EBUSY;
	}
	q.slot = calloc(RTE_MAX(n, 1u), sizeof(*q.slot));
	q.ladder = calloc(RTE_MAX(n, 1u), sizeof(*q.ladder));
	if (q.slot == NULL || q.ladder == NULL)
		rc = -ENOMEM;
	for (i = 0; rc == 0 && i < n; i++) {
		q.slot[i].buf = calloc(1, slot_buf_size());
		if (q.slot[i].buf == NULL)
			rc = -ENOMEM;
	}
	q.n_workers = n;
	q.workers = view->workers;
	q.stopped = false;
	if (rc < 0)
		queries_free_locked();
	pthread_mutex_unlock(&q.lock);
	return rc;
}

void
ft_control_stop_queries(void)
{
	pthread_mutex_lock(&q.lock);
	q.stopped = true;
	pthread_mutex_unlock(&q.lock);
}

void
ft_control_release(void)
{
	pthread_mutex_lock(&q.lock);
	q.stopped = true;
	queries_free_locked();
	pthread_mutex_unlock(&q.lock);
	ft_ctl_events_release();
}

/* ---- sending requests and waiting for the answers ---- */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Wait for a slot's request to be answered until @p deadline. */
static bool
slot_wait(struct ft_ctl_slot *s, uint64_t deadline)
{
	while (s->in_flight) {
		if (__atomic_load_n(&s->req.done, __ATOMIC_ACQUIRE)) {
			s->in_flight = false;
			break;
		}
		if (now_ms() >= deadline)
			return false;
		usleep(POLL_US);
	}
	return true;
}

/* Why a query could not be asked or answered, for the error reply. */
struct query_err {
	char msg[200];
};

/*
 * Send @p tmpl (kind, filter, from, cap, ladder) to worker @p w. A slot
 * still busy with an earlier, late request is waited for first.
 */
static int
submit(unsigned int w, const struct ft_ctl_request *tmpl, uint64_t deadline, struct query_err *e)
{
	struct ft_ctl_slot *s = &q.slot[w];
	struct rte_ring *ring = q.workers[w].requests;

	if (ring == NULL) {
		snprintf(e->msg, sizeof(e->msg), "worker %u has no request ring", w);
		return -1;
	}
	if (!slot_wait(s, deadline)) {
		snprintf(e->msg, sizeof(e->msg),
			 "worker %u (lcore %u) is still busy with an earlier request", w,
			 q.workers[w].lcore);
		return -1;
	}
	s->req = *tmpl;
	s->req.out.flows = s->buf;
	s->req.cap = RTE_MIN(tmpl->cap, tmpl->kind == FT_CTL_REQ_LADDER_GET ?
				       (uint32_t)FT_CTL_PAGE_LINES : (uint32_t)FT_CTL_PAGE_FLOWS);
	s->req.n = 0;
	s->req.matched = 0;
	s->req.first = 0;
	s->req.armed = 0;
	s->req.scan = (uint32_t)tmpl->from;
	s->req.done = 0;
	/* The ring's enqueue is a release: the worker sees the request filled. */
	if (rte_ring_sp_enqueue(ring, &s->req) != 0) {
		snprintf(e->msg, sizeof(e->msg), "worker %u's request ring is full", w);
		return -1;
	}
	s->in_flight = true;
	return 0;
}

/* Wait for the workers [first, last) asked; false names the late one. */
static bool
wait_answers(unsigned int first, unsigned int last, uint64_t deadline, struct query_err *e)
{
	unsigned int w;

	for (w = first; w < last; w++)
		if (!slot_wait(&q.slot[w], deadline)) {
			snprintf(e->msg, sizeof(e->msg),
				 "worker %u (lcore %u) did not answer within %d ms", w,
				 q.workers[w].lcore, FT_CTL_TIMEOUT_MS);
			return false;
		}
	return true;
}

/* Send the same request to workers [first, last) and wait for them all. */
static int
ask_workers(unsigned int first, unsigned int last, const struct ft_ctl_request *tmpl,
	    uint64_t first_from, struct query_err *e)
{
	const uint64_t deadline = now_ms() + FT_CTL_TIMEOUT_MS;
	struct ft_ctl_request r = *tmpl;
	unsigned int w;

	for (w = first; w < last; w++) {
		r.from = w == first ? first_from : tmpl->from;
		if (submit(w, &r, deadline, e) < 0)
			return -1;
	}
	return wait_answers(first, last, deadline, e) ? 0 : -1;
}

/* Take the lock; false (and an error reply) when the workers cannot answer. */
static bool
query_begin(struct rte_tel_data *d)
{
	pthread_mutex_lock(&q.lock);
	if (q.stopped || q.slot == NULL) {
		pthread_mutex_unlock(&q.lock);
		ft_tel_error(d, "flowtap is stopping: the workers no longer answer");
		return false;
	}
	if (q.n_workers == 0) {
		pthread_mutex_unlock(&q.lock);
		ft_tel_error(d, "no workers");
		return false;
	}
	return true;
}

static int
query_fail(struct rte_tel_data *d, const struct query_err *e)
{
	pthread_mutex_unlock(&q.lock);
	return ft_tel_error(d, "%s", e->msg);
}

/* ---- rendering a connection ---- */

static const char *const age_names[FT_FLOW_AGE_MAX] = {
	[FT_AGE_EMBRYONIC] = "embryonic",
	[FT_AGE_ESTABLISHED] = "established",
	[FT_AGE_CLOSING] = "closing",
	[FT_AGE_TIME_WAIT] = "time_wait",
	[FT_AGE_CLOSED] = "closed",
	[FT_FLOW_AGE_LINGER] = "linger",
	[FT_FLOW_AGE_UDP] = "udp",
	[FT_FLOW_AGE_OTHER] = "other",
};

static void
format_anomalies(uint32_t bits, char *buf, size_t len)
{
	size_t used = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < FT_EV_MAX && i < 32 && used < len; i++)
		if (bits & (UINT32_C(1) << i))
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "",
						 ft_event_name(i));
}

static void
format_vlan(const struct ft_flow_record *rec, char *buf, size_t len)
{
	if (rec->n_vlan >= 2)
		snprintf(buf, len, "%u.%u", rec->vlan[0], rec->vlan[1]);
	else if (rec->n_vlan == 1)
		snprintf(buf, len, "%u", rec->vlan[0]);
	else
		buf[0] = '\0';
}

/* What /flowtap/flows shows of a connection: the flow record's keys. */
static void
flow_summary_fill(struct ft_tel_tree *t, const struct ft_ctl_flow *f)
{
	const struct ft_flow_record *rec = &f->rec;
	char a[INET6_ADDRSTRLEN], text[RTE_TEL_MAX_STRING_LEN * 2], ts[32];

	ft_tel_put_str(t, "src", ft_addr_format(a, sizeof(a), rec->ip_ver, rec->addr[0]));
	ft_tel_put_u64(t, "sport", rec->port[0]);
	ft_tel_put_str(t, "dst", ft_addr_format(a, sizeof(a), rec->ip_ver, rec->addr[1]));
	ft_tel_put_u64(t, "dport", rec->port[1]);
	format_vlan(rec, text, sizeof(text));
	ft_tel_put_str(t, "vlan", text);
	ft_tel_put_str(t, "orig_state", ft_tcp_state_name(rec->state[0]));
	ft_tel_put_str(t, "resp_state", ft_tcp_state_name(rec->state[1]));
	ft_tel_put_str(t, "conn_state", rec->conn_state);
	ft_tel_put_str(t, "history", rec->history);
	ft_tel_put_u64(t, "orig_pkts", rec->pkts[0]);
	ft_tel_put_u64(t, "orig_bytes", rec->bytes[0]);
	ft_tel_put_u64(t, "resp_pkts", rec->pkts[1]);
	ft_tel_put_u64(t, "resp_bytes", rec->bytes[1]);
	ft_ctl_format_ts(ts, sizeof(ts), rec->first_ns);
	ft_tel_put_str(t, "first_ts", ts);
	ft_ctl_format_ts(ts, sizeof(ts), rec->last_ns);
	ft_tel_put_str(t, "last_ts", ts);
	format_anomalies(rec->anomalies, text, sizeof(text));
	ft_tel_put_str(t, "anomalies", text);
	ft_tel_put_u64(t, "worker", f->worker);
}

static const struct {
	uint8_t bit;
	const char *name;
} endpoint_flags[] = {
	{ FT_TCPE_SEEN, "seen" }, { FT_TCPE_ISN, "isn" }, { FT_TCPE_ISN_GUESS, "isn_guessed" },
	{ FT_TCPE_FIN, "fin" }, { FT_TCPE_WS_OFFER, "ws_offered" },
	{ FT_TCPE_SYN_ACKED, "syn_acked" }, { FT_TCPE_FIN_ACKED, "fin_acked" },
	{ FT_TCPE_ACKED_ANY, "acked" },
};

static void
endpoint_fill(struct ft_tel_tree *t, const char *side, const struct ft_tcp_endpoint *e)
{
	char path[32], flags[160];
	size_t used = 0;
	unsigned int i;

#define PUT(key, v) do { snprintf(path, sizeof(path), "%s.%s", side, key); \
			 ft_tel_put_u64(t, path, v); } while (0)
	snprintf(path, sizeof(path), "%s.state", side);
	ft_tel_put_str(t, path, ft_tcp_state_name(e->state));
	PUT("isn", e->isn);
	PUT("isn_seen", (e->flags & FT_TCPE_ISN) ? 1 : 0);
	PUT("next_seq", e->end);
	PUT("highest_ack", e->ack);
	PUT("window", ft_tcp_win(e));
	PUT("window_scale", e->wscale);
	PUT("max_window", ft_tcp_maxwin(e));
	PUT("ttl", e->ttl);
	PUT("pkts", e->pkts);
	PUT("payload_bytes", ft_tcp_payload_bytes(e));
	PUT("ip_bytes", e->ip_bytes);
	PUT("retransmits", e->rexmit);
	PUT("zero_windows", e->zero_win);
	PUT("gaps", e->gaps);
	if (e->flags & FT_TCPE_FIN)
		PUT("fin_seq", e->fin_seq);
#undef PUT
	flags[0] = '\0';
	for (i = 0; i < RTE_DIM(endpoint_flags) && used < sizeof(flags); i++)
		if (e->flags & endpoint_flags[i].bit)
			used += (size_t)snprintf(flags + used, sizeof(flags) - used, "%s%s",
						 used ? "," : "", endpoint_flags[i].name);
	snprintf(path, sizeof(path), "%s.flags", side);
	ft_tel_put_str(t, path, flags);
}

/* /flowtap/flow: everything. */
static void
flow_detail_fill(struct ft_tel_tree *t, const struct ft_ctl_flow *f)
{
	const uint64_t now = f->now_ns;

	flow_summary_fill(t, f);
	ft_tel_put_u64(t, "conn_id", f->conn_id);
	ft_tel_put_str(t, "age_class", f->age < FT_FLOW_AGE_MAX ? age_names[f->age] : "?");
	ft_tel_put_u64(t, "idle_s", now > f->rec.last_ns ? (now - f->rec.last_ns) / 1000000000u : 0);
	ft_tel_put_u64(t, "expires_in_s", f->expiry_ns > now ? (f->expiry_ns - now) / 1000000000u : 0);
	ft_tel_put_u64(t, "midstream", (f->tcp.cflags & FT_TCPC_MIDSTREAM) ? 1 : 0);
	ft_tel_put_u64(t, "finished", (f->tcp.cflags & FT_TCPC_FINISHED) ? 1 : 0);
	ft_tel_put_str(t, "end", ft_tcp_end_name(f->tcp.end));
	endpoint_fill(t, "orig", &f->tcp.ep[FT_TCP_ORIG]);
	endpoint_fill(t, "resp", &f->tcp.ep[FT_TCP_RESP]);
}

/* ---- /flowtap/flows ---- */

struct flow_rows {
	const struct ft_ctl_flow *row[FT_CTL_MAX_WORKERS * FT_CTL_PAGE_FLOWS];
};

static void
flow_row_fill(struct ft_tel_tree *t, const void *arg, unsigned int i)
{
	flow_summary_fill(t, ((const struct flow_rows *)arg)->row[i]);
}

/* from=W.P: start at worker W, listing position P. */
static int
parse_flows_cursor(const char *text, unsigned int *w, uint64_t *pos)
{
	unsigned int cw;
	uint64_t cp;
	int used = 0;

	if (text[0] == '\0') {
		*w = 0;
		*pos = 0;
		return 0;
	}
	if (sscanf(text, "%u.%" SCNu64 "%n", &cw, &cp, &used) != 2 || text[used] != '\0' ||
	    cp > UINT32_MAX)
		return -1;
	*w = cw;
	*pos = cp;
	return 0;
}

int
ft_cmd_flows(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static struct flow_rows rows; /* under q.lock */
	struct ft_ctl_request tmpl;
	struct ft_ctl_params p;
	struct query_err e;
	struct ft_tel_tree t;
	char err[200];
	unsigned int w, start_w, n_rows = 0, n_emit, fit, failed;
	uint64_t start_pos, matched = 0;

	RTE_SET_USED(cmd);
	if (ft_control_parse_params(params, FT_CTL_P_ADDR | FT_CTL_P_PORT | FT_CTL_P_STATE |
				    FT_CTL_P_LIMIT | FT_CTL_P_FROM, &p, err, sizeof(err)) < 0)
		return ft_tel_error(d, "%s", err);
	if (parse_flows_cursor(p.from, &start_w, &start_pos) < 0)
		return ft_tel_error(d, "from: '%s' is not a cursor of /flowtap/flows (W.P)", p.from);
	if (!query_begin(d))
		return 0;
	if (start_w >= q.n_workers) {
		pthread_mutex_unlock(&q.lock);
		return ft_tel_error(d, "from: worker %u does not exist (%u workers)", start_w,
				    q.n_workers);
	}
	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.kind = FT_CTL_REQ_FLOWS;
	tmpl.filter = p.filter;
	tmpl.cap = p.limit;
	tmpl.from = 0;
	if (ask_workers(start_w, q.n_workers, &tmpl, start_pos, &e) < 0)
		return query_fail(d, &e);

	for (w = start_w; w < q.n_workers; w++) {
		const struct ft_ctl_request *r = &q.slot[w].req;
		unsigned int i;

		matched += r->matched;
		for (i = 0; i < r->n && n_rows < RTE_DIM(rows.row); i++)
			rows.row[n_rows++] = &r->out.flows[i];
	}
	n_emit = RTE_MIN(n_rows, p.limit);
	fit = ft_tel_rows_fit(flow_row_fill, &rows, 0, n_emit, FT_TEL_ROWS_BUDGET, false);

	rte_tel_data_start_dict(d);
	ft_tel_tree_init(&t, d);
	ft_tel_put_u64(&t, "matched", matched);
	ft_tel_put_u64(&t, "returned", fit);
	ft_tel_put_u64(&t, "truncated", fit < matched ? 1 : 0);
	ft_tel_put_str(&t, "truncated_by", fit == matched ? "" :
		       fit < n_emit ? "reply_size" : n_emit == p.limit ? "limit" : "page");
	ft_tel_put_u64(&t, "limit", p.limit);
	ft_tel_put_u64(&t, "workers", q.n_workers - start_w);
	if (fit < matched) {
		char next[32];

		if (fit > 0)
			snprintf(next, sizeof(next), "%u.%u", rows.row[fit - 1]->worker,
				 rows.row[fit - 1]->pos);
		else
			snprintf(next, sizeof(next), "%u.%" PRIu64, start_w, start_pos);
		ft_tel_put_str(&t, "next", next);
	}
	failed = t.n_failed + ft_tel_rows_add(d, "flows", flow_row_fill, &rows, 0, fit);
	pthread_mutex_unlock(&q.lock);
	ft_tel_report(failed, "/flowtap/flows");
	return 0;
}

/* ---- /flowtap/flow ---- */

static void
format_conn(const struct ft_ctl_filter *f, char *buf, size_t len)
{
	char a[2][INET6_ADDRSTRLEN];
	const char *open = f->ip_ver == 6 ? "[" : "", *close = f->ip_ver == 6 ? "]" : "";

	ft_addr_format(a[0], sizeof(a[0]), f->ip_ver, f->conn_addr[0]);
	ft_addr_format(a[1], sizeof(a[1]), f->ip_ver, f->conn_addr[1]);
	snprintf(buf, len, "%s%s%s:%u-%s%s%s:%u", open, a[0], close, f->conn_port[0], open, a[1],
		 close, f->conn_port[1]);
}

int
ft_cmd_flow(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct ft_ctl_request tmpl;
	const struct ft_ctl_flow *found = NULL;
	struct ft_ctl_params p;
	struct query_err e;
	struct ft_tel_tree t;
	struct ft_pkt pkt;
	char err[200], spec[128];
	unsigned int owner, w;
	uint64_t matched = 0;

	RTE_SET_USED(cmd);
	if (ft_control_parse_params(params, FT_CTL_P_CONN | FT_CTL_P_VLAN, &p, err, sizeof(err)) < 0)
		return ft_tel_error(d, "%s", err);
	if (!(p.given & FT_CTL_P_CONN))
		return ft_tel_error(d, "give the connection: /flowtap/flow,ADDR:PORT-ADDR:PORT "
				    "(IPv6 in brackets), optionally ,vlan=V");
	format_conn(&p.filter, spec, sizeof(spec));
	if (!query_begin(d))
		return 0;

	/* Its owner looks it up by key: the decoder's hash picks the worker. */
	ft_control_conn_pkt(&p.filter, &pkt);
	owner = ft_decode_owner(pkt.hash, q.n_workers);
	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.kind = FT_CTL_REQ_FLOW;
	tmpl.filter = p.filter;
	tmpl.cap = 1;
	if (ask_workers(owner, owner + 1, &tmpl, 0, &e) < 0)
		return query_fail(d, &e);
	if (q.slot[owner].req.n == 1) {
		found = &q.slot[owner].req.out.flows[0];
		matched = 1;
	} else if (!(p.filter.has & FT_CTL_F_VLAN)) {
		/* Not untagged: the connection may be on a VLAN. Every worker
		 * lists the connections between these endpoints. */
		tmpl.kind = FT_CTL_REQ_FLOWS;
		tmpl.filter.has = FT_CTL_F_CONN;
		if (ask_workers(0, q.n_workers, &tmpl, 0, &e) < 0)
			return query_fail(d, &e);
		for (w = 0; w < q.n_workers; w++) {
			matched += q.slot[w].req.matched;
			if (found == NULL && q.slot[w].req.n != 0)
				found = &q.slot[w].req.out.flows[0];
		}
	}
	if (found == NULL) {
		pthread_mutex_unlock(&q.lock);
		return ft_tel_error(d, "no connection %s%s", spec,
				    (p.filter.has & FT_CTL_F_VLAN) ? " on that VLAN" : "");
	}
	rte_tel_data_start_dict(d);
	ft_tel_tree_init(&t, d);
	flow_detail_fill(&t, found);
	/* Several connections between the same endpoints on other VLANs. */
	ft_tel_put_u64(&t, "matched", matched);
	pthread_mutex_unlock(&q.lock);
	ft_tel_report(t.n_failed, "/flowtap/flow");
	return 0;
}

/* ---- /flowtap/ladder ---- */

static void
format_filter(const struct ft_ctl_filter *f, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	size_t used = 0;

	buf[0] = '\0';
	if (f->has & FT_CTL_F_CONN) {
		format_conn(f, buf, len);
		used = strlen(buf);
	}
	if ((f->has & FT_CTL_F_ADDR) && used < len)
		used += (size_t)snprintf(buf + used, len - used, "%saddr=%s", used ? "," : "",
					 ft_addr_format(a, sizeof(a), f->ip_ver, f->addr));
	if ((f->has & FT_CTL_F_PORT) && used < len)
		snprintf(buf + used, len - used, "%sport=%u", used ? "," : "", f->port);
}

static int
ladder_arm(const struct ft_ctl_params *p, struct rte_tel_data *d)
{
	struct ft_ctl_request tmpl;
	struct query_err e;
	struct ft_tel_tree t;
	unsigned int w;

	for (w = 0; w < q.n_workers; w++) {
		if (q.ladder[w] != NULL)
			continue;
		/* Once per worker, the first time a ladder is armed; kept
		 * until exit (the worker holds the pointer). */
		q.ladder[w] = calloc(1, sizeof(struct ft_ctl_ladder) +
					FT_CTL_LADDER_LINES * sizeof(struct ft_ladder_line));
		if (q.ladder[w] == NULL) {
			pthread_mutex_unlock(&q.lock);
			return ft_tel_error(d, "cannot allocate the ladder history of worker %u", w);
		}
		q.ladder[w]->cap = FT_CTL_LADDER_LINES;
	}
	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.kind = FT_CTL_REQ_LADDER_ARM;
	tmpl.filter = p->filter;
	for (w = 0; w < q.n_workers; w++) {
		const uint64_t deadline = now_ms() + FT_CTL_TIMEOUT_MS;

		tmpl.ladder = q.ladder[w];
		if (submit(w, &tmpl, deadline, &e) < 0 || !wait_answers(w, w + 1, deadline, &e))
			return query_fail(d, &e);
	}
	q.ladder_armed = true;
	format_filter(&p->filter, q.ladder_filter, sizeof(q.ladder_filter));
	rte_tel_data_start_dict(d);
	ft_tel_tree_init(&t, d);
	ft_tel_put_u64(&t, "armed", 1);
	ft_tel_put_str(&t, "filter", q.ladder_filter);
	ft_tel_put_u64(&t, "workers", q.n_workers);
	ft_tel_put_u64(&t, "lines_per_worker", FT_CTL_LADDER_LINES);
	pthread_mutex_unlock(&q.lock);
	return 0;
}

static int
ladder_off(struct rte_tel_data *d)
{
	struct ft_ctl_request tmpl;
	struct query_err e;
	struct ft_tel_tree t;

	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.kind = FT_CTL_REQ_LADDER_OFF;
	if (ask_workers(0, q.n_workers, &tmpl, 0, &e) < 0)
		return query_fail(d, &e);
	q.ladder_armed = false;
	rte_tel_data_start_dict(d);
	ft_tel_tree_init(&t, d);
	ft_tel_put_u64(&t, "armed", 0);
	ft_tel_put_str(&t, "filter", q.ladder_filter);
	pthread_mutex_unlock(&q.lock);
	return 0;
}

/* The lines of one page, merged across workers in time order. */
struct ladder_page {
	const struct ft_ladder_line *line[FT_CTL_MAX_WORKERS * FT_CTL_PAGE_LINES];
	uint64_t number[FT_CTL_MAX_WORKERS * FT_CTL_PAGE_LINES];
	unsigned int n;
	/* Connections of the lines emitted: the last line of each. */
	const struct ft_ladder_line *conn[FT_CTL_MAX_WORKERS * FT_CTL_PAGE_LINES];
	unsigned int n_conns;
};

static void
conn_key(const struct ft_ladder_line *l, char *buf, size_t len)
{
	snprintf(buf, len, "%u_%u", l->worker, l->conn_id);
}

const char *
ft_ladder_note_text(unsigned int note)
{
	static const char *const text[FT_LADDER_NOTE_MAX] = {
		[FT_LADDER_NOTE_NONE] = "",
		[FT_LADDER_NOTE_BAD_CHECKSUM] = "checksum wrong: dropped",
	};

	return note < FT_LADDER_NOTE_MAX ? text[note] : "";
}

static void
ladder_line_fill(struct ft_tel_tree *t, const void *arg, unsigned int i)
{
	const struct ft_ladder_line *l = ((const struct ladder_page *)arg)->line[i];
	uint64_t dt = l->ts_ns >= l->first_ns ? l->ts_ns - l->first_ns : 0;
	char buf[32];

	conn_key(l, buf, sizeof(buf));
	ft_tel_put_str(t, "conn", buf);
	snprintf(buf, sizeof(buf), "%" PRIu64 ".%06" PRIu64, dt / 1000000000u,
		 dt % 1000000000u / 1000u);
	ft_tel_put_str(t, "t", buf);
	ft_tel_put_str(t, "dir", l->dir == FT_TCP_ORIG ? "-->" : "<--");
	ft_tel_put_u64(t, "flags", l->flags);
	ft_tel_put_u64(t, "seq", l->seq);
	ft_tel_put_u64(t, "ack", l->ack);
	ft_tel_put_u64(t, "len", l->len);
	ft_tel_put_u64(t, "win", l->win);
	ft_tel_put_str(t, "orig_state", ft_tcp_state_name(l->state[0]));
	ft_tel_put_str(t, "resp_state", ft_tcp_state_name(l->state[1]));
	if (l->note != FT_LADDER_NOTE_NONE) /* rare: the other lines stay as they were */
		ft_tel_put_str(t, "note", ft_ladder_note_text(l->note));
}

static void
ladder_conn_fill(struct ft_tel_tree *t, const struct ft_ladder_line *l)
{
	char a[INET6_ADDRSTRLEN], ts[32];

	ft_tel_put_str(t, "src", ft_addr_format(a, sizeof(a), l->ip_ver, l->addr[0]));
	ft_tel_put_u64(t, "sport", l->port[0]);
	ft_tel_put_str(t, "dst", ft_addr_format(a, sizeof(a), l->ip_ver, l->addr[1]));
	ft_tel_put_u64(t, "dport", l->port[1]);
	ft_ctl_format_ts(ts, sizeof(ts), l->first_ns);
	ft_tel_put_str(t, "first_ts", ts);
	ft_tel_put_u64(t, "orig_isn", l->isn[0]);
	ft_tel_put_u64(t, "resp_isn", l->isn[1]);
	ft_tel_put_u64(t, "worker", l->worker);
}

static size_t
measure_line(const struct ladder_page *pg, unsigned int i)
{
	struct ft_tel_tree t;

	ft_tel_tree_init(&t, NULL);
	ladder_line_fill(&t, pg, i);
	return t.bytes + 16;
}

static size_t
measure_conn(const struct ft_ladder_line *l)
{
	struct ft_tel_tree t;

	ft_tel_tree_init(&t, NULL);
	ladder_conn_fill(&t, l);
	return t.bytes + 24;
}

/* Index of the line's connection among pg->conn, adding it when new. */
static unsigned int
page_conn(struct ladder_page *pg, const struct ft_ladder_line *l, bool *added)
{
	unsigned int c;

	*added = false;
	for (c = 0; c < pg->n_conns; c++)
		if (pg->conn[c]->worker == l->worker && pg->conn[c]->conn_id == l->conn_id)
			return c;
	pg->conn[pg->n_conns] = l;
	*added = true;
	return pg->n_conns++;
}

/* Merge the workers' pages by time (each is in time order already). */
static void
page_merge(struct ladder_page *pg)
{
	unsigned int pos[FT_CTL_MAX_WORKERS] = { 0 };
	unsigned int w;

	pg->n = 0;
	for (;;) {
		const struct ft_ladder_line *best = NULL;
		unsigned int bw = 0;

		for (w = 0; w < q.n_workers; w++) {
			const struct ft_ctl_request *r = &q.slot[w].req;

			if (pos[w] < r->n && (best == NULL || r->out.lines[pos[w]].ts_ns < best->ts_ns)) {
				best = &r->out.lines[pos[w]];
				bw = w;
			}
		}
		if (best == NULL)
			return;
		pg->number[pg->n] = q.slot[bw].req.first + pos[bw];
		pg->line[pg->n++] = best;
		pos[bw]++;
	}
}

/* from=N0.N1...: per worker, the first line number wanted. */
static int
parse_ladder_cursor(const char *text, uint64_t *from)
{
	const char *s = text;
	unsigned int w;

	memset(from, 0, q.n_workers * sizeof(*from));
	if (text[0] == '\0')
		return 0;
	for (w = 0; w < q.n_workers; w++) {
		char *end;

		from[w] = strtoull(s, &end, 10);
		if (end == s || (*end != '.' && *end != '\0') || (*end == '\0') != (w + 1 == q.n_workers))
			return -1;
		s = end + 1;
	}
	return 0;
}

static int
ladder_get(const struct ft_ctl_params *p, struct rte_tel_data *d)
{
	static struct ladder_page pg; /* under q.lock */
	uint64_t from[FT_CTL_MAX_WORKERS], next[FT_CTL_MAX_WORKERS];
	uint64_t recorded = 0, lost = 0, held = 0;
	struct ft_ctl_request tmpl;
	struct query_err e;
	struct ft_tel_tree t;
	struct rte_tel_data *conns;
	size_t used = 0;
	unsigned int w, k, c, failed;
	bool armed = false;

	if (parse_ladder_cursor(p->from, from) < 0) {
		pthread_mutex_unlock(&q.lock);
		return ft_tel_error(d, "from: '%s' is not a cursor of /flowtap/ladder (%u numbers "
				    "separated by dots: the \"next\" of the previous reply)",
				    p->from, q.n_workers);
	}
	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.kind = FT_CTL_REQ_LADDER_GET;
	tmpl.cap = FT_CTL_PAGE_LINES;
	{
		const uint64_t deadline = now_ms() + FT_CTL_TIMEOUT_MS;

		for (w = 0; w < q.n_workers; w++) {
			tmpl.from = from[w];
			if (submit(w, &tmpl, deadline, &e) < 0)
				return query_fail(d, &e);
		}
		if (!wait_answers(0, q.n_workers, deadline, &e))
			return query_fail(d, &e);
	}
	for (w = 0; w < q.n_workers; w++) {
		const struct ft_ctl_request *r = &q.slot[w].req;

		recorded += r->matched;
		held += r->matched - r->first;
		armed = armed || r->armed;
		if (r->first > from[w])
			lost += r->first - from[w];
		next[w] = r->first;
	}

	/* As many lines, with their connections, as the reply holds. */
	page_merge(&pg);
	pg.n_conns = 0;
	for (k = 0; k < pg.n; k++) {
		bool added;
		size_t need = measure_line(&pg, k);

		c = page_conn(&pg, pg.line[k], &added);
		if (added)
			need += measure_conn(pg.line[k]);
		if (used + need > FT_TEL_ROWS_BUDGET) {
			if (added)
				pg.n_conns--;
			break;
		}
		used += need;
		pg.conn[c] = pg.line[k];        /* the newest line of the connection */
		next[pg.line[k]->worker] = pg.number[k] + 1;
	}

	rte_tel_data_start_dict(d);
	ft_tel_tree_init(&t, d);
	ft_tel_put_u64(&t, "armed", armed ? 1 : 0);
	ft_tel_put_str(&t, "filter", q.ladder_filter);
	ft_tel_put_u64(&t, "recorded", recorded);
	ft_tel_put_u64(&t, "returned", k);
	ft_tel_put_u64(&t, "lost", lost);
	/* Lines held after this page: more to read with from=next. */
	ft_tel_put_u64(&t, "truncated", k < pg.n || held > pg.n ? 1 : 0);
	ft_tel_put_u64_array(&t, "next", next, q.n_workers);
	failed = t.n_failed;
	conns = ft_tel_row(d, "conns");
	for (c = 0; conns != NULL && c < pg.n_conns; c++) {
		struct rte_tel_data *row;
		char key[32];

		conn_key(pg.conn[c], key, sizeof(key));
		row = ft_tel_row(conns, key);
		if (row == NULL) {
			failed++;
			continue;
		}
		ft_tel_tree_init(&t, row);
		ladder_conn_fill(&t, pg.conn[c]);
		failed += t.n_failed;
	}
	failed += ft_tel_rows_add(d, "lines", ladder_line_fill, &pg, 0, k);
	pthread_mutex_unlock(&q.lock);
	ft_tel_report(failed, "/flowtap/ladder");
	return 0;
}

int
ft_cmd_ladder(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const unsigned int filters = FT_CTL_P_ADDR | FT_CTL_P_PORT | FT_CTL_P_CONN;
	struct ft_ctl_params p;
	char err[200];

	RTE_SET_USED(cmd);
	if (ft_control_parse_params(params, filters | FT_CTL_P_OFF | FT_CTL_P_FROM, &p, err,
				    sizeof(err)) < 0)
		return ft_tel_error(d, "%s", err);
	if (__builtin_popcount(p.given & (filters | FT_CTL_P_OFF | FT_CTL_P_FROM)) > 1 &&
	    ((p.given & FT_CTL_P_OFF) || (p.given & FT_CTL_P_FROM)))
		return ft_tel_error(d, "give a filter (arms), 'off', or from=CURSOR (reads): one of them");
	if (!query_begin(d))
		return 0;
	if (q.n_workers > FT_CTL_MAX_WORKERS) {
		pthread_mutex_unlock(&q.lock);
		return ft_tel_error(d, "more than %d workers", FT_CTL_MAX_WORKERS);
	}
	if (p.given & filters)
		return ladder_arm(&p, d);
	if (p.given & FT_CTL_P_OFF)
		return ladder_off(d);
	return ladder_get(&p, d);
}
