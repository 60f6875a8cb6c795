/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: mbuf pools per NUMA node, one rx queue per worker (as far as the
 * device allows) spread by RSS with a symmetric key, one tx queue per worker
 * in inline mode, and the assignment of (port, queue) pairs to workers on the
 * port's NUMA node. Correctness does not depend on any of it: the software
 * hash in the worker decides who owns a flow.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>

#include "flowtap.h"

/* 0x6d5a repeated: the Toeplitz key that hashes (a,b) and (b,a) alike. */
static uint8_t sym_rss_key[64];

static int
parse_pairs(struct ft_app *app)
{
	const char *s = app->cfg.pairs;
	unsigned int p;

	for (p = 0; p < FT_MAX_PORTS; p++)
		app->peer[p] = -1;
	if (app->cfg.mode != FT_MODE_INLINE)
		return 0;
	if (strcmp(s, "auto") == 0) {
		if (app->n_ports % 2 != 0)
			return ft_fail("inline mode pairs ports 0-1, 2-3, ...: %u ports is an odd number (set [ports] pairs)",
				       app->n_ports);
		for (p = 0; p < app->n_ports; p++)
			app->peer[p] = (int)(p ^ 1);
		return 0;
	}
	while (*s != '\0') {
		char *end;
		unsigned long a = strtoul(s, &end, 10), b;

		if (*end != '-')
			return ft_fail("[ports] pairs: '%s' must be auto or a list like 0-1,2-3", app->cfg.pairs);
		b = strtoul(end + 1, &end, 10);
		if (a >= app->n_ports || b >= app->n_ports)
			return ft_fail("[ports] pairs: port %lu does not exist (%u ports)",
				       a >= app->n_ports ? a : b, app->n_ports);
		app->peer[a] = (int)b;
		app->peer[b] = (int)a;
		s = *end == ',' ? end + 1 : end;
	}
	for (p = 0; p < app->n_ports; p++)
		if (app->peer[p] < 0)
			return ft_fail("[ports] pairs: port %u has no peer in inline mode", p);
	return 0;
}

unsigned int
ft_pool_size(const struct ft_app *app, unsigned int n_workers)
{
	unsigned int ring_room;

	/* Every hand-over ring may be full at once, and every defragmenter
	 * may hold max_held fragments; never let the pool be smaller than what
	 * the rings, queues and defragmenters can hold, or rx starves. */
	ring_room = n_workers * (n_workers - 1) * app->cfg.handoff_ring +
		    n_workers * (app->cfg.rx_desc + app->cfg.tx_desc + 2 * FT_MAX_BURST) +
		    n_workers * app->cfg.defrag_max_held + ft_reader_pool_room(app);
	/* Offline nothing arrives faster than it is taken: when every frame
	 * takes one mbuf (app->capture_native: no record is longer than an
	 * mbuf), what the rings, queues and defragmenters can hold (and the
	 * lcores' caches, in the 4096) is all a capture ever needs, so
	 * ports.mbufs, sized for NICs, does not apply. Without hugepages
	 * (offline's default) every mbuf is a page fault at start-up: 65535 of
	 * them were half of a small capture's run (1.08 s against 0.52 s for
	 * smtp.pcap). Jumbo frames take several mbufs each from the pcap PMD,
	 * which drops a frame it has no mbufs for: those captures keep
	 * ports.mbufs. */
	if (app->offline && app->capture_native)
		return ring_room + 4096;
	return RTE_MAX(app->cfg.mbufs, ring_room + 4096);
}

static struct rte_mempool *
pool_for_socket(struct ft_app *app, int socket)
{
	unsigned int s = socket < 0 ? 0 : (unsigned int)socket;
	char name[RTE_MEMPOOL_NAMESIZE];
	unsigned int n = ft_pool_size(app, app->n_workers);

	if (app->pool[s] != NULL)
		return app->pool[s];
	snprintf(name, sizeof(name), "ft_mbuf_%u", s);
	app->pool[s] = rte_pktmbuf_pool_create(name, n, app->cfg.mbuf_cache, 0,
					       (uint16_t)app->cfg.mbuf_size, (int)s);
	if (app->pool[s] == NULL)
		ft_fail("cannot create a pool of %u mbufs on NUMA node %u: %s", n, s,
			rte_strerror(rte_errno));
	return app->pool[s];
}

/* Workers on the port's node first; others only when the node has none. */
static struct ft_worker *
pick_worker(struct ft_app *app, int socket, unsigned int *rr, bool *remote)
{
	unsigned int i, k;

	for (k = 0; k < app->n_workers; k++) {
		i = (*rr + k) % app->n_workers;
		if (socket < 0 || app->workers[i]->socket == socket) {
			*rr = i + 1;
			*remote = false;
			return app->workers[i];
		}
	}
	i = (*rr)++ % app->n_workers;
	*remote = true;
	return app->workers[i];
}

static int
setup_port(struct ft_app *app, uint16_t port, unsigned int *rr)
{
	struct ft_port_info *pi = &app->pinfo[port];
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	struct rte_mempool *mp;
	uint16_t nrxq, ntxq, q, rxd, txd;
	int socket, rc;

	rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0)
		return ft_fail("port %u: cannot read device info: %s", port, rte_strerror(-rc));
	socket = rte_eth_dev_socket_id(port);
	memset(&conf, 0, sizeof(conf));

	nrxq = (uint16_t)RTE_MIN(app->cfg.rx_queues != 0 ? app->cfg.rx_queues : app->n_workers,
				 info.max_rx_queues);
	/* A stream is one queue, as a pcap file is: lib/capture reads it for
	 * the worker given that queue (reader.c); its placeholder port
	 * (net_null) would take as many as asked. */
	if (nrxq == 0 || app->capture_stream)
		nrxq = 1;
	if (app->cfg.mode == FT_MODE_INLINE) {
		/* One tx queue per worker where the device has them; the
		 * workers beyond hand their packets to one that has (tx.c). */
		unsigned int dev_txq = info.max_tx_queues != 0 ? info.max_tx_queues : 1;
		unsigned int want = app->cfg.tx_queues != 0 ? app->cfg.tx_queues : app->n_workers;

		if (want > app->n_workers)
			want = app->n_workers;
		ntxq = (uint16_t)RTE_MIN(want, dev_txq);
	} else {
		ntxq = 1;
	}

	if (nrxq > 1 && app->cfg.rss) {
		uint64_t want = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP;

		conf.rx_adv_conf.rss_conf.rss_hf = want & info.flow_type_rss_offloads;
		if (conf.rx_adv_conf.rss_conf.rss_hf != 0) {
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			memset(sym_rss_key, 0, sizeof(sym_rss_key));
			for (q = 0; q + 1 < (uint16_t)sizeof(sym_rss_key); q += 2) {
				sym_rss_key[q] = 0x6d;
				sym_rss_key[q + 1] = 0x5a;
			}
			conf.rx_adv_conf.rss_conf.rss_key = sym_rss_key;
			conf.rx_adv_conf.rss_conf.rss_key_len =
				info.hash_key_size ? RTE_MIN(info.hash_key_size, (uint8_t)sizeof(sym_rss_key)) : 40;
		} else {
			fprintf(stderr, "flowtap: port %u (%s) cannot hash IP/TCP/UDP: one rx queue\n",
				port, info.driver_name);
			nrxq = 1;
		}
	} else if (nrxq > 1) {
		nrxq = 1; /* rss = no: one queue, the software hash spreads the work */
	}
	/* Capture time for offline analysis (the pcap PMD fills it). */
	if (app->offline && (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP))
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	/* The NIC's checksum verdicts, where it gives them: a worker then sums
	 * only what the NIC could not judge (worker.c, track.c). */
	if (app->cfg.checksums != FT_CSUMS_OFF)
		conf.rxmode.offloads |= info.rx_offload_capa &
			(RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM);

	rc = rte_eth_dev_configure(port, nrxq, ntxq, &conf);
	if (rc != 0)
		return ft_fail("port %u (%s): configure with %u rx / %u tx queues failed: %s",
			       port, info.driver_name, nrxq, ntxq, rte_strerror(-rc));
	rxd = (uint16_t)app->cfg.rx_desc;
	txd = (uint16_t)app->cfg.tx_desc;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd);
	if (rc != 0)
		return ft_fail("port %u: descriptor counts rejected: %s", port, rte_strerror(-rc));

	for (q = 0; q < nrxq; q++) {
		bool remote;
		struct ft_worker *w = pick_worker(app, socket, rr, &remote);
		struct ft_worker_info *wi = &app->winfo[w->idx];

		if (w->n_rxq >= FT_MAX_RXQ_PER_WORKER)
			return ft_fail("worker on lcore %u would poll more than %d queues",
				       w->lcore, FT_MAX_RXQ_PER_WORKER);
		mp = pool_for_socket(app, socket >= 0 ? socket : w->socket);
		if (mp == NULL)
			return -1;
		rc = rte_eth_rx_queue_setup(port, q, rxd, (unsigned int)(socket >= 0 ? socket : w->socket),
					    NULL, mp);
		if (rc != 0)
			return ft_fail("port %u rx queue %u: setup failed: %s", port, q, rte_strerror(-rc));
		w->rxq[w->n_rxq].port = port;
		w->rxq[w->n_rxq].queue = q;
		w->n_rxq++;
		wi->rxq[wi->n_rxq] = w->rxq[w->n_rxq - 1];
		wi->n_rxq++;
		if (remote) {
			wi->remote_numa = true;
			fprintf(stderr,
				"flowtap: warning: worker lcore %u (node %d) polls port %u queue %u on node %d\n",
				w->lcore, w->socket, port, q, socket);
		}
	}
	for (q = 0; q < ntxq; q++) {
		rc = rte_eth_tx_queue_setup(port, q, txd, (unsigned int)(socket >= 0 ? socket : 0), NULL);
		if (rc != 0)
			return ft_fail("port %u tx queue %u: setup failed: %s", port, q, rte_strerror(-rc));
	}
	if (app->cfg.promiscuous) {
		rc = rte_eth_promiscuous_enable(port);
		if (rc != 0 && rc != -ENOTSUP)
			fprintf(stderr, "flowtap: port %u: promiscuous mode: %s\n", port, rte_strerror(-rc));
	}
	rc = rte_eth_dev_start(port);
	if (rc != 0)
		return ft_fail("port %u (%s): start failed: %s", port, info.driver_name, rte_strerror(-rc));

	/* A partial TCP checksum is what a host's own stack writes for its
	 * NIC to finish: it is in a capture taken on such a host, and may come
	 * through a virtual device (af_packet, tap, memif from a host's
	 * sockets), but on a wire it is always wrong: a physical (PCI) port
	 * takes none, even under checksums = auto. */
	app->csum_partial_ok[port] = app->cfg.checksums == FT_CSUMS_AUTO &&
		(app->offline || info.device == NULL ||
		 strcmp(rte_bus_name(rte_dev_bus(info.device)), "pci") != 0);

	pi->port_id = port;
	rte_eth_dev_get_name_by_port(port, pi->name);
	snprintf(pi->driver, sizeof(pi->driver), "%s", info.driver_name);
	pi->socket = socket;
	pi->n_rxq = nrxq;
	pi->n_txq = ntxq;
	pi->peer = app->peer[port];
	pi->rss = conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS;
	pi->rss_hf = conf.rx_adv_conf.rss_conf.rss_hf;
	return 0;
}

/* Workers that poll a queue: the ways a frame enters. */
static unsigned int
entry_workers(const struct ft_app *app)
{
	unsigned int i, n = 0;

	for (i = 0; i < app->n_workers; i++)
		n += app->workers[i]->n_rxq != 0;
	return n;
}

int
ft_ports_setup(struct ft_app *app)
{
	unsigned int rr = 0;
	uint16_t port;
	int off;

	app->n_ports = rte_eth_dev_count_avail();
	if (app->n_ports == 0)
		return ft_fail("no ports: give a device (-a PCI address, --vdev net_pcap0,rx_pcap=FILE, ...) or use --pcap FILE");
	if (app->n_ports > FT_MAX_PORTS)
		return ft_fail("%u ports: at most %d are supported", app->n_ports, FT_MAX_PORTS);
	if (parse_pairs(app) < 0)
		return -1;
	RTE_ETH_FOREACH_DEV(port) {
		if (port >= FT_MAX_PORTS)
			return ft_fail("port id %u is above %d", port, FT_MAX_PORTS - 1);
		if (setup_port(app, port, &rr) < 0)
			return -1;
	}
	app->defrag_at_entry = entry_workers(app) == 1;
	/* Registered by the PMD when the timestamp offload was enabled. */
	app->ts_dynfield = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
	off = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);
	app->ts_dynflag = off >= 0 ? RTE_BIT64(off) : 0;
	return 0;
}

uint64_t
ft_ports_rx_lost(const struct ft_app *app)
{
	struct rte_eth_stats st;
	uint64_t lost = 0;
	unsigned int p;

	for (p = 0; p < app->n_ports; p++)
		if (ft_port_stats(app, p, &st) == 0)
			lost += st.imissed + st.ierrors + st.rx_nombuf;
	return lost;
}

static void
note_mempool(struct rte_mempool *mp, void *arg)
{
	struct ft_app *app = arg;

	if (app->n_mempools == RTE_DIM(app->mempool))
		return;
	snprintf(app->mempool[app->n_mempools].name, sizeof(app->mempool[0].name), "%s", mp->name);
	app->mempool[app->n_mempools].size = mp->size;
	/* avail_count includes the lcore caches. */
	app->mempool[app->n_mempools].in_use = mp->size - rte_mempool_avail_count(mp);
	app->n_mempools++;
}

/* A port's ethdev counters: live, or as they were when the ports closed;
 * offline, with what lib/capture read for it (reader.c). */
int
ft_port_stats(const struct ft_app *app, unsigned int p, struct rte_eth_stats *st)
{
	int rc = 0;

	if (app->ports_stopped)
		*st = app->port_final[p];
	else
		rc = rte_eth_stats_get(app->pinfo[p].port_id, st);
	if (rc == 0 && app->capture_native)
		ft_reader_port_stats(app, p, st);
	return rc;
}

/*
 * Once the workers have returned: keep each port's counters, stop and close
 * every port, so the drivers give back every mbuf their queues hold (the pcap
 * PMD's infinite_rx keeps the whole capture in mbufs until its queue is
 * released), then note what is missing from each mempool: after a drain every
 * mbuf must be home (a held fragment or a packet left in a ring shows here).
 */
void
ft_ports_stop(struct ft_app *app)
{
	uint16_t port;
	unsigned int p;

	if (app->ports_stopped)
		return;
	for (p = 0; p < app->n_ports; p++) {
		memset(&app->port_final[p], 0, sizeof(app->port_final[p]));
		rte_eth_stats_get(app->pinfo[p].port_id, &app->port_final[p]);
	}
	RTE_ETH_FOREACH_DEV(port) {
		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
	}
	app->ports_stopped = true;
	app->n_mempools = 0;
	rte_mempool_walk(note_mempool, app);
}

bool
ft_mempools_ok(const struct ft_app *app)
{
	unsigned int i;

	for (i = 0; i < app->n_mempools; i++)
		if (app->mempool[i].in_use != 0)
			return false;
	return true;
}

void
ft_ports_close(struct ft_app *app)
{
	uint16_t port;
	unsigned int s;

	if (!app->ports_stopped) {
		RTE_ETH_FOREACH_DEV(port) {
			rte_eth_dev_stop(port);
			rte_eth_dev_close(port);
		}
	}
	for (s = 0; s < RTE_MAX_NUMA_NODES; s++) {
		rte_mempool_free(app->pool[s]);
		app->pool[s] = NULL;
	}
}
