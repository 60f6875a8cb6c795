/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FT_CAPTURE_H
#define FT_CAPTURE_H

/**
 * @file
 * Capture files (classic pcap and pcapng) read straight into mbufs, for
 * offline analysis.
 *
 * Owns: walking a capture's record headers (how many frames, and whether
 * this reader takes the file), and reading its frames into mbufs exactly as
 * DPDK 22.11's pcap PMD delivers them: the captured bytes in one segment,
 * pkt_len and data_len the captured length, the port, and the capture time
 * in microseconds in the rx timestamp dynamic field (a nanosecond capture is
 * truncated to microseconds, as libpcap does for the PMD). Captures of other
 * link layers (Linux cooked v1 and v2, as tcpdump -i any writes them; raw
 * IPv4/IPv6; BSD loopback) are delivered as Ethernet frames: the link header
 * replaced by a 14-byte Ethernet header with the EtherType it names (and
 * the cooked header's MAC as source), so the frame is 14 bytes longer than
 * the record for raw IP, 10 for loopback, 2 shorter for cooked v1, 6 for v2.
 *
 * Why not only the pcap PMD: it reads through libpcap, two fread() calls and
 * a copy per frame, measured at 107 ns per frame on the offline benchmark's
 * capture (bench-rxloop), and the lcore that reads the capture was the
 * slower stage of offline analysis (about 70% of its time in libpcap and
 * read()). This reader fills a 1 MiB buffer per read() and copies each frame
 * once. It takes what it can read exactly as the PMD would (other link
 * types as above) and nothing else: the link types above, every record
 * whole and its frame no longer than an mbuf's data room, in
 *   - classic pcap 2.4 (microsecond or nanosecond, either byte order);
 *   - pcapng 1.0 or 1.2 (what Wireshark and dumpcap write), either byte
 *     order: one section, Enhanced Packet Blocks, interfaces of any time
 *     resolution and offset (converted as libpcap converts them) and one
 *     snapshot length; other blocks (statistics, name resolution, secrets,
 *     custom) are checked and skipped, as libpcap skips them.
 * For anything else (several pcapng sections, Simple Packet Blocks, a
 * damaged or cut file, jumbo frames) the caller keeps the PMD, whose libpcap
 * knows every case, for an Ethernet capture (the PMD would deliver other
 * link headers as they are: such a capture is read as a stream instead);
 * other link types are refused.
 *
 * A stream (a pipe, a FIFO, standard input) is read once, as its bytes
 * arrive, without a scan: nothing can read it again, so it takes frames
 * longer than an mbuf too, in chained mbufs laid out as the PMD lays them
 * out, and a record it cannot take ends it (ft_capture_end_reason() says
 * which and why).
 *
 * Not thread-safe: one reader per capture, used by one lcore; the counters
 * may be read from another thread (relaxed loads).
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Size of the read buffer: one read() per this many bytes of capture. */
#define FT_CAPTURE_BUF (1u << 20)

/** What a scan found. */
struct ft_capture_info {
	uint64_t frames;       /**< whole records (all of them when readable) */
	uint64_t bytes;        /**< bytes of their frames, as delivered (see above) */
	uint32_t max_caplen;   /**< longest frame seen, as delivered */
	uint32_t linktype;     /**< the link type (pcapng: the first interface's), 0 unknown
				    (or BSD loopback) */
	bool not_ethernet;     /**< some frames are not Ethernet: delivered as Ethernet by this
				    reader, but the PMD would give their link headers as they are */
	bool readable;         /**< ft_capture_open() takes the file */
	char why[128];         /**< when not readable: why, one line */
};

/**
 * Walk a capture's record headers (reads the whole file, copies nothing).
 *
 * @param path       the capture
 * @param max_frame  longest frame the reader may deliver (the mbufs' data room)
 * @param info       filled in
 * @return 0 (readable or not: see info->readable), or -1 with errno set when
 *         the file cannot be opened or read
 */
int ft_capture_scan(const char *path, uint32_t max_frame, struct ft_capture_info *info);

struct ft_capture;

/**
 * Open a capture that ft_capture_scan() found readable.
 *
 * @param ts_field  offset of the rx timestamp dynamic field, or -1 for none
 * @param ts_flag   its ol_flags bit (0 for none)
 * @return the reader, or NULL with errno set
 */
struct ft_capture *ft_capture_open(const char *path, uint32_t max_frame, int ts_field,
				   uint64_t ts_flag);

/**
 * Open a capture read as a stream: standard input, a pipe or a FIFO.
 *
 * Waits for its file header (pcap) or section header (pcapng) and parses
 * it; after that no call waits: ft_capture_read_burst() returns the frames
 * whose records have arrived whole (poll() before each read(), so the
 * descriptor's flags are not changed) and ft_capture_waiting() says when it
 * stopped for want of bytes. A frame longer than the pool's mbufs hold
 * comes in a chain of them; when the pool has too few for it now,
 * the burst stops there (ft_capture_wants_mbufs()) and the frame waits, or
 * is dropped with ft_capture_drop_frame(). A record it cannot take (see
 * above) ends the capture there, counted in errors.
 *
 * @param fd     the stream, taken over (closed by ft_capture_close(), or
 *               here on failure)
 * @param why    on failure with errno EINVAL: why the header is refused; on
 *               another failure, strerror(errno)
 * @return the reader, or NULL with errno set
 */
struct ft_capture *ft_capture_open_stream(int fd, char *why, size_t whylen);

/**
 * Set the rx timestamp dynamic field the frames get their capture times in.
 *
 * @param ts_field  its offset, or -1 for none
 * @param ts_flag   its ol_flags bit (0 for none)
 */
void ft_capture_set_timestamp(struct ft_capture *c, int ts_field, uint64_t ts_flag);

/**
 * Read up to @p n frames into new mbufs of @p mp, in capture order.
 *
 * Returns fewer, or 0, when the capture is consumed (ft_capture_done()),
 * when the pool has no mbufs for them now (nothing is consumed then: the next
 * call reads the same frames), or when a stream's next record has not all
 * arrived (ft_capture_waiting()). A record that has become invalid since the
 * scan (the file changed), or that a stream cannot give, ends the capture
 * and is counted in errors.
 *
 * @return frames read
 */
uint16_t ft_capture_read_burst(struct ft_capture *c, struct rte_mempool *mp, uint16_t port,
			       struct rte_mbuf **pkts, uint16_t n);

/** True once every frame has been read, or the file could not be read further. */
bool ft_capture_done(const struct ft_capture *c);

/** True when the last ft_capture_read_burst() of a stream stopped at a
 * record that has not all arrived yet. */
bool ft_capture_waiting(const struct ft_capture *c);

/** True when the last ft_capture_read_burst() of a stream stopped at a
 * frame whose chain the pool had too few mbufs for (nothing consumed). */
bool ft_capture_wants_mbufs(const struct ft_capture *c);

/**
 * Drop a stream's next frame, counted in nombuf, as the pcap PMD drops a
 * frame it has no mbufs for: for a frame that waits for mbufs that will not
 * come back (ft_capture_wants_mbufs()).
 * @return true when a frame was dropped
 */
bool ft_capture_drop_frame(struct ft_capture *c);

/** Why the capture ended before its end ("record N: ...", "cut inside record
 * N"), or "" when it did not. */
const char *ft_capture_end_reason(const struct ft_capture *c);

/** Counters, as a port's: frames and bytes delivered, records given up,
 * frames dropped for want of mbufs (ft_capture_drop_frame()). */
struct ft_capture_stats {
	uint64_t frames;
	uint64_t bytes;
	uint64_t errors;
	uint64_t nombuf;
};

/** Read the counters (safe from another thread). */
void ft_capture_stats(const struct ft_capture *c, struct ft_capture_stats *st);

/** Close a reader (NULL is ignored). */
void ft_capture_close(struct ft_capture *c);

#ifdef __cplusplus
}
#endif

#endif /* FT_CAPTURE_H */
