/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FT_TCP_H
#define FT_TCP_H

/**
 * @file
 * flowtap TCP tracking.
 *
 * Owns: what each endpoint of one TCP connection is doing, inferred from the
 * segments that cross the wire in both directions: its RFC 793 state (the 11
 * names), its ISN, the sequence space it has used, the window its peer gave
 * it (after van Rooij: four bounds on seq and ack), its TTL; the anomalies a
 * segment shows (DESIGN.md section 5, the TCP names); Zeek's view of the same
 * connection (conn_state and history, with Zeek's meanings); and the small
 * per-worker cache of recent segments that tells a retransmission carrying
 * different bytes.
 *
 * How states are inferred. A segment from endpoint S to endpoint R is taken
 * to be sent by S and received by R: S moves on the "send" row of the
 * transition table, R on the "receive" row, and the states printed after a
 * segment are both endpoints' states once it has arrived. The transitions
 * are one table indexed by (event, state), in the manner of the Linux
 * kernel's nf_conntrack_proto_tcp.c; a segment is cut into an ordered list
 * of events:
 *   - an acceptable RST: send_rst (S), recv_rst (R): both CLOSED;
 *   - SYN: send_syn (S), recv_syn (R);  SYN+ACK: send_synack, recv_synack
 *     (recv_synack only when the ack acknowledges R's SYN);
 *   - ACK: recv_ack_syn (R) when it acknowledges R's SYN for the first time,
 *     recv_ack_fin (R) when it acknowledges R's FIN, send_ack (S);
 *   - FIN: send_fin (S) (send_fin_crossed when S had not seen R's FIN when it
 *     sent its own: simultaneous close), recv_fin (R).
 * The endpoint that receives the first SYN starts in LISTEN, every other in
 * CLOSED. Segments with invalid flags move no RFC state (a host drops them).
 *
 * A connection is "finished" once both sides sent a FIN or an acceptable RST
 * was seen; its flow record is written close_linger seconds later, so the
 * last ACKs and RSTs are in its counters and history. A SYN on a finished
 * connection is port reuse: the caller ends the record and starts a new one.
 *
 * Single-threaded per connection: a connection is only touched by the worker
 * that owns it. No allocation; the segment cache is sized at creation.
 */

#include <stdbool.h>
#include <stdint.h>

#include "ft_decode.h"
#include "ft_events.h"

#ifdef __cplusplus
extern "C" {
#endif

/** RFC 793 endpoint states. Names (ft_tcp_state_name()) are a contract. */
enum ft_tcp_state {
	FT_TCP_CLOSED = 0,
	FT_TCP_LISTEN,
	FT_TCP_SYN_SENT,
	FT_TCP_SYN_RECEIVED,
	FT_TCP_ESTABLISHED,
	FT_TCP_FIN_WAIT_1,
	FT_TCP_FIN_WAIT_2,
	FT_TCP_CLOSE_WAIT,
	FT_TCP_CLOSING,
	FT_TCP_LAST_ACK,
	FT_TCP_TIME_WAIT,
	FT_TCP_STATE_MAX
};

/** Zeek's TCP endpoint states, kept only to compute Zeek's conn_state. */
enum ft_zeek_state {
	FT_ZEEK_INACTIVE = 0,
	FT_ZEEK_SYN_SENT,
	FT_ZEEK_SYN_ACK_SENT,
	FT_ZEEK_PARTIAL,
	FT_ZEEK_ESTABLISHED,
	FT_ZEEK_CLOSED,
	FT_ZEEK_RESET,
};

/** Which way a segment travels, relative to the connection's originator. */
#define FT_TCP_ORIG 0 /**< sent by the originator (the first SYN's sender) */
#define FT_TCP_RESP 1 /**< sent by the responder */

/** How a connection ended, as in the flow record's "end" key. */
enum ft_tcp_end {
	FT_END_NONE = 0, /**< still open */
	FT_END_FIN,      /**< both sides sent FIN */
	FT_END_RST,      /**< an acceptable RST */
	FT_END_TIMEOUT,  /**< silent longer than its state's timeout */
	FT_END_EVICTED,  /**< made room in a full table */
	FT_END_EXIT,     /**< still open when flowtap stopped */
	FT_END_MAX
};

/** Ageing classes: the flow table maps each to a configured timeout. */
enum ft_tcp_age {
	FT_AGE_EMBRYONIC = 0, /**< in its handshake */
	FT_AGE_ESTABLISHED,
	FT_AGE_CLOSING,       /**< FIN_WAIT_1/2, CLOSE_WAIT, CLOSING, LAST_ACK */
	FT_AGE_TIME_WAIT,     /**< an endpoint in TIME_WAIT: 2 MSL */
	FT_AGE_CLOSED,        /**< reset, or closed on both sides */
	FT_AGE_MAX
};

/** Bits of ft_tcp_endpoint.flags. */
#define FT_TCPE_SEEN       0x01 /**< sent at least one segment */
#define FT_TCPE_ISN        0x02 /**< its SYN (or SYN+ACK) was seen: isn is real */
#define FT_TCPE_ISN_GUESS  0x04 /**< isn inferred (from an ack, or mid-stream) */
#define FT_TCPE_FIN        0x08 /**< sent a FIN (fin_seq valid) */
#define FT_TCPE_WS_OFFER   0x10 /**< its SYN carried the window-scale option */
#define FT_TCPE_SYN_ACKED  0x20 /**< its SYN has been acknowledged */
#define FT_TCPE_FIN_ACKED  0x40 /**< its FIN has been acknowledged */
#define FT_TCPE_ACKED_ANY  0x80 /**< sent an ACK (ack valid) */

/*
 * Why the connection state is packed (issue #6): a tracked connection costs
 * its struct ft_tcp_conn on every packet, so it is held to two cache lines
 * (128 bytes, checked below). The endpoint is a packed struct of 54 bytes:
 * every field is as wide as its values can be, and the few narrowings that
 * are not exact are stated on the field (the counters saturate; the seq of
 * the last SYN/FIN/RST is a 12-bit fold). The fields every segment reads
 * or writes (sequence space, windows, flags, states, packets) come first
 * in each endpoint, so both endpoints' sit in bytes 0-97 of the connection
 * with only ten cold bytes between them. ep[1] is not 4-byte aligned: the
 * compiler reads its fields as unaligned words, which x86 and Arm do at
 * full speed.
 * Windows are kept as the 16-bit value from the header and the shift that
 * applied when it was seen: use ft_tcp_win() and ft_tcp_maxwin().
 */

/** Most a saturating counter of ft_tcp_endpoint holds. */
#define FT_TCP_REXMIT_MAX   UINT16_MAX        /**< rexmit: 65535 */
#define FT_TCP_ZERO_WIN_MAX ((1u << 14) - 1)  /**< zero_win: 16383 */
#define FT_TCP_GAPS_MAX     UINT8_MAX         /**< gaps: 255 */

/** One endpoint of a connection (54 bytes, packed: see above). */
struct ft_tcp_endpoint {
	/* Read or written by every segment. */
	uint32_t isn;       /**< initial sequence number */
	uint32_t end;       /**< highest seq + length sent (SYN and FIN count 1) */
	uint32_t maxend;    /**< highest seq the peer allowed (its ack + window) */
	uint32_t data_end;  /**< highest seq + payload length (no SYN/FIN) */
	uint32_t ack;       /**< highest ack it sent (its RCV.NXT), with FT_TCPE_ACKED_ANY */
	uint32_t pkts;      /**< segments it sent */
	uint16_t win_raw;   /**< last window it advertised, as on the wire: ft_tcp_win() */
	uint16_t maxwin_raw; /**< largest window it advertised, as on the wire: ft_tcp_maxwin() */
	union {
		struct {
			/** IP bytes it sent. 48 bits are exact: a segment is at most
			 * 65535 bytes, so 2^48 needs more than 2^32 segments, beyond
			 * pkts' own range. */
			uint64_t ip_bytes : 48;
			/** Payload segments it re-sent (history 't'); saturates at
			 * FT_TCP_REXMIT_MAX (so 't' letters come up to 10000, none at
			 * 100000 and beyond). */
			uint64_t rexmit : 16;
		};
		/** The same 64 bits as one word: a segment's bytes are added to
		 * ip_bytes (its low 48 bits) with one add, which cannot carry
		 * into rexmit (see ip_bytes). The 48-bit field's own add took 21
		 * instructions in this packed struct, on every segment. */
		uint64_t ip_bytes_word;
	};
	/* Laid out for speed: each field a segment writes and soon reads
	 * again sits in one byte with no other such field straddling it, so
	 * the compiler reads it back with the same byte access that wrote it.
	 * A read wider than, or shifted from, the store still in flight misses
	 * store-to-load forwarding (a stall of tens of cycles): with flags 9
	 * bits wide, perf showed two such stalls taking half of ft_tcp_track.
	 * The rarely written fields fill the last 32 bits. */
	uint64_t flags : 8;        /**< FT_TCPE_* */
	uint64_t state : 4;        /**< enum ft_tcp_state */
	uint64_t zeek : 3;         /**< enum ft_zeek_state */
	uint64_t maxend_set : 1;   /**< maxend set by the peer's ack and window */
	uint64_t win_shift : 4;    /**< shift of win_raw (0 for a SYN's window) */
	uint64_t wscale : 4;       /**< shift applied to its windows (0 unless both offered; <= 14) */
	uint64_t ttl : 8;          /**< TTL of its last segment */
	uint64_t maxwin_shift : 4; /**< shift of maxwin_raw */
	uint64_t hist_ad : 2;      /**< history letters A (bit 0) and D (bit 1) recorded for it */
	/** Segments it sent with a zero window (history 'w'); saturates at
	 * FT_TCP_ZERO_WIN_MAX ('w' letters up to 10000, as before; the 16-bit
	 * counter it replaces wrapped at 65536 and gave letters again). */
	uint64_t zero_win : 14;
	/** 12-bit folds (ft_tcp.c: fold12()) of the seq of its last SYN, the end
	 * of its last FIN, the seq of its last RST: a repeated SYN/FIN/RST gets
	 * a repeated history letter when its seq differs (Zeek's
	 * hist_last_SYN/FIN/RST). The cost: a SYN/FIN/RST with a genuinely
	 * different seq is taken as the same one (no repeated letter) with a
	 * chance of 1 in 4096; seqs less than 4096 apart are always told apart. */
	uint64_t last_syn : 12;
	/* Read or written by some segments only. */
	uint32_t fin_seq;   /**< seq of its FIN, with FT_TCPE_FIN */
	uint16_t data_wraps; /**< times data_end went round 2^32 from the ISN (byte counts) */
	/** Content gaps seen in its stream (history 'g'); saturates at FT_TCP_GAPS_MAX
	 * (it used to wrap at 256 and give letters again). */
	uint8_t gaps;
	uint32_t last_fin : 12;    /**< see last_syn */
	uint32_t last_rst : 12;    /**< see last_syn */
} __attribute__((packed));

/** Last window an endpoint advertised, scaled (a SYN's never is). */
static inline uint32_t
ft_tcp_win(const struct ft_tcp_endpoint *e)
{
	return (uint32_t)e->win_raw << e->win_shift;
}

/** Largest window an endpoint advertised, scaled; at least 1 once known. */
static inline uint32_t
ft_tcp_maxwin(const struct ft_tcp_endpoint *e)
{
	return (uint32_t)e->maxwin_raw << e->maxwin_shift;
}

/** Longest history string kept (Zeek's letters and a leading '^'), NUL included. */
#define FT_TCP_HISTORY_LEN 24

/** Bits of ft_tcp_conn.cflags. */
#define FT_TCPC_MIDSTREAM 0x01 /**< first seen after its handshake */
#define FT_TCPC_FLIPPED   0x02 /**< first packet was a SYN+ACK: its receiver is the originator;
				    its history starts with '^' */
#define FT_TCPC_FINISHED  0x04 /**< both FINs or an acceptable RST seen */

/**
 * One TCP connection as tracked by its owner worker.
 *
 * The history is kept as 5-bit letter codes (Zeek's letters, in both
 * cases: 22 of them), 12 in hist_lo and 11 in hist_hi; the '^' of a
 * flipped connection is FT_TCPC_FLIPPED. Read it with ft_tcp_history().
 */
struct ft_tcp_conn {
	struct ft_tcp_endpoint ep[2]; /**< [FT_TCP_ORIG], [FT_TCP_RESP] */
	uint32_t anomalies;           /**< bit (1 << enum ft_event_type) per name seen */
	uint64_t hist_lo : 60;        /**< history letters 0..11 (5 bits each, 0: none) */
	uint64_t cflags : 3;          /**< FT_TCPC_* */
	uint64_t pad0 : 1;
	uint64_t hist_hi : 55;        /**< history letters 12..22 */
	uint64_t hist_len : 5;        /**< history length, '^' included */
	uint64_t end : 3;             /**< enum ft_tcp_end once finished, else FT_END_NONE */
	uint64_t pad1 : 1;
};

/* Two cache lines per tracked connection (issue #6): every packet touches
 * this state, and the flow table holds hundreds of thousands of them. */
_Static_assert(sizeof(struct ft_tcp_conn) <= 128, "struct ft_tcp_conn exceeds two cache lines");
_Static_assert(FT_END_MAX <= 8 && FT_TCP_STATE_MAX <= 16, "ft_tcp_conn bit-field too narrow");

/**
 * A connection's Zeek history as a string ("ShADadFf", "^hA", ...).
 * @param buf  at least FT_TCP_HISTORY_LEN bytes; NUL-terminated
 * @return its length
 */
unsigned int ft_tcp_history(const struct ft_tcp_conn *c, char *buf);

/** Most anomalies one segment can show. */
#define FT_TCP_MAX_ANOMALIES 6

/** One anomaly a segment showed; FT_EVF_* say which numbers apply. */
struct ft_tcp_anomaly {
	uint8_t type;       /**< enum ft_event_type */
	uint8_t has;        /**< FT_EVF_SEQ | FT_EVF_ACK | FT_EVF_EXPECTED */
	uint8_t first;      /**< first time this connection shows this name */
	uint32_t seq, ack, expected;
	char detail[40];
};

/** What ft_tcp_track() found. */
enum ft_tcp_verdict {
	FT_TCP_OK = 0,      /**< tracked */
	FT_TCP_FINISHED,    /**< this segment finished the connection (both FINs or a RST) */
	FT_TCP_REUSE,       /**< a SYN on a finished connection: not tracked; the caller
				  ends this record, re-initialises and tracks the SYN again */
};

/** Result of one segment. */
struct ft_tcp_result {
	uint8_t verdict;    /**< enum ft_tcp_verdict */
	uint8_t n;          /**< anomalies in a[] */
	uint8_t obs;        /**< FT_TCP_OBS_* bits: what the cross-flow detectors want */
	uint8_t fast;       /**< 1: the fast path took it, so no state and no flag of the
				 connection moved (its ageing class stands) */
	uint8_t dropped;    /**< 1: its receiver drops it (invalid flags, outside the window,
				 a RST, a SYN once established): its payload reaches no
				 application, so no stream reassembly may take it (an
				 insertion: bytes a monitor would see and the host not) */
	struct ft_tcp_anomaly a[FT_TCP_MAX_ANOMALIES];
};

/** ft_tcp_result.obs bits. */
#define FT_TCP_OBS_SYN         0x01 /**< first SYN of a connection (attempt to the responder) */
#define FT_TCP_OBS_ESTABLISHED 0x02 /**< handshake completed */
#define FT_TCP_OBS_SERVER_ISN  0x04 /**< the responder's SYN+ACK: its ISN is ep[RESP].isn */

struct ft_tcp_segcache;

/**
 * Use the fast path for established, in-order segments (the default) or
 * not: for the unit test that compares it with the general path. Not for
 * use while workers run.
 */
void ft_tcp_set_fast_path(bool on);

/**
 * Would ft_tcp_track() take its fast path for this segment (an established,
 * in-order segment that no check stops)? For tests and profiling: tracking
 * asks it itself.
 */
bool ft_tcp_fast_path_fits(const struct ft_tcp_conn *c, unsigned int dir, const struct ft_pkt *p);

/** Where a segment's payload is, for the retransmission check. */
struct ft_tcp_payload {
	const uint8_t *data; /**< first payload byte */
	uint32_t caplen;     /**< bytes of payload available at data (may be < length) */
};

/**
 * A segment of the connection whose checksum is wrong (ft_decode_tcp_csum()):
 * its receiver drops it, so nothing of it is tracked (no state, counter or
 * window moves). It adds Zeek's history letter C (c from the responder),
 * once per direction, and the anomaly tcp_bad_checksum.
 *
 * @param expected  the checksum it should carry (for the event's detail)
 * @param r         filled: dropped, that one anomaly
 */
void ft_tcp_bad_checksum(struct ft_tcp_conn *c, unsigned int dir, const struct ft_pkt *p,
			 uint16_t expected, struct ft_tcp_result *r);

/**
 * Is the sender of a connection's first segment its originator?
 * @return false for a SYN+ACK (its receiver sent the SYN we missed), else true
 */
bool ft_tcp_first_is_orig(const struct ft_pkt *p);

/**
 * Start a connection from its first segment (which ft_tcp_track() then
 * processes). @p midstream_ok false: a first segment without SYN is refused.
 * @return 0, or -1 when the segment cannot start a tracked connection
 */
int ft_tcp_init(struct ft_tcp_conn *c, const struct ft_pkt *first, bool midstream_ok);

/**
 * Track one segment.
 *
 * @param c     the connection
 * @param dir   FT_TCP_ORIG or FT_TCP_RESP: who sent it
 * @param p     decoded segment (cls TCP)
 * @param pl    its payload (for the retransmission check); may be NULL
 * @param segs  the worker's segment cache; may be NULL (no data comparison)
 * @param conn_id  a number unique to this connection in the worker (cache key)
 * @param r     filled: verdict, anomalies, observations
 */
void ft_tcp_track(struct ft_tcp_conn *c, unsigned int dir, const struct ft_pkt *p,
		  const struct ft_tcp_payload *pl, struct ft_tcp_segcache *segs,
		  uint32_t conn_id, struct ft_tcp_result *r);

/** Ageing class of a connection, from its endpoints' states. */
enum ft_tcp_age ft_tcp_age_class(const struct ft_tcp_conn *c);

/** True when the handshake is not complete (eviction candidates). */
bool ft_tcp_is_embryonic(const struct ft_tcp_conn *c);

/** Zeek's conn_state ("S0", "SF", "RSTO", ...) of the connection now. */
const char *ft_tcp_conn_state(const struct ft_tcp_conn *c);

/** Payload bytes an endpoint sent, by sequence numbers (as Zeek counts them). */
uint64_t ft_tcp_payload_bytes(const struct ft_tcp_endpoint *e);

/** Name of an RFC 793 state, e.g. "ESTABLISHED"; "unknown" out of range. */
const char *ft_tcp_state_name(unsigned int state);

/** Name of an end reason: "fin", "rst", "timeout", "evicted", "exit" ("" for none). */
const char *ft_tcp_end_name(unsigned int end);

/**
 * Create a segment cache of @p slots entries (a power of two) on NUMA
 * @p socket (SOCKET_ID_ANY for any). Direct-mapped: each payload segment
 * leaves (connection, direction, seq, length, digest of its bytes and of its
 * first 64 bytes); a later segment at the same seq is compared with it.
 * @return the cache, or NULL (rte_errno set)
 */
struct ft_tcp_segcache *ft_tcp_segcache_create(uint32_t slots, int socket);

/** Free a segment cache (NULL is ignored). */
void ft_tcp_segcache_free(struct ft_tcp_segcache *sc);

/**
 * Prefetch the slot that ft_tcp_track() will use for a payload segment of
 * connection @p conn_id, direction @p dir, at @p seq (it reads the slot for
 * a retransmission, writes it for new data). Called for a whole burst
 * before tracking it, the slots' cache misses overlap instead of stalling
 * one segment at a time (a replayed capture is all retransmissions).
 */
void ft_tcp_segcache_prefetch(const struct ft_tcp_segcache *sc, uint32_t conn_id,
			      unsigned int dir, uint32_t seq);

#ifdef __cplusplus
}
#endif

#endif /* FT_TCP_H */
