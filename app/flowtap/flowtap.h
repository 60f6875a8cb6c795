/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FLOWTAP_APP_H
#define FLOWTAP_APP_H

/*
 * The app wires the libraries together: options and EAL arguments
 * (options.c), ports and queues (ports.c), the worker pipeline (worker.c),
 * the control lcore (control_loop.c) and capture checks (offline.c).
 */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>

#include <pcap/pcap.h>

#include "ft_config.h"
#include "ft_control.h"
#include "ft_decode.h"
#include "ft_defrag.h"
#include "ft_detect.h"
#include "ft_flow.h"
#include "ft_sig.h"
#include "ft_stats.h"
#include "ft_tcp.h"

#define FT_MAX_WORKERS 64
#define FT_MAX_PORTS 32
#define FT_MAX_BURST 64
#define FT_OFFLINE_MAX_WORKERS 8

/* Run states the control lcore steps the workers through. */
enum ft_run_state {
	FT_RUN = 0,   /* poll rx and the hand-over rings */
	FT_DRAIN,     /* rx stopped: finish what is in the hand-over rings */
	FT_STOP,      /* leave the loop */
};

/* Observations a worker holds before putting them on its ring at once. */
#define FT_OBS_BATCH 64

/* One worker. Allocated on its lcore's NUMA node; written only by it. */
struct ft_worker {
	struct ft_stats stats;                  /* first: its own cache lines */
	unsigned int idx;
	unsigned int lcore;
	int socket;
	unsigned int n_rxq;
	struct ft_rxq_ref rxq[FT_MAX_RXQ_PER_WORKER];
	struct rte_ring *feed;                  /* offline: the capture's frames, read by the
						   control lcore (reader.c); else NULL */
	struct rte_ring *to[FT_MAX_WORKERS];    /* hand-over to worker j (NULL for self) */
	struct rte_ring *from[FT_MAX_WORKERS];  /* hand-over from worker j */
	struct rte_ring *events;                /* to the control lcore */
	struct rte_ring *records;               /* flow records to the control lcore */
	struct rte_ring *observe;               /* observations for the detectors */
	struct rte_ring *ladder;                /* --ladder lines (NULL when off) */
	struct rte_ring *requests;              /* control-socket queries (requests.c) */
	struct ft_ctl_request *req;             /* the query being answered, NULL when none */
	struct ft_ctl_ladder *live_ladder;      /* live ladder history, NULL until first armed */
	bool live_ladder_on;                    /* record matching packets into live_ladder */
	struct ft_flow_table *flows;            /* this worker's flows */
	struct ft_tcp_segcache *segs;           /* recent segments (retransmission check) */
	struct ft_sig_worker *sig;              /* payload signatures, NULL without rules */
	uint8_t *payload_buf;                   /* a chained frame's payload, made contiguous (track.c) */
	struct ft_defrag *defrag;               /* datagrams in reassembly (fragments this worker owns) */
	struct rte_mbuf **reasm_q;              /* reassembled datagrams waiting for room in the */
	uint16_t *reasm_q_to;                   /*   ring to their flow's owner, in order (worker.c) */
	uint32_t reasm_q_n, reasm_q_cap;        /* cap: the reassembly pool's size (never exceeded) */
	uint32_t wait_spins;                    /* nested waits for a reassembly buffer (worker.c) */
	bool serving;                           /* inside serve_incoming(): it does not nest */
	uint64_t now_ns;                        /* newest packet time (offline) or TSC time */
	volatile int flushed;                   /* exit flush done (release) */
	uint16_t txq;                           /* this worker's tx queue on every port that has it */
	struct rte_ring *tx_ring[FT_MAX_PORTS];  /* inline: to the worker sending for us on a port
						    with fewer tx queues than workers (tx.c) */
	unsigned int n_tx_from;
	struct {
		uint16_t port;
		struct rte_ring *ring;
	} tx_from[FT_MAX_WORKERS];              /* packets other workers hand us to send */
	/* Observations of the burst being tracked: put on the observe ring
	 * together when it ends (track.c), one ring update per burst instead
	 * of three per connection. */
	uint32_t obs_n;
	struct ft_obs obs_buf[FT_OBS_BATCH];
	/* Flows evicted by the burst being tracked (track.c). */
	uint32_t burst_evicted;
	/* inline mode: per peer port, packets waiting for tx */
	uint16_t tx_count[FT_MAX_PORTS];
	struct rte_mbuf *tx_buf[FT_MAX_PORTS][FT_MAX_BURST * 2];
} __rte_cache_aligned;

/* struct ft_ladder_line (one packet of a ladder) is in ft_control.h: the
 * live ladder's replies are made of it too. */

/* Offline, who reads the capture (--reader; reader.c). */
enum ft_reader_mode {
	FT_READER_AUTO = 0, /* the control lcore when it has a CPU of its own */
	FT_READER_CONTROL,  /* the control lcore, feeding the worker */
	FT_READER_WORKER,   /* the worker that was given the queue */
};

/* What the user asked for, beyond the config file. */
struct ft_options {
	const char *config_path;   /* --config */
	const char *pcap_path;     /* --pcap: offline mode */
	unsigned int workers;      /* --workers (offline) */
	bool quiet;                /* --quiet: no summary */
	bool mode_set;             /* --mode given */
	bool workers_set;          /* --workers given */
	const char *ladder;        /* --ladder FILTER (offline) */
	bool relative;             /* --relative: ladder numbers relative to the ISNs */
	bool hugepages;            /* --hugepages: offline EAL on hugepages, not --no-huge */
	enum ft_reader_mode reader; /* --reader (offline) */
	bool reader_set;           /* --reader given */
};

/* The appliance. One instance, owned by main(). */
struct ft_app {
	struct ft_config cfg;
	struct ft_options opt;
	bool offline;
	uint64_t capture_packets;           /* offline: frames in the capture */
	/* Offline: lib/capture can read the capture (classic pcap or
	 * single-section pcapng, every record whole and within an mbuf): the
	 * control lcore reads it so (reader.c); else, and whenever a worker
	 * reads, the pcap PMD does. */
	bool capture_native;
	/* Offline: some of the capture's frames are not Ethernet (Linux
	 * cooked, raw IP, loopback): only lib/capture makes them Ethernet, so
	 * the control lcore reads it whatever the CPUs (capture_native is set;
	 * a file lib/capture cannot read whole is read as a stream). */
	bool capture_not_ethernet;
	/* Offline: the capture is a stream (--pcap - or a FIFO), read once by
	 * lib/capture from capture_stream_cap (opened, its header read, before
	 * the EAL starts); capture_packets is unknown (UINT64_MAX) until it
	 * ends. The port is a placeholder (net_null, never polled). */
	bool capture_stream;
	bool pdump_on;                      /* live: dpdk-dumpcap can capture the ports (main.c) */
	struct ft_capture *capture_stream_cap;
	int ts_dynfield;                    /* rx timestamp dynfield offset, -1 when none */
	uint64_t ts_dynflag;
	uint64_t reasm_flag;                /* ol_flags bit of a reassembled datagram (defrag.c) */
	/* Every frame enters through one worker (offline, or a single rx queue
	 * in all): that worker reassembles fragments where they enter, so a
	 * datagram reaches its flow's owner in its place among the packets
	 * around it (ports.c). Else fragments go to the owner of their hash. */
	bool defrag_at_entry;
	uint64_t ts_to_ns;                  /* rx timestamp unit in ns (pcap PMD: us) */
	double ns_per_tsc;
	bool ladder_on;                     /* --ladder compiled into ladder_prog */
	struct bpf_program ladder_prog;
	struct ft_detect *detect;           /* cross-flow detectors (control lcore) */
	struct ft_sig_set *sig;             /* payload signature rules, NULL when none */
	struct ft_stats control_stats;      /* the control lcore's own counters (detectors) */
	unsigned int n_workers;
	struct ft_worker *workers[FT_MAX_WORKERS];
	struct ft_worker_info winfo[FT_MAX_WORKERS];
	unsigned int n_ports;
	struct ft_port_info pinfo[FT_MAX_PORTS];
	int peer[FT_MAX_PORTS];             /* inline: port to forward to, else -1 */
	/* checksums = auto: a TCP checksum holding only the pseudo-header's sum
	 * is taken from this port (a capture or a virtual device, where a
	 * host's own stack can have left it; never from a NIC on a wire) */
	bool csum_partial_ok[FT_MAX_PORTS];
	struct rte_mempool *pool[RTE_MAX_NUMA_NODES];
	volatile int run_state;             /* enum ft_run_state */
	struct ft_control_view view;
	uint64_t tsc_hz;
	uint64_t tx_retry_tsc;              /* inline: [ports] tx_retry_us in TSC cycles */
	uint64_t start_tsc;
	uint64_t wall_ns_at_start;          /* live: TSC converted to wall-clock */
	char file_prefix[64];               /* offline: ours, removed at exit */
	FILE *events_out;                   /* --events, NULL when off */
	FILE *flow_log_out;                 /* --flow-log, NULL when off */
	double duration_s;                  /* from the first worker launch to stop */
	bool ports_stopped;                 /* ft_ports_stop() done: ports closed */
	struct rte_eth_stats port_final[FT_MAX_PORTS]; /* ethdev counters when they stopped */
	unsigned int n_mempools;            /* mempools seen at exit (ft_ports_stop) */
	struct {
		char name[32];
		uint32_t size;
		uint32_t in_use;                /* objects not back in the pool after the drain */
	} mempool[8];
};

/* Set by the SIGINT/SIGTERM handler; read by the control lcore. */
extern volatile sig_atomic_t ft_signal_received;

extern struct ft_app ft_app;

/* options.c */
int ft_options_parse(int argc, char **argv, struct ft_app *app);
int ft_options_build_eal_args(struct ft_app *app, int argc, char **argv,
			      int *eal_argc, char ***eal_argv);
void ft_usage(FILE *f);
int ft_fail(const char *fmt, ...) __rte_format_printf(1, 2);

/* offline.c */
int ft_offline_check_capture(struct ft_app *app, const char *path);
void ft_offline_remove_runtime_dir(const char *prefix);

/* ports.c */
int ft_ports_setup(struct ft_app *app);
void ft_ports_close(struct ft_app *app);
void ft_ports_stop(struct ft_app *app);
int ft_port_stats(const struct ft_app *app, unsigned int p, struct rte_eth_stats *st);
bool ft_mempools_ok(const struct ft_app *app);
uint64_t ft_ports_rx_lost(const struct ft_app *app);
unsigned int ft_pool_size(const struct ft_app *app, unsigned int n_workers);

/* reader.c: offline, the control lcore reads the capture for the workers */
int ft_reader_setup(struct ft_app *app);
unsigned int ft_reader_poll(struct ft_app *app, bool read_more);
/* Add what lib/capture read for port index p (offline) to its counters. */
void ft_reader_port_stats(const struct ft_app *app, unsigned int p, struct rte_eth_stats *st);
bool ft_reader_on(const struct ft_app *app);
bool ft_reader_ahead(const struct ft_app *app);
bool ft_reader_idle(const struct ft_app *app);
/* A stream's next record has not all arrived (the control lcore may nap). */
bool ft_reader_waiting(const struct ft_app *app);
/* Frames lib/capture has read (and records it gave up), all feeds. */
uint64_t ft_reader_frames_read(const struct ft_app *app);
void ft_reader_free(struct ft_app *app);
unsigned int ft_reader_pool_room(const struct ft_app *app);

/* worker.c */
int ft_workers_create(struct ft_app *app);
void ft_workers_free(struct ft_app *app);
int ft_worker_main(void *arg);

/* tx.c: inline transmit, with hand-over to a queue-holding worker */
void ft_tx_flush_port(struct ft_worker *w, uint16_t port);
void ft_tx_flush_all(struct ft_worker *w);
unsigned int ft_tx_serve_proxied(struct ft_worker *w);
int ft_tx_setup(struct ft_app *app);
void ft_tx_free(struct ft_worker *w);

/* worker.c: shared by the stages */
unsigned int ft_ring_put_burst(struct ft_worker *w, struct rte_ring *r, const void *objs,
			       unsigned int size, unsigned int n, enum ft_ctr dropped);
bool ft_ring_put(struct ft_worker *w, struct rte_ring *r, void *obj, unsigned int size,
		 enum ft_ctr dropped);
void ft_worker_emit(struct ft_worker *w, struct ft_event *ev);
bool ft_worker_wait_buffer(void *arg);

/* A packet's time: the capture's (offline, from the pcap PMD's rx
 * timestamp) or the TSC's (live: a NIC or a replayed capture may stamp
 * packets with another clock, and ageing runs on the TSC). A reassembled
 * datagram carries its completing fragment's. */
static inline uint64_t
ft_pkt_time(const struct ft_worker *w, const struct rte_mbuf *m)
{
	if (ft_app.offline && ft_app.ts_dynfield >= 0 && (m->ol_flags & ft_app.ts_dynflag))
		return *RTE_MBUF_DYNFIELD(m, ft_app.ts_dynfield, const uint64_t *) *
		       ft_app.ts_to_ns;
	return w->now_ns;
}

/* defrag.c: the defragmentation stage's set-up and events (the stage itself
 * is in worker.c's process_owned()) */
int ft_defrag_setup(struct ft_app *app, struct ft_worker *w);
void ft_defrag_ports_ready(struct ft_app *app);
void ft_defrag_teardown(struct ft_worker *w);
uint64_t ft_defrag_memory_per_worker(const struct ft_app *app);

/* track.c: the tracking stage of the worker pipeline */
int ft_track_create(struct ft_app *app, struct ft_worker *w);
void ft_track_free(struct ft_worker *w);
void ft_track_burst(struct ft_worker *w, struct rte_mbuf **m, const struct ft_pkt *meta,
		    unsigned int n);
void ft_track_age(struct ft_worker *w);
void ft_track_flush(struct ft_worker *w);
uint64_t ft_track_flows_per_worker(const struct ft_app *app);
uint64_t ft_track_memory_per_worker(const struct ft_app *app);
int ft_track_sig_setup(struct ft_app *app);

/* requests.c: the worker's side of the control socket's queries (lib/control
 * sends them through w->requests). ft_requests_serve() is called once per
 * loop iteration; ft_requests_ladder_record() by track.c for each TCP packet
 * while a live ladder is armed (w->live_ladder_on). */
int ft_requests_create(struct ft_app *app, struct ft_worker *w);
void ft_requests_free(struct ft_worker *w);
void ft_requests_serve(struct ft_worker *w);
void ft_requests_ladder_record(struct ft_worker *w, const struct ft_ladder_line *l);

/* ladder.c */
int ft_ladder_setup(struct ft_app *app);
void ft_ladder_print(struct ft_app *app, const struct ft_ladder_line *l, FILE *out);

/* control_loop.c */
int ft_detect_backlog_setup(struct ft_app *app);
int ft_control_loop(struct ft_app *app);
int ft_write_stats_json(struct ft_app *app, FILE *f);
void ft_print_summary(struct ft_app *app, FILE *f);

#endif /* FLOWTAP_APP_H */
