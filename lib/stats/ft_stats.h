/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FT_STATS_H
#define FT_STATS_H

/**
 * @file
 * flowtap counters.
 *
 * Owns: the per-worker counter block (one writer, its own cache lines, plain
 * relaxed stores: no atomic read-modify-write on the hot path), the names of
 * every counter (dotted paths: they are the keys of the final stats JSON and
 * of the telemetry dictionaries), aggregation on the control lcore, and the
 * packet accounting identity.
 *
 * Accounting identity: every received frame ends in exactly one final class:
 *   packets.rx == tcp + udp + icmp + other_ip + non_ip + fragment
 *                 + malformed.total + handoff_full
 * A frame is counted in packets.rx by the worker that received it and in its
 * final class by the worker that finished it (the owner, after a hand-over),
 * so the identity holds on the sum over workers, not on each one.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_common.h>

#include "ft_decode.h"
#include "ft_events.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * X-macro of scalar counters: (enum suffix, dotted JSON path, final class?).
 * Add at the end of a group; never rename a path (other tools read them).
 */
#define FT_COUNTERS(X)                                                        \
	X(RX, "packets.rx", 0)                                                \
	X(RX_BYTES, "packets.rx_bytes", 0)                                    \
	X(TCP, "packets.tcp", 1)                                              \
	X(UDP, "packets.udp", 1)                                              \
	X(ICMP, "packets.icmp", 1)                                            \
	X(OTHER_IP, "packets.other_ip", 1)                                    \
	X(NON_IP, "packets.non_ip", 1)                                        \
	X(FRAGMENT, "packets.fragment", 1)                                    \
	X(HANDOFF_FULL, "packets.handoff_full", 1)                            \
	X(TX, "packets.tx", 0)                                                \
	X(TX_FAILED, "packets.tx_failed", 0)                                  \
	X(TX_RETRIED, "packets.tx_retried", 0)                                \
	X(TCP_OPT_INVALID, "packets.tcp_opt_invalid", 0)                      \
	X(TCP_BAD_CHECKSUM, "packets.tcp_bad_checksum", 0)                    \
	X(TCP_CHECKSUM_PARTIAL, "packets.tcp_checksum_partial", 0)            \
	X(TCP_CHECKSUM_UNCHECKED, "packets.tcp_checksum_unchecked", 0)        \
	X(HANDOFF_OUT, "handoff.out", 0)                                      \
	X(HANDOFF_IN, "handoff.in", 0)                                        \
	X(HANDOFF_TX_OUT, "handoff.tx_out", 0)                                \
	X(HANDOFF_TX_IN, "handoff.tx_in", 0)                                  \
	X(FLOWS_CREATED, "flows.created", 0)                                  \
	X(FLOWS_ACTIVE, "flows.active", 0)                                    \
	X(FLOWS_TCP, "flows.tcp", 0)                                          \
	X(FLOWS_UDP, "flows.udp", 0)                                          \
	X(FLOWS_OTHER, "flows.other", 0)                                      \
	X(FLOWS_PORT_REUSE, "flows.port_reuse", 0)                            \
	X(FLOWS_EXPIRED, "flows.expired", 0)                                  \
	X(FLOWS_EVICTED, "flows.evicted", 0)                                  \
	X(FLOWS_TABLE_FULL, "flows.table_full", 0)                            \
	X(FLOWS_BUCKET_FULL, "flows.bucket_full", 0)                          \
	X(FLOWS_MIDSTREAM_SKIPPED, "flows.midstream_skipped", 0)              \
	X(FLOWS_RECORDS, "flows.records", 0)                                  \
	X(FLOWS_RECORDS_DROPPED, "flows.records_dropped", 0)                  \
	X(DEFRAG_FRAGMENTS, "defrag.fragments", 0)                            \
	X(DEFRAG_REASSEMBLED, "defrag.reassembled", 0)                        \
	X(DEFRAG_DATAGRAMS, "defrag.datagrams", 0)                            \
	X(DEFRAG_FRAGMENTS_USED, "defrag.fragments_used", 0)                  \
	X(DEFRAG_TIMEOUTS, "defrag.timeouts", 0)                              \
	X(DEFRAG_OVERLAPS, "defrag.overlaps", 0)                              \
	X(DEFRAG_OVERLAPS_DIFFERENT, "defrag.overlaps_different", 0)          \
	X(DEFRAG_TABLE_FULL, "defrag.table_full", 0)                          \
	X(DEFRAG_IN_FLIGHT, "defrag.in_flight", 0)                            \
	X(DEFRAG_HELD, "defrag.held", 0)                                      \
	X(DEFRAG_UNDECODABLE, "defrag.undecodable", 0)                        \
	X(DEFRAG_DROPPED_TIMEOUT, "defrag.dropped.timeout", 0)                \
	X(DEFRAG_DROPPED_EVICTED, "defrag.dropped.evicted", 0)                \
	X(DEFRAG_DROPPED_TOO_MANY, "defrag.dropped.too_many", 0)              \
	X(DEFRAG_DROPPED_OVERSIZE, "defrag.dropped.oversize", 0)              \
	X(DEFRAG_DROPPED_INCONSISTENT, "defrag.dropped.inconsistent", 0)      \
	X(DEFRAG_DROPPED_DEAD, "defrag.dropped.dead", 0)                      \
	X(DEFRAG_DROPPED_NO_BUFFER, "defrag.dropped.no_buffer", 0)            \
	X(DEFRAG_DROPPED_EXIT, "defrag.dropped.exit", 0)                      \
	X(EVENTS_EMITTED, "events.emitted", 0)                                \
	X(EVENTS_DROPPED, "events.dropped", 0)                                \
	X(OBSERVATIONS_DROPPED, "events.observations_dropped", 0)             \
	X(DETECT_OBSERVATIONS, "detect.observations", 0)                      \
	X(DETECT_HOSTS, "detect.hosts", 0)                                    \
	X(DETECT_HOSTS_EVICTED, "detect.hosts_evicted", 0)                    \
	X(DETECT_REORDERED_EARLY, "detect.reordered_early", 0)                \
	X(SIG_RULES, "signatures.rules", 0)                                   \
	X(SIG_FLOWS, "signatures.flows", 0)                                   \
	X(SIG_BYTES, "signatures.bytes", 0)                                   \
	X(SIG_MATCHES, "signatures.matches", 0)                               \
	X(SIG_STREAMS_FULL, "signatures.streams_full", 0)                     \
	X(SIG_GAPS, "signatures.gaps", 0)                                     \
	X(SIG_OOO_HELD, "signatures.ooo_held", 0)                             \
	X(SIG_RESCANNED, "signatures.rescanned", 0)                           \
	X(ITERATIONS, "worker.iterations", 0)                                 \
	X(BUSY_ITERATIONS, "worker.busy_iterations", 0)

/** Scalar counter ids. */
enum ft_ctr {
#define FT_CTR_ENUM(id, path, final) FT_CTR_##id,
	FT_COUNTERS(FT_CTR_ENUM)
#undef FT_CTR_ENUM
	FT_CTR_MAX
};

/** One worker's counters. Written only by that worker. */
struct ft_stats {
	uint64_t ctr[FT_CTR_MAX];
	uint64_t malformed[FT_MAL_MAX]; /**< by enum ft_malformed_reason; [0] unused */
	uint64_t anomaly[FT_EV_MAX];    /**< every occurrence, by enum ft_event_type */
} __rte_cache_aligned;

/** Dotted path of a counter, e.g. "packets.rx". */
const char *ft_ctr_path(enum ft_ctr id);

/** True when @p id is a final class of the accounting identity. */
bool ft_ctr_is_final(enum ft_ctr id);

/** Add @p n to a counter. Single writer: relaxed load and store, no RMW. */
static inline void
ft_stats_add(struct ft_stats *s, enum ft_ctr id, uint64_t n)
{
	__atomic_store_n(&s->ctr[id], s->ctr[id] + n, __ATOMIC_RELAXED);
}

/** Set a gauge (e.g. flows.active). */
static inline void
ft_stats_set(struct ft_stats *s, enum ft_ctr id, uint64_t v)
{
	__atomic_store_n(&s->ctr[id], v, __ATOMIC_RELAXED);
}

/** Count one malformed frame under its reason. */
static inline void
ft_stats_malformed(struct ft_stats *s, unsigned int reason)
{
	if (reason >= FT_MAL_MAX)
		reason = 0;
	__atomic_store_n(&s->malformed[reason], s->malformed[reason] + 1, __ATOMIC_RELAXED);
}

/** Count one anomaly occurrence. */
static inline void
ft_stats_anomaly(struct ft_stats *s, unsigned int type)
{
	if (type >= FT_EV_MAX)
		return;
	__atomic_store_n(&s->anomaly[type], s->anomaly[type] + 1, __ATOMIC_RELAXED);
}

/**
 * Sum @p n workers' blocks into @p out (relaxed loads: safe while the
 * workers run; each value is at most one burst old).
 */
void ft_stats_sum(struct ft_stats *out, struct ft_stats *const *workers, unsigned int n);

/** Total of all malformed reasons. */
uint64_t ft_stats_malformed_total(const struct ft_stats *s);

/** Sum of the final classes (the right side of the identity). */
uint64_t ft_stats_accounted(const struct ft_stats *s);

/** The accounting identity holds for @p s (a sum over all workers). */
bool ft_stats_accounting_ok(const struct ft_stats *s);

/**
 * Write the stats as nested JSON members ("packets": {...}, "flows": ...,
 * "anomalies": {...}, "accounting_ok": ...) without the enclosing braces, so
 * the caller can add its own members (ports, workers, config) around them.
 *
 * @param f      stream
 * @param s      summed counters
 * @param indent spaces before each member
 */
void ft_stats_write_json_members(FILE *f, const struct ft_stats *s, int indent);

/**
 * Called at the end of each counter group of the stats JSON, to add members
 * of its own to it (e.g. "signatures": {..., "by_rule": {...}}). Writes
 * each member as ",\n" + indentation + "\"name\": value".
 */
typedef void (*ft_stats_group_fn)(FILE *f, const char *group, int indent, void *arg);

/** ft_stats_write_json_members() with @p extra called per group (NULL: none). */
void ft_stats_write_json_members_ext(FILE *f, const struct ft_stats *s, int indent,
				     ft_stats_group_fn extra, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* FT_STATS_H */
