/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One worker's flow table: its own bucketed cuckoo hash table with the key in
 * the entry, a timer wheel and an embryonic FIFO threaded through the entries
 * by index (no pointers, no allocation after creation).
 *
 * Why not DPDK's rte_hash (which the house rules prefer, and which this
 * table was until issue #6): measured with perf record, offline, 10M frames
 * over 1M connections on one worker, rte_hash's internals took ~25% of the
 * worker plus 5% in memcmp of its 48-byte keys; a lookup of a cold flow cost
 * three cache misses (the bucket, the key in rte_hash's key store, then our
 * entry indexed by the key's position); a connection cost 329 bytes (240 of
 * entry, 48 of key, 8 of key slot, ~33 of buckets, extendable buckets and
 * free-slot ring); and a SYN flood into a full table ran at 0.23 Mpps, 45% of
 * it in rte_hash's insert searching full buckets. rte_hash cannot keep the
 * key in our entry nor compare a 40-byte key inline, so it stays three misses.
 *
 * Layout:
 *   - buckets: one 64-byte line each, 8 slots of (32-bit signature, 32-bit
 *     entry index); ceil(max_flows / 7) of them, so at max_flows the load is
 *     at most 7/8. Indexes come from the signature multiplied into 32 bits
 *     of a 64-bit product and scaled by the bucket count (a multiply and a
 *     shift: no division, and any bucket count, so no power-of-two rounding
 *     wastes memory). The multiply first matters: ft_decode_owner() picks a
 *     worker by the signature's high bits, which are nearly constant within
 *     one worker.
 *   - each signature has two candidate buckets, both computed from the
 *     signature alone, so a slot can move to its alternate (cuckoo) without
 *     reading the key. An insert takes the first candidate when it has room,
 *     else the second; each bucket counts the slots that spilled from it into
 *     their second candidate (spill[]), and a bulk lookup reads the second
 *     bucket's line only when that count is not zero (at 7/8 load about a
 *     quarter of the buckets spill: ~1.3 bucket lines per lookup instead of
 *     2). When both are full a breadth-first search of at most CUCKOO_NODES buckets finds a
 *     chain of moves that frees a slot in one of them; failing that, the
 *     stash (STASH_SLOTS slots in the table header, looked at only while not
 *     empty, refilled into buckets as slots free up) takes it; failing that
 *     the insert is refused (ENOBUFS). Only crafted collisions get there: the
 *     signature is a fixed-seed CRC.
 *   - entries: one array of exactly max_flows, line-aligned 192-byte entries
 *     (the key's line, then the TCP state's two), so a lookup reads its
 *     bucket line(s) and the entry's three lines, all prefetched a burst at a
 *     time. What only insertion, ageing and removal touch (wheel and FIFO
 *     links, first packet time) is in a parallel array of struct flow_links.
 *     Free entries form a list through their links' wheel_next; entries never
 *     used lie above a high-water mark and are never touched.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
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
/* wheel_prev of the first flow of slot s: WHEEL_HEAD + s (entry indexes stay
 * below it), so no per-flow slot number is needed to unlink it. */
#define WHEEL_HEAD (NIL - WHEEL_SLOTS)
#define MAX_ENTRIES (UINT32_C(1) << 31)

#define BUCKET_SLOTS 8
#define EMPTY NIL            /* entry index of an empty slot */
#define STASH_SLOTS 8
#define CUCKOO_NODES 64      /* buckets the displacement search may read */
#define LOOKUP_CHUNK 64      /* keys staged at once by the bulk lookup */
#define SPILL_STUCK UINT8_MAX /* a spill count that stays (see spill[]) */

struct bucket {
	uint32_t sig[BUCKET_SLOTS];
	uint32_t idx[BUCKET_SLOTS];
} __rte_aligned(RTE_CACHE_LINE_SIZE);

/* What only insertion, ageing and removal touch, apart from the entries so
 * that a packet touches its entry's three lines and no other: the timer
 * wheel's and the embryonic FIFO's links, and the first packet time. A free
 * entry threads the free list through wheel_next. */
struct flow_links {
	uint32_t wheel_next, wheel_prev;   /* timer wheel slot list (prev: a slot's tag at its head) */
	uint32_t embryo_next, embryo_prev; /* embryonic FIFO */
	uint64_t first_ns;                 /* first packet time */
};

struct ft_flow_table {
	struct bucket *buckets;
	struct ft_flow *flows;
	struct flow_links *links;          /* links[i] goes with flows[i] */
	/* spill[b]: slots whose first candidate is bucket b that sit in their
	 * second. New flows take their first candidate when it has room, so
	 * most buckets spill nothing, and a bulk lookup reads the second
	 * candidate's line only when spill[] says it may hold the key. One
	 * byte per bucket, so that the array stays in L2 (150 KB for a 1M
	 * table; as uint32_t, its random reads missed the cache and took a
	 * third of the lookup). A count that reaches SPILL_STUCK stays there
	 * (it no longer knows when it could drop to 0): that bucket's second
	 * candidate is always read. Only crafted collisions get there. */
	uint8_t *spill;
	uint32_t n_buckets;
	uint32_t capacity;      /* size of flows[] */
	uint32_t count;
	uint32_t top;           /* entries above it were never used */
	uint32_t free_head;     /* free entries below top */
	uint32_t next_conn_id;
	uint32_t embryo_head, embryo_tail;
	uint32_t stash_n;
	uint64_t moves;         /* cuckoo moves made */
	uint32_t stash_sig[STASH_SLOTS];
	uint32_t stash_idx[STASH_SLOTS];
	bool started;
	uint64_t cur_tick;      /* next tick to process */
	uint64_t timeout_ns[FT_FLOW_AGE_MAX];
	uint64_t memory;
	uint32_t wheel[WHEEL_SLOTS];
};

unsigned int
ft_flow_key_make(const struct ft_pkt *p, struct ft_flow_key *k)
{
	int c = ft_addr_cmp(p->src, p->dst);
	unsigned int side = (c < 0 || (c == 0 && p->sport <= p->dport)) ? 0 : 1;
	const uint8_t *a0 = side == 0 ? p->src : p->dst, *a1 = side == 0 ? p->dst : p->src;

	if (p->ip_ver == 4) {
		/* The decoder keeps IPv4 addresses in the first 4 bytes. */
		memset(k->addr[0], 0xff, 12);
		memcpy(&k->addr[0][12], a0, 4);
		memset(k->addr[1], 0, 12);
		memcpy(&k->addr[1][12], a1, 4);
	} else {
		memcpy(k->addr[0], a0, 16);
		memcpy(k->addr[1], a1, 16);
	}
	k->port[side] = p->sport;
	k->port[side ^ 1] = p->dport;
	k->vlan_proto = (uint32_t)(p->vlan[0] & 0xfff) | ((uint32_t)(p->vlan[1] & 0xfff) << 12) |
			((uint32_t)p->l4_proto << 24);
	return side;
}

/* 40 bytes as five 8-byte words (memcpy: the caller's keys are only 4-byte
 * aligned; the compiler makes plain loads of it). */
static inline bool
key_eq(const struct ft_flow_key *a, const struct ft_flow_key *b)
{
	const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;
	uint64_t d = 0, u, v;
	unsigned int i;

	RTE_BUILD_BUG_ON(sizeof(struct ft_flow_key) != 40);
	for (i = 0; i < 40; i += 8) {
		memcpy(&u, x + i, 8);
		memcpy(&v, y + i, 8);
		d |= u ^ v;
	}
	return d == 0;
}

/* Buckets ------------------------------------------------------------------ */

/*
 * A signature's candidate buckets are the two halves of its 64-bit product
 * with an odd constant (each depends on all of its bits) scaled to
 * n_buckets: the low half gives the first, the high half the second.
 */
static inline uint64_t
sig_mix(uint32_t sig)
{
	return (uint64_t)sig * UINT64_C(0x9e3779b97f4a7c15);
}

static inline uint32_t
scale_to_buckets(const struct ft_flow_table *t, uint32_t half)
{
	return (uint32_t)(((uint64_t)half * t->n_buckets) >> 32);
}

/* Both candidate buckets of a signature (distinct). */
static inline void
buckets_of(const struct ft_flow_table *t, uint32_t sig, uint32_t *b1, uint32_t *b2)
{
	const uint64_t m = sig_mix(sig);
	uint32_t x = scale_to_buckets(t, (uint32_t)m);
	uint32_t y = scale_to_buckets(t, (uint32_t)(m >> 32));

	if (y == x)
		y = x + 1 == t->n_buckets ? 0 : x + 1;
	*b1 = x;
	*b2 = y;
}

/* The other candidate of a signature sitting in bucket b. */
static inline uint32_t
alt_bucket(const struct ft_flow_table *t, uint32_t b, uint32_t sig)
{
	uint32_t b1, b2;

	buckets_of(t, sig, &b1, &b2);
	return b == b1 ? b2 : b1;
}

/* Slots of a bucket holding signature sig, as a bit mask (empty slots left
 * out). A loop the compiler can turn into two vector compares. */
static inline unsigned int
sig_hits(const struct bucket *bk, uint32_t sig)
{
	unsigned int i, m = 0;

	for (i = 0; i < BUCKET_SLOTS; i++)
		m |= (unsigned int)(bk->sig[i] == sig && bk->idx[i] != EMPTY) << i;
	return m;
}

static inline int
free_slot(const struct bucket *bk)
{
	int i;

	for (i = 0; i < BUCKET_SLOTS; i++)
		if (bk->idx[i] == EMPTY)
			return i;
	return -1;
}

/* A slot of signature sig entered (delta 1) or left (-1) bucket b: keep
 * its first candidate's spill count. */
static inline void
spill_count(struct ft_flow_table *t, uint32_t b, uint32_t sig, int delta)
{
	uint32_t b1, b2;

	buckets_of(t, sig, &b1, &b2);
	if (b != b1 && t->spill[b1] != SPILL_STUCK)
		t->spill[b1] = (uint8_t)(t->spill[b1] + delta);
}

/* Move slot s of bucket from into free slot d of bucket to. */
static inline void
slot_move(struct ft_flow_table *t, uint32_t from, unsigned int s, uint32_t to, unsigned int d)
{
	struct bucket *a = &t->buckets[from], *b = &t->buckets[to];

	b->sig[d] = a->sig[s];
	b->idx[d] = a->idx[s];
	a->idx[s] = EMPTY;
	spill_count(t, from, a->sig[s], -1);
	spill_count(t, to, b->sig[d], 1);
	t->moves++;
}

/*
 * Both candidates are full: search breadth first, over at most CUCKOO_NODES
 * buckets, for a slot whose alternate bucket has room, then move the chain
 * of slots that leads to it back to the start, freeing a slot in b1 or b2.
 * Each move is checked when made (the search saw the table before any move;
 * a chain through one bucket twice could otherwise move the wrong slot), so a
 * slot only ever goes to its own alternate bucket and lookups stay exact.
 * @return the bucket freed (b1 or b2) with *slot, or NIL
 */
static uint32_t
cuckoo_make_room(struct ft_flow_table *t, uint32_t b1, uint32_t b2, unsigned int *slot)
{
	struct {
		uint32_t bucket;
		int16_t parent;     /* node of the bucket its slot came from */
		uint8_t from_slot;  /* that slot, in the parent's bucket */
	} q[CUCKOO_NODES];
	unsigned int head = 0, tail = 0;

	q[tail].bucket = b1;
	q[tail].parent = -1;
	q[tail++].from_slot = 0;
	q[tail].bucket = b2;
	q[tail].parent = -1;
	q[tail++].from_slot = 0;
	for (; head < tail; head++) {
		const uint32_t b = q[head].bucket;
		const struct bucket *bk = &t->buckets[b];
		unsigned int s;

		for (s = 0; s < BUCKET_SLOTS; s++) {
			const uint32_t alt = alt_bucket(t, b, bk->sig[s]);
			int d;

			if (alt == b)
				continue;
			d = free_slot(&t->buckets[alt]);
			if (d >= 0) {
				/* Found: move this slot out, then each parent's slot
				 * into the slot just freed, up to a start bucket. */
				int n = (int)head;
				uint32_t cb = b;
				unsigned int cs = s;

				slot_move(t, cb, cs, alt, (unsigned int)d);
				while (q[n].parent >= 0) {
					const int p = q[n].parent;
					const uint32_t pb = q[p].bucket;
					const unsigned int ps = q[n].from_slot;

					if (t->buckets[pb].idx[ps] == EMPTY ||
					    alt_bucket(t, pb, t->buckets[pb].sig[ps]) != cb)
						return NIL;
					slot_move(t, pb, ps, cb, cs);
					cb = pb;
					cs = ps;
					n = p;
				}
				*slot = cs;
				return cb;
			}
			if (tail < CUCKOO_NODES) {
				q[tail].bucket = alt;
				q[tail].parent = (int16_t)head;
				q[tail++].from_slot = (uint8_t)s;
			}
		}
	}
	return NIL;
}

/* Take stash slot i out (the last one fills its place). */
static inline void
stash_drop(struct ft_flow_table *t, unsigned int i)
{
	t->stash_n--;
	t->stash_sig[i] = t->stash_sig[t->stash_n];
	t->stash_idx[i] = t->stash_idx[t->stash_n];
}

/* A bucket slot freed: a stashed signature that belongs there moves in. */
static void
stash_refill(struct ft_flow_table *t, uint32_t b, unsigned int s)
{
	unsigned int i;

	for (i = 0; i < t->stash_n; i++) {
		uint32_t b1, b2;

		buckets_of(t, t->stash_sig[i], &b1, &b2);
		if (b1 != b && b2 != b)
			continue;
		t->buckets[b].sig[s] = t->stash_sig[i];
		t->buckets[b].idx[s] = t->stash_idx[i];
		spill_count(t, b, t->stash_sig[i], 1);
		stash_drop(t, i);
		return;
	}
}

/* Table --------------------------------------------------------------------- */

struct ft_flow_table *
ft_flow_table_create(const struct ft_flow_table_params *prm)
{
	const char *name = prm->name != NULL ? prm->name : "ft_flows";
	struct ft_flow_table *t;
	uint32_t cap = RTE_MAX(prm->max_flows, 8u);
	size_t bsize, fsize, lsize, ssize;
	unsigned int i;

	if (cap > MAX_ENTRIES) {
		rte_errno = EINVAL;
		return NULL;
	}
	t = rte_zmalloc_socket(name, sizeof(*t), RTE_CACHE_LINE_SIZE, prm->socket);
	if (t == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	t->capacity = cap;
	/* At most 7 of 8 slots in use at max_flows: inserts seldom need a
	 * displacement, and the search finds one quickly when they do. */
	t->n_buckets = (cap + 6) / 7;
	bsize = (size_t)t->n_buckets * sizeof(struct bucket);
	fsize = (size_t)cap * sizeof(struct ft_flow);
	lsize = (size_t)cap * sizeof(struct flow_links);
	ssize = (size_t)t->n_buckets * sizeof(t->spill[0]);
	t->buckets = rte_malloc_socket(name, bsize, RTE_CACHE_LINE_SIZE, prm->socket);
	t->flows = rte_zmalloc_socket(name, fsize, RTE_CACHE_LINE_SIZE, prm->socket);
	t->links = rte_zmalloc_socket(name, lsize, RTE_CACHE_LINE_SIZE, prm->socket);
	t->spill = rte_zmalloc_socket(name, ssize, RTE_CACHE_LINE_SIZE, prm->socket);
	if (t->buckets == NULL || t->flows == NULL || t->links == NULL || t->spill == NULL) {
		rte_free(t->buckets);
		rte_free(t->flows);
		rte_free(t->links);
		rte_free(t->spill);
		rte_free(t);
		rte_errno = ENOMEM;
		return NULL;
	}
	memset(t->buckets, 0xff, bsize); /* every idx EMPTY */
	t->free_head = NIL;
	for (i = 0; i < WHEEL_SLOTS; i++)
		t->wheel[i] = NIL;
	t->embryo_head = t->embryo_tail = NIL;
	for (i = 0; i < FT_FLOW_AGE_MAX; i++)
		t->timeout_ns[i] = (uint64_t)prm->timeout_s[i] * 1000000000u;
	t->memory = sizeof(*t) + bsize + fsize + lsize + ssize;
	return t;
}

void
ft_flow_table_free(struct ft_flow_table *t)
{
	if (t == NULL)
		return;
	rte_free(t->buckets);
	rte_free(t->flows);
	rte_free(t->links);
	rte_free(t->spill);
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

uint64_t
ft_flow_moves(const struct ft_flow_table *t)
{
	return t->moves;
}

uint32_t
ft_flow_stashed(const struct ft_flow_table *t)
{
	return t->stash_n;
}

uint32_t
ft_flow_index(const struct ft_flow_table *t, const struct ft_flow *f)
{
	return (uint32_t)(f - t->flows);
}

struct ft_flow *
ft_flow_at(struct ft_flow_table *t, uint32_t index)
{
	if (index >= t->top || !(t->flows[index].fflags & FT_FLOW_F_LIVE))
		return NULL;
	return &t->flows[index];
}

uint64_t
ft_flow_first_ns(const struct ft_flow_table *t, const struct ft_flow *f)
{
	return t->links[ft_flow_index(t, f)].first_ns;
}

const struct ft_flow_key *
ft_flow_key_of(const struct ft_flow_table *t, const struct ft_flow *f)
{
	RTE_SET_USED(t);
	return &f->key;
}

/* Lookup -------------------------------------------------------------------- */

/* Every line of a candidate entry: its key for the compare, then the
 * connection state the tracker reads and writes right after the lookup (a
 * 32-bit signature match is almost always the flow, so the lines are rarely
 * wasted; fetched here, the misses of a whole burst overlap instead of
 * stalling the tracker one packet at a time). Entries are not a whole
 * number of lines: the last byte's line too. */
static inline void
prefetch_entry(const struct ft_flow *f)
{
	const char *p = (const char *)f;
	unsigned int off;

	for (off = 0; off < sizeof(*f); off += RTE_CACHE_LINE_SIZE)
		rte_prefetch0(p + off);
	if (sizeof(*f) % RTE_CACHE_LINE_SIZE != 0)
		rte_prefetch0(p + sizeof(*f) - 1);
}

/* The flow among the slots in mask m of bucket bk whose key is k. */
static inline struct ft_flow *
match(struct ft_flow_table *t, const struct bucket *bk, unsigned int m, const struct ft_flow_key *k)
{
	while (m != 0) {
		struct ft_flow *f = &t->flows[bk->idx[__builtin_ctz(m)]];

		if (key_eq(&f->key, k))
			return f;
		m &= m - 1;
	}
	return NULL;
}

static struct ft_flow *
stash_lookup(struct ft_flow_table *t, const struct ft_flow_key *k, uint32_t sig)
{
	unsigned int i;

	for (i = 0; i < t->stash_n; i++) {
		if (t->stash_sig[i] == sig && key_eq(&t->flows[t->stash_idx[i]].key, k))
			return &t->flows[t->stash_idx[i]];
	}
	return NULL;
}

/* Three passes over the keys, so that each pass's cache misses overlap
 * instead of following each other key by key. */
static void
lookup_chunk(struct ft_flow_table *t, const struct ft_flow_key **keys, const uint32_t *sigs,
	     unsigned int n, struct ft_flow **out)
{
	uint32_t b1[LOOKUP_CHUNK], b2[LOOKUP_CHUNK];
	uint16_t hits[LOOKUP_CHUNK];
	bool second[LOOKUP_CHUNK];
	unsigned int i;

	/* The spill counts are prefetched with the first buckets and read in a
	 * pass of their own: read at once, each was a cache miss waited for
	 * (a quarter of this function with 1M flows). */
	for (i = 0; i < n; i++) {
		buckets_of(t, sigs[i], &b1[i], &b2[i]);
		rte_prefetch0(&t->buckets[b1[i]]);
		rte_prefetch0(&t->spill[b1[i]]);
	}
	for (i = 0; i < n; i++) {
		/* The second candidate only when something spilled there. */
		second[i] = t->spill[b1[i]] != 0;
		if (second[i])
			rte_prefetch0(&t->buckets[b2[i]]);
	}
	for (i = 0; i < n; i++) {
		unsigned int m = sig_hits(&t->buckets[b1[i]], sigs[i]), r;

		if (second[i])
			m |= sig_hits(&t->buckets[b2[i]], sigs[i]) << BUCKET_SLOTS;
		r = m;

		hits[i] = (uint16_t)m;
		while (r != 0) {
			unsigned int s = (unsigned int)__builtin_ctz(r);
			const struct bucket *bk = &t->buckets[s < BUCKET_SLOTS ? b1[i] : b2[i]];

			prefetch_entry(&t->flows[bk->idx[s & (BUCKET_SLOTS - 1)]]);
			r &= r - 1;
		}
	}
	for (i = 0; i < n; i++) {
		struct ft_flow *f = match(t, &t->buckets[b1[i]], hits[i] & 0xff, keys[i]);

		if (f == NULL)
			f = match(t, &t->buckets[b2[i]], hits[i] >> BUCKET_SLOTS, keys[i]);
		if (f == NULL && unlikely(t->stash_n != 0))
			f = stash_lookup(t, keys[i], sigs[i]);
		out[i] = f;
	}
}

void
ft_flow_prefetch_sig(const struct ft_flow_table *t, uint32_t sig)
{
	/* The first bucket alone (as buckets_of() picks it): a hint is paid
	 * on every packet, and the second is read only after a spill. */
	const uint32_t b1 = scale_to_buckets(t, (uint32_t)sig_mix(sig));

	rte_prefetch0(&t->buckets[b1]);
	rte_prefetch0(&t->spill[b1]);
}

/* One key: the same passes, so one place knows where a key may be. */
struct ft_flow *
ft_flow_lookup(struct ft_flow_table *t, const struct ft_flow_key *k, uint32_t sig)
{
	struct ft_flow *f;

	lookup_chunk(t, &k, &sig, 1, &f);
	return f;
}

void
ft_flow_lookup_bulk(struct ft_flow_table *t, const struct ft_flow_key **keys, const uint32_t *sigs,
		    unsigned int n, struct ft_flow **out)
{
	unsigned int i, c;

	for (i = 0; i < n; i += c) {
		c = RTE_MIN(n - i, (unsigned int)LOOKUP_CHUNK);
		lookup_chunk(t, keys + i, sigs + i, c, out + i);
	}
}

/* Timer wheel ---------------------------------------------------------------- */

static void
wheel_file(struct ft_flow_table *t, uint32_t idx, uint64_t due)
{
	struct flow_links *f = &t->links[idx];
	uint32_t slot;

	if (due < t->cur_tick)
		due = t->cur_tick;
	if (due >= t->cur_tick + WHEEL_SLOTS)
		due = t->cur_tick + WHEEL_SLOTS - 1;
	slot = (uint32_t)(due & WHEEL_MASK);
	f->wheel_prev = WHEEL_HEAD + slot;
	f->wheel_next = t->wheel[slot];
	if (f->wheel_next != NIL)
		t->links[f->wheel_next].wheel_prev = idx;
	t->wheel[slot] = idx;
}

static void
wheel_unlink(struct ft_flow_table *t, uint32_t idx)
{
	struct flow_links *f = &t->links[idx];

	if (f->wheel_prev == NIL) /* not filed */
		return;
	if (f->wheel_prev >= WHEEL_HEAD)
		t->wheel[f->wheel_prev - WHEEL_HEAD] = f->wheel_next;
	else
		t->links[f->wheel_prev].wheel_next = f->wheel_next;
	if (f->wheel_next != NIL)
		t->links[f->wheel_next].wheel_prev = f->wheel_prev;
	f->wheel_next = f->wheel_prev = NIL;
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
	struct flow_links *l = &t->links[idx];

	l->embryo_next = NIL;
	l->embryo_prev = t->embryo_tail;
	if (t->embryo_tail != NIL)
		t->links[t->embryo_tail].embryo_next = idx;
	else
		t->embryo_head = idx;
	t->embryo_tail = idx;
	t->flows[idx].fflags |= FT_FLOW_F_EMBRYO;
}

void
ft_flow_embryo_leave(struct ft_flow_table *t, struct ft_flow *f)
{
	const struct flow_links *l = &t->links[ft_flow_index(t, f)];

	if (!(f->fflags & FT_FLOW_F_EMBRYO))
		return;
	if (l->embryo_prev != NIL)
		t->links[l->embryo_prev].embryo_next = l->embryo_next;
	else
		t->embryo_head = l->embryo_next;
	if (l->embryo_next != NIL)
		t->links[l->embryo_next].embryo_prev = l->embryo_prev;
	else
		t->embryo_tail = l->embryo_prev;
	f->fflags &= (uint8_t)~FT_FLOW_F_EMBRYO;
}

struct ft_flow *
ft_flow_oldest_embryo(struct ft_flow_table *t)
{
	return t->embryo_head == NIL ? NULL : &t->flows[t->embryo_head];
}

/*
 * Two flows ahead, in two steps, since the bucket of the next one is found
 * through its signature, in its entry: the head's buckets (the lines its
 * removal waited on: 80% of ft_flow_remove() in a SYN flood, perf) and its
 * wheel neighbours' links, from its entry and links fetched by the call
 * before; the next one's entry and links for the call after.
 */
void
ft_flow_embryo_prefetch(const struct ft_flow_table *t)
{
	const struct flow_links *l;
	uint32_t head = t->embryo_head, b1, b2;

	if (head == NIL)
		return;
	l = &t->links[head];
	buckets_of(t, t->flows[head].sig, &b1, &b2);
	rte_prefetch0(&t->buckets[b1]);
	rte_prefetch0(&t->buckets[b2]); /* a full table moved many into their second */
	if (l->wheel_prev != NIL && l->wheel_prev < WHEEL_HEAD)
		rte_prefetch0(&t->links[l->wheel_prev]);
	if (l->wheel_next != NIL)
		rte_prefetch0(&t->links[l->wheel_next]);
	if (l->embryo_next != NIL) {
		rte_prefetch0(&t->flows[l->embryo_next]);
		rte_prefetch0(&t->links[l->embryo_next]);
	}
}

/* Insert and remove ------------------------------------------------------- */

/* The entry the next insert will take, for writing: its three lines are
 * written right after (the key; the TCP state's init and first update) and
 * its links read (the free list) and written. Fetched one insert ahead, a
 * burst of new connections does not stall on each of them in turn. */
static inline void
prefetch_next_free(const struct ft_flow_table *t)
{
	const uint32_t idx = t->free_head != NIL ? t->free_head : t->top;
	const char *p;
	unsigned int off;

	if (idx >= t->capacity)
		return;
	p = (const char *)&t->flows[idx];
	for (off = 0; off < sizeof(struct ft_flow); off += RTE_CACHE_LINE_SIZE)
		rte_prefetch0_write(p + off);
	rte_prefetch0_write(&t->links[idx]);
}

struct ft_flow *
ft_flow_insert(struct ft_flow_table *t, const struct ft_flow_key *k, uint32_t sig,
	       uint64_t now_ns, uint8_t age, bool embryonic)
{
	uint32_t b1, b2, b, idx;
	unsigned int s = 0;
	int free1, free2;
	struct ft_flow *f;

	/* A place for the signature first, even in a full table: a caller
	 * told ENOSPC evicts a flow and retries, and finds the place still
	 * free; one told ENOBUFS knows evicting would not help. */
	buckets_of(t, sig, &b1, &b2);
	free1 = free_slot(&t->buckets[b1]);
	free2 = free1 >= 0 ? -1 : free_slot(&t->buckets[b2]);
	if (free1 >= 0 || free2 >= 0) {
		/* The first candidate when it has room: see spill. */
		b = free1 >= 0 ? b1 : b2;
		s = (unsigned int)(free1 >= 0 ? free1 : free2);
	} else {
		b = cuckoo_make_room(t, b1, b2, &s);
		if (b == NIL && t->stash_n == STASH_SLOTS) {
			rte_errno = ENOBUFS;
			return NULL;
		}
	}
	if (t->free_head != NIL) {
		idx = t->free_head;
		t->free_head = t->links[idx].wheel_next;
	} else if (t->top < t->capacity) {
		idx = t->top++;
	} else {
		rte_errno = ENOSPC;
		return NULL;
	}
	if (b != NIL) {
		t->buckets[b].sig[s] = sig;
		t->buckets[b].idx[s] = idx;
		spill_count(t, b, sig, 1);
	} else {
		t->stash_sig[t->stash_n] = sig;
		t->stash_idx[t->stash_n++] = idx;
	}
	if (!t->started) {
		t->cur_tick = now_ns >> TICK_SHIFT;
		t->started = true;
	}
	f = &t->flows[idx];
	memset(f, 0, offsetof(struct ft_flow, tcp));
	f->key = *k;
	f->last_ns = t->links[idx].first_ns = now_ns;
	f->sig = sig;
	f->conn_id = ++t->next_conn_id;
	f->age = age;
	f->fflags = FT_FLOW_F_LIVE;
	t->links[idx].embryo_next = t->links[idx].embryo_prev = NIL;
	wheel_file(t, idx, due_tick(t, f));
	if (embryonic)
		embryo_push(t, idx);
	t->count++;
	prefetch_next_free(t);
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
	f->last_ns = t->links[ft_flow_index(t, f)].first_ns = now_ns;
	f->conn_id = ++t->next_conn_id;
	f->fflags &= (uint8_t)(FT_FLOW_F_LIVE | FT_FLOW_F_EMBRYO | FT_FLOW_F_TCP);
	if (embryonic && !(f->fflags & FT_FLOW_F_EMBRYO))
		embryo_push(t, ft_flow_index(t, f));
}

/* Empty the slot holding entry idx (one of its signature's buckets, or the
 * stash). */
static void
slot_clear(struct ft_flow_table *t, uint32_t sig, uint32_t idx)
{
	uint32_t bs[2];
	unsigned int i, s;

	buckets_of(t, sig, &bs[0], &bs[1]);
	for (i = 0; i < 2; i++) {
		struct bucket *bk = &t->buckets[bs[i]];

		for (s = 0; s < BUCKET_SLOTS; s++) {
			if (bk->idx[s] == idx) {
				bk->idx[s] = EMPTY;
				spill_count(t, bs[i], sig, -1);
				if (unlikely(t->stash_n != 0))
					stash_refill(t, bs[i], s);
				return;
			}
		}
	}
	for (i = 0; i < t->stash_n; i++) {
		if (t->stash_idx[i] == idx) {
			stash_drop(t, i);
			return;
		}
	}
}

void
ft_flow_remove(struct ft_flow_table *t, struct ft_flow *f)
{
	uint32_t idx = ft_flow_index(t, f);

	if (!(f->fflags & FT_FLOW_F_LIVE))
		return;
	wheel_unlink(t, idx);
	ft_flow_embryo_leave(t, f);
	slot_clear(t, f->sig, idx);
	f->fflags = 0;
	t->links[idx].wheel_next = t->free_head;
	t->free_head = idx;
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

/* Entries below the high-water mark, in order: the hardware prefetcher
 * follows the walk, and the next entries' lines are asked for ahead. */
#define WALK_AHEAD 4

/* Hand every live flow to fn, in entry order; FT_FLOW_FREE removes it when
 * @p may_remove (not when the whole table is emptied afterwards).
 * @return the flows handed over */
static uint32_t
walk_live(struct ft_flow_table *t, ft_flow_expire_fn fn, void *arg, bool may_remove)
{
	uint32_t idx, n = 0;

	for (idx = 0; idx < t->top; idx++) {
		struct ft_flow *f = &t->flows[idx];

		if (idx + WALK_AHEAD < t->top)
			prefetch_entry(&t->flows[idx + WALK_AHEAD]);
		if (!(f->fflags & FT_FLOW_F_LIVE))
			continue;
		n++;
		if (fn(f, arg) == FT_FLOW_FREE && may_remove)
			ft_flow_remove(t, f);
	}
	return n;
}

void
ft_flow_foreach(struct ft_flow_table *t, ft_flow_expire_fn fn, void *arg)
{
	walk_live(t, fn, arg, true);
}

uint32_t
ft_flow_flush(struct ft_flow_table *t, ft_flow_expire_fn fn, void *arg)
{
	const uint32_t n = walk_live(t, fn, arg, false);
	uint32_t i;

	/* Empty, as created. Every entry lies above the high-water mark
	 * again: never read as live (ft_flow_at, iteration and walks stop at
	 * top) until an insert takes and re-initialises it. */
	memset(t->buckets, 0xff, (size_t)t->n_buckets * sizeof(struct bucket));
	memset(t->spill, 0, (size_t)t->n_buckets * sizeof(t->spill[0]));
	for (i = 0; i < WHEEL_SLOTS; i++)
		t->wheel[i] = NIL;
	t->embryo_head = t->embryo_tail = NIL;
	t->free_head = NIL;
	t->top = 0;
	t->stash_n = 0;
	t->count = 0;
	return n;
}

/* Records ----------------------------------------------------------------- */


void
ft_flow_endpoints(const struct ft_flow_table *t, const struct ft_flow *f, uint8_t addr[2][16],
		  uint16_t port[2])
{
	const struct ft_flow_key *k = &f->key;
	unsigned int o = f->orig_side;

	RTE_SET_USED(t);
	if (ft_flow_key_ip_ver(k) == 4) {
		/* Back to the decoder's form: the address first, zeros after. */
		memset(addr, 0, 32);
		memcpy(addr[0], &k->addr[o][12], 4);
		memcpy(addr[1], &k->addr[o ^ 1][12], 4);
	} else {
		memcpy(addr[0], k->addr[o], 16);
		memcpy(addr[1], k->addr[o ^ 1], 16);
	}
	port[0] = k->port[o];
	port[1] = k->port[o ^ 1];
}

void
ft_flow_record_fill(struct ft_flow_record *rec, const struct ft_flow_table *t,
		    const struct ft_flow *f, enum ft_tcp_end end)
{
	const struct ft_flow_key *k = &f->key;
	const struct ft_tcp_conn *c = &f->tcp;
	const char *cs;
	unsigned int d;

	memset(rec, 0, sizeof(*rec));
	ft_flow_endpoints(t, f, rec->addr, rec->port);
	rec->first_ns = ft_flow_first_ns(t, f);
	rec->last_ns = f->last_ns;
	rec->ip_ver = f->ip_ver;
	rec->n_vlan = f->n_vlan;
	rec->vlan[0] = (uint16_t)(k->vlan_proto & 0xfff);
	rec->vlan[1] = (uint16_t)((k->vlan_proto >> 12) & 0xfff);
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
	/* Zeroed above, and the names are 2-6 letters: a bounded copy, not
	 * snprintf (a tenth of a microsecond per record on the worker). */
	cs = ft_tcp_conn_state(c);
	memcpy(rec->conn_state, cs, strnlen(cs, sizeof(rec->conn_state) - 1));
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
	uint32_t i;

	for (i = *pos; i < t->top; i++) {
		if (t->flows[i].fflags & FT_FLOW_F_LIVE) {
			*pos = i + 1;
			return &t->flows[i];
		}
	}
	*pos = t->top;
	return NULL;
}

uint64_t
ft_flow_expiry_ns(const struct ft_flow_table *t, const struct ft_flow *f)
{
	return f->last_ns + t->timeout_ns[f->age];
}
