/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cross-flow detectors on the control lcore: a bounded table of hosts
 * (chained hash over a preallocated pool, LRU list for eviction), per host
 * the last N ISN samples (isn_predictable) and a one-second SYN window
 * (syn_flood). The rules are documented in ft_detect.h.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ft_detect.h"

_Static_assert(sizeof(struct ft_obs) == 32, "struct ft_obs travels as 32 bytes");

#define NIL UINT32_MAX
#define NS_PER_S 1000000000ull

/* Host flags. */
#define HOST_ISN_FIRED   0x01 /* isn_predictable raised: not judged again */
#define HOST_FLOOD_FIRED 0x02 /* syn_flood raised: disarmed until re-armed */
#define HOST_WIN_OPEN    0x04 /* a SYN window is open */

struct host {
	uint8_t addr[16];
	uint8_t ip_ver;
	uint8_t flags;     /* HOST_* */
	uint8_t n_isn;     /* ISN samples held */
	uint8_t pad;
	uint32_t hash;
	uint32_t hnext;    /* hash chain */
	uint32_t prev;     /* LRU list: towards the most recent */
	uint32_t next;     /* LRU list: towards the least recent */
	uint32_t win_count; /* half-open attempts in the open window */
	uint32_t win_peak;  /* largest win_count of the open window */
	uint64_t win_start; /* ns */
};

struct ft_detect {
	uint32_t max_hosts;
	uint32_t n_samples;   /* N */
	uint32_t rate;
	uint32_t n_hosts;     /* entries of pool in use (never shrinks) */
	uint32_t bucket_mask;
	uint32_t lru_head;    /* most recent */
	uint32_t lru_tail;    /* least recent: the next to go */
	uint64_t seed;
	struct host *pool;    /* max_hosts entries */
	uint32_t *buckets;    /* bucket_mask + 1 chain heads */
	uint32_t *isn;        /* max_hosts * N samples, time order per host */
	uint64_t *isn_ts;
	struct ft_detect_counters ctr;
};

/* Helpers ------------------------------------------------------------------ */

/* A 32-bit difference as a signed number (modulo 2^32). */
static int64_t
s32(uint32_t x)
{
	return x < 0x80000000u ? (int64_t)x : (int64_t)x - 0x100000000ll;
}

/* Binary GCD (Stein's): shifts and subtractions. Euclid's divisions made
 * the judgement the control lcore's largest cost offline (perf: a 32-bit div
 * per step, about 18 steps for two random ISN steps), paid for every ISN of
 * every server once it has its samples. */
static uint32_t
gcd32(uint32_t a, uint32_t b)
{
	unsigned int shift;

	if (a == 0 || b == 0)
		return a | b;
	shift = (unsigned int)__builtin_ctz(a | b);
	a >>= __builtin_ctz(a);
	do {
		/* a and b odd: |b - a| is even and the gcd divides it. Min and
		 * difference without a branch (two random steps take some 20
		 * rounds, each an unpredictable comparison). */
		uint32_t d, m;

		b >>= __builtin_ctz(b);
		d = b - a;
		m = -(uint32_t)(b < a); /* all ones when b < a */
		a += d & m;             /* min(a, b) */
		b = (d ^ m) - m;        /* |b - a| */
	} while (b != 0);
	return a << shift;
}

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static uint32_t
host_hash(const struct ft_detect *d, unsigned int ip_ver, const uint8_t *addr)
{
	uint64_t a, b;

	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	return (uint32_t)(mix64(mix64(d->seed ^ ip_ver ^ a) ^ b) >> 32);
}

/* The isn_predictable judgement --------------------------------------------- */

const char *
ft_isn_rule_name(unsigned int rule)
{
	static const char *const names[] = { "random", "step", "multiple", "clock" };

	return rule < sizeof(names) / sizeof(names[0]) ? names[rule] : "unknown";
}

static bool
rule_step(const uint32_t *dl, unsigned int nd, char *detail, unsigned int len, unsigned int n)
{
	int64_t lo = 0, hi = 0;
	unsigned int i;

	for (i = 1; i < nd; i++) {
		int64_t off = s32(dl[i] - dl[0]);

		if (off < lo)
			lo = off;
		if (off > hi)
			hi = off;
		if (hi - lo > FT_ISN_STEP_TOL)
			return false; /* at the second step of random ISNs, mostly */
	}
	if (detail != NULL) {
		long long smin = (long long)s32(dl[0] + (uint32_t)lo);
		long long smax = (long long)s32(dl[0] + (uint32_t)hi);

		if (lo == hi)
			snprintf(detail, len, "%u ISNs step by %lld", n, smin);
		else
			snprintf(detail, len, "%u ISNs step by %lld to %lld", n, smin, smax);
	}
	return true;
}

static bool
rule_multiple(const uint32_t *dl, unsigned int nd, char *detail, unsigned int len, unsigned int n)
{
	uint32_t g = 0;
	unsigned int i;

	for (i = 0; i < nd; i++) {
		g = gcd32(g, dl[i]);
		if (g != 0 && g < FT_ISN_GCD_MIN)
			return false; /* the gcd of more steps divides g: no larger */
	}
	if (g < FT_ISN_GCD_MIN)
		return false;
	for (i = 0; i < nd; i++)
		if (dl[i] / g > FT_ISN_GCD_QMAX)
			return false;
	if (detail != NULL)
		snprintf(detail, len, "%u ISN steps are multiples of %u", n, g);
	return true;
}

static bool
rule_clock(const uint32_t *dl, const uint64_t *el, unsigned int nd, char *detail, unsigned int len,
	   unsigned int n)
{
	unsigned int i, r = 0;
	double scale;

	/* The reference: the longest elapsed time (chosen from the times only,
	 * so random ISNs stay independent of it). */
	for (i = 1; i < nd; i++)
		if (el[i] > el[r])
			r = i;
	if (el[r] == 0)
		return false;
	scale = (double)dl[r] / (double)el[r];
	for (i = 0; i < nd; i++) {
		uint64_t pred;
		int64_t diff;

		if (i == r)
			continue;
		pred = (uint64_t)(scale * (double)el[i] + 0.5); /* <= dl[r] < 2^32 */
		diff = s32(dl[i] - (uint32_t)pred);
		if (diff < 0)
			diff = -diff;
		if ((uint64_t)diff > FT_ISN_CLOCK_TOL + pred / 4096)
			return false;
	}
	if (detail != NULL)
		snprintf(detail, len, "%u ISNs follow a %.0f/s clock", n, scale * 1e9);
	return true;
}

enum ft_isn_rule
ft_detect_isn_judge(const uint32_t *isn, const uint64_t *ts_ns, unsigned int n, char *detail,
		    unsigned int len)
{
	uint32_t dl[FT_DETECT_MAX_ISN_SAMPLES];
	uint64_t el[FT_DETECT_MAX_ISN_SAMPLES];
	unsigned int i, nd;

	if (n < FT_DETECT_MIN_ISN_SAMPLES)
		return FT_ISN_RANDOM;
	if (n > FT_DETECT_MAX_ISN_SAMPLES) { /* judge the most recent ones */
		isn += n - FT_DETECT_MAX_ISN_SAMPLES;
		ts_ns += n - FT_DETECT_MAX_ISN_SAMPLES;
		n = FT_DETECT_MAX_ISN_SAMPLES;
	}
	nd = n - 1;
	for (i = 0; i < nd; i++) {
		dl[i] = isn[i + 1] - isn[i];
		el[i] = ts_ns[i + 1] > ts_ns[i] ? ts_ns[i + 1] - ts_ns[i] : 0;
	}
	if (rule_step(dl, nd, detail, len, n))
		return FT_ISN_STEP;
	if (rule_multiple(dl, nd, detail, len, n))
		return FT_ISN_MULTIPLE;
	if (rule_clock(dl, el, nd, detail, len, n))
		return FT_ISN_CLOCK;
	return FT_ISN_RANDOM;
}

/* The host table ------------------------------------------------------------ */

struct ft_detect *
ft_detect_create(const struct ft_detect_config *cfg)
{
	struct ft_detect_config c = { 0 };
	struct ft_detect *d;
	struct timespec now;
	uint64_t nb = 16;
	uint32_t i;

	if (cfg != NULL)
		c = *cfg;
	if (c.max_hosts == 0)
		c.max_hosts = FT_DETECT_DEFAULT_MAX_HOSTS;
	if (c.max_hosts >= NIL)
		c.max_hosts = NIL - 1;
	if (c.isn_samples == 0)
		c.isn_samples = FT_DETECT_DEFAULT_ISN_SAMPLES;
	if (c.isn_samples < FT_DETECT_MIN_ISN_SAMPLES)
		c.isn_samples = FT_DETECT_MIN_ISN_SAMPLES;
	if (c.isn_samples > FT_DETECT_MAX_ISN_SAMPLES)
		c.isn_samples = FT_DETECT_MAX_ISN_SAMPLES;
	if (c.syn_flood_rate == 0)
		c.syn_flood_rate = FT_DETECT_DEFAULT_SYN_RATE;
	while (nb < c.max_hosts)
		nb <<= 1;
	if (nb > (uint64_t)NIL)
		return NULL;

	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->max_hosts = c.max_hosts;
	d->n_samples = c.isn_samples;
	d->rate = c.syn_flood_rate;
	d->bucket_mask = (uint32_t)(nb - 1);
	d->lru_head = d->lru_tail = NIL;
	d->pool = calloc(c.max_hosts, sizeof(*d->pool));
	d->buckets = malloc((size_t)nb * sizeof(*d->buckets));
	d->isn = calloc((size_t)c.max_hosts * c.isn_samples, sizeof(*d->isn));
	d->isn_ts = calloc((size_t)c.max_hosts * c.isn_samples, sizeof(*d->isn_ts));
	if (d->pool == NULL || d->buckets == NULL || d->isn == NULL || d->isn_ts == NULL) {
		ft_detect_free(d);
		return NULL;
	}
	for (i = 0; i <= d->bucket_mask; i++)
		d->buckets[i] = NIL;
	/* A per-run hash key, so nobody can aim destinations at one chain. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	d->seed = mix64((uint64_t)now.tv_sec * NS_PER_S + (uint64_t)now.tv_nsec) ^
		  mix64((uint64_t)(uintptr_t)d);
	return d;
}

void
ft_detect_free(struct ft_detect *d)
{
	if (d == NULL)
		return;
	free(d->pool);
	free(d->buckets);
	free(d->isn);
	free(d->isn_ts);
	free(d);
}

void
ft_detect_counters(const struct ft_detect *d, struct ft_detect_counters *out)
{
	*out = d->ctr;
	out->hosts = d->n_hosts;
}

static void
lru_unlink(struct ft_detect *d, uint32_t idx)
{
	struct host *h = &d->pool[idx];

	if (h->prev != NIL)
		d->pool[h->prev].next = h->next;
	else
		d->lru_head = h->next;
	if (h->next != NIL)
		d->pool[h->next].prev = h->prev;
	else
		d->lru_tail = h->prev;
	h->prev = h->next = NIL;
}

static void
lru_push_front(struct ft_detect *d, uint32_t idx)
{
	struct host *h = &d->pool[idx];

	h->prev = NIL;
	h->next = d->lru_head;
	if (d->lru_head != NIL)
		d->pool[d->lru_head].prev = idx;
	else
		d->lru_tail = idx;
	d->lru_head = idx;
}

static void
chain_remove(struct ft_detect *d, uint32_t idx)
{
	uint32_t *link = &d->buckets[d->pool[idx].hash & d->bucket_mask];

	while (*link != NIL && *link != idx)
		link = &d->pool[*link].hnext;
	if (*link == idx)
		*link = d->pool[idx].hnext;
}

/* Find the host of @p o's address; add it (evicting the least recent) when
 * @p create. Either way it becomes the most recent. */
static struct host *
host_get(struct ft_detect *d, const struct ft_obs *o, bool create, uint32_t *idx_out)
{
	uint8_t key[16] = { 0 };
	uint32_t hash, idx;
	struct host *h;

	memcpy(key, o->addr, o->ip_ver == 4 ? 4 : 16);
	hash = host_hash(d, o->ip_ver, key);
	for (idx = d->buckets[hash & d->bucket_mask]; idx != NIL; idx = d->pool[idx].hnext) {
		h = &d->pool[idx];
		if (h->hash == hash && h->ip_ver == o->ip_ver && memcmp(h->addr, key, 16) == 0) {
			if (d->lru_head != idx) {
				lru_unlink(d, idx);
				lru_push_front(d, idx);
			}
			*idx_out = idx;
			return h;
		}
	}
	if (!create)
		return NULL;
	if (d->n_hosts < d->max_hosts) {
		idx = d->n_hosts++;
	} else {
		idx = d->lru_tail;
		lru_unlink(d, idx);
		chain_remove(d, idx);
		d->ctr.hosts_evicted++;
	}
	h = &d->pool[idx];
	memset(h, 0, sizeof(*h));
	memcpy(h->addr, key, sizeof(h->addr));
	h->ip_ver = o->ip_ver;
	h->hash = hash;
	h->hnext = d->buckets[hash & d->bucket_mask];
	d->buckets[hash & d->bucket_mask] = idx;
	lru_push_front(d, idx);
	*idx_out = idx;
	return h;
}

/* The detectors ------------------------------------------------------------- */

static void
event_init(struct ft_event *ev, const struct ft_obs *o, const struct host *h, unsigned int type)
{
	memset(ev, 0, sizeof(*ev));
	ev->ts_ns = o->ts_ns;
	ev->type = (uint16_t)type;
	ev->severity = (uint8_t)ft_event_default_severity(type);
	ev->dir = FT_DIR_NONE;
	ev->ip_ver = h->ip_ver;
	ev->proto = 6; /* TCP */
	memcpy(ev->dst, h->addr, sizeof(ev->dst));
}

static unsigned int
isn_observe(struct ft_detect *d, struct host *h, uint32_t idx, const struct ft_obs *o,
	    struct ft_event *out, unsigned int max_out)
{
	const unsigned int n = d->n_samples;
	uint32_t *isn = &d->isn[(size_t)idx * n];
	uint64_t *ts = &d->isn_ts[(size_t)idx * n];
	char detail[FT_EVENT_DETAIL_LEN];
	unsigned int pos;

	if (h->n_isn == n) {
		if (o->ts_ns < ts[0])
			return 0; /* older than every sample kept */
		memmove(isn, isn + 1, (n - 1) * sizeof(*isn));
		memmove(ts, ts + 1, (n - 1) * sizeof(*ts));
		h->n_isn--;
	}
	/* Insert in time order (ties: arrival order). */
	for (pos = h->n_isn; pos > 0 && ts[pos - 1] > o->ts_ns; pos--) {
		isn[pos] = isn[pos - 1];
		ts[pos] = ts[pos - 1];
	}
	isn[pos] = o->isn;
	ts[pos] = o->ts_ns;
	h->n_isn++;
	if (h->n_isn < n || (h->flags & HOST_ISN_FIRED) || max_out == 0)
		return 0;
	if (ft_detect_isn_judge(isn, ts, n, detail, sizeof(detail)) == FT_ISN_RANDOM)
		return 0;
	h->flags |= HOST_ISN_FIRED;
	event_init(out, o, h, FT_EV_ISN_PREDICTABLE);
	snprintf(out->detail, sizeof(out->detail), "%s", detail);
	d->ctr.isn_predictable++;
	return 1;
}

/* Close the host's SYN window if @p ts is past it, re-arming syn_flood when
 * the window stayed at or below the rate or a full quiet second followed. */
static void
flood_advance(struct ft_detect *d, struct host *h, uint64_t ts)
{
	if (!(h->flags & HOST_WIN_OPEN) || ts < h->win_start || ts - h->win_start < NS_PER_S)
		return;
	if (h->win_peak <= d->rate || ts - h->win_start >= 2 * NS_PER_S)
		h->flags &= (uint8_t)~HOST_FLOOD_FIRED;
	h->flags &= (uint8_t)~HOST_WIN_OPEN;
}

static unsigned int
flood_syn(struct ft_detect *d, struct host *h, const struct ft_obs *o, struct ft_event *out,
	  unsigned int max_out)
{
	if (!(h->flags & HOST_WIN_OPEN)) {
		h->flags |= HOST_WIN_OPEN;
		h->win_start = o->ts_ns;
		h->win_count = 0;
		h->win_peak = 0;
	}
	if (h->win_count < UINT32_MAX)
		h->win_count++;
	if (h->win_count > h->win_peak)
		h->win_peak = h->win_count;
	if (h->win_count <= d->rate || (h->flags & HOST_FLOOD_FIRED) || max_out == 0)
		return 0;
	h->flags |= HOST_FLOOD_FIRED;
	event_init(out, o, h, FT_EV_SYN_FLOOD);
	snprintf(out->detail, sizeof(out->detail), "%u half-open/s > %u", h->win_count, d->rate);
	d->ctr.syn_flood++;
	return 1;
}

unsigned int
ft_detect_observe(struct ft_detect *d, const struct ft_obs *o, struct ft_event *out,
		  unsigned int max_out)
{
	unsigned int n = 0;
	struct host *h;
	uint32_t idx;

	d->ctr.observations++;
	if ((o->ip_ver != 4 && o->ip_ver != 6) || o->kind > FT_OBS_SERVER_ISN) {
		d->ctr.invalid++;
		return 0;
	}
	h = host_get(d, o, o->kind != FT_OBS_ESTABLISHED, &idx);
	if (h == NULL)
		return 0; /* a completion towards an address we do not follow */
	flood_advance(d, h, o->ts_ns);
	switch (o->kind) {
	case FT_OBS_SYN:
		n = flood_syn(d, h, o, out, max_out);
		break;
	case FT_OBS_ESTABLISHED:
		if ((h->flags & HOST_WIN_OPEN) && h->win_count > 0)
			h->win_count--;
		break;
	case FT_OBS_SERVER_ISN:
		n = isn_observe(d, h, idx, o, out, max_out);
		break;
	}
	d->ctr.events += n;
	return n;
}
