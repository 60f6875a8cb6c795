/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench-rxloop: the "bare DPDK receive loop" that scripts/bench compares
 * offline flowtap with. It receives port 0, queue 0 in bursts on one worker
 * lcore and frees every mbuf untouched: what any DPDK application pays before
 * it looks at a packet. Not a user tool (not installed).
 *
 *   bench-rxloop [EAL options] -- [--burst N] [--mbufs N] [--mbuf-size N]
 *                [--mbuf-cache N] [--rx-desc N] [--idle-ms N]
 *
 * The pool and queue default to flowtap's defaults ([ports] mbufs,
 * mbuf_size, mbuf_cache, rx_desc; [workers] burst) so both read the capture
 * through the same net_pcap device the same way. With a finite source
 * (net_pcap rx_pcap= without infinite_rx) the loop ends once nothing has
 * arrived for --idle-ms (default 200) after the first packet; the time
 * reported runs from the first rx call to the last packet received.
 * Output, one line: "bench-rxloop: packets=N seconds=S mpps=M".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#define RXLOOP_MAX_BURST 64

static struct {
	unsigned int burst, mbufs, mbuf_size, mbuf_cache, rx_desc, idle_ms;
} opt = { 32, 65535, 2176, 256, 1024, 200 };

static struct {
	uint64_t packets;
	uint64_t first_tsc, last_tsc;
} result;

static int
rx_loop(void *arg)
{
	struct rte_mbuf *pkts[RXLOOP_MAX_BURST];
	const uint64_t idle = rte_get_tsc_hz() / 1000 * opt.idle_ms;
	uint64_t n = 0, start = rte_get_tsc_cycles(), last = start, now;

	RTE_SET_USED(arg);
	for (;;) {
		uint16_t k = rte_eth_rx_burst(0, 0, pkts, (uint16_t)opt.burst);

		now = rte_get_tsc_cycles();
		if (k != 0) {
			n += k;
			last = now;
			rte_pktmbuf_free_bulk(pkts, k);
		} else if (n != 0 && now - last > idle) {
			break;
		} else if (n == 0 && now - start > 30 * rte_get_tsc_hz()) {
			break; /* nothing at all: reported as 0 packets */
		}
	}
	result.packets = n;
	result.first_tsc = start;
	result.last_tsc = last;
	return 0;
}

static int
parse_uint(const char *name, const char *s, unsigned int lo, unsigned int hi, unsigned int *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "bench-rxloop: %s: '%s' must be a number from %u to %u\n", name, s, lo, hi);
		return -1;
	}
	*out = (unsigned int)v;
	return 0;
}

static int
parse_args(int argc, char **argv)
{
	int i;

	/* Every option takes a value: options and values come in pairs. */
	for (i = 1; i < argc; i += 2) {
		const char *v = i + 1 < argc ? argv[i + 1] : "";
		int rc;

		if (strcmp(argv[i], "--burst") == 0)
			rc = parse_uint("--burst", v, 1, RXLOOP_MAX_BURST, &opt.burst);
		else if (strcmp(argv[i], "--mbufs") == 0)
			rc = parse_uint("--mbufs", v, 1023, 1u << 28, &opt.mbufs);
		else if (strcmp(argv[i], "--mbuf-size") == 0)
			rc = parse_uint("--mbuf-size", v, 256, 65535, &opt.mbuf_size);
		else if (strcmp(argv[i], "--mbuf-cache") == 0)
			rc = parse_uint("--mbuf-cache", v, 0, 512, &opt.mbuf_cache);
		else if (strcmp(argv[i], "--rx-desc") == 0)
			rc = parse_uint("--rx-desc", v, 64, 16384, &opt.rx_desc);
		else if (strcmp(argv[i], "--idle-ms") == 0)
			rc = parse_uint("--idle-ms", v, 1, 60000, &opt.idle_ms);
		else {
			fprintf(stderr, "bench-rxloop: unknown option '%s'\n", argv[i]);
			return -1;
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct rte_eth_conf conf;
	struct rte_mempool *mp;
	unsigned int lcore;
	double s;
	int n;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "bench-rxloop: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argv[n] = argv[0];
	if (parse_args(argc - n, argv + n) < 0)
		goto fail;
	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "bench-rxloop: no port (give --vdev net_pcap0,rx_pcap=FILE)\n");
		goto fail;
	}
	lcore = rte_get_next_lcore(-1, 1, 0);
	if (lcore >= RTE_MAX_LCORE) {
		fprintf(stderr, "bench-rxloop: give two lcores: the second one receives\n");
		goto fail;
	}
	mp = rte_pktmbuf_pool_create("rxloop", opt.mbufs, opt.mbuf_cache, 0, (uint16_t)opt.mbuf_size,
				     (int)rte_eth_dev_socket_id(0) < 0 ? SOCKET_ID_ANY : rte_eth_dev_socket_id(0));
	if (mp == NULL) {
		fprintf(stderr, "bench-rxloop: cannot create a pool of %u mbufs: %s\n", opt.mbufs,
			rte_strerror(rte_errno));
		goto fail;
	}
	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_configure(0, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(0, 0, (uint16_t)opt.rx_desc, rte_eth_dev_socket_id(0), NULL, mp) != 0 ||
	    rte_eth_tx_queue_setup(0, 0, 64, rte_eth_dev_socket_id(0), NULL) != 0 ||
	    rte_eth_dev_start(0) != 0) {
		fprintf(stderr, "bench-rxloop: cannot set port 0 up\n");
		goto fail;
	}
	rte_eal_remote_launch(rx_loop, NULL, lcore);
	rte_eal_mp_wait_lcore();
	s = (double)(result.last_tsc - result.first_tsc) / (double)rte_get_tsc_hz();
	printf("bench-rxloop: packets=%" PRIu64 " seconds=%.6f mpps=%.3f\n", result.packets, s,
	       s > 0 ? (double)result.packets / s / 1e6 : 0.0);
	rte_eth_dev_stop(0);
	rte_eth_dev_close(0);
	rte_eal_cleanup();
	return 0;
fail:
	rte_eal_cleanup();
	return 1;
}
