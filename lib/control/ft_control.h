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
 *
 * Dotted paths are nested dictionaries on the wire: DPDK 22.11 telemetry
 * refuses '.' in key names, so "packets.rx" is {"packets": {"rx": N}} (the
 * shape of the --stats-json file) and "general.mode" is
 * {"general": {"mode": "passive"}}. Booleans are u64 0/1. flowtap-ctl
 * prints dotted keys again (tables, or --json --flat).
 */

#include <stdbool.h>
#include <stdint.h>

#include "ft_config.h"
#include "ft_stats.h"

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

/** Everything the commands read. Must outlive the telemetry threads. */
struct ft_control_view {
	const struct ft_config *cfg;
	const char *config_path;        /**< file loaded, or "(defaults)" */
	unsigned int n_workers;
	const struct ft_worker_info *workers;
	struct ft_stats *control_stats; /**< the control lcore's own counters (detectors), or NULL */
	unsigned int n_ports;
	const struct ft_port_info *ports;
	uint64_t start_tsc;             /**< rte_rdtsc() at start (for uptime) */
	bool offline;                   /**< reading a capture */
};

/**
 * Register the /flowtap/ commands.
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
