/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/defrag driven directly with built frames: every overlap policy on a
 * Novak-style pattern (exact bytes), arrival orders, duplicates, every
 * anomaly, IPv6 extension headers before the Fragment header, VLANs, a
 * flood that fills the table, a datagram that needs two segments, and the
 * mempools full again after a flush. Each fragment is "finished" by the test
 * as a passive worker does (freed at once after ft_defrag_add()).
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>

#include "ft_decode.h"
#include "ft_defrag.h"
#include "ft_events.h"
#include "ft_stats.h"
#include "ft_unit.h"

#define SEC 1000000000ull
#define MAX_EV 64
#define P_EXP 253 /* experimental protocol: no transport header to judge */

static struct rte_mempool *frames;
/* Dynamic flags: the "reassembled" mark and two others (one copied, one not). */
static uint64_t REASM_FLAG, FLAG_COPIED, FLAG_OTHER;
static struct ft_stats st;
static struct ft_event evs[MAX_EV];
static unsigned int n_ev;

static void
on_event(void *arg, const struct ft_event *ev)
{
	(void)arg;
	if (n_ev < MAX_EV)
		evs[n_ev] = *ev;
	n_ev++;
}

static struct ft_defrag *
make(const char *name, enum ft_defrag_policy policy, uint32_t datagrams, uint32_t frags,
     uint32_t held)
{
	struct ft_defrag_params p;
	struct ft_defrag *d;

	memset(&p, 0, sizeof(p));
	p.name = name;
	p.socket = SOCKET_ID_ANY;
	p.max_datagrams = datagrams;
	p.max_fragments = frags;
	p.max_held = held;
	p.max_size = 65535;
	p.timeout_ns = 30 * SEC;
	p.policy = policy;
	p.reasm_mbufs = 8;
	p.reasm_flag = REASM_FLAG;
	p.stats = &st;
	p.event = on_event;
	d = ft_defrag_create(&p);
	if (d == NULL)
		check(fmt("create %s", name), false);
	return d;
}

static void
reset(void)
{
	memset(&st, 0, sizeof(st));
	n_ev = 0;
}

static uint64_t
c(enum ft_ctr id)
{
	return st.ctr[id];
}

static uint64_t
dropped_sum(void)
{
	return c(FT_CTR_DEFRAG_DROPPED_TIMEOUT) + c(FT_CTR_DEFRAG_DROPPED_EVICTED) +
	       c(FT_CTR_DEFRAG_DROPPED_TOO_MANY) + c(FT_CTR_DEFRAG_DROPPED_OVERSIZE) +
	       c(FT_CTR_DEFRAG_DROPPED_INCONSISTENT) + c(FT_CTR_DEFRAG_DROPPED_DEAD) +
	       c(FT_CTR_DEFRAG_DROPPED_NO_BUFFER) + c(FT_CTR_DEFRAG_DROPPED_EXIT);
}

static void
identity(const char *name)
{
	checkf(fmt("%s: fragments == used + dropped + held", name),
	       c(FT_CTR_DEFRAG_FRAGMENTS) ==
		       c(FT_CTR_DEFRAG_FRAGMENTS_USED) + dropped_sum() + c(FT_CTR_DEFRAG_HELD),
	       "fragments %lu used %lu dropped %lu held %lu",
	       (unsigned long)c(FT_CTR_DEFRAG_FRAGMENTS), (unsigned long)c(FT_CTR_DEFRAG_FRAGMENTS_USED),
	       (unsigned long)dropped_sum(), (unsigned long)c(FT_CTR_DEFRAG_HELD));
}

static unsigned int
events_named(unsigned int type, const char *detail)
{
	unsigned int i, n = 0;

	for (i = 0; i < n_ev && i < MAX_EV; i++)
		if (evs[i].type == type && (detail == NULL || strcmp(evs[i].detail, detail) == 0))
			n++;
	return n;
}

/* Frames ------------------------------------------------------------------ */

struct frag {
	uint16_t vlan[2];     /* 0: absent */
	uint8_t ip_ver;
	uint8_t proto;        /* IPv4 protocol / IPv6 Fragment header next header */
	uint32_t id;
	uint32_t off;         /* bytes */
	bool more, df, reserved;
	bool ext6;            /* IPv6: hop-by-hop and destination options before the Fragment header */
	uint8_t src_last;     /* last byte of the source address */
	const uint8_t *data;
	uint32_t len;
};

static const uint8_t ip6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t ip6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

/* Build one fragment's frame; returns the mbuf (data in one segment). */
static struct rte_mbuf *
frame(const struct frag *f, struct ft_pkt *p)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(frames);
	uint8_t *b = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t o = 12, i;
	uint16_t v;

	memset(b, 0, 128);
	b[0] = 0x02;
	b[6] = 0x02;
	b[11] = 1;
	for (i = 0; i < 2; i++) {
		if (f->vlan[i] == 0)
			continue;
		v = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
		memcpy(b + o, &v, 2);
		v = rte_cpu_to_be_16(f->vlan[i]);
		memcpy(b + o + 2, &v, 2);
		o += 4;
	}
	v = rte_cpu_to_be_16(f->ip_ver == 4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
	memcpy(b + o, &v, 2);
	o += 2;
	if (f->ip_ver == 4) {
		struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)(b + o);
		uint16_t fo = (uint16_t)(f->off / 8);

		memset(h, 0, sizeof(*h));
		h->version_ihl = 0x45;
		h->total_length = rte_cpu_to_be_16((uint16_t)(20 + f->len));
		h->packet_id = rte_cpu_to_be_16((uint16_t)f->id);
		if (f->more)
			fo |= RTE_IPV4_HDR_MF_FLAG;
		if (f->df)
			fo |= RTE_IPV4_HDR_DF_FLAG;
		if (f->reserved)
			fo |= 0x8000;
		h->fragment_offset = rte_cpu_to_be_16(fo);
		h->time_to_live = 64;
		h->next_proto_id = f->proto;
		h->src_addr = rte_cpu_to_be_32(0x0a000000u | f->src_last);
		h->dst_addr = rte_cpu_to_be_32(0x0a000002u);
		h->hdr_checksum = rte_ipv4_cksum(h);
		o += 20;
	} else {
		uint8_t *h = b + o;
		uint32_t ext = f->ext6 ? 16 : 0;
		uint16_t fo = (uint16_t)(f->off | (f->more ? 1 : 0));
		uint32_t id = rte_cpu_to_be_32(f->id);

		h[0] = 0x60;
		v = rte_cpu_to_be_16((uint16_t)(ext + 8 + f->len));
		memcpy(h + 4, &v, 2);
		h[6] = f->ext6 ? IPPROTO_HOPOPTS : IPPROTO_FRAGMENT;
		h[7] = 64;
		memcpy(h + 8, ip6_src, 16);
		h[8 + 15] = f->src_last;
		memcpy(h + 24, ip6_dst, 16);
		o += 40;
		if (f->ext6) {
			/* hop-by-hop (8 bytes, PadN), destination options (8 bytes) */
			b[o] = IPPROTO_DSTOPTS;
			b[o + 1] = 0;
			b[o + 2] = 1;
			b[o + 3] = 4;
			b[o + 8] = IPPROTO_FRAGMENT;
			b[o + 9] = 0;
			b[o + 10] = 1;
			b[o + 11] = 4;
			o += 16;
		}
		b[o] = f->proto;
		b[o + 1] = 0;
		fo = rte_cpu_to_be_16(fo);
		memcpy(b + o + 2, &fo, 2);
		memcpy(b + o + 4, &id, 4);
		o += 8;
	}
	memcpy(b + o, f->data, f->len);
	m->data_len = (uint16_t)(o + f->len);
	m->pkt_len = m->data_len;
	ft_decode(b, m->data_len, m->pkt_len, p);
	return m;
}

/* Give a fragment, then finish it as a passive worker does. */
static struct rte_mbuf *
add(struct ft_defrag *d, const struct frag *f, uint64_t now)
{
	struct ft_pkt p;
	struct rte_mbuf *m = frame(f, &p), *r;

	if (p.cls != FT_CLS_FRAGMENT) {
		check(fmt("frame decodes as a fragment (cls %u, malformed %s)", p.cls,
			  ft_malformed_name(p.malformed)), false);
		rte_pktmbuf_free(m);
		return NULL;
	}
	r = ft_defrag_add(d, m, &p, now);
	rte_pktmbuf_free(m);
	return r;
}

/* The reassembled datagram's transport bytes (after its IP headers). */
static bool
payload_is(struct rte_mbuf *r, const uint8_t *want, uint32_t len, struct ft_pkt *p)
{
	static uint8_t buf[70000];
	const uint8_t *got;

	ft_decode(rte_pktmbuf_mtod(r, const uint8_t *), r->data_len, r->pkt_len, p);
	if (p->l4_off + len != r->pkt_len)
		return false;
	got = rte_pktmbuf_read(r, p->l4_off, len, buf);
	return got != NULL && memcmp(got, want, len) == 0;
}

/* Tests ------------------------------------------------------------------- */

/*
 * The overlap pattern (after Novak's paper; offsets and lengths in 8-byte
 * units, each fragment's bytes are its digit), in arrival order:
 *   F1 [1,4)  F2 [4,8)  F3 [8,11)  F4 [0,5)  F5 [3,6)  F6 [8,12) last
 * F4 strictly covers F1; F6 starts where F3 starts. Expected per unit, by
 * the rules of ft_defrag.h (N takes a byte when it wins against every
 * earlier fragment covering it):
 *   first    4 1 1 1 2 2 2 2 3 3 3 6
 *   last     4 4 4 5 5 5 2 2 6 6 6 6
 *   bsd      4 4 4 4 4 5 2 2 3 3 3 6
 *   linux    4 4 4 4 4 5 2 2 6 6 6 6
 *   windows  4 4 4 4 2 2 2 2 3 3 3 6
 */
static void
test_policies(void)
{
	static const struct {
		unsigned int off, len;
		char digit;
	} pat[] = { { 1, 3, '1' }, { 4, 4, '2' }, { 8, 3, '3' }, { 0, 5, '4' }, { 3, 3, '5' },
		    { 8, 4, '6' } };
	static const char *const want[FT_DEFRAG_POLICY_MAX] = {
		[FT_DEFRAG_FIRST] = "411122223336",
		[FT_DEFRAG_LAST] = "444555226666",
		[FT_DEFRAG_BSD] = "444445223336",
		[FT_DEFRAG_LINUX] = "444445226666",
		[FT_DEFRAG_WINDOWS] = "444422223336",
	};
	unsigned int pol, i;

	for (pol = 0; pol < FT_DEFRAG_POLICY_MAX; pol++) {
		const char *name = ft_defrag_policy_name(pol);
		struct ft_defrag *d;
		struct rte_mbuf *r = NULL;
		uint8_t data[96], exp[96];
		struct ft_pkt p;

		reset();
		d = make(fmt("pol%u", pol), (enum ft_defrag_policy)pol, 64, 16, 64);
		if (d == NULL)
			return;
		for (i = 0; i < RTE_DIM(pat); i++) {
			struct frag f = { .ip_ver = 4, .proto = P_EXP, .id = 7, .off = pat[i].off * 8,
					  .more = i != 5, .data = data, .len = pat[i].len * 8,
					  .src_last = 1 };

			memset(data, pat[i].digit, sizeof(data));
			r = add(d, &f, SEC);
			if (i != 5 && r != NULL)
				check(fmt("%s: complete only with the last fragment", name), false);
		}
		for (i = 0; i < 96; i++)
			exp[i] = (uint8_t)want[pol][i / 8];
		checkf(fmt("%s: reassembled", name), r != NULL, "no datagram");
		if (r != NULL) {
			const struct rte_ipv4_hdr *h;

			checkf(fmt("%s: bytes %s", name, want[pol]), payload_is(r, exp, 96, &p),
			       "got other bytes");
			h = rte_pktmbuf_mtod_offset(r, const struct rte_ipv4_hdr *, p.l3_off);
			checkf(fmt("%s: IPv4 header rewritten", name),
			       rte_be_to_cpu_16(h->total_length) == 116 && h->fragment_offset == 0 &&
				       rte_ipv4_cksum(h) == 0 && h->next_proto_id == P_EXP,
			       "total %u frag %04x", rte_be_to_cpu_16(h->total_length),
			       rte_be_to_cpu_16(h->fragment_offset));
			checkf(fmt("%s: reassembled flag set", name), (r->ol_flags & REASM_FLAG) != 0,
			       "ol_flags %lx", (unsigned long)r->ol_flags);
			rte_pktmbuf_free(r);
		}
		checkf(fmt("%s: overlaps counted (3, all different)", name),
		       c(FT_CTR_DEFRAG_OVERLAPS) == 3 && c(FT_CTR_DEFRAG_OVERLAPS_DIFFERENT) == 3 &&
			       st.anomaly[FT_EV_FRAG_OVERLAP] == 3,
		       "overlaps %lu different %lu anomaly %lu",
		       (unsigned long)c(FT_CTR_DEFRAG_OVERLAPS),
		       (unsigned long)c(FT_CTR_DEFRAG_OVERLAPS_DIFFERENT),
		       (unsigned long)st.anomaly[FT_EV_FRAG_OVERLAP]);
		checkf(fmt("%s: one frag_overlap event, different bytes", name),
		       n_ev == 1 && events_named(FT_EV_FRAG_OVERLAP, "different bytes") == 1 &&
			       evs[0].dir == FT_DIR_NONE && evs[0].proto == P_EXP,
		       "%u events", n_ev);
		checkf(fmt("%s: counters", name),
		       c(FT_CTR_DEFRAG_REASSEMBLED) == 1 && c(FT_CTR_DEFRAG_FRAGMENTS_USED) == 6 &&
			       c(FT_CTR_DEFRAG_IN_FLIGHT) == 0 && c(FT_CTR_DEFRAG_HELD) == 0,
		       "reassembled %lu used %lu", (unsigned long)c(FT_CTR_DEFRAG_REASSEMBLED),
		       (unsigned long)c(FT_CTR_DEFRAG_FRAGMENTS_USED));
		identity(name);
		ft_defrag_free(d);
	}
}

/* A UDP datagram of 8 + 320 bytes cut in 5 fragments of 72, 72, 72, 72, 40. */
static uint8_t udp_dgram[328];

static void
udp_init(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(udp_dgram); i++)
		udp_dgram[i] = (uint8_t)(i * 7 + 3);
	udp_dgram[0] = 0x13;
	udp_dgram[1] = 0x88; /* 5000 */
	udp_dgram[2] = 0x00;
	udp_dgram[3] = 0x35; /* 53 */
	udp_dgram[4] = (uint8_t)(sizeof(udp_dgram) >> 8);
	udp_dgram[5] = (uint8_t)sizeof(udp_dgram);
	udp_dgram[6] = udp_dgram[7] = 0;
}

static struct frag
udp_piece(unsigned int i, uint8_t ip_ver, uint32_t id)
{
	struct frag f = { .ip_ver = ip_ver, .proto = IPPROTO_UDP, .id = id, .off = i * 72,
			  .more = i != 4, .data = udp_dgram + i * 72, .len = i == 4 ? 40 : 72,
			  .src_last = 1 };
	return f;
}

static void
test_orders(void)
{
	static const unsigned int orders[][7] = {
		{ 0, 1, 2, 3, 4 },          /* in order */
		{ 4, 3, 2, 1, 0 },          /* reversed */
		{ 2, 4, 0, 3, 1 },          /* shuffled */
		{ 0, 1, 1, 2, 3, 3, 4 },    /* duplicated */
	};
	static const unsigned int n_in[] = { 5, 5, 5, 7 };
	static const char *const names[] = { "in order", "reversed", "shuffled", "duplicated" };
	unsigned int o, i, v;

	for (v = 4; v <= 6; v += 2)
		for (o = 0; o < RTE_DIM(orders); o++) {
			struct ft_defrag *d;
			struct rte_mbuf *r = NULL;
			struct ft_pkt p;
			unsigned int n_out = 0;
			const char *name = fmt("IPv%u %s", v, names[o]);

			reset();
			d = make(fmt("ord%u_%u", v, o), FT_DEFRAG_LINUX, 64, 16, 64);
			if (d == NULL)
				return;
			for (i = 0; i < n_in[o]; i++) {
				struct frag f = udp_piece(orders[o][i], (uint8_t)v, 0x1234 + o);
				struct rte_mbuf *x = add(d, &f, SEC + i);

				if (x != NULL) {
					n_out++;
					r = x;
				}
			}
			checkf(fmt("%s: one datagram, on the last fragment", name),
			       n_out == 1 && r != NULL, "%u datagrams", n_out);
			if (r != NULL) {
				checkf(fmt("%s: bytes equal the datagram sent", name),
				       payload_is(r, udp_dgram, sizeof(udp_dgram), &p) &&
					       p.cls == FT_CLS_UDP && p.sport == 5000 && p.dport == 53,
				       "cls %u", p.cls);
				rte_pktmbuf_free(r);
			}
			checkf(fmt("%s: counters", name),
			       c(FT_CTR_DEFRAG_FRAGMENTS) == n_in[o] &&
				       c(FT_CTR_DEFRAG_FRAGMENTS_USED) == n_in[o] &&
				       c(FT_CTR_DEFRAG_OVERLAPS) == n_in[o] - 5 &&
				       c(FT_CTR_DEFRAG_OVERLAPS_DIFFERENT) == 0,
			       "fragments %lu used %lu overlaps %lu",
			       (unsigned long)c(FT_CTR_DEFRAG_FRAGMENTS),
			       (unsigned long)c(FT_CTR_DEFRAG_FRAGMENTS_USED),
			       (unsigned long)c(FT_CTR_DEFRAG_OVERLAPS));
			if (n_in[o] > 5)
				checkf(fmt("%s: frag_overlap once, same bytes", name),
				       n_ev == 1 && events_named(FT_EV_FRAG_OVERLAP, "same bytes") == 1 &&
					       evs[0].sport == 5000 && evs[0].dport == 53 &&
					       evs[0].proto == IPPROTO_UDP,
				       "%u events", n_ev);
			else
				checkf(fmt("%s: no event", name), n_ev == 0, "%u events", n_ev);
			identity(name);
			ft_defrag_free(d);
		}
}

/* A duplicate fragment (same bytes) first, then one rewriting bytes: the
 * second overlap is not hidden behind the first's event, and it is an
 * alert where the duplicate is a warning. */
static void
test_overlap_same_then_different(void)
{
	static uint8_t other[72];
	const char *name = "same bytes, then different bytes";
	struct frag f = udp_piece(1, 4, 0x4321);
	struct ft_defrag *d;
	struct rte_mbuf *r;
	unsigned int i;

	reset();
	d = make("ovl_sd", FT_DEFRAG_LINUX, 64, 16, 64);
	if (d == NULL)
		return;
	for (i = 0; i < sizeof(other); i++)
		other[i] = (uint8_t)~udp_dgram[72 + i];
	r = add(d, &f, SEC);          /* fragment 1 */
	r = add(d, &f, SEC + 1);      /* again, the same bytes */
	f.data = other;
	r = add(d, &f, SEC + 2);      /* again, other bytes */
	for (i = 0; i < 5; i++) {
		if (i == 1)
			continue;
		f = udp_piece(i, 4, 0x4321);
		r = add(d, &f, SEC + 3 + i);
	}
	checkf(fmt("%s: reassembled", name), r != NULL, "no datagram");
	if (r != NULL)
		rte_pktmbuf_free(r);
	checkf(fmt("%s: overlaps counted (2, 1 different)", name),
	       c(FT_CTR_DEFRAG_OVERLAPS) == 2 && c(FT_CTR_DEFRAG_OVERLAPS_DIFFERENT) == 1,
	       "overlaps %lu different %lu", (unsigned long)c(FT_CTR_DEFRAG_OVERLAPS),
	       (unsigned long)c(FT_CTR_DEFRAG_OVERLAPS_DIFFERENT));
	checkf(fmt("%s: two frag_overlap events: same bytes (warning), then different bytes (alert)",
		   name),
	       n_ev == 2 && evs[0].type == FT_EV_FRAG_OVERLAP && strcmp(evs[0].detail, "same bytes") == 0 &&
		       evs[0].severity == FT_SEV_WARNING && evs[1].type == FT_EV_FRAG_OVERLAP &&
		       strcmp(evs[1].detail, "different bytes") == 0 && evs[1].severity == FT_SEV_ALERT,
	       "%u events", n_ev);
	identity(name);
	ft_defrag_free(d);
}

static void
test_tiny_df_reserved(void)
{
	uint8_t tcp[64];
	struct ft_defrag *d;
	struct rte_mbuf *r;
	struct frag f = { .ip_ver = 4, .proto = IPPROTO_TCP, .id = 9, .off = 0, .more = true,
			  .data = tcp, .len = 16, .src_last = 1 };

	reset();
	memset(tcp, 0, sizeof(tcp));
	tcp[12] = 0x50;
	d = make("tiny", FT_DEFRAG_LINUX, 64, 16, 64);
	if (d == NULL)
		return;
	r = add(d, &f, SEC);
	checkf("tiny: TCP first fragment of 16 bytes flagged",
	       r == NULL && st.anomaly[FT_EV_FRAG_TINY_FIRST] == 1 &&
		       events_named(FT_EV_FRAG_TINY_FIRST, "first fragment of 16 bytes") == 1,
	       "anomaly %lu, %u events", (unsigned long)st.anomaly[FT_EV_FRAG_TINY_FIRST], n_ev);
	/* 24 bytes but a data offset of 32: tiny too; DF and reserved flagged, kept. */
	tcp[12] = 0x80;
	f.id = 10;
	f.len = 24;
	f.df = true;
	f.reserved = true;
	r = add(d, &f, SEC);
	f.off = 24;
	f.more = false;
	f.data = tcp + 24;
	f.len = 16;
	r = add(d, &f, SEC);
	checkf("tiny: data offset beyond the first fragment flagged",
	       st.anomaly[FT_EV_FRAG_TINY_FIRST] == 2, "anomaly %lu",
	       (unsigned long)st.anomaly[FT_EV_FRAG_TINY_FIRST]);
	checkf("DF: flagged on both fragments, one event",
	       st.anomaly[FT_EV_FRAG_DF_SET] == 2 && events_named(FT_EV_FRAG_DF_SET, NULL) == 1,
	       "anomaly %lu", (unsigned long)st.anomaly[FT_EV_FRAG_DF_SET]);
	checkf("reserved flag: frag_inconsistent, one event",
	       st.anomaly[FT_EV_FRAG_INCONSISTENT] == 2 &&
		       events_named(FT_EV_FRAG_INCONSISTENT, "reserved flag set") == 1,
	       "anomaly %lu", (unsigned long)st.anomaly[FT_EV_FRAG_INCONSISTENT]);
	checkf("DF and reserved: the datagram is still reassembled", r != NULL, "none");
	if (r != NULL) {
		const struct rte_ipv4_hdr *h = rte_pktmbuf_mtod_offset(r, const struct rte_ipv4_hdr *, 14);

		checkf("DF and reserved: flags cleared in the datagram", h->fragment_offset == 0,
		       "%04x", h->fragment_offset);
		rte_pktmbuf_free(r);
	}
	ft_defrag_flush(d);
	checkf("tiny: the lone first fragment dropped at exit, no timeout event",
	       c(FT_CTR_DEFRAG_DROPPED_EXIT) == 1 && events_named(FT_EV_FRAG_TIMEOUT, NULL) == 0,
	       "exit %lu", (unsigned long)c(FT_CTR_DEFRAG_DROPPED_EXIT));
	identity("tiny/DF/reserved");
	ft_defrag_free(d);
}

static void
test_oversize_dead(void)
{
	uint8_t data[64];
	struct ft_defrag *d;
	struct frag f = { .ip_ver = 4, .proto = IPPROTO_UDP, .id = 11, .off = 0, .more = true,
			  .data = data, .len = 64, .src_last = 1 };

	reset();
	memset(data, 0xaa, sizeof(data));
	d = make("oversize", FT_DEFRAG_LINUX, 64, 16, 64);
	if (d == NULL)
		return;
	add(d, &f, SEC);
	f.off = 65512; /* 20 + 65512 + 8 = 65540 > 65535 */
	f.len = 8;
	f.more = false;
	add(d, &f, SEC);
	checkf("oversize: frag_oversize, datagram dropped",
	       st.anomaly[FT_EV_FRAG_OVERSIZE] == 1 && c(FT_CTR_DEFRAG_DROPPED_OVERSIZE) == 2 &&
		       c(FT_CTR_DEFRAG_HELD) == 0 && events_named(FT_EV_FRAG_OVERSIZE, NULL) == 1,
	       "anomaly %lu dropped %lu held %lu", (unsigned long)st.anomaly[FT_EV_FRAG_OVERSIZE],
	       (unsigned long)c(FT_CTR_DEFRAG_DROPPED_OVERSIZE), (unsigned long)c(FT_CTR_DEFRAG_HELD));
	f.off = 64;
	f.len = 16;
	add(d, &f, 2 * SEC);
	checkf("oversize: a late fragment of the dropped datagram is dead",
	       c(FT_CTR_DEFRAG_DROPPED_DEAD) == 1 && c(FT_CTR_DEFRAG_DATAGRAMS) == 1,
	       "dead %lu datagrams %lu", (unsigned long)c(FT_CTR_DEFRAG_DROPPED_DEAD),
	       (unsigned long)c(FT_CTR_DEFRAG_DATAGRAMS));
	/* After its timeout the dead tracker goes silently; the id opens anew. */
	checkf("oversize: the dead tracker expires without an event",
	       ft_defrag_age(d, 31 * SEC, 16) == 1 && c(FT_CTR_DEFRAG_TIMEOUTS) == 0 &&
		       events_named(FT_EV_FRAG_TIMEOUT, NULL) == 0 && ft_defrag_in_flight(d) == 0,
	       "timeouts %lu", (unsigned long)c(FT_CTR_DEFRAG_TIMEOUTS));
	identity("oversize");
	ft_defrag_free(d);
}

static void
test_too_many_timeout(void)
{
	uint8_t data[8];
	struct ft_defrag *d;
	unsigned int i;
	struct frag f = { .ip_ver = 4, .proto = P_EXP, .id = 12, .more = true, .data = data,
			  .len = 8, .src_last = 1 };

	reset();
	memset(data, 1, sizeof(data));
	d = make("toomany", FT_DEFRAG_LINUX, 64, 4, 64);
	if (d == NULL)
		return;
	for (i = 0; i < 5; i++) {
		f.off = 8 + i * 8;
		add(d, &f, SEC);
	}
	checkf("too many: the fifth fragment drops the datagram",
	       st.anomaly[FT_EV_FRAG_TOO_MANY] == 1 && c(FT_CTR_DEFRAG_DROPPED_TOO_MANY) == 5 &&
		       events_named(FT_EV_FRAG_TOO_MANY, "more than 4 fragments") == 1,
	       "anomaly %lu dropped %lu", (unsigned long)st.anomaly[FT_EV_FRAG_TOO_MANY],
	       (unsigned long)c(FT_CTR_DEFRAG_DROPPED_TOO_MANY));
	/* Timeout: two fragments of another datagram, then time passes. */
	f.id = 13;
	f.off = 0;
	add(d, &f, 2 * SEC);
	f.off = 16;
	add(d, &f, 3 * SEC);
	checkf("timeout: nothing expires before 30 s", ft_defrag_age(d, 31 * SEC, 16) == 1 &&
	       c(FT_CTR_DEFRAG_TIMEOUTS) == 0, "timeouts %lu", (unsigned long)c(FT_CTR_DEFRAG_TIMEOUTS));
	checkf("timeout: expires at first fragment + 30 s", ft_defrag_age(d, 32 * SEC, 16) == 1 &&
	       c(FT_CTR_DEFRAG_TIMEOUTS) == 1 && c(FT_CTR_DEFRAG_DROPPED_TIMEOUT) == 2 &&
	       st.anomaly[FT_EV_FRAG_TIMEOUT] == 1 &&
	       events_named(FT_EV_FRAG_TIMEOUT, "2 fragments held") == 1,
	       "timeouts %lu dropped %lu", (unsigned long)c(FT_CTR_DEFRAG_TIMEOUTS),
	       (unsigned long)c(FT_CTR_DEFRAG_DROPPED_TIMEOUT));
	checkf("timeout: the event's time is the expiry", n_ev == 2 && evs[1].ts_ns == 32 * SEC,
	       "%u events, ts %lu", n_ev, (unsigned long)evs[1].ts_ns);
	/* A fragment arriving after the timeout expires the datagram first. */
	f.id = 14;
	f.off = 0;
	add(d, &f, 40 * SEC);
	f.off = 8;
	f.more = false;
	add(d, &f, 71 * SEC);
	checkf("timeout: a late fragment finds its datagram expired, opens a new one",
	       c(FT_CTR_DEFRAG_TIMEOUTS) == 2 && c(FT_CTR_DEFRAG_REASSEMBLED) == 0 &&
		       ft_defrag_in_flight(d) == 1,
	       "timeouts %lu in flight %u", (unsigned long)c(FT_CTR_DEFRAG_TIMEOUTS),
	       ft_defrag_in_flight(d));
	ft_defrag_flush(d);
	identity("too many/timeout");
	ft_defrag_free(d);
}

static void
test_inconsistent(void)
{
	uint8_t data[64];
	struct ft_defrag *d;
	struct rte_mbuf *r;
	struct ft_pkt p;
	struct frag f = { .ip_ver = 4, .proto = P_EXP, .id = 20, .data = data, .src_last = 1 };

	reset();
	memset(data, 5, sizeof(data));
	d = make("incons", FT_DEFRAG_LINUX, 64, 16, 64);
	if (d == NULL)
		return;
	/* Two last fragments with different ends. */
	f.off = 16;
	f.len = 16;
	add(d, &f, SEC);
	f.off = 32;
	add(d, &f, SEC);
	checkf("two last fragments: dropped",
	       c(FT_CTR_DEFRAG_DROPPED_INCONSISTENT) == 2 &&
		       events_named(FT_EV_FRAG_INCONSISTENT, "two last fragments") == 1,
	       "dropped %lu", (unsigned long)c(FT_CTR_DEFRAG_DROPPED_INCONSISTENT));
	/* Data beyond the last fragment's end. */
	f.id = 21;
	f.off = 16;
	f.len = 16;
	f.more = false;
	add(d, &f, SEC);
	f.off = 24;
	f.more = true;
	add(d, &f, SEC);
	checkf("data beyond the end: dropped",
	       c(FT_CTR_DEFRAG_DROPPED_INCONSISTENT) == 4 &&
		       events_named(FT_EV_FRAG_INCONSISTENT, "data beyond the end") == 1,
	       "dropped %lu", (unsigned long)c(FT_CTR_DEFRAG_DROPPED_INCONSISTENT));
	/* IPv4 non-last fragment of 20 bytes: cut to 16, kept. */
	f.id = 22;
	f.off = 0;
	f.len = 20;
	f.more = true;
	add(d, &f, SEC);
	f.off = 16;
	f.len = 8;
	f.more = false;
	r = add(d, &f, SEC);
	checkf("IPv4 non-last length 20: flagged, cut to 16, reassembled",
	       r != NULL && payload_is(r, data, 24, &p) &&
		       events_named(FT_EV_FRAG_INCONSISTENT,
				    "non-last fragment length not a multiple of 8") == 1,
	       "r %p", (void *)r);
	rte_pktmbuf_free(r);
	/* IPv6 non-last fragment of 20 bytes: dropped. */
	f.ip_ver = 6;
	f.id = 23;
	f.off = 0;
	f.len = 20;
	f.more = true;
	add(d, &f, SEC);
	checkf("IPv6 non-last length 20: dropped",
	       c(FT_CTR_DEFRAG_DROPPED_INCONSISTENT) == 5 && ft_defrag_held(d) == 0,
	       "dropped %lu held %u", (unsigned long)c(FT_CTR_DEFRAG_DROPPED_INCONSISTENT),
	       ft_defrag_held(d));
	/* IPv6 fragments that disagree on the next header. */
	f.id = 24;
	f.off = 16;
	f.len = 8;
	f.more = false;
	f.proto = IPPROTO_UDP;
	add(d, &f, SEC);
	f.off = 0;
	f.len = 16;
	f.more = true;
	f.proto = P_EXP;
	r = add(d, &f, SEC);
	checkf("IPv6 next header differs: flagged, the offset-0 fragment's kept",
	       r != NULL && st.anomaly[FT_EV_FRAG_INCONSISTENT] == 5 &&
		       events_named(FT_EV_FRAG_INCONSISTENT, "next header differs between fragments") == 1 &&
		       payload_is(r, data, 24, &p) && p.l4_proto == P_EXP,
	       "r %p anomaly %lu", (void *)r, (unsigned long)st.anomaly[FT_EV_FRAG_INCONSISTENT]);
	rte_pktmbuf_free(r);
	ft_defrag_flush(d);
	identity("inconsistent");
	ft_defrag_free(d);
}

static void
test_ipv6_ext(void)
{
	struct ft_defrag *d;
	struct rte_mbuf *r = NULL;
	struct ft_pkt p;
	unsigned int i;

	reset();
	d = make("ext6", FT_DEFRAG_LINUX, 64, 16, 64);
	if (d == NULL)
		return;
	for (i = 0; i < 5; i++) {
		struct frag f = udp_piece(4 - i, 6, 0xabcdef01);

		f.ext6 = true;
		r = add(d, &f, SEC);
	}
	checkf("IPv6 hop-by-hop + destination options: reassembled", r != NULL, "none");
	if (r == NULL)
		return;
	{
		const uint8_t *ip = rte_pktmbuf_mtod_offset(r, const uint8_t *, 14);

		checkf("IPv6 ext: bytes, UDP decoded", payload_is(r, udp_dgram, sizeof(udp_dgram), &p) &&
		       p.cls == FT_CLS_UDP && p.l4_off == 14 + 40 + 16,
		       "cls %u l4_off %u", p.cls, p.l4_off);
		checkf("IPv6 ext: headers kept, Fragment header removed, next header UDP",
		       ip[6] == IPPROTO_HOPOPTS && ip[40] == IPPROTO_DSTOPTS && ip[48] == IPPROTO_UDP &&
			       ((ip[4] << 8) | ip[5]) == 16 + sizeof(udp_dgram),
		       "nh %u %u %u plen %u", ip[6], ip[40], ip[48], (ip[4] << 8) | ip[5]);
	}
	rte_pktmbuf_free(r);
	ft_defrag_free(d);
}

static void
test_vlan(void)
{
	struct ft_defrag *d;
	unsigned int i, n_out = 0;

	reset();
	d = make("vlan", FT_DEFRAG_LINUX, 64, 16, 64);
	if (d == NULL)
		return;
	/* Same addresses and id on VLAN 10 and on VLANs 20.30, interleaved. */
	for (i = 0; i < 5; i++) {
		struct frag a = udp_piece(i, 4, 77), b = udp_piece(i, 4, 77);
		struct rte_mbuf *r;
		struct ft_pkt p;

		a.vlan[0] = 10;
		b.vlan[0] = 20;
		b.vlan[1] = 30;
		r = add(d, &a, SEC);
		if (r != NULL) {
			n_out++;
			checkf("VLAN 10: its datagram", payload_is(r, udp_dgram, sizeof(udp_dgram), &p) &&
			       p.n_vlan == 1 && p.vlan[0] == 10, "vlan %u", p.vlan[0]);
			rte_pktmbuf_free(r);
		}
		r = add(d, &b, SEC);
		if (r != NULL) {
			n_out++;
			checkf("VLANs 20.30: its datagram", payload_is(r, udp_dgram, sizeof(udp_dgram), &p) &&
			       p.n_vlan == 2 && p.vlan[0] == 20 && p.vlan[1] == 30, "vlan %u", p.vlan[0]);
			rte_pktmbuf_free(r);
		}
	}
	checkf("VLAN: one id on two VLANs is two datagrams, no overlap",
	       n_out == 2 && c(FT_CTR_DEFRAG_DATAGRAMS) == 2 && c(FT_CTR_DEFRAG_OVERLAPS) == 0,
	       "%u out, %lu datagrams", n_out, (unsigned long)c(FT_CTR_DEFRAG_DATAGRAMS));
	ft_defrag_free(d);
}

static void
test_flood(void)
{
	uint8_t data[8];
	struct ft_defrag *d;
	struct rte_mbuf *r = NULL;
	unsigned int i, bad = 0;

	reset();
	memset(data, 9, sizeof(data));
	d = make("flood", FT_DEFRAG_LINUX, 32, 16, 48);
	if (d == NULL)
		return;
	/* 2000 datagrams that never complete, 2 fragments each. */
	for (i = 0; i < 2000; i++) {
		struct frag f = { .ip_ver = 4, .proto = P_EXP, .id = 1000 + i, .off = 0, .more = true,
				  .data = data, .len = 8, .src_last = 3 };

		add(d, &f, SEC);
		f.off = 16;
		add(d, &f, SEC);
		if (ft_defrag_in_flight(d) > 32 || ft_defrag_held(d) > 48)
			bad++;
	}
	checkf("flood: bounded (in flight <= 32, held <= 48 at every step)", bad == 0, "%u steps over",
	       bad);
	checkf("flood: oldest evicted, counted",
	       c(FT_CTR_DEFRAG_TABLE_FULL) == 2000 - 24 && c(FT_CTR_DEFRAG_DROPPED_EVICTED) == 2 * (2000 - 24) &&
		       ft_defrag_held(d) == 48,
	       "table_full %lu evicted %lu held %u", (unsigned long)c(FT_CTR_DEFRAG_TABLE_FULL),
	       (unsigned long)c(FT_CTR_DEFRAG_DROPPED_EVICTED), ft_defrag_held(d));
	identity("flood");
	for (i = 0; i < 5; i++) {
		struct frag f = udp_piece(i, 4, 5);

		f.src_last = 4;
		r = add(d, &f, 2 * SEC);
	}
	checkf("flood: a good datagram reassembles after it", r != NULL, "none");
	rte_pktmbuf_free(r);
	ft_defrag_flush(d);
	checkf("flood: nothing held after the flush", ft_defrag_held(d) == 0 &&
	       ft_defrag_in_flight(d) == 0 && c(FT_CTR_DEFRAG_HELD) == 0, "held %u", ft_defrag_held(d));
	identity("flood after flush");
	ft_defrag_free(d);
}

/* An IPv6 datagram whose frame exceeds one 64 KiB buffer: two segments. */
static void
test_big(void)
{
	static uint8_t big[65528];
	struct ft_defrag *d;
	struct rte_mbuf *r = NULL;
	struct ft_pkt p;
	uint32_t off;
	unsigned int i;

	reset();
	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 13 + (i >> 8));
	d = make("big", FT_DEFRAG_LINUX, 64, 64, 128);
	if (d == NULL)
		return;
	for (off = 0; off < sizeof(big); off += 1456) {
		uint32_t len = RTE_MIN((uint32_t)1456, (uint32_t)sizeof(big) - off);
		struct frag f = { .ip_ver = 6, .proto = P_EXP, .id = 99, .off = off,
				  .more = off + len < sizeof(big), .data = big + off, .len = len,
				  .src_last = 1 };

		r = add(d, &f, SEC);
	}
	checkf("big: reassembled in two segments",
	       r != NULL && r->nb_segs == 2 && r->pkt_len == 14 + 40 + sizeof(big),
	       "r %p", (void *)r);
	if (r != NULL) {
		checkf("big: bytes", payload_is(r, big, sizeof(big), &p), "differ");
		rte_pktmbuf_free(r);
	}
	ft_defrag_free(d);
}

/* Dynamic fields and chosen flags come from the completing fragment. */
static void
test_copy(void)
{
	struct ft_defrag *d;
	struct rte_mbuf *r = NULL;
	unsigned int i;

	reset();
	d = make("copy", FT_DEFRAG_LINUX, 64, 16, 64);
	if (d == NULL)
		return;
	ft_defrag_set_copy_flags(d, FLAG_COPIED);
	for (i = 0; i < 5; i++) {
		struct frag f = udp_piece(i, 4, 42);
		struct ft_pkt p;
		struct rte_mbuf *m = frame(&f, &p);

		m->dynfield1[0] = 1000 + i;
		m->ol_flags |= FLAG_COPIED | FLAG_OTHER;
		m->port = 3;
		r = ft_defrag_add(d, m, &p, SEC);
		rte_pktmbuf_free(m);
	}
	checkf("copy: dynfields, chosen flags and port of the last fragment",
	       r != NULL && r->dynfield1[0] == 1004 && (r->ol_flags & FLAG_COPIED) &&
		       !(r->ol_flags & FLAG_OTHER) && (r->ol_flags & REASM_FLAG) && r->port == 3,
	       "r %p dyn %u flags %lx port %u", (void *)r, r ? r->dynfield1[0] : 0,
	       (unsigned long)(r ? r->ol_flags : 0), r ? r->port : 0);
	rte_pktmbuf_free(r);
	ft_defrag_free(d);
}

/* A flushed defragmenter holds no mbuf: both pools are full again. */
static void
test_pools_full(void)
{
	struct ft_defrag *d;
	struct rte_mempool *rp;
	unsigned int i;

	reset();
	d = make("drain", FT_DEFRAG_LINUX, 64, 16, 64);
	if (d == NULL)
		return;
	for (i = 0; i < 20; i++) {
		struct frag f = udp_piece(i % 4, (uint8_t)(i % 2 ? 4 : 6), 300 + i / 4);

		add(d, &f, SEC);
	}
	checkf("drain: fragments held before the flush", ft_defrag_held(d) == 20, "held %u",
	       ft_defrag_held(d));
	ft_defrag_flush(d);
	rp = ft_defrag_pool(d);
	checkf("drain: frame pool full again after the flush",
	       rte_mempool_avail_count(frames) == frames->size, "%u of %u",
	       rte_mempool_avail_count(frames), frames->size);
	checkf("drain: reassembly pool full", rte_mempool_avail_count(rp) == rp->size, "%u of %u",
	       rte_mempool_avail_count(rp), rp->size);
	checkf("drain: counted as exit", c(FT_CTR_DEFRAG_DROPPED_EXIT) == 20, "%lu",
	       (unsigned long)c(FT_CTR_DEFRAG_DROPPED_EXIT));
	identity("drain");
	ft_defrag_free(d);
}

static void
test_names(void)
{
	unsigned int i;
	bool ok = true;

	for (i = 0; i < FT_DEFRAG_POLICY_MAX; i++)
		ok = ok && ft_defrag_policy_by_name(ft_defrag_policy_name(i)) == i;
	checkf("policy names round-trip", ok && ft_defrag_policy_by_name("solaris") == FT_DEFRAG_POLICY_MAX,
	       "bad");
}

int
main(void)
{
	if (ft_unit_eal_init("defrag") < 0)
		return ft_unit_summary();
	frames = rte_pktmbuf_pool_create("frames", 1023, 0, 0, 2048 + RTE_PKTMBUF_HEADROOM,
					 SOCKET_ID_ANY);
	if (frames == NULL) {
		check("frame pool", false);
		return ft_unit_summary();
	}
	{
		static const struct rte_mbuf_dynflag f[3] = { { .name = "test_reasm" },
							      { .name = "test_copied" },
							      { .name = "test_other" } };
		int b0 = rte_mbuf_dynflag_register(&f[0]), b1 = rte_mbuf_dynflag_register(&f[1]),
		    b2 = rte_mbuf_dynflag_register(&f[2]);

		if (b0 < 0 || b1 < 0 || b2 < 0) {
			check("dynflags registered", false);
			return ft_unit_summary();
		}
		REASM_FLAG = RTE_BIT64(b0);
		FLAG_COPIED = RTE_BIT64(b1);
		FLAG_OTHER = RTE_BIT64(b2);
	}
	udp_init();
	test_names();
	test_policies();
	test_orders();
	test_overlap_same_then_different();
	test_tiny_df_reserved();
	test_oversize_dead();
	test_too_many_timeout();
	test_inconsistent();
	test_ipv6_ext();
	test_vlan();
	test_flood();
	test_big();
	test_copy();
	test_pools_full();
	checkf("every frame back in its pool", rte_mempool_avail_count(frames) == frames->size,
	       "%u of %u", rte_mempool_avail_count(frames), frames->size);
	rte_mempool_free(frames);
	ft_unit_eal_cleanup();
	return ft_unit_summary();
}
