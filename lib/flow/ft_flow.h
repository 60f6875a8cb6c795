/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FT_FLOW_H
#define FT_FLOW_H

/**
 * @file
 * flowtap flow table.
 *
 * Owns: the flow key (VLANs, addresses, ports, protocol; both directions of a
 * flow build the same key), one worker's table of flows (its own cuckoo hash
 * table, not rte_hash: see ft_flow.c for why; the decoder's symmetric hash is
 * the signature, bulk lookups over a burst are staged and prefetched; the key
 * lives in the entry, entries are one preallocated array that is the pool:
 * bounded, no allocation per flow), ageing by a timer wheel
 * (Retina's way: a flow is filed once and re-filed only when its timer fires
 * and it turns out to have been busy, so a packet costs one store), the FIFO
 * of embryonic flows that a full table evicts from, and the flow record
 * written when a TCP connection ends.
 *
 * One table per worker, touched only by that worker: no locks. Time is in
 * nanoseconds (capture time offline, TSC-derived live); the wheel ticks every
 * 2^30 ns (about 1.07 s) so no division is needed.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ft_decode.h"
#include "ft_tcp.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Flow key, 40 bytes: canonical order, the lower (address, port) endpoint is
 * side 0 (addresses compared as the decoder gives them: IPv4 in the first 4
 * bytes, zeros after).
 *
 * An IPv6 key holds both addresses as they are, so addr[0] <= addr[1]
 * (memcmp). An IPv4 key holds 12 bytes 0xff then side 0's address in addr[0],
 * 12 bytes 0x00 then side 1's in addr[1]: addr[0] > addr[1], which no IPv6 key
 * has, so the two families never share a key without spending a byte on the
 * IP version (ft_flow_key_ip_ver() tells them apart).
 */
struct ft_flow_key {
	uint8_t addr[2][16];  /**< see above; ft_flow_endpoints() gives them back plainly */
	uint16_t port[2];     /**< host order; 0 for protocols without ports */
	uint32_t vlan_proto;  /**< outer VLAN (12 bits) | inner VLAN << 12 | protocol << 24 */
};

/** IP version of a key (4 or 6), from its address order. */
static inline unsigned int
ft_flow_key_ip_ver(const struct ft_flow_key *k)
{
	return k->addr[0][0] > k->addr[1][0] ? 4 : 6;
}

/** Ageing classes: TCP's (enum ft_tcp_age) then these. */
enum ft_flow_age {
	FT_FLOW_AGE_LINGER = FT_AGE_MAX, /**< finished, record not yet written */
	FT_FLOW_AGE_UDP,
	FT_FLOW_AGE_OTHER,
	FT_FLOW_AGE_MAX
};

/** Bits of ft_flow.fflags. */
#define FT_FLOW_F_TCP         0x01 /**< tcp is tracked */
#define FT_FLOW_F_RECORD_DONE 0x02 /**< its flow record was written */
#define FT_FLOW_F_EMBRYO      0x04 /**< in the embryonic FIFO */
#define FT_FLOW_F_LADDER      0x08 /**< its packets are printed (--ladder) */
#define FT_FLOW_F_REPLIED     0x10 /**< both sides sent (non-TCP flows) */
#define FT_FLOW_F_LIVE        0x80 /**< the entry holds a flow */

/**
 * One flow, an entry of its table. Written only by its owner worker.
 *
 * Three whole cache lines (entries are line-aligned): the first holds what a
 * packet reads or writes besides the TCP state (the key, compared by the
 * lookup, the last packet time, the flags and ids), the other two the TCP
 * state; a packet touches these three lines and no other. What only
 * insertion, ageing and removal touch (the timer wheel's and the embryonic
 * FIFO's links, the first packet time) lives apart, in the table's
 * parallel array (ft_flow_first_ns()).
 */
struct ft_flow {
	struct ft_flow_key key;            /**< its key (ft_flow_key_of()) */
	uint64_t last_ns;                  /**< last packet time */
	uint32_t conn_id;                  /**< unique in the worker (segment cache key) */
	uint32_t sig;                      /**< hash signature: finds its bucket slot on removal */
	uint32_t sig_slot;                 /**< payload signature state (ft_sig.h): FT_SIG_NONE,
					        FT_SIG_OFF or a slot of the worker's ft_sig_worker */
	uint8_t orig_side;                 /**< key side of the originator */
	uint8_t age;                       /**< enum ft_tcp_age or ft_flow_age */
	uint8_t fflags;                    /**< FT_FLOW_F_* */
	uint8_t ip_ver : 4;                /**< 4 or 6 */
	uint8_t n_vlan : 4;                /**< VLAN tags, 0 to 2 */
	struct ft_tcp_conn tcp;
};

_Static_assert(offsetof(struct ft_flow, tcp) == 64 && sizeof(struct ft_flow) == 192,
	       "struct ft_flow must stay three cache lines: the key line, then the TCP state");

/** Creation parameters. */
struct ft_flow_table_params {
	const char *name;                    /**< name of its allocations */
	uint32_t max_flows;                  /**< entries, 8 to 2^31 (fewer count as 8) */
	int socket;                          /**< NUMA node */
	uint32_t timeout_s[FT_FLOW_AGE_MAX]; /**< seconds per ageing class */
};

struct ft_flow_table;

/** Build a packet's key. @return the key side that sent the packet (0 or 1). */
unsigned int ft_flow_key_make(const struct ft_pkt *p, struct ft_flow_key *k);

/**
 * Create a table. @return it, or NULL (rte_errno set) when memory is short.
 */
struct ft_flow_table *ft_flow_table_create(const struct ft_flow_table_params *prm);

/** Free a table (NULL is ignored). Flows in it are dropped silently. */
void ft_flow_table_free(struct ft_flow_table *t);

/** Flows in the table now. */
uint32_t ft_flow_count(const struct ft_flow_table *t);

/** Capacity of the table. */
uint32_t ft_flow_capacity(const struct ft_flow_table *t);

/** Bytes the table allocated (its header and stash, buckets, entries), for memory reports. */
uint64_t ft_flow_table_memory(const struct ft_flow_table *t);

/** Cuckoo moves made so far (for tests and benchmarks: a sign of the load). */
uint64_t ft_flow_moves(const struct ft_flow_table *t);

/** Flows in the stash now (for tests: their buckets were full). */
uint32_t ft_flow_stashed(const struct ft_flow_table *t);

/**
 * Look up n keys at once with their signatures (the decoder's p->hash),
 * staged over the burst so that the cache misses overlap: both buckets of
 * every key are prefetched, then the entries whose signature matches, then
 * keys are compared; the flows found are prefetched for the caller.
 * @param out  out[i] is the flow of keys[i], or NULL
 */
void ft_flow_lookup_bulk(struct ft_flow_table *t, const struct ft_flow_key **keys,
			 const uint32_t *sigs, unsigned int n, struct ft_flow **out);

/**
 * Prefetch the bucket (and spill count) a key of signature @p sig is looked
 * up in first: a hint for a packet whose lookup comes later in its burst, so
 * that the bucket's line arrives while the rest of the burst is decoded
 * rather than being waited for by ft_flow_lookup_bulk(). No effect on the
 * table.
 */
void ft_flow_prefetch_sig(const struct ft_flow_table *t, uint32_t sig);

/** Look one key up. @return the flow or NULL. */
struct ft_flow *ft_flow_lookup(struct ft_flow_table *t, const struct ft_flow_key *k, uint32_t sig);

/**
 * Insert a new flow (its key must not be in the table: look it up first),
 * zeroed but for its key and bookkeeping, filed on the wheel by ageing class
 * @p age and, when @p embryonic, at the tail of the embryonic FIFO.
 * @return the flow, or NULL with rte_errno ENOSPC when all max_flows entries
 *   are in use (removing a flow makes room), or ENOBUFS when both buckets of
 *   the signature and the stash are full (a flood of colliding hashes:
 *   removing some other flow does not help)
 */
struct ft_flow *ft_flow_insert(struct ft_flow_table *t, const struct ft_flow_key *k,
			       uint32_t sig, uint64_t now_ns, uint8_t age, bool embryonic);

/**
 * Change a flow's ageing class. A shorter timeout re-files it now (the wheel
 * only re-checks a flow when its slot comes round); a longer one costs nothing.
 */
void ft_flow_set_age(struct ft_flow_table *t, struct ft_flow *f, uint8_t age);

/**
 * Start a new connection in an existing entry (port reuse): times, flags and
 * connection id start afresh; it re-enters the embryonic FIFO when asked.
 */
void ft_flow_renew(struct ft_flow_table *t, struct ft_flow *f, uint64_t now_ns, bool embryonic);

/** Take a flow out of the embryonic FIFO (its handshake completed). */
void ft_flow_embryo_leave(struct ft_flow_table *t, struct ft_flow *f);

/** The oldest flow still in the embryonic FIFO, or NULL. */
struct ft_flow *ft_flow_oldest_embryo(struct ft_flow_table *t);

/**
 * Prefetch what removing the oldest embryonic flows will touch: call after
 * evicting one, when the next packet may evict the next (a SYN flood into a
 * full table). No effect on the table.
 */
void ft_flow_embryo_prefetch(const struct ft_flow_table *t);

/** Remove a flow (off the wheel, out of the FIFO, out of its bucket, entry freed). */
void ft_flow_remove(struct ft_flow_table *t, struct ft_flow *f);

/** Time of a flow's first packet (of its current connection, after a port reuse), in ns. */
uint64_t ft_flow_first_ns(const struct ft_flow_table *t, const struct ft_flow *f);

/** The key of a flow in the table. */
const struct ft_flow_key *ft_flow_key_of(const struct ft_flow_table *t, const struct ft_flow *f);

/** What an expiry callback decides. */
enum ft_flow_expiry {
	FT_FLOW_KEEP = 0, /**< keep it (the callback changed f->age): re-filed */
	FT_FLOW_FREE,     /**< remove it */
};

/** Called for each flow whose timeout passed. */
typedef enum ft_flow_expiry (*ft_flow_expire_fn)(struct ft_flow *f, void *arg);

/**
 * Advance the wheel to @p now_ns, calling @p fn for flows silent longer than
 * their class's timeout. Does at most @p budget flows' work per call (the
 * rest waits for the next call), so a burst of expiries cannot stall rx.
 * @return flows expired
 */
unsigned int ft_flow_age(struct ft_flow_table *t, uint64_t now_ns, unsigned int budget,
			 ft_flow_expire_fn fn, void *arg);

/**
 * Call @p fn for every flow, in entry order (a sequential walk: no chasing
 * of list links through memory); FT_FLOW_FREE removes it.
 */
void ft_flow_foreach(struct ft_flow_table *t, ft_flow_expire_fn fn, void *arg);

/**
 * Hand every flow to @p fn, in entry order, then empty the table at once:
 * the exit path, where a million removals one by one would each miss the
 * cache on their bucket and wheel neighbours. What fn returns is ignored.
 * @return the flows handed over
 */
uint32_t ft_flow_flush(struct ft_flow_table *t, ft_flow_expire_fn fn, void *arg);

/** Index of a flow in its table (stable while it lives). */
uint32_t ft_flow_index(const struct ft_flow_table *t, const struct ft_flow *f);

/** The flow at @p index, or NULL when none lives there. */
struct ft_flow *ft_flow_at(struct ft_flow_table *t, uint32_t index);

/* ------------------------------------------------------------------------ */

/**
 * A flow record (DESIGN.md section 4), as it travels from a worker to the
 * control lcore through its record ring: fixed size, copied by value.
 * Index 0 is the originator, 1 the responder.
 */
struct ft_flow_record {
	uint64_t first_ns, last_ns;
	uint64_t bytes[2];      /**< payload bytes by sequence numbers */
	uint64_t ip_bytes[2];
	uint32_t pkts[2];
	uint32_t isn[2];
	uint32_t anomalies;     /**< bit per enum ft_event_type */
	uint16_t port[2];
	uint16_t vlan[2];
	uint8_t addr[2][16];
	uint8_t ip_ver;
	uint8_t n_vlan;
	uint8_t state[2];       /**< enum ft_tcp_state */
	uint8_t end;            /**< enum ft_tcp_end */
	uint8_t has_isn;        /**< bit 0 orig, bit 1 resp */
	char conn_state[8];
	char history[FT_TCP_HISTORY_LEN];
	uint8_t pad[2];
};

/** Fill a record from a TCP flow that ends now for reason @p end. */
void ft_flow_record_fill(struct ft_flow_record *rec, const struct ft_flow_table *t,
			 const struct ft_flow *f, enum ft_tcp_end end);

/**
 * Write a record as one JSON line.
 * @return 0, or -1 on a write error
 */
int ft_flow_record_write_json(FILE *out, const struct ft_flow_record *rec);

/** Originator and responder address/port of a flow, from its key. */
void ft_flow_endpoints(const struct ft_flow_table *t, const struct ft_flow *f,
		       uint8_t addr[2][16], uint16_t port[2]);

/**
 * The next flow from listing position @p *pos (start at 0), or NULL at the
 * end; *pos moves past the flow returned. For listings answered a little at
 * a time between bursts: the position (an entry index) stays valid while the
 * table changes, but a flow inserted or removed meanwhile may be missed.
 * Read-only; walks the entries ever used, skipping free ones.
 */
struct ft_flow *ft_flow_iterate(struct ft_flow_table *t, uint32_t *pos);

/**
 * When a flow expires if it stays silent: its last packet time plus the
 * timeout of its ageing class, in ns (the wheel acts within one tick,
 * about 1.07 s, after it).
 */
uint64_t ft_flow_expiry_ns(const struct ft_flow_table *t, const struct ft_flow *f);

#ifdef __cplusplus
}
#endif

#endif /* FT_FLOW_H */
