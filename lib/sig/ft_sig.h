/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FT_SIG_H
#define FT_SIG_H

/**
 * @file
 * flowtap payload signatures.
 *
 * Owns: the rules file (parsing, with "FILE:LINE: reason" errors), the one
 * Hyperscan database compiled from it at start-up (streaming mode), the map
 * of TCP ports some rule names, and each worker's matching state: a Hyperscan
 * scratch, a stream per direction of every flow whose ports a rule names,
 * the bytes held out of order until a gap fills, the rules each flow already
 * matched, and per-rule match counts.
 *
 * Rules file: one rule per line, fields separated by blanks,
 *     ID PORTS /PATTERN/FLAGS "MESSAGE"
 * ID a positive integer (unique), PORTS "any" or a comma list of TCP ports
 * (1-65535) matched against either end, PATTERN a Hyperscan (PCRE-like)
 * expression ending at the first '/' not escaped by '\' (write \/ for a
 * slash), FLAGS any of i (caseless), m (multi-line), s (dot matches
 * newline), MESSAGE at most FT_SIG_MSG_LEN - 1 bytes (\" and \\ escape).
 * '#' starts a comment where a field may start; blank lines are ignored; a
 * file without rules is valid (nothing is matched).
 *
 * Stream order. Each direction of a flow is scanned as the byte stream the
 * receiver assembles: from ISN + 1 when the SYN was seen, else from the
 * first payload byte seen (mid-stream). Bytes below the next expected
 * sequence number are trimmed (a retransmission is never scanned twice);
 * a segment above it is held, up to a per-direction byte limit and the
 * worker's chunk pool, until the gap fills. When a hold does not fit the gap
 * is given up: counted (signatures.gaps), what is held is scanned in order
 * from there and the stream goes on (a pattern may then match across the
 * hole). Sequence numbers compare modulo 2^32.
 *
 * Memory. Everything a worker uses is allocated by ft_sig_worker_create():
 * flow slots (one per stream), stream state blocks of hs_stream_size() bytes
 * (Hyperscan allocates streams through hs_set_stream_allocator(), which this
 * library points at the calling worker's free list), out-of-order chunks and
 * the per-rule counts. Nothing is allocated while matching; when a pool is
 * empty the flow or direction is not matched and signatures.streams_full
 * says so.
 *
 * One ft_sig_worker per worker lcore, used only by it: no locks. The rule
 * set is read-only after ft_sig_load() and shared by every worker.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ft_stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Bytes of a rule's message, NUL included: what an event's detail holds. */
#define FT_SIG_MSG_LEN FT_EVENT_DETAIL_LEN

/** ft_flow.sig_slot: no signature state yet (a new flow). */
#define FT_SIG_NONE 0u
/** ft_flow.sig_slot: decided, never matched (no rule names its ports, the
 *  pool was full, or its streams are closed). */
#define FT_SIG_OFF UINT32_MAX

/** Payload bytes one out-of-order chunk holds. */
#define FT_SIG_CHUNK_DATA 496

/** One rule, as read from the rules file. */
struct ft_sig_rule {
	uint32_t id;              /**< the rule's ID */
	uint32_t line;            /**< line in the rules file */
	uint32_t hs_flags;        /**< HS_FLAG_* compiled with */
	bool any_port;            /**< PORTS was "any" */
	uint16_t n_ports;
	uint16_t *ports;          /**< sorted, unique */
	char *pattern;            /**< as written between the slashes */
	char flags[4];            /**< as written after the pattern ("i", "ms", ...) */
	char msg[FT_SIG_MSG_LEN]; /**< the message */
};

struct ft_sig_set;
struct ft_sig_worker;

/**
 * Read and compile a rules file.
 *
 * @param path         rules file
 * @param every_match  report every match (compile without HS_FLAG_SINGLEMATCH);
 *                     false: once per stream per rule, deduplicated per flow
 * @param out          the rule set (also when it has no rules)
 * @param err          filled with one line on error: "FILE:LINE: reason"
 *                     for a bad rule (unparseable, duplicate ID, a pattern
 *                     Hyperscan rejects), "FILE: reason" otherwise
 * @return 0, or -1 with @p err set
 */
int ft_sig_load(const char *path, bool every_match, struct ft_sig_set **out, char *err,
		size_t errlen);

/** Free a rule set (NULL is ignored). Its workers must be freed first. */
void ft_sig_set_free(struct ft_sig_set *s);

/** Rules in a set. */
unsigned int ft_sig_rule_count(const struct ft_sig_set *s);

/** Rule @p i (0 .. count-1) of a set, in file order. */
const struct ft_sig_rule *ft_sig_rule_at(const struct ft_sig_set *s, unsigned int i);

/**
 * Format a rule's ports as written in a rules file ("any" or "25,587"),
 * cut with "..." when longer than @p len.
 * @return buf
 */
char *ft_sig_rule_ports(const struct ft_sig_rule *r, char *buf, size_t len);

/**
 * Does some rule name either port (or is there an "any" rule)? One bit test
 * in a 65536-bit map. False for a set without rules.
 */
bool ft_sig_port_wanted(const struct ft_sig_set *s, uint16_t a, uint16_t b);

/** Bytes of one stream's state (hs_stream_size()); 0 without rules. */
size_t ft_sig_stream_size(const struct ft_sig_set *s);

/** Sizes of one worker's pools. */
struct ft_sig_worker_params {
	uint32_t streams;        /**< streams (and flows with signature state) at most */
	uint32_t ooo_bytes;      /**< bytes held out of order per direction at most */
	uint32_t ooo_chunks;     /**< out-of-order chunks (FT_SIG_CHUNK_DATA bytes each) */
	int socket;              /**< NUMA node of the pools */
	struct ft_stats *stats;  /**< the worker's counters (signatures.*) */
};

/** Bytes ft_sig_worker_create() takes from DPDK memory for @p prm. */
uint64_t ft_sig_worker_memory(const struct ft_sig_set *s, const struct ft_sig_worker_params *prm);

/**
 * Create one worker's matching state (call at start-up, on any lcore): the
 * pools of @p prm, a clone of the set's scratch.
 * @return it, or NULL (rte_errno set) for a set without rules or when
 *         memory is short
 */
struct ft_sig_worker *ft_sig_worker_create(const struct ft_sig_set *s,
					   const struct ft_sig_worker_params *prm);

/** Free a worker's state (NULL is ignored). Open streams are dropped. */
void ft_sig_worker_free(struct ft_sig_worker *w);

/** Matches of rule @p i this worker reported (relaxed load: any lcore). */
uint64_t ft_sig_worker_rule_matches(const struct ft_sig_worker *w, unsigned int i);

/** Streams open now on this worker (relaxed load: any lcore). */
uint32_t ft_sig_worker_streams_open(const struct ft_sig_worker *w);

/**
 * Take a flow slot for a connection between ports @p a and @p b (call only
 * when ft_sig_port_wanted()). Counts signatures.flows, or
 * signatures.streams_full when the pool is empty.
 * @return the slot handle for ft_flow.sig_slot, or FT_SIG_OFF
 */
uint32_t ft_sig_flow_open(struct ft_sig_worker *w, uint16_t a, uint16_t b);

/** A match, as reported to the caller. */
struct ft_sig_match {
	const struct ft_sig_rule *rule;
	unsigned int rule_idx;   /**< index in the set */
	unsigned int dir;        /**< direction whose stream matched (0 or 1) */
	uint64_t end;            /**< stream offset just after the match */
};

/** Called for each match reported (per flow per rule unless every_match). */
typedef void (*ft_sig_match_fn)(void *arg, const struct ft_sig_match *m);

/** One TCP segment's payload, for ft_sig_flow_feed(). */
struct ft_sig_segment {
	uint32_t seq;            /**< sequence number of the first payload byte */
	uint32_t len;            /**< payload bytes on the wire */
	uint32_t caplen;         /**< of them, captured at @p data (<= len) */
	const uint8_t *data;
	bool isn_known;          /**< the sender's SYN was seen: its stream starts at isn + 1 */
	uint32_t isn;
};

/**
 * Feed one segment of direction @p dir (0 or 1) of flow @p slot: its stream
 * is opened on its first segment, in-order bytes are scanned at once, bytes
 * already scanned are trimmed, bytes above the next expected one are held.
 * A segment cut by the capture (caplen < len) is a gap (counted).
 */
void ft_sig_flow_feed(struct ft_sig_worker *w, uint32_t slot, unsigned int dir,
		      const struct ft_sig_segment *seg, ft_sig_match_fn fn, void *arg);

/**
 * The receiver of direction @p dir did not take the bytes from @p seq on,
 * though they were scanned: a server that refuses the data of a TCP Fast
 * Open SYN (RFC 7413: a bogus or stale cookie) acknowledges the SYN alone,
 * and the client sends those bytes again, or, inserting, other bytes at the
 * same sequence numbers. Bytes from @p seq on are scanned again as they
 * come. What was scanned stays in the stream (Hyperscan cannot take bytes
 * back), so a pattern may match across the two: a false match there is
 * better than a missed one. No effect when no byte from @p seq on was
 * scanned, or the direction has no stream.
 */
void ft_sig_flow_unscan(struct ft_sig_worker *w, uint32_t slot, unsigned int dir, uint32_t seq);

/**
 * Close a flow's streams: what is still held is scanned (its gaps counted),
 * then hs_close_stream() (which reports end-anchored matches); the slot and
 * its streams go back to the pools. @p slot FT_SIG_NONE or FT_SIG_OFF is
 * ignored.
 */
void ft_sig_flow_close(struct ft_sig_worker *w, uint32_t slot, ft_sig_match_fn fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* FT_SIG_H */
