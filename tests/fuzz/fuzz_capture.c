/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness: lib/capture on a hostile capture file, against libpcap.
 *
 * The input is a whole file. lib/capture scans it; when it takes the file,
 * libpcap must read exactly the same frames (bytes, lengths, microsecond
 * times; for another link type than Ethernet, what follows the link header
 * after a 14-byte Ethernet header) and then find the end, or the scan was
 * wrong. Whether it takes the
 * file or not, the reader is then run to its end on it: no crash, no mbuf
 * lost, and it stops where the scan did (at the end with no error, or on
 * the record the scan refused, with one). The same bytes as a stream (a
 * pipe, written in two pieces split where the input's last byte says) give
 * the same frames and stop at the same record.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>
#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "ft_capture.h"
#include "ft_fuzz.h"

#define FUZZ_POOL 256
#define FUZZ_FRAME_MAX 2048

static struct rte_mempool *pool;
static int ts_off;
static uint64_t ts_flag;
static char path[64];

static void
remove_file(void)
{
	unlink(path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	RTE_SET_USED(argc);
	RTE_SET_USED(argv);
	ft_fuzz_eal_init("fuzz_capture");
	pool = ft_fuzz_pool("fuzz_cap", FUZZ_POOL, FUZZ_FRAME_MAX);
	REQUIRE(rte_mbuf_dyn_rx_timestamp_register(&ts_off, &ts_flag) == 0);
	snprintf(path, sizeof(path), "/tmp/ft-fuzz-capture-%d.pcap", (int)getpid());
	atexit(remove_file);
	return 0;
}

/* The longest frame a stream gives (libpcap's largest snapshot length):
 * longer than an mbuf, in chained mbufs. */
#define STREAM_FRAME_MAX 262144

/* Bytes of the link header lib/capture replaces with an Ethernet header,
 * by libpcap's DLT (0 for Ethernet itself). */
static uint32_t
link_hdr(int dlt)
{
	switch (dlt) {
	case DLT_NULL:
	case DLT_LOOP:
		return 4;
	case DLT_LINUX_SLL:
		return 16;
	case DLT_LINUX_SLL2:
		return 20;
	default: /* Ethernet, raw IP, IPv4, IPv6 */
		return 0;
	}
}

/* libpcap agrees with every frame the reader delivers (a file's in one
 * mbuf each, a stream's long ones chained): the same bytes for Ethernet;
 * for other link types, a 14-byte header then the bytes after the link
 * header (one short of 14 bytes, at most caplen, when it was cut). A
 * pcapng file whose interfaces have different link types, which libpcap
 * refuses at the first interface that differs (lib/capture reads it), is
 * compared up to there. @return false when libpcap stopped so */
static bool
same_as_libpcap(pcap_t *p, struct rte_mbuf **pkts, uint16_t n)
{
	static uint8_t flat[STREAM_FRAME_MAX];
	const int dlt = pcap_datalink(p);
	const uint32_t lh = link_hdr(dlt), eh = dlt == DLT_EN10MB ? 0 : 14;
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct pcap_pkthdr *h;
		const u_char *d;
		const uint8_t *got;
		uint32_t len;
		uint64_t us;
		int rc = pcap_next_ex(p, &h, &d);

		if (rc == PCAP_ERROR &&
		    strstr(pcap_geterr(p), "different from the type of the first interface") != NULL)
			return false;
		REQUIRE(rc == 1);
		us = (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec;
		len = h->caplen < lh ? RTE_MIN(h->caplen, 13u) : h->caplen - lh + eh;
		REQUIRE(pkts[i]->pkt_len == len);
		REQUIRE(pkts[i]->nb_segs > 1 || pkts[i]->data_len == len);
		got = rte_pktmbuf_read(pkts[i], 0, len, flat);
		REQUIRE(got != NULL);
		if (h->caplen >= lh)
			REQUIRE(memcmp(got + eh, d + lh, h->caplen - lh) == 0);
		REQUIRE(*RTE_MBUF_DYNFIELD(pkts[i], ts_off, uint64_t *) == us);
	}
	return true;
}

/* Frames a reader gives now, each checked against libpcap's while
 * libpcap reads (*p NULL once it stopped: see same_as_libpcap()). */
static uint64_t
drain_stream(struct ft_capture *c, pcap_t **p)
{
	struct rte_mbuf *pkts[32];
	uint64_t frames = 0;
	uint16_t n;

	while ((n = ft_capture_read_burst(c, pool, 0, pkts, 32)) != 0) {
		frames += n;
		if (*p != NULL && !same_as_libpcap(*p, pkts, n)) {
			pcap_close(*p);
			*p = NULL;
		}
		rte_pktmbuf_free_bulk(pkts, n);
	}
	return frames;
}

/* Bytes a stream's open waits for: a pcapng section header's length, else
 * a pcap file header's (at least 28). */
static size_t
header_bytes(const uint8_t *data, size_t size)
{
	uint32_t type, len, order;

	if (size < 12)
		return 28;
	memcpy(&type, data, 4);
	memcpy(&len, data + 4, 4);
	memcpy(&order, data + 8, 4);
	if (type != 0x0a0d0d0au)
		return 28;
	if (order != 0x1a2b3c4du)
		len = __builtin_bswap32(len);
	return len > 28 ? len : 28;
}

/* The input as a stream: what a scan that takes frames of any length gives
 * (a stream chains those longer than an mbuf), and the same end. Inputs up
 * to a pipe's default size only (written before they are read, by this one
 * thread). */
static void
as_stream(const uint8_t *data, size_t size, bool opened)
{
	struct ft_capture_info all;
	struct ft_capture_info *info = &all;
	char errbuf[PCAP_ERRBUF_SIZE], why[128];
	struct ft_capture_stats st;
	struct ft_capture *c;
	pcap_t *p = NULL;
	size_t split = size == 0 ? 0 : (size * data[size - 1]) / 255;
	uint64_t frames;
	int fds[2];

	if (size > 65536)
		return;
	REQUIRE(ft_capture_scan(path, STREAM_FRAME_MAX, &all) == 0);
	REQUIRE(pipe(fds) == 0);
	REQUIRE(split == 0 || write(fds[1], data, split) == (ssize_t)split);
	if (split < header_bytes(data, size)) { /* open() waits for the header */
		REQUIRE(size == split || write(fds[1], data + split, size - split) == (ssize_t)(size - split));
		split = size;
	}
	if (split == size)
		close(fds[1]);
	c = ft_capture_open_stream(fds[0], why, sizeof(why));
	/* Refused at open exactly when the file was (its header). */
	REQUIRE((c != NULL) == opened);
	if (c == NULL) {
		if (split != size)
			close(fds[1]);
		return;
	}
	ft_capture_set_timestamp(c, ts_off, ts_flag);
	if (info->readable) {
		p = pcap_open_offline(path, errbuf);
		REQUIRE(p != NULL);
	}
	frames = drain_stream(c, &p);
	if (split != size) {
		REQUIRE(write(fds[1], data + split, size - split) == (ssize_t)(size - split));
		close(fds[1]);
		frames += drain_stream(c, &p);
	}
	REQUIRE(ft_capture_done(c) && !ft_capture_waiting(c));
	ft_capture_stats(c, &st);
	REQUIRE(st.frames == frames && frames == info->frames);
	REQUIRE(st.errors == (info->readable ? 0u : 1u));
	REQUIRE((ft_capture_end_reason(c)[0] == '\0') == info->readable);
	ft_capture_close(c);
	if (p != NULL)
		pcap_close(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct ft_capture_info info;
	struct ft_capture_stats st;
	struct ft_capture *c;
	pcap_t *p = NULL;
	uint64_t frames = 0;
	FILE *f = fopen(path, "wb");

	REQUIRE(f != NULL);
	REQUIRE(size == 0 || fwrite(data, 1, size, f) == size);
	REQUIRE(fclose(f) == 0);

	REQUIRE(ft_capture_scan(path, FUZZ_FRAME_MAX, &info) == 0);
	REQUIRE(info.readable || info.why[0] != '\0');
	if (info.readable) {
		p = pcap_open_offline(path, errbuf);
		REQUIRE(p != NULL);
	}
	c = ft_capture_open(path, FUZZ_FRAME_MAX, ts_off, ts_flag);
	REQUIRE(c != NULL || !info.readable);
	as_stream(data, size, c != NULL);
	if (c != NULL)
		frames = drain_stream(c, &p);
	if (c != NULL) {
		/* The reader stops where the scan did: at the end of a file it
		 * takes, else on the record it refused (one error). */
		REQUIRE(ft_capture_done(c));
		ft_capture_stats(c, &st);
		REQUIRE(st.frames == frames && frames == info.frames);
		REQUIRE(st.errors == (info.readable ? 0u : 1u));
		ft_capture_close(c);
	}
	/* A file the scan takes is read whole, and libpcap ends there too. */
	if (p != NULL) {
		struct pcap_pkthdr *h;
		const u_char *d;

		REQUIRE(pcap_next_ex(p, &h, &d) == PCAP_ERROR_BREAK);
		pcap_close(p);
	}
	REQUIRE(rte_mempool_avail_count(pool) == FUZZ_POOL);
	return 0;
}
