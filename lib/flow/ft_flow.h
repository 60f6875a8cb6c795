/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FT_FLOW_H
#define FT_FLOW_H

/**
 * @file
 * flowtap flow table.
 *
 * Owns: the flow key (VLANs, addresses, ports, protocol; both directions of a
 * flow build the same key), one worker's table of flows (rte_hash with the
 * decoder's symmetric hash as signature, bulk lookups over a burst; entries
 * in an array indexed by the hash's key position, so the table is the pool:
 * preallocated, bounded, no allocation per flow), ageing by a timer wheel
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
#include <stdint.h>
#include <stdio.h>

#include "ft_decode.h"
#include "ft_tcp.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Flow key: canonical order, the lower (address, port) endpoint is side 0. */
struct ft_flow_key {
	uint8_t addr[2][16];  /**< IPv4 in the first 4 bytes, the rest zero */
	uint16_t port[2];     /**< host order; 0 for protocols without ports */
	uint32_t vlan_proto;  /**< outer VLAN (12 bits) | inner VLAN << 12 | protocol << 24 */
	uint8_t ip_ver;       /**< 4 or 6: an IPv6 address never equals an IPv4 one */
	uint8_t pad[7];       /**< zero: 48 bytes, a size rte_hash compares fast */
};

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

/** One flow. Written only by its owner worker. */
struct ft_flow {
	uint32_t wheel_next, wheel_prev;   /**< timer wheel slot list */
	uint32_t embryo_next, embryo_prev; /**< embryonic FIFO */
	uint64_t first_ns, last_ns;        /**< first and last packet time */
	uint32_t conn_id;                  /**< unique in the worker (segment cache key) */
	uint32_t sig;                      /**< hash signature (for deletion) */
	uint8_t orig_side;                 /**< key side of the originator */
	uint8_t age;                       /**< enum ft_tcp_age or ft_flow_age */
	uint8_t fflags;                    /**< FT_FLOW_F_* */
	uint8_t ip_ver;
	uint8_t n_vlan;
	uint16_t wheel_slot;               /**< slot it is filed in */
	uint8_t pad;
	uint32_t sig_slot;                 /**< payload signature state (ft_sig.h): FT_SIG_NONE,
					        FT_SIG_OFF or a slot of the worker's ft_sig_worker;
					        fits the padding before tcp */
	struct ft_tcp_conn tcp;
};

/** Creation parameters. */
struct ft_flow_table_params {
	const char *name;                    /**< unique name (rte_hash) */
	uint32_t max_flows;                  /**< entries, >= 8 */
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

/** Bytes the table allocated (hash, keys, entries), for memory reports. */
uint64_t ft_flow_table_memory(const struct ft_flow_table *t);

/**
 * Look up to 64 keys at once (rte_hash bulk lookup with the given
 * signatures), prefetching the entries found.
 * @param out  out[i] is the flow of keys[i], or NULL
 */
void ft_flow_lookup_bulk(struct ft_flow_table *t, const struct ft_flow_key **keys,
			 const uint32_t *sigs, unsigned int n, struct ft_flow **out);

/** Look one key up. @return the flow or NULL. */
struct ft_flow *ft_flow_lookup(struct ft_flow_table *t, const struct ft_flow_key *k, uint32_t sig);

/**
 * Insert a new flow, zeroed but for its bookkeeping, filed on the wheel by
 * ageing class @p age and, when @p embryonic, at the tail of the embryonic FIFO.
 * @return the flow, or NULL when the table is full
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

/** Remove a flow (off the wheel, out of the FIFO, key freed). */
void ft_flow_remove(struct ft_flow_table *t, struct ft_flow *f);

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

/** Call @p fn for every flow (e.g. at exit); FT_FLOW_FREE removes it. */
void ft_flow_foreach(struct ft_flow_table *t, ft_flow_expire_fn fn, void *arg);

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
 * a time between bursts: the position stays valid while the table changes,
 * but a flow inserted or removed meanwhile may be missed, and one the hash
 * moved to another bucket may be seen twice. Read-only; skips empty slots
 * of the hash's buckets (8 bytes each) without touching the entries.
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
