/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/capture against libpcap itself: every capture under tests/data, and
 * generated files for each format the reader takes (both byte orders,
 * microsecond and nanosecond; pcapng in both byte orders, every kind of time
 * resolution and offset, blocks that are not frames) and each it must leave
 * to libpcap (another link type, a cut record, a record above the snaplen or
 * above an mbuf; pcapng's simple packet blocks, second sections, malformed
 * blocks). Frame by frame: the bytes, the lengths and the microsecond time the
 * pcap PMD would give. Also: a pool run dry loses no frame, a record cut
 * after the scan ends the capture with one error, records straddle the read
 * buffer. Streams (a pipe, written in pieces that cut the file header and
 * records): the frames the file gives, none before its record is whole,
 * waiting while a record is incomplete; a stream cut inside a record, or
 * with a record too long, ends there with one error and its reason; a
 * stream that is not a capture is refused at open. Other link types (Linux
 * cooked v1 and v2, raw IP, IPv4, IPv6, BSD and OpenBSD loopback; pcapng
 * with an interface of each): each frame is the Ethernet header made for it
 * (EtherType, the cooked header's MAC) then the record's bytes after the
 * link header, from a file and from a stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>
#include <rte_byteorder.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "ft_capture.h"
#include "ft_unit.h"

#define MAX_FRAME 2048

static struct rte_mempool *pool;
static int ts_off = -1;
static uint64_t ts_flag;
static char tmpdir[] = "/tmp/ft-test-capture-XXXXXX";
static unsigned int files_compared;

/* Read the whole capture with the reader and with libpcap; compare.
 * @return frames compared, or -1 after a failed check */
static int64_t
compare_with_libpcap(const char *path, const char *what)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct ft_capture *c = ft_capture_open(path, MAX_FRAME, ts_off, ts_flag);
	pcap_t *p = pcap_open_offline(path, errbuf);
	struct rte_mbuf *pkts[32];
	int64_t n = 0;
	bool ok = true;

	if (c == NULL || p == NULL) {
		checkf(fmt("%s: opens", what), false, "reader %p, libpcap %s", (void *)c,
		       p == NULL ? errbuf : "ok");
		ft_capture_close(c);
		if (p != NULL)
			pcap_close(p);
		return -1;
	}
	while (ok) {
		uint16_t k = ft_capture_read_burst(c, pool, 7, pkts, 32), i;

		if (k == 0)
			break;
		for (i = 0; i < k; i++) {
			struct pcap_pkthdr *h;
			const u_char *d;
			struct rte_mbuf *m = pkts[i];
			uint64_t us;

			if (ok && pcap_next_ex(p, &h, &d) != 1) {
				checkf(fmt("%s: frame %" PRId64, what, n + 1), false,
				       "libpcap has no more frames");
				ok = false;
			}
			if (ok) {
				us = (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec;
				if (m->pkt_len != h->caplen || m->data_len != h->caplen ||
				    m->nb_segs != 1 || m->port != 7 ||
				    memcmp(rte_pktmbuf_mtod(m, void *), d, h->caplen) != 0 ||
				    *RTE_MBUF_DYNFIELD(m, ts_off, uint64_t *) != us ||
				    !(m->ol_flags & ts_flag)) {
					checkf(fmt("%s: frame %" PRId64, what, n + 1), false,
					       "len %u/%u (libpcap %u), ts %" PRIu64 " (libpcap %" PRIu64 ")",
					       m->pkt_len, m->data_len, h->caplen,
					       *RTE_MBUF_DYNFIELD(m, ts_off, uint64_t *), us);
					ok = false;
				}
			}
			n++;
		}
		rte_pktmbuf_free_bulk(pkts, k);
	}
	if (ok) {
		struct pcap_pkthdr *h;
		const u_char *d;
		struct ft_capture_stats st;

		ft_capture_stats(c, &st);
		ok = pcap_next_ex(p, &h, &d) == PCAP_ERROR_BREAK && ft_capture_done(c) &&
		     st.frames == (uint64_t)n && st.errors == 0;
		checkf(fmt("%s: %" PRId64 " frames, as libpcap's", what, n), ok,
		       "libpcap has more, or done %d, stats %" PRIu64 " frames %" PRIu64 " errors",
		       ft_capture_done(c), st.frames, st.errors);
	}
	ft_capture_close(c);
	pcap_close(p);
	return ok ? n : -1;
}

/* Every capture under tests/data: readable, and the same as libpcap's. */
static int
visit(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	struct ft_capture_info info;
	size_t len = strlen(path);

	RTE_SET_USED(sb);
	RTE_SET_USED(ftw);
	if (type != FTW_F || len < 5 || strcmp(path + len - 5, ".pcap") != 0)
		return 0;
	if (ft_capture_scan(path, MAX_FRAME, &info) != 0 || !info.readable) {
		/* Jumbo frames are the PMD's (tests/data/sig/jumbo.pcap). */
		checkf(fmt("%s: readable, or left to the PMD for its jumbo frames", path),
		       strstr(info.why, "above an mbuf's") != NULL, "%s", info.why);
		return 0;
	}
	if (compare_with_libpcap(path, path) == (int64_t)info.frames)
		files_compared++;
	else
		checkf(fmt("%s: as many frames as the scan", path), false, "scan %" PRIu64,
		       info.frames);
	return 0;
}

/* A generated capture. */
struct gen {
	FILE *f;
	bool swap;
};

static void
put32(struct gen *g, uint32_t v)
{
	if (g->swap)
		v = rte_bswap32(v);
	fwrite(&v, 4, 1, g->f);
}

static void
put16(struct gen *g, uint16_t v)
{
	if (g->swap)
		v = rte_bswap16(v);
	fwrite(&v, 2, 1, g->f);
}

/* Create a file in the temporary directory (its path stays valid for the
 * next 7 files made). */
static char *
gen_create(struct gen *g, const char *name, const char *ext, bool swap)
{
	static char path[8][PATH_MAX];
	static unsigned int k;
	char *p = path[k++ % 8];

	snprintf(p, PATH_MAX, "%s/%s.%s", tmpdir, name, ext);
	g->f = fopen(p, "wb");
	g->swap = swap;
	return p;
}

static char *
gen_open(struct gen *g, const char *name, bool swap, uint32_t magic, uint16_t vmin,
	 uint32_t snaplen, uint32_t linktype)
{
	char *p = gen_create(g, name, "pcap", swap);

	put32(g, magic);
	put16(g, 2);
	put16(g, vmin);
	put32(g, 0);
	put32(g, 0);
	put32(g, snaplen);
	put32(g, linktype);
	return p;
}

/* A frame of @p caplen bytes whose content depends on @p seed. */
static void
gen_frame(struct gen *g, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t seed)
{
	uint32_t i;

	put32(g, sec);
	put32(g, frac);
	put32(g, caplen);
	put32(g, caplen + (seed & 7));
	for (i = 0; i < caplen; i++)
		fputc((int)((seed * 31 + i * 7) & 0xff), g->f);
}

static void
gen_frames(struct gen *g, unsigned int n, bool nsec)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		gen_frame(g, 1700000000u + i, nsec ? 999999999u - i * 1237u : 999999u - i * 13u,
			  14 + (i * 389u) % (MAX_FRAME - 13), i);
}

/* pcapng ---------------------------------------------------------------- */

static char *
ng_open(struct gen *g, const char *name, bool swap, uint16_t major, uint16_t minor)
{
	char *p = gen_create(g, name, "pcapng", swap);

	put32(g, 0x0a0d0d0au);
	put32(g, 28);
	put32(g, 0x1a2b3c4du);
	put16(g, major);
	put16(g, minor);
	put32(g, 0xffffffffu); /* section length: unknown */
	put32(g, 0xffffffffu);
	put32(g, 28);
	return p;
}

/* A block of @p type whose body is @p body (@p len bytes, padded here). */
static void
ng_block(struct gen *g, uint32_t type, const void *body, uint32_t len)
{
	static const uint8_t pad[4];
	uint32_t total = 12 + ((len + 3) & ~3u);

	put32(g, type);
	put32(g, total);
	fwrite(body, 1, len, g->f);
	fwrite(pad, 1, ((len + 3) & ~3u) - len, g->f);
	put32(g, total);
}

/* Append a field to a block body, in the file's byte order. */
static void
body_put(const struct gen *g, uint8_t *b, uint32_t *n, uint64_t v, unsigned int bytes)
{
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;

	if (bytes == 2)
		v16 = g->swap ? rte_bswap16(v16) : v16;
	else if (bytes == 4)
		v32 = g->swap ? rte_bswap32(v32) : v32;
	else
		v = g->swap ? rte_bswap64(v) : v;
	memcpy(b + *n, bytes == 2 ? (void *)&v16 : bytes == 4 ? (void *)&v32 : (void *)&v, bytes);
	*n += bytes;
}

/* An interface: link type, snaplen, and its time stamp resolution option
 * (@p tsresol < 0: none) and offset option (@p tsoffset 0: none). */
static void
ng_idb(struct gen *g, uint16_t linktype, uint32_t snaplen, int tsresol, int64_t tsoffset)
{
	uint8_t b[64];
	uint32_t n = 0;

	body_put(g, b, &n, linktype, 2);
	body_put(g, b, &n, 0, 2);
	body_put(g, b, &n, snaplen, 4);
	body_put(g, b, &n, 2, 2); /* if_name, 5 bytes and padding: skipped */
	body_put(g, b, &n, 5, 2);
	memcpy(b + n, "eth0\0\0\0", 8);
	n += 8;
	if (tsresol >= 0) {
		body_put(g, b, &n, 9, 2);
		body_put(g, b, &n, 1, 2);
		body_put(g, b, &n, 0, 4);
		b[n - 4] = (uint8_t)tsresol;
	}
	if (tsoffset != 0) {
		body_put(g, b, &n, 14, 2);
		body_put(g, b, &n, 8, 2);
		body_put(g, b, &n, (uint64_t)tsoffset, 8);
	}
	body_put(g, b, &n, 0, 2); /* opt_endofopt */
	body_put(g, b, &n, 0, 2);
	ng_block(g, 1, b, n);
}

/* An Enhanced Packet Block of @p caplen bytes depending on @p seed, with
 * an epb_flags option when @p opt. */
static void
ng_epb(struct gen *g, uint32_t iface, uint64_t t, uint32_t caplen, uint32_t seed, bool opt)
{
	uint32_t padded = (caplen + 3) & ~3u, total = 32 + padded + (opt ? 12 : 0), i;

	put32(g, 6);
	put32(g, total);
	put32(g, iface);
	put32(g, (uint32_t)(t >> 32));
	put32(g, (uint32_t)t);
	put32(g, caplen);
	put32(g, caplen + (seed & 7));
	for (i = 0; i < padded; i++)
		fputc(i < caplen ? (int)((seed * 31 + i * 7) & 0xff) : 0, g->f);
	if (opt) {
		put16(g, 2); /* epb_flags */
		put16(g, 4);
		put32(g, 1);
		put32(g, 0); /* opt_endofopt */
	}
	put32(g, total);
}

/* The scan leaves the file to libpcap, saying why; @p header_level: the
 * reader refuses to open it too (a bad record, the reader meets only when it
 * reaches it). */
static void
expect_not_readable(const char *what, const char *path, const char *why_part, bool header_level)
{
	struct ft_capture_info info;
	int rc = ft_capture_scan(path, MAX_FRAME, &info);

	checkf(fmt("%s: left to libpcap (%s)", what, why_part),
	       rc == 0 && !info.readable && strstr(info.why, why_part) != NULL,
	       "rc %d, readable %d, why '%s'", rc, info.readable, info.why);
	if (header_level) {
		struct ft_capture *c = ft_capture_open(path, MAX_FRAME, ts_off, ts_flag);

		checkf(fmt("%s: the reader refuses to open it", what), c == NULL, "opened");
		ft_capture_close(c);
	}
}

/* Frames the reader delivers before it stops; -1 unless it stopped on one
 * error. */
static int
read_count(const char *path)
{
	struct ft_capture *c = ft_capture_open(path, MAX_FRAME, ts_off, ts_flag);
	struct rte_mbuf *pkts[32];
	struct ft_capture_stats st;
	int n = 0;
	uint16_t k;

	if (c == NULL)
		return -1;
	while ((k = ft_capture_read_burst(c, pool, 0, pkts, 32)) != 0) {
		n += k;
		rte_pktmbuf_free_bulk(pkts, k);
	}
	ft_capture_stats(c, &st);
	ft_capture_close(c);
	return st.errors == 1 ? n : -1;
}

static void
test_formats(void)
{
	static const struct {
		const char *name;
		bool swap, nsec;
	} fmts[] = {
		{ "us_le", false, false }, { "us_be", true, false },
		{ "ns_le", false, true }, { "ns_be", true, true },
	};
	struct ft_capture_info info;
	struct gen g;
	unsigned int i;

	for (i = 0; i < RTE_DIM(fmts); i++) {
		/* 4000 frames of up to 2 KiB: about 4 MiB, so records straddle
		 * the 1 MiB read buffer. */
		char *p = gen_open(&g, fmts[i].name, fmts[i].swap,
				   fmts[i].nsec ? 0xa1b23c4du : 0xa1b2c3d4u, 4, 65535, 1);

		gen_frames(&g, 4000, fmts[i].nsec);
		fclose(g.f);
		/* Scanned before checkf(): its arguments are evaluated in no
		 * set order. */
		int rc = ft_capture_scan(p, MAX_FRAME, &info);

		checkf(fmt("%s: scan finds 4000 frames", fmts[i].name),
		       rc == 0 && info.readable && info.frames == 4000 && info.linktype == 1,
		       "readable %d, %" PRIu64 " frames, why '%s'", info.readable, info.frames,
		       info.why);
		check(fmt("%s: same frames as libpcap", fmts[i].name),
		      compare_with_libpcap(p, fmts[i].name) == 4000);
	}

	/* No frames: readable, and done at once. */
	{
		char *p = gen_open(&g, "empty", false, 0xa1b2c3d4u, 4, 0, 1);

		fclose(g.f);
		check("header only: readable, 0 frames",
		      ft_capture_scan(p, MAX_FRAME, &info) == 0 && info.readable && info.frames == 0);
		check("header only: 0 frames, as libpcap's", compare_with_libpcap(p, "header only") == 0);
	}

	/* What libpcap must handle. */
	{
		char *p = gen_open(&g, "junk", false, 0x0a0d0d0bu, 4, 65535, 1);

		fclose(g.f);
		expect_not_readable("not pcap", p, "neither pcap nor pcapng", true);
		p = gen_open(&g, "v22", false, 0xa1b2c3d4u, 2, 65535, 1);
		fclose(g.f);
		expect_not_readable("version 2.2", p, "version", true);
		p = gen_open(&g, "ieee802_11", false, 0xa1b2c3d4u, 4, 65535, 105);
		gen_frames(&g, 3, false);
		fclose(g.f);
		expect_not_readable("link type 105", p, "link type 105", true);
		p = gen_open(&g, "cut", false, 0xa1b2c3d4u, 4, 65535, 1);
		gen_frames(&g, 3, false);
		put32(&g, 1);
		put32(&g, 2);
		put32(&g, 100);
		put32(&g, 100);
		fputs("short", g.f);
		fclose(g.f);
		expect_not_readable("record cut", p, "cut inside record 4", false);
		check("record cut: the reader stops there, one error", read_count(p) == 3);
		p = gen_open(&g, "cuthdr", false, 0xa1b2c3d4u, 4, 65535, 1);
		gen_frames(&g, 2, false);
		put32(&g, 1);
		fclose(g.f);
		expect_not_readable("record header cut", p, "cut inside the header of record 3", false);
		p = gen_open(&g, "snaplen", false, 0xa1b2c3d4u, 4, 100, 1);
		gen_frame(&g, 1, 2, 60, 1);
		gen_frame(&g, 1, 2, 101, 2);
		fclose(g.f);
		expect_not_readable("above the snaplen (libpcap cuts it)", p, "record 2: 101 captured bytes", false);
		check("above the snaplen: the reader stops there, one error", read_count(p) == 1);
		p = gen_open(&g, "jumbo", false, 0xa1b2c3d4u, 4, 65535, 1);
		gen_frame(&g, 1, 2, MAX_FRAME + 1, 1);
		fclose(g.f);
		expect_not_readable("above an mbuf", p, "record 1: a frame of 2049 bytes", false);
		check("above an mbuf: the reader stops there, one error", read_count(p) == 0);
		snprintf(p, PATH_MAX, "%s/short.pcap", tmpdir);
		g.f = fopen(p, "wb");
		fputs("tiny", g.f);
		fclose(g.f);
		expect_not_readable("shorter than a header", p, "shorter", true);
		snprintf(p, PATH_MAX, "%s/absent.pcap", tmpdir);
		errno = 0;
		check("a missing file: -1, ENOENT",
		      ft_capture_scan(p, MAX_FRAME, &info) == -1 && errno == ENOENT);
	}
}

/* pcapng files the reader takes (both byte orders, every kind of time
 * resolution and offset, interfaces described late, blocks that are not
 * frames in between, options on packets) against libpcap, and the files it
 * must leave to libpcap. */
static void
test_pcapng(void)
{
	/* if_tsresol values: none (microseconds), ns, ms, s, 2^-20, 2^-40. */
	static const int res[] = { -1, 9, 3, 0, 0x80 | 20, 0x80 | 40 };
	static const uint64_t units[] = { 1000000, 1000000000, 1000, 1, 1u << 20, 1ull << 40 };
	static const int64_t offs[] = { 0, 0, -3600, 1000000000, 0, 7 };
	static const uint8_t junk[40] = { 1, 2, 3 };
	struct ft_capture_info info;
	struct gen g;
	unsigned int b, i;
	char *p;
	int rc;

	for (b = 0; b < 2; b++) {
		const char *name = b ? "ng_be" : "ng_le";

		p = ng_open(&g, name, b == 1, 1, b ? 2 : 0);
		for (i = 0; i < 5; i++)
			ng_idb(&g, 1, 65535, res[i], offs[i]);
		for (i = 0; i < 4000; i++) {
			unsigned int k = i % (i < 2000 ? 5 : 6);
			uint64_t t = (1700000000ull + i) * units[k] + (i * 7919ull) % units[k];

			if (i == 2000)
				ng_idb(&g, 1, 65535, res[5], offs[5]);
			if (i % 97 == 0) {
				ng_block(&g, 5, junk, 28);  /* interface statistics */
				ng_block(&g, 4, junk, 13);  /* name resolution */
				ng_block(&g, 0xbad, junk, 0);
			}
			if (i % 500 == 1)
				t = 0xfedcba9876543210ull * (i + 1); /* wraps, as in libpcap */
			ng_epb(&g, k, t, 14 + (i * 389u) % (MAX_FRAME - 13), i, i % 3 == 0);
		}
		fclose(g.f);
		rc = ft_capture_scan(p, MAX_FRAME, &info);
		checkf(fmt("%s: scan finds 4000 frames", name),
		       rc == 0 && info.readable && info.frames == 4000 && info.linktype == 1,
		       "readable %d, %" PRIu64 " frames, why '%s'", info.readable, info.frames,
		       info.why);
		check(fmt("%s: same frames and times as libpcap", name),
		      compare_with_libpcap(p, name) == 4000);
	}
	p = ng_open(&g, "ng_empty", false, 1, 0);
	ng_idb(&g, 1, 0, -1, 0); /* snaplen 0: the most */
	fclose(g.f);
	rc = ft_capture_scan(p, MAX_FRAME, &info);
	check("pcapng, an interface, no frame: readable, 0 frames",
	      rc == 0 && info.readable && info.frames == 0);
	check("pcapng, no frame: as libpcap's", compare_with_libpcap(p, "pcapng, no frame") == 0);

	/* Left to libpcap: each file has two good frames, then what the
	 * reader does not take (the reader stops there with one error): raw
	 * words, or one of the cases below them (kind). */
	static const struct {
		const char *name, *why;
		int kind;
		uint32_t n;
		uint32_t w[16];
	} bad[] = {
		{ "simple packet block", "record 3: a simple packet block", 0, 4, { 3, 16, 0, 16 } },
		{ "second section", "record 3: a second section", 0, 7,
		  { 0x0a0d0d0au, 28, 0x1a2b3c4du, 1, 0, 0, 28 } },
		{ "trailer", "record 3: a block whose trailer says 64 bytes, not 60", 0, 15,
		  { 6, 60, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 64 } },
		{ "length not a multiple of 4", "record 3: a block of 30 bytes", 0, 5,
		  { 0xbad, 30, 0, 0, 0 } },
		{ "above the block", "record 3: 200 captured bytes", 0, 8,
		  { 6, 32, 0, 0, 3, 200, 200, 32 } },
		{ "cut inside a block", "cut inside record 3", 0, 3, { 6, 92, 0 } },
		{ "cut inside a block header", "cut inside the header of record 3", 0, 1, { 6 } },
		{ "packet on an undescribed interface", "record 3: a packet on undescribed interface 1",
		  1, 0, { 0 } },
		{ "above the snaplen", "record 3: 101 captured bytes", 2, 0, { 0 } },
		{ "above an mbuf", "record 3: a frame of 2049 bytes", 3, 0, { 0 } },
		{ "malformed interface option", "record 3: interface 1 has a malformed option", 4, 0,
		  { 0 } },
		{ "another link type", "record 3: link type 105", 5, 0, { 0 } },
	};
	/* An interface block whose if_tsresol has 2 bytes. */
	static const uint8_t bad_idb[16] = { 1, 0, 0, 0, 100, 0, 0, 0, 9, 0, 2, 0, 6, 6, 0, 0 };

	for (i = 0; i < RTE_DIM(bad); i++) {
		/* 2049 bytes need a snaplen above an mbuf's. */
		p = ng_open(&g, "ng_bad", false, 1, 0);
		ng_idb(&g, 1, bad[i].kind == 3 ? 65535 : 100, -1, 0);
		ng_epb(&g, 0, 1, 60, 1, false);
		ng_epb(&g, 0, 2, 60, 2, true);
		for (b = 0; b < bad[i].n; b++)
			put32(&g, bad[i].w[b]);
		if (bad[i].kind == 1 || bad[i].kind == 2 || bad[i].kind == 3)
			ng_epb(&g, bad[i].kind == 1, 3,
			       bad[i].kind == 1 ? 60 : bad[i].kind == 2 ? 101 : MAX_FRAME + 1, 3, false);
		else if (bad[i].kind == 4)
			ng_block(&g, 1, bad_idb, sizeof(bad_idb));
		else if (bad[i].kind == 5)
			ng_idb(&g, 105, 100, -1, 0);
		fclose(g.f);
		expect_not_readable(fmt("pcapng, %s", bad[i].name), p, bad[i].why, false);
		check(fmt("pcapng, %s: the reader stops there, one error", bad[i].name),
		      read_count(p) == 2);
	}

	/* Refused at the section header: the reader does not open them. */
	p = ng_open(&g, "ng_v2", false, 2, 0);
	ng_idb(&g, 1, 100, -1, 0);
	fclose(g.f);
	expect_not_readable("pcapng 2.0", p, "pcapng version 2.0", true);
	p = ng_open(&g, "ng_noif", true, 1, 0);
	fclose(g.f);
	expect_not_readable("pcapng without an interface", p, "no interface description block",
			    false);
	check("pcapng without an interface: the reader stops, one error", read_count(p) == 0);
	p = ng_open(&g, "ng_order", false, 1, 0);
	fclose(g.f);
	{
		FILE *f = fopen(p, "r+b");

		fseek(f, 8, SEEK_SET);
		fputs("ABCD", f);
		fclose(f);
	}
	expect_not_readable("pcapng with a bad byte-order magic", p, "byte-order", true);
}

/* A pool run dry: nothing read, nothing lost; reading goes on once mbufs are
 * back. A record cut after the scan: the capture ends, one error. */
static void
test_dry_pool_and_cut(void)
{
	struct rte_mempool *small = rte_pktmbuf_pool_create("cap_small", 48, 0, 0,
							    MAX_FRAME + RTE_PKTMBUF_HEADROOM,
							    SOCKET_ID_ANY);
	struct rte_mbuf *a[32], *b[32];
	struct ft_capture_stats st;
	struct ft_capture *c;
	struct gen g;
	char *p = gen_open(&g, "dry", false, 0xa1b2c3d4u, 4, 65535, 1);
	uint16_t n1, n2, n3;

	gen_frames(&g, 40, false);
	fclose(g.f);
	c = ft_capture_open(p, MAX_FRAME, ts_off, ts_flag);
	if (small == NULL || c == NULL) {
		check("dry pool: set up", false);
		ft_capture_close(c);
		rte_mempool_free(small);
		return;
	}
	n1 = ft_capture_read_burst(c, small, 0, a, 32);
	n2 = ft_capture_read_burst(c, small, 0, b, 32); /* 16 left: none taken */
	check("dry pool: 32 read, then 0 and not done", n1 == 32 && n2 == 0 && !ft_capture_done(c));
	rte_pktmbuf_free_bulk(a, n1);
	n3 = ft_capture_read_burst(c, small, 0, b, 32);
	checkf("dry pool: the next 8 frames once mbufs are back, none lost",
	       n3 == 8 && b[0]->pkt_len == 14 + (32 * 389u) % (MAX_FRAME - 13) &&
	       *RTE_MBUF_DYNFIELD(b[0], ts_off, uint64_t *) == (1700000000ull + 32) * 1000000 +
	       999999 - 32 * 13,
	       "read %u, first %u bytes", n3, n3 ? b[0]->pkt_len : 0);
	rte_pktmbuf_free_bulk(b, n3);
	check("dry pool: then done", ft_capture_read_burst(c, small, 0, b, 32) == 0 &&
	      ft_capture_done(c));
	ft_capture_close(c);

	/* A capture of 1500 frames (about 1.5 MiB), cut in the middle of
	 * frame 1201 once the reader has taken its first 1 MiB. */
	p = gen_open(&g, "cut_late", false, 0xa1b2c3d4u, 4, 65535, 1);
	gen_frames(&g, 1500, false);
	fclose(g.f);
	c = ft_capture_open(p, MAX_FRAME, ts_off, ts_flag);
	{
		long cut = 24;
		unsigned int i, total = 0;

		for (i = 0; i < 1200; i++)
			cut += 16 + 14 + (i * 389u) % (MAX_FRAME - 13);
		if (c == NULL || truncate(p, cut + 20) != 0)
			check("cut: set up", false);
		while (c != NULL && (n1 = ft_capture_read_burst(c, pool, 0, a, 32)) != 0) {
			total += n1;
			rte_pktmbuf_free_bulk(a, n1);
		}
		if (c != NULL)
			ft_capture_stats(c, &st);
		checkf("cut after the scan: 1200 frames, done, 1 error",
		       c != NULL && total == 1200 && ft_capture_done(c) && st.frames == 1200 &&
		       st.errors == 1, "read %u, errors %" PRIu64, total, c ? st.errors : 0);
	}
	check("cut: every mbuf back in the pool", rte_mempool_avail_count(small) == 48);
	ft_capture_close(c);
	rte_mempool_free(small);
}

/* Streams ----------------------------------------------------------------- */

/* One frame as read: enough to tell frames apart. */
struct frame_sum {
	uint32_t len;
	uint64_t us;
	uint64_t fnv;
};

/* Chained frames seen, and those not laid out as the pcap PMD lays them
 * out (the first mbuf filled to its tailroom, the others from their
 * buffer's start, each full but the last; the lengths adding up). */
static unsigned int chained, chains_bad;

static void
sum_frames(struct rte_mbuf **m, uint16_t n, struct frame_sum *out, unsigned int *k,
	   unsigned int max)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		uint64_t h = 1469598103934665603ull;
		uint32_t j, total = 0, segs = 0;
		const struct rte_mbuf *s;

		for (s = m[i]; s != NULL; s = s->next, segs++) {
			const uint8_t *d = rte_pktmbuf_mtod(s, const uint8_t *);

			for (j = 0; j < s->data_len; j++)
				h = (h ^ d[j]) * 1099511628211ull;
			total += s->data_len;
			if (s->next != NULL && rte_pktmbuf_tailroom(s) != 0)
				chains_bad++; /* not full */
			if (s != m[i] && s->data_off != 0)
				chains_bad++; /* headroom in a later segment */
		}
		if (segs > 1)
			chained++;
		if (total != m[i]->pkt_len || segs != m[i]->nb_segs)
			chains_bad++;
		if (*k < max)
			out[(*k)++] = (struct frame_sum){ m[i]->pkt_len,
				*RTE_MBUF_DYNFIELD(m[i], ts_off, uint64_t *), h };
	}
	rte_pktmbuf_free_bulk(m, n);
}

/* Read what a reader gives now from @p mp. @return frames */
static unsigned int
drain_from(struct ft_capture *c, struct rte_mempool *mp, struct frame_sum *out, unsigned int *k,
	   unsigned int max)
{
	struct rte_mbuf *m[32];
	unsigned int total = 0;
	uint16_t n;

	while ((n = ft_capture_read_burst(c, mp, 0, m, 32)) != 0) {
		sum_frames(m, n, out, k, max);
		total += n;
	}
	return total;
}

static unsigned int
drain(struct ft_capture *c, struct frame_sum *out, unsigned int *k, unsigned int max)
{
	return drain_from(c, pool, out, k, max);
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = NULL;
	long n;

	if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (b = malloc((size_t)n)) != NULL && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	if (b != NULL)
		*len = (size_t)n;
	if (f != NULL)
		fclose(f);
	return b;
}

/* A pipe holding @p n bytes of @p b (the pipe made large enough);
 * @return its read end, the write end in *w */
static int
pipe_with(const uint8_t *b, size_t n, int *w)
{
	int fds[2];

	if (pipe(fds) != 0)
		return -1;
	(void)fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
	if (n != 0 && write(fds[1], b, n) != (ssize_t)n) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	*w = fds[1];
	return fds[0];
}

#define STREAM_FRAMES 300

/* A stream's frames longer than an mbuf: chained (@p b, @p len: the
 * generated stream; @p want: its frames as the file reader gives them). */
static void
test_stream_long_frames(const uint8_t *b, size_t len, const struct frame_sum *want)
{
	static struct frame_sum got[STREAM_FRAMES];
	struct rte_mempool *p512 = rte_pktmbuf_pool_create("cap_512", 1023, 0, 0,
							   512 + RTE_PKTMBUF_HEADROOM, SOCKET_ID_ANY);
	struct rte_mempool *p8 = rte_pktmbuf_pool_create("cap_8", 8, 0, 0, 512 + RTE_PKTMBUF_HEADROOM,
							 SOCKET_ID_ANY);
	struct rte_mbuf *held[6], *one[1];
	struct ft_capture_stats st;
	unsigned int ng = 0, r1, i, dropped_ok = 0, reads = 0;
	struct ft_capture *c;
	struct gen g;
	char why[128];
	int rfd, wfd = -1;
	char *p;

	if (p512 == NULL || p8 == NULL) {
		check("long frames: pools", false);
		goto out;
	}
	/* Mbufs of 512 bytes: every frame above 512 bytes comes in a chain. */
	rfd = pipe_with(b, len, &wfd);
	if (rfd >= 0)
		close(wfd);
	c = rfd < 0 ? NULL : ft_capture_open_stream(rfd, why, sizeof(why));
	if (c != NULL) {
		ft_capture_set_timestamp(c, ts_off, ts_flag);
		chained = chains_bad = 0;
		r1 = drain_from(c, p512, got, &ng, STREAM_FRAMES);
		ft_capture_stats(c, &st);
		checkf("long frames: all 300 read, done, no error", r1 == STREAM_FRAMES &&
		       ft_capture_done(c) && st.errors == 0, "read %u, errors %" PRIu64, r1, st.errors);
		checkf("long frames: the file's bytes and times, across the chains",
		       ng == STREAM_FRAMES && memcmp(got, want, sizeof(got)) == 0, "%u frames", ng);
		checkf("long frames: chained as the pcap PMD chains them", chained > 200 && chains_bad == 0,
		       "%u chained, %u not as the PMD", chained, chains_bad);
		ft_capture_close(c);
	} else {
		check("long frames: opened", false);
	}
	check("long frames: every mbuf back", rte_mempool_avail_count(p512) == 1023);

	/* A pool of 8 with 6 held: frame 4 (1181 bytes) needs 3 mbufs and
	 * waits; dropped, it is counted; the others are read once mbufs are back. */
	rfd = pipe_with(b, len, &wfd);
	if (rfd >= 0)
		close(wfd);
	c = rfd < 0 ? NULL : ft_capture_open_stream(rfd, why, sizeof(why));
	if (c != NULL && rte_pktmbuf_alloc_bulk(p8, held, 6) == 0) {
		for (i = 0; i < 3; i++)
			reads += ft_capture_read_burst(c, p8, 0, one, 1) == 1 ? (rte_pktmbuf_free(one[0]), 1) : 0;
		dropped_ok = reads == 3 && ft_capture_read_burst(c, p8, 0, one, 1) == 0 &&
			     ft_capture_wants_mbufs(c) && !ft_capture_done(c) && ft_capture_drop_frame(c);
		rte_pktmbuf_free_bulk(held, 6);
		while (ft_capture_read_burst(c, p8, 0, one, 1) == 1) {
			reads++;
			rte_pktmbuf_free(one[0]);
		}
		ft_capture_stats(c, &st);
		checkf("a long frame waits for mbufs, then is dropped and counted (nombuf)", dropped_ok &&
		       reads == STREAM_FRAMES - 1 && st.nombuf == 1 && st.errors == 0 && ft_capture_done(c),
		       "read %u, nombuf %" PRIu64, reads, st.nombuf);
	} else {
		check("waiting for mbufs: set up", false);
	}
	ft_capture_close(c);

	/* A frame that needs more mbufs than the pool has ends the stream. */
	p = gen_open(&g, "too_long", false, 0xa1b2c3d4u, 4, 65535, 1);
	gen_frames(&g, 2, false);
	gen_frame(&g, 1700000100u, 0, 6000, 5);
	fclose(g.f);
	{
		size_t n = 0;
		uint8_t *tl = slurp(p, &n);

		rfd = tl == NULL ? -1 : pipe_with(tl, n, &wfd);
		free(tl);
	}
	if (rfd >= 0)
		close(wfd);
	c = rfd < 0 ? NULL : ft_capture_open_stream(rfd, why, sizeof(why));
	if (c != NULL) {
		r1 = 0;
		while (ft_capture_read_burst(c, p8, 0, one, 1) == 1) {
			r1++;
			rte_pktmbuf_free(one[0]);
		}
		ft_capture_stats(c, &st);
		checkf("a frame needing more mbufs than the pool has ends the stream, with why",
		       r1 == 2 && ft_capture_done(c) && st.errors == 1 &&
		       strcmp(ft_capture_end_reason(c),
			      "record 3: a frame of 6000 bytes needs 10 mbufs (the pool has 8)") == 0,
		       "read %u, '%s'", r1, ft_capture_end_reason(c));
		ft_capture_close(c);
	} else {
		check("too long: opened", false);
	}
	check("waiting for mbufs: every mbuf back", rte_mempool_avail_count(p8) == 8);
out:
	rte_mempool_free(p512);
	rte_mempool_free(p8);
}

static void
test_stream(void)
{
	static struct frame_sum want[STREAM_FRAMES], got[STREAM_FRAMES];
	unsigned int nw = 0, ng = 0, r1, r2, r3;
	struct ft_capture_stats st;
	struct ft_capture *c;
	struct gen g;
	char why[128];
	size_t len = 0, rec[STREAM_FRAMES + 1], cut1, cut2;
	uint8_t *b;
	int rfd, wfd = -1, i;
	char *p = gen_open(&g, "stream", false, 0xa1b2c3d4u, 4, 65535, 1);

	gen_frames(&g, STREAM_FRAMES, false);
	fclose(g.f);
	c = ft_capture_open(p, MAX_FRAME, ts_off, ts_flag);
	b = slurp(p, &len);
	if (c == NULL || b == NULL) {
		check("stream: set up", false);
		ft_capture_close(c);
		free(b);
		return;
	}
	drain(c, want, &nw, STREAM_FRAMES);
	ft_capture_close(c);
	rec[0] = 24;
	for (i = 0; i < STREAM_FRAMES; i++)
		rec[i + 1] = rec[i] + 16 + 14 + ((unsigned int)i * 389u) % (MAX_FRAME - 13);

	/* The header and 100 records and 10 bytes of the next at first. */
	cut1 = rec[100] + 10;
	cut2 = rec[200] + 7; /* inside record 201's header */
	rfd = pipe_with(b, cut1, &wfd);
	c = rfd < 0 ? NULL : ft_capture_open_stream(rfd, why, sizeof(why));
	if (c == NULL) {
		checkf("stream: opened", false, "%s", rfd < 0 ? "no pipe" : why);
		free(b);
		if (wfd >= 0)
			close(wfd);
		return;
	}
	ft_capture_set_timestamp(c, ts_off, ts_flag);
	r1 = drain(c, got, &ng, STREAM_FRAMES);
	checkf("stream: the 100 whole records, then waiting for the 101st", r1 == 100 &&
	       ft_capture_waiting(c) && !ft_capture_done(c), "read %u, waiting %d", r1,
	       ft_capture_waiting(c));
	r2 = write(wfd, b + cut1, cut2 - cut1) == (ssize_t)(cut2 - cut1) ? drain(c, got, &ng, STREAM_FRAMES) : 0;
	checkf("stream: 100 more once they arrive, then waiting (a header cut)", r2 == 100 &&
	       ft_capture_waiting(c), "read %u", r2);
	r3 = write(wfd, b + cut2, len - cut2) == (ssize_t)(len - cut2) ? drain(c, got, &ng, STREAM_FRAMES) : 0;
	checkf("stream: the last 100, not done while the writer holds it open",
	       r3 == 100 && !ft_capture_done(c), "read %u", r3);
	close(wfd);
	drain(c, got, &ng, STREAM_FRAMES);
	ft_capture_stats(c, &st);
	check("stream: done once the writer closes it, no error, no reason",
	      ft_capture_done(c) && !ft_capture_waiting(c) && st.frames == STREAM_FRAMES &&
	      st.errors == 0 && ft_capture_end_reason(c)[0] == '\0');
	check("stream: the file's frames, bytes and times", ng == nw && nw == STREAM_FRAMES &&
	      memcmp(got, want, sizeof(want)) == 0);
	ft_capture_close(c);

	/* Cut inside record 151. */
	rfd = pipe_with(b, rec[150] + 40, &wfd);
	c = rfd < 0 ? NULL : ft_capture_open_stream(rfd, why, sizeof(why));
	if (c != NULL) {
		close(wfd);
		ng = 0;
		r1 = drain(c, got, &ng, STREAM_FRAMES);
		ft_capture_stats(c, &st);
		checkf("stream cut inside record 151: 150 frames, done, 1 error, the reason",
		       r1 == 150 && ft_capture_done(c) && st.errors == 1 &&
		       strcmp(ft_capture_end_reason(c), "cut inside record 151") == 0,
		       "read %u, errors %" PRIu64 ", '%s'", r1, st.errors, ft_capture_end_reason(c));
		ft_capture_close(c);
	} else {
		check("stream cut: opened", false);
	}

	if (wfd >= 0)
		close(wfd);
	test_stream_long_frames(b, len, want);

	/* Not a capture; an empty stream. */
	rfd = pipe_with((const uint8_t *)"this is not a capture, only text\n", 33, &wfd);
	if (rfd >= 0)
		close(wfd);
	c = rfd < 0 ? NULL : ft_capture_open_stream(rfd, why, sizeof(why));
	checkf("stream of text: refused at open (EINVAL) with why",
	       c == NULL && errno == EINVAL && strstr(why, "neither pcap nor pcapng") != NULL, "'%s'", why);
	ft_capture_close(c);
	rfd = pipe_with(b, 0, &wfd);
	if (rfd >= 0)
		close(wfd);
	c = rfd < 0 ? NULL : ft_capture_open_stream(rfd, why, sizeof(why));
	checkf("empty stream: refused at open, 'empty'", c == NULL && strcmp(why, "empty") == 0, "'%s'", why);
	ft_capture_close(c);
	free(b);
}

/* Link types other than Ethernet ------------------------------------------ */

#define LT_FRAMES 12

/* One record of the link-type file: its link header, then @p net_len
 * bytes depending on @p seed (the first one @p first), and the Ethernet
 * frame the reader must make of it (@p want, *want_len bytes). */
struct lt_rec {
	uint32_t linktype;     /* pcapng: of the interface it is on */
	uint8_t hdr[20];
	uint32_t hdr_len;
	uint32_t net_len;
	uint8_t first;
	uint8_t want_eth[14];  /* the made header (or its first bytes, when cut) */
	uint32_t want_eth_len;
};

static void
lt_net(uint8_t *d, const struct lt_rec *r, unsigned int seed)
{
	uint32_t i;

	for (i = 0; i < r->net_len; i++)
		d[i] = i == 0 ? r->first : (uint8_t)(seed * 13 + i * 5);
}

/* The records: cooked v1 and v2 (a MAC address or not), raw IP of both
 * versions and neither, IPv4 and IPv6 link types, loopback headers in
 * either byte order, a record cut inside its link header. */
static const struct lt_rec lt_recs[LT_FRAMES] = {
	/* SLL: outgoing, ARPHRD_ETHER, 6-byte address, IPv4 */
	{ 113, { 0, 4, 0, 1, 0, 6, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0xee, 0xee, 0x08, 0x00 }, 16,
	  60, 0x45, { 0, 0, 0, 0, 0, 0, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x08, 0x00 }, 14 },
	/* SLL: ARPHRD_IPGRE, a 4-byte address (not a MAC: zeros), IPv6 */
	{ 113, { 0, 0, 0x03, 0x3a, 0, 4, 10, 0, 0, 1, 0, 0, 0, 0, 0x86, 0xdd }, 16,
	  80, 0x60, { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x86, 0xdd }, 14 },
	/* SLL2: IPv4, interface 3, ARPHRD_ETHER, incoming, 6-byte address */
	{ 276, { 0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0, 0 },
	  20, 1400, 0x45, { 0, 0, 0, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x08, 0x00 }, 14 },
	/* SLL2: a VLAN tag kept (its bytes follow, as on Ethernet) */
	{ 276, { 0x81, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0 },
	  20, 64, 0x00, { 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 0x81, 0x00 }, 14 },
	/* raw IP: IPv4, IPv6, and a first byte of neither (EtherType 0: not IP) */
	{ 101, { 0 }, 0, 40, 0x45, { [12] = 0x08, [13] = 0x00 }, 14 },
	{ 101, { 0 }, 0, 48, 0x60, { [12] = 0x86, [13] = 0xdd }, 14 },
	{ 101, { 0 }, 0, 20, 0x12, { 0 }, 14 },
	/* LINKTYPE_IPV4, LINKTYPE_IPV6 */
	{ 228, { 0 }, 0, 28, 0x45, { [12] = 0x08, [13] = 0x00 }, 14 },
	{ 229, { 0 }, 0, 40, 0x60, { [12] = 0x86, [13] = 0xdd }, 14 },
	/* BSD loopback: AF_INET in the file's (little-endian) order; AF_INET6
	 * as macOS numbers it (30) in the other order; OpenBSD's big-endian */
	{ 0, { 2, 0, 0, 0 }, 4, 40, 0x45, { [12] = 0x08, [13] = 0x00 }, 14 },
	{ 0, { 0, 0, 0, 30 }, 4, 40, 0x60, { [12] = 0x86, [13] = 0xdd }, 14 },
	/* SLL cut inside its header (10 of 16 bytes): 10 bytes of a made
	 * header, which the decoder counts as truncated */
	{ 113, { 0, 0, 0, 1, 0, 6, 9, 9, 9, 9 }, 10, 0, 0, { 0 }, 10 },
};

/* Write the records to a classic pcap file of link type @p lt (those of
 * lt_recs[] that have it) or, with @p lt 0xffff, to a pcapng file with
 * an interface per link type. @return records written */
static unsigned int
lt_write(const char *name, uint32_t lt, bool ng, char **path)
{
	static const uint32_t types[] = { 113, 276, 101, 228, 229, 0 };
	uint8_t rec[2048];
	unsigned int i, t, n = 0;
	struct gen g;

	if (ng) {
		*path = ng_open(&g, name, false, 1, 0);
		for (t = 0; t < RTE_DIM(types); t++)
			ng_idb(&g, (uint16_t)types[t], 65535, -1, 0);
	} else {
		*path = gen_open(&g, name, false, 0xa1b2c3d4u, 4, 65535, lt);
	}
	for (i = 0; i < LT_FRAMES; i++) {
		const struct lt_rec *r = &lt_recs[i];
		uint32_t len = r->hdr_len + r->net_len, iface = 0;

		if (!ng && r->linktype != lt)
			continue;
		memcpy(rec, r->hdr, r->hdr_len);
		lt_net(rec + r->hdr_len, r, i);
		if (ng) {
			uint32_t padded = (len + 3) & ~3u;

			while (types[iface] != r->linktype)
				iface++;
			put32(&g, 6);
			put32(&g, 32 + padded);
			put32(&g, iface);
			put32(&g, 0);
			put32(&g, 1000 + i);
			put32(&g, len);
			put32(&g, len);
			memset(rec + len, 0, padded - len);
			fwrite(rec, 1, padded, g.f);
			put32(&g, 32 + padded);
		} else {
			put32(&g, 1700000000u);
			put32(&g, i);
			put32(&g, len);
			put32(&g, len);
			fwrite(rec, 1, len, g.f);
		}
		n++;
	}
	fclose(g.f);
	return n;
}

/* Is @p m the frame lt_recs[@p i] must give? */
static bool
lt_frame_ok(const struct rte_mbuf *m, unsigned int i)
{
	const struct lt_rec *r = &lt_recs[i];
	uint8_t want[2048], got[2048];
	const uint32_t len = r->want_eth_len + r->net_len;

	memcpy(want, r->want_eth, r->want_eth_len);
	lt_net(want + r->want_eth_len, r, i);
	return m->pkt_len == len && len <= sizeof(got) &&
	       memcmp(rte_pktmbuf_read(m, 0, len, got), want, len) == 0;
}

/* Read @p path (a file, or through a pipe when @p stream) and check each
 * frame against lt_recs[] (those of link type @p lt, or all). */
static void
lt_check(const char *what, const char *path, uint32_t lt, bool all, bool stream, unsigned int n)
{
	struct rte_mbuf *m[32];
	unsigned int i = 0, got = 0, bad = 0;
	struct ft_capture *c = NULL;
	uint16_t k, j;

	if (stream) {
		char why[128];
		size_t len = 0;
		uint8_t *b = slurp(path, &len);
		int wfd = -1, rfd = b == NULL ? -1 : pipe_with(b, len, &wfd);

		free(b);
		if (rfd >= 0) {
			close(wfd);
			c = ft_capture_open_stream(rfd, why, sizeof(why));
		}
	} else {
		c = ft_capture_open(path, MAX_FRAME, ts_off, ts_flag);
	}
	if (c == NULL) {
		check(fmt("%s: opens", what), false);
		return;
	}
	while ((k = ft_capture_read_burst(c, pool, 0, m, 32)) != 0) {
		for (j = 0; j < k; j++, got++) {
			while (i < LT_FRAMES && !all && lt_recs[i].linktype != lt)
				i++;
			if (i == LT_FRAMES || !lt_frame_ok(m[j], i))
				bad++;
			i++;
		}
		rte_pktmbuf_free_bulk(m, k);
	}
	checkf(fmt("%s: %u frames, each its Ethernet header then the record's bytes after the "
		   "link header", what, n), got == n && bad == 0 && ft_capture_done(c),
	       "%u frames, %u wrong", got, bad);
	ft_capture_close(c);
}

/* A classic pcap file (byte order swapped when @p swap) of link type
 * @p lt holding one record of @p len bytes. @return its path */
static char *
one_record_file(const char *name, bool swap, uint32_t lt, const uint8_t *rec, uint32_t len)
{
	struct gen g;
	char *p = gen_open(&g, name, swap, 0xa1b2c3d4u, 4, 65535, lt);

	put32(&g, 1);
	put32(&g, 2);
	put32(&g, len);
	put32(&g, len);
	fwrite(rec, 1, len, g.f);
	fclose(g.f);
	return p;
}

static void
test_link_types(void)
{
	static const struct {
		uint32_t lt;
		const char *name;
	} lts[] = {
		{ 113, "Linux cooked v1" }, { 276, "Linux cooked v2" }, { 101, "raw IP" },
		{ 228, "IPv4" }, { 229, "IPv6" }, { 0, "BSD loopback" },
	};
	struct ft_capture_info info;
	unsigned int t, n;
	char *p;

	for (t = 0; t < RTE_DIM(lts); t++) {
		n = lt_write(fmt("lt_%u", lts[t].lt), lts[t].lt, false, &p);
		int rc = ft_capture_scan(p, MAX_FRAME, &info);

		checkf(fmt("%s (%u): readable, not Ethernet", lts[t].name, lts[t].lt),
		       rc == 0 && info.readable && info.not_ethernet && info.frames == n &&
		       info.linktype == lts[t].lt, "readable %d, %" PRIu64 " frames, why '%s'",
		       info.readable, info.frames, info.why);
		lt_check(lts[t].name, p, lts[t].lt, false, false, n);
		lt_check(fmt("%s, as a stream", lts[t].name), p, lts[t].lt, false, true, n);
	}
	/* OpenBSD's loopback: the address family big-endian, whatever the file's. */
	{
		static const uint8_t rec[4 + 40] = { 0, 0, 0, 24, 0x60 };
		struct rte_mbuf *m[2];
		struct ft_capture *c;
		uint16_t k;

		p = one_record_file("lt_108", true, 108, rec, sizeof(rec));
		c = ft_capture_open(p, MAX_FRAME, ts_off, ts_flag);
		k = c == NULL ? 0 : ft_capture_read_burst(c, pool, 0, m, 2);
		checkf("OpenBSD loopback (108), big-endian file: AF_INET6 (24) gives an IPv6 frame",
		       k == 1 && m[0]->pkt_len == 14 + 40 &&
		       rte_pktmbuf_mtod(m[0], uint8_t *)[12] == 0x86 &&
		       rte_pktmbuf_mtod(m[0], uint8_t *)[13] == 0xdd &&
		       rte_pktmbuf_mtod(m[0], uint8_t *)[14] == 0x60, "%u frames", k);
		if (k != 0)
			rte_pktmbuf_free_bulk(m, k);
		ft_capture_close(c);
	}
	/* pcapng: an interface per link type, the records interleaved. */
	n = lt_write("lt_ng", 0, true, &p);
	{
		int rc = ft_capture_scan(p, MAX_FRAME, &info);
		uint64_t bytes = 0;

		for (t = 0; t < LT_FRAMES; t++)
			bytes += lt_recs[t].want_eth_len + lt_recs[t].net_len;
		checkf("pcapng, six link types: readable, the frames' bytes as delivered",
		       rc == 0 && info.readable && info.not_ethernet && info.frames == n &&
		       info.bytes == bytes, "readable %d, %" PRIu64 " frames, %" PRIu64 " bytes (want %"
		       PRIu64 "), why '%s'", info.readable, info.frames, info.bytes, bytes, info.why);
	}
	lt_check("pcapng, six link types", p, 0, true, false, n);
	lt_check("pcapng, six link types, as a stream", p, 0, true, true, n);
	/* A record whose made frame is above an mbuf, though its record is not
	 * (raw IP: 14 bytes longer): left to the stream reader. */
	{
		static const uint8_t rec[MAX_FRAME - 4] = { 0x45 };

		p = one_record_file("lt_raw_long", false, 101, rec, sizeof(rec));
		expect_not_readable("raw IP, 2044 bytes: a 2058-byte frame", p,
				    "record 1: a frame of 2058 bytes, above an mbuf's 2048", false);
	}
}

static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	RTE_SET_USED(sb);
	RTE_SET_USED(type);
	RTE_SET_USED(ftw);
	return remove(path);
}

int
main(void)
{
	const char *src = getenv("FLOWTAP_SRC");
	char data[PATH_MAX];

	if (ft_unit_eal_init("capture") < 0)
		return ft_unit_summary();
	pool = rte_pktmbuf_pool_create("cap_pool", 1023, 0, 0, MAX_FRAME + RTE_PKTMBUF_HEADROOM,
				       SOCKET_ID_ANY);
	if (pool == NULL || rte_mbuf_dyn_rx_timestamp_register(&ts_off, &ts_flag) != 0 ||
	    mkdtemp(tmpdir) == NULL) {
		check("set up (pool, timestamp field, temporary directory)", false);
		ft_unit_eal_cleanup();
		return ft_unit_summary();
	}
	snprintf(data, sizeof(data), "%s/tests/data", src != NULL ? src : ".");
	nftw(data, visit, 16, FTW_PHYS);
	checkf("every capture under tests/data read as libpcap reads it", files_compared >= 30,
	       "%u compared", files_compared);
	test_formats();
	test_pcapng();
	test_dry_pool_and_cut();
	test_stream();
	test_link_types();
	check("every mbuf back in the pool", rte_mempool_avail_count(pool) == 1023);
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	rte_mempool_free(pool);
	ft_unit_eal_cleanup();
	return ft_unit_summary();
}
