/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/flow: the canonical flow key, the table (insert, lookup,
 * bulk lookup, exact capacity, cuckoo moves, a bucket-collision flood refused,
 * remove, iteration), the keys and
 * endpoints it gives back, the embryonic FIFO, the timer wheel (exact expiry
 * tick, re-filing, shorter classes, timeouts beyond the wheel's span, the
 * per-call budget, jumps in time), ft_flow_foreach, ft_flow_renew, and the
 * flow record's JSON line (DESIGN.md section 4, README "Flow records").
 *
 * The table is in DPDK memory: the EAL runs without hugepages, with a private
 * file prefix whose runtime directory is removed at the end (ft_unit.h).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include "ft_decode.h"
#include "ft_flow.h"
#include "ft_tcp.h"
#include "ft_unit.h"

#define NS_S 1000000000ull
#define TICK (UINT64_C(1) << 30)
/* A tick-aligned start time (the wheel's ticks are 2^30 ns). */
#define T0 (((1767225600ull * NS_S) >> 30) << 30)
#define K0 (T0 >> 30)

/* ------------------------------------------------------------------------ */
/* Packets, keys, tables                                                    */

static struct ft_pkt
pkt4(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t proto)
{
	struct ft_pkt p;
	uint32_t s = htonl(src), d = htonl(dst);

	memset(&p, 0, sizeof(p));
	p.cls = proto == IPPROTO_TCP ? FT_CLS_TCP : FT_CLS_UDP;
	p.ip_ver = 4;
	p.l4_proto = proto;
	p.ttl = 64;
	memcpy(p.src, &s, 4);
	memcpy(p.dst, &d, 4);
	p.sport = sport;
	p.dport = dport;
	return p;
}

static struct ft_pkt
pkt6(const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
	struct ft_pkt p;

	memset(&p, 0, sizeof(p));
	p.cls = FT_CLS_TCP;
	p.ip_ver = 6;
	p.l4_proto = IPPROTO_TCP;
	p.ttl = 64;
	if (inet_pton(AF_INET6, src, p.src) != 1 || inet_pton(AF_INET6, dst, p.dst) != 1)
		abort();
	p.sport = sport;
	p.dport = dport;
	return p;
}

static struct ft_pkt
reverse(const struct ft_pkt *p)
{
	struct ft_pkt r = *p;

	memcpy(r.src, p->dst, 16);
	memcpy(r.dst, p->src, 16);
	r.sport = p->dport;
	r.dport = p->sport;
	return r;
}

/* The signature the decoder gives a packet (ft_decode()'s p->hash). */
static uint32_t
sig_of(const struct ft_pkt *p)
{
	return ft_decode_sym_hash(p->src, p->sport, p->dst, p->dport, p->l4_proto,
				  ((uint32_t)p->vlan[0] << 16) | p->vlan[1]);
}

/* Flow number i: 10.x.y.z:port -> 192.168.0.1:80, all distinct. */
static struct ft_pkt
nth(uint32_t i)
{
	return pkt4(0x0a000000u | (i >> 4), (uint16_t)(1024 + (i & 15)), 0xc0a80001u, 80, IPPROTO_TCP);
}

static uint32_t table_no;

static uint32_t
ticks_of(uint32_t s)
{
	return (uint32_t)(((uint64_t)s * NS_S + TICK - 1) >> 30);
}

static const uint32_t timeouts[FT_FLOW_AGE_MAX] = {
	[FT_AGE_EMBRYONIC] = 30, [FT_AGE_ESTABLISHED] = 3600, [FT_AGE_CLOSING] = 120,
	[FT_AGE_TIME_WAIT] = 60, [FT_AGE_CLOSED] = 10, [FT_FLOW_AGE_LINGER] = 5,
	[FT_FLOW_AGE_UDP] = 60, [FT_FLOW_AGE_OTHER] = 5000,
};

static struct ft_flow_table *
table(uint32_t max)
{
	struct ft_flow_table_params prm;
	char name[32];
	struct ft_flow_table *t;

	memset(&prm, 0, sizeof(prm));
	snprintf(name, sizeof(name), "ft_test_flow_%u", ++table_no);
	prm.name = name;
	prm.max_flows = max;
	prm.socket = SOCKET_ID_ANY;
	memcpy(prm.timeout_s, timeouts, sizeof(timeouts));
	t = ft_flow_table_create(&prm);
	if (t == NULL) {
		printf("FAIL table of %u flows not created\n", max);
		exit(1);
	}
	return t;
}

/* Insert the flow of packet p (its sender the originator), as track.c does. */
static struct ft_flow *
add(struct ft_flow_table *t, const struct ft_pkt *p, uint64_t now, uint8_t age, bool embryonic)
{
	struct ft_flow_key k;
	unsigned int side = ft_flow_key_make(p, &k);
	struct ft_flow *f = ft_flow_insert(t, &k, sig_of(p), now, age, embryonic);

	if (f != NULL) {
		f->ip_ver = p->ip_ver;
		f->n_vlan = p->n_vlan;
		f->orig_side = (uint8_t)side;
	}
	return f;
}

static struct ft_flow *
find(struct ft_flow_table *t, const struct ft_pkt *p)
{
	struct ft_flow_key k;

	ft_flow_key_make(p, &k);
	return ft_flow_lookup(t, &k, sig_of(p));
}

/* ------------------------------------------------------------------------ */

static void
test_keys(void)
{
	struct ft_pkt p = pkt4(0x0a000002, 40000, 0x0a000001, 80, IPPROTO_TCP), r = reverse(&p), q;
	struct ft_flow_key kp, kr, kq, kv[4];
	static const uint8_t v4_1[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					  0xff, 0xff, 0xff, 0xff, 10, 0, 0, 1 };
	static const uint8_t v4_2[16] = { [12] = 10, 0, 0, 2 };
	unsigned int sp, sr, i, j, distinct = 1;

	sp = ft_flow_key_make(&p, &kp);
	sr = ft_flow_key_make(&r, &kr);
	check("key: both directions build the same key", memcmp(&kp, &kr, sizeof(kp)) == 0);
	check("key: the two directions are opposite sides (higher address sent: side 1)",
	      sp == 1 && sr == 0);
	check("key: 40 bytes", sizeof(kp) == 40);
	check("key: side 0 is the lower endpoint, IPv4 after 12 bytes 0xff (side 0) or 0 (side 1), "
	      "ports host order",
	      memcmp(kp.addr[0], v4_1, 16) == 0 && memcmp(kp.addr[1], v4_2, 16) == 0 &&
		      kp.port[0] == 80 && kp.port[1] == 40000 &&
		      kp.vlan_proto == (uint32_t)IPPROTO_TCP << 24 && ft_flow_key_ip_ver(&kp) == 4);
	check("key: the decoder's hash is symmetric", sig_of(&p) == sig_of(&r));

	q = pkt4(0x0a000001, 81, 0x0a000001, 80, IPPROTO_TCP);
	r = reverse(&q);
	check("key: same address, the lower port is side 0",
	      ft_flow_key_make(&q, &kq) == 1 && ft_flow_key_make(&r, &kr) == 0 &&
		      memcmp(&kq, &kr, sizeof(kq)) == 0 && kq.port[0] == 80);
	q = pkt4(0x0a000001, 80, 0x0a000001, 80, IPPROTO_TCP);
	check("key: same address and port, side 0", ft_flow_key_make(&q, &kq) == 0);

	/* IPv6, and an IPv6 flow whose bytes start as an IPv4 one's. */
	q = pkt6("2001:db8::2", 443, "2001:db8::1", 50000);
	r = reverse(&q);
	check("key: IPv6 both directions, raw addresses",
	      ft_flow_key_make(&q, &kq) == 1 && ft_flow_key_make(&r, &kr) == 0 &&
		      memcmp(&kq, &kr, sizeof(kq)) == 0 && kq.addr[0][0] == 0x20 &&
		      kq.addr[0][15] == 1 && kq.port[0] == 50000);
	p = pkt4(0x0a000001, 1000, 0x0a000002, 80, IPPROTO_TCP);
	q = pkt6("a00:1::", 1000, "a00:2::", 80);
	ft_flow_key_make(&p, &kp);
	ft_flow_key_make(&q, &kq);
	check("key: IPv4 10.0.0.1 and IPv6 a00:1:: are different flows",
	      memcmp(&kp, &kq, sizeof(kp)) != 0 && ft_flow_key_ip_ver(&kq) == 6);
	/* IPv6 addresses spelling out the IPv4 key's bytes: still IPv6. */
	q = pkt6("ffff:ffff:ffff:ffff:ffff:ffff:a00:1", 1000, "::a00:2", 80);
	ft_flow_key_make(&q, &kq);
	check("key: IPv6 ffff:..:a00:1 and ::a00:2 are not the IPv4 flow 10.0.0.1 - 10.0.0.2",
	      memcmp(&kp, &kq, sizeof(kp)) != 0 && ft_flow_key_ip_ver(&kq) == 6 &&
		      ft_flow_key_ip_ver(&kp) == 4);

	/* VLANs and protocol are part of the key. */
	for (i = 0; i < 4; i++) {
		q = p;
		q.vlan[0] = i == 1 || i == 2 ? 100 : i == 3 ? 200 : 0;
		q.vlan[1] = i == 2 ? 200 : i == 3 ? 100 : 0;
		q.n_vlan = (uint8_t)(i == 0 ? 0 : i == 1 ? 1 : 2);
		ft_flow_key_make(&q, &kv[i]);
	}
	for (i = 0; i < 4; i++)
		for (j = i + 1; j < 4; j++)
			if (memcmp(&kv[i], &kv[j], sizeof(kv[i])) == 0)
				distinct = 0;
	check("key: no VLAN, VLAN 100, 100/200, 200/100 are four flows", distinct);
	check("key: vlan_proto = outer | inner << 12 | proto << 24",
	      kv[2].vlan_proto == (100u | 200u << 12 | (uint32_t)IPPROTO_TCP << 24));
	q = p;
	q.vlan[0] = 100, q.vlan[1] = 200, q.n_vlan = 2;
	r = reverse(&q);
	ft_flow_key_make(&r, &kr);
	check("key: a VLAN flow's two directions share the key",
	      memcmp(&kr, &kv[2], sizeof(kr)) == 0 && sig_of(&q) == sig_of(&r));
	q = pkt4(0x0a000001, 1000, 0x0a000002, 80, IPPROTO_UDP);
	ft_flow_key_make(&q, &kq);
	check("key: TCP and UDP of one 4-tuple are two flows", memcmp(&kp, &kq, sizeof(kp)) != 0);
}

static void
test_table(void)
{
	struct ft_flow_table *t = table(1024);
	struct ft_pkt p = pkt4(0xc0a8010a, 1042, 0xc0a80114, 25, IPPROTO_TCP), r = reverse(&p);
	struct ft_pkt v6 = pkt6("2001:db8::10", 50000, "2001:db8::20", 443), vl = p;
	struct ft_flow *f, *g, *h, *in[64], *out[70];
	struct ft_flow_key k, keys[70];
	const struct ft_flow_key *kp[70];
	uint32_t sigs[70];
	unsigned int i, ok;

	check("table: capacity 1024, empty, memory reported",
	      ft_flow_capacity(t) == 1024 && ft_flow_count(t) == 0 && ft_flow_table_memory(t) > 0);
	f = add(t, &p, T0, FT_AGE_EMBRYONIC, false);
	ft_flow_key_make(&p, &k);
	check("insert: a zeroed flow with its bookkeeping",
	      f != NULL && ft_flow_count(t) == 1 && ft_flow_first_ns(t, f) == T0 && f->last_ns == T0 &&
		      f->age == FT_AGE_EMBRYONIC && f->fflags == FT_FLOW_F_LIVE && f->conn_id == 1 &&
		      f->sig == sig_of(&p));
	check("lookup: found from either direction", find(t, &p) == f && find(t, &r) == f);
	check("lookup: ft_flow_at(ft_flow_index()) is the flow",
	      ft_flow_at(t, ft_flow_index(t, f)) == f && ft_flow_at(t, 1u << 30) == NULL);
	check("key_of: the flow's key", ft_flow_key_of(t, f) != NULL &&
					       memcmp(ft_flow_key_of(t, f), &k, sizeof(k)) == 0);
	r = pkt4(0xc0a8010a, 1043, 0xc0a80114, 25, IPPROTO_TCP);
	check("lookup: another flow is not found", find(t, &r) == NULL);
	g = add(t, &v6, T0, FT_AGE_EMBRYONIC, false);
	vl.vlan[0] = 100, vl.vlan[1] = 200, vl.n_vlan = 2;
	h = add(t, &vl, T0, FT_AGE_EMBRYONIC, false);
	check("insert: IPv6 and VLAN flows, each its own entry and conn_id",
	      g != NULL && h != NULL && g != f && h != f && find(t, &v6) == g && find(t, &vl) == h &&
		      g->conn_id == 2 && h->conn_id == 3 && ft_flow_count(t) == 3);
	ft_flow_key_make(&vl, &k);
	check("key_of: IPv6 and VLAN flows", ft_flow_key_of(t, h) != NULL &&
						    memcmp(ft_flow_key_of(t, h), &k, sizeof(k)) == 0);
	ft_flow_key_make(&v6, &k);
	check("key_of: IPv6", ft_flow_key_of(t, g) != NULL &&
				      memcmp(ft_flow_key_of(t, g), &k, sizeof(k)) == 0);

	/* Bulk: 64 keys, hits and misses in one call, half built from the
	 * reverse direction. */
	for (i = 0; i < 70; i++) {
		struct ft_pkt q = nth(100 + i);

		if (i & 1)
			q = reverse(&q);
		ft_flow_key_make(&q, &keys[i]);
		kp[i] = &keys[i];
		sigs[i] = sig_of(&q);
		if (i < 64)
			in[i] = i % 3 != 0 ? add(t, &q, T0, FT_AGE_ESTABLISHED, false) : NULL;
		out[i] = (struct ft_flow *)&out; /* sentinel */
	}
	ft_flow_lookup_bulk(t, kp, sigs, 64, out);
	for (i = 0, ok = 1; i < 64; i++)
		if (out[i] != in[i] || (i % 3 != 0 && in[i] == NULL))
			ok = 0;
	check("bulk lookup: 64 keys, 42 hits and 22 misses, each right", ok);
	for (i = 0; i < 70; i++)
		out[i] = (struct ft_flow *)&out;
	ft_flow_lookup_bulk(t, kp, sigs, 70, out);
	for (i = 0, ok = 1; i < 64; i++)
		if (out[i] != in[i])
			ok = 0;
	for (i = 64; i < 70; i++)
		if (out[i] != NULL)
			ok = 0;
	check("bulk lookup: more than 64 keys: all looked up", ok);
	ft_flow_lookup_bulk(t, kp, sigs, 0, out);
	check("bulk lookup: zero keys is a no-op", out[0] == in[0]);

	/* Remove and reinsert. */
	i = ft_flow_count(t);
	ft_flow_remove(t, f);
	check("remove: gone (lookup, ft_flow_at, count), key freed",
	      find(t, &p) == NULL && ft_flow_at(t, ft_flow_index(t, f)) == NULL &&
		      ft_flow_count(t) == i - 1 && !(f->fflags & FT_FLOW_F_LIVE));
	ft_flow_remove(t, f);
	check("remove: twice is a no-op", ft_flow_count(t) == i - 1);
	f = add(t, &p, T0 + 5, FT_AGE_EMBRYONIC, false);
	check("reinsert: found again with a new conn_id",
	      f != NULL && find(t, &p) == f && f->conn_id > 3 && ft_flow_first_ns(t, f) == T0 + 5 &&
		      ft_flow_count(t) == i);
	ft_flow_table_free(t);
	ft_flow_table_free(NULL);
}

static void
test_capacity(void)
{
	struct ft_flow_table *t = table(1000);
	struct ft_pkt p;
	unsigned int i, n = 0;

	for (i = 0; i < 1000; i++) {
		p = nth(i);
		n += add(t, &p, T0, FT_AGE_EMBRYONIC, false) != NULL;
	}
	check("capacity: 1000 flows fit a table of 1000", n == 1000 && ft_flow_count(t) == 1000 &&
								   ft_flow_capacity(t) == 1000);
	p = nth(1000);
	rte_errno = 0;
	check("capacity: the 1001st insert returns NULL (ENOSPC)",
	      add(t, &p, T0, FT_AGE_EMBRYONIC, false) == NULL && rte_errno == ENOSPC &&
		      ft_flow_count(t) == 1000);
	{
		struct ft_pkt m = nth(500);

		ft_flow_remove(t, find(t, &m));
	}
	check("capacity: after a remove there is room for one",
	      add(t, &p, T0, FT_AGE_EMBRYONIC, false) != NULL && ft_flow_count(t) == 1000);
	p = nth(1001);
	check("capacity: and then no more", add(t, &p, T0, FT_AGE_EMBRYONIC, false) == NULL);
	ft_flow_table_free(t);

}

/* xorshift64*: random keys that are the same on every run. */
static uint64_t rnd_state = 0x2545f4914f6cdd1dull;

static uint64_t
rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545f4914f6cdd1dull;
}

/* A random flow, IPv4 three times in four, else IPv6. */
static struct ft_pkt
rnd_pkt(void)
{
	uint64_t r = rnd(), q = rnd();
	struct ft_pkt p = pkt4((uint32_t)r, (uint16_t)(r >> 32), (uint32_t)q, (uint16_t)(q >> 32),
			       (r >> 48) & 1 ? IPPROTO_TCP : IPPROTO_UDP);

	if (((r >> 56) & 3) == 0) {
		uint64_t a = rnd(), b = rnd();

		p.ip_ver = 6;
		memcpy(p.src, &a, 8);
		memcpy(p.src + 8, &b, 8);
		memcpy(p.dst, &b, 8);
		memcpy(p.dst + 8, &r, 8);
	}
	return p;
}

/* Tables of several sizes filled to capacity with random keys: all fit (the
 * cuckoo moves make room), all are found after the moves, singly and in
 * bulk, all go, and the table fills again. */
static void
test_random_fill(void)
{
	static const uint32_t sizes[] = { 8, 9, 100, 1000, 4099, 65536 };
	static struct ft_pkt pk[65536];
	static struct ft_flow *in[65536];
	unsigned int z;

	for (z = 0; z < RTE_DIM(sizes); z++) {
		const uint32_t n = sizes[z];
		struct ft_flow_table *t = table(n);
		struct ft_flow_key keys[32];
		const struct ft_flow_key *kp[32];
		struct ft_flow *out[32];
		uint32_t sigs[32];
		unsigned int i, j, fit = 0, single = 0, bulk = 0, gone = 0, refit = 0;
		struct ft_pkt extra;
		int err;

		for (i = 0; i < n; i++) {
			pk[i] = rnd_pkt();
			in[i] = add(t, &pk[i], T0, FT_AGE_ESTABLISHED, false);
			fit += in[i] != NULL;
		}
		extra = rnd_pkt();
		rte_errno = 0;
		err = add(t, &extra, T0, FT_AGE_ESTABLISHED, false) == NULL ? rte_errno : 0;
		for (i = 0; i < n; i++)
			single += find(t, &pk[i]) == in[i];
		for (i = 0; i < n; i += 32) {
			unsigned int c = RTE_MIN(32u, n - i);

			for (j = 0; j < c; j++) {
				struct ft_pkt q = (j & 1) ? reverse(&pk[i + j]) : pk[i + j];

				ft_flow_key_make(&q, &keys[j]);
				kp[j] = &keys[j];
				sigs[j] = sig_of(&q);
			}
			ft_flow_lookup_bulk(t, kp, sigs, c, out);
			for (j = 0; j < c; j++)
				bulk += out[j] == in[i + j] && in[i + j] != NULL;
		}
		checkf(fmt("random fill %u: all fit, the next one is refused (ENOSPC)", n),
		       fit == n && ft_flow_count(t) == n && err == ENOSPC,
		       "%u fit, count %u, rte_errno %d", fit, ft_flow_count(t), err);
		checkf(fmt("random fill %u: all found after the cuckoo moves, singly and in bulk", n),
		       single == n && bulk == n && (n < 1000 || ft_flow_moves(t) > 0),
		       "single %u bulk %u moves %" PRIu64 " stashed %u", single, bulk,
		       ft_flow_moves(t), ft_flow_stashed(t));
		for (i = 0; i < n; i++)
			ft_flow_remove(t, in[i]);
		for (i = 0; i < n; i++)
			gone += find(t, &pk[i]) == NULL;
		for (i = 0; i < n; i++)
			refit += add(t, &pk[n - 1 - i], T0, FT_AGE_ESTABLISHED, false) != NULL;
		check(fmt("random fill %u: all removed and gone, all fit again", n),
		      gone == n && refit == n && ft_flow_count(t) == n);
		ft_flow_table_free(t);
	}
}

/* Churn at capacity: flows come and go at random, so slots move between
 * their two buckets and spill counts rise and fall; after every round the
 * bulk lookup (which reads a second bucket only when its first says some
 * slot spilled there) still finds every live flow. */
static void
test_churn_bulk(void)
{
	enum { N = 4099, ROUNDS = 20 };
	static struct ft_pkt pk[N];
	static struct ft_flow *in[N];
	struct ft_flow_table *t = table(N);
	struct ft_flow_key keys[32];
	const struct ft_flow_key *kp[32];
	struct ft_flow *out[32];
	uint32_t sigs[32];
	unsigned int r, i, j, live = 0, found = 0, lost = 0;

	for (i = 0; i < N; i++) {
		pk[i] = rnd_pkt();
		in[i] = add(t, &pk[i], T0, FT_AGE_ESTABLISHED, false);
	}
	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < N; i++) {
			if (in[i] != NULL && (rnd() & 1)) {
				ft_flow_remove(t, in[i]);
				in[i] = NULL;
			}
		}
		for (i = 0; i < N; i++) {
			if (in[i] == NULL) {
				pk[i] = rnd_pkt();
				in[i] = add(t, &pk[i], T0, FT_AGE_ESTABLISHED, false);
			}
		}
		for (i = 0; i < N; i += 32) {
			unsigned int c = RTE_MIN(32u, N - i);

			for (j = 0; j < c; j++) {
				ft_flow_key_make(&pk[i + j], &keys[j]);
				kp[j] = &keys[j];
				sigs[j] = sig_of(&pk[i + j]);
			}
			ft_flow_lookup_bulk(t, kp, sigs, c, out);
			for (j = 0; j < c; j++) {
				live += in[i + j] != NULL;
				found += in[i + j] != NULL && out[j] == in[i + j];
				lost += in[i + j] != NULL && out[j] != in[i + j];
			}
		}
	}
	checkf("churn at capacity: every live flow found in bulk after each round",
	       lost == 0 && found == live && live > (N - 8) * ROUNDS && ft_flow_moves(t) > 0,
	       "live %u found %u lost %u moves %" PRIu64, live, found, lost, ft_flow_moves(t));
	ft_flow_table_free(t);
}

/*
 * Spill counts are one byte. 256 flows whose first candidate is one bucket
 * but which sit in their second (the first holds 8 others) would wrap a
 * plain byte to 0, and the bulk lookup would stop reading their second
 * buckets: the count sticks at its top instead. The signatures are chosen
 * with the table's bucket formula (ft_flow.c buckets_of(): the low half of
 * sig * 0x9e3779b97f4a7c15 scaled to the bucket count).
 */
static void
test_spill_saturates(void)
{
	enum { N = 4096, SPILLED = 256, ALL = 8 + SPILLED };
	const uint32_t n_buckets = (N + 6) / 7;
	static struct ft_pkt pk[ALL];
	static uint32_t sg[ALL];
	static struct ft_flow *in[ALL];
	struct ft_flow_table *t = table(N);
	struct ft_flow_key keys[ALL];
	const struct ft_flow_key *kp[ALL];
	struct ft_flow *out[ALL];
	unsigned int i, n = 0, placed = 0, found = 0, round;
	uint32_t sig = 1;

	while (n < ALL) {
		uint64_t m = (uint64_t)(++sig) * UINT64_C(0x9e3779b97f4a7c15);

		if ((uint32_t)(((uint64_t)(uint32_t)m * n_buckets) >> 32) != 7)
			continue;
		pk[n] = rnd_pkt();
		sg[n++] = sig;
	}
	for (round = 0; round < 2; round++) {
		for (i = 0; i < ALL; i++) {
			ft_flow_key_make(&pk[i], &keys[i]);
			kp[i] = &keys[i];
			if (round == 0 || i >= 8) {
				in[i] = ft_flow_insert(t, &keys[i], sg[i], T0, FT_AGE_ESTABLISHED, false);
				placed += in[i] != NULL;
			}
		}
		ft_flow_lookup_bulk(t, kp, sg, ALL, out);
		for (i = 0; i < ALL; i++)
			found += out[i] == in[i] && in[i] != NULL;
		/* Round two: the spilled ones go and others come back. */
		for (i = 8; i < ALL; i++) {
			ft_flow_remove(t, in[i]);
			pk[i] = rnd_pkt();
		}
	}
	checkf("spill count: 256 flows spilled from one bucket all found in bulk, twice over",
	       placed == ALL + SPILLED && found == 2 * ALL && ft_flow_stashed(t) == 0,
	       "placed %u found %u stashed %u", placed, found, ft_flow_stashed(t));
	ft_flow_table_free(t);
}

/*
 * A crafted flood: the signature is a fixed-seed CRC, so anyone can make
 * many keys share one. Those keys have the same two buckets, which no cuckoo
 * move can relieve: 16 fit there and 8 in the stash, the next are refused
 * (ENOBUFS, not ENOSPC: evicting a flow elsewhere would not help), and the
 * table goes on working for the others.
 */
static void
test_collision_flood(void)
{
	enum { N = 40 };
	struct ft_flow_table *t = table(256);
	struct ft_flow *f[N], *g;
	struct ft_flow_key k;
	struct ft_pkt p, others[100];
	unsigned int i, n = 0, found = 0, other_ok = 0;
	int err = 0;
	const uint32_t sig = 0x12345678;

	for (i = 0; i < N; i++) {
		p = nth(20000 + i);
		ft_flow_key_make(&p, &k);
		rte_errno = 0;
		f[i] = ft_flow_insert(t, &k, sig, T0, FT_AGE_EMBRYONIC, true);
		if (f[i] != NULL)
			n++;
		else if (err == 0)
			err = rte_errno;
	}
	checkf("collision flood: 16 in the two buckets + 8 in the stash, the rest refused (ENOBUFS)",
	       n == 24 && ft_flow_stashed(t) == 8 && err == ENOBUFS && ft_flow_count(t) == 24,
	       "%u fit, %u stashed, rte_errno %d", n, ft_flow_stashed(t), err);
	for (i = 0; i < N; i++) {
		p = nth(20000 + i);
		ft_flow_key_make(&p, &k);
		g = ft_flow_lookup(t, &k, sig);
		found += i < 24 ? g == f[i] && g != NULL : g == NULL;
	}
	check("collision flood: each admitted key found (the stash too), no refused one", found == N);
	for (i = 0; i < RTE_DIM(others); i++) {
		others[i] = rnd_pkt();
		other_ok += add(t, &others[i], T0, FT_AGE_ESTABLISHED, false) != NULL;
	}
	for (i = 0; i < RTE_DIM(others); i++)
		other_ok += find(t, &others[i]) != NULL;
	check("collision flood: other flows still insert and are found", other_ok == 200);
	/* A flood flow in a bucket goes: a stashed one moves into its slot. */
	ft_flow_remove(t, f[0]);
	check("collision flood: a removal refills a bucket slot from the stash",
	      ft_flow_stashed(t) == 7 && ft_flow_count(t) == 123);
	for (i = 1, found = 0; i < 24; i++) {
		p = nth(20000 + i);
		ft_flow_key_make(&p, &k);
		found += ft_flow_lookup(t, &k, sig) == f[i];
	}
	p = nth(20000 + 30);
	ft_flow_key_make(&p, &k);
	g = ft_flow_insert(t, &k, sig, T0, FT_AGE_EMBRYONIC, true);
	check("collision flood: the others still found, and one more fits in the stash",
	      found == 23 && g != NULL && ft_flow_lookup(t, &k, sig) == g && ft_flow_stashed(t) == 8);
	for (i = 1; i < 24; i++)
		ft_flow_remove(t, f[i]);
	ft_flow_remove(t, g);
	check("collision flood: all removed, the stash empty",
	      ft_flow_stashed(t) == 0 && ft_flow_count(t) == 100);
	ft_flow_table_free(t);
}

/* On a table that does not change, the listing visits every live flow once
 * and no free entry. */
static void
test_iterate(void)
{
	enum { N = 500 };
	struct ft_flow_table *t = table(N);
	static uint8_t seen[N];
	struct ft_flow *f[N], *g;
	struct ft_pkt p;
	uint32_t pos = 0;
	unsigned int i, ok = 1, visits = 0;

	for (i = 0; i < N; i++) {
		p = nth(30000 + i);
		f[i] = add(t, &p, T0, FT_AGE_ESTABLISHED, false);
	}
	for (i = 0; i < N; i += 3)
		ft_flow_remove(t, f[i]);
	while ((g = ft_flow_iterate(t, &pos)) != NULL) {
		visits++;
		seen[ft_flow_index(t, g)]++;
	}
	for (i = 0; i < N; i++)
		if (seen[ft_flow_index(t, f[i])] != (i % 3 != 0))
			ok = 0;
	check(fmt("iterate: each of the %u live flows once, no removed one", N - (N + 2) / 3),
	      ok && visits == ft_flow_count(t) && ft_flow_iterate(t, &pos) == NULL);
	pos = 0;
	ft_flow_table_free(t);
	t = table(64);
	check("iterate: an empty table lists nothing", ft_flow_iterate(t, &pos) == NULL);
	ft_flow_table_free(t);
}

static void
test_endpoints(void)
{
	struct ft_flow_table *t = table(64);
	struct ft_pkt c = pkt4(0xc0a8010a, 1042, 0xc0a80114, 25, IPPROTO_TCP), s = reverse(&c);
	struct ft_pkt v6 = pkt6("2001:db8::20", 443, "2001:db8::10", 50000);
	static const uint8_t a10[16] = { 192, 168, 1, 10 }, a20[16] = { 192, 168, 1, 20 };
	uint8_t addr[2][16], v6a[16], v6b[16];
	uint16_t port[2];
	struct ft_flow *f;

	f = add(t, &c, T0, FT_AGE_EMBRYONIC, false);
	ft_flow_endpoints(t, f, addr, port);
	check("endpoints: IPv4, originator on side 0",
	      f->orig_side == 0 && memcmp(addr[0], a10, 16) == 0 && memcmp(addr[1], a20, 16) == 0 &&
		      port[0] == 1042 && port[1] == 25);
	ft_flow_remove(t, f);
	f = add(t, &s, T0, FT_AGE_EMBRYONIC, false); /* the server's packet came first */
	ft_flow_endpoints(t, f, addr, port);
	check("endpoints: IPv4, originator on side 1",
	      f->orig_side == 1 && memcmp(addr[0], a20, 16) == 0 && memcmp(addr[1], a10, 16) == 0 &&
		      port[0] == 25 && port[1] == 1042);
	f = add(t, &v6, T0, FT_AGE_EMBRYONIC, false);
	inet_pton(AF_INET6, "2001:db8::20", v6a);
	inet_pton(AF_INET6, "2001:db8::10", v6b);
	ft_flow_endpoints(t, f, addr, port);
	check("endpoints: IPv6, originator on side 1",
	      f->orig_side == 1 && memcmp(addr[0], v6a, 16) == 0 && memcmp(addr[1], v6b, 16) == 0 &&
		      port[0] == 443 && port[1] == 50000);
	ft_flow_table_free(t);

	/* IPv6 packets whose addresses are IPv4-mapped (::ffff:a.b.c.d): their
	 * keys must not be taken for IPv4 ones when the table re-hashes a key to
	 * delete it, or every such flow leaks a slot for good (anyone can send
	 * such packets on a tap). */
	{
		enum { N = 64 };
		unsigned int i, key_ok = 0, gone = 0, refill = 0;
		struct ft_pkt m[N];

		t = table(N);
		for (i = 0; i < N; i++) {
			m[i] = pkt6("::ffff:10.0.0.1", (uint16_t)(3000 + i), "::ffff:10.0.1.1", 80);
			f = add(t, &m[i], T0, FT_AGE_EMBRYONIC, false);
			key_ok += f != NULL && ft_flow_key_of(t, f) != NULL;
		}
		for (i = 0; i < N; i++) {
			f = find(t, &m[i]);
			if (f != NULL)
				ft_flow_remove(t, f);
		}
		for (i = 0; i < N; i++)
			gone += find(t, &m[i]) == NULL;
		for (i = 0; i < N; i++) {
			struct ft_pkt q = nth(5000 + i);

			refill += add(t, &q, T0, FT_AGE_EMBRYONIC, false) != NULL;
		}
		check(fmt("IPv4-mapped IPv6 flows: key_of %u/%u, gone after remove %u/%u, "
			  "room again for %u/%u flows", key_ok, N, gone, N, refill, N),
		      key_ok == N && gone == N && refill == N);
		ft_flow_table_free(t);
	}
}

static void
test_embryo(void)
{
	struct ft_flow_table *t = table(64);
	struct ft_flow *f[8];
	struct ft_pkt p;
	unsigned int i;
	char order[16];

	for (i = 0; i < 5; i++) {
		p = nth(i);
		f[i] = add(t, &p, T0 + i, FT_AGE_EMBRYONIC, i != 2); /* #2 is not embryonic */
	}
	check("embryo: the oldest first", ft_flow_oldest_embryo(t) == f[0] &&
						  (f[0]->fflags & FT_FLOW_F_EMBRYO) &&
						  !(f[2]->fflags & FT_FLOW_F_EMBRYO));
	ft_flow_embryo_leave(t, f[1]); /* from the middle */
	ft_flow_embryo_leave(t, f[2]); /* not in it: no-op */
	for (i = 0; i < 4; i++) {
		struct ft_flow *o;
		unsigned int j;

		ft_flow_embryo_prefetch(t); /* no effect on the order, even when empty */
		o = ft_flow_oldest_embryo(t);

		order[i] = '-';
		for (j = 0; j < 5; j++)
			if (o == f[j])
				order[i] = (char)('0' + j);
		if (o != NULL)
			ft_flow_embryo_leave(t, o);
	}
	order[4] = '\0';
	check(fmt("embryo: left from the middle, the rest in order (\"%s\")", order),
	      strcmp(order, "034-") == 0 && !(f[1]->fflags & FT_FLOW_F_EMBRYO) &&
		      (f[1]->fflags & FT_FLOW_F_LIVE));
	p = nth(5);
	f[5] = add(t, &p, T0, FT_AGE_EMBRYONIC, true);
	p = nth(6);
	f[6] = add(t, &p, T0, FT_AGE_EMBRYONIC, true);
	ft_flow_remove(t, f[5]);
	check("embryo: remove takes a flow out of the FIFO", ft_flow_oldest_embryo(t) == f[6]);
	ft_flow_renew(t, f[0], T0 + 9, true);
	check("embryo: a renewed flow re-enters at the tail", ft_flow_oldest_embryo(t) == f[6]);
	ft_flow_embryo_leave(t, f[6]);
	check("embryo: ... and is next", ft_flow_oldest_embryo(t) == f[0]);
	ft_flow_embryo_leave(t, f[0]);
	check("embryo: empty", ft_flow_oldest_embryo(t) == NULL);
	ft_flow_table_free(t);
}

/* ------------------------------------------------------------------------ */
/* The timer wheel                                                          */

struct expiry_log {
	unsigned int n;
	struct ft_flow *last;
	unsigned int keep;        /* answer KEEP this many times (changing the age) */
	uint8_t keep_age;
};

static enum ft_flow_expiry
on_expire(struct ft_flow *f, void *arg)
{
	struct expiry_log *l = arg;

	l->n++;
	l->last = f;
	if (l->keep > 0) {
		l->keep--;
		f->age = l->keep_age;
		return FT_FLOW_KEEP;
	}
	return FT_FLOW_FREE;
}

/* Age to the last nanosecond of tick @p k (relative to K0). */
#define END_OF(k) (T0 + (uint64_t)(k) * TICK + TICK - 1)
#define START_OF(k) (T0 + (uint64_t)(k) * TICK)

static void
test_wheel(void)
{
	struct ft_flow_table *t;
	struct expiry_log l;
	struct ft_flow *f, *g;
	struct ft_pkt p = nth(1), q = nth(2);
	unsigned int i, n;
	const uint32_t emb = ticks_of(30), est = ticks_of(3600), closed = ticks_of(10),
		       other = ticks_of(5000);

	check(fmt("wheel: timeouts rounded up to ticks (30 s = %u, 10 s = %u, 3600 s = %u, 5000 s = %u)",
		  emb, closed, est, other),
	      emb == 28 && closed == 10 && est == 3353 && other == 4657 &&
		      (uint64_t)emb * TICK >= 30 * NS_S && (uint64_t)(emb - 1) * TICK < 30 * NS_S);

	/* Exact expiry: last_ns + timeout. */
	t = table(64);
	memset(&l, 0, sizeof(l));
	f = add(t, &p, T0, FT_AGE_EMBRYONIC, false);
	n = ft_flow_age(t, START_OF(emb) - 1, 1000, on_expire, &l);
	check("wheel: not expired one ns before last_ns + timeout (28 ticks)", n == 0 && l.n == 0 &&
										   ft_flow_count(t) == 1);
	n = ft_flow_age(t, START_OF(emb), 1000, on_expire, &l);
	check("wheel: expired at last_ns + 28 ticks, the callback got it, FREE removed it",
	      n == 1 && l.n == 1 && l.last == f && ft_flow_count(t) == 0 && find(t, &p) == NULL);
	n = ft_flow_age(t, START_OF(emb + 100), 1000, on_expire, &l);
	check("wheel: nothing more", n == 0 && l.n == 1);
	ft_flow_table_free(t);

	/* A flow touched later is re-filed when its slot comes round. */
	t = table(64);
	memset(&l, 0, sizeof(l));
	f = add(t, &p, T0, FT_AGE_EMBRYONIC, false);
	g = add(t, &q, T0, FT_AGE_EMBRYONIC, false);
	f->last_ns = T0 + 10 * TICK + 12345; /* a packet 10 ticks later: one store */
	n = ft_flow_age(t, START_OF(emb), 1000, on_expire, &l);
	check("wheel: at 28 ticks only the untouched flow expires", n == 1 && l.last == g &&
									   ft_flow_count(t) == 1);
	n = ft_flow_age(t, END_OF(emb + 9), 1000, on_expire, &l);
	check("wheel: the touched flow lives until its own last_ns + timeout", n == 0);
	n = ft_flow_age(t, START_OF(emb + 10), 1000, on_expire, &l);
	check("wheel: and expires at it", n == 1 && l.last == f && ft_flow_count(t) == 0);
	ft_flow_table_free(t);

	/* A shorter class re-files at once; a longer one when the slot comes. */
	t = table(64);
	memset(&l, 0, sizeof(l));
	f = add(t, &p, T0, FT_AGE_ESTABLISHED, false);
	g = add(t, &q, T0, FT_AGE_EMBRYONIC, false);
	ft_flow_set_age(t, f, FT_AGE_CLOSED);
	ft_flow_set_age(t, g, FT_AGE_ESTABLISHED);
	n = ft_flow_age(t, END_OF(closed - 1), 1000, on_expire, &l);
	check("wheel: set_age to a shorter class: not before its 10 s", n == 0);
	n = ft_flow_age(t, START_OF(closed), 1000, on_expire, &l);
	check("wheel: set_age to a shorter class: expires after 10 s, not 3600",
	      n == 1 && l.last == f && f->age == FT_AGE_CLOSED);
	n = ft_flow_age(t, START_OF(emb), 1000, on_expire, &l);
	check("wheel: set_age to a longer class: not expired at the old timeout", n == 0);
	n = ft_flow_age(t, END_OF(est - 1), 1000, on_expire, &l);
	check("wheel: set_age to a longer class: not before its own", n == 0);
	n = ft_flow_age(t, START_OF(est), 1000, on_expire, &l);
	check("wheel: set_age to a longer class: expires at 3353 ticks", n == 1 && l.last == g);
	ft_flow_table_free(t);

	/* A timeout beyond the wheel's span (4096 ticks): 5000 s = 4657 ticks,
	 * the wheel advanced one tick at a time. */
	t = table(64);
	memset(&l, 0, sizeof(l));
	f = add(t, &p, T0, FT_FLOW_AGE_OTHER, false);
	for (i = 1, n = 0; i < other; i++)
		n += ft_flow_age(t, START_OF(i), 1000, on_expire, &l);
	check("wheel: 5000 s (beyond 4096 ticks), tick by tick: alive until 4656", n == 0);
	n = ft_flow_age(t, START_OF(other), 1000, on_expire, &l);
	check("wheel: ... and expired at 4657", n == 1 && l.last == f);
	ft_flow_table_free(t);
	/* The same in two big steps (the first skips ticks: more than a lap). */
	t = table(64);
	memset(&l, 0, sizeof(l));
	f = add(t, &p, T0, FT_FLOW_AGE_OTHER, false);
	n = ft_flow_age(t, END_OF(other - 1), 1000, on_expire, &l);
	check("wheel: 5000 s in one jump to tick 4656: alive", n == 0 && ft_flow_count(t) == 1);
	n = ft_flow_age(t, START_OF(other), 1000, on_expire, &l);
	check("wheel: ... expired at 4657", n == 1 && l.last == f);
	ft_flow_table_free(t);

	/* The budget bounds the work per call; the rest waits. */
	t = table(64);
	memset(&l, 0, sizeof(l));
	for (i = 0; i < 10; i++) {
		struct ft_pkt r = nth(10 + i);

		add(t, &r, T0 + i, FT_AGE_CLOSED, false);
	}
	n = ft_flow_age(t, START_OF(closed), 0, on_expire, &l);
	check("wheel: budget 0 does nothing", n == 0 && l.n == 0 && ft_flow_count(t) == 10);
	n = ft_flow_age(t, START_OF(closed), 4, on_expire, &l);
	check("wheel: budget 4: 4 of 10 due flows expire", n == 4 && ft_flow_count(t) == 6);
	n = ft_flow_age(t, START_OF(closed), 4, on_expire, &l);
	check("wheel: next call, 4 more", n == 4 && ft_flow_count(t) == 2);
	n = ft_flow_age(t, START_OF(closed + 1), 4, on_expire, &l);
	check("wheel: next call, the last 2 (time moved on meanwhile)", n == 2 && ft_flow_count(t) == 0);
	ft_flow_table_free(t);

	/* Re-filing counts as work too: 6 busy flows and 4 due ones. */
	t = table(64);
	memset(&l, 0, sizeof(l));
	for (i = 0; i < 10; i++) {
		struct ft_pkt r = nth(10 + i);

		f = add(t, &r, T0, FT_AGE_CLOSED, false);
		if (i < 6)
			f->last_ns = T0 + 5 * TICK;
	}
	for (i = 0, n = 0; i < 3; i++)
		n += ft_flow_age(t, START_OF(closed), 4, on_expire, &l);
	check("wheel: 6 re-filed + 4 expired take 3 calls of budget 4", n == 4 && l.n == 4);
	n = ft_flow_age(t, START_OF(closed + 5), 100, on_expire, &l);
	check("wheel: the re-filed ones expire at their own time", n == 6 && ft_flow_count(t) == 0);
	ft_flow_table_free(t);

	/* A jump far ahead (a capture with a gap of years): one lap, not 2^32. */
	t = table(64);
	memset(&l, 0, sizeof(l));
	for (i = 0; i < 5; i++) {
		struct ft_pkt r = nth(20 + i);

		add(t, &r, T0, i & 1 ? FT_AGE_ESTABLISHED : FT_FLOW_AGE_OTHER, false);
	}
	n = ft_flow_age(t, T0 + (UINT64_C(1) << 62), 1000, on_expire, &l);
	check("wheel: a jump of 2^62 ns expires everything and returns", n == 5 && ft_flow_count(t) == 0);
	{
		const uint64_t t1 = T0 + (UINT64_C(1) << 62);

		f = add(t, &p, t1, FT_AGE_EMBRYONIC, false);
		n = ft_flow_age(t, t1 + (uint64_t)emb * TICK - TICK, 1000, on_expire, &l);
		n += ft_flow_age(t, T0, 1000, on_expire, &l); /* time going back: nothing */
		check("wheel: after the jump, a new flow ages normally", n == 0 && ft_flow_count(t) == 1);
		n = ft_flow_age(t, t1 + (uint64_t)emb * TICK, 1000, on_expire, &l);
		check("wheel: ... expiring at its own 28 ticks", n == 1 && ft_flow_count(t) == 0);
	}
	ft_flow_table_free(t);

	/* KEEP: the callback changed the class; the flow is re-filed. */
	t = table(64);
	memset(&l, 0, sizeof(l));
	l.keep = 1;
	l.keep_age = FT_FLOW_AGE_LINGER;
	f = add(t, &p, T0, FT_AGE_EMBRYONIC, false);
	n = ft_flow_age(t, START_OF(emb), 1000, on_expire, &l);
	check("wheel: KEEP keeps it", n == 1 && ft_flow_count(t) == 1 && f->age == FT_FLOW_AGE_LINGER);
	n = ft_flow_age(t, START_OF(emb), 1000, on_expire, &l);
	check("wheel: not called twice in one tick", n == 0 && l.n == 1);
	n = ft_flow_age(t, START_OF(emb + 1), 1000, on_expire, &l);
	check("wheel: a kept flow already past its new timeout comes back the next tick",
	      n == 1 && l.n == 2 && ft_flow_count(t) == 0);
	ft_flow_table_free(t);

	/* Ticks are 2^30 ns, but a timeout is a lower bound (README: "handshake
	 * 30 s"): a flow whose last packet came late in a tick must not be
	 * judged from that tick's start, up to 1.07 s early. */
	t = table(64);
	memset(&l, 0, sizeof(l));
	f = add(t, &p, T0 + TICK - 1, FT_AGE_EMBRYONIC, false);
	n = ft_flow_age(t, START_OF(emb), 1000, on_expire, &l);
	check(fmt("wheel: a flow last seen at the end of a tick is not expired before last_ns + "
		  "30 s (expired %u at +%.3f s)",
		  n, (double)(START_OF(emb) - (T0 + TICK - 1)) / NS_S),
	      n == 0);
	ft_flow_table_free(t);

}

/* ------------------------------------------------------------------------ */
/* foreach, renew                                                           */

static struct {
	struct ft_flow_table *t;
	uint8_t visits[1100];
	unsigned int n;
	bool free_odd, free_all;
} fe;

static enum ft_flow_expiry
on_each(struct ft_flow *f, void *arg)
{
	uint32_t idx = ft_flow_index(fe.t, f);

	(void)arg;
	fe.n++;
	if (idx < RTE_DIM(fe.visits))
		fe.visits[idx]++;
	if (fe.free_all || (fe.free_odd && (f->conn_id & 1)))
		return FT_FLOW_FREE;
	return FT_FLOW_KEEP;
}

/* Every live entry visited exactly once, nothing else. */
static bool
visited_once(unsigned int *live)
{
	unsigned int i;
	bool ok = true;

	*live = 0;
	for (i = 0; i < RTE_DIM(fe.visits); i++) {
		bool is_live = ft_flow_at(fe.t, i) != NULL;

		*live += is_live;
		if (fe.visits[i] != (is_live ? 1 : 0))
			ok = false;
	}
	return ok;
}

static void
foreach_run(bool free_odd, bool free_all)
{
	memset(fe.visits, 0, sizeof(fe.visits));
	fe.n = 0;
	fe.free_odd = free_odd;
	fe.free_all = free_all;
	ft_flow_foreach(fe.t, on_each, NULL);
}

static void
test_foreach_renew(void)
{
	struct expiry_log l;
	struct ft_flow *f, *g;
	struct ft_pkt p;
	unsigned int i, live, n, odd_left;
	uint32_t id;

	fe.t = table(1024);
	for (i = 0; i < 600; i++) {
		p = nth(300 + i);
		f = add(fe.t, &p, T0 + (uint64_t)i * (TICK / 3), (uint8_t)(i % FT_FLOW_AGE_MAX),
			i % 4 == 0);
		if (i % 7 == 0)
			f->last_ns += 40 * TICK; /* busy: re-filed when its slot comes */
	}
	foreach_run(false, false);
	check(fmt("foreach: each of the %u flows visited once", ft_flow_count(fe.t)),
	      visited_once(&live) && live == 600 && fe.n == 600);
	/* Age a while: some expire, some are re-filed in other slots. */
	memset(&l, 0, sizeof(l));
	n = ft_flow_age(fe.t, START_OF(150), 100000, on_expire, &l);
	foreach_run(false, false);
	check(fmt("foreach: after ageing (%u expired, some re-filed), each of the %u left once", n,
		  ft_flow_count(fe.t)),
	      n > 0 && visited_once(&live) && live == ft_flow_count(fe.t) && fe.n == live);
	foreach_run(true, false);
	for (i = 0, odd_left = 0; i < RTE_DIM(fe.visits); i++) {
		f = ft_flow_at(fe.t, i);
		if (f != NULL && (f->conn_id & 1))
			odd_left++;
	}
	check("foreach: FREE removes exactly the flows it is returned for",
	      odd_left == 0 && ft_flow_count(fe.t) < live && ft_flow_count(fe.t) > 0);
	foreach_run(false, false);
	check("foreach: the rest visited once", visited_once(&live) && fe.n == ft_flow_count(fe.t));
	foreach_run(false, true);
	check("foreach: FREE all empties the table", ft_flow_count(fe.t) == 0);
	foreach_run(false, false);
	check("foreach: an empty table visits nothing", fe.n == 0);
	ft_flow_table_free(fe.t);

	/* flush: every live flow once, then an empty table that works as new
	 * (it is the exit path, but a table must stay sound after it). */
	fe.t = table(1024);
	for (i = 0; i < 900; i++) {
		p = nth(5000 + i);
		add(fe.t, &p, T0 + (uint64_t)i * (TICK / 3), (uint8_t)(i % FT_FLOW_AGE_MAX), i % 3 == 0);
	}
	for (i = 0; i < 900; i += 4) {
		p = nth(5000 + i);
		ft_flow_remove(fe.t, find(fe.t, &p));
	}
	memset(fe.visits, 0, sizeof(fe.visits));
	fe.n = 0;
	fe.free_odd = fe.free_all = false;
	for (i = 0, live = 0; i < RTE_DIM(fe.visits); i++)
		live += ft_flow_at(fe.t, i) != NULL;
	n = ft_flow_flush(fe.t, on_each, NULL);
	for (i = 0, odd_left = 0; i < RTE_DIM(fe.visits); i++)
		odd_left += fe.visits[i] > 1 || (fe.visits[i] == 1) != (i < 900 && i % 4 != 0);
	check(fmt("flush: each of the %u live flows handed over once, none of the removed", live),
	      n == live && live == 675 && fe.n == live && odd_left == 0);
	for (i = 0, odd_left = 0; i < 900; i++) {
		p = nth(5000 + i);
		odd_left += find(fe.t, &p) != NULL;
	}
	check("flush: the table is empty: no flow found, none on the wheel or in the FIFO",
	      ft_flow_count(fe.t) == 0 && odd_left == 0 && ft_flow_oldest_embryo(fe.t) == NULL &&
		      ft_flow_age(fe.t, START_OF(100000), 100000, on_expire, &l) == 0);
	for (i = 0; i < 1024; i++) {
		p = nth(9000 + i);
		add(fe.t, &p, T0, FT_AGE_EMBRYONIC, i == 0);
	}
	for (i = 0, odd_left = 0; i < 1024; i++) {
		p = nth(9000 + i);
		odd_left += find(fe.t, &p) == NULL;
	}
	check("flush: refilled to capacity afterwards, every flow found",
	      ft_flow_count(fe.t) == 1024 && odd_left == 0 && ft_flow_oldest_embryo(fe.t) != NULL);
	ft_flow_table_free(fe.t);

	fe.t = table(64);
	p = nth(1);
	f = add(fe.t, &p, T0, FT_AGE_EMBRYONIC, true);
	id = f->conn_id;
	f->fflags |= FT_FLOW_F_TCP | FT_FLOW_F_RECORD_DONE | FT_FLOW_F_LADDER;
	ft_flow_embryo_leave(fe.t, f);
	ft_flow_renew(fe.t, f, T0 + 7 * NS_S, true);
	check("renew: a new conn_id, times start afresh, record/ladder flags cleared, embryonic again",
	      f->conn_id != id && f->conn_id > id && ft_flow_first_ns(fe.t, f) == T0 + 7 * NS_S &&
		      f->last_ns == T0 + 7 * NS_S &&
		      f->fflags == (FT_FLOW_F_LIVE | FT_FLOW_F_TCP | FT_FLOW_F_EMBRYO) &&
		      ft_flow_oldest_embryo(fe.t) == f && find(fe.t, &p) == f);
	p = nth(2);
	g = add(fe.t, &p, T0, FT_AGE_EMBRYONIC, false);
	check("renew: conn_ids stay unique", g->conn_id != f->conn_id && g->conn_id != id);
	ft_flow_renew(fe.t, g, T0 + 8 * NS_S, false);
	check("renew: not embryonic when not asked", !(g->fflags & FT_FLOW_F_EMBRYO) &&
							    ft_flow_oldest_embryo(fe.t) == f);
	/* The renewed flow ages from its new time. */
	memset(&l, 0, sizeof(l));
	n = ft_flow_age(fe.t, START_OF(ticks_of(30)), 100, on_expire, &l);
	check("renew: ages from the renewal, not the first insert", n == 0 && ft_flow_count(fe.t) == 2);
	ft_flow_table_free(fe.t);
}

/* ------------------------------------------------------------------------ */
/* Flow records                                                             */

/* Keys of a one-line JSON object, in order, with their raw values. */
struct jkv {
	char key[32];
	char val[160];
};

static int
json_object(const char *s, struct jkv *kv, int max)
{
	int n = 0;

	if (*s++ != '{')
		return -1;
	for (;;) {
		const char *v;
		size_t len;
		int depth = 0;
		bool in_str = false;

		if (*s++ != '"' || n == max)
			return -1;
		for (len = 0; s[len] != '"' && s[len] != '\0'; len++)
			;
		if (s[len] != '"' || len >= sizeof(kv[n].key))
			return -1;
		memcpy(kv[n].key, s, len);
		kv[n].key[len] = '\0';
		s += len + 1;
		if (*s++ != ':')
			return -1;
		v = s;
		for (; *s != '\0'; s++) {
			if (in_str) {
				if (*s == '\\')
					s++;
				else if (*s == '"')
					in_str = false;
				continue;
			}
			if (*s == '"')
				in_str = true;
			else if (*s == '[' || *s == '{')
				depth++;
			else if (*s == ']' || *s == '}') {
				if (depth == 0)
					break;
				depth--;
			} else if (*s == ',' && depth == 0)
				break;
		}
		if (*s == '\0' || (size_t)(s - v) >= sizeof(kv[n].val) || s == v)
			return -1;
		memcpy(kv[n].val, v, (size_t)(s - v));
		kv[n].val[s - v] = '\0';
		n++;
		if (*s == '}')
			return s[1] == '\n' && s[2] == '\0' ? n : -1;
		s++; /* ',' */
	}
}

static const char *
jval(const struct jkv *kv, int n, const char *key)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].val;
	return NULL;
}

/* The keys of README "Flow records", in order: DESIGN.md 4's plus proto
 * and the IP byte counts. */
static const char *const record_keys[] = {
	"src", "sport", "dst", "dport", "proto", "vlan", "first_ts", "last_ts", "orig_pkts",
	"orig_bytes", "orig_ip_bytes", "resp_pkts", "resp_bytes", "resp_ip_bytes", "orig_isn",
	"resp_isn", "orig_state", "resp_state", "conn_state", "history", "end", "anomalies",
};
static const char *const design_keys[] = {
	"src", "sport", "dst", "dport", "vlan", "first_ts", "last_ts", "orig_pkts", "orig_bytes",
	"resp_pkts", "resp_bytes", "orig_isn", "resp_isn", "orig_state", "resp_state", "conn_state",
	"history", "end", "anomalies",
};

static bool
keys_exact(const struct jkv *kv, int n)
{
	int i;

	if (n != (int)RTE_DIM(record_keys))
		return false;
	for (i = 0; i < n; i++)
		if (strcmp(kv[i].key, record_keys[i]) != 0)
			return false;
	return true;
}

static bool
design_keys_in_order(const struct jkv *kv, int n)
{
	unsigned int d = 0;
	int i;

	for (i = 0; i < n && d < RTE_DIM(design_keys); i++)
		if (strcmp(kv[i].key, design_keys[d]) == 0)
			d++;
	return d == RTE_DIM(design_keys);
}

static char *
record_json(struct ft_flow_table *t, struct ft_flow *f, enum ft_tcp_end end)
{
	static char buf[2048];
	struct ft_flow_record rec;
	FILE *out;
	int rc;

	ft_flow_record_fill(&rec, t, f, end);
	memset(buf, 0, sizeof(buf));
	out = fmemopen(buf, sizeof(buf) - 1, "w");
	rc = ft_flow_record_write_json(out, &rec);
	fclose(out);
	return rc == 0 ? buf : (char *)"";
}

/* One segment of a connection in the table: (dir, flags, seq, ack, len). */
static void
seg(struct ft_flow *f, const struct ft_pkt *orig_pkt, unsigned int dir, uint8_t flags, uint32_t seq,
    uint32_t ack, uint16_t len, uint8_t ttl, uint64_t now)
{
	struct ft_pkt p = dir == FT_TCP_ORIG ? *orig_pkt : reverse(orig_pkt);
	struct ft_tcp_result r;

	p.tcp.flags = flags;
	p.tcp.seq = seq;
	p.tcp.ack = ack;
	p.tcp.win = 8192;
	p.tcp.has_wscale = 0;
	p.payload_len = len;
	p.ip_len = (uint16_t)((p.ip_ver == 4 ? 40 : 60) + len);
	p.ttl = ttl;
	if (!(f->fflags & FT_FLOW_F_TCP)) {
		ft_tcp_init(&f->tcp, &p, true);
		f->fflags |= FT_FLOW_F_TCP;
	}
	ft_tcp_track(&f->tcp, dir, &p, NULL, NULL, f->conn_id, &r);
	f->last_ns = now;
}

#define S_ FT_TCP_SYN
#define A_ FT_TCP_ACK
#define F_ FT_TCP_FIN
#define P_ FT_TCP_PSH

static void
test_records(void)
{
	struct ft_flow_table *t = table(64);
	const uint64_t ts = 1767225600ull * NS_S, ms = 1000000ull;
	struct ft_pkt c = pkt4(0xc0a8010a, 1042, 0xc0a80114, 25, IPPROTO_TCP);
	struct ft_pkt v6 = pkt6("2001:db8::10", 50000, "2001:db8::20", 443);
	struct ft_pkt s = reverse(&c);
	struct jkv kv[40];
	struct ft_flow *f;
	const char *line;
	int n;

	/* The SMTP-like session: handshake, "help", a reply, both FINs. */
	f = add(t, &c, ts, FT_AGE_EMBRYONIC, true);
	seg(f, &c, FT_TCP_ORIG, S_, 1000, 0, 0, 64, ts);
	seg(f, &c, FT_TCP_RESP, S_ | A_, 5000, 1001, 0, 64, ts + 1 * ms);
	seg(f, &c, FT_TCP_ORIG, A_, 1001, 5001, 0, 64, ts + 2 * ms);
	seg(f, &c, FT_TCP_ORIG, P_ | A_, 1001, 5001, 4, 64, ts + 3 * ms);
	seg(f, &c, FT_TCP_RESP, P_ | A_, 5001, 1005, 34, 64, ts + 4 * ms);
	seg(f, &c, FT_TCP_ORIG, A_, 1005, 5035, 0, 64, ts + 5 * ms);
	seg(f, &c, FT_TCP_ORIG, F_ | A_, 1005, 5035, 0, 64, ts + 6 * ms);
	seg(f, &c, FT_TCP_RESP, F_ | A_, 5035, 1006, 0, 64, ts + 7 * ms);
	seg(f, &c, FT_TCP_ORIG, A_, 1006, 5036, 0, 64, ts + 15 * ms);
	line = record_json(t, f, FT_END_NONE);
	printf("     %s", line);
	check("record: the SMTP-like session, exact line",
	      strcmp(line, "{\"src\":\"192.168.1.10\",\"sport\":1042,\"dst\":\"192.168.1.20\","
			   "\"dport\":25,\"proto\":\"tcp\",\"vlan\":[],\"first_ts\":1767225600.000000,"
			   "\"last_ts\":1767225600.015000,\"orig_pkts\":6,\"orig_bytes\":4,"
			   "\"orig_ip_bytes\":244,\"resp_pkts\":3,\"resp_bytes\":34,"
			   "\"resp_ip_bytes\":154,\"orig_isn\":1000,\"resp_isn\":5000,"
			   "\"orig_state\":\"TIME_WAIT\",\"resp_state\":\"CLOSED\","
			   "\"conn_state\":\"SF\",\"history\":\"ShADdFf\",\"end\":\"fin\","
			   "\"anomalies\":[]}\n") == 0);
	n = json_object(line, kv, 40);
	check("record: one JSON object on one line, the README's keys exactly, in order",
	      n > 0 && keys_exact(kv, n));
	check("record: DESIGN.md 4's keys all there, in order", n > 0 && design_keys_in_order(kv, n));
	check("record: the connection's own end (fin) wins over the one passed",
	      strstr(record_json(t, f, FT_END_TIMEOUT), "\"end\":\"fin\"") != NULL);
	ft_flow_remove(t, f);

	/* Mid-stream, IPv6 with two VLANs, timed out: no ISN seen. */
	v6.vlan[0] = 100, v6.vlan[1] = 200, v6.n_vlan = 2;
	f = add(t, &v6, ts, FT_AGE_ESTABLISHED, false);
	seg(f, &v6, FT_TCP_ORIG, P_ | A_, 7000, 9000, 10, 64, ts);
	seg(f, &v6, FT_TCP_RESP, A_, 9000, 7010, 0, 64, ts + 2500 * ms);
	line = record_json(t, f, FT_END_TIMEOUT);
	printf("     %s", line);
	n = json_object(line, kv, 40);
	check("record: mid-stream IPv6/VLAN: keys exact",
	      n > 0 && keys_exact(kv, n) && design_keys_in_order(kv, n));
	check("record: mid-stream: both ISNs null, end timeout, VLANs outer first, IPv6 addresses",
	      n > 0 && strcmp(jval(kv, n, "orig_isn"), "null") == 0 &&
		      strcmp(jval(kv, n, "resp_isn"), "null") == 0 &&
		      strcmp(jval(kv, n, "end"), "\"timeout\"") == 0 &&
		      strcmp(jval(kv, n, "vlan"), "[100,200]") == 0 &&
		      strcmp(jval(kv, n, "src"), "\"2001:db8::10\"") == 0 &&
		      strcmp(jval(kv, n, "dst"), "\"2001:db8::20\"") == 0 &&
		      strcmp(jval(kv, n, "sport"), "50000") == 0 &&
		      strcmp(jval(kv, n, "last_ts"), "1767225602.500000") == 0 &&
		      strcmp(jval(kv, n, "orig_bytes"), "10") == 0 &&
		      strcmp(jval(kv, n, "anomalies"), "[\"midstream_pickup\"]") == 0);
	ft_flow_remove(t, f);

	/* SYN+ACK first: its receiver is the originator; its ISN unseen. */
	f = add(t, &s, ts, FT_AGE_EMBRYONIC, true);
	f->orig_side ^= 1; /* as track.c does when !ft_tcp_first_is_orig() */
	seg(f, &c, FT_TCP_RESP, S_ | A_, 5000, 1001, 0, 64, ts);
	line = record_json(t, f, FT_END_EVICTED);
	printf("     %s", line);
	n = json_object(line, kv, 40);
	check("record: SYN+ACK first: orig is the SYN+ACK's receiver, orig_isn null, resp_isn 5000",
	      n > 0 && keys_exact(kv, n) && strcmp(jval(kv, n, "src"), "\"192.168.1.10\"") == 0 &&
		      strcmp(jval(kv, n, "sport"), "1042") == 0 &&
		      strcmp(jval(kv, n, "orig_isn"), "null") == 0 &&
		      strcmp(jval(kv, n, "resp_isn"), "5000") == 0 &&
		      strcmp(jval(kv, n, "history"), "\"^h\"") == 0 &&
		      strcmp(jval(kv, n, "end"), "\"evicted\"") == 0 &&
		      strcmp(jval(kv, n, "vlan"), "[]") == 0);
	ft_flow_remove(t, f);

	/* Anomalies in catalogue order, whatever the order they came in. */
	f = add(t, &c, ts, FT_AGE_EMBRYONIC, true);
	seg(f, &c, FT_TCP_ORIG, S_, 1000, 0, 0, 64, ts);
	seg(f, &c, FT_TCP_ORIG, S_, 1000, 0, 0, 50, ts);             /* ttl_change */
	seg(f, &c, FT_TCP_RESP, S_ | A_, 5000, 1001, 3, 64, ts);     /* syn_with_data */
	line = record_json(t, f, FT_END_EXIT);
	n = json_object(line, kv, 40);
	check("record: anomalies in catalogue order, end exit",
	      n > 0 && strcmp(jval(kv, n, "anomalies"), "[\"syn_with_data\",\"ttl_change\"]") == 0 &&
		      strcmp(jval(kv, n, "end"), "\"exit\"") == 0 &&
		      strcmp(jval(kv, n, "orig_state"), "\"ESTABLISHED\"") == 0 &&
		      strcmp(jval(kv, n, "resp_state"), "\"SYN_RECEIVED\"") == 0);
	ft_flow_table_free(t);
}

/* ------------------------------------------------------------------------ */

int
main(void)
{
	if (ft_unit_eal_init("flow") < 0)
		return ft_unit_summary();
	test_keys();
	test_table();
	test_capacity();
	test_random_fill();
	test_churn_bulk();
	test_spill_saturates();
	test_collision_flood();
	test_iterate();
	test_endpoints();
	test_embryo();
	test_wheel();
	test_foreach_renew();
	test_records();
	ft_unit_eal_cleanup();
	return ft_unit_summary();
}
