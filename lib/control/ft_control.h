/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FT_CONTROL_H
#define FT_CONTROL_H

/**
 * @file
 * flowtap control socket.
 *
 * Owns: the /flowtap/ commands on DPDK's telemetry socket (so
 * dpdk-telemetry.py and flowtap-ctl both work), and the socket's
 * permissions. The commands read a view of the appliance that the app fills
 * in before registering; they run on DPDK's telemetry threads and only read
 * (counters with relaxed loads), so they never stall a worker.
 *
 * Commands (each listed by /help with a one-line description):
 *   /flowtap/stats    every counter by its dotted path, plus
 *                     packets.malformed.{total,<reason>}, anomalies.<name>,
 *                     accounted, accounting_ok, uptime_s, workers, offline
 *   /flowtap/ports    one dictionary per port: name, driver, socket, queues,
 *                     peer, rx/tx/missed/nombuf counters
 *   /flowtap/workers  one dictionary per worker: lcore, socket, its
 *                     (port, queue) pairs, remote_numa, rx, handoff counters
 *   /flowtap/config   every configuration key with its current value
 *   /flowtap/defrag   the defrag.* counters summed over workers, the frag_*
 *                     anomaly counts, and the [defrag] limits and policy
 *                     (config.<key>)
 *   /flowtap/flows[,addr=A][,port=N][,state=S][,limit=N][,from=C]
 *                     TCP connections, netstat-like (answered by the workers)
 *   /flowtap/flow,A:P-B:P[,vlan=V[.V]]
 *                     one connection in full (its owning worker answers)
 *   /flowtap/anomalies  count of every anomaly name, the last event of each
 *   /flowtap/events[,N] the N most recent events (kept on the control side)
 *   /flowtap/ladder[,FILTER|off|from=C]
 *                     arm a live ladder on the workers, read it, disarm it
 *   /flowtap/signatures[,from=N]
 *                     the payload signature rules (id, msg, ports, pattern)
 *                     with their matches summed over the workers
 *
 * Queries the workers answer. A telemetry thread never touches a worker's
 * flow table: it fills a request (struct ft_ctl_request) and enqueues a
 * pointer to it on the worker's single-producer single-consumer request ring
 * (producers are serialised by a mutex here: telemetry runs one thread per
 * client). The worker looks at the ring once per loop iteration, answers a
 * little at a time between bursts (a listing walks at most a few hundred
 * flows per iteration) into the buffer the request carries, and publishes
 * completion with a release store (ft_control_request_done()). The requester
 * waits at most FT_CTL_TIMEOUT_MS and answers with an error when a worker
 * did not answer; requests live in slots owned by this library, so a late
 * answer never writes into freed memory.
 *
 * Reply sizes. DPDK 22.11 telemetry renders a reply into 16 KiB and silently
 * drops what does not fit, so every list here is cut by an estimate of its
 * rendered size as well as by its limit, and says so ("truncated": 1 and a
 * "next" cursor to continue from).
 *
 * Dotted paths are nested dictionaries on the wire: DPDK 22.11 telemetry
 * refuses '.' in key names, so "packets.rx" is {"packets": {"rx": N}} (the
 * shape of the --stats-json file) and "general.mode" is
 * {"general": {"mode": "passive"}}. Booleans are u64 0/1. flowtap-ctl
 * prints dotted keys again (tables, or --json --flat).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ring.h>

#include "ft_config.h"
#include "ft_events.h"
#include "ft_flow.h"
#include "ft_sig.h"
#include "ft_stats.h"
#include "ft_tcp.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Most rx queues one worker polls. */
#define FT_MAX_RXQ_PER_WORKER 16

/** A (port, queue) pair a worker polls. */
struct ft_rxq_ref {
	uint16_t port;
	uint16_t queue;
};

/** What the control socket shows about one worker. */
struct ft_worker_info {
	unsigned int lcore;
	int socket;                     /**< NUMA node of the lcore */
	unsigned int n_rxq;
	struct ft_rxq_ref rxq[FT_MAX_RXQ_PER_WORKER];
	bool remote_numa;               /**< polls a queue on another node */
	struct ft_stats *stats;         /**< the worker's counters */
	struct rte_ring *requests;      /**< its request ring (SPSC, pointers to
					     struct ft_ctl_request), or NULL */
	const struct ft_sig_worker *sig; /**< its signature state (per-rule matches), or NULL */
};

/** What the control socket shows about one port. */
struct ft_port_info {
	uint16_t port_id;
	char name[64];
	char driver[32];
	int socket;
	uint16_t n_rxq;
	uint16_t n_txq;
	int peer;                       /**< inline: port it forwards to, else -1 */
	bool rss;                       /**< RSS configured */
	uint64_t rss_hf;                /**< hash types in use */
};

struct rte_eth_stats;

/** Everything the commands read. Must outlive the telemetry threads. */
struct ft_control_view {
	const struct ft_config *cfg;
	const char *config_path;        /**< file loaded, or "(defaults)" */
	unsigned int n_workers;
	const struct ft_worker_info *workers;
	struct ft_stats *control_stats; /**< the control lcore's own counters (detectors), or NULL */
	unsigned int n_ports;
	const struct ft_port_info *ports;
	/** Counters of ports[index] (0 or a negative errno), or NULL for
	 *  rte_eth_stats_get(): offline, frames read without the port's
	 *  driver are the port's too. */
	int (*port_stats)(unsigned int index, struct rte_eth_stats *st);
	uint64_t start_tsc;             /**< rte_rdtsc() at start (for uptime) */
	bool offline;                   /**< reading a capture */
	bool defrag_at_entry;           /**< fragments reassembled by the worker every frame enters through */
	const struct ft_sig_set *sig;   /**< payload signature rules, or NULL */
};

/* ---- queries the workers answer ---------------------------------------- */

/** Most workers the queries address. */
#define FT_CTL_MAX_WORKERS 64
/** How long a requester waits for the workers to answer. */
#define FT_CTL_TIMEOUT_MS 1000
/** Most connections one worker copies for one /flowtap/flows page (more
 *  never fit a 16 KiB reply). */
#define FT_CTL_PAGE_FLOWS 64
/** Most ladder lines one worker copies for one /flowtap/ladder page. */
#define FT_CTL_PAGE_LINES 128
/** Ladder lines each worker keeps while a live ladder is armed (the most
 *  recent ones). */
#define FT_CTL_LADDER_LINES 4096
/** Largest limit= of /flowtap/flows (a telemetry dictionary's entries). */
#define FT_CTL_LIMIT_MAX 256
/** Default limit= of /flowtap/flows. */
#define FT_CTL_LIMIT_DEFAULT 100

/** Bits of ft_ctl_filter.has. */
#define FT_CTL_F_ADDR  0x01 /**< addr: either end has this address */
#define FT_CTL_F_PORT  0x02 /**< port: either end has this port */
#define FT_CTL_F_STATE 0x04 /**< state: either endpoint is in this RFC 793 state */
#define FT_CTL_F_CONN  0x08 /**< conn: exactly these two endpoints, in either order */
#define FT_CTL_F_VLAN  0x10 /**< vlan: the connection's VLAN ids (with conn: lookup key) */

/** Which connections a query is about. Addresses as in struct ft_pkt
 *  (IPv4 in the first 4 bytes, the rest zero). */
struct ft_ctl_filter {
	uint8_t has;                /**< FT_CTL_F_* */
	uint8_t ip_ver;             /**< of addr and conn_addr: 4 or 6 */
	uint8_t state;              /**< enum ft_tcp_state */
	uint8_t pad;
	uint16_t port;
	uint16_t conn_port[2];
	uint16_t vlan[2];           /**< outer, inner (0: none) */
	uint8_t addr[16];
	uint8_t conn_addr[2][16];
};

/**
 * One packet of a ladder: offline from a worker to the control lcore
 * (--ladder), live into a worker's ladder history (/flowtap/ladder).
 */
struct ft_ladder_line {
	uint64_t ts_ns;
	uint64_t first_ns;      /**< the connection's first packet */
	uint32_t conn_id;
	uint32_t seq, ack;
	uint32_t isn[2];        /**< orig, resp (after this packet) */
	uint16_t worker;
	uint16_t len;
	uint16_t win;
	uint16_t port[2];       /**< orig, resp */
	uint8_t dir;            /**< FT_TCP_ORIG or FT_TCP_RESP */
	uint8_t flags;          /**< FT_TCP_* */
	uint8_t ip_ver;
	uint8_t state[2];       /**< orig, resp, after this packet */
	uint8_t note;           /**< enum ft_ladder_note */
	uint8_t pad[2];
	uint8_t addr[2][16];    /**< orig, resp */
};

/** What a ladder line says beside the packet. */
enum ft_ladder_note {
	FT_LADDER_NOTE_NONE = 0,
	FT_LADDER_NOTE_BAD_CHECKSUM, /**< its TCP checksum is wrong: the receiver drops it */
	FT_LADDER_NOTE_MAX
};

/** The text of a ladder note ("" for none), as the ladder prints it. */
const char *ft_ladder_note_text(unsigned int note);

/** A worker's live ladder history: a ring of its most recent lines. The
 *  worker alone writes it; it is read only through LADDER_GET requests. */
struct ft_ctl_ladder {
	struct ft_ctl_filter filter;   /**< the worker's copy, set when armed */
	uint64_t recorded;             /**< lines recorded since armed (numbered from 0) */
	uint32_t cap;                  /**< slots in line[] */
	uint32_t pad;
	struct ft_ladder_line line[];  /**< line n is at line[n % cap] */
};

/** One connection as a worker copies it for a listing. */
struct ft_ctl_flow {
	struct ft_flow_record rec;  /**< the flow-record fields, as if it ended now */
	struct ft_tcp_conn tcp;     /**< both endpoints in full */
	uint64_t now_ns;            /**< the worker's time when it copied this */
	uint64_t expiry_ns;         /**< when it expires if it stays silent */
	uint32_t pos;               /**< listing position just after it (a cursor) */
	uint32_t conn_id;
	uint16_t worker;
	uint8_t age;                /**< ageing class: enum ft_tcp_age or ft_flow_age */
	uint8_t pad[5];
};

/** What a request asks. */
enum ft_ctl_req_kind {
	FT_CTL_REQ_FLOWS = 1, /**< list the TCP connections matching filter, from listing position `from` */
	FT_CTL_REQ_FLOW,      /**< look up the connection filter.conn_* (and filter.vlan) */
	FT_CTL_REQ_LADDER_ARM, /**< record packets matching filter into `ladder` (history restarts) */
	FT_CTL_REQ_LADDER_OFF, /**< stop recording (the history stays readable) */
	FT_CTL_REQ_LADDER_GET, /**< copy the history's lines from line number `from` on */
};

/**
 * A request to one worker. The requester fills the first part and enqueues
 * a pointer to it; the worker writes the second part and then sets done
 * with ft_control_request_done(); the requester reads the answer only after
 * seeing done (load-acquire).
 */
struct ft_ctl_request {
	/* Set by the requester. */
	uint32_t kind;                  /**< enum ft_ctl_req_kind */
	uint32_t cap;                   /**< entries out can hold */
	uint64_t from;                  /**< FLOWS: listing position; LADDER_GET: line number */
	struct ft_ctl_filter filter;
	struct ft_ctl_ladder *ladder;   /**< LADDER_ARM: the history to record into */
	union {
		struct ft_ctl_flow *flows;      /**< FLOWS, FLOW */
		struct ft_ladder_line *lines;   /**< LADDER_GET */
	} out;
	/* Written by the worker while it answers. */
	uint32_t n;                     /**< entries written to out */
	uint32_t scan;                  /**< FLOWS: the worker's listing position */
	uint64_t matched;               /**< FLOWS: connections that match (from `from` on);
					     LADDER_GET: lines recorded since armed */
	uint64_t first;                 /**< LADDER_GET: line number of out.lines[0] */
	uint8_t armed;                  /**< LADDER_GET: recording now */
	uint32_t done;                  /**< 1 once answered */
};

/** Publish a request's answer (worker side): everything written before is
 *  visible to the requester once it sees done. */
static inline void
ft_control_request_done(struct ft_ctl_request *r)
{
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
}

/**
 * Does a connection match a filter? (addr, port, state, conn; vlan is a
 * lookup key, not checked here.)
 * @param ip_ver  the connection's IP version
 * @param addr    originator and responder addresses (as in struct ft_pkt)
 * @param port    originator and responder ports
 * @param state   both endpoints' RFC 793 states, or NULL (a state filter
 *                then never matches)
 */
bool ft_control_filter_match(const struct ft_ctl_filter *flt, unsigned int ip_ver,
			     const uint8_t addr[2][16], const uint16_t port[2],
			     const uint8_t *state);

/**
 * The packet view of a connection spec (filter.conn_*, filter.vlan): the
 * fields ft_flow_key_make() reads and the decoder's symmetric hash, so a
 * worker can look it up and the requester can pick its owner.
 */
void ft_control_conn_pkt(const struct ft_ctl_filter *flt, struct ft_pkt *p);

/** Which parameters a command accepts (ft_control_parse_params()). */
#define FT_CTL_P_ADDR  0x01 /**< addr=A */
#define FT_CTL_P_PORT  0x02 /**< port=N */
#define FT_CTL_P_STATE 0x04 /**< state=NAME */
#define FT_CTL_P_LIMIT 0x08 /**< limit=N */
#define FT_CTL_P_FROM  0x10 /**< from=CURSOR (text kept as given) */
#define FT_CTL_P_CONN  0x20 /**< a bare A:P-B:P connection spec */
#define FT_CTL_P_VLAN  0x40 /**< vlan=V or vlan=OUTER.INNER */
#define FT_CTL_P_OFF   0x80 /**< the bare word off */

/** Parameters of a command, parsed. */
struct ft_ctl_params {
	struct ft_ctl_filter filter;
	unsigned int given;     /**< FT_CTL_P_* present */
	unsigned int limit;     /**< limit=, else FT_CTL_LIMIT_DEFAULT */
	char from[128];         /**< from=, "" when absent */
};

/**
 * Parse a command's parameters: comma-separated key=value items and, where
 * allowed, a bare connection spec ADDR:PORT-ADDR:PORT (IPv6 addresses in
 * brackets) or the word "off".
 * @param params  the text after the command's comma (NULL or "" for none)
 * @param allowed FT_CTL_P_* the command accepts
 * @param err     filled with one line saying what is wrong
 * @return 0, or -1 with @p err set
 */
int ft_control_parse_params(const char *params, unsigned int allowed, struct ft_ctl_params *out,
			    char *err, size_t errlen);

/**
 * Keep an event for /flowtap/events and /flowtap/anomalies (control lcore,
 * as it drains the event rings). Takes a mutex the telemetry threads share;
 * never called on a worker.
 */
void ft_control_event_record(const struct ft_event *ev);

/**
 * Stop answering queries that need the workers (call before the workers
 * leave their loop): waits for a query in progress, then every later one
 * gets an error reply.
 */
void ft_control_stop_queries(void);

/**
 * Free what the queries and the recent events use (call after the workers
 * have exited). Telemetry commands still answer, with an error for queries.
 */
void ft_control_release(void);

/**
 * Register the /flowtap/ commands, and allocate the request slots of the
 * workers' rings (view->workers[i].requests) and the recent-events buffer
 * (view->cfg->recent_events).
 * @param view the appliance (kept by pointer)
 * @return 0, or a negative errno
 */
int ft_control_register(const struct ft_control_view *view);

/**
 * Restrict the telemetry socket of this process to @p mode (e.g. 0600).
 * Call after rte_eal_init().
 * @return 0, or a negative errno (the socket missing is -ENOENT)
 */
int ft_control_secure_socket(unsigned int mode);

/**
 * Fill a flat dictionary of the summed counters (helper shared by
 * /flowtap/stats and tests).
 * @param d  an rte_tel_data (void * so this header does not need telemetry's)
 */
void ft_control_stats_dict(const struct ft_control_view *view, void *d);

#ifdef __cplusplus
}
#endif

#endif /* FT_CONTROL_H */
