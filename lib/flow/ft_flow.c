/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One worker's flow table: rte_hash (extendable buckets, so the configured
 * capacity is exact) keyed by the canonical flow key with the decoder's
 * symmetric hash as signature; entries in an array indexed by the hash's key
 * position; a timer wheel and an embryonic FIFO threaded through the entries
 * by index (no pointers, no allocation after creation).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "ft_events.h"
#include "ft_flow.h"
#include "ft_json.h"

#define NIL UINT32_MAX
/* The wheel: 4096 ticks of 2^30 ns span 73 minutes; a longer timeout is
 * re-filed when its slot comes round (one check per lap, not per packet). */
#define WHEEL_SLOTS 4096u
#define WHEEL_MASK (WHEEL_SLOTS - 1)
#define TICK_SHIFT 30
#define NOT_FILED UINT16_MAX

struct ft_flow_table {
	struct rte_hash *h;
	struct ft_flow *flows;
	uint32_t n_entries;     /* size of flows[] */
	uint32_t capacity;
	uint32_t count;
	uint32_t next_conn_id;
	uint32_t embryo_head, embryo_tail;
	bool started;
	uint64_t cur_tick;      /* next tick to process */
	uint64_t timeout_ns[FT_FLOW_AGE_MAX];
	uint64_t memory;
	uint32_t wheel[WHEEL_SLOTS];
};

unsigned int
ft_flow_key_make(const struct ft_pkt *p, struct ft_flow_key *k)
{
	int c = memcmp(p->src, p->dst, 16);
	unsigned int side = (c < 0 || (c == 0 && p->sport <= p->dport)) ? 0 : 1;

	/* The decoder keeps IPv4 addresses in the first 4 bytes, zeroed after. */
	memcpy(k->addr[side], p->src, 16);
	memcpy(k->addr[side ^ 1], p->dst, 16);
	k->ip_ver = p->ip_ver;
	memset(k->pad, 0, sizeof(k->pad));
	k->port[side] = p->sport;
	k->port[side ^ 1] = p->dport;
	k->vlan_proto = (uint32_t)(p->vlan[0] & 0xfff) | ((uint32_t)(p->vlan[1] & 0xfff) << 12) |
			((uint32_t)p->l4_proto << 24);
	return side;
}

/*
 * rte_hash's own hash of a key must equal the signature the workers look it
 * up with (the decoder's symmetric hash of the packet), because
 * rte_hash_get_key_with_position() checks a position by re-hashing its key:
 * the key holds the decoder's fields, hashed the same way.
 */
static uint32_t
key_hash(const void *key, uint32_t len, uint32_t init)
{
	const struct ft_flow_key *k = key;

	RTE_SET_USED(len);
	RTE_SET_USED(init);
	return ft_decode_sym_hash(k->addr[0], k->port[0], k->addr[1], k->port[1],
				  (uint8_t)(k->vlan_proto >> 24),
				  ((k->vlan_proto & 0xfff) << 16) | ((k->vlan_proto >> 12) & 0xfff));
}

struct ft_flow_table *
ft_flow_table_create(const struct ft_flow_table_params *prm)
{
	struct rte_hash_parameters hp = {
		.name = prm->name,
		.entries = RTE_MAX(prm->max_flows, 8u),
		.key_len = sizeof(struct ft_flow_key),
		.hash_func = key_hash,
		.hash_func_init_val = 0,
		.socket_id = prm->socket,
		/* Extendable buckets: the table holds exactly its capacity
		 * whatever the key distribution (a hostile one included). */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	struct ft_flow_table *t;
	unsigned int i;

	t = rte_zmalloc_socket("ft_flow_table", sizeof(*t), RTE_CACHE_LINE_SIZE, prm->socket);
	if (t == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	t->h = rte_hash_create(&hp);
	if (t->h == NULL)
		goto fail;
	t->n_entries = (uint32_t)rte_hash_max_key_id(t->h) + 1;
	t->capacity = hp.entries;
	t->flows = rte_zmalloc_socket("ft_flows", (size_t)t->n_entries * sizeof(struct ft_flow),
				      RTE_CACHE_LINE_SIZE, prm->socket);
	if (t->flows == NULL) {
		rte_errno = ENOMEM;
		goto fail;
	}
	for (i = 0; i < WHEEL_SLOTS; i++)
		t->wheel[i] = NIL;
	t->embryo_head = t->embryo_tail = NIL;
	for (i = 0; i < FT_FLOW_AGE_MAX; i++)
		t->timeout_ns[i] = (uint64_t)prm->timeout_s[i] * 1000000000u;
	/* What a flow costs: its entry, its key slot and its share of the
	 * buckets (8 entries of 8 bytes per 64-byte bucket, and as many again
	 * of extendable buckets), plus the free-slot ring. */
	t->memory = (uint64_t)t->n_entries * (sizeof(struct ft_flow) + sizeof(struct ft_flow_key) +
					      sizeof(void *) + 8 + 8 + 8) + sizeof(*t);
	return t;
fail:
	rte_hash_free(t->h);
	rte_free(t);
	return NULL;
}

void
ft_flow_table_free(struct ft_flow_table *t)
{
	if (t == NULL)
		return;
	rte_hash_free(t->h);
	rte_free(t->flows);
	rte_free(t);
}

uint32_t
ft_flow_count(const struct ft_flow_table *t)
{
	return t->count;
}

uint32_t
ft_flow_capacity(const struct ft_flow_table *t)
{
	return t->capacity;
}

uint64_t
ft_flow_table_memory(const struct ft_flow_table *t)
{
	return t->memory;
}

uint32_t
ft_flow_index(const struct ft_flow_table *t, const struct ft_flow *f)
{
	return (uint32_t)(f - t->flows);
}

struct ft_flow *
ft_flow_at(struct ft_flow_table *t, uint32_t index)
{
	if (index >= t->n_entries || !(t->flows[index].fflags & FT_FLOW_F_LIVE))
		return NULL;
	return &t->flows[index];
}

const struct ft_flow_key *
ft_flow_key_of(const struct ft_flow_table *t, const struct ft_flow *f)
{
	void *key = NULL;

	if (rte_hash_get_key_with_position(t->h, (int32_t)ft_flow_index(t, f), &key) != 0)
		return NULL;
	return key;
}

void
ft_flow_lookup_bulk(struct ft_flow_table *t, const struct ft_flow_key **keys, const uint32_t *sigs,
		    unsigned int n, struct ft_flow **out)
{
	int32_t pos[RTE_HASH_LOOKUP_BULK_MAX];
	hash_sig_t sig[RTE_HASH_LOOKUP_BULK_MAX];
	unsigned int i;

	if (n == 0)
		return;
	n = RTE_MIN(n, (unsigned int)RTE_HASH_LOOKUP_BULK_MAX);
	memcpy(sig, sigs, n * sizeof(sig[0]));
	rte_hash_lookup_with_hash_bulk(t->h, (const void **)keys, sig, n, pos);
	for (i = 0; i < n; i++) {
		if (pos[i] >= 0) {
			out[i] = &t->flows[pos[i]];
			rte_prefetch0(out[i]);
		} else {
			out[i] = NULL;
		}
	}
}

struct ft_flow *
ft_flow_lookup(struct ft_flow_table *t, const struct ft_flow_key *k, uint32_t sig)
{
	int32_t pos = rte_hash_lookup_with_hash(t->h, k, sig);

	return pos >= 0 ? &t->flows[pos] : NULL;
}

/* Timer wheel ---------------------------------------------------------------- */

static void
wheel_file(struct ft_flow_table *t, uint32_t idx, uint64_t due)
{
	struct ft_flow *f = &t->flows[idx];
	uint32_t slot;

	if (due < t->cur_tick)
		due = t->cur_tick;
	if (due >= t->cur_tick + WHEEL_SLOTS)
		due = t->cur_tick + WHEEL_SLOTS - 1;
	slot = (uint32_t)(due & WHEEL_MASK);
	f->wheel_slot = (uint16_t)slot;
	f->wheel_prev = NIL;
	f->wheel_next = t->wheel[slot];
	if (f->wheel_next != NIL)
		t->flows[f->wheel_next].wheel_prev = idx;
	t->wheel[slot] = idx;
}

static void
wheel_unlink(struct ft_flow_table *t, uint32_t idx)
{
	struct ft_flow *f = &t->flows[idx];

	if (f->wheel_slot == NOT_FILED)
		return;
	if (f->wheel_prev != NIL)
		t->flows[f->wheel_prev].wheel_next = f->wheel_next;
	else
		t->wheel[f->wheel_slot] = f->wheel_next;
	if (f->wheel_next != NIL)
		t->flows[f->wheel_next].wheel_prev = f->wheel_prev;
	f->wheel_next = f->wheel_prev = NIL;
	f->wheel_slot = NOT_FILED;
}

/* The first tick that starts at or after last packet + timeout: a flow is
 * never expired early, and at most one tick late. */
static inline uint64_t
due_tick(const struct ft_flow_table *t, const struct ft_flow *f)
{
	return (f->last_ns + t->timeout_ns[f->age] + (UINT64_C(1) << TICK_SHIFT) - 1) >> TICK_SHIFT;
}

/* Embryonic FIFO ---------------------------------------------------------- */

static void
embryo_push(struct ft_flow_table *t, uint32_t idx)
{
	struct ft_flow *f = &t->flows[idx];

	f->embryo_next = NIL;
	f->embryo_prev = t->embryo_tail;
	if (t->embryo_tail != NIL)
		t->flows[t->embryo_tail].embryo_next = idx;
	else
		t->embryo_head = idx;
	t->embryo_tail = idx;
	f->fflags |= FT_FLOW_F_EMBRYO;
}

void
ft_flow_embryo_leave(struct ft_flow_table *t, struct ft_flow *f)
{
	if (!(f->fflags & FT_FLOW_F_EMBRYO))
		return;
	if (f->embryo_prev != NIL)
		t->flows[f->embryo_prev].embryo_next = f->embryo_next;
	else
		t->embryo_head = f->embryo_next;
	if (f->embryo_next != NIL)
		t->flows[f->embryo_next].embryo_prev = f->embryo_prev;
	else
		t->embryo_tail = f->embryo_prev;
	f->fflags &= (uint8_t)~FT_FLOW_F_EMBRYO;
}

struct ft_flow *
ft_flow_oldest_embryo(struct ft_flow_table *t)
{
	return t->embryo_head == NIL ? NULL : &t->flows[t->embryo_head];
}

/* Insert and remove ------------------------------------------------------- */

struct ft_flow *
ft_flow_insert(struct ft_flow_table *t, const struct ft_flow_key *k, uint32_t sig,
	       uint64_t now_ns, uint8_t age, bool embryonic)
{
	int32_t pos = rte_hash_add_key_with_hash(t->h, k, sig);
	struct ft_flow *f;

	if (pos < 0)
		return NULL;
	if (!t->started) {
		t->cur_tick = now_ns >> TICK_SHIFT;
		t->started = true;
	}
	f = &t->flows[pos];
	memset(f, 0, offsetof(struct ft_flow, tcp));
	f->first_ns = f->last_ns = now_ns;
	f->sig = sig;
	f->conn_id = ++t->next_conn_id;
	f->age = age;
	f->fflags = FT_FLOW_F_LIVE;
	f->embryo_next = f->embryo_prev = NIL;
	wheel_file(t, (uint32_t)pos, due_tick(t, f));
	if (embryonic)
		embryo_push(t, (uint32_t)pos);
	t->count++;
	return f;
}

void
ft_flow_set_age(struct ft_flow_table *t, struct ft_flow *f, uint8_t age)
{
	uint8_t old = f->age;

	if (age == old)
		return;
	f->age = age;
	if (t->timeout_ns[age] < t->timeout_ns[old]) {
		uint32_t idx = ft_flow_index(t, f);

		wheel_unlink(t, idx);
		wheel_file(t, idx, due_tick(t, f));
	}
}

void
ft_flow_renew(struct ft_flow_table *t, struct ft_flow *f, uint64_t now_ns, bool embryonic)
{
	f->first_ns = f->last_ns = now_ns;
	f->conn_id = ++t->next_conn_id;
	f->fflags &= (uint8_t)(FT_FLOW_F_LIVE | FT_FLOW_F_EMBRYO | FT_FLOW_F_TCP);
	if (embryonic && !(f->fflags & FT_FLOW_F_EMBRYO))
		embryo_push(t, ft_flow_index(t, f));
}

void
ft_flow_remove(struct ft_flow_table *t, struct ft_flow *f)
{
	uint32_t idx = ft_flow_index(t, f);
	const struct ft_flow_key *k;

	if (!(f->fflags & FT_FLOW_F_LIVE))
		return;
	wheel_unlink(t, idx);
	ft_flow_embryo_leave(t, f);
	k = ft_flow_key_of(t, f);
	f->fflags = 0;
	if (k != NULL)
		rte_hash_del_key_with_hash(t->h, k, f->sig);
	t->count--;
}

/* Ageing ------------------------------------------------------------------ */

unsigned int
ft_flow_age(struct ft_flow_table *t, uint64_t now_ns, unsigned int budget, ft_flow_expire_fn fn,
	    void *arg)
{
	const uint64_t now_tick = now_ns >> TICK_SHIFT;
	unsigned int expired = 0, work = 0;

	if (!t->started)
		return 0;
	/* A clock far ahead (a capture with a jump in time): one lap of the
	 * wheel visits every flow, so skip the empty ticks beyond it. */
	if (now_tick > t->cur_tick + WHEEL_SLOTS)
		t->cur_tick = now_tick - WHEEL_SLOTS;
	while (t->cur_tick <= now_tick) {
		uint32_t slot = (uint32_t)(t->cur_tick & WHEEL_MASK);

		while (t->wheel[slot] != NIL) {
			uint32_t idx = t->wheel[slot];
			struct ft_flow *f = &t->flows[idx];
			uint64_t due;

			if (work++ == budget)
				return expired;
			wheel_unlink(t, idx);
			due = due_tick(t, f);
			if (due > t->cur_tick) {
				wheel_file(t, idx, due);
				continue;
			}
			expired++;
			if (fn(f, arg) == FT_FLOW_FREE)
				ft_flow_remove(t, f);
			else
				wheel_file(t, idx, RTE_MAX(due_tick(t, f), t->cur_tick + 1));
		}
		t->cur_tick++;
	}
	return expired;
}

/* Every live flow is filed on the wheel: walking its slots visits exactly
 * them, without touching the (possibly never used) rest of the table. */
void
ft_flow_foreach(struct ft_flow_table *t, ft_flow_expire_fn fn, void *arg)
{
	uint32_t slot, idx, next;

	for (slot = 0; slot < WHEEL_SLOTS; slot++) {
		for (idx = t->wheel[slot]; idx != NIL; idx = next) {
			struct ft_flow *f = &t->flows[idx];

			next = f->wheel_next;
			if (fn(f, arg) == FT_FLOW_FREE)
				ft_flow_remove(t, f);
		}
	}
}

/* Records ----------------------------------------------------------------- */


void
ft_flow_endpoints(const struct ft_flow_table *t, const struct ft_flow *f, uint8_t addr[2][16],
		  uint16_t port[2])
{
	const struct ft_flow_key *k = ft_flow_key_of(t, f);
	unsigned int o = f->orig_side;

	if (k == NULL) {
		memset(addr, 0, 32);
		port[0] = port[1] = 0;
		return;
	}
	memcpy(addr[0], k->addr[o], 16);
	memcpy(addr[1], k->addr[o ^ 1], 16);
	port[0] = k->port[o];
	port[1] = k->port[o ^ 1];
}

void
ft_flow_record_fill(struct ft_flow_record *rec, const struct ft_flow_table *t,
		    const struct ft_flow *f, enum ft_tcp_end end)
{
	const struct ft_flow_key *k = ft_flow_key_of(t, f);
	const struct ft_tcp_conn *c = &f->tcp;
	unsigned int d;

	memset(rec, 0, sizeof(*rec));
	ft_flow_endpoints(t, f, rec->addr, rec->port);
	rec->first_ns = f->first_ns;
	rec->last_ns = f->last_ns;
	rec->ip_ver = f->ip_ver;
	rec->n_vlan = f->n_vlan;
	if (k != NULL) {
		rec->vlan[0] = (uint16_t)(k->vlan_proto & 0xfff);
		rec->vlan[1] = (uint16_t)((k->vlan_proto >> 12) & 0xfff);
	}
	for (d = 0; d < 2; d++) {
		const struct ft_tcp_endpoint *e = &c->ep[d];

		rec->pkts[d] = e->pkts;
		rec->bytes[d] = ft_tcp_payload_bytes(e);
		rec->ip_bytes[d] = e->ip_bytes;
		rec->state[d] = e->state;
		rec->isn[d] = e->isn;
		if (e->flags & FT_TCPE_ISN)
			rec->has_isn |= (uint8_t)(1u << d);
	}
	rec->anomalies = c->anomalies;
	rec->end = (uint8_t)(c->end != FT_END_NONE ? c->end : end);
	snprintf(rec->conn_state, sizeof(rec->conn_state), "%s", ft_tcp_conn_state(c));
	ft_tcp_history(c, rec->history);
}

int
ft_flow_record_write_json(FILE *out, const struct ft_flow_record *rec)
{
	char a[2][INET6_ADDRSTRLEN];
	static const char *const side[2] = { "orig", "resp" };
	unsigned int d, i, n = 0;

	ft_addr_format(a[0], sizeof(a[0]), rec->ip_ver, rec->addr[0]);
	ft_addr_format(a[1], sizeof(a[1]), rec->ip_ver, rec->addr[1]);
	fprintf(out, "{\"src\":\"%s\",\"sport\":%u,\"dst\":\"%s\",\"dport\":%u,\"proto\":\"tcp\",\"vlan\":[",
		a[0], rec->port[0], a[1], rec->port[1]);
	for (i = 0; i < rec->n_vlan && i < 2; i++)
		fprintf(out, "%s%u", i ? "," : "", rec->vlan[i]);
	fputs("],\"first_ts\":", out);
	ft_json_ts(out, rec->first_ns);
	fputs(",\"last_ts\":", out);
	ft_json_ts(out, rec->last_ns);
	for (d = 0; d < 2; d++)
		fprintf(out, ",\"%s_pkts\":%" PRIu32 ",\"%s_bytes\":%" PRIu64 ",\"%s_ip_bytes\":%" PRIu64,
			side[d], rec->pkts[d], side[d], rec->bytes[d], side[d], rec->ip_bytes[d]);
	for (d = 0; d < 2; d++) {
		if (rec->has_isn & (1u << d))
			fprintf(out, ",\"%s_isn\":%" PRIu32, side[d], rec->isn[d]);
		else
			fprintf(out, ",\"%s_isn\":null", side[d]);
	}
	for (d = 0; d < 2; d++)
		fprintf(out, ",\"%s_state\":\"%s\"", side[d], ft_tcp_state_name(rec->state[d]));
	fputs(",\"conn_state\":", out);
	ft_json_str(out, rec->conn_state);
	fputs(",\"history\":", out);
	ft_json_str(out, rec->history);
	fprintf(out, ",\"end\":\"%s\",\"anomalies\":[", ft_tcp_end_name(rec->end));
	for (i = 0; i < FT_EV_MAX && i < 32; i++)
		if (rec->anomalies & (UINT32_C(1) << i))
			fprintf(out, "%s\"%s\"", n++ ? "," : "", ft_event_name(i));
	fputs("]}\n", out);
	return ferror(out) ? -1 : 0;
}

struct ft_flow *
ft_flow_iterate(struct ft_flow_table *t, uint32_t *pos)
{
	const void *key;
	void *data;
	int32_t idx;

	while ((idx = rte_hash_iterate(t->h, &key, &data, pos)) >= 0) {
		if ((uint32_t)idx < t->n_entries && (t->flows[idx].fflags & FT_FLOW_F_LIVE))
			return &t->flows[idx];
	}
	return NULL;
}

uint64_t
ft_flow_expiry_ns(const struct ft_flow_table *t, const struct ft_flow *f)
{
	return f->last_ns + t->timeout_ns[f->age];
}
