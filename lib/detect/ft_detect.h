/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FT_DETECT_H
#define FT_DETECT_H

/**
 * @file
 * flowtap cross-flow detectors: the anomalies that need the connections of
 * several workers (isn_predictable per server address, syn_flood per
 * destination address). Workers send compact observations (struct ft_obs)
 * through their SPSC observation ring; the control lcore feeds each one to
 * ft_detect_observe(). Single-threaded (the control lcore only): no locks.
 * All memory is allocated by ft_detect_create(); nothing is allocated after.
 *
 * Hosts. One table entry per address (IP version + address; the port does
 * not split hosts) holds both detectors' state. The table holds at most
 * max_hosts entries; when it is full, a new address replaces the least
 * recently observed one (counted in hosts_evicted), which forgets that
 * host's ISN samples, its SYN window and whether it already fired.
 * FT_OBS_SYN and FT_OBS_SERVER_ISN create an entry; FT_OBS_ESTABLISHED only
 * updates an existing one. Every observation of a host makes it the most
 * recent.
 *
 * isn_predictable (per server address). The last N = isn_samples ISNs of the
 * server (FT_OBS_SERVER_ISN) are kept with their packet times, ordered by
 * time (observations from several workers arrive slightly out of order; a
 * sample older than all N kept ones is dropped). Each time a sample is added
 * and N are held, the N-1 increments d_i = isn_i - isn_(i-1) (mod 2^32, so
 * wraparound is invisible) and elapsed times e_i = t_i - t_(i-1) are judged
 * by ft_detect_isn_judge(); the first rule met raises one isn_predictable
 * event (dst = the server, dport 0). A server fires at most once until it is
 * evicted. The rules:
 *  - step (constant or near-constant increment per connection: 4.4BSD's
 *    +64000, +128000, a fixed +1 or +N, a fixed decrement): every d_i lies
 *    within a band of FT_ISN_STEP_TOL (2^20) as circular 32-bit values, i.e.
 *    max(d_i - d_1) - min(d_i - d_1) <= 2^20 with the differences taken as
 *    signed 32-bit numbers. Detail "8 ISNs step by 64000" (or "... by A to B").
 *  - multiple (Berkeley stacks adding +64000 per connection and +64000 per
 *    500 ms tick): the gcd g of the d_i is >= FT_ISN_GCD_MIN (800) and every
 *    d_i / g <= FT_ISN_GCD_QMAX (65536). Detail "8 ISN steps are multiples
 *    of 64000".
 *  - clock (ISN = a + t / 4 us per RFC 793 without RFC 6528's secret, or any
 *    other constant rate): take the increment with the longest elapsed time
 *    as the reference (d_r, e_r > 0); every other increment must satisfy
 *    |d_i - round(d_r * e_i / e_r)| <= FT_ISN_CLOCK_TOL + p_i / 4096 (as a
 *    signed 32-bit difference, p_i the predicted increment), i.e. 2^14 ISN
 *    units (65 ms of a 4 us clock) of capture jitter plus 244 ppm of clock
 *    drift. Detail "8 ISNs follow a 250000/s clock".
 * False positives: random ISNs (RFC 6528 keyed hash + clock, which a server
 * address sees from many client tuples as uniform 32-bit values) give
 * independent uniform increments. Whatever the times, per judgement:
 *  - step: each of the N-2 other d_i must hit a window of 2^21+1 values
 *    around d_1: <= (2^-11)^(N-2);
 *  - clock: each of the N-2 non-reference d_i must hit a window of at most
 *    2*(2^14 + 2^20)+1 values (p_i < 2^32) fixed by d_r and the times:
 *    <= (2^-10.98)^(N-2);
 *  - multiple: <= sum over g >= 800 of (min(2^16+1, 2^32/g+1) / 2^32)^(N-1):
 *    negligible next to the others (1.5e-29 for N = 8).
 * For N = 8 that is 7 deltas and <= 2.8e-20 (2^-64.9) per judgement, so
 * 10^6 judgements a second for a year (3e13) expect 1e-6 false alarms. Fewer
 * samples cost orders of magnitude: N = 7: 5.8e-17, 6: 1.2e-13, 5: 2.4e-10,
 * 4: 4.8e-7, 3: 1e-3. Known limit: the observation carries no client
 * tuple, so one client reconnecting from the same source port to an
 * RFC 6528 server N times in a row (and nobody else connecting between)
 * sees ISNs that do follow the clock and is flagged.
 *
 * syn_flood (per destination address). Half-open attempts are counted in
 * one-second windows of packet time aligned on the observations: a host's
 * window opens at the first FT_OBS_SYN while none is open and covers
 * [t0, t0 + 1 s). In the window, each FT_OBS_SYN adds one and each
 * FT_OBS_ESTABLISHED removes one (never below 0: completions do not bank
 * credit). When a SYN makes the count exceed syn_flood_rate (count ==
 * rate + 1), one syn_flood event is raised (dst = the destination, dport 0,
 * detail "1001 half-open/s > 1000") and the host is disarmed. The first
 * observation of the host (any kind) at or after t0 + 1 s closes the window;
 * a disarmed host is re-armed when the closed window's count never exceeded
 * the rate, or when that observation comes >= 2 s after t0 (a full quiet
 * second). An observation older than t0 (another worker's ring lagging)
 * counts in the open window. So a sustained flood raises one event, and a
 * new one after it paused for a whole window.
 *
 * Events: ts_ns = the observation's time, type FT_EV_ISN_PREDICTABLE or
 * FT_EV_SYN_FLOOD, the type's default severity, dir FT_DIR_NONE, ip_ver,
 * proto 6 (TCP), dst = the address, dport 0 (both detectors are per
 * address), everything else zero.
 */

#include <stdint.h>

#include "ft_events.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Defaults, used for config fields left 0. */
#define FT_DETECT_DEFAULT_MAX_HOSTS   65536
#define FT_DETECT_DEFAULT_ISN_SAMPLES 8
#define FT_DETECT_DEFAULT_SYN_RATE    1000
/** isn_samples is clamped to [FT_DETECT_MIN_ISN_SAMPLES, FT_DETECT_MAX_ISN_SAMPLES]. */
#define FT_DETECT_MIN_ISN_SAMPLES 3
#define FT_DETECT_MAX_ISN_SAMPLES 64

/** isn_predictable tolerances (see the file comment). */
#define FT_ISN_STEP_TOL  (1u << 20) /**< band of per-connection increments */
#define FT_ISN_GCD_MIN   800u       /**< smallest common step of the multiple rule */
#define FT_ISN_GCD_QMAX  65536u     /**< largest increment / common step */
#define FT_ISN_CLOCK_TOL (1u << 14) /**< absolute jitter of the clock rule, ISN units */

/** What a worker saw. */
enum ft_obs_kind {
	FT_OBS_SYN = 0,     /**< a new connection attempt (first SYN): addr/port = destination (server) */
	FT_OBS_ESTABLISHED, /**< that attempt's handshake completed (client's ACK): addr/port = server */
	FT_OBS_SERVER_ISN,  /**< a server chose an ISN (SYN-ACK): addr/port = server, isn = its ISN */
};

/** One observation: 32 bytes, copied through rte_ring_*_elem(). */
struct ft_obs {
	uint64_t ts_ns;   /**< packet time, ns since the epoch (capture time offline) */
	uint8_t kind;     /**< enum ft_obs_kind */
	uint8_t ip_ver;   /**< 4 or 6 */
	uint16_t port;    /**< server port, host order */
	uint32_t isn;     /**< FT_OBS_SERVER_ISN: the server's ISN */
	uint8_t addr[16]; /**< IPv4 in the first 4 bytes (the rest is ignored) */
};

/** Detector settings; a field left 0 takes its FT_DETECT_DEFAULT_* value. */
struct ft_detect_config {
	uint32_t max_hosts;      /**< addresses followed at once */
	uint32_t isn_samples;    /**< ISNs per server judged by isn_predictable (3..64) */
	uint32_t syn_flood_rate; /**< half-open attempts per second that make a syn_flood */
};

/** The detectors' counters. */
struct ft_detect_counters {
	uint64_t hosts;           /**< addresses tracked now */
	uint64_t hosts_evicted;   /**< addresses replaced because the table was full */
	uint64_t observations;    /**< observations fed (including invalid ones) */
	uint64_t invalid;         /**< observations ignored: unknown kind or ip_ver */
	uint64_t events;          /**< events raised (the two below) */
	uint64_t isn_predictable; /**< isn_predictable events */
	uint64_t syn_flood;       /**< syn_flood events */
};

/** Rules of isn_predictable (see the file comment). */
enum ft_isn_rule {
	FT_ISN_RANDOM = 0, /**< no rule met */
	FT_ISN_STEP,       /**< near-constant increment per connection */
	FT_ISN_MULTIPLE,   /**< increments are small multiples of a large common step */
	FT_ISN_CLOCK,      /**< increments proportional to elapsed time */
};

struct ft_detect;

/**
 * Create the detectors, allocating the host table and the ISN samples for
 * max_hosts addresses.
 * @param cfg settings; NULL for all defaults
 * @return NULL when memory is short
 */
struct ft_detect *ft_detect_create(const struct ft_detect_config *cfg);

/** Free the detectors (NULL is ignored). */
void ft_detect_free(struct ft_detect *d);

/**
 * Feed one observation. One observation raises at most one event, which is
 * written only when @p max_out > 0; a detector whose event could not be
 * written stays armed and fires on a later observation.
 * @return events written to @p out (at most @p max_out)
 */
unsigned int ft_detect_observe(struct ft_detect *d, const struct ft_obs *o, struct ft_event *out,
			       unsigned int max_out);

/** Copy the detectors' counters into @p out. */
void ft_detect_counters(const struct ft_detect *d, struct ft_detect_counters *out);

/**
 * Judge @p n ISN samples of one server by the isn_predictable rules (the
 * first one met, in the order step, multiple, clock).
 * @param isn the ISNs, oldest first
 * @param ts_ns their packet times, non-decreasing (a decrease counts as 0)
 * @param n samples, at least 3 (fewer: FT_ISN_RANDOM)
 * @param detail when not NULL and a rule is met, its human-readable detail
 * @param len bytes of @p detail
 * @return the rule met, or FT_ISN_RANDOM
 */
enum ft_isn_rule ft_detect_isn_judge(const uint32_t *isn, const uint64_t *ts_ns, unsigned int n,
				     char *detail, unsigned int len);

/** Name of an isn_predictable rule: "random", "step", "multiple", "clock". */
const char *ft_isn_rule_name(unsigned int rule);

#ifdef __cplusplus
}
#endif

#endif /* FT_DETECT_H */
