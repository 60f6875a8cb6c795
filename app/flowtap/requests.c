/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's side of the control socket's queries (lib/control asks them:
 * /flowtap/flows, /flowtap/flow, /flowtap/ladder). Each worker has an SPSC
 * ring of pointers to requests; once per loop iteration it takes one, or
 * carries on with the one it is answering, and publishes the answer with
 * ft_control_request_done() (a store-release). Only the worker touches its
 * flow table and its ladder history: the telemetry threads see copies.
 *
 * A listing walks the table a slice at a time (FT_REQ_SCAN_BUDGET flows per
 * iteration), so a table of millions of flows delays no burst by more than
 * a few microseconds; the answer is the table as the walk found it, like
 * reading /proc/net/tcp.
 */
#include <string.h>

#include <rte_errno.h>
#include <rte_ring.h>

#include "flowtap.h"

/* Every worker can be asked. */
_Static_assert(FT_MAX_WORKERS <= FT_CTL_MAX_WORKERS, "lib/control addresses fewer workers");

/* Flows a listing visits per loop iteration. */
#define FT_REQ_SCAN_BUDGET 256
/* Requests queued per worker: the control side has at most one in flight. */
#define FT_REQ_RING_SIZE 8

int
ft_requests_create(struct ft_app *app, struct ft_worker *w)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "ft_req_%u", w->idx);
	w->requests = rte_ring_create(name, FT_REQ_RING_SIZE, w->socket,
				      RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (w->requests == NULL)
		return ft_fail("cannot create ring %s: %s", name, rte_strerror(rte_errno));
	app->winfo[w->idx].requests = w->requests;
	return 0;
}

void
ft_requests_free(struct ft_worker *w)
{
	/* Requests still queued belong to lib/control: nothing to free here. */
	rte_ring_free(w->requests);
	w->requests = NULL;
}

/* A copy of a connection as the listing shows it; @p pos is the listing
 * position just after it. */
static void
copy_flow(struct ft_worker *w, struct ft_flow *f, uint32_t pos, struct ft_ctl_flow *out)
{
	ft_flow_record_fill(&out->rec, w->flows, f, FT_END_NONE);
	out->tcp = f->tcp;
	out->now_ns = w->now_ns;
	out->expiry_ns = ft_flow_expiry_ns(w->flows, f);
	out->pos = pos;
	out->conn_id = f->conn_id;
	out->worker = (uint16_t)w->idx;
	out->age = f->age;
}

/* One slice of a listing. @return true once the walk reached the end. */
static bool
serve_flows(struct ft_worker *w, struct ft_ctl_request *r)
{
	unsigned int budget;

	if (ft_flow_count(w->flows) == 0)
		return true;
	for (budget = FT_REQ_SCAN_BUDGET; budget > 0; budget--) {
		struct ft_flow *f = ft_flow_iterate(w->flows, &r->scan);
		uint8_t addr[2][16], state[2];
		uint16_t port[2];

		if (f == NULL)
			return true;
		if (!(f->fflags & FT_FLOW_F_TCP))
			continue;
		ft_flow_endpoints(w->flows, f, addr, port);
		state[0] = f->tcp.ep[FT_TCP_ORIG].state;
		state[1] = f->tcp.ep[FT_TCP_RESP].state;
		if (!ft_control_filter_match(&r->filter, f->ip_ver, (const uint8_t (*)[16])addr, port,
					     state))
			continue;
		r->matched++;
		if (r->n < r->cap)
			copy_flow(w, f, r->scan, &r->out.flows[r->n++]);
	}
	return false;
}

/* One connection by its key: this worker owns it if anyone does. */
static void
serve_flow(struct ft_worker *w, struct ft_ctl_request *r)
{
	struct ft_flow_key k;
	struct ft_flow *f;
	struct ft_pkt p;

	ft_control_conn_pkt(&r->filter, &p);
	ft_flow_key_make(&p, &k);
	f = ft_flow_lookup(w->flows, &k, p.hash);
	if (f != NULL && (f->fflags & FT_FLOW_F_TCP) && r->cap > 0) {
		copy_flow(w, f, 0, &r->out.flows[0]);
		r->n = 1;
		r->matched = 1;
	}
}

/* The history's lines from line number r->from on (the oldest still held
 * when those were overwritten; from the start after a re-arm). */
static void
serve_ladder_get(struct ft_worker *w, struct ft_ctl_request *r)
{
	const struct ft_ctl_ladder *h = w->live_ladder;
	uint64_t oldest, first, i;

	r->armed = w->live_ladder_on;
	if (h == NULL) {
		r->first = r->from;
		return;
	}
	oldest = h->recorded > h->cap ? h->recorded - h->cap : 0;
	first = r->from > h->recorded ? oldest : RTE_MAX(r->from, oldest);
	r->n = (uint32_t)RTE_MIN(h->recorded - first, (uint64_t)r->cap);
	for (i = 0; i < r->n; i++)
		r->out.lines[i] = h->line[(first + i) % h->cap];
	r->first = first;
	r->matched = h->recorded;
}

void
ft_requests_serve(struct ft_worker *w)
{
	struct ft_ctl_request *r = w->req;

	if (likely(r == NULL)) {
		void *obj;

		if (likely(rte_ring_empty(w->requests)) ||
		    rte_ring_sc_dequeue(w->requests, &obj) != 0)
			return;
		r = obj;
		w->req = r;
	}
	switch (r->kind) {
	case FT_CTL_REQ_FLOWS:
		if (!serve_flows(w, r))
			return; /* more next iteration */
		break;
	case FT_CTL_REQ_FLOW:
		serve_flow(w, r);
		break;
	case FT_CTL_REQ_LADDER_ARM:
		/* The filter changes here, on the worker, between packets. */
		w->live_ladder = r->ladder;
		w->live_ladder->filter = r->filter;
		w->live_ladder->recorded = 0;
		w->live_ladder_on = true;
		break;
	case FT_CTL_REQ_LADDER_OFF:
		w->live_ladder_on = false;
		break;
	case FT_CTL_REQ_LADDER_GET:
		serve_ladder_get(w, r);
		break;
	default:
		break;
	}
	w->req = NULL;
	ft_control_request_done(r);
}

void
ft_requests_ladder_record(struct ft_worker *w, const struct ft_ladder_line *l)
{
	struct ft_ctl_ladder *h = w->live_ladder;

	if (!ft_control_filter_match(&h->filter, l->ip_ver, l->addr, l->port, NULL))
		return;
	h->line[h->recorded % h->cap] = *l;
	h->recorded++;
}
