/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of lib/detect: isn_predictable, syn_flood, the bounded host table. */
#include <stdio.h>
#include <string.h>

#include "ft_detect.h"
#include "ft_events.h"
#include "ft_unit.h"

#define NS_MS 1000000ull
#define NS_S  1000000000ull
#define T0    (1700000000ull * NS_S) /* packet time of the tests' first observation */

/* Fixed-seed PRNG (splitmix64). */
static uint64_t rng_state = 0x5eed5eed12345678ull;

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A uniform value in [lo, hi]. */
static uint64_t
rng_range(uint64_t lo, uint64_t hi)
{
	return lo + rng() % (hi - lo + 1);
}

static struct ft_obs
obs4(unsigned int kind, uint32_t addr, uint32_t isn, uint64_t ts)
{
	struct ft_obs o;

	memset(&o, 0, sizeof(o));
	o.ts_ns = ts;
	o.kind = (uint8_t)kind;
	o.ip_ver = 4;
	o.port = 80;
	o.isn = isn;
	o.addr[0] = (uint8_t)(addr >> 24);
	o.addr[1] = (uint8_t)(addr >> 16);
	o.addr[2] = (uint8_t)(addr >> 8);
	o.addr[3] = (uint8_t)addr;
	return o;
}

static const uint8_t v6_a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

static struct ft_obs
obs6(unsigned int kind, const uint8_t *addr, uint32_t isn, uint64_t ts)
{
	struct ft_obs o;

	memset(&o, 0, sizeof(o));
	o.ts_ns = ts;
	o.kind = (uint8_t)kind;
	o.ip_ver = 6;
	o.port = 443;
	o.isn = isn;
	memcpy(o.addr, addr, 16);
	return o;
}

static struct ft_event last_ev;

/* Feed one observation; returns the events raised, the last one in last_ev. */
static unsigned int
feed(struct ft_detect *d, const struct ft_obs *o)
{
	struct ft_event ev[4];
	unsigned int n = ft_detect_observe(d, o, ev, 4);

	if (n > 0)
		last_ev = ev[n - 1];
	return n;
}

/*
 * Feed @p n ISNs (isn[i] at ts[i]) of IPv4 server @p addr; returns the
 * 1-based sample that raised an event (0: none) and counts all events raised.
 */
static unsigned int
feed_isns(struct ft_detect *d, uint32_t addr, const uint32_t *isn, const uint64_t *ts,
	  unsigned int n, unsigned int *events)
{
	unsigned int i, at = 0, total = 0;

	for (i = 0; i < n; i++) {
		struct ft_obs o = obs4(FT_OBS_SERVER_ISN, addr, isn[i], ts[i]);
		unsigned int k = feed(d, &o);

		if (k > 0 && at == 0)
			at = i + 1;
		total += k;
	}
	if (events != NULL)
		*events = total;
	return at;
}

static int
is_event(const struct ft_event *ev, unsigned int type, unsigned int ip_ver, const uint8_t *dst,
	 uint64_t ts)
{
	return ev->type == type && ev->severity == ft_event_default_severity(type) &&
	       ev->dir == FT_DIR_NONE && ev->ip_ver == ip_ver && ev->proto == 6 && ev->dport == 0 &&
	       ev->sport == 0 && memcmp(ev->dst, dst, 16) == 0 && ev->ts_ns == ts;
}

static const uint8_t *
v4(uint32_t addr)
{
	static uint8_t a[16];

	memset(a, 0, sizeof(a));
	a[0] = (uint8_t)(addr >> 24);
	a[1] = (uint8_t)(addr >> 16);
	a[2] = (uint8_t)(addr >> 8);
	a[3] = (uint8_t)addr;
	return a;
}

#define SRV 0x0a000001u /* 10.0.0.1 */

/* Euclid's gcd: the reference for the judge's own. */
static uint32_t
gcd_ref(uint32_t a, uint32_t b)
{
	while (b != 0) {
		uint32_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* The multiple rule on random step sets: flagged exactly when the steps'
 * gcd (Euclid's) is >= 800 and every step is at most 65536 of it, with
 * that gcd in the detail. Steps are k * g (k random, some 0) with g from a
 * few to 2^24, so both sides of the bounds come up; the ISNs wrap past
 * 2^32 and the times are irregular (no step or clock rule). */
static void
test_judge_multiple(void)
{
	unsigned int t, i, bad = 0, flagged = 0, cleared = 0;

	for (t = 0; t < 20000; t++) {
		uint32_t isn[8], g = (uint32_t)rng_range(1, 1u << (rng() % 25)), want = 0;
		uint64_t ts[8];
		char det[FT_EVENT_DETAIL_LEN], exp[FT_EVENT_DETAIL_LEN];
		enum ft_isn_rule r;
		bool mult;

		isn[0] = (uint32_t)rng();
		ts[0] = T0;
		for (i = 1; i < 8; i++) {
			uint32_t k = rng() % 8 == 0 ? 0 : (uint32_t)rng_range(1, 70000);

			isn[i] = isn[i - 1] + k * g;
			ts[i] = ts[i - 1] + rng_range(1, 100) * NS_MS + rng() % 1000;
			want = gcd_ref(want, k * g);
		}
		mult = want >= 800;
		for (i = 1; i < 8 && mult; i++)
			mult = (isn[i] - isn[i - 1]) / want <= 65536;
		r = ft_detect_isn_judge(isn, ts, 8, det, sizeof(det));
		if (r == FT_ISN_STEP || r == FT_ISN_CLOCK)
			continue; /* an earlier or later rule's case, judged elsewhere */
		snprintf(exp, sizeof(exp), "8 ISN steps are multiples of %u", want);
		if (mult != (r == FT_ISN_MULTIPLE) || (mult && strcmp(det, exp) != 0))
			bad++;
		flagged += mult;
		cleared += !mult;
	}
	check("judge: the multiple rule matches Euclid's gcd on 20000 random step sets",
	      bad == 0 && flagged > 1000 && cleared > 1000);
}

static void
test_judge(void)
{
	uint32_t isn[8];
	uint64_t ts[8];
	char det[FT_EVENT_DETAIL_LEN];
	unsigned int i;

	for (i = 0; i < 8; i++) {
		isn[i] = 1000 + i * 64000u;
		ts[i] = T0 + i * NS_S;
	}
	check("judge: +64000 is a step",
	      ft_detect_isn_judge(isn, ts, 8, det, sizeof(det)) == FT_ISN_STEP &&
		      strcmp(det, "8 ISNs step by 64000") == 0);
	check("judge: fewer than 3 samples are never judged",
	      ft_detect_isn_judge(isn, ts, 2, NULL, 0) == FT_ISN_RANDOM);
	check("judge: 3 samples are", ft_detect_isn_judge(isn, ts, 3, NULL, 0) == FT_ISN_STEP);
	for (i = 0; i < 8; i++)
		isn[i] = 5u - i; /* a decrement by 1 across 0 */
	check("judge: -1 across zero is a step",
	      ft_detect_isn_judge(isn, ts, 8, det, sizeof(det)) == FT_ISN_STEP &&
		      strcmp(det, "8 ISNs step by -1") == 0);
	for (i = 0; i < 8; i++)
		isn[i] = (uint32_t)(i * 1000u + (uint32_t)rng() % 0x7ffffu); /* band < 2^19 */
	check("judge: near-constant increments are a step",
	      ft_detect_isn_judge(isn, ts, 8, det, sizeof(det)) == FT_ISN_STEP &&
		      strstr(det, " to ") != NULL);
	test_judge_multiple();
	check("rule names", strcmp(ft_isn_rule_name(FT_ISN_CLOCK), "clock") == 0 &&
				    strcmp(ft_isn_rule_name(FT_ISN_RANDOM), "random") == 0 &&
				    strcmp(ft_isn_rule_name(99), "unknown") == 0);
}

static void
test_isn_step(void)
{
	struct ft_detect *d = ft_detect_create(NULL);
	static const uint32_t steps[] = { 64000, 128000, 1, 12345 };
	uint32_t isn[20];
	uint64_t ts[20];
	unsigned int s, i, at, events, ok = 1;
	char name[96];

	for (s = 0; s < 4; s++) {
		for (i = 0; i < 20; i++) {
			isn[i] = 0x12345678u + i * steps[s];
			ts[i] = T0 + i * 250 * NS_MS + rng_range(0, 900 * NS_MS) / 4;
		}
		at = feed_isns(d, SRV + s, isn, ts, 20, &events);
		snprintf(name, sizeof(name), "isn step +%u: flagged at sample 8 exactly, once", steps[s]);
		check(name, at == 8 && events == 1);
		ok &= is_event(&last_ev, FT_EV_ISN_PREDICTABLE, 4, v4(SRV + s), ts[7]);
		snprintf(name, sizeof(name), "8 ISNs step by %u", steps[s]);
		ok &= strcmp(last_ev.detail, name) == 0;
	}
	check("isn step: event fields (type, alert, dir none, ip 4, tcp, dst, dport 0, ts, detail)", ok);

	/* +64000 per connection, +64000 per 500 ms tick (4.4BSD). */
	{
		static const uint32_t ticks[] = { 0, 3, 17, 40, 1, 25, 8 };

		isn[0] = 777;
		ts[0] = T0;
		for (i = 1; i < 8; i++) {
			isn[i] = isn[i - 1] + 64000u * (1 + ticks[i - 1]);
			ts[i] = ts[i - 1] + (uint64_t)ticks[i - 1] * 500 * NS_MS + 10 * NS_MS;
		}
		at = feed_isns(d, SRV + 10, isn, ts, 8, &events);
		check("isn +64000 per connection and per tick: flagged at sample 8 (multiple)",
		      at == 8 && events == 1 &&
			      strcmp(last_ev.detail, "8 ISN steps are multiples of 64000") == 0);
	}

	/* Wraparound: the step crosses 2^32. */
	for (i = 0; i < 8; i++) {
		isn[i] = 0xffffffffu - 3 * 64000u + 5 + i * 64000u;
		ts[i] = T0 + i * NS_S;
	}
	at = feed_isns(d, SRV + 11, isn, ts, 8, &events);
	check("isn step across 2^32: flagged at sample 8", at == 8 && events == 1 &&
		      strcmp(last_ev.detail, "8 ISNs step by 64000") == 0);

	/* Arrival out of time order (two workers): still judged in time order. */
	for (i = 0; i < 8; i++) {
		isn[i] = 99 + i * 128000u;
		ts[i] = T0 + i * NS_S;
	}
	{
		uint32_t ti = isn[3];
		uint64_t tt = ts[3];

		isn[3] = isn[4], ts[3] = ts[4];
		isn[4] = ti, ts[4] = tt;
	}
	at = feed_isns(d, SRV + 12, isn, ts, 8, &events);
	check("isn step arriving out of order: flagged at sample 8", at == 8 && events == 1);

	/* max_out 0: the rule is met but nothing can be written; fires later. */
	{
		struct ft_event ev;
		unsigned int n0 = 0;

		for (i = 0; i < 9; i++) {
			struct ft_obs o = obs4(FT_OBS_SERVER_ISN, SRV + 13, 1 + i * 64000u, T0 + i * NS_S);

			if (i < 8)
				n0 += ft_detect_observe(d, &o, &ev, 0);
			else
				at = ft_detect_observe(d, &o, &ev, 1);
		}
		check("isn with max_out 0: nothing written, fires on the next sample",
		      n0 == 0 && at == 1 && ev.type == FT_EV_ISN_PREDICTABLE);
	}
	ft_detect_free(d);
}

static void
test_isn_clock(void)
{
	struct ft_detect *d = ft_detect_create(NULL);
	uint32_t isn[12];
	uint64_t ts[12], t = T0;
	unsigned int i, at, events;
	const uint32_t base[2] = { 0x01020304u, 0xffffffffu - 4000u };

	for (unsigned int w = 0; w < 2; w++) {
		t = T0;
		for (i = 0; i < 12; i++) {
			/* connections 1..60 s apart */
			t += rng_range(1 * NS_S, 60 * NS_S);
			ts[i] = t;
		}
		/* The ISN read from a 4 us clock up to 200 us before the SYN-ACK is
		 * captured; w 1: sample 4 is 4000 ticks below 2^32. */
		for (i = 0; i < 12; i++)
			isn[i] = base[w] + (uint32_t)((int64_t)(ts[i] - rng_range(0, 200000) - ts[3]) / 4000);
		at = feed_isns(d, SRV + 20 + w, isn, ts, 12, &events);
		check(w == 0 ? "isn 4us clock: flagged at sample 8 (clock), once"
			     : "isn 4us clock across 2^32: flagged at sample 8 (clock), once",
		      at == 8 && events == 1 && strstr(last_ev.detail, "8 ISNs follow a 2") != NULL &&
			      strstr(last_ev.detail, "/s clock") != NULL &&
			      is_event(&last_ev, FT_EV_ISN_PREDICTABLE, 4, v4(SRV + 20 + w), ts[7]));
		if (w == 1)
			check("isn 4us clock: the samples did wrap (sample 5 < sample 4)",
			      isn[4] < isn[3] && isn[3] > 0xffff0000u);
	}
	/* A clock plus a random per-connection offset (RFC 6528) is random. */
	t = T0;
	for (i = 0; i < 12; i++) {
		t += rng_range(1 * NS_S, 60 * NS_S);
		ts[i] = t;
		isn[i] = (uint32_t)rng() + (uint32_t)(t / 64);
	}
	at = feed_isns(d, SRV + 22, isn, ts, 12, &events);
	check("isn keyed hash + clock (RFC 6528): not flagged", at == 0 && events == 0);
	ft_detect_free(d);
}

static void
test_isn_random(void)
{
	struct ft_detect_config cfg = { .max_hosts = 131072 };
	struct ft_detect *d = ft_detect_create(&cfg);
	struct ft_detect_counters c;
	unsigned int s, i, events = 0;
	uint64_t t = T0;

	/* 100k servers x 8 connections, random ISNs, random gaps. */
	for (s = 0; s < 100000; s++)
		for (i = 0; i < 8; i++) {
			struct ft_obs o;

			t += rng_range(1000, 10 * NS_S);
			o = obs4(FT_OBS_SERVER_ISN, 0x0b000000u + s, (uint32_t)rng(), t);
			events += feed(d, &o);
		}
	ft_detect_counters(d, &c);
	check("isn random: 100000 servers x 8 connections, never flagged",
	      events == 0 && c.events == 0 && c.hosts == 100000 && c.hosts_evicted == 0);

	/* Same again with connections exactly 1 ms apart (regular times). */
	for (s = 0; s < 100000; s++)
		for (i = 0; i < 8; i++) {
			struct ft_obs o = obs4(FT_OBS_SERVER_ISN, 0x0c000000u + s, (uint32_t)rng(),
					       T0 + (uint64_t)i * NS_MS);

			events += feed(d, &o);
		}
	check("isn random, regular times: 100000 servers x 8 connections, never flagged",
	      events == 0);

	/* 10000 servers x 64 connections: 57 sliding judgements each. */
	for (s = 0; s < 10000; s++)
		for (i = 0; i < 64; i++) {
			struct ft_obs o;

			t += rng_range(1000, NS_S);
			o = obs4(FT_OBS_SERVER_ISN, 0x0d000000u + s, (uint32_t)rng(), t);
			events += feed(d, &o);
		}
	check("isn random: 10000 servers x 64 connections (sliding), never flagged", events == 0);
	ft_detect_free(d);
}

static void
test_syn_flood(void)
{
	struct ft_detect *d = ft_detect_create(NULL);
	struct ft_obs o;
	uint64_t t, w;
	unsigned int i, ev = 0, at = 0;
	const uint32_t X = 0xc0a80001u, Y = 0xc0a80002u, Z = 0xc0a80003u, W = 0xc0a80004u;

	/* rate + 1 half-open in one second. */
	for (i = 0; i < 1001; i++) {
		unsigned int k;

		o = obs4(FT_OBS_SYN, X, 0, T0 + i * 999000ull);
		k = feed(d, &o);
		ev += k;
		if (k && at == 0)
			at = i + 1;
	}
	check("syn_flood: 1001 half-open in a second flagged at the 1001st",
	      at == 1001 && ev == 1 &&
		      is_event(&last_ev, FT_EV_SYN_FLOOD, 4, v4(X), T0 + 1000 * 999000ull) &&
		      strcmp(last_ev.detail, "1001 half-open/s > 1000") == 0);
	ev = 0;
	for (i = 0; i < 500; i++) {
		o = obs4(FT_OBS_SYN, X, 0, T0 + 999500000ull + i);
		ev += feed(d, &o);
	}
	check("syn_flood: more in the same second, no second event", ev == 0);

	/* Still flooding in the next window: disarmed. */
	w = T0 + NS_S;
	for (i = 0; i < 1500; i++) {
		o = obs4(FT_OBS_SYN, X, 0, w + i * 600000ull);
		ev += feed(d, &o);
	}
	check("syn_flood: the flood goes on in the next window, no event", ev == 0);
	/* A window at or below the rate re-arms... */
	w = T0 + 2 * NS_S;
	for (i = 0; i < 10; i++) {
		o = obs4(FT_OBS_SYN, X, 0, w + i * NS_MS);
		ev += feed(d, &o);
	}
	/* ...so the next flood is reported again. */
	w = T0 + 3 * NS_S;
	at = 0;
	for (i = 0; i < 1001; i++) {
		o = obs4(FT_OBS_SYN, X, 0, w + i * 900000ull);
		if (feed(d, &o) && at == 0)
			at = i + 1;
	}
	check("syn_flood: re-armed after a window below the rate, fires again", ev == 0 && at == 1001);
	/* A full quiet second re-arms too. */
	w = T0 + 3 * NS_S + 2 * NS_S + 1;
	at = 0;
	for (i = 0; i < 1001; i++) {
		o = obs4(FT_OBS_SYN, X, 0, w + i * 900000ull);
		if (feed(d, &o) && at == 0)
			at = i + 1;
	}
	check("syn_flood: re-armed after a quiet second, fires again", at == 1001);

	/* Exactly the rate, two windows in a row: nothing. */
	ev = 0;
	for (i = 0; i < 2000; i++) {
		o = obs4(FT_OBS_SYN, Y, 0, T0 + (i / 1000) * NS_S + (i % 1000) * 999000ull);
		ev += feed(d, &o);
	}
	check("syn_flood: exactly the rate (1000/s, twice) not flagged", ev == 0);

	/* Completions subtract. */
	ev = 0;
	for (i = 0; i < 1000; i++) {
		o = obs4(FT_OBS_SYN, Z, 0, T0 + i * 900000ull);
		ev += feed(d, &o);
	}
	o = obs4(FT_OBS_ESTABLISHED, Z, 0, T0 + 900100000ull);
	ev += feed(d, &o);
	o = obs4(FT_OBS_SYN, Z, 0, T0 + 900200000ull);
	ev += feed(d, &o);
	check("syn_flood: 1001 SYNs with 1 completion (1000 half-open) not flagged", ev == 0);
	o = obs4(FT_OBS_SYN, Z, 0, T0 + 900300000ull);
	check("syn_flood: one more SYN (1001 half-open) flagged",
	      feed(d, &o) == 1 && last_ev.type == FT_EV_SYN_FLOOD);

	/* 3000 completed connections in a second: never half-open. */
	ev = 0;
	t = T0 + 10 * NS_S;
	for (i = 0; i < 3000; i++) {
		o = obs4(FT_OBS_SYN, Z + 100, 0, t + i * 300000ull);
		ev += feed(d, &o);
		o = obs4(FT_OBS_ESTABLISHED, Z + 100, 0, t + i * 300000ull + 1000);
		ev += feed(d, &o);
	}
	check("syn_flood: 3000 completed handshakes in a second not flagged", ev == 0);

	/* Completions do not bank credit below 0. */
	ev = 0;
	at = 0;
	o = obs4(FT_OBS_SYN, W, 0, T0);
	ev += feed(d, &o);
	for (i = 0; i < 100; i++) {
		o = obs4(FT_OBS_ESTABLISHED, W, 0, T0 + 1000 + i);
		ev += feed(d, &o);
	}
	for (i = 0; i < 1001; i++) {
		o = obs4(FT_OBS_SYN, W, 0, T0 + NS_MS + i * 900000ull);
		if (feed(d, &o) && at == 0)
			at = i + 1;
	}
	check("syn_flood: surplus completions do not bank credit", ev == 0 && at == 1001);

	/* Late observations (another worker's ring) count in the open window. */
	at = 0;
	t = T0 + 100 * NS_S;
	for (i = 0; i < 1001; i++) {
		o = obs4(FT_OBS_SYN, W + 1, 0, i < 500 ? t + i * NS_MS : t - (i - 499) * 1000);
		if (feed(d, &o) && at == 0)
			at = i + 1;
	}
	check("syn_flood: SYNs older than the window's start count in it", at == 1001);

	/* Two destinations under the rate each: nothing. */
	ev = 0;
	for (i = 0; i < 1200; i++) {
		o = obs4(FT_OBS_SYN, W + 2 + (i & 1), 0, T0 + 200 * NS_S + i * 800000ull);
		ev += feed(d, &o);
	}
	check("syn_flood: per destination (2 x 600/s) not flagged", ev == 0);
	ft_detect_free(d);

	/* A configured rate, on IPv6. */
	{
		struct ft_detect_config cfg = { .syn_flood_rate = 5 };

		d = ft_detect_create(&cfg);
		at = 0;
		for (i = 0; i < 6; i++) {
			o = obs6(FT_OBS_SYN, v6_a, 0, T0 + i * NS_MS);
			if (feed(d, &o) && at == 0)
				at = i + 1;
		}
		check("syn_flood: rate 5, IPv6, flagged at the 6th",
		      at == 6 && is_event(&last_ev, FT_EV_SYN_FLOOD, 6, v6_a, T0 + 5 * NS_MS) &&
			      strcmp(last_ev.detail, "6 half-open/s > 5") == 0);
		ft_detect_free(d);
	}
}

static void
test_hosts(void)
{
	struct ft_detect_config cfg = { .max_hosts = 64 };
	struct ft_detect *d = ft_detect_create(&cfg);
	struct ft_detect_counters c;
	struct ft_obs o;
	unsigned int h, i, ev = 0;

	/* Hosts 0..63, 7 +64000 ISNs each, host 0 the least recent. */
	for (h = 0; h < 64; h++)
		for (i = 0; i < 7; i++) {
			o = obs4(FT_OBS_SERVER_ISN, 0x0a010000u + h, i * 64000u, T0 + i * NS_S);
			ev += feed(d, &o);
		}
	ft_detect_counters(d, &c);
	check("hosts: 64 tracked, none evicted", ev == 0 && c.hosts == 64 && c.hosts_evicted == 0);
	/* A completion makes host 0 the most recent (and creates nothing). */
	o = obs4(FT_OBS_ESTABLISHED, 0x0a010000u, 0, T0 + 7 * NS_S);
	feed(d, &o);
	o = obs4(FT_OBS_ESTABLISHED, 0x0a020000u, 0, T0 + 7 * NS_S);
	feed(d, &o);
	ft_detect_counters(d, &c);
	check("hosts: a completion towards an unknown address creates nothing", c.hosts == 64);
	/* A new destination evicts the least recent: host 1. */
	o = obs4(FT_OBS_SYN, 0x0a020000u, 0, T0 + 8 * NS_S);
	feed(d, &o);
	ft_detect_counters(d, &c);
	check("hosts: full table evicts one", c.hosts == 64 && c.hosts_evicted == 1);
	o = obs4(FT_OBS_SERVER_ISN, 0x0a010000u, 7 * 64000u, T0 + 8 * NS_S);
	check("hosts: the recently used host kept its samples (fires at its 8th)",
	      feed(d, &o) == 1 && is_event(&last_ev, FT_EV_ISN_PREDICTABLE, 4, v4(0x0a010000u),
					  T0 + 8 * NS_S));
	o = obs4(FT_OBS_SERVER_ISN, 0x0a010001u, 7 * 64000u, T0 + 8 * NS_S);
	ev = feed(d, &o);
	ft_detect_counters(d, &c);
	check("hosts: the least recent one was evicted (its 8th sample is its 1st)",
	      ev == 0 && c.hosts_evicted == 2);
	/* Fired once until evicted: host 0 again fires only after eviction. */
	ev = 0;
	for (i = 8; i < 20; i++) {
		o = obs4(FT_OBS_SERVER_ISN, 0x0a010000u, i * 64000u, T0 + i * NS_S);
		ev += feed(d, &o);
	}
	check("hosts: a server fires once", ev == 0);
	for (h = 0; h < 1000; h++) {
		o = obs4(FT_OBS_SYN, 0x0a030000u + h, 0, T0 + 30 * NS_S);
		feed(d, &o);
	}
	ft_detect_counters(d, &c);
	check("hosts: 1000 new destinations, table stays at 64",
	      c.hosts == 64 && c.hosts_evicted == 2 + 1000);
	ev = 0;
	for (i = 0; i < 8; i++) {
		o = obs4(FT_OBS_SERVER_ISN, 0x0a010000u, i * 64000u, T0 + (40 + i) * NS_S);
		ev += feed(d, &o);
	}
	check("hosts: an evicted server fires again", ev == 1);
	ft_detect_free(d);

	/* Pressure: 200000 random addresses through 1024 slots. */
	cfg.max_hosts = 1024;
	d = ft_detect_create(&cfg);
	for (h = 0; h < 200000; h++) {
		o = obs4(h & 1 ? FT_OBS_SYN : FT_OBS_SERVER_ISN, h * 2654435761u, (uint32_t)rng(),
			 T0 + h * 1000ull);
		feed(d, &o);
	}
	ft_detect_counters(d, &c);
	check("hosts: 200000 random addresses, 1024 tracked, the rest evicted",
	      c.hosts == 1024 && c.hosts_evicted == 200000 - 1024 && c.observations == 200000);
	ft_detect_free(d);
}

static void
test_ipv6_and_misc(void)
{
	struct ft_detect *d = ft_detect_create(NULL);
	struct ft_detect_counters c;
	struct ft_obs o;
	uint8_t v6_v4like[16] = { 0x0a, 0x00, 0x00, 0x01 }; /* same first 4 bytes as 10.0.0.1 */
	unsigned int i, ev4 = 0, ev6 = 0, at4 = 0, at6 = 0;

	/* Interleaved: an IPv4 server stepping +64000 and an IPv6 server with
	 * the same first four bytes stepping +1, plus the real IPv6 one. */
	for (i = 0; i < 8; i++) {
		unsigned int k;

		o = obs4(FT_OBS_SERVER_ISN, SRV, 100 + i * 64000u, T0 + i * NS_S);
		o.addr[9] = 0xee; /* bytes after an IPv4 address are ignored */
		k = feed(d, &o);
		ev4 += k;
		if (k && at4 == 0)
			at4 = i + 1;
		o = obs6(FT_OBS_SERVER_ISN, v6_v4like, 7 + i, T0 + i * NS_S + 1);
		k = feed(d, &o);
		ev6 += k;
		if (k && at6 == 0)
			at6 = i + 1;
		if (k)
			check("ipv6: event for the IPv6 host",
			      is_event(&last_ev, FT_EV_ISN_PREDICTABLE, 6, v6_v4like, T0 + i * NS_S + 1) &&
				      strcmp(last_ev.detail, "8 ISNs step by 1") == 0);
	}
	check("ipv6: IPv4 and IPv6 with the same first bytes are two hosts, each flagged at 8",
	      ev4 == 1 && ev6 == 1 && at4 == 8 && at6 == 8);
	for (i = 0; i < 8; i++) {
		o = obs6(FT_OBS_SERVER_ISN, v6_a, 0xfffff000u + i * 1000u, T0 + i * NS_S);
		if (feed(d, &o))
			at6 = i + 1;
	}
	check("ipv6: 2001:db8::1 step +1000 across 2^32 flagged at 8",
	      at6 == 8 && is_event(&last_ev, FT_EV_ISN_PREDICTABLE, 6, v6_a, T0 + 7 * NS_S));

	o = obs4(FT_OBS_SYN, SRV, 0, T0);
	o.ip_ver = 5;
	feed(d, &o);
	o = obs4(7, SRV, 0, T0);
	feed(d, &o);
	ft_detect_counters(d, &c);
	check("invalid ip_ver or kind ignored and counted",
	      c.invalid == 2 && c.observations == 16 + 8 + 2 && c.hosts == 3);
	check("counters: events", c.events == 3 && c.isn_predictable == 3 && c.syn_flood == 0);
	ft_detect_free(d);
	ft_detect_free(NULL);
	check("struct ft_obs is 32 bytes", sizeof(struct ft_obs) == 32);
}

int
main(void)
{
	test_judge();
	test_isn_step();
	test_isn_clock();
	test_isn_random();
	test_syn_flood();
	test_hosts();
	test_ipv6_and_misc();
	return ft_unit_summary();
}
