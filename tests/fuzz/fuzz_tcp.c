/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness: TCP tracking over a sequence of packets.
 *
 * The input is a list of frames, each "dt len_hi len_lo bytes...": dt moves
 * the clock on (dt*dt*10 ms, up to about 11 minutes, so every timeout
 * fires), then the frame goes through what a worker does with it: decode,
 * flow lookup or insert in a small table (evicting the oldest handshake when
 * it is full), both endpoints' states, the segment cache, ageing by the
 * timer wheel, port reuse and a flow record when the connection ends. The
 * table is emptied after each input so inputs do not depend on each other.
 * Held to: states in range, history NUL-terminated, the table never above
 * its capacity, records that serialise.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include "ft_decode.h"
#include "ft_flow.h"
#include "ft_tcp.h"
#include "ft_fuzz.h"

/* Small, so that inputs fill it, evict and collide. */
#define FUZZ_FLOWS 16
#define FUZZ_SEGS 64

static struct ft_flow_table *flows;
static struct ft_tcp_segcache *segs;
static FILE *sink;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct ft_flow_table_params prm;
	unsigned int i;

	RTE_SET_USED(argc);
	RTE_SET_USED(argv);
	ft_fuzz_eal_init("fuzz_tcp");
	memset(&prm, 0, sizeof(prm));
	prm.name = "fuzz_flows";
	prm.max_flows = FUZZ_FLOWS;
	prm.socket = SOCKET_ID_ANY;
	/* Short timeouts: the clock of an input reaches all of them. */
	for (i = 0; i < FT_FLOW_AGE_MAX; i++)
		prm.timeout_s[i] = 5 + 30 * i;
	flows = ft_flow_table_create(&prm);
	segs = ft_tcp_segcache_create(FUZZ_SEGS, SOCKET_ID_ANY);
	sink = fopen("/dev/null", "w");
	if (flows == NULL || segs == NULL || sink == NULL)
		abort();
	return 0;
}

static void
check_conn(const struct ft_tcp_conn *c)
{
	char h[FT_TCP_HISTORY_LEN];

	REQUIRE(c->ep[0].state < FT_TCP_STATE_MAX && c->ep[1].state < FT_TCP_STATE_MAX);
	REQUIRE(c->hist_len < FT_TCP_HISTORY_LEN);
	REQUIRE(ft_tcp_history(c, h) == c->hist_len && strlen(h) == c->hist_len);
	REQUIRE(ft_tcp_conn_state(c) != NULL);
}

static void
record(const struct ft_flow *f, enum ft_tcp_end end)
{
	struct ft_flow_record rec;

	if (!(f->fflags & FT_FLOW_F_TCP))
		return;
	ft_flow_record_fill(&rec, flows, f, end);
	REQUIRE(ft_flow_record_write_json(sink, &rec) == 0);
}

static enum ft_flow_expiry
on_expire(struct ft_flow *f, void *arg)
{
	RTE_SET_USED(arg);
	record(f, FT_END_TIMEOUT);
	return FT_FLOW_FREE;
}

static void
track(const struct ft_pkt *p, const uint8_t *frame, uint32_t len, uint64_t now)
{
	struct ft_flow_key k;
	struct ft_tcp_payload pl;
	struct ft_tcp_result r;
	unsigned int side = ft_flow_key_make(p, &k), dir;
	struct ft_flow *f = ft_flow_lookup(flows, &k, p->hash);

	if (f == NULL) {
		const bool syn = (p->tcp.flags & FT_TCP_SYN) != 0;

		while ((f = ft_flow_insert(flows, &k, p->hash, now,
					   syn ? FT_AGE_EMBRYONIC : FT_AGE_ESTABLISHED, syn)) == NULL) {
			struct ft_flow *victim = ft_flow_oldest_embryo(flows);

			if (victim == NULL || rte_errno == ENOBUFS)
				return;
			record(victim, FT_END_EVICTED);
			ft_flow_remove(flows, victim);
		}
		f->orig_side = (uint8_t)(ft_tcp_first_is_orig(p) ? side : side ^ 1);
		if (ft_tcp_init(&f->tcp, p, true) < 0)
			abort(); /* mid-stream allowed: every segment can start one */
		f->fflags |= FT_FLOW_F_TCP;
	}
	dir = side == f->orig_side ? FT_TCP_ORIG : FT_TCP_RESP;
	pl.data = frame + p->payload_off;
	pl.caplen = len > p->payload_off ? len - p->payload_off : 0;
	ft_tcp_track(&f->tcp, dir, p, &pl, segs, f->conn_id, &r);
	if (r.verdict == FT_TCP_REUSE) {
		record(f, FT_END_NONE);
		ft_flow_renew(flows, f, now, true);
		f->orig_side = (uint8_t)side;
		ft_tcp_init(&f->tcp, p, true);
		ft_tcp_track(&f->tcp, FT_TCP_ORIG, p, &pl, segs, f->conn_id, &r);
		REQUIRE(r.verdict != FT_TCP_REUSE);
	}
	REQUIRE(r.n <= FT_TCP_MAX_ANOMALIES);
	check_conn(&f->tcp);
	if ((f->fflags & FT_FLOW_F_EMBRYO) && !ft_tcp_is_embryonic(&f->tcp))
		ft_flow_embryo_leave(flows, f);
	ft_flow_set_age(flows, f, (uint8_t)ft_tcp_age_class(&f->tcp));
	if (now > f->last_ns)
		f->last_ns = now;
}

static enum ft_flow_expiry
on_input_end(struct ft_flow *f, void *arg)
{
	RTE_SET_USED(arg);
	record(f, FT_END_EXIT);
	return FT_FLOW_FREE;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Each input starts at the same time, far from zero and from a wrap. */
	uint64_t now = 1700000000ull * 1000000000ull;
	size_t off = 0;

	while (off + 3 <= size) {
		const uint8_t dt = data[off];
		uint32_t len = (uint32_t)data[off + 1] << 8 | data[off + 2];
		uint8_t *frame;
		struct ft_pkt p;

		off += 3;
		if (len > size - off)
			len = (uint32_t)(size - off);
		/* A copy of exactly len bytes: ASan sees a read past the frame. */
		frame = malloc(len ? len : 1);
		REQUIRE(frame != NULL);
		memcpy(frame, data + off, len);
		off += len;
		now += (uint64_t)dt * dt * 10000000ull;
		ft_flow_age(flows, now, 1024, on_expire, NULL);
		if (ft_decode(frame, len, len, &p) == FT_CLS_TCP)
			track(&p, frame, len, now);
		free(frame);
		REQUIRE(ft_flow_count(flows) <= ft_flow_capacity(flows));
	}
	ft_flow_foreach(flows, on_input_end, NULL);
	REQUIRE(ft_flow_count(flows) == 0);
	return 0;
}
