/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowtap IP defragmentation: see ft_defrag.h for the contract (why not
 * rte_ip_frag, policies, anomalies, counters).
 *
 * Data structures, all preallocated:
 *   - an rte_hash of datagram keys; a key's position indexes trackers[];
 *   - trackers on a doubly linked list in creation order (expiry order: one
 *     timeout for all), so expiry and eviction take the head;
 *   - fragment slots (max_held) on a free stack; a tracker's slots form a
 *     singly linked list in arrival order (the policies need it);
 *   - two scratch maps of 64 KiB for the policy resolution at completion.
 * Bytes are never copied before completion: a held fragment is its frame,
 * referenced; the payload is resolved and copied once, into the new mbuf.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "ft_defrag.h"

#define NONE UINT32_MAX

/* Tracker flags. */
#define TF_HAS_FIRST 0x01 /* an offset-0 fragment is held */
#define TF_HAS_LAST  0x02 /* a last fragment (MF clear) was seen: last_end is set */
#define TF_DEAD      0x04 /* dropped: counts late fragments until its timeout */
#define TF_PROTO     0x08 /* proto set by an offset-0 fragment */
#define TF_PORTS     0x10 /* sport/dport read from the first fragment */

#define FT_IP4_RESERVED_FLAG 0x8000
#define IP6_HLEN 40
#define TCP_MIN_HLEN 20
#define UDP_HLEN 8
#define ICMP_MIN_LEN 8
#define PPPOE_HLEN 6
#define CMP_CHUNK 256

/* What identifies a datagram. Padding zeroed: the hash reads all of it. */
struct dg_key {
	uint16_t vlan[FT_DECODE_MAX_VLAN];
	uint32_t id;
	uint8_t src[16];
	uint8_t dst[16];
	uint8_t proto;     /* IPv4 protocol; 0 for IPv6 (not part of its identity) */
	uint8_t ip_ver;
	uint8_t pad[2];
};

struct tracker {
	struct dg_key key;
	uint64_t expire_ns;
	uint32_t prev, next;       /* creation-order list (key positions) */
	uint32_t head, tail;       /* fragment slots, arrival order */
	uint32_t first_slot;       /* the first offset-0 fragment held (headers come from it) */
	uint32_t last_end;         /* valid with TF_HAS_LAST */
	uint32_t max_end;          /* largest end of a held fragment */
	uint16_t sport, dport;     /* valid with TF_PORTS */
	uint8_t n_frags;
	uint8_t flags;             /* TF_* */
	uint8_t proto;             /* the datagram's protocol */
	uint8_t emitted;           /* frag_* names already emitted, bit (type - FT_EV_FRAG_OVERLAP);
				    * EMITTED_OVERLAP_DIFFERENT for frag_overlap with other bytes */
};

struct frag_slot {
	struct rte_mbuf *m;
	uint32_t next;
	uint32_t off;              /* fragment offset (bytes) */
	uint32_t len;              /* fragment data bytes */
	uint16_t data_off;         /* first data byte in the frame */
	uint16_t l3_off;           /* IP header in the frame */
	uint16_t hdr_len;          /* IPv4: IHL*4; IPv6: up to the Fragment header */
	uint8_t pppoe;             /* a PPPoE header precedes the IP header */
	uint8_t pad;
};

struct ft_defrag {
	struct ft_defrag_params prm;
	struct rte_hash *hash;
	struct tracker *trk;       /* by key position */
	struct frag_slot *slot;
	uint32_t *free_slot;       /* stack of free slot indices */
	uint32_t n_free;
	uint32_t oldest, newest;   /* creation list */
	uint32_t in_flight;
	uint32_t held;
	uint64_t copy_flags;
	struct rte_mempool *pool;
	uint8_t *owner;            /* per payload byte: arrival index of its fragment */
	struct frag_slot **arrived;/* a datagram's fragments by arrival index */
	uint32_t *iv;              /* interval scratch: 2 * (max_fragments + 1) */
};

static const char *const policy_names[FT_DEFRAG_POLICY_MAX] = {
	[FT_DEFRAG_FIRST] = "first",
	[FT_DEFRAG_LAST] = "last",
	[FT_DEFRAG_BSD] = "bsd",
	[FT_DEFRAG_LINUX] = "linux",
	[FT_DEFRAG_WINDOWS] = "windows",
};

const char *
ft_defrag_policy_name(unsigned int policy)
{
	return policy < FT_DEFRAG_POLICY_MAX ? policy_names[policy] : "unknown";
}

unsigned int
ft_defrag_policy_by_name(const char *name)
{
	unsigned int i;

	for (i = 0; i < FT_DEFRAG_POLICY_MAX; i++)
		if (strcmp(name, policy_names[i]) == 0)
			return i;
	return FT_DEFRAG_POLICY_MAX;
}

/* Counters ------------------------------------------------------------------ */

static inline void
count(struct ft_defrag *d, enum ft_ctr c, uint64_t n)
{
	ft_stats_add(d->prm.stats, c, n);
}

static void
gauges(struct ft_defrag *d)
{
	ft_stats_set(d->prm.stats, FT_CTR_DEFRAG_IN_FLIGHT, d->in_flight);
	ft_stats_set(d->prm.stats, FT_CTR_DEFRAG_HELD, d->held);
}

/* Events ---------------------------------------------------------------------- */

/* frag_overlap with other bytes is emitted apart from one with the same
 * bytes: a harmless duplicate fragment first must not hide the overlap that
 * rewrites the datagram (the evasion), which is an alert, not a warning. */
#define EMITTED_OVERLAP_DIFFERENT 0x80
_Static_assert(FT_EV_FRAG_INCONSISTENT - FT_EV_FRAG_OVERLAP < 7,
	       "the frag_* names and EMITTED_OVERLAP_DIFFERENT share tracker.emitted");

/* Count an anomaly; emit it (with @p severity) unless this datagram already
 * emitted it (its bit in t->emitted). */
static void
anomaly_as(struct ft_defrag *d, struct tracker *t, const struct dg_key *k, unsigned int type,
	   uint8_t bit, enum ft_severity severity, uint64_t ts, const char *detail)
{
	struct ft_event ev;

	ft_stats_anomaly(d->prm.stats, type);
	if (t != NULL) {
		if ((t->emitted & bit) && !d->prm.every_occurrence)
			return;
		t->emitted |= bit;
	}
	if (d->prm.event == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.ts_ns = ts;
	ev.type = (uint16_t)type;
	ev.severity = (uint8_t)severity;
	ev.dir = FT_DIR_NONE;
	ev.ip_ver = k->ip_ver;
	ev.proto = t != NULL ? t->proto : k->proto;
	if (t != NULL && (t->flags & TF_PORTS)) {
		ev.sport = t->sport;
		ev.dport = t->dport;
	}
	memcpy(ev.src, k->src, sizeof(ev.src));
	memcpy(ev.dst, k->dst, sizeof(ev.dst));
	snprintf(ev.detail, sizeof(ev.detail), "%s", detail);
	d->prm.event(d->prm.event_arg, &ev);
}

/* Count an anomaly; emit it unless this datagram already emitted the name. */
static void
anomaly(struct ft_defrag *d, struct tracker *t, const struct dg_key *k, unsigned int type,
	uint64_t ts, const char *detail)
{
	anomaly_as(d, t, k, type, (uint8_t)(1u << (type - FT_EV_FRAG_OVERLAP)),
		   ft_event_default_severity(type), ts, detail);
}

/* Trackers ---------------------------------------------------------------------- */

static void
key_make(const struct ft_pkt *p, struct dg_key *k)
{
	memset(k, 0, sizeof(*k));
	k->vlan[0] = p->vlan[0];
	k->vlan[1] = p->vlan[1];
	k->id = p->frag.id;
	memcpy(k->src, p->src, 16);
	memcpy(k->dst, p->dst, 16);
	k->proto = p->ip_ver == 4 ? p->frag.next_proto : 0;
	k->ip_ver = p->ip_ver;
}

static void
list_unlink(struct ft_defrag *d, struct tracker *t)
{
	if (t->prev != NONE)
		d->trk[t->prev].next = t->next;
	else
		d->oldest = t->next;
	if (t->next != NONE)
		d->trk[t->next].prev = t->prev;
	else
		d->newest = t->prev;
}

/* Release a tracker's fragments, counting them under @p reason. */
static void
release(struct ft_defrag *d, struct tracker *t, enum ft_ctr reason)
{
	uint32_t s = t->head;

	while (s != NONE) {
		struct frag_slot *f = &d->slot[s];
		uint32_t next = f->next;

		rte_pktmbuf_free(f->m);
		f->m = NULL;
		d->free_slot[d->n_free++] = s;
		s = next;
	}
	if (reason != FT_CTR_MAX)
		count(d, reason, t->n_frags);
	d->held -= t->n_frags;
	t->n_frags = 0;
	t->head = t->tail = t->first_slot = NONE;
	t->flags &= (uint8_t)~TF_HAS_FIRST;
}

static void
tracker_remove(struct ft_defrag *d, uint32_t pos, enum ft_ctr reason)
{
	struct tracker *t = &d->trk[pos];

	release(d, t, reason);
	list_unlink(d, t);
	rte_hash_del_key(d->hash, &t->key);
	d->in_flight--;
}

/* Drop a datagram: its fragments go, the tracker stays dead until its timeout. */
static void
kill(struct ft_defrag *d, struct tracker *t, enum ft_ctr reason)
{
	release(d, t, reason);
	t->flags |= TF_DEAD;
}

/* Expire the oldest trackers due at @p now. */
static unsigned int
expire(struct ft_defrag *d, uint64_t now, unsigned int budget)
{
	unsigned int n = 0;

	while (n < budget && d->oldest != NONE && d->trk[d->oldest].expire_ns <= now) {
		uint32_t pos = d->oldest;
		struct tracker *t = &d->trk[pos];

		if (!(t->flags & TF_DEAD) && t->n_frags != 0) {
			char detail[FT_EVENT_DETAIL_LEN];

			snprintf(detail, sizeof(detail), "%u fragments held", t->n_frags);
			anomaly(d, t, &t->key, FT_EV_FRAG_TIMEOUT, t->expire_ns, detail);
			count(d, FT_CTR_DEFRAG_TIMEOUTS, 1);
		}
		tracker_remove(d, pos, FT_CTR_DEFRAG_DROPPED_TIMEOUT);
		n++;
	}
	return n;
}

/* Evict the oldest tracker (other than @p keep) that matches: any when
 * @p holding is false, else one that holds fragments. */
static bool
evict_oldest(struct ft_defrag *d, uint32_t keep, bool holding)
{
	uint32_t pos;

	for (pos = d->oldest; pos != NONE; pos = d->trk[pos].next)
		if (pos != keep && (!holding || d->trk[pos].n_frags != 0))
			break;
	if (pos == NONE)
		return false;
	tracker_remove(d, pos, FT_CTR_DEFRAG_DROPPED_EVICTED);
	count(d, FT_CTR_DEFRAG_TABLE_FULL, 1);
	return true;
}

static struct tracker *
tracker_open(struct ft_defrag *d, const struct dg_key *k, uint64_t now)
{
	struct tracker *t;
	int32_t pos;

	if (d->in_flight >= d->prm.max_datagrams && !evict_oldest(d, NONE, false))
		return NULL;
	pos = rte_hash_add_key(d->hash, k);
	if (pos < 0 && evict_oldest(d, NONE, false))
		pos = rte_hash_add_key(d->hash, k);
	if (pos < 0)
		return NULL;
	t = &d->trk[pos];
	memset(t, 0, sizeof(*t));
	t->key = *k;
	t->expire_ns = now + d->prm.timeout_ns;
	t->head = t->tail = t->first_slot = NONE;
	t->proto = k->proto;
	t->prev = d->newest;
	t->next = NONE;
	if (d->newest != NONE)
		d->trk[d->newest].next = (uint32_t)pos;
	else
		d->oldest = (uint32_t)pos;
	d->newest = (uint32_t)pos;
	d->in_flight++;
	count(d, FT_CTR_DEFRAG_DATAGRAMS, 1);
	return t;
}

/* Bytes ---------------------------------------------------------------------- */

/* Do two fragments' bytes agree on [lo, hi) (datagram offsets)? */
static bool
same_bytes(const struct frag_slot *a, const struct frag_slot *b, uint32_t lo, uint32_t hi)
{
	uint8_t ba[CMP_CHUNK], bb[CMP_CHUNK];

	while (lo < hi) {
		uint32_t n = RTE_MIN(hi - lo, (uint32_t)CMP_CHUNK);
		const void *pa = rte_pktmbuf_read(a->m, a->data_off + lo - a->off, n, ba);
		const void *pb = rte_pktmbuf_read(b->m, b->data_off + lo - b->off, n, bb);

		if (pa == NULL || pb == NULL || memcmp(pa, pb, n) != 0)
			return false;
		lo += n;
	}
	return true;
}

/* Does the new fragment @p n win a byte against the earlier @p o? */
static bool
new_wins(enum ft_defrag_policy policy, const struct frag_slot *n, const struct frag_slot *o)
{
	switch (policy) {
	case FT_DEFRAG_FIRST:
		return false;
	case FT_DEFRAG_LAST:
		return true;
	case FT_DEFRAG_BSD:
		return n->off < o->off;
	case FT_DEFRAG_LINUX:
		return n->off <= o->off;
	case FT_DEFRAG_WINDOWS:
		return n->off < o->off && n->off + n->len > o->off + o->len;
	default:
		return false;
	}
}

/* Is [0, last_end) covered by the held fragments? */
static bool
complete(const struct ft_defrag *d, const struct tracker *t)
{
	uint32_t *iv = d->iv; /* pairs (off, end), insertion-sorted by off */
	uint32_t n = 0, i, reach = 0, s;

	if ((t->flags & (TF_HAS_FIRST | TF_HAS_LAST)) != (TF_HAS_FIRST | TF_HAS_LAST))
		return false;
	for (s = t->head; s != NONE; s = d->slot[s].next) {
		const struct frag_slot *f = &d->slot[s];

		for (i = n; i > 0 && iv[2 * (i - 1)] > f->off; i--) {
			iv[2 * i] = iv[2 * (i - 1)];
			iv[2 * i + 1] = iv[2 * (i - 1) + 1];
		}
		iv[2 * i] = f->off;
		iv[2 * i + 1] = f->off + f->len;
		n++;
	}
	for (i = 0; i < n && reach < t->last_end; i++) {
		if (iv[2 * i] > reach)
			return false;
		reach = RTE_MAX(reach, iv[2 * i + 1]);
	}
	return reach >= t->last_end;
}

/*
 * Paint d->owner[0, end) with the arrival index of the fragment whose byte
 * the policy keeps: fragment j keeps the part of its range where it wins
 * against every earlier fragment covering it, and is painted over the
 * earlier ones there.
 */
static void
paint(struct ft_defrag *d, unsigned int k)
{
	uint32_t *iv = d->iv;
	unsigned int i, j, n, x;

	for (j = 0; j < k; j++) {
		const struct frag_slot *nj = d->arrived[j];

		if (nj->len == 0)
			continue;
		n = 1;
		iv[0] = nj->off;
		iv[1] = nj->off + nj->len;
		for (i = 0; i < j && n != 0; i++) {
			const struct frag_slot *oi = d->arrived[i];
			uint32_t lo = RTE_MAX(nj->off, oi->off);
			uint32_t hi = RTE_MIN(nj->off + nj->len, oi->off + oi->len);
			unsigned int m = n;

			if (lo >= hi || new_wins(d->prm.policy, nj, oi))
				continue;
			/* Take [lo, hi) out of each interval (splitting one appends). */
			for (x = 0; x < m; x++) {
				uint32_t a = iv[2 * x], b = iv[2 * x + 1];

				if (b <= lo || a >= hi)
					continue;
				if (a < lo && b > hi) {
					iv[2 * x + 1] = lo;
					iv[2 * n] = hi;
					iv[2 * n + 1] = b;
					n++;
				} else if (a < lo) {
					iv[2 * x + 1] = lo;
				} else if (b > hi) {
					iv[2 * x] = hi;
				} else {
					iv[2 * x] = iv[2 * x + 1] = 0; /* empty */
				}
			}
		}
		for (x = 0; x < n; x++)
			if (iv[2 * x + 1] > iv[2 * x])
				memset(d->owner + iv[2 * x], (int)j, iv[2 * x + 1] - iv[2 * x]);
	}
}

/* Write @p len bytes at @p off of a (one- or two-segment) mbuf. */
static void
put_bytes(struct rte_mbuf *m, uint32_t off, const void *src, uint32_t len)
{
	const uint8_t *s = src;

	while (len != 0 && m != NULL) {
		if (off < m->data_len) {
			uint32_t n = RTE_MIN(len, (uint32_t)m->data_len - off);

			memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, off), s, n);
			s += n;
			len -= n;
			off += n;
		}
		off -= m->data_len;
		m = m->next;
	}
}

/* Copy [lo, hi) of a held fragment's data to @p dst at @p at. */
static void
copy_run(struct rte_mbuf *dst, uint32_t at, const struct frag_slot *f, uint32_t lo, uint32_t hi)
{
	uint8_t buf[CMP_CHUNK];

	while (lo < hi) {
		uint32_t n = RTE_MIN(hi - lo, (uint32_t)CMP_CHUNK);
		const void *src = rte_pktmbuf_read(f->m, f->data_off + lo - f->off, n, buf);

		if (src != NULL)
			put_bytes(dst, at + lo, src, n);
		lo += n;
	}
}

/* Offset, from the IP header, of the next-header byte that names the
 * Fragment header: the fixed header's or the last extension header's. */
static uint32_t
ip6_nh_field(const uint8_t *ip, uint32_t frag_hdr_off)
{
	uint32_t nh_at = 6, off = IP6_HLEN;
	uint8_t nh = ip[6];

	while (off < frag_hdr_off) {
		uint32_t hlen = nh == IPPROTO_AH ? ((uint32_t)ip[off + 1] + 2) * 4 :
						   ((uint32_t)ip[off + 1] + 1) * 8;

		nh_at = off;
		nh = ip[off];
		off += hlen;
	}
	return nh_at;
}

static struct rte_mbuf *
alloc_wait(struct ft_defrag *d)
{
	struct rte_mbuf *m;

	while ((m = rte_pktmbuf_alloc(d->pool)) == NULL)
		if (d->prm.wait == NULL || !d->prm.wait(d->prm.wait_arg))
			return NULL;
	m->data_off = 0;
	return m;
}

/* Build the reassembled datagram of a complete tracker. NULL: no buffer. */
static struct rte_mbuf *
build(struct ft_defrag *d, struct tracker *t, const struct rte_mbuf *last_in)
{
	const struct frag_slot *fs = &d->slot[t->first_slot];
	const uint8_t *hdr = rte_pktmbuf_mtod(fs->m, const uint8_t *);
	const uint32_t head_len = (uint32_t)fs->l3_off + fs->hdr_len;
	const uint32_t total = head_len + t->last_end;
	struct rte_mbuf *m, *m2 = NULL;
	unsigned int k = 0, j;
	uint32_t s, a, b;
	uint8_t *ip;

	m = alloc_wait(d);
	if (m == NULL)
		return NULL;
	if (total > m->buf_len) {
		m2 = alloc_wait(d);
		if (m2 == NULL) {
			rte_pktmbuf_free(m);
			return NULL;
		}
		m2->data_len = (uint16_t)(total - m->buf_len);
		m->next = m2;
		m->nb_segs = 2;
	}
	m->data_len = (uint16_t)RTE_MIN(total, (uint32_t)m->buf_len);
	m->pkt_len = total;

	/* L2 (Ethernet, VLANs, PPPoE) and the IP header of the first fragment. */
	ip = rte_pktmbuf_mtod_offset(m, uint8_t *, fs->l3_off);
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), hdr, head_len);
	if (t->key.ip_ver == 4) {
		struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)ip;

		h->total_length = rte_cpu_to_be_16((uint16_t)(fs->hdr_len + t->last_end));
		h->fragment_offset = 0;
		h->next_proto_id = t->proto;
		h->hdr_checksum = 0;
		h->hdr_checksum = rte_ipv4_cksum(h);
	} else {
		struct rte_ipv6_hdr *h = (struct rte_ipv6_hdr *)ip;

		ip[ip6_nh_field(ip, fs->hdr_len)] = t->proto;
		h->payload_len = rte_cpu_to_be_16((uint16_t)(fs->hdr_len - IP6_HLEN + t->last_end));
	}
	if (fs->pppoe) {
		/* PPPoE length: the PPP protocol field and the datagram. */
		uint16_t plen = rte_cpu_to_be_16((uint16_t)(2 + fs->hdr_len + t->last_end));

		memcpy(ip - 2 - PPPOE_HLEN + 4, &plen, 2);
	}

	/* The payload, resolved by the policy. */
	for (s = t->head; s != NONE; s = d->slot[s].next)
		d->arrived[k++] = &d->slot[s];
	paint(d, k);
	for (a = 0; a < t->last_end; a = b) {
		j = d->owner[a];
		for (b = a + 1; b < t->last_end && d->owner[b] == j; b++)
			;
		copy_run(m, head_len, d->arrived[j], a, b);
	}

	m->port = last_in->port;
	m->ol_flags = (last_in->ol_flags & d->copy_flags) | d->prm.reasm_flag;
	memcpy(m->dynfield1, last_in->dynfield1, sizeof(m->dynfield1));
	return m;
}

/* Fragments --------------------------------------------------------------- */

/* The first fragment is shorter than the transport header it must carry. */
static bool
tiny_first(const struct rte_mbuf *m, const struct ft_pkt *p)
{
	uint32_t len = p->payload_len;
	const uint8_t *doff;
	uint8_t buf;

	switch (p->frag.next_proto) {
	case IPPROTO_TCP:
		if (len < TCP_MIN_HLEN)
			return true;
		doff = rte_pktmbuf_read(m, p->payload_off + 12, 1, &buf);
		return doff == NULL || len < (uint32_t)(*doff >> 4) * 4;
	case IPPROTO_UDP:
		return len < UDP_HLEN;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return len < ICMP_MIN_LEN;
	default:
		return false;
	}
}

/* Compare a new fragment with every held one it overlaps. */
static void
overlaps(struct ft_defrag *d, struct tracker *t, const struct frag_slot *nf, uint64_t now)
{
	bool any = false, differ = false;
	uint32_t s;

	for (s = t->head; s != NONE; s = d->slot[s].next) {
		const struct frag_slot *o = &d->slot[s];
		uint32_t lo = RTE_MAX(nf->off, o->off);
		uint32_t hi = RTE_MIN(nf->off + nf->len, o->off + o->len);

		if (lo >= hi)
			continue;
		any = true;
		if (!differ && !same_bytes(nf, o, lo, hi))
			differ = true;
	}
	if (!any)
		return;
	count(d, FT_CTR_DEFRAG_OVERLAPS, 1);
	if (differ)
		count(d, FT_CTR_DEFRAG_OVERLAPS_DIFFERENT, 1);
	if (differ)
		anomaly_as(d, t, &t->key, FT_EV_FRAG_OVERLAP, EMITTED_OVERLAP_DIFFERENT, FT_SEV_ALERT,
			   now, "different bytes");
	else
		anomaly(d, t, &t->key, FT_EV_FRAG_OVERLAP, now, "same bytes");
}

static void
inconsistent(struct ft_defrag *d, struct tracker *t, const struct dg_key *k, uint64_t now,
	     const char *why)
{
	anomaly(d, t, k, FT_EV_FRAG_INCONSISTENT, now, why);
}

/* Facts of one fragment alone: flagged, the fragment is kept. */
static void
fragment_facts(struct ft_defrag *d, struct tracker *t, const struct dg_key *k,
	       const struct rte_mbuf *m, const struct ft_pkt *p, uint64_t now)
{
	char detail[FT_EVENT_DETAIL_LEN];

	if (p->frag.df)
		anomaly(d, t, k, FT_EV_FRAG_DF_SET, now, "DF set on a fragment");
	if (p->frag.reserved)
		inconsistent(d, t, k, now, "reserved flag set");
	if (p->frag.offset == 0 && tiny_first(m, p)) {
		snprintf(detail, sizeof(detail), "first fragment of %u bytes", p->payload_len);
		anomaly(d, t, k, FT_EV_FRAG_TINY_FIRST, now, detail);
	}
}

struct rte_mbuf *
ft_defrag_add(struct ft_defrag *d, struct rte_mbuf *m, const struct ft_pkt *p, uint64_t now)
{
	const uint32_t off = p->frag.offset;
	uint32_t len = p->payload_len, end = off + len;
	const bool last = !p->frag.more;
	struct frag_slot nf;
	struct tracker *t = NULL;
	struct rte_mbuf *out = NULL;
	char detail[FT_EVENT_DETAIL_LEN];
	struct dg_key k;
	uint32_t size, s;
	int32_t pos;

	count(d, FT_CTR_DEFRAG_FRAGMENTS, 1);
	/* Expiry first: whether a late fragment finds its datagram depends on
	 * packet time only, not on how often the worker ages. */
	expire(d, now, UINT32_MAX);

	memset(&nf, 0, sizeof(nf));
	nf.m = m;
	nf.next = NONE;
	nf.off = off;
	nf.len = len;
	nf.data_off = p->payload_off;
	nf.l3_off = p->l3_off;
	nf.pppoe = p->pppoe;
	nf.hdr_len = p->ip_ver == 4 ? (uint16_t)(p->payload_off - p->l3_off) : p->frag.frag_hdr_off;
	/* IPv4 total length, IPv6 payload length of the datagram. */
	size = p->ip_ver == 4 ? nf.hdr_len + end : nf.hdr_len - IP6_HLEN + end;

	key_make(p, &k);
	pos = rte_hash_lookup(d->hash, &k);
	if (pos >= 0)
		t = &d->trk[pos];

	if (t != NULL && (t->flags & TF_DEAD)) {
		fragment_facts(d, t, &k, m, p, now);
		count(d, FT_CTR_DEFRAG_DROPPED_DEAD, 1);
		goto done;
	}
	if (!last && (len % 8) != 0 && p->ip_ver == 6) {
		/* An IPv6 host discards it (RFC 8200 section 4.5). */
		fragment_facts(d, t, &k, m, p, now);
		inconsistent(d, t, &k, now, "non-last fragment length not a multiple of 8");
		count(d, FT_CTR_DEFRAG_DROPPED_INCONSISTENT, 1);
		goto done;
	}
	if (t == NULL) {
		t = tracker_open(d, &k, now);
		if (t == NULL) {
			fragment_facts(d, NULL, &k, m, p, now);
			count(d, FT_CTR_DEFRAG_DROPPED_EVICTED, 1);
			goto done;
		}
		pos = (int32_t)(t - d->trk);
	}
	fragment_facts(d, t, &k, m, p, now);
	if (!last && (len % 8) != 0) {
		/* IPv4: what follows can only start at a multiple of 8; the
		 * tail is cut, as Linux does (BSD drops the fragment). */
		inconsistent(d, t, &k, now, "non-last fragment length not a multiple of 8");
		len &= ~7u;
		end = off + len;
		nf.len = len;
	}
	if (size > FT_DEFRAG_MAX_SIZE || size > d->prm.max_size) {
		if (size > FT_DEFRAG_MAX_SIZE) {
			snprintf(detail, sizeof(detail), "data ends at %u: datagram of %u bytes",
				 end, size);
			anomaly(d, t, &k, FT_EV_FRAG_OVERSIZE, now, detail);
		}
		kill(d, t, FT_CTR_DEFRAG_DROPPED_OVERSIZE);
		count(d, FT_CTR_DEFRAG_DROPPED_OVERSIZE, 1);
		goto done;
	}
	if (last && (t->flags & TF_HAS_LAST) && t->last_end != end) {
		inconsistent(d, t, &k, now, "two last fragments");
		kill(d, t, FT_CTR_DEFRAG_DROPPED_INCONSISTENT);
		count(d, FT_CTR_DEFRAG_DROPPED_INCONSISTENT, 1);
		goto done;
	}
	if ((last && t->max_end > end) || ((t->flags & TF_HAS_LAST) && end > t->last_end)) {
		inconsistent(d, t, &k, now, "data beyond the end");
		kill(d, t, FT_CTR_DEFRAG_DROPPED_INCONSISTENT);
		count(d, FT_CTR_DEFRAG_DROPPED_INCONSISTENT, 1);
		goto done;
	}
	if (p->ip_ver == 6) {
		if (off == 0 && !(t->flags & TF_PROTO)) {
			if (t->n_frags != 0 && t->proto != p->frag.next_proto)
				inconsistent(d, t, &k, now, "next header differs between fragments");
			t->proto = p->frag.next_proto;
			t->flags |= TF_PROTO;
		} else if (t->n_frags != 0 || (t->flags & TF_PROTO)) {
			if (t->proto != p->frag.next_proto)
				inconsistent(d, t, &k, now, "next header differs between fragments");
		} else {
			t->proto = p->frag.next_proto;
		}
	}
	if (t->n_frags >= d->prm.max_fragments) {
		snprintf(detail, sizeof(detail), "more than %u fragments", d->prm.max_fragments);
		anomaly(d, t, &k, FT_EV_FRAG_TOO_MANY, now, detail);
		kill(d, t, FT_CTR_DEFRAG_DROPPED_TOO_MANY);
		count(d, FT_CTR_DEFRAG_DROPPED_TOO_MANY, 1);
		goto done;
	}
	while (d->n_free == 0)
		if (!evict_oldest(d, (uint32_t)pos, true))
			break;
	if (d->n_free == 0) {
		/* This datagram holds every slot: it cannot grow, it goes. */
		count(d, FT_CTR_DEFRAG_TABLE_FULL, 1);
		kill(d, t, FT_CTR_DEFRAG_DROPPED_EVICTED);
		count(d, FT_CTR_DEFRAG_DROPPED_EVICTED, 1);
		goto done;
	}

	overlaps(d, t, &nf, now);

	/* Hold it. */
	s = d->free_slot[--d->n_free];
	d->slot[s] = nf;
	rte_mbuf_refcnt_update(m, 1);
	if (t->tail != NONE)
		d->slot[t->tail].next = s;
	else
		t->head = s;
	t->tail = s;
	t->n_frags++;
	d->held++;
	t->max_end = RTE_MAX(t->max_end, end);
	if (last) {
		t->flags |= TF_HAS_LAST;
		t->last_end = end;
	}
	if (off == 0 && !(t->flags & TF_HAS_FIRST)) {
		uint16_t ports[2];
		const uint16_t *pp = NULL;

		t->flags |= TF_HAS_FIRST;
		t->first_slot = s;
		if ((t->proto == IPPROTO_TCP || t->proto == IPPROTO_UDP) && len >= 4)
			pp = rte_pktmbuf_read(m, p->payload_off, 4, ports);
		if (pp != NULL) {
			t->sport = rte_be_to_cpu_16(pp[0]);
			t->dport = rte_be_to_cpu_16(pp[1]);
			t->flags |= TF_PORTS;
		}
	}

	if (complete(d, t)) {
		uint32_t n = t->n_frags;

		out = build(d, t, m);
		if (out == NULL) {
			tracker_remove(d, (uint32_t)pos, FT_CTR_DEFRAG_DROPPED_NO_BUFFER);
		} else {
			tracker_remove(d, (uint32_t)pos, FT_CTR_MAX);
			count(d, FT_CTR_DEFRAG_FRAGMENTS_USED, n);
			count(d, FT_CTR_DEFRAG_REASSEMBLED, 1);
		}
	}
done:
	gauges(d);
	return out;
}

unsigned int
ft_defrag_age(struct ft_defrag *d, uint64_t now, unsigned int budget)
{
	unsigned int n = expire(d, now, budget);

	if (n != 0)
		gauges(d);
	return n;
}

void
ft_defrag_flush(struct ft_defrag *d)
{
	while (d->oldest != NONE)
		tracker_remove(d, d->oldest, FT_CTR_DEFRAG_DROPPED_EXIT);
	gauges(d);
}

uint32_t
ft_defrag_in_flight(const struct ft_defrag *d)
{
	return d->in_flight;
}

uint32_t
ft_defrag_held(const struct ft_defrag *d)
{
	return d->held;
}

struct rte_mempool *
ft_defrag_pool(const struct ft_defrag *d)
{
	return d->pool;
}

void
ft_defrag_set_copy_flags(struct ft_defrag *d, uint64_t mask)
{
	d->copy_flags = mask;
}

/* Set-up -------------------------------------------------------------------- */

/* One reassembly buffer: the whole 64 KiB data room (headroom 0). */
#define REASM_ROOM UINT16_MAX

uint64_t
ft_defrag_memory(uint32_t max_datagrams, uint32_t max_held, uint32_t reasm_mbufs)
{
	/* Trackers and hash entries (key, signatures, buckets), slots, the
	 * scratch maps and the pool's elements (data room + mbuf + header). */
	return (uint64_t)max_datagrams * (sizeof(struct tracker) + 2 * sizeof(struct dg_key) + 64) +
	       (uint64_t)max_held * (sizeof(struct frag_slot) + sizeof(uint32_t)) +
	       (uint64_t)(FT_DEFRAG_MAX_SIZE + 1) * 2 +
	       (uint64_t)reasm_mbufs * (REASM_ROOM + sizeof(struct rte_mbuf) + 128);
}

struct ft_defrag *
ft_defrag_create(const struct ft_defrag_params *prm)
{
	struct rte_hash_parameters hp;
	char name[RTE_HASH_NAMESIZE];
	struct ft_defrag *d;
	uint32_t i;

	if (prm == NULL || prm->stats == NULL || prm->max_datagrams == 0 || prm->max_held == 0 ||
	    prm->max_fragments == 0 || prm->max_fragments > FT_DEFRAG_MAX_FRAGMENTS ||
	    prm->max_size > FT_DEFRAG_MAX_SIZE || prm->policy >= FT_DEFRAG_POLICY_MAX ||
	    prm->reasm_mbufs < 2) {
		rte_errno = EINVAL;
		return NULL;
	}
	d = rte_zmalloc_socket("ft_defrag", sizeof(*d), RTE_CACHE_LINE_SIZE, prm->socket);
	if (d == NULL)
		goto nomem;
	d->prm = *prm;
	d->oldest = d->newest = NONE;
	d->trk = rte_zmalloc_socket("ft_defrag_trk", sizeof(*d->trk) * prm->max_datagrams,
				    RTE_CACHE_LINE_SIZE, prm->socket);
	d->slot = rte_zmalloc_socket("ft_defrag_slot", sizeof(*d->slot) * prm->max_held,
				     RTE_CACHE_LINE_SIZE, prm->socket);
	d->free_slot = rte_malloc_socket("ft_defrag_free", sizeof(uint32_t) * prm->max_held,
					 RTE_CACHE_LINE_SIZE, prm->socket);
	d->owner = rte_malloc_socket("ft_defrag_owner", FT_DEFRAG_MAX_SIZE + 1, RTE_CACHE_LINE_SIZE,
				     prm->socket);
	d->arrived = rte_malloc_socket("ft_defrag_arr", sizeof(*d->arrived) * prm->max_fragments,
				       RTE_CACHE_LINE_SIZE, prm->socket);
	/* paint(): at most one interval more per earlier fragment. */
	d->iv = rte_malloc_socket("ft_defrag_iv", sizeof(uint32_t) * 2 * (prm->max_fragments + 1),
				  RTE_CACHE_LINE_SIZE, prm->socket);
	if (d->trk == NULL || d->slot == NULL || d->free_slot == NULL || d->owner == NULL ||
	    d->arrived == NULL || d->iv == NULL)
		goto nomem;
	for (i = 0; i < prm->max_held; i++)
		d->free_slot[i] = prm->max_held - 1 - i;
	d->n_free = prm->max_held;

	memset(&hp, 0, sizeof(hp));
	snprintf(name, sizeof(name), "%s_h", prm->name);
	hp.name = name;
	hp.entries = prm->max_datagrams;
	hp.key_len = sizeof(struct dg_key);
	hp.hash_func = rte_hash_crc;
	hp.socket_id = prm->socket;
	/* Extendable buckets: max_datagrams keys always fit, whatever they hash to. */
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	d->hash = rte_hash_create(&hp);
	if (d->hash == NULL)
		goto fail;
	/* A hash may hand out positions up to its rounded-up size. */
	if ((uint32_t)rte_hash_max_key_id(d->hash) + 1 > prm->max_datagrams) {
		struct tracker *bigger = rte_zmalloc_socket(
			"ft_defrag_trk", sizeof(*d->trk) * ((uint32_t)rte_hash_max_key_id(d->hash) + 1),
			RTE_CACHE_LINE_SIZE, prm->socket);

		if (bigger == NULL)
			goto nomem;
		rte_free(d->trk);
		d->trk = bigger;
	}

	snprintf(name, sizeof(name), "%s_p", prm->name);
	/* No per-lcore cache: a reassembled mbuf may be freed by another
	 * worker (its flow's owner), and must come back to this pool's ring
	 * rather than sit in that lcore's cache. */
	d->pool = rte_pktmbuf_pool_create(name, prm->reasm_mbufs, 0, 0, REASM_ROOM, prm->socket);
	if (d->pool == NULL)
		goto fail;
	return d;
nomem:
	rte_errno = ENOMEM;
fail:
	i = (uint32_t)rte_errno;
	ft_defrag_free(d);
	rte_errno = (int)i;
	return NULL;
}

void
ft_defrag_free(struct ft_defrag *d)
{
	if (d == NULL)
		return;
	if (d->trk != NULL && d->hash != NULL)
		ft_defrag_flush(d);
	rte_hash_free(d->hash);
	rte_mempool_free(d->pool);
	rte_free(d->trk);
	rte_free(d->slot);
	rte_free(d->free_slot);
	rte_free(d->owner);
	rte_free(d->arrived);
	rte_free(d->iv);
	rte_free(d);
}
