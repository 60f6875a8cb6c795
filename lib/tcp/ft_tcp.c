/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP tracking: the RFC 793 transition table, sequence and window checks
 * after van Rooij (as nf_conntrack_proto_tcp.c does them), RFC 5961 RST
 * acceptance, Zeek's history and conn_state, and the segment cache.
 */
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#ifdef RTE_ARCH_X86_64
#include <nmmintrin.h>
#endif

#include "ft_tcp.h"

/* Sequence arithmetic modulo 2^32. */
static inline bool seq_before(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool seq_after(uint32_t a, uint32_t b) { return (int32_t)(b - a) < 0; }

/* RFC 7323: a shift above 14 is used as 14. */
#define FT_TCP_MAX_WSCALE 14

/* ------------------------------------------------------------------------ */
/* The transition table                                                     */

/* What one segment means to one endpoint. */
enum tcp_ev {
	EV_SEND_SYN = 0,
	EV_SEND_SYNACK,
	EV_SEND_ACK,
	EV_SEND_FIN,
	EV_SEND_FIN_CROSSED, /* FIN sent before the peer's FIN arrived */
	EV_SEND_RST,
	EV_RECV_SYN,
	EV_RECV_SYNACK,
	EV_RECV_ACK_SYN,
	EV_RECV_ACK_FIN,
	EV_RECV_FIN,
	EV_RECV_RST,
	EV_MAX
};

#define sCL FT_TCP_CLOSED
#define sLI FT_TCP_LISTEN
#define sSS FT_TCP_SYN_SENT
#define sSR FT_TCP_SYN_RECEIVED
#define sES FT_TCP_ESTABLISHED
#define sF1 FT_TCP_FIN_WAIT_1
#define sF2 FT_TCP_FIN_WAIT_2
#define sCW FT_TCP_CLOSE_WAIT
#define sCG FT_TCP_CLOSING
#define sLA FT_TCP_LAST_ACK
#define sTW FT_TCP_TIME_WAIT

/*
 * next[event][state]: the endpoint's state after the event. A cell equal to
 * its column means "no change" (a retransmission, or an event the state
 * ignores, as a host would).
 */
static const uint8_t tcp_next[EV_MAX][FT_TCP_STATE_MAX] = {
/*                      sCL  sLI  sSS  sSR  sES  sF1  sF2  sCW  sCG  sLA  sTW */
/* send SYN: active open; in SYN_RECEIVED a bare SYN answers a SYN (split
 * handshake / simultaneous open) */
[EV_SEND_SYN]        = { sSS, sSS, sSS, sSR, sES, sF1, sF2, sCW, sCG, sLA, sTW },
/* send SYN+ACK: it received a SYN (seen or missed) */
[EV_SEND_SYNACK]     = { sSR, sSR, sSR, sSR, sES, sF1, sF2, sCW, sCG, sLA, sTW },
/* send ACK: acking the peer's SYN+ACK means it received it (missed by us) */
[EV_SEND_ACK]        = { sCL, sLI, sES, sSR, sES, sF1, sF2, sCW, sCG, sLA, sTW },
/* send FIN: close */
[EV_SEND_FIN]        = { sCL, sLI, sSS, sF1, sF1, sF1, sF2, sLA, sCG, sLA, sTW },
/* send FIN before the peer's FIN arrived, though we saw it pass first */
[EV_SEND_FIN_CROSSED]= { sCL, sLI, sSS, sF1, sF1, sF1, sF2, sCG, sCG, sLA, sTW },
/* send an acceptable RST: abort */
[EV_SEND_RST]        = { sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL },
/* receive SYN: passive open, or simultaneous open from SYN_SENT */
[EV_RECV_SYN]        = { sSR, sSR, sSR, sSR, sES, sF1, sF2, sCW, sCG, sLA, sTW },
/* receive a SYN+ACK acknowledging our SYN */
[EV_RECV_SYNACK]     = { sCL, sLI, sES, sES, sES, sF1, sF2, sCW, sCG, sLA, sTW },
/* receive the first ACK of our SYN */
[EV_RECV_ACK_SYN]    = { sCL, sLI, sSS, sES, sES, sF1, sF2, sCW, sCG, sLA, sTW },
/* receive the ACK of our FIN */
[EV_RECV_ACK_FIN]    = { sCL, sLI, sSS, sSR, sES, sF2, sF2, sCW, sTW, sCL, sTW },
/* receive FIN */
[EV_RECV_FIN]        = { sCL, sLI, sSS, sCW, sCW, sCG, sTW, sCW, sCG, sLA, sTW },
/* receive an acceptable RST */
[EV_RECV_RST]        = { sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL },
};

static const char *const state_names[FT_TCP_STATE_MAX] = {
	"CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",
	"FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
};

const char *
ft_tcp_state_name(unsigned int state)
{
	return state < FT_TCP_STATE_MAX ? state_names[state] : "unknown";
}

const char *
ft_tcp_end_name(unsigned int end)
{
	static const char *const names[FT_END_MAX] = {
		"", "fin", "rst", "timeout", "evicted", "exit",
	};
	return end < FT_END_MAX ? names[end] : "";
}

/* How many of SYN, FIN and RST (bits 0-2 of the flags) a segment carries:
 * a 2-bit count per 3-bit value, packed in one constant (0,1,1,2,1,2,2,3),
 * in place of three tests and two adds on every segment. */
static inline unsigned int
ctl_count(uint8_t f)
{
	_Static_assert(FT_TCP_FIN == 1 && FT_TCP_SYN == 2 && FT_TCP_RST == 4,
		       "ctl_count() reads FIN, SYN and RST as the flags' low 3 bits");
	return (0xe994u >> ((f & 7u) << 1)) & 3u;
}

static inline void
step(struct ft_tcp_endpoint *e, enum tcp_ev ev)
{
	e->state = tcp_next[ev][e->state];
}

/* ------------------------------------------------------------------------ */
/* Zeek's view: history letters and endpoint states                         */

/* History letter kinds; a kind is recorded once per direction unless said. */
enum hist_kind {
	H_SYN = 0, H_SYNACK, H_ACK, H_DATA, H_FIN, H_RST, H_GAP, H_REXMIT,
	H_ZWIN, H_FINRST, H_MULTI, H_CSUM, H_MAX
};

static const char hist_letter[H_MAX] = {
	[H_SYN] = 'S', [H_SYNACK] = 'H', [H_ACK] = 'A', [H_DATA] = 'D',
	[H_FIN] = 'F', [H_RST] = 'R', [H_GAP] = 'G', [H_REXMIT] = 'T',
	[H_ZWIN] = 'W', [H_FINRST] = 'I', [H_MULTI] = 'Q', [H_CSUM] = 'C',
};

/* Letter codes in ft_tcp_conn.hist_lo/hist_hi: 1 + kind * 2 + direction
 * (0 is no letter), 5 bits each, 12 in hist_lo and 11 in hist_hi. */
#define HIST_BITS 5
#define HIST_LO_N 12
#define HIST_CODES (HIST_LO_N + 11)
#define HIST_MASK ((UINT64_C(1) << HIST_BITS) - 1)

_Static_assert(2 * H_MAX < (1 << HIST_BITS), "history letter codes do not fit 5 bits");
_Static_assert(HIST_CODES == FT_TCP_HISTORY_LEN - 1, "history codes != FT_TCP_HISTORY_LEN - 1");

/* Bit 0 of each code position of hist_lo (12 of them) and hist_hi (11). */
#define HIST_ONES_LO (UINT64_C(0x0842108421084210) >> 4)
#define HIST_ONES_HI (HIST_ONES_LO & ((UINT64_C(1) << (HIST_BITS * (HIST_CODES - HIST_LO_N))) - 1))

/* Whether one of the positions of @p h marked by @p ones holds @p code: all
 * positions compared at once (a position of h ^ code-in-every-position is
 * zero; the borrow of x - ones first reaches a position's top bit from a
 * zero position, so the test is exact). */
static inline bool
hist_has(uint64_t h, uint64_t ones, uint64_t code)
{
	const uint64_t x = h ^ (ones * code);

	return ((x - ones) & ~x & (ones << (HIST_BITS - 1))) != 0;
}

static inline unsigned int
hist_code_at(const struct ft_tcp_conn *c, unsigned int i)
{
	return i < HIST_LO_N ? (unsigned int)((c->hist_lo >> (i * HIST_BITS)) & HIST_MASK) :
			       (unsigned int)((c->hist_hi >> ((i - HIST_LO_N) * HIST_BITS)) & HIST_MASK);
}

/* First letter code's position: after the '^' of a flipped connection. */
static inline unsigned int
hist_first(const struct ft_tcp_conn *c)
{
	return (c->cflags & FT_TCPC_FLIPPED) ? 1 : 0;
}

unsigned int
ft_tcp_history(const struct ft_tcp_conn *c, char *buf)
{
	unsigned int n = 0, i, code;

	if (c->cflags & FT_TCPC_FLIPPED)
		buf[n++] = '^'; /* Zeek's mark of a flipped connection */
	for (i = 0; n < c->hist_len && i < HIST_CODES; i++) {
		code = hist_code_at(c, i);
		if (code-- == 0)
			break; /* none there: hist_len and the codes always agree */
		buf[n++] = (char)(hist_letter[code >> 1] | ((code & 1) ? 0x20 : 0));
	}
	buf[n] = '\0';
	return n;
}

static void
hist_add(struct ft_tcp_conn *c, unsigned int dir, enum hist_kind k)
{
	uint64_t code = 1 + (unsigned int)k * 2 + dir;
	unsigned int i;

	if (c->hist_len + 1 >= FT_TCP_HISTORY_LEN)
		return; /* long histories are cut, as Zeek's max_history does */
	i = c->hist_len - hist_first(c);
	if (i < HIST_LO_N)
		c->hist_lo |= code << (i * HIST_BITS);
	else
		c->hist_hi |= code << ((i - HIST_LO_N) * HIST_BITS);
	c->hist_len++;
}

/*
 * Was a letter of kind @p mask (and for H_SYN, of H_SYNACK) recorded in
 * this direction? For the kinds other than A and D (those are a bit each,
 * hist_check()): they come on a few segments and are looked up in the history.
 * A full history answers yes: no letter can be added to it any more, so
 * the answer changes nothing (this is why it can stand for the bit per
 * kind that Zeek keeps).
 */
static bool
hist_seen(const struct ft_tcp_conn *c, unsigned int dir, enum hist_kind mask)
{
	const uint64_t want = 1 + (uint64_t)mask * 2 + dir;
	const uint64_t alt = mask == H_SYN ? 1 + H_SYNACK * 2 + dir : want;

	if (c->hist_len + 1 >= FT_TCP_HISTORY_LEN)
		return true;
	/* Unused positions hold 0, which is no letter's code. */
	return hist_has(c->hist_lo, HIST_ONES_LO, want) || hist_has(c->hist_hi, HIST_ONES_HI, want) ||
	       (alt != want &&
		(hist_has(c->hist_lo, HIST_ONES_LO, alt) || hist_has(c->hist_hi, HIST_ONES_HI, alt)));
}

/*
 * Zeek's CheckHistory(): record @p letter the first time @p mask's kind is
 * seen in this direction. @return true when the kind was seen before (SYN
 * and SYN+ACK share one kind, as in Zeek).
 */
static inline bool
hist_check(struct ft_tcp_conn *c, unsigned int dir, enum hist_kind mask, enum hist_kind letter)
{
	/* A and D, asked on almost every segment: one bit, inlined (the
	 * callers' constant mask drops the other branch). */
	if (mask == H_ACK || mask == H_DATA) {
		const unsigned int bit = mask == H_ACK ? 1 : 2;

		if (c->ep[dir].hist_ad & bit)
			return true;
		c->ep[dir].hist_ad |= bit;
	} else if (hist_seen(c, dir, mask)) {
		return true;
	}
	hist_add(c, dir, letter);
	return false;
}

/* The 12 bits a last SYN/FIN/RST seq is remembered by (ft_tcp.h says what
 * the fold costs): seqs that differ by less than 2^12 keep distinct folds. */
static inline uint32_t
fold12(uint32_t seq)
{
	return (seq ^ (seq >> 12) ^ (seq >> 24)) & 0xfff;
}

/* A SYN, FIN or RST letter comes again when one with another sequence
 * number is seen (Zeek's hist_last_SYN/FIN/RST); @p last is its fold. */
static uint32_t
hist_ctl(struct ft_tcp_conn *c, unsigned int dir, enum hist_kind mask, enum hist_kind letter,
	 uint32_t seq, uint32_t last)
{
	if (hist_check(c, dir, mask, letter) && fold12(seq) != last)
		hist_add(c, dir, letter);
	return fold12(seq);
}

/* Zeek's scaled letters (t, w, g): at counts 1, 10, 100, ... */
static void
hist_scaled(struct ft_tcp_conn *c, unsigned int dir, enum hist_kind k, uint32_t count)
{
	uint32_t t;

	for (t = 1; t <= count && t <= 1000000000u; t *= 10)
		if (t == count) {
			hist_add(c, dir, k);
			return;
		}
}

/* One more of a scaled letter's events (retransmission, zero window, gap):
 * @return the new count, which stops at @p max (the packed field's range),
 * and from there on adds no letter. */
static inline uint32_t
hist_count(struct ft_tcp_conn *c, unsigned int dir, enum hist_kind k, uint32_t count, uint32_t max)
{
	if (count >= max)
		return count;
	hist_scaled(c, dir, k, ++count);
	return count;
}

/* Zeek's endpoint state machine (enough of it for conn_state). */
static void
zeek_update(struct ft_tcp_conn *c, unsigned int dir, uint8_t flags, uint16_t len)
{
	struct ft_tcp_endpoint *e = &c->ep[dir], *peer = &c->ep[dir ^ 1];

	/* Most segments: neither SYN, FIN nor RST, from an endpoint past its
	 * handshake; none of those moves. */
	if (!(flags & (FT_TCP_SYN | FT_TCP_FIN | FT_TCP_RST)) && e->zeek >= FT_ZEEK_PARTIAL)
		return;
	/* A multi-flag packet (SYN+FIN, SYN+RST: history 'Q'/'I') moves no
	 * endpoint, as no consistent reading of it exists. */
	if (ctl_count(flags) > 1)
		return;
	if (flags & FT_TCP_RST) {
		e->zeek = FT_ZEEK_RESET;
		return;
	}
	switch (e->zeek) {
	case FT_ZEEK_INACTIVE:
		if ((flags & FT_TCP_SYN) && dir == FT_TCP_ORIG) {
			e->zeek = (flags & FT_TCP_ACK) ? FT_ZEEK_SYN_ACK_SENT : FT_ZEEK_SYN_SENT;
		} else if (flags & FT_TCP_SYN) {
			/* The responder's SYN(+ACK) establishes both ends at once
			 * (Zeek's UpdateInactiveState()): a handshake whose third
			 * packet is missing is S1, not OTH. */
			if (peer->zeek == FT_ZEEK_SYN_SENT)
				peer->zeek = FT_ZEEK_ESTABLISHED;
			e->zeek = FT_ZEEK_ESTABLISHED;
		} else if (flags & FT_TCP_FIN) {
			e->zeek = FT_ZEEK_CLOSED;
		} else if (dir == FT_TCP_RESP && len == 0 && peer->zeek == FT_ZEEK_SYN_SENT) {
			/* A bare ACK from the responder to a SYN: still inactive. */
		} else if ((flags & FT_TCP_ACK) && (peer->zeek == FT_ZEEK_ESTABLISHED ||
						     peer->zeek == FT_ZEEK_SYN_ACK_SENT)) {
			/* Acking an established peer, or a SYN+ACK whose SYN was
			 * missed, completes it. */
			e->zeek = FT_ZEEK_ESTABLISHED;
			peer->zeek = FT_ZEEK_ESTABLISHED;
		} else {
			e->zeek = FT_ZEEK_PARTIAL;
		}
		break;
	case FT_ZEEK_SYN_SENT:
	case FT_ZEEK_SYN_ACK_SENT:
		if (flags & FT_TCP_FIN) {
			e->zeek = FT_ZEEK_CLOSED;
		} else if ((flags & (FT_TCP_ACK | FT_TCP_SYN)) == FT_TCP_ACK) {
			if (peer->zeek == FT_ZEEK_SYN_ACK_SENT || peer->zeek == FT_ZEEK_SYN_SENT ||
			    peer->zeek == FT_ZEEK_ESTABLISHED) {
				e->zeek = FT_ZEEK_ESTABLISHED;
				if (peer->zeek != FT_ZEEK_ESTABLISHED)
					peer->zeek = FT_ZEEK_ESTABLISHED;
			}
		}
		break;
	case FT_ZEEK_PARTIAL:
	case FT_ZEEK_ESTABLISHED:
		if (flags & FT_TCP_FIN)
			e->zeek = FT_ZEEK_CLOSED;
		break;
	default:
		break;
	}
}

const char *
ft_tcp_conn_state(const struct ft_tcp_conn *c)
{
	unsigned int os = c->ep[FT_TCP_ORIG].zeek, rs = c->ep[FT_TCP_RESP].zeek;
	bool o_inactive = os == FT_ZEEK_INACTIVE || os == FT_ZEEK_PARTIAL;
	bool r_inactive = rs == FT_ZEEK_INACTIVE || rs == FT_ZEEK_PARTIAL;

	if (rs == FT_ZEEK_RESET) {
		if (os == FT_ZEEK_SYN_SENT || os == FT_ZEEK_SYN_ACK_SENT ||
		    (os == FT_ZEEK_RESET && ft_tcp_payload_bytes(&c->ep[0]) == 0 &&
		     ft_tcp_payload_bytes(&c->ep[1]) == 0))
			return "REJ";
		return o_inactive ? "RSTRH" : "RSTR";
	}
	if (os == FT_ZEEK_RESET) {
		if (r_inactive) {
			/* Zeek: history matches /^\^?S[^HAFGIQ]*R.*$/ */
			char hist[FT_TCP_HISTORY_LEN];
			const char *h = hist;

			ft_tcp_history(c, hist);

			if (*h == '^')
				h++;
			if (*h == 'S') {
				for (h++; *h != '\0' && strchr("HAFGIQ", *h) == NULL; h++)
					if (*h == 'R')
						return "RSTOS0";
			}
			return "OTH";
		}
		return "RSTO";
	}
	if (rs == FT_ZEEK_CLOSED && os == FT_ZEEK_CLOSED)
		return "SF";
	if (os == FT_ZEEK_CLOSED)
		return r_inactive ? "SH" : "S2";
	if (rs == FT_ZEEK_CLOSED)
		return o_inactive ? "SHR" : "S3";
	if (os == FT_ZEEK_SYN_SENT && rs == FT_ZEEK_INACTIVE)
		return "S0";
	if (os == FT_ZEEK_ESTABLISHED && rs == FT_ZEEK_ESTABLISHED)
		return "S1";
	return "OTH";
}

uint64_t
ft_tcp_payload_bytes(const struct ft_tcp_endpoint *e)
{
	uint64_t n;

	if (!(e->flags & (FT_TCPE_ISN | FT_TCPE_ISN_GUESS)))
		return 0;
	n = ((uint64_t)e->data_wraps << 32) + (uint32_t)(e->data_end - (e->isn + 1));
	/* Data sent after its own FIN (an attack or a broken stack) stands
	 * one beyond: the FIN's sequence number is not a byte. */
	if ((e->flags & FT_TCPE_FIN) && seq_after(e->data_end, e->fin_seq + 1) && n != 0)
		n--;
	return n;
}

/* ------------------------------------------------------------------------ */
/* The segment cache                                                         */

struct segcache_slot {
	uint32_t conn_id;
	uint32_t seq;
	uint32_t digest;      /* of all bytes */
	uint32_t head_digest; /* of the first min(len, SEG_HEAD) bytes */
	uint16_t len;
	uint8_t dir;
	uint8_t used;
	uint32_t pad;
};

#define SEG_HEAD 64

struct ft_tcp_segcache {
	uint32_t mask;
	struct segcache_slot slot[];
};

struct ft_tcp_segcache *
ft_tcp_segcache_create(uint32_t slots, int socket)
{
	struct ft_tcp_segcache *sc;

	if (slots == 0 || (slots & (slots - 1)) != 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	sc = rte_zmalloc_socket("ft_tcp_segcache",
				sizeof(*sc) + (size_t)slots * sizeof(struct segcache_slot),
				RTE_CACHE_LINE_SIZE, socket);
	if (sc == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	sc->mask = slots - 1;
	return sc;
}

void
ft_tcp_segcache_free(struct ft_tcp_segcache *sc)
{
	rte_free(sc);
}

static inline uint32_t
segcache_index(const struct ft_tcp_segcache *sc, uint32_t conn_id, unsigned int dir, uint32_t seq)
{
	return rte_hash_crc_4byte(seq, conn_id * 2 + dir) & sc->mask;
}

static inline struct segcache_slot *
segcache_slot(struct ft_tcp_segcache *sc, uint32_t conn_id, unsigned int dir, uint32_t seq)
{
	return &sc->slot[segcache_index(sc, conn_id, dir, seq)];
}

void
ft_tcp_segcache_prefetch(const struct ft_tcp_segcache *sc, uint32_t conn_id, unsigned int dir,
			 uint32_t seq)
{
	const struct segcache_slot *s;

	if (sc == NULL)
		return;
	s = &sc->slot[segcache_index(sc, conn_id, dir, seq)];
	/* Both ends: a 24-byte slot after the 4-byte mask straddles two cache
	 * lines for 3 slots of 8, and `used`, read first, is in the second
	 * line for two of them (a seventh of ft_tcp_track's time inline was
	 * that load). A second prefetch of a line already on its way is cheap. */
	rte_prefetch0(s);
	rte_prefetch0((const char *)s + sizeof(*s) - 1);
}

/* The digest's lanes folded into one value (see digest_head_lib()). They
 * are folded by integer multiply-add, not by more CRC steps: CRC is linear
 * over XOR, so folding lane states with it cancels equal changes in two
 * lanes, which repetitive payloads (8-byte units swapped, as the overlap
 * tests send) make likely. */
static inline uint32_t
digest_fold(uint32_t h0, uint32_t h1, uint32_t h2, uint32_t h3, uint32_t len)
{
	uint64_t x = (uint64_t)h0 * UINT64_C(0x9e3779b97f4a7c15) + (uint64_t)h1 * UINT64_C(0xc2b2ae3d27d4eb4f) +
		     (uint64_t)h2 * UINT64_C(0x165667b19e3779f9) + (uint64_t)h3 * UINT64_C(0x85ebca77c2b2ae63) +
		     len;

	return (uint32_t)(x ^ (x >> 32));
}

/*
 * Digest of payload bytes: CRC32-C over four interleaved lanes of 8-byte
 * words (32-byte blocks; the rest in lane 0), folded together at the end.
 * One CRC chain is bound by the crc32 instruction's latency (3 cycles per 8
 * bytes: about 175 ns for a 1460-byte segment, on every data segment); four
 * independent chains run at its throughput instead. Only ever compared with
 * itself. Payload is not aligned: words are copied out (rte_hash_crc()
 * would load them in place, which is undefined behaviour).
 *
 * With @p head, also the digest of the first min(len, SEG_HEAD)
 * bytes, from the same pass: SEG_HEAD is a whole number of blocks, so the
 * lanes hold exactly that digest's state once they have read it (the
 * segment cache needs both for every new segment; computed apart, a
 * segment of at most SEG_HEAD bytes was hashed twice).
 *
 * The body is written once and made into two functions, one per CRC-32C
 * implementation (CRC8 folds 8 bytes in, CRC1 one byte): rte_hash_crc's,
 * which tests for SSE4.2 on every call, and the SSE4.2 instruction itself,
 * taken when the CPU has it. They give the same digest (checked at start-up
 * before the instruction is chosen). With the head's digest taken between
 * two block loops instead of tested for in every block, a 1400-byte
 * segment costs about 230 instructions fewer (callgrind).
 */
#define DIGEST_BLOCKS(CRC8, end)                                                       \
	for (; i + 32 <= (end); i += 32) {                                             \
		memcpy(&w0, d + i, 8);                                                 \
		memcpy(&w1, d + i + 8, 8);                                             \
		memcpy(&w2, d + i + 16, 8);                                            \
		memcpy(&w3, d + i + 24, 8);                                            \
		h0 = CRC8(w0, h0);                                                     \
		h1 = CRC8(w1, h1);                                                     \
		h2 = CRC8(w2, h2);                                                     \
		h3 = CRC8(w3, h3);                                                     \
	}
#define DIGEST_HEAD_BODY(CRC8, CRC1)                                                   \
	uint32_t h0 = 0x9e3779b9, h1 = 0x85ebca6b, h2 = 0xc2b2ae35, h3 = 0x27d4eb2f, i = 0, all; \
	uint64_t w0, w1, w2, w3;                                                       \
                                                                                       \
	RTE_BUILD_BUG_ON(SEG_HEAD % 32 != 0);                                          \
	if (head != NULL && len > SEG_HEAD) {                                          \
		DIGEST_BLOCKS(CRC8, SEG_HEAD)                                          \
		*head = digest_fold(h0, h1, h2, h3, SEG_HEAD);                         \
	}                                                                              \
	DIGEST_BLOCKS(CRC8, len)                                                       \
	for (; i + 8 <= len; i += 8) {                                                 \
		memcpy(&w0, d + i, 8);                                                 \
		h0 = CRC8(w0, h0);                                                     \
	}                                                                              \
	for (; i < len; i++)                                                           \
		h0 = CRC1(d[i], h0);                                                   \
	all = digest_fold(h0, h1, h2, h3, len);                                        \
	if (head != NULL && len <= SEG_HEAD)                                           \
		*head = all;                                                           \
	return all

typedef uint32_t (*digest_head_fn)(const uint8_t *d, uint32_t len, uint32_t *head);

static uint32_t
digest_head_lib(const uint8_t *d, uint32_t len, uint32_t *head)
{
	DIGEST_HEAD_BODY(rte_hash_crc_8byte, rte_hash_crc_1byte);
}

#ifdef RTE_ARCH_X86_64
static inline __attribute__((target("sse4.2"))) uint32_t
crc8_sse42(uint64_t w, uint32_t h)
{
	return (uint32_t)_mm_crc32_u64(h, w);
}

static inline __attribute__((target("sse4.2"))) uint32_t
crc1_sse42(uint8_t b, uint32_t h)
{
	return _mm_crc32_u8(h, b);
}

static __attribute__((target("sse4.2"))) uint32_t
digest_head_sse42(const uint8_t *d, uint32_t len, uint32_t *head)
{
	DIGEST_HEAD_BODY(crc8_sse42, crc1_sse42);
}
#endif

static digest_head_fn digest_head = digest_head_lib;

RTE_INIT(ft_tcp_digest_init)
{
#ifdef RTE_ARCH_X86_64
	uint8_t probe[203];
	uint32_t i, a, b, ha, hb;

	if (rte_cpu_get_flag_enabled(RTE_CPUFLAG_SSE4_2) <= 0)
		return;
	for (i = 0; i < sizeof(probe); i++)
		probe[i] = (uint8_t)(i * 131 + 7);
	a = digest_head_lib(probe, sizeof(probe), &ha);
	b = digest_head_sse42(probe, sizeof(probe), &hb);
	if (a == b && ha == hb)
		digest_head = digest_head_sse42;
#endif
}

static inline uint32_t
digest(const uint8_t *d, uint32_t len)
{
	return digest_head(d, len, NULL);
}

/* Remember an in-order segment's bytes. */
static void
segcache_put(struct ft_tcp_segcache *sc, uint32_t conn_id, unsigned int dir, uint32_t seq,
	     const struct ft_tcp_payload *pl, uint16_t len)
{
	struct segcache_slot *s;

	if (sc == NULL || pl == NULL || pl->caplen < len)
		return; /* bytes not all captured: nothing sound to compare */
	s = segcache_slot(sc, conn_id, dir, seq);
	s->conn_id = conn_id;
	s->seq = seq;
	s->len = len;
	s->dir = (uint8_t)dir;
	s->used = 1;
	s->digest = digest_head(pl->data, len, &s->head_digest);
}

/*
 * A segment re-sent at a seq we remember: do the overlapping bytes differ?
 * Compared exactly when the new segment covers the old one (its first
 * old-length bytes are hashed); when it is shorter, over the first 64 bytes.
 * @return 1 different, 0 same, -1 nothing to compare
 */
static int
segcache_differs(struct ft_tcp_segcache *sc, uint32_t conn_id, unsigned int dir, uint32_t seq,
		 const struct ft_tcp_payload *pl, uint16_t len)
{
	struct segcache_slot *s;

	if (sc == NULL || pl == NULL || pl->caplen < len)
		return -1;
	s = segcache_slot(sc, conn_id, dir, seq);
	if (!s->used || s->conn_id != conn_id || s->seq != seq || s->dir != dir)
		return -1;
	if (len >= s->len)
		return digest(pl->data, s->len) != s->digest;
	if (len >= SEG_HEAD)
		return digest(pl->data, SEG_HEAD) != s->head_digest;
	return -1;
}

/* ------------------------------------------------------------------------ */
/* Tracking                                                                  */

_Static_assert(FT_EV_MAX <= 32, "ft_tcp_conn.anomalies has a bit per name: 32 at most");

static void
anomaly(struct ft_tcp_conn *c, struct ft_tcp_result *r, enum ft_event_type type, uint8_t has,
	uint32_t seq, uint32_t ack, uint32_t expected, const char *detail)
{
	struct ft_tcp_anomaly *a;
	const uint32_t bit = UINT32_C(1) << type;
	const bool first = !(c->anomalies & bit);

	c->anomalies |= bit;
	if (r->n == FT_TCP_MAX_ANOMALIES)
		return;
	a = &r->a[r->n++];
	a->type = (uint8_t)type;
	a->first = first;
	a->has = has;
	a->seq = seq;
	a->ack = ack;
	a->expected = expected;
	if (detail != NULL)
		snprintf(a->detail, sizeof(a->detail), "%s", detail);
	else
		a->detail[0] = '\0';
}

void
ft_tcp_bad_checksum(struct ft_tcp_conn *c, unsigned int dir, const struct ft_pkt *p,
		    uint16_t expected, struct ft_tcp_result *r)
{
	char detail[40];

	memset(r, 0, sizeof(*r));
	r->dropped = 1;
	/* Zeek repeats C at 10, 100, ... bad segments; one per direction here
	 * (no room for another counter in the two cache lines). */
	hist_check(c, dir, H_CSUM, H_CSUM);
	snprintf(detail, sizeof(detail), "expected 0x%04x", expected);
	anomaly(c, r, FT_EV_TCP_BAD_CHECKSUM, FT_EVF_SEQ | FT_EVF_ACK, p->tcp.seq, p->tcp.ack, 0,
		detail);
}

bool
ft_tcp_first_is_orig(const struct ft_pkt *p)
{
	return (p->tcp.flags & (FT_TCP_SYN | FT_TCP_ACK | FT_TCP_RST | FT_TCP_FIN)) !=
	       (FT_TCP_SYN | FT_TCP_ACK);
}

int
ft_tcp_init(struct ft_tcp_conn *c, const struct ft_pkt *first, bool midstream_ok)
{
	uint8_t f = first->tcp.flags;

	memset(c, 0, sizeof(*c));
	c->ep[FT_TCP_ORIG].state = FT_TCP_CLOSED;
	c->ep[FT_TCP_RESP].state = FT_TCP_CLOSED;
	if ((f & (FT_TCP_SYN | FT_TCP_ACK)) == FT_TCP_SYN) {
		/* An opening SYN: the responder was listening. */
		c->ep[FT_TCP_RESP].state = FT_TCP_LISTEN;
	} else if ((f & (FT_TCP_SYN | FT_TCP_ACK | FT_TCP_RST)) == (FT_TCP_SYN | FT_TCP_ACK)) {
		/* A SYN+ACK first: its receiver sent a SYN we missed. */
		c->cflags |= FT_TCPC_FLIPPED;
		c->ep[FT_TCP_ORIG].state = FT_TCP_SYN_SENT;
		c->ep[FT_TCP_ORIG].isn = first->tcp.ack - 1;
		c->ep[FT_TCP_ORIG].end = first->tcp.ack;
		c->ep[FT_TCP_ORIG].data_end = first->tcp.ack;
		c->ep[FT_TCP_ORIG].flags |= FT_TCPE_ISN_GUESS;
		c->hist_len = 1; /* Zeek's '^' mark of a flipped connection */
	} else {
		if (!midstream_ok)
			return -1;
		c->cflags |= FT_TCPC_MIDSTREAM;
		c->ep[FT_TCP_ORIG].state = FT_TCP_ESTABLISHED;
		c->ep[FT_TCP_RESP].state = FT_TCP_ESTABLISHED;
	}
	return 0;
}

/* The peer allows @p e to send up to @p limit (its ack + window). */
static inline void
allow(struct ft_tcp_endpoint *e, uint32_t limit)
{
	if (!e->maxend_set || seq_after(limit, e->maxend))
		e->maxend = limit;
	e->maxend_set = 1;
}

/* A segment's sender: its sequence space moves to @p end (seq + length, FIN
 * included), its data to seq + len, its window is the segment's.
 * @return the window, scaled */
static inline uint32_t
advance_sender(struct ft_tcp_endpoint *s, const struct ft_tcp_meta *t, uint16_t len, uint32_t end)
{
	uint32_t win;

	if (seq_after(end, s->end))
		s->end = end;
	if ((len != 0 || (t->flags & FT_TCP_FIN)) && seq_after(t->seq + len, s->data_end)) {
		/* Count the laps of 2^32 so byte counts go beyond 4 GiB. */
		if (t->seq + len - (s->isn + 1) < s->data_end - (s->isn + 1))
			s->data_wraps++;
		s->data_end = t->seq + len;
	}
	win = (uint32_t)t->win << s->wscale;
	if (win > ft_tcp_maxwin(s)) {
		s->maxwin_raw = t->win;
		s->maxwin_shift = s->wscale;
	}
	s->win_raw = t->win;
	s->win_shift = s->wscale;
	return win;
}

/* The highest ack an endpoint sent. */
static inline void
note_ack(struct ft_tcp_endpoint *s, uint32_t ack)
{
	if (!(s->flags & FT_TCPE_ACKED_ANY) || seq_after(ack, s->ack)) {
		s->ack = ack;
		s->flags |= FT_TCPE_ACKED_ANY;
	}
}

/* A segment's counts in its sender's record. */
static inline void
count_segment(struct ft_tcp_endpoint *s, const struct ft_pkt *p)
{
	s->pkts++;
	s->ip_bytes_word += p->ip_len;
}

/* First segment from an endpoint not seen opening: its numbers start here. */
static void
endpoint_pickup(struct ft_tcp_endpoint *e, uint32_t seq, uint16_t win)
{
	e->isn = seq - 1;
	e->end = seq;
	e->data_end = seq;
	if (!e->maxend_set)
		e->maxend = seq; /* nothing allowed yet: the peer's next ack says */
	e->maxwin_raw = (uint16_t)RTE_MAX(win, 1u);
	e->maxwin_shift = 0;
	/* Window scale unknown mid-stream: be liberal, as conntrack is. */
	e->wscale = FT_TCP_MAX_WSCALE;
	e->flags |= FT_TCPE_ISN_GUESS;
}

/* Is this RST one the receiver would act on (RFC 793 + RFC 5961 3.2)? */
enum rst_verdict { RST_ACCEPT, RST_INEXACT, RST_OUT };

static enum rst_verdict
rst_check(const struct ft_tcp_endpoint *s, const struct ft_tcp_endpoint *rcv,
	  const struct ft_pkt *p, uint32_t *expected)
{
	uint32_t seq = p->tcp.seq, win, left;

	if (rcv->state == FT_TCP_SYN_SENT && !(s->flags & (FT_TCPE_ISN | FT_TCPE_ISN_GUESS))) {
		/* Answering a SYN: acceptable when it acknowledges the SYN. */
		*expected = rcv->isn + 1;
		if ((p->tcp.flags & FT_TCP_ACK) && p->tcp.ack == rcv->isn + 1)
			return RST_ACCEPT;
		return RST_OUT;
	}
	if (!(s->flags & FT_TCPE_SEEN) && !(s->flags & (FT_TCPE_ISN | FT_TCPE_ISN_GUESS))) {
		*expected = seq;
		return RST_ACCEPT; /* nothing known to judge it by */
	}
	/* RCV.NXT: what the receiver last acknowledged, else the sender's
	 * next sequence number as we saw it. Either is exact. */
	left = (rcv->flags & FT_TCPE_ACKED_ANY) ? rcv->ack : s->end;
	*expected = left;
	if (seq == s->end || seq == left)
		return RST_ACCEPT;
	/* The receiver never sent anything: its window is unknown, so only a
	 * seq outside what the sender has used is judged (a client aborting
	 * its own SYN may use the SYN's number). */
	if (!(rcv->flags & FT_TCPE_SEEN)) {
		if (!seq_before(seq, s->isn) && !seq_after(seq, s->end))
			return RST_ACCEPT;
		return RST_OUT;
	}
	win = RTE_MAX(ft_tcp_win(rcv), 1u);
	if (seq_after(seq, left) && seq_before(seq, left + win))
		return RST_INEXACT;
	return RST_OUT;
}

/* The invalid combinations of FIN, SYN, RST, PSH, ACK and URG (the low 6
 * bits of the flags): SYN+FIN, SYN+RST, none of them, FIN+PSH+URG, FIN
 * without ACK (FIN+RST included: no stack sends it, and nf_conntrack finds
 * it invalid too). One bit per combination, so a segment costs a shift. */
#define FLAGS_BAD(f) ((((f) & 0x03) == 0x03) | (((f) & 0x06) == 0x06) | (((f) & 0x3f) == 0) | \
		      (((f) & 0x29) == 0x29) | (((f) & 0x11) == 0x01))
#define FLAGS_BAD4(f) ((uint64_t)FLAGS_BAD(f) << (f) | (uint64_t)FLAGS_BAD((f) + 1) << ((f) + 1) | \
		       (uint64_t)FLAGS_BAD((f) + 2) << ((f) + 2) | (uint64_t)FLAGS_BAD((f) + 3) << ((f) + 3))
#define FLAGS_BAD16(f) (FLAGS_BAD4(f) | FLAGS_BAD4((f) + 4) | FLAGS_BAD4((f) + 8) | FLAGS_BAD4((f) + 12))
static const uint64_t flags_bad = FLAGS_BAD16(0) | FLAGS_BAD16(16) | FLAGS_BAD16(32) | FLAGS_BAD16(48);
_Static_assert(FT_TCP_FIN == 0x01 && FT_TCP_SYN == 0x02 && FT_TCP_RST == 0x04 && FT_TCP_PSH == 0x08 &&
	       FT_TCP_ACK == 0x10 && FT_TCP_URG == 0x20, "flags_bad assumes the wire's flag bits");

static inline bool
flags_invalid(uint8_t f)
{
	return (flags_bad >> (f & 0x3f)) & 1;
}

/* Zeek's history letters for one segment (its update_history()). */
static void
history_for(struct ft_tcp_conn *c, unsigned int dir, const struct ft_pkt *p)
{
	struct ft_tcp_endpoint *e = &c->ep[dir];
	uint8_t f = p->tcp.flags;
	unsigned int bits = ctl_count(f);

	if (bits > 1) {
		enum hist_kind k = ((f & (FT_TCP_FIN | FT_TCP_RST)) == (FT_TCP_FIN | FT_TCP_RST)) ?
				   H_FINRST : H_MULTI;

		hist_check(c, dir, k, k);
	} else if (bits == 1) {
		if (f & FT_TCP_SYN)
			e->last_syn = hist_ctl(c, dir, H_SYN, (f & FT_TCP_ACK) ? H_SYNACK : H_SYN,
					       p->tcp.seq, e->last_syn);
		if (f & FT_TCP_FIN)
			e->last_fin = hist_ctl(c, dir, H_FIN, H_FIN, p->tcp.seq + p->payload_len,
					       e->last_fin);
		if (f & FT_TCP_RST)
			e->last_rst = hist_ctl(c, dir, H_RST, H_RST, p->tcp.seq, e->last_rst);
	} else if (p->payload_len != 0) {
		hist_check(c, dir, H_DATA, H_DATA);
	} else if (f & FT_TCP_ACK) {
		hist_check(c, dir, H_ACK, H_ACK);
	}
}

static void
check_ttl(struct ft_tcp_conn *c, struct ft_tcp_endpoint *s, const struct ft_pkt *p,
	  struct ft_tcp_result *r)
{
	char d[40];

	if ((s->flags & FT_TCPE_SEEN) && p->ttl != s->ttl) {
		snprintf(d, sizeof(d), "%u -> %u", s->ttl, p->ttl);
		anomaly(c, r, FT_EV_TTL_CHANGE, FT_EVF_SEQ, p->tcp.seq, 0, 0, d);
	}
	s->ttl = p->ttl;
}

/* SYN or SYN+ACK from s. */
static void
track_syn(struct ft_tcp_conn *c, unsigned int dir, const struct ft_pkt *p,
	  struct ft_tcp_result *r)
{
	struct ft_tcp_endpoint *s = &c->ep[dir], *rcv = &c->ep[dir ^ 1];
	const struct ft_tcp_meta *t = &p->tcp;
	bool synack = t->flags & FT_TCP_ACK;
	uint32_t end = t->seq + 1 + p->payload_len;

	if (p->payload_len != 0)
		anomaly(c, r, FT_EV_SYN_WITH_DATA, FT_EVF_SEQ, t->seq, 0, 0, NULL);
	/* A SYN once the handshake is over (or a connection is finished)
	 * opens nothing: RFC 5961 section 4 has the host answer with a
	 * challenge ACK and drop it, so it must not move our view either. */
	if ((c->cflags & FT_TCPC_FINISHED) ||
	    (s->state >= FT_TCP_ESTABLISHED && (s->flags & (FT_TCPE_ISN | FT_TCPE_ISN_GUESS)) &&
	     (rcv->flags & (FT_TCPE_ISN | FT_TCPE_ISN_GUESS)) && rcv->state >= FT_TCP_ESTABLISHED)) {
		if (!(c->cflags & FT_TCPC_FINISHED) && t->seq != s->isn)
			anomaly(c, r, FT_EV_SYN_IN_ESTABLISHED, FT_EVF_SEQ | FT_EVF_ACK | FT_EVF_EXPECTED,
				t->seq, t->ack, s->end, NULL);
		r->dropped = 1;
		return;
	}
	/* The handshake is open while the client waits for the SYN+ACK, or
	 * (it has seen one) the server for the third packet. */
	if (s->flags & FT_TCPE_ISN) {
		if (t->seq != s->isn && !synack &&
		    (s->state == FT_TCP_SYN_SENT || rcv->state == FT_TCP_SYN_RECEIVED)) {
			char d[40];

			snprintf(d, sizeof(d), "ISN %u replaced by %u", s->isn, t->seq);
			anomaly(c, r, FT_EV_SYN_NEW_ISN, FT_EVF_SEQ | FT_EVF_EXPECTED, t->seq, 0,
				s->isn, d);
		} else if (t->seq == s->isn) {
			goto transitions; /* a retransmitted SYN */
		}
	}
	/* (Re)start this endpoint's sequence space at its SYN. */
	s->isn = t->seq;
	s->end = end;
	s->data_end = t->seq + 1 + p->payload_len;
	s->maxend = end;
	s->maxwin_raw = (uint16_t)RTE_MAX((uint32_t)t->win, 1u); /* never scaled on a SYN */
	s->maxwin_shift = 0;
	s->flags = (uint8_t)((s->flags & ~FT_TCPE_ISN_GUESS) | FT_TCPE_ISN);
	s->maxend_set = 1;
	if (t->has_wscale) {
		s->flags |= FT_TCPE_WS_OFFER;
		s->wscale = (uint8_t)RTE_MIN(t->wscale, FT_TCP_MAX_WSCALE);
	} else {
		s->flags &= (uint16_t)~FT_TCPE_WS_OFFER;
		s->wscale = 0;
	}
	if (synack) {
		/* Window scaling holds only when both SYNs offered it. A SYN we
		 * missed did offer it if the SYN+ACK answers with it (RFC 7323),
		 * but its shift is unknown: be liberal, as conntrack is. */
		if ((s->flags & FT_TCPE_WS_OFFER) && !(rcv->flags & FT_TCPE_ISN)) {
			rcv->flags |= FT_TCPE_WS_OFFER;
			rcv->wscale = FT_TCP_MAX_WSCALE;
		}
		if (!(s->flags & FT_TCPE_WS_OFFER) || !(rcv->flags & FT_TCPE_WS_OFFER)) {
			s->wscale = 0;
			rcv->wscale = 0;
		}
		if (!(rcv->flags & (FT_TCPE_ISN | FT_TCPE_ISN_GUESS))) {
			rcv->isn = t->ack - 1;
			rcv->end = t->ack;
			rcv->data_end = t->ack;
			rcv->flags |= FT_TCPE_ISN_GUESS;
		}
		r->obs |= FT_TCP_OBS_SERVER_ISN;
	} else if (!(rcv->flags & FT_TCPE_SEEN) && dir == FT_TCP_ORIG) {
		r->obs |= FT_TCP_OBS_SYN;
	}
transitions:
	if (synack) {
		uint32_t want = rcv->isn + 1;

		if ((c->cflags & FT_TCPC_FLIPPED) && s->pkts == 1 && rcv->pkts == 0)
			anomaly(c, r, FT_EV_SYN_ACK_WITHOUT_SYN, FT_EVF_SEQ | FT_EVF_ACK, t->seq, t->ack,
				0, NULL);
		step(s, EV_SEND_SYNACK);
		/* It must acknowledge the SYN, and may acknowledge data the SYN
		 * carried (TCP Fast Open), nothing beyond. */
		if (!seq_before(t->ack, want) && !seq_after(t->ack, rcv->end)) {
			rcv->flags |= FT_TCPE_SYN_ACKED;
			step(rcv, EV_RECV_SYNACK);
		} else {
			anomaly(c, r, FT_EV_SYN_ACK_BAD_ACK, FT_EVF_SEQ | FT_EVF_ACK | FT_EVF_EXPECTED,
				t->seq, t->ack, want, NULL);
		}
		/* The window it gives the SYN's sender (never scaled on a SYN). */
		allow(rcv, t->ack + RTE_MAX((uint32_t)t->win, 1u));
	} else {
		step(s, EV_SEND_SYN);
		step(rcv, EV_RECV_SYN);
	}
	s->win_raw = t->win; /* never scaled on a SYN */
	s->win_shift = 0;
}

/*
 * Bound IV of van Rooij's window tracking, RFC 5961 section 5: an ack more
 * than the largest window its sender offered below the highest ack it sent
 * before is not acceptable, and the receiver drops the segment (Linux's
 * tcp_ack() answers with a challenge ACK, and the data is discarded). Only
 * while no ack of the connection acknowledged data never seen: flowtap takes
 * such an ack (the capture may have lost the data) and moves the highest ack
 * with it, so after a bogus one every genuine ack would look old, and the
 * sender's data would all be dropped (an attacker's way to blind it).
 * Judged for segments with data or a FIN, what an insertion needs: a bare
 * ACK moves nothing a stale one could spoil (the highest ack only rises),
 * and the check stays off the pure ACKs of the fast path.
 */
static inline bool
ack_too_old(const struct ft_tcp_conn *c, const struct ft_tcp_endpoint *s, uint32_t ack)
{
	return (s->flags & FT_TCPE_ACKED_ANY) && seq_before(ack, s->ack - ft_tcp_maxwin(s)) &&
	       !(c->anomalies & (UINT32_C(1) << FT_EV_ACK_UNSEEN_DATA));
}

/*
 * Window checks after van Rooij, as conntrack does them:
 *   I   seq <= sender's maxend          (not beyond what the receiver allowed)
 *   II  end >= sender's end - receiver's maxwin  (not entirely too old)
 *   III ack <= receiver's end           (no ack of data never sent)
 *   IV  ack >= sender's highest ack - sender's maxwin (ack_too_old(): data, FIN)
 * Only judged once both sides' sequence spaces are known. A segment failing
 * I, II or IV is dropped by the receiver; III is flagged (ack_unseen_data)
 * and tracked.
 */
static bool
window_ok(struct ft_tcp_conn *c, unsigned int dir, const struct ft_pkt *p, uint32_t end,
	  struct ft_tcp_result *r)
{
	struct ft_tcp_endpoint *s = &c->ep[dir], *rcv = &c->ep[dir ^ 1];
	const struct ft_tcp_meta *t = &p->tcp;
	bool known = (rcv->flags & FT_TCPE_SEEN) && (s->flags & FT_TCPE_SEEN) &&
		     (s->flags & (FT_TCPE_ISN | FT_TCPE_ISN_GUESS));

	if (!known)
		return true;
	if (seq_after(t->seq, s->maxend) ||
	    seq_before(end, s->end - ft_tcp_maxwin(rcv))) {

		anomaly(c, r, FT_EV_SEQ_OUT_OF_WINDOW, FT_EVF_SEQ | FT_EVF_ACK | FT_EVF_EXPECTED,
			t->seq, t->ack, s->end, NULL);
		return false;
	}
	if ((t->flags & FT_TCP_ACK) && (p->payload_len != 0 || (t->flags & FT_TCP_FIN)) &&
	    ack_too_old(c, s, t->ack)) {
		anomaly(c, r, FT_EV_ACK_OUT_OF_WINDOW, FT_EVF_SEQ | FT_EVF_ACK | FT_EVF_EXPECTED,
			t->seq, t->ack, s->ack - ft_tcp_maxwin(s), NULL);
		return false;
	}
	return true;
}

/* Off only in the unit test that compares both paths. */
static bool fast_path_on = true;

void
ft_tcp_set_fast_path(bool on)
{
	fast_path_on = on;
}

/*
 * Header prediction (as TCP stacks do it): a segment that every check of
 * ft_tcp_track() would let through unchanged is told by a few tests, and
 * only its updates are made. It carries ACK, no SYN, FIN, RST or URG,
 * from an ESTABLISHED sender whose ISN is known, that has sent before (the
 * mid-stream pickup check stays the general path's), with the TTL of its
 * last segment and a window that is not zero, into a connection whose receiver
 * has been seen, acked our SYN and sent no FIN; its bytes start where the
 * sender's new data starts (no retransmission, no gap), it is within the
 * receiver's window and acks nothing unseen; and the Zeek endpoint is past
 * its handshake. Anything else takes the general path, which gives the
 * same result for these (the unit test "fast path" compares them on
 * random conversations).
 */
static inline bool
fast_path_fits(const struct ft_tcp_conn *c, const struct ft_tcp_endpoint *s,
	       const struct ft_tcp_endpoint *rcv, const struct ft_pkt *p)
{
	const struct ft_tcp_meta *t = &p->tcp;
	const uint16_t len = p->payload_len;
	const uint32_t end = t->seq + len;

	if ((t->flags & (FT_TCP_SYN | FT_TCP_FIN | FT_TCP_RST | FT_TCP_URG | FT_TCP_ACK)) != FT_TCP_ACK ||
	    (c->cflags & FT_TCPC_FINISHED) || s->state != FT_TCP_ESTABLISHED ||
	    s->zeek < FT_ZEEK_PARTIAL || t->win == 0 || p->ttl != s->ttl || s->pkts == 0)
		return false;
	if ((s->flags & (FT_TCPE_SEEN | FT_TCPE_ISN)) != (FT_TCPE_SEEN | FT_TCPE_ISN) ||
	    (rcv->flags & (FT_TCPE_SEEN | FT_TCPE_ISN | FT_TCPE_SYN_ACKED | FT_TCPE_FIN)) !=
		    (FT_TCPE_SEEN | FT_TCPE_ISN | FT_TCPE_SYN_ACKED))
		return false;
	if (len != 0 && (seq_before(t->seq, s->data_end) || seq_after(t->seq, s->end)))
		return false;
	return !seq_after(t->seq, s->maxend) && !seq_before(end, s->end - ft_tcp_maxwin(rcv)) &&
	       !seq_after(t->ack, rcv->end) && (len == 0 || !ack_too_old(c, s, t->ack));
}

bool
ft_tcp_fast_path_fits(const struct ft_tcp_conn *c, unsigned int dir, const struct ft_pkt *p)
{
	return fast_path_fits(c, &c->ep[dir], &c->ep[dir ^ 1], p);
}

/* The updates of ft_tcp_track() for a segment fast_path_fits(). */
static void
track_fast(struct ft_tcp_conn *c, unsigned int dir, const struct ft_pkt *p,
	   const struct ft_tcp_payload *pl, struct ft_tcp_segcache *segs, uint32_t conn_id)
{
	struct ft_tcp_endpoint *s = &c->ep[dir], *rcv = &c->ep[dir ^ 1];
	const struct ft_tcp_meta *t = &p->tcp;
	const uint16_t len = p->payload_len;
	uint32_t win;

	count_segment(s, p);
	if (len != 0) {
		hist_check(c, dir, H_DATA, H_DATA);
		segcache_put(segs, conn_id, dir, t->seq, pl, len);
	} else {
		hist_check(c, dir, H_ACK, H_ACK);
	}
	win = advance_sender(s, t, len, t->seq + len);
	note_ack(s, t->ack);
	allow(rcv, t->ack + RTE_MAX(win, 1u));
}

void
ft_tcp_track(struct ft_tcp_conn *c, unsigned int dir, const struct ft_pkt *p,
	     const struct ft_tcp_payload *pl, struct ft_tcp_segcache *segs, uint32_t conn_id,
	     struct ft_tcp_result *r)
{
	struct ft_tcp_endpoint *s = &c->ep[dir], *rcv = &c->ep[dir ^ 1];
	const struct ft_tcp_meta *t = &p->tcp;
	uint8_t f = t->flags;
	const uint16_t len = p->payload_len;
	uint32_t end, win;
	bool first_from_s = !(s->flags & FT_TCPE_SEEN);

	r->verdict = FT_TCP_OK;
	r->n = 0;
	r->obs = 0;
	r->fast = 0;
	r->dropped = 0;

	if (likely(fast_path_on) && fast_path_fits(c, s, rcv, p)) {
		track_fast(c, dir, p, pl, segs, conn_id);
		r->fast = 1;
		return;
	}
	if (c->cflags & FT_TCPC_FINISHED) {
		if ((f & (FT_TCP_SYN | FT_TCP_ACK | FT_TCP_RST)) == FT_TCP_SYN &&
		    !((s->flags & FT_TCPE_ISN) && t->seq == s->isn)) {
			r->verdict = FT_TCP_REUSE;
			return;
		}
		if (!(f & (FT_TCP_SYN | FT_TCP_RST)) &&
		    (c->end == FT_END_RST ||
		     (len != 0 && (!(s->flags & FT_TCPE_FIN) || seq_after(t->seq + len, s->fin_seq)))))
			anomaly(c, r, FT_EV_PACKET_AFTER_CLOSE, FT_EVF_SEQ | FT_EVF_ACK, t->seq,
				t->ack, 0, NULL);
	}

	/* What the endpoints' Zeek-side records need, for every segment. */
	count_segment(s, p);
	history_for(c, dir, p);
	check_ttl(c, s, p, r);
	if ((c->cflags & FT_TCPC_MIDSTREAM) && s->pkts == 1 && rcv->pkts == 0)
		anomaly(c, r, FT_EV_MIDSTREAM_PICKUP, FT_EVF_SEQ | FT_EVF_ACK, t->seq, t->ack, 0, NULL);

	if (flags_invalid(f)) {
		anomaly(c, r, FT_EV_INVALID_FLAGS, FT_EVF_SEQ | FT_EVF_ACK, t->seq, t->ack, 0, NULL);
		zeek_update(c, dir, t->flags, len);
		s->flags |= FT_TCPE_SEEN;
		r->dropped = 1;
		return; /* a host drops it: no RFC state moves */
	}

	if (f & FT_TCP_RST) {
		uint32_t expected = 0;
		enum rst_verdict v = rst_check(s, rcv, p, &expected);

		zeek_update(c, dir, t->flags, len);
		s->flags |= FT_TCPE_SEEN;
		r->dropped = 1; /* a RST's payload is never data (RFC 9293 3.5.3) */
		if (v == RST_OUT) {
			anomaly(c, r, FT_EV_RST_OUT_OF_WINDOW, FT_EVF_SEQ | FT_EVF_ACK | FT_EVF_EXPECTED,
				t->seq, t->ack, expected, NULL);
			return;
		}
		if (v == RST_INEXACT) {
			anomaly(c, r, FT_EV_RST_IN_WINDOW_INEXACT,
				FT_EVF_SEQ | FT_EVF_ACK | FT_EVF_EXPECTED, t->seq, t->ack, expected, NULL);
			return;
		}
		if (first_from_s && !(s->flags & (FT_TCPE_ISN | FT_TCPE_ISN_GUESS)))
			endpoint_pickup(s, t->seq, t->win);
		step(s, EV_SEND_RST);
		step(rcv, EV_RECV_RST);
		if (!(c->cflags & FT_TCPC_FINISHED)) {
			c->cflags |= FT_TCPC_FINISHED;
			c->end = FT_END_RST;
			r->verdict = FT_TCP_FINISHED;
		}
		return;
	}

	if (f & FT_TCP_SYN) {
		zeek_update(c, dir, t->flags, len);
		track_syn(c, dir, p, r);
		s->flags |= FT_TCPE_SEEN;
		return;
	}

	/* A segment without SYN or RST, ACK set (FIN without ACK is invalid). */
	if (!(s->flags & (FT_TCPE_ISN | FT_TCPE_ISN_GUESS)))
		endpoint_pickup(s, t->seq, t->win);
	if (s->state == FT_TCP_SYN_SENT && (f & FT_TCP_ACK) &&
	    !(rcv->flags & (FT_TCPE_ISN | FT_TCPE_ISN_GUESS))) {
		/* It acknowledges a SYN+ACK we missed: the peer's ISN is ack - 1. */
		rcv->isn = t->ack - 1;
		rcv->end = t->ack;
		rcv->data_end = t->ack;
		rcv->maxend = t->ack;
		rcv->flags |= FT_TCPE_ISN_GUESS;
	}
	end = t->seq + len + ((f & FT_TCP_FIN) ? 1 : 0);

	/* Data from an endpoint whose handshake does not allow it yet (a client
	 * that acks has seen the SYN+ACK, even when we did not). */
	if (len != 0 &&
	    ((s->state == FT_TCP_SYN_SENT && !(f & FT_TCP_ACK)) ||
	     s->state == FT_TCP_SYN_RECEIVED || s->state == FT_TCP_LISTEN))
		anomaly(c, r, FT_EV_DATA_BEFORE_ESTABLISHED, FT_EVF_SEQ, t->seq, 0, 0, NULL);

	/* The client's ACK completing the handshake must acknowledge exactly
	 * the server's SYN; the server refuses any other (RFC 793: it answers
	 * with a RST), so the ack moves nothing. */
	if ((f & FT_TCP_ACK) && s->state == FT_TCP_ESTABLISHED && (s->flags & FT_TCPE_ISN) &&
	    (rcv->flags & FT_TCPE_ISN) && !(rcv->flags & FT_TCPE_SYN_ACKED) &&
	    rcv->state == FT_TCP_SYN_RECEIVED &&
	    (seq_before(t->ack, rcv->isn + 1) || seq_after(t->ack, rcv->end))) {
		anomaly(c, r, FT_EV_HANDSHAKE_BAD_ACK, FT_EVF_SEQ | FT_EVF_ACK | FT_EVF_EXPECTED,
			t->seq, t->ack, rcv->isn + 1, NULL);
		f &= (uint8_t)~FT_TCP_ACK;
	}

	/* Retransmission (history 't' even when the window check then
	 * refuses it), and whether its bytes differ from the first time. */
	if (len != 0 && !first_from_s && seq_before(t->seq, s->data_end)) {
		s->rexmit = hist_count(c, dir, H_REXMIT, s->rexmit, FT_TCP_REXMIT_MAX);
		if (segcache_differs(segs, conn_id, dir, t->seq, pl, len) == 1)
			anomaly(c, r, FT_EV_RETRANSMIT_DIFFERENT_DATA, FT_EVF_SEQ | FT_EVF_ACK, t->seq,
				t->ack, 0, NULL);
	}

	if (!window_ok(c, dir, p, end, r)) {
		zeek_update(c, dir, t->flags, len);
		s->flags |= FT_TCPE_SEEN;
		r->dropped = 1;
		return; /* ignored, as the receiver ignores it */
	}

	/* Urgent data (RFC 9293 3.8.5): a host that reads it out of band (BSD
	 * and Linux sockets without SO_OOBINLINE, their default) takes the byte
	 * before the urgent pointer out of the stream, which the signatures
	 * scan with it in: other bytes than the application reads. */
	if (unlikely((f & FT_TCP_URG) && len != 0 && t->urp != 0)) {
		char detail[40];

		snprintf(detail, sizeof(detail), "urgent pointer %u", t->urp);
		anomaly(c, r, FT_EV_URGENT_DATA, FT_EVF_SEQ | FT_EVF_ACK, t->seq, t->ack, 0, detail);
	}

	/* New data: remembered for the retransmission check; a jump beyond
	 * what the sender was seen using is a content gap (history 'g'). */
	if ((len != 0 || (f & FT_TCP_FIN)) && (first_from_s || !seq_before(t->seq, s->data_end))) {
		if (!first_from_s && seq_after(t->seq, s->end) && (s->flags & FT_TCPE_ISN)) {
			s->gaps = (uint8_t)hist_count(c, dir, H_GAP, s->gaps, FT_TCP_GAPS_MAX);
		}
		if (len != 0)
			segcache_put(segs, conn_id, dir, t->seq, pl, len);
	}
	if (t->win == 0 && !(f & FT_TCP_FIN)) {
		s->zero_win = hist_count(c, dir, H_ZWIN, s->zero_win, FT_TCP_ZERO_WIN_MAX);
	}

	win = advance_sender(s, t, len, end);

	/* The ack: what the receiver's data and FIN have reached. */
	if (f & FT_TCP_ACK) {
		uint32_t ack = t->ack;

		note_ack(s, ack);

		if ((rcv->flags & FT_TCPE_SEEN) && (rcv->flags & (FT_TCPE_ISN | FT_TCPE_ISN_GUESS)) &&
		    seq_after(ack, rcv->end)) {
			anomaly(c, r, FT_EV_ACK_UNSEEN_DATA, FT_EVF_SEQ | FT_EVF_ACK | FT_EVF_EXPECTED,
				t->seq, ack, rcv->end, NULL);
			/* The bytes were sent, we did not see them: a gap in its stream. */
			rcv->gaps = (uint8_t)hist_count(c, dir ^ 1, H_GAP, rcv->gaps, FT_TCP_GAPS_MAX);
			rcv->end = ack;
			if (seq_after(ack, rcv->data_end))
				rcv->data_end = ack;
		}
		allow(rcv, ack + RTE_MAX(win, 1u));
		if ((rcv->flags & (FT_TCPE_ISN | FT_TCPE_ISN_GUESS)) &&
		    !(rcv->flags & FT_TCPE_SYN_ACKED) && !seq_before(ack, rcv->isn + 1)) {
			rcv->flags |= FT_TCPE_SYN_ACKED;
			if (rcv->state == FT_TCP_SYN_RECEIVED) {
				step(rcv, EV_RECV_ACK_SYN);
				r->obs |= FT_TCP_OBS_ESTABLISHED;
			}
		}
		if ((rcv->flags & FT_TCPE_FIN) && !(rcv->flags & FT_TCPE_FIN_ACKED) &&
		    !seq_before(ack, rcv->fin_seq + 1)) {
			rcv->flags |= FT_TCPE_FIN_ACKED;
			step(rcv, EV_RECV_ACK_FIN);
		}
		step(s, EV_SEND_ACK);
	}

	if (f & FT_TCP_FIN) {
		bool crossed = (rcv->flags & FT_TCPE_FIN) &&
			       seq_before(t->ack, rcv->fin_seq + 1) && s->state == FT_TCP_CLOSE_WAIT;

		if (!(s->flags & FT_TCPE_FIN)) {
			s->flags |= FT_TCPE_FIN;
			s->fin_seq = t->seq + len;
		}
		step(s, crossed ? EV_SEND_FIN_CROSSED : EV_SEND_FIN);
		step(rcv, EV_RECV_FIN);
		if ((rcv->flags & FT_TCPE_FIN) && !(c->cflags & FT_TCPC_FINISHED)) {
			c->cflags |= FT_TCPC_FINISHED;
			c->end = FT_END_FIN;
			r->verdict = FT_TCP_FINISHED;
		}
	}
	zeek_update(c, dir, t->flags, len);
	s->flags |= FT_TCPE_SEEN;
}

/* The ageing class of a connection: a function of both endpoints' states
 * and whether it finished, looked up on every segment, so tabled once. */
static enum ft_tcp_age
age_of(unsigned int a, unsigned int b, bool finished)
{
	if (a == FT_TCP_TIME_WAIT || b == FT_TCP_TIME_WAIT)
		return FT_AGE_TIME_WAIT;
	if (finished) {
		if ((a == FT_TCP_CLOSED || a == FT_TCP_LISTEN) && (b == FT_TCP_CLOSED || b == FT_TCP_LISTEN))
			return FT_AGE_CLOSED;
		return FT_AGE_CLOSING;
	}
	if (a >= FT_TCP_FIN_WAIT_1 || b >= FT_TCP_FIN_WAIT_1)
		return FT_AGE_CLOSING;
	if (a == FT_TCP_ESTABLISHED || b == FT_TCP_ESTABLISHED)
		return FT_AGE_ESTABLISHED;
	return FT_AGE_EMBRYONIC;
}

/* [finished][state a][state b]; 4-bit states index it without a check. */
static uint8_t age_table[2][16][16];

RTE_INIT(ft_tcp_age_table_init)
{
	unsigned int f, a, b;

	for (f = 0; f < 2; f++)
		for (a = 0; a < 16; a++)
			for (b = 0; b < 16; b++)
				age_table[f][a][b] = (uint8_t)age_of(a, b, f != 0);
}

enum ft_tcp_age
ft_tcp_age_class(const struct ft_tcp_conn *c)
{
	return (enum ft_tcp_age)age_table[!!(c->cflags & FT_TCPC_FINISHED)][c->ep[0].state][c->ep[1].state];
}

bool
ft_tcp_is_embryonic(const struct ft_tcp_conn *c)
{
	return ft_tcp_age_class(c) == FT_AGE_EMBRYONIC;
}
