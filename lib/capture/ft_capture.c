/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Classic pcap read without libpcap (see ft_capture.h for why and what).
 *
 * The file is read through one buffer: a read() fills it, records are taken
 * from it in order, and a record cut by the buffer's end is moved to its
 * front before the next read(). Records are checked again as they are read
 * (the file may have changed since the scan): a bad one ends the capture.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_memcpy.h>
#include <rte_mbuf_dyn.h>

#include "ft_capture.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_FILE_HDR 24
#define PCAP_REC_HDR  16
/* libpcap's largest snapshot for Ethernet (max_snaplen_for_dlt()): a file
 * header's snaplen of 0 or above it means this. */
#define PCAP_MAX_SNAPLEN 262144u
#define PCAP_LINKTYPE_ETHERNET 1u

/* What the file header says. */
struct pcap_format {
	bool swapped;
	bool nsec;
	uint32_t snaplen;   /* as libpcap takes it: at most PCAP_MAX_SNAPLEN */
	uint32_t linktype;
};

/* One record's header, in host order. */
struct pcap_rec {
	uint32_t sec, frac, caplen, len;
};

struct ft_capture {
	int fd;
	struct pcap_format fmt;
	uint32_t max_frame;
	int ts_field;
	uint64_t ts_flag;
	bool eof;           /* read() returned 0: what is in the buffer is all */
	bool done;
	uint8_t *buf;
	size_t pos, end;    /* unread bytes are buf[pos, end) */
	/* Written by the reading lcore only, read with relaxed loads. */
	uint64_t frames, bytes, errors;
};

static inline uint32_t
field32(const uint8_t *p, bool swapped)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return swapped ? rte_bswap32(v) : v;
}

static inline uint16_t
field16(const uint8_t *p, bool swapped)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return swapped ? rte_bswap16(v) : v;
}

/* The file header. @return true when this reader takes the format. */
static bool
parse_file_header(const uint8_t *h, struct pcap_format *f, char *why, size_t whylen)
{
	uint32_t magic;

	memcpy(&magic, h, sizeof(magic));
	memset(f, 0, sizeof(*f));
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS) {
		f->nsec = magic == PCAP_MAGIC_NS;
	} else if (magic == rte_bswap32(PCAP_MAGIC_US) || magic == rte_bswap32(PCAP_MAGIC_NS)) {
		f->swapped = true;
		f->nsec = magic == rte_bswap32(PCAP_MAGIC_NS);
	} else {
		snprintf(why, whylen, "not a classic pcap file (magic 0x%08x)", magic);
		return false;
	}
	/* Other versions have lengths libpcap may swap: left to libpcap. */
	if (field16(h + 4, f->swapped) != 2 || field16(h + 6, f->swapped) != 4) {
		snprintf(why, whylen, "pcap version %u.%u (reads 2.4)", field16(h + 4, f->swapped),
			 field16(h + 6, f->swapped));
		return false;
	}
	f->snaplen = field32(h + 16, f->swapped);
	if (f->snaplen == 0 || f->snaplen > PCAP_MAX_SNAPLEN)
		f->snaplen = PCAP_MAX_SNAPLEN;
	/* Exactly Ethernet: the upper bits (FCS length, reserved) are left
	 * to libpcap. */
	f->linktype = field32(h + 20, f->swapped);
	if (f->linktype != PCAP_LINKTYPE_ETHERNET) {
		snprintf(why, whylen, "link type %u (reads Ethernet)", f->linktype);
		return false;
	}
	return true;
}

static inline void
parse_rec(const uint8_t *h, bool swapped, struct pcap_rec *r)
{
	r->sec = field32(h, swapped);
	r->frac = field32(h + 4, swapped);
	r->caplen = field32(h + 8, swapped);
	r->len = field32(h + 12, swapped);
}

/* A record this reader delivers as libpcap and the pcap PMD would: one that
 * libpcap would neither refuse nor cut to the snapshot length, and that fits
 * one mbuf. */
static inline bool
rec_ok(const struct pcap_rec *r, const struct pcap_format *f, uint32_t max_frame)
{
	return r->caplen <= f->snaplen && r->caplen <= max_frame;
}

/* Fill the buffer: keep its unread bytes, read more after them.
 * @return -1 on a read error */
static int
refill(struct ft_capture *c)
{
	ssize_t got;

	if (c->pos != 0) {
		memmove(c->buf, c->buf + c->pos, c->end - c->pos);
		c->end -= c->pos;
		c->pos = 0;
	}
	while (!c->eof && c->end < FT_CAPTURE_BUF) {
		got = read(c->fd, c->buf + c->end, FT_CAPTURE_BUF - c->end);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (got == 0)
			c->eof = true;
		c->end += (size_t)got;
	}
	return 0;
}

static struct ft_capture *
reader_new(const char *path, uint32_t max_frame, char *why, size_t whylen)
{
	struct ft_capture *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->fd = -1;
	c->max_frame = max_frame;
	c->ts_field = -1;
	c->buf = malloc(FT_CAPTURE_BUF);
	if (c->buf == NULL)
		goto fail;
	c->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (c->fd < 0)
		goto fail;
	(void)posix_fadvise(c->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (refill(c) < 0)
		goto fail;
	if (c->end < PCAP_FILE_HDR) {
		snprintf(why, whylen, "shorter than a pcap file header");
		c->done = true;
		return c;
	}
	if (!parse_file_header(c->buf, &c->fmt, why, whylen))
		c->done = true;
	c->pos = PCAP_FILE_HDR;
	return c;
fail:
	ft_capture_close(c);
	return NULL;
}

/* What next_record() found. */
enum rec_next {
	REC_OK,         /* a record this reader delivers, whole in the buffer */
	REC_END,        /* the end of the file, on a record boundary */
	REC_CUT_HEADER, /* the file ends inside a record header */
	REC_REFUSED,    /* a record above the snaplen or max_frame */
	REC_CUT,        /* the file ends inside a record's data */
	REC_IO_ERROR,   /* read() failed (errno) */
};

/* The next record: its header in @p r and, with REC_OK, the whole record at
 * c->buf + c->pos (not consumed). The scan and the reader both walk the file
 * with it, so they stop at the same record for the same reason. */
static enum rec_next
next_record(struct ft_capture *c, struct pcap_rec *r)
{
	if (c->end - c->pos < PCAP_REC_HDR) {
		if (refill(c) < 0)
			return REC_IO_ERROR;
		if (c->pos == c->end)
			return REC_END;
		if (c->end - c->pos < PCAP_REC_HDR)
			return REC_CUT_HEADER;
	}
	parse_rec(c->buf + c->pos, c->fmt.swapped, r);
	if (!rec_ok(r, &c->fmt, c->max_frame))
		return REC_REFUSED;
	/* Read more while the data runs past the buffer. */
	while (c->end - c->pos < PCAP_REC_HDR + (size_t)r->caplen) {
		if (c->eof)
			return REC_CUT;
		if (refill(c) < 0)
			return REC_IO_ERROR;
	}
	return REC_OK;
}

int
ft_capture_scan(const char *path, uint32_t max_frame, struct ft_capture_info *info)
{
	struct ft_capture *c;
	struct pcap_rec r;
	enum rec_next next;

	memset(info, 0, sizeof(*info));
	c = reader_new(path, max_frame, info->why, sizeof(info->why));
	if (c == NULL)
		return -1;
	info->linktype = c->fmt.linktype;
	if (c->done) {
		ft_capture_close(c);
		return 0;
	}
	while ((next = next_record(c, &r)) == REC_OK) {
		c->pos += PCAP_REC_HDR + r.caplen;
		info->frames++;
		info->bytes += r.caplen;
		if (r.caplen > info->max_caplen)
			info->max_caplen = r.caplen;
	}
	switch (next) {
	case REC_END:
		info->readable = true;
		break;
	case REC_CUT_HEADER:
		snprintf(info->why, sizeof(info->why), "cut inside the header of record %" PRIu64,
			 info->frames + 1);
		break;
	case REC_REFUSED:
		snprintf(info->why, sizeof(info->why),
			 "record %" PRIu64 " has %u captured bytes (snaplen %u, an mbuf holds %u)",
			 info->frames + 1, r.caplen, c->fmt.snaplen, max_frame);
		break;
	case REC_CUT:
		snprintf(info->why, sizeof(info->why), "cut inside record %" PRIu64, info->frames + 1);
		break;
	case REC_OK: /* not after the loop */
	case REC_IO_ERROR: {
		int err = errno;

		ft_capture_close(c);
		errno = err;
		return -1;
	}
	}
	ft_capture_close(c);
	return 0;
}

struct ft_capture *
ft_capture_open(const char *path, uint32_t max_frame, int ts_field, uint64_t ts_flag)
{
	char why[128];
	struct ft_capture *c = reader_new(path, max_frame, why, sizeof(why));

	if (c == NULL)
		return NULL;
	if (c->done) {
		ft_capture_close(c);
		errno = EINVAL;
		return NULL;
	}
	c->ts_field = ts_field;
	c->ts_flag = ts_flag;
	return c;
}

/* The capture ends here: consumed, or a record this reader cannot deliver
 * (counted, as the pcap PMD counts a libpcap error). */
static void
finish(struct ft_capture *c, bool error)
{
	c->done = true;
	if (error)
		__atomic_store_n(&c->errors, c->errors + 1, __ATOMIC_RELAXED);
}

uint16_t
ft_capture_read_burst(struct ft_capture *c, struct rte_mempool *mp, uint16_t port,
		      struct rte_mbuf **pkts, uint16_t n)
{
	uint64_t bytes = 0;
	uint16_t i;

	if (c->done || n == 0)
		return 0;
	if (rte_pktmbuf_alloc_bulk(mp, pkts, n) != 0)
		return 0; /* nothing consumed: read again once mbufs come back */
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct pcap_rec r;
		enum rec_next next = next_record(c, &r);
		uint64_t us;

		if (unlikely(next != REC_OK || r.caplen > rte_pktmbuf_tailroom(m))) {
			finish(c, next != REC_END);
			break;
		}
		rte_memcpy(rte_pktmbuf_mtod(m, void *), c->buf + c->pos + PCAP_REC_HDR, r.caplen);
		c->pos += PCAP_REC_HDR + r.caplen;
		m->data_len = (uint16_t)r.caplen;
		m->pkt_len = r.caplen;
		m->port = port;
		/* As libpcap (1.10) gives it to the pcap PMD: both fields
		 * signed 32-bit, a nanosecond capture's fraction divided by
		 * 1000 (the PMD opens at microsecond precision). */
		us = (uint64_t)((int64_t)(int32_t)r.sec * 1000000 +
				(c->fmt.nsec ? (int32_t)r.frac / 1000 : (int32_t)r.frac));
		if (c->ts_field >= 0) {
			*RTE_MBUF_DYNFIELD(m, c->ts_field, rte_mbuf_timestamp_t *) = us;
			m->ol_flags |= c->ts_flag;
		}
		bytes += r.caplen;
	}
	if (i < n)
		rte_pktmbuf_free_bulk(pkts + i, n - i);
	__atomic_store_n(&c->frames, c->frames + i, __ATOMIC_RELAXED);
	__atomic_store_n(&c->bytes, c->bytes + bytes, __ATOMIC_RELAXED);
	return i;
}

bool
ft_capture_done(const struct ft_capture *c)
{
	return c->done;
}

void
ft_capture_stats(const struct ft_capture *c, struct ft_capture_stats *st)
{
	st->frames = __atomic_load_n(&c->frames, __ATOMIC_RELAXED);
	st->bytes = __atomic_load_n(&c->bytes, __ATOMIC_RELAXED);
	st->errors = __atomic_load_n(&c->errors, __ATOMIC_RELAXED);
}

void
ft_capture_close(struct ft_capture *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c);
}
