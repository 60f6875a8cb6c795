/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FT_DEFRAG_H
#define FT_DEFRAG_H

/**
 * @file
 * flowtap IP defragmentation (IPv4 and IPv6), one instance per worker.
 *
 * Owns: the datagrams in reassembly of one worker (an rte_hash keyed by both
 * VLAN ids, source, destination, identification, protocol (IPv4 only: IPv6
 * identifies a datagram by addresses and identification, RFC 8200 section
 * 4.5) and IP version, with a tracker per key position), the fragments it
 * holds, their expiry, overlap detection with byte comparison, the
 * target-based overlap policies, the fragment anomalies (events and
 * anomaly counters) and the defrag.* counters, and building the reassembled
 * datagram in an mbuf of its own reassembly pool.
 *
 * Why not DPDK's rte_ip_frag (checked against rte_ip_frag.h of DPDK 22.11):
 * it takes the fragments' mbufs and chains them (a monitor must forward or
 * free every frame unchanged and at once); it has no overlap detection, no
 * comparison of the overlapping bytes and no target-based policy; it
 * reports nothing (a bad or overlapping fragment is silently put on the
 * death row, NULL is returned for "incomplete" and "error" alike); its key
 * is addresses and identification only (no VLAN, so one id on two VLANs
 * would merge two datagrams); it finds the IPv6 Fragment header only right
 * after the fixed header (rte_ipv6_frag_get_ipv6_fragment_header()), so not
 * after hop-by-hop or destination options; and it holds at most
 * RTE_LIBRTE_IP_FRAG_MAX_FRAG (8) fragments per datagram, a compile-time
 * constant. So flowtap has its own, built on rte_hash and rte_mempool.
 *
 * Ownership of mbufs. The defragmenter never consumes the mbuf it is given:
 * it HOLDS a fragment by taking a reference (rte_mbuf_refcnt_update(m, 1))
 * and the caller finishes the fragment as usual (forwards or frees it). The
 * reference is released when the datagram completes, expires, is evicted or
 * dropped, and at ft_defrag_flush(). A reassembled datagram is a NEW mbuf
 * from the instance's reassembly pool (data room 65535, used from byte 0),
 * marked with the ol_flags bit given in the parameters; the caller frees it.
 *
 * Limits (all memory is allocated by ft_defrag_create(), none later):
 * max_datagrams trackers, max_fragments per datagram, max_held fragments
 * held in all, max_size bytes of reassembled IP datagram, timeout from a
 * datagram's first fragment. A datagram has one timeout, so trackers are
 * kept on a list in creation order: expiry and eviction take the head, no
 * scan. (An intrusive list, not a FIFO with lazy deletion: removal in the
 * middle is O(1) and the list can never overflow.)
 *
 * Overlap policies (Novak, "Target-Based Fragmentation Reassembly", 2005).
 * Each overlapping byte is decided between a NEW fragment N and each
 * EXISTING fragment O (arrived earlier) that covers it, on the fragments'
 * original geometry (offset and end as sent, not as trimmed): N takes the
 * byte only when it wins against every such O.
 *   first    O always wins (the first copy of a byte is kept)
 *   last     N always wins (the last copy is kept)
 *   bsd      N wins iff N.offset < O.offset
 *   linux    N wins iff N.offset <= O.offset (BSD, except that a later
 *            fragment at the same offset wins)
 *   windows  N wins iff N starts before and ends after O (N strictly covers
 *            O); else O wins
 * Modern Linux (>= 4.19) and IPv6 hosts (RFC 5722) discard a datagram with
 * overlaps instead: the policy models what the target keeps.
 *
 * Anomalies (DESIGN.md section 5), counted at every occurrence
 * (ft_stats_anomaly), emitted once per datagram per name unless
 * every_occurrence is set:
 *   frag_overlap       a fragment overlaps a held one; detail "same bytes"
 *                      or "different bytes"
 *   frag_tiny_first    offset-0 fragment of TCP shorter than 20 bytes or
 *                      than its data offset, of UDP/ICMP shorter than 8
 *   frag_oversize      data ending beyond 65535 (IPv4 total length, IPv6
 *                      payload length): the datagram is dropped
 *   frag_df_set        IPv4 DF on a fragment (kept)
 *   frag_too_many      more than max_fragments: the datagram is dropped
 *   frag_timeout       incomplete when its timeout expired
 *   frag_inconsistent  two last fragments with different ends, or data
 *                      beyond the last fragment's end (the datagram is
 *                      dropped, as a host does); reserved flag set (kept);
 *                      a non-last fragment whose length is not a multiple
 *                      of 8 (IPv6: the fragment is dropped, RFC 8200; IPv4:
 *                      its tail beyond the multiple of 8 is cut, as Linux
 *                      does); the
 *                      next protocol differs between fragments (IPv6; the
 *                      offset-0 fragment's is used)
 * A dropped datagram stays as a "dead" tracker without fragments until its
 * timeout, so that its late fragments are counted (defrag.dropped.dead)
 * rather than opening a new partial datagram.
 *
 * Counters: every fragment given to ft_defrag_add() counts in
 * defrag.fragments and ends in exactly one of defrag.fragments_used,
 * defrag.dropped.<reason> or (while held) the gauge defrag.held:
 *   fragments == fragments_used + sum(dropped.*) + held.
 *
 * Not thread-safe: one instance per worker, used only by it.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "ft_decode.h"
#include "ft_events.h"
#include "ft_stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Overlap policies (see the file comment). Names: ft_defrag_policy_name(). */
enum ft_defrag_policy {
	FT_DEFRAG_FIRST = 0,
	FT_DEFRAG_LAST,
	FT_DEFRAG_BSD,
	FT_DEFRAG_LINUX,
	FT_DEFRAG_WINDOWS,
	FT_DEFRAG_POLICY_MAX
};

/** Largest max_fragments (a fragment's arrival index fits a byte). */
#define FT_DEFRAG_MAX_FRAGMENTS 255
/** Largest IPv4 total length / IPv6 payload length. */
#define FT_DEFRAG_MAX_SIZE 65535

/** Called for each event the defragmenter emits. */
typedef void (*ft_defrag_event_fn)(void *arg, const struct ft_event *ev);

/**
 * Called when the reassembly pool is empty. Return true to try the
 * allocation again (after making progress elsewhere), false to give up (the
 * datagram is dropped: defrag.dropped.no_buffer).
 */
typedef bool (*ft_defrag_wait_fn)(void *arg);

/** Parameters of ft_defrag_create(). */
struct ft_defrag_params {
	const char *name;            /**< unique name (hash and pool names derive from it) */
	int socket;                  /**< NUMA node of all memory */
	uint32_t max_datagrams;      /**< trackers (datagrams in flight) */
	uint32_t max_fragments;      /**< fragments per datagram, <= FT_DEFRAG_MAX_FRAGMENTS */
	uint32_t max_held;           /**< fragments held in all */
	uint32_t max_size;           /**< largest reassembled datagram (v4 total / v6 payload length) */
	uint64_t timeout_ns;         /**< from a datagram's first fragment */
	enum ft_defrag_policy policy;
	bool every_occurrence;       /**< one event per occurrence, not per datagram per name */
	uint32_t reasm_mbufs;        /**< mbufs in the reassembly pool (65535 bytes each) */
	uint64_t reasm_flag;         /**< ol_flags bit set on every reassembled mbuf */
	struct ft_stats *stats;      /**< counters to update (the worker's) */
	ft_defrag_event_fn event;    /**< event sink, NULL: none */
	void *event_arg;
	ft_defrag_wait_fn wait;      /**< empty-pool callback, NULL: give up at once */
	void *wait_arg;
};

/** One worker's defragmenter. */
struct ft_defrag;

/**
 * Create a defragmenter: hash, trackers, fragment slots, scratch maps and the
 * reassembly pool, all on params->socket.
 * @return the instance, or NULL with rte_errno set
 */
struct ft_defrag *ft_defrag_create(const struct ft_defrag_params *params);

/** Free an instance (after ft_defrag_flush(): held references are released
 *  here too, counted as at exit). NULL is a no-op. */
void ft_defrag_free(struct ft_defrag *d);

/**
 * ol_flags bits copied from the completing fragment to the reassembled
 * datagram, e.g. the rx timestamp dynflag (known only once ports are set
 * up). The dynamic fields are always copied.
 */
void ft_defrag_set_copy_flags(struct ft_defrag *d, uint64_t mask);

/**
 * Give one fragment to the defragmenter.
 *
 * @param d    instance
 * @param m    the fragment's frame (never consumed: the caller finishes it)
 * @param p    its decoded metadata, p->cls == FT_CLS_FRAGMENT
 * @param now  packet time in ns (expiry of the datagrams it opens; events)
 * @return the reassembled datagram when @p m completed one (an mbuf of the
 *         reassembly pool with the reasm_flag bit set: decode it, track it,
 *         free it), else NULL
 */
struct rte_mbuf *ft_defrag_add(struct ft_defrag *d, struct rte_mbuf *m, const struct ft_pkt *p,
			       uint64_t now);

/**
 * Expire datagrams whose timeout is at or before @p now, oldest first, at
 * most @p budget of them. Incomplete ones raise frag_timeout.
 * @return trackers expired
 */
unsigned int ft_defrag_age(struct ft_defrag *d, uint64_t now, unsigned int budget);

/** Release every datagram and fragment (defrag.dropped.exit), no events. */
void ft_defrag_flush(struct ft_defrag *d);

/** Datagrams being tracked (dead ones included). */
uint32_t ft_defrag_in_flight(const struct ft_defrag *d);

/** Fragments held. */
uint32_t ft_defrag_held(const struct ft_defrag *d);

/** The reassembly pool (tests check it is full after a flush). */
struct rte_mempool *ft_defrag_pool(const struct ft_defrag *d);

/** Bytes of memory an instance with these limits allocates (pool included). */
uint64_t ft_defrag_memory(uint32_t max_datagrams, uint32_t max_held, uint32_t reasm_mbufs);

/** Name of a policy, e.g. "linux"; "unknown" when out of range. */
const char *ft_defrag_policy_name(unsigned int policy);

/** Policy by name; FT_DEFRAG_POLICY_MAX when unknown. */
unsigned int ft_defrag_policy_by_name(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* FT_DEFRAG_H */
