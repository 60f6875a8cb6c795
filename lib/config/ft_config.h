/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FT_CONFIG_H
#define FT_CONFIG_H

/**
 * @file
 * flowtap configuration.
 *
 * Owns: the configuration record, every key's section, name, type, bounds
 * and default (one table: the parser, the overrides, the /flowtap/config
 * dump and config/flowtap.conf all follow it), loading an INI file with
 * rte_cfgfile, and command-line overrides.
 *
 * Errors are one line that names the file (or "command line"), the section
 * and key, and what is wrong, e.g.
 *   "flowtap.conf: [ports] rx_desc: 'abc' is not a number"
 * and nothing is half-applied that the caller would start with: on error the
 * caller exits.
 *
 * Works before rte_eal_init() (rte_cfgfile needs no EAL).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest path or string value. */
#define FT_CONFIG_STR_LEN 256

/** How flowtap treats the traffic it receives. */
enum ft_mode {
	FT_MODE_PASSIVE = 0, /**< receive, track, free (tap, SPAN, splitter) */
	FT_MODE_INLINE,      /**< bump in the wire: forward to the paired port */
};

/** Which checksums flowtap verifies before it takes a packet as a host would. */
enum ft_checksums {
	FT_CSUMS_AUTO = 0, /**< verify; a TCP checksum holding only the pseudo-header sum
			        (a capture taken on a host with offload or GRO) is taken from a
			        capture or a virtual port, not from a physical one */
	FT_CSUMS_STRICT,   /**< verify; such a partial checksum is a bad one */
	FT_CSUMS_OFF,      /**< take every packet (flowtap before 0.4.9) */
};

/** The whole configuration. Defaults in ft_config_defaults(). */
struct ft_config {
	/* [general] */
	enum ft_mode mode;                 /**< mode = passive|inline */
	uint32_t status_interval;          /**< status_interval: s between stderr status lines, 0 off */
	enum ft_checksums checksums;       /**< checksums = auto|strict|off */

	/* [ports] */
	uint32_t rx_desc;                  /**< rx_desc: descriptors per rx queue */
	uint32_t tx_desc;                  /**< tx_desc: descriptors per tx queue */
	uint32_t mbufs;                    /**< mbufs: mbufs per NUMA node pool */
	uint32_t mbuf_cache;               /**< mbuf_cache: per-lcore mempool cache */
	uint32_t mbuf_size;                /**< mbuf_size: data room of one mbuf */
	bool promiscuous;                  /**< promiscuous = yes|no */
	bool rss;                          /**< rss = yes|no: spread over queues by RSS */
	uint32_t rx_queues;                /**< rx_queues: per port, 0 = one per worker */
	uint32_t tx_queues;                /**< tx_queues: per port (inline), 0 = one per worker */
	uint32_t tx_retry_us;              /**< tx_retry_us: inline, how long a full tx queue is retried */
	char pairs[FT_CONFIG_STR_LEN];     /**< pairs: inline port pairs "0-1,2-3" or "auto" */

	/* [workers] */
	uint32_t handoff_ring;             /**< handoff_ring: slots of each worker-to-worker ring */
	uint32_t burst;                    /**< burst: rx burst size (<= 64) */

	/* [events] */
	uint32_t event_ring;               /**< ring: slots of each worker's event ring */
	uint32_t recent_events;            /**< recent: events kept for /flowtap/events */
	bool every_occurrence;             /**< every_occurrence: one event per occurrence, not per flow per name */

	/* [flows] */
	uint32_t flows_max;                /**< max: flow entries per worker */
	uint32_t timeout_embryonic;        /**< timeout_embryonic: s in the handshake */
	uint32_t timeout_established;      /**< timeout_established: s of silence, established */
	uint32_t timeout_closing;          /**< timeout_closing: s of silence while closing */
	uint32_t msl;                      /**< msl: s; TIME_WAIT lasts 2 MSL */
	uint32_t timeout_closed;           /**< timeout_closed: s a closed connection is kept */
	uint32_t timeout_udp;              /**< timeout_udp: s of silence, UDP */
	uint32_t timeout_other;            /**< timeout_other: s of silence, ICMP and other IP */
	uint32_t close_linger;             /**< close_linger: s after a close before the record */
	uint32_t record_ring;              /**< record_ring: slots of each worker's record ring */

	/* [tcp] */
	bool midstream;                    /**< midstream: track connections picked up mid-stream */
	uint32_t segment_cache;            /**< segment_cache: recent segments per worker */

	/* [defrag] */
	uint32_t defrag_max_datagrams;     /**< max_datagrams: datagrams in reassembly per worker */
	uint32_t defrag_max_fragments;     /**< max_fragments: fragments per datagram */
	uint32_t defrag_max_held;          /**< max_held: fragments held per worker */
	uint32_t defrag_max_size;          /**< max_size: largest reassembled datagram, bytes */
	uint32_t defrag_timeout;           /**< timeout: s from a datagram's first fragment */
	uint32_t defrag_policy;            /**< policy: enum ft_defrag_policy (first|last|bsd|linux|windows) */

	/* [detect] */
	uint32_t detect_max_hosts;         /**< max_hosts: hosts the detectors follow */
	uint32_t isn_samples;              /**< isn_samples: ISNs per server judged */
	uint32_t syn_flood_rate;           /**< syn_flood_rate: half-open/s per destination */
	uint32_t observe_ring;             /**< observe_ring: slots of each observation ring */
	uint32_t detect_reorder;           /**< reorder: observations held for ordering (offline) */

	/* [signatures] */
	char sig_rules[FT_CONFIG_STR_LEN];  /**< rules: rules file, "" none (--signatures) */
	uint32_t sig_streams;              /**< streams: streams (and matched flows) per worker */
	uint32_t sig_ooo_bytes;            /**< ooo_bytes: bytes held out of order per direction */
	uint32_t sig_ooo_chunks;           /**< ooo_chunks: out-of-order chunks per worker */
	bool sig_every_match;              /**< every_match: every match, not once per flow per rule */

	/* [output] */
	char stats_json[FT_CONFIG_STR_LEN]; /**< stats_json: path, "-" stdout, "" none */
	char events[FT_CONFIG_STR_LEN];     /**< events: path, "-" stdout, "" none */
	char flow_log[FT_CONFIG_STR_LEN];   /**< flow_log: path, "-" stdout, "" none */

	/* [control] */
	bool telemetry;                    /**< telemetry = yes|no: register /flowtap/ commands */
	uint32_t socket_mode;              /**< socket_mode: octal permissions of the telemetry socket */
};

/** Fill @p c with the documented defaults. */
void ft_config_defaults(struct ft_config *c);

/**
 * Load an INI file over @p c. Unknown sections and keys are errors.
 *
 * @param c      configuration, already holding defaults
 * @param path   INI file
 * @param err    filled with a one-line reason on error
 * @param errlen size of @p err
 * @return 0, or -1 with @p err set (missing or unreadable file, syntax
 *         error, unknown section or key, bad value)
 */
int ft_config_load(struct ft_config *c, const char *path, char *err, size_t errlen);

/**
 * Set one key from a string, as from the file.
 *
 * @param c       configuration
 * @param origin  what to name in errors (a file name or "command line")
 * @param section section name without brackets
 * @param key     key name
 * @param value   value text
 * @return 0, or -1 with @p err set
 */
int ft_config_set(struct ft_config *c, const char *origin, const char *section,
		  const char *key, const char *value, char *err, size_t errlen);

/**
 * Set one key from "section.key=value" (the --set option).
 * @return 0, or -1 with @p err set
 */
int ft_config_set_dotted(struct ft_config *c, const char *assignment, char *err, size_t errlen);

/** Callback for ft_config_foreach(): dotted key ("ports.rx_desc") and value text. */
typedef void (*ft_config_visit_fn)(const char *dotted_key, const char *value, void *arg);

/** Visit every key with its current value, in table order. */
void ft_config_foreach(const struct ft_config *c, ft_config_visit_fn fn, void *arg);

/** Name of a mode: "passive" or "inline". */
const char *ft_mode_name(enum ft_mode m);

/** Name of a checksums setting: "auto", "strict" or "off". */
const char *ft_checksums_name(enum ft_checksums c);

/**
 * Format a start-up error into @p err (up to @p errlen bytes) as one line:
 * control characters (a file's own bytes, a library's multi-line message)
 * become '?'. Shared by every loader of a user's file (config, rules).
 * A NULL @p err or a zero @p errlen does nothing.
 */
void ft_config_errorf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif

#endif /* FT_CONFIG_H */
