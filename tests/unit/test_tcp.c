/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/tcp, driven segment by segment with hand-built ft_pkt
 * values: after every segment both endpoints' RFC 793 states, the verdict,
 * the anomalies (type, seq/ack/expected, first occurrence), Zeek's history
 * and conn_state are asserted. Then window scaling, sequence wrap-around,
 * the segment cache, the history repeat thresholds and the transition table.
 *
 * The tracker's source is compiled into this test so that its static
 * transition table can be checked cell by cell (the library's copy of the
 * same file is then not linked in: every symbol is already defined here).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ft_tcp.c" /* the code under test, with its static table */
#include "ft_unit.h"

/* ------------------------------------------------------------------------ */
/* Segments                                                                 */

#define O FT_TCP_ORIG
#define R FT_TCP_RESP
#define V_OK FT_TCP_OK
#define V_FIN FT_TCP_FINISHED
#define V_REUSE FT_TCP_REUSE

/* One segment and what must hold once it has been tracked. */
struct step {
	unsigned int dir;
	const char *fl;   /* flags: S A F R P U, e.g. "SA", "PA", "" (none) */
	uint32_t seq, ack;
	uint16_t len;
	uint8_t os, rs;   /* orig's and resp's RFC 793 state after it */
	uint8_t v;        /* verdict */
	const char *an;   /* anomalies as fmt_anoms() writes them; NULL: not checked */
	const char *h;    /* history; NULL: not checked */
	const char *cs;   /* conn_state; NULL: not checked */
	/* optional */
	uint16_t win;     /* 0: 8192 */
	uint8_t zw;       /* 1: a zero window */
	uint8_t ttl;      /* 0: 64 */
	uint16_t ws;      /* 0: no window-scale option, else shift + 1 */
	uint8_t mut;      /* payload: 1 byte 0 differs, 2 byte 65 differs, 3 byte 10 differs */
	uint16_t cap;     /* 0: all payload captured, else bytes captured */
	uint8_t seg_;     /* set by SEG() only (its designator silences missing-field warnings) */
};

struct tconn {
	struct ft_tcp_conn c;
	struct ft_tcp_result r;
	uint32_t id;
	unsigned int n;
	bool started;
	const char *name;
};

static struct ft_tcp_segcache *segs;
static uint32_t next_id;

static struct tconn
tconn(const char *name)
{
	struct tconn k;

	memset(&k, 0, sizeof(k));
	k.id = ++next_id;
	k.name = name;
	return k;
}

static uint8_t
flags_of(const char *s)
{
	uint8_t f = 0;

	for (; *s != '\0'; s++) {
		switch (*s) {
		case 'S': f |= FT_TCP_SYN; break;
		case 'A': f |= FT_TCP_ACK; break;
		case 'F': f |= FT_TCP_FIN; break;
		case 'R': f |= FT_TCP_RST; break;
		case 'P': f |= FT_TCP_PSH; break;
		case 'U': f |= FT_TCP_URG; break;
		default: abort();
		}
	}
	return f;
}

/* Payload bytes are a function of direction and sequence number, so a
 * retransmission carries the same bytes unless mutated. */
static uint8_t
pattern(unsigned int dir, uint32_t seq)
{
	return (uint8_t)(seq * 7u + dir * 13u + 1u);
}

static struct ft_pkt
mkpkt(const struct step *s)
{
	struct ft_pkt p;

	memset(&p, 0, sizeof(p));
	p.cls = FT_CLS_TCP;
	p.ip_ver = 4;
	p.l4_proto = 6;
	p.ttl = s->ttl ? s->ttl : 64;
	p.payload_len = s->len;
	p.ip_len = (uint16_t)(40 + s->len);
	p.src[0] = 192, p.src[1] = 168, p.src[2] = 1, p.src[3] = s->dir == O ? 10 : 20;
	p.dst[0] = 192, p.dst[1] = 168, p.dst[2] = 1, p.dst[3] = s->dir == O ? 20 : 10;
	p.sport = s->dir == O ? 1042 : 25;
	p.dport = s->dir == O ? 25 : 1042;
	p.tcp.seq = s->seq;
	p.tcp.ack = s->ack;
	p.tcp.flags = flags_of(s->fl);
	p.tcp.win = s->zw ? 0 : (s->win ? s->win : 8192);
	p.tcp.wscale = s->ws ? (uint8_t)(s->ws - 1) : 0;
	p.tcp.has_wscale = s->ws != 0;
	return p;
}

static void
fmt_anoms(const struct ft_tcp_result *r, char *buf, size_t n)
{
	size_t o = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < r->n && o < n; i++) {
		const struct ft_tcp_anomaly *a = &r->a[i];
		char f[80] = "";
		size_t fo = 0;

		if (a->has & FT_EVF_SEQ)
			fo += (size_t)snprintf(f + fo, sizeof(f) - fo, "s=%u", a->seq);
		if (a->has & FT_EVF_ACK)
			fo += (size_t)snprintf(f + fo, sizeof(f) - fo, "%sa=%u", fo ? "," : "", a->ack);
		if (a->has & FT_EVF_EXPECTED)
			fo += (size_t)snprintf(f + fo, sizeof(f) - fo, "%se=%u", fo ? "," : "",
					       a->expected);
		/* '~' marks a name this connection had already shown (first == 0). */
		o += (size_t)snprintf(buf + o, n - o, "%s%s%s(%s)", i ? " " : "", a->first ? "" : "~",
				      ft_event_name(a->type), f);
	}
}

static bool
has_anom(const struct ft_tcp_result *r, unsigned int type)
{
	unsigned int i;

	for (i = 0; i < r->n; i++)
		if (r->a[i].type == type)
			return true;
	return false;
}

static const char *
st(unsigned int s)
{
	return ft_tcp_state_name(s);
}

/* A connection's history as a string (valid until the next call). */
static const char *
hist(const struct ft_tcp_conn *c)
{
	static char buf[FT_TCP_HISTORY_LEN];

	ft_tcp_history(c, buf);
	return buf;
}

/* Track one segment and assert everything the step states. */
static void
track(struct tconn *k, const struct step *s)
{
	static uint8_t data[70000];
	struct ft_pkt p = mkpkt(s);
	struct ft_tcp_payload pl;
	char got_an[512], label[200];
	unsigned int i;
	bool ok;

	for (i = 0; i < s->len; i++)
		data[i] = pattern(s->dir, s->seq + i);
	if (s->mut == 1 && s->len > 0)
		data[0] ^= 0xff;
	if (s->mut == 2 && s->len > 65)
		data[65] ^= 0xff;
	if (s->mut == 3 && s->len > 10)
		data[10] ^= 0xff;
	pl.data = data;
	pl.caplen = s->cap ? s->cap : s->len;
	if (!k->started) {
		if (ft_tcp_init(&k->c, &p, true) != 0) {
			check(fmt("%s: ft_tcp_init accepts the first segment", k->name), 0);
			return;
		}
		k->started = true;
	}
	ft_tcp_track(&k->c, s->dir, &p, &pl, segs, k->id, &k->r);
	k->n++;
	if (s->seg_ == 2)
		return; /* TRACK(): the caller's check judges the outcome */
	fmt_anoms(&k->r, got_an, sizeof(got_an));
	ok = k->c.ep[O].state == s->os && k->c.ep[R].state == s->rs && k->r.verdict == s->v &&
	     (s->an == NULL || strcmp(got_an, s->an) == 0) &&
	     (s->h == NULL || strcmp(hist(&k->c), s->h) == 0) &&
	     (s->cs == NULL || strcmp(ft_tcp_conn_state(&k->c), s->cs) == 0);
	snprintf(label, sizeof(label), "%s #%u %s [%s] seq %u ack %u len %u -> %s %s%s%s%s, \"%s\" %s",
		 k->name, k->n, s->dir == O ? "-->" : "<--", s->fl, s->seq, s->ack, s->len, st(s->os),
		 st(s->rs), s->v == V_FIN ? " finished" : s->v == V_REUSE ? " reuse" : "",
		 s->an && *s->an ? " " : "", s->an ? s->an : "", s->h ? s->h : "-", s->cs ? s->cs : "-");
	check(label, ok);
	if (!ok)
		printf("     got: %s %s verdict %u anomalies [%s] history \"%s\" conn_state %s\n",
		       st(k->c.ep[O].state), st(k->c.ep[R].state), k->r.verdict, got_an,
		       hist(&k->c), ft_tcp_conn_state(&k->c));
}

#define SEG(k, ...) track((k), &(const struct step){ __VA_ARGS__, .seg_ = 1 })
/* Track without asserting: a check of its own follows. */
#define TRACK(k, ...) track((k), &(const struct step){ __VA_ARGS__, .seg_ = 2 })

/* The textbook handshake, ISNs 1000 (orig) and 5000 (resp). */
static void
handshake(struct tconn *k)
{
	SEG(k, O, "S", 1000, 0, 0, sSS, sSR, V_OK, "", "S", "S0");
	SEG(k, R, "SA", 5000, 1001, 0, sES, sSR, V_OK, "", "Sh", "S1");
	SEG(k, O, "A", 1001, 5001, 0, sES, sES, V_OK, "", "ShA", "S1");
}

/* ------------------------------------------------------------------------ */
/* Opening and closing                                                      */

static void
test_normal(void)
{
	struct tconn k = tconn("open/close");

	SEG(&k, O, "S", 1000, 0, 0, sSS, sSR, V_OK, "", "S", "S0");
	check("open/close: the first SYN is an attempt observation",
	      k.r.obs == FT_TCP_OBS_SYN && ft_tcp_age_class(&k.c) == FT_AGE_EMBRYONIC &&
		      ft_tcp_is_embryonic(&k.c));
	SEG(&k, R, "SA", 5000, 1001, 0, sES, sSR, V_OK, "", "Sh", "S1");
	check("open/close: the SYN+ACK gives the server's ISN", k.r.obs == FT_TCP_OBS_SERVER_ISN);
	SEG(&k, O, "A", 1001, 5001, 0, sES, sES, V_OK, "", "ShA", "S1");
	check("open/close: the third ACK completes the handshake",
	      k.r.obs == FT_TCP_OBS_ESTABLISHED && ft_tcp_age_class(&k.c) == FT_AGE_ESTABLISHED &&
		      !ft_tcp_is_embryonic(&k.c));
	SEG(&k, O, "FA", 1001, 5001, 0, sF1, sCW, V_OK, "", "ShAF", "S2");
	check("open/close: closing age class", ft_tcp_age_class(&k.c) == FT_AGE_CLOSING);
	SEG(&k, R, "A", 5001, 1002, 0, sF2, sCW, V_OK, "", "ShAFa", "S2");
	SEG(&k, R, "FA", 5001, 1002, 0, sTW, sLA, V_FIN, "", "ShAFaf", "SF");
	check("open/close: end fin, TIME_WAIT age class",
	      k.c.end == FT_END_FIN && (k.c.cflags & FT_TCPC_FINISHED) &&
		      ft_tcp_age_class(&k.c) == FT_AGE_TIME_WAIT);
	SEG(&k, O, "A", 1002, 5002, 0, sTW, sCL, V_OK, "", "ShAFaf", "SF");
	check("open/close: counters (pkts 4/3, ip bytes 160/120, payload 0/0, ISNs)",
	      k.c.ep[O].pkts == 4 && k.c.ep[R].pkts == 3 && k.c.ep[O].ip_bytes == 160 &&
		      k.c.ep[R].ip_bytes == 120 && ft_tcp_payload_bytes(&k.c.ep[O]) == 0 &&
		      ft_tcp_payload_bytes(&k.c.ep[R]) == 0 && k.c.ep[O].isn == 1000 &&
		      k.c.ep[R].isn == 5000 && (k.c.ep[O].flags & FT_TCPE_ISN) &&
		      (k.c.ep[R].flags & FT_TCPE_ISN));

	/* Data both ways, then a three-way close (the FIN+ACK answers the FIN). */
	k = tconn("data/3-way close");
	handshake(&k);
	SEG(&k, O, "PA", 1001, 5001, 10, sES, sES, V_OK, "", "ShAD", "S1");
	SEG(&k, R, "PA", 5001, 1011, 20, sES, sES, V_OK, "", "ShADd", "S1");
	SEG(&k, O, "A", 1011, 5021, 0, sES, sES, V_OK, "", "ShADd", "S1");
	SEG(&k, O, "FA", 1011, 5021, 0, sF1, sCW, V_OK, "", "ShADdF", "S2");
	SEG(&k, R, "FA", 5021, 1012, 0, sTW, sLA, V_FIN, "", "ShADdFf", "SF");
	SEG(&k, O, "A", 1012, 5022, 0, sTW, sCL, V_OK, "", "ShADdFf", "SF");
	check("data/3-way close: payload bytes 10/20",
	      ft_tcp_payload_bytes(&k.c.ep[O]) == 10 && ft_tcp_payload_bytes(&k.c.ep[R]) == 20);
	/* After both FINs: a retransmission of data before the FIN is not
	 * "after close"; new data (beyond the FIN) is. */
	SEG(&k, O, "PA", 1001, 5022, 10, sTW, sCL, V_OK, "", "ShADdFfT", "SF");
	SEG(&k, O, "PA", 1011, 5022, 5, sTW, sCL, V_OK, "packet_after_close(s=1011,a=5022)",
	    "ShADdFfT", "SF");
	SEG(&k, R, "A", 5022, 1016, 0, sTW, sCL, V_OK, "", "ShADdFfTa", "SF");
}

static void
test_half_close(void)
{
	struct tconn k = tconn("half-close");

	handshake(&k);
	SEG(&k, O, "FA", 1001, 5001, 0, sF1, sCW, V_OK, "", "ShAF", "S2");
	SEG(&k, R, "A", 5001, 1002, 0, sF2, sCW, V_OK, "", "ShAFa", "S2");
	/* The CLOSE_WAIT side goes on sending; the FIN_WAIT_2 side acks. */
	SEG(&k, R, "PA", 5001, 1002, 100, sF2, sCW, V_OK, "", "ShAFad", "S2");
	SEG(&k, O, "A", 1002, 5101, 0, sF2, sCW, V_OK, "", "ShAFad", "S2");
	SEG(&k, R, "PA", 5101, 1002, 50, sF2, sCW, V_OK, "", "ShAFad", "S2");
	SEG(&k, O, "A", 1002, 5151, 0, sF2, sCW, V_OK, "", "ShAFad", "S2");
	SEG(&k, R, "FA", 5151, 1002, 0, sTW, sLA, V_FIN, "", "ShAFadf", "SF");
	SEG(&k, O, "A", 1002, 5152, 0, sTW, sCL, V_OK, "", "ShAFadf", "SF");
	check("half-close: payload bytes 0/150",
	      ft_tcp_payload_bytes(&k.c.ep[O]) == 0 && ft_tcp_payload_bytes(&k.c.ep[R]) == 150);
}

static void
test_simultaneous(void)
{
	struct tconn k = tconn("simultaneous open");

	/* RFC 793 figure 8: both send SYN, both answer SYN+ACK. */
	SEG(&k, O, "S", 1000, 0, 0, sSS, sSR, V_OK, "", "S", "S0");
	SEG(&k, R, "S", 5000, 0, 0, sSR, sSR, V_OK, "", "Ss", "S1");
	check("simultaneous open: the responder's SYN is no attempt observation", k.r.obs == 0);
	/* SYN and SYN+ACK are one history kind (Zeek): the same seq again
	 * adds no letter. */
	SEG(&k, O, "SA", 1000, 5001, 0, sSR, sES, V_OK, "", "Ss", "S1");
	SEG(&k, R, "SA", 5000, 1001, 0, sES, sES, V_OK, "", "Ss", "S1");
	SEG(&k, O, "A", 1001, 5001, 0, sES, sES, V_OK, "", "SsA", "S1");
	SEG(&k, R, "A", 5001, 1001, 0, sES, sES, V_OK, "", "SsAa", "S1");

	/* Split handshake: the server answers the SYN with a bare SYN, the
	 * client sends the SYN+ACK, the server the ACK. */
	k = tconn("split handshake");
	SEG(&k, O, "S", 1000, 0, 0, sSS, sSR, V_OK, "", "S", "S0");
	SEG(&k, R, "S", 5000, 0, 0, sSR, sSR, V_OK, "", "Ss", "S1");
	SEG(&k, O, "SA", 1000, 5001, 0, sSR, sES, V_OK, "", "Ss", "S1");
	SEG(&k, R, "A", 5001, 1001, 0, sES, sES, V_OK, "", "Ssa", "S1");
	check("split handshake: the final ACK completes it", k.r.obs == FT_TCP_OBS_ESTABLISHED);

	/* Simultaneous close (RFC 793 figure 14): the FINs cross. */
	k = tconn("simultaneous close");
	handshake(&k);
	SEG(&k, O, "FA", 1001, 5001, 0, sF1, sCW, V_OK, "", "ShAF", "S2");
	SEG(&k, R, "FA", 5001, 1001, 0, sCG, sCG, V_FIN, "", "ShAFf", "SF");
	check("simultaneous close: closing age class while both are CLOSING",
	      ft_tcp_age_class(&k.c) == FT_AGE_CLOSING && k.c.end == FT_END_FIN);
	SEG(&k, O, "A", 1002, 5002, 0, sCG, sTW, V_OK, "", "ShAFf", "SF");
	SEG(&k, R, "A", 5002, 1002, 0, sTW, sTW, V_OK, "", "ShAFfa", "SF");
}

/* ------------------------------------------------------------------------ */
/* Resets                                                                   */

static void
test_rst(void)
{
	struct tconn k = tconn("rst exact");

	handshake(&k);
	SEG(&k, O, "PA", 1001, 5001, 10, sES, sES, V_OK, "", "ShAD", "S1");
	SEG(&k, R, "A", 5001, 1011, 0, sES, sES, V_OK, "", "ShADa", "S1");
	SEG(&k, O, "R", 1011, 0, 0, sCL, sCL, V_FIN, "", "ShADaR", "RSTO");
	check("rst exact: end rst, closed age class",
	      k.c.end == FT_END_RST && ft_tcp_age_class(&k.c) == FT_AGE_CLOSED);
	SEG(&k, R, "A", 5001, 1011, 0, sCL, sCL, V_OK, "packet_after_close(s=5001,a=1011)",
	    "ShADaR", "RSTO");
	/* The peer's own exact RST: no anomaly, no second "finished". */
	SEG(&k, R, "R", 5001, 0, 0, sCL, sCL, V_OK, "", "ShADaRr", "RSTR");

	k = tconn("rst from the responder");
	handshake(&k);
	SEG(&k, R, "RA", 5001, 1001, 0, sCL, sCL, V_FIN, "", "ShAr", "RSTR");

	/* RCV.NXT: the receiver acked 1005 though 1011 was sent. */
	k = tconn("rst at the receiver's ack");
	handshake(&k);
	SEG(&k, O, "PA", 1001, 5001, 4, sES, sES, V_OK, "", "ShAD", "S1");
	SEG(&k, O, "PA", 1005, 5001, 6, sES, sES, V_OK, "", "ShAD", "S1");
	SEG(&k, R, "A", 5001, 1005, 0, sES, sES, V_OK, "", "ShADa", "S1");
	SEG(&k, O, "R", 1005, 0, 0, sCL, sCL, V_FIN, "", "ShADaR", "RSTO");

	/* In the window (RCV.NXT 1001, window 8192) but not exact: RFC 5961's
	 * challenge-ACK case; nothing moves. */
	k = tconn("rst in window inexact");
	handshake(&k);
	SEG(&k, O, "R", 1101, 0, 0, sES, sES, V_OK, "rst_in_window_inexact(s=1101,a=0,e=1001)", "ShAR",
	    "RSTO");
	/* A RST with another seq adds its letter again (Zeek). */
	SEG(&k, O, "R", 9192, 0, 0, sES, sES, V_OK, "~rst_in_window_inexact(s=9192,a=0,e=1001)", "ShARR",
	    "RSTO");
	SEG(&k, O, "R", 9192, 0, 0, sES, sES, V_OK, "~rst_in_window_inexact(s=9192,a=0,e=1001)", "ShARR",
	    "RSTO");
	SEG(&k, O, "PA", 1001, 5001, 5, sES, sES, V_OK, "", "ShARRD", "RSTO");
	SEG(&k, R, "A", 5001, 1006, 0, sES, sES, V_OK, "", "ShARRDa", "RSTO");

	k = tconn("rst out of window");
	handshake(&k);
	SEG(&k, O, "R", 9193, 0, 0, sES, sES, V_OK, "rst_out_of_window(s=9193,a=0,e=1001)", "ShAR",
	    "RSTO");
	SEG(&k, O, "R", 1000, 0, 0, sES, sES, V_OK, "~rst_out_of_window(s=1000,a=0,e=1001)", "ShARR",
	    "RSTO");
	SEG(&k, O, "RA", 101001, 5001, 0, sES, sES, V_OK, "~rst_out_of_window(s=101001,a=5001,e=1001)",
	    "ShARRR", "RSTO");
	SEG(&k, O, "R", 1001, 0, 0, sCL, sCL, V_FIN, "", "ShARRRR", "RSTO");

	/* A RST answering a SYN: acceptable when it acks the SYN (RFC 793). */
	k = tconn("rst answers syn");
	SEG(&k, O, "S", 1000, 0, 0, sSS, sSR, V_OK, "", "S", "S0");
	SEG(&k, R, "RA", 0, 1001, 0, sCL, sCL, V_FIN, "", "Sr", "REJ");
	check("rst answers syn: end rst", k.c.end == FT_END_RST);

	k = tconn("rst answers syn, bad ack");
	SEG(&k, O, "S", 1000, 0, 0, sSS, sSR, V_OK, "", "S", "S0");
	SEG(&k, R, "RA", 0, 1234, 0, sSS, sSR, V_OK, "rst_out_of_window(s=0,a=1234,e=1001)", "Sr", "REJ");
	/* RFC 793 p.66-67 (SYN-SENT): a RST is acceptable only if it acks the
	 * SYN, however many came before it: the first rejected RST must not
	 * give a blind attacker a second try. */
	TRACK(&k, R, "RA", 0, 5555);
	check("rst answers syn: a second RST whose ack (5555) is not the SYN's is not acceptable "
	      "either (client stays SYN_SENT, rst_out_of_window)",
	      k.c.ep[O].state == sSS && k.r.verdict == V_OK &&
		      has_anom(&k.r, FT_EV_RST_OUT_OF_WINDOW));

	k = tconn("rst answers syn, no ack");
	SEG(&k, O, "S", 1000, 0, 0, sSS, sSR, V_OK, "", "S", "S0");
	SEG(&k, R, "R", 0, 0, 0, sSS, sSR, V_OK, "rst_out_of_window(s=0,a=0,e=1001)", "Sr", "REJ");

	/* The client aborts its own SYN. */
	k = tconn("client aborts syn");
	SEG(&k, O, "S", 1000, 0, 0, sSS, sSR, V_OK, "", "S", "S0");
	SEG(&k, O, "R", 1001, 0, 0, sCL, sCL, V_FIN, "", "SR", "RSTOS0");

	/* RFC 5961 3.2: RCV.NXT <= SEG.SEQ < RCV.NXT + RCV.WND is in the
	 * window. The receiver announced RCV.NXT = 1005 (its last ack) and
	 * a window of 8192: a RST at 1008 is in its window (a challenge ACK,
	 * as Linux's tcp_sequence() + tcp_validate_incoming() do), not one
	 * the host ignores. */
	k = tconn("rst between receiver's ack and sender's next seq");
	handshake(&k);
	SEG(&k, O, "PA", 1001, 5001, 4, sES, sES, V_OK, "", "ShAD", "S1");
	SEG(&k, O, "PA", 1005, 5001, 6, sES, sES, V_OK, "", "ShAD", "S1");
	SEG(&k, R, "A", 5001, 1005, 0, sES, sES, V_OK, "", "ShADa", "S1");
	SEG(&k, O, "R", 1008, 0, 0, sES, sES, V_OK, NULL, "ShADaR", "RSTO");
	check("rst at 1008, receiver's RCV.NXT 1005 (window 8192), sender's next 1011: "
	      "rst_in_window_inexact, not rst_out_of_window",
	      k.r.n == 1 && k.r.a[0].type == FT_EV_RST_IN_WINDOW_INEXACT);

	/* RFC 7323 2.2: the window of a SYN or SYN+ACK is never scaled. */
	k = tconn("rst window after a scaled handshake");
	SEG(&k, O, "S", 1000, 0, 0, sSS, sSR, V_OK, "", "S", "S0", .win = 65535, .ws = 8);
	SEG(&k, R, "SA", 5000, 1001, 0, sES, sSR, V_OK, "", "Sh", "S1", .win = 29200, .ws = 8);
	SEG(&k, O, "A", 1001, 5001, 0, sES, sES, V_OK, "", "ShA", "S1", .win = 229);
	SEG(&k, O, "R", 1001001, 0, 0, sES, sES, V_OK, NULL, "ShAR", "RSTO");
	check("rst 1000000 beyond RCV.NXT, receiver's last window the SYN+ACK's 29200 (unscaled): "
	      "rst_out_of_window",
	      k.r.n == 1 && k.r.a[0].type == FT_EV_RST_OUT_OF_WINDOW);
}

/* ------------------------------------------------------------------------ */
/* Port reuse, mid-stream, flipped                                          */

static void
test_reuse(void)
{
	struct tconn k = tconn("port reuse");

	handshake(&k);
	SEG(&k, O, "FA", 1001, 5001, 0, sF1, sCW, V_OK, "", "ShAF", "S2");
	SEG(&k, R, "FA", 5001, 1002, 0, sTW, sLA, V_FIN, "", "ShAFf", "SF");
	SEG(&k, O, "A", 1002, 5002, 0, sTW, sCL, V_OK, "", "ShAFf", "SF");
	/* The old SYN again (a network duplicate) is no new connection, and
	 * a finished connection's states do not move for it (RFC 5961 4). */
	SEG(&k, O, "S", 1000, 0, 0, sTW, sCL, V_OK, "", "ShAFf", "SF");
	SEG(&k, O, "S", 90000, 0, 0, sTW, sCL, V_REUSE, "", "ShAFf", "SF");
	check("port reuse: a REUSE segment is not counted in the old connection",
	      k.c.ep[O].pkts == 5 && k.c.ep[R].pkts == 2);
	/* The caller starts a new connection in the same entry. */
	k.started = false;
	k.id = ++next_id;
	SEG(&k, O, "S", 90000, 0, 0, sSS, sSR, V_OK, "", "S", "S0");
	SEG(&k, R, "SA", 70000, 90001, 0, sES, sSR, V_OK, "", "Sh", "S1");

	k = tconn("port reuse after rst");
	handshake(&k);
	SEG(&k, R, "RA", 5001, 1001, 0, sCL, sCL, V_FIN, "", "ShAr", "RSTR");
	/* A duplicate SYN+ACK is not reuse, nor "after close" (a SYN), and
	 * moves nothing on a finished connection. */
	SEG(&k, R, "SA", 5000, 1001, 0, sCL, sCL, V_OK, "", "ShAr", "RSTR");
	SEG(&k, O, "S", 3000, 0, 0, sCL, sCL, V_REUSE, "", "ShAr", "RSTR");

	/* Not finished: a SYN is never reuse. */
	k = tconn("no reuse while open");
	handshake(&k);
	SEG(&k, O, "S", 1000, 0, 0, sES, sES, V_OK, "", "ShA", "S1");
}

static void
test_midstream(void)
{
	struct tconn k = tconn("mid-stream");
	struct ft_tcp_conn c;
	struct step s0 = { .dir = O, .fl = "PA", .seq = 1000, .ack = 5000, .len = 10 };
	struct ft_pkt p = mkpkt(&s0);

	check("mid-stream: refused when tcp.midstream = no", ft_tcp_init(&c, &p, false) == -1);
	check("mid-stream: a SYN is accepted when tcp.midstream = no",
	      (p.tcp.flags = FT_TCP_SYN, ft_tcp_init(&c, &p, false) == 0));
	SEG(&k, O, "PA", 1000, 5000, 10, sES, sES, V_OK, "midstream_pickup(s=1000,a=5000)", "D", "OTH");
	check("mid-stream: flagged, ISN guessed, liberal window scale",
	      (k.c.cflags & FT_TCPC_MIDSTREAM) && (k.c.ep[O].flags & FT_TCPE_ISN_GUESS) &&
		      !(k.c.ep[O].flags & FT_TCPE_ISN) && k.c.ep[O].isn == 999 &&
		      k.c.ep[O].wscale == 14 && ft_tcp_payload_bytes(&k.c.ep[O]) == 10);
	SEG(&k, R, "A", 5000, 1010, 0, sES, sES, V_OK, "", "Da", "OTH");
	SEG(&k, R, "PA", 5000, 1010, 20, sES, sES, V_OK, "", "Dad", "OTH");
	SEG(&k, O, "A", 1010, 5020, 0, sES, sES, V_OK, "", "DadA", "OTH");
	SEG(&k, O, "FA", 1010, 5020, 0, sF1, sCW, V_OK, "", "DadAF", "SH");
	SEG(&k, R, "FA", 5020, 1011, 0, sTW, sLA, V_FIN, "", "DadAFf", "SF");
	check("mid-stream: payload bytes 10/20",
	      ft_tcp_payload_bytes(&k.c.ep[O]) == 10 && ft_tcp_payload_bytes(&k.c.ep[R]) == 20);

	/* A RST as the first segment: nothing to judge it by. */
	k = tconn("mid-stream rst");
	SEG(&k, O, "R", 1000, 0, 0, sCL, sCL, V_FIN, "midstream_pickup(s=1000,a=0)", "R", NULL);

	/* The second side sends two segments back to back before the first
	 * side acks: the first side's ack (5000) and window (8192, scale
	 * unknown so 14) allowed far more than 20 bytes. */
	k = tconn("mid-stream, server sends twice");
	SEG(&k, O, "A", 1000, 5000, 0, sES, sES, V_OK, "midstream_pickup(s=1000,a=5000)", "A", "OTH");
	SEG(&k, R, "PA", 5000, 1000, 20, sES, sES, V_OK, "", "Ad", "OTH");
	SEG(&k, R, "PA", 5020, 1000, 20, sES, sES, V_OK, NULL, "Ad", "OTH");
	check("mid-stream: the responder's second segment (5020, within the ack 5000 + window the "
	      "originator gave) is in the window",
	      !has_anom(&k.r, FT_EV_SEQ_OUT_OF_WINDOW));

	/* SYN+ACK first: its receiver is the originator (flipped, '^'). */
	k = tconn("syn+ack first");
	{
		struct step sa = { .dir = R, .fl = "SA", .seq = 5000, .ack = 1001 };
		struct ft_pkt q = mkpkt(&sa);

		check("syn+ack first: its sender is not the originator", !ft_tcp_first_is_orig(&q));
		q.tcp.flags = FT_TCP_SYN;
		check("syn+ack first: a SYN's sender is", ft_tcp_first_is_orig(&q));
	}
	SEG(&k, R, "SA", 5000, 1001, 0, sES, sSR, V_OK, "syn_ack_without_syn(s=5000,a=1001)", "^h", "OTH");
	check("syn+ack first: flipped, orig ISN guessed from the ack, server ISN real",
	      (k.c.cflags & FT_TCPC_FLIPPED) && (k.c.ep[O].flags & FT_TCPE_ISN_GUESS) &&
		      !(k.c.ep[O].flags & FT_TCPE_ISN) && k.c.ep[O].isn == 1000 &&
		      (k.c.ep[R].flags & FT_TCPE_ISN) && k.c.ep[R].isn == 5000 &&
		      k.r.obs == FT_TCP_OBS_SERVER_ISN);
	/* Only the first packet: a retransmitted SYN+ACK is no new finding. */
	SEG(&k, R, "SA", 5000, 1001, 0, sES, sSR, V_OK, "", "^h", "OTH");
	/* Acking the SYN+ACK completes Zeek's handshake too: S1. */
	SEG(&k, O, "A", 1001, 5001, 0, sES, sES, V_OK, "", "^hA", "S1");
	SEG(&k, O, "PA", 1001, 5001, 5, sES, sES, V_OK, "", "^hAD", "S1");
	SEG(&k, R, "A", 5001, 1006, 0, sES, sES, V_OK, "", "^hADa", "S1");
}

/* ------------------------------------------------------------------------ */
/* Every anomaly of the tracker                                             */

static void
test_handshake_anomalies(void)
{
	struct tconn k = tconn("syn_ack_bad_ack");

	SEG(&k, O, "S", 1000, 0, 0, sSS, sSR, V_OK, "", "S", "S0");
	SEG(&k, R, "SA", 5000, 1234, 0, sSS, sSR, V_OK, "syn_ack_bad_ack(s=5000,a=1234,e=1001)", "Sh",
	    "S1");
	SEG(&k, R, "SA", 5000, 1001, 0, sES, sSR, V_OK, "", "Sh", "S1");
	SEG(&k, O, "A", 1001, 5001, 0, sES, sES, V_OK, "", "ShA", "S1");

	k = tconn("handshake_bad_ack");
	SEG(&k, O, "S", 1000, 0, 0, sSS, sSR, V_OK, "", "S", "S0");
	SEG(&k, R, "SA", 5000, 1001, 0, sES, sSR, V_OK, "", "Sh", "S1");
	SEG(&k, O, "A", 1001, 7777, 0, sES, sSR, V_OK, "handshake_bad_ack(s=1001,a=7777,e=5001)", "ShA",
	    "S1");
	check("handshake_bad_ack: no established observation", k.r.obs == 0);
	SEG(&k, O, "A", 1001, 5001, 0, sES, sES, V_OK, "", "ShA", "S1");

	k = tconn("syn_new_isn");
	SEG(&k, O, "S", 1000, 0, 0, sSS, sSR, V_OK, "", "S", "S0");
	SEG(&k, O, "S", 1000, 0, 0, sSS, sSR, V_OK, "", "S", "S0"); /* a plain retransmission */
	SEG(&k, O, "S", 2000, 0, 0, sSS, sSR, V_OK, "syn_new_isn(s=2000,e=1000)", "SS", "S0");
	check("syn_new_isn: detail names both ISNs, the new one is kept",
	      strcmp(k.r.a[0].detail, "ISN 1000 replaced by 2000") == 0 && k.c.ep[O].isn == 2000);
	SEG(&k, R, "SA", 5000, 1001, 0, sSS, sSR, V_OK, "syn_ack_bad_ack(s=5000,a=1001,e=2001)", "SSh",
	    "S1");
	SEG(&k, R, "SA", 5000, 2001, 0, sES, sSR, V_OK, "", "SSh", "S1");

	k = tconn("syn_with_data");
	SEG(&k, O, "S", 1000, 0, 5, sSS, sSR, V_OK, "syn_with_data(s=1000)", "S", "S0");
	SEG(&k, R, "SA", 5000, 1001, 3, sES, sSR, V_OK, "~syn_with_data(s=5000)", "Sh", "S1");
	check("syn_with_data: the SYN's data counts", ft_tcp_payload_bytes(&k.c.ep[O]) == 5 &&
						      ft_tcp_payload_bytes(&k.c.ep[R]) == 3);

	/* RFC 793 p.66 (SYN-SENT): an ACK is acceptable when SND.UNA < SEG.ACK
	 * =< SND.NXT; with 5 bytes on the SYN, SND.NXT is 1006. */
	k = tconn("syn+ack acking the syn's data");
	SEG(&k, O, "S", 1000, 0, 5, sSS, sSR, V_OK, "syn_with_data(s=1000)", "S", "S0");
	SEG(&k, R, "SA", 5000, 1007, 0, sSS, sSR, V_OK, "syn_ack_bad_ack(s=5000,a=1007,e=1001)", "Sh",
	    "S1");
	SEG(&k, R, "SA", 5000, 1006, 0, sES, sSR, V_OK, "", "Sh", "S1");
	SEG(&k, O, "A", 1006, 5001, 0, sES, sES, V_OK, "", "ShA", "S1");

	k = tconn("data_before_established");
	SEG(&k, O, "S", 1000, 0, 0, sSS, sSR, V_OK, "", "S", "S0");
	SEG(&k, O, "P", 1001, 0, 5, sSS, sSR, V_OK, "data_before_established(s=1001)", "SD", "S0");
	k = tconn("data_before_established (server)");
	SEG(&k, O, "S", 1000, 0, 0, sSS, sSR, V_OK, "", "S", "S0");
	SEG(&k, R, "SA", 5000, 1001, 0, sES, sSR, V_OK, "", "Sh", "S1");
	SEG(&k, R, "PA", 5001, 1001, 10, sES, sSR, V_OK, "data_before_established(s=5001)", "Shd", "S1");
	k = tconn("data_before_established (listen)");
	/* An invalid first SYN moves nothing: the responder is still LISTEN. */
	SEG(&k, O, "SF", 1000, 0, 0, sCL, sLI, V_OK, "invalid_flags(s=1000,a=0)", "Q", "OTH");
	SEG(&k, R, "PA", 5000, 1001, 4, sCL, sLI, V_OK, "data_before_established(s=5000)", "Qd",
	    "OTH");
	/* The client acks a SYN+ACK we missed: it may send data. */
	k = tconn("data after a missed syn+ack");
	SEG(&k, O, "S", 1000, 0, 0, sSS, sSR, V_OK, "", "S", "S0");
	SEG(&k, O, "PA", 1001, 5001, 5, sES, sES, V_OK, "", "SD", "S0");
	check("data after a missed syn+ack: server ISN guessed from the ack",
	      (k.c.ep[R].flags & FT_TCPE_ISN_GUESS) && k.c.ep[R].isn == 5000 &&
		      k.r.obs == FT_TCP_OBS_ESTABLISHED);
}

static void
test_invalid_flags(void)
{
	static const struct {
		const char *fl, *h, *cs;
	} kinds[] = {
		/* SYN+FIN and SYN+RST move no Zeek endpoint either ('Q'). */
		{ "SF", "ShAQ", "S1" },  /* SYN+FIN */
		{ "SR", "ShAQ", "S1" },  /* SYN+RST */
		{ "", "ShA", "S1" },     /* no flags */
		{ "FPU", "ShAF", "S2" }, /* FIN+PSH+URG (Xmas) */
		{ "F", "ShAF", "S2" },   /* FIN without ACK */
		{ "FR", "ShAI", "S1" },  /* FIN+RST without ACK: 'I', no Zeek endpoint moves */
	};
	unsigned int i;

	for (i = 0; i < RTE_DIM(kinds); i++) {
		struct tconn k = tconn(fmt("invalid_flags [%s]", kinds[i].fl));

		handshake(&k);
		SEG(&k, O, kinds[i].fl, 1001, 5001, 0, sES, sES, V_OK, "invalid_flags(s=1001,a=5001)",
		    kinds[i].h, kinds[i].cs);
		check(fmt("invalid_flags [%s]: the sender's sequence space is untouched", kinds[i].fl),
		      !(k.c.ep[O].flags & FT_TCPE_FIN) && k.c.ep[O].end == 1001 &&
			      k.c.ep[O].isn == 1000);
		/* A valid FIN afterwards works as usual. */
		SEG(&k, O, "FA", 1001, 5001, 0, sF1, sCW, V_OK, "", NULL, NULL);
	}
	/* Every combination of the six flags on an established connection:
	 * invalid exactly when one of the five rules says so (FIN without ACK:
	 * RST or not) (ft_tcp.c keeps
	 * them as a 64-bit mask; this spells them out again). */
	for (i = 0; i < 64; i++) {
		static const char names[] = "FSRPAU";
		const bool fin = i & 1, syn = i & 2, rst = i & 4, psh = i & 8, ack = i & 16, urg = i & 32;
		const bool want = (syn && fin) || (syn && rst) || i == 0 || (fin && psh && urg) ||
				  (fin && !ack);
		char fl[8];
		unsigned int b, n = 0;
		struct tconn k = tconn("invalid_flags, every combination");

		for (b = 0; b < 6; b++)
			if (i & (1u << b))
				fl[n++] = names[b];
		fl[n] = '\0';
		handshake(&k);
		TRACK(&k, O, fl, 1001, 5001, 0, sES, sES, V_OK, NULL, NULL, NULL);
		check(fmt("invalid_flags [%s]: %s", fl, want ? "reported" : "not reported"),
		      has_anom(&k.r, FT_EV_INVALID_FLAGS) == want);
	}
	{
		struct tconn k = tconn("invalid_flags twice");

		handshake(&k);
		SEG(&k, O, "", 1001, 5001, 0, sES, sES, V_OK, "invalid_flags(s=1001,a=5001)", "ShA", "S1");
		SEG(&k, R, "SF", 5001, 1001, 0, sES, sES, V_OK, "~invalid_flags(s=5001,a=1001)", "ShAq",
		    "S1");
		SEG(&k, O, "FPUA", 1001, 5001, 0, sES, sES, V_OK, "~invalid_flags(s=1001,a=5001)", "ShAqF",
		    "S2");
	}
}

static void
test_window(void)
{
	struct tconn k = tconn("seq_out_of_window (upper)");

	/* The responder allowed 1001 + 8192 = 9193. */
	handshake(&k);
	SEG(&k, O, "A", 9194, 5001, 0, sES, sES, V_OK, "seq_out_of_window(s=9194,a=5001,e=1001)", "ShA",
	    "S1");
	SEG(&k, O, "PA", 9194, 5001, 10, sES, sES, V_OK, "~seq_out_of_window(s=9194,a=5001,e=1001)",
	    "ShAD", "S1");
	SEG(&k, O, "A", 9193, 5001, 0, sES, sES, V_OK, "", "ShAD", "S1");
	/* A FIN out of the window closes nothing. */
	k = tconn("seq_out_of_window (fin)");
	handshake(&k);
	SEG(&k, O, "FA", 20000, 5001, 0, sES, sES, V_OK, "seq_out_of_window(s=20000,a=5001,e=1001)",
	    "ShAF", "S2");
	check("seq_out_of_window (fin): no FIN recorded", !(k.c.ep[O].flags & FT_TCPE_FIN));

	/* Lower bound: the responder's largest window is 1000; the segment's
	 * end must not be older than the sender's end - 1000. */
	k = tconn("seq_out_of_window (lower)");
	SEG(&k, O, "S", 1000, 0, 0, sSS, sSR, V_OK, "", "S", "S0");
	SEG(&k, R, "SA", 5000, 1001, 0, sES, sSR, V_OK, "", "Sh", "S1", .win = 1000);
	SEG(&k, O, "A", 1001, 5001, 0, sES, sES, V_OK, "", "ShA", "S1");
	SEG(&k, O, "PA", 1001, 5001, 500, sES, sES, V_OK, "", "ShAD", "S1");
	SEG(&k, R, "A", 5001, 1501, 0, sES, sES, V_OK, "", "ShADa", "S1", .win = 1000);
	SEG(&k, O, "PA", 1501, 5001, 500, sES, sES, V_OK, "", "ShADa", "S1");
	SEG(&k, R, "A", 5001, 2001, 0, sES, sES, V_OK, "", "ShADa", "S1", .win = 1000);
	SEG(&k, O, "PA", 2001, 5001, 500, sES, sES, V_OK, "", "ShADa", "S1");
	/* (A retransmission: 't' even when the window check refuses it.) */
	SEG(&k, O, "PA", 1001, 5001, 499, sES, sES, V_OK, "seq_out_of_window(s=1001,a=5001,e=2501)",
	    "ShADaT", "S1");
	SEG(&k, O, "PA", 1001, 5001, 500, sES, sES, V_OK, "", "ShADaT", "S1");
	/* Beyond what the receiver allowed: 2001 + 1000. */
	SEG(&k, O, "PA", 3002, 5001, 10, sES, sES, V_OK, "~seq_out_of_window(s=3002,a=5001,e=2501)",
	    "ShADaT", "S1");
	SEG(&k, O, "PA", 3001, 5001, 0, sES, sES, V_OK, "", "ShADaT", "S1");

	k = tconn("ack_unseen_data");
	handshake(&k);
	SEG(&k, O, "A", 1001, 5101, 0, sES, sES, V_OK, "ack_unseen_data(s=1001,a=5101,e=5001)", "ShAg",
	    "S1");
	check("ack_unseen_data: the missed bytes count (a content gap)",
	      ft_tcp_payload_bytes(&k.c.ep[R]) == 100 && k.c.ep[R].gaps == 1);
	SEG(&k, R, "PA", 5101, 1001, 10, sES, sES, V_OK, "", "ShAgd", "S1");
	SEG(&k, O, "A", 1001, 5211, 0, sES, sES, V_OK, "~ack_unseen_data(s=1001,a=5211,e=5111)", "ShAgd",
	    "S1");
}

static void
test_retransmit(void)
{
	struct tconn k = tconn("retransmit_different_data");

	handshake(&k);
	SEG(&k, O, "PA", 1001, 5001, 10, sES, sES, V_OK, "", "ShAD", "S1");
	SEG(&k, O, "PA", 1001, 5001, 10, sES, sES, V_OK, "", "ShADT", "S1"); /* identical */
	SEG(&k, O, "PA", 1001, 5001, 10, sES, sES, V_OK, "retransmit_different_data(s=1001,a=5001)",
	    "ShADT", "S1", .mut = 1);
	/* Longer, covering the first: compared over the first's 10 bytes. */
	SEG(&k, O, "PA", 1001, 5001, 20, sES, sES, V_OK, "", "ShADT", "S1");
	SEG(&k, O, "PA", 1001, 5001, 20, sES, sES, V_OK, "~retransmit_different_data(s=1001,a=5001)",
	    "ShADT", "S1", .mut = 1);
	SEG(&k, O, "PA", 1001, 5001, 20, sES, sES, V_OK, "", "ShADT", "S1", .mut = 3);
	check("retransmit: 5 retransmissions counted, payload 20",
	      k.c.ep[O].rexmit == 5 && ft_tcp_payload_bytes(&k.c.ep[O]) == 20);
	/* Shorter than the first: only its first 64 bytes are compared. */
	SEG(&k, O, "PA", 1021, 5001, 100, sES, sES, V_OK, "", "ShADT", "S1");
	SEG(&k, O, "PA", 1021, 5001, 70, sES, sES, V_OK, "", "ShADT", "S1", .mut = 2);
	SEG(&k, O, "PA", 1021, 5001, 70, sES, sES, V_OK, "~retransmit_different_data(s=1021,a=5001)",
	    "ShADT", "S1", .mut = 3);
	SEG(&k, O, "PA", 1021, 5001, 30, sES, sES, V_OK, "", "ShADT", "S1", .mut = 1);
	/* Bytes not all captured: nothing sound to compare. */
	SEG(&k, O, "PA", 1121, 5001, 10, sES, sES, V_OK, "", "ShADT", "S1", .cap = 5);
	SEG(&k, O, "PA", 1121, 5001, 10, sES, sES, V_OK, "", "ShADT", "S1", .mut = 1);
	/* The first 64 bytes' digest comes from the same pass as the whole
	 * segment's: originals of 64, 80 (a tail shorter than a block) and
	 * 200 bytes, each re-sent shorter, same and different in its head. */
	{
		static const uint16_t lens[] = { 64, 80, 200 };
		unsigned int j;

		for (j = 0; j < RTE_DIM(lens); j++) {
			k = tconn(fmt("retransmit, shorter than a %u-byte first", lens[j]));
			handshake(&k);
			SEG(&k, O, "PA", 1001, 5001, lens[j], sES, sES, V_OK, "", "ShAD", "S1");
			SEG(&k, O, "PA", 1001, 5001, 64, sES, sES, V_OK, "", "ShADT", "S1",
			    .mut = lens[j] > 65 ? 2 : 0);
			SEG(&k, O, "PA", 1001, 5001, 64, sES, sES, V_OK,
			    "retransmit_different_data(s=1001,a=5001)", "ShADT", "S1", .mut = 3);
		}
	}
	/* Another connection at the same seq does not share the cache. */
	k = tconn("retransmit, other connection");
	handshake(&k);
	SEG(&k, O, "PA", 1001, 5001, 10, sES, sES, V_OK, "", "ShAD", "S1", .mut = 1);
	SEG(&k, O, "PA", 1001, 5001, 10, sES, sES, V_OK, "", "ShADT", "S1", .mut = 1);
	/* Without a cache or payload: counted, never compared. */
	{
		struct tconn k2 = tconn("retransmit, no cache");
		struct step s = { .dir = O, .fl = "PA", .seq = 1001, .ack = 5001, .len = 10 };
		struct ft_pkt p = mkpkt(&s);

		handshake(&k2);
		ft_tcp_track(&k2.c, O, &p, NULL, NULL, k2.id, &k2.r);
		ft_tcp_track(&k2.c, O, &p, NULL, NULL, k2.id, &k2.r);
		check("retransmit, no cache: counted, no anomaly",
		      k2.r.n == 0 && k2.c.ep[O].rexmit == 1 && strcmp(hist(&k2.c), "ShADT") == 0);
	}
}

static void
test_ttl_and_after_close(void)
{
	struct tconn k = tconn("ttl_change");

	handshake(&k);
	SEG(&k, O, "PA", 1001, 5001, 5, sES, sES, V_OK, "ttl_change(s=1001)", "ShAD", "S1", .ttl = 50);
	check("ttl_change: detail \"64 -> 50\"", strcmp(k.r.a[0].detail, "64 -> 50") == 0);
	SEG(&k, O, "A", 1006, 5001, 0, sES, sES, V_OK, "~ttl_change(s=1006)", "ShAD", "S1");
	check("ttl_change: detail \"50 -> 64\"", strcmp(k.r.a[0].detail, "50 -> 64") == 0);
	SEG(&k, R, "A", 5001, 1006, 0, sES, sES, V_OK, "", "ShADa", "S1"); /* the other direction */
	SEG(&k, R, "A", 5001, 1006, 0, sES, sES, V_OK, "~ttl_change(s=5001)", "ShADa", "S1", .ttl = 63);
	/* Several anomalies on one segment, in the order they are found. */
	SEG(&k, O, "PA", 90000, 5001, 5, sES, sES, V_OK,
	    "~ttl_change(s=90000) seq_out_of_window(s=90000,a=5001,e=1006)", "ShADa", "S1", .ttl = 1);

	k = tconn("packet_after_close");
	handshake(&k);
	SEG(&k, O, "RA", 1001, 5001, 0, sCL, sCL, V_FIN, "", "ShAR", "RSTO");
	SEG(&k, O, "A", 1001, 5001, 0, sCL, sCL, V_OK, "packet_after_close(s=1001,a=5001)", "ShAR",
	    "RSTO");
	SEG(&k, R, "PA", 5001, 1001, 5, sCL, sCL, V_OK, "~packet_after_close(s=5001,a=1001)", "ShARd",
	    "RSTO");
	SEG(&k, O, "R", 1001, 0, 0, sCL, sCL, V_OK, "", "ShARd", "RSTO");
}

/* ------------------------------------------------------------------------ */
/* Sequence numbers, window scaling, history thresholds                     */

static void
test_wrap(void)
{
	struct tconn k = tconn("seq wrap");
	uint32_t a = 0xfffffff0u, b = 0xfffffffau;

	SEG(&k, O, "S", a, 0, 0, sSS, sSR, V_OK, "", "S", "S0");
	SEG(&k, R, "SA", b, a + 1, 0, sES, sSR, V_OK, "", "Sh", "S1");
	SEG(&k, O, "A", a + 1, b + 1, 0, sES, sES, V_OK, "", "ShA", "S1");
	SEG(&k, O, "PA", a + 1, b + 1, 100, sES, sES, V_OK, "", "ShAD", "S1");  /* 0xfffffff1 .. 0x55 */
	SEG(&k, R, "A", b + 1, a + 101, 0, sES, sES, V_OK, "", "ShADa", "S1");
	SEG(&k, R, "PA", b + 1, a + 101, 50, sES, sES, V_OK, "", "ShADad", "S1"); /* .. 0x2d */
	SEG(&k, O, "A", a + 101, b + 51, 0, sES, sES, V_OK, "", "ShADad", "S1");
	SEG(&k, O, "PA", a + 101, b + 51, 10, sES, sES, V_OK, "", "ShADad", "S1");
	SEG(&k, O, "PA", a + 1, b + 51, 100, sES, sES, V_OK, "", "ShADadT", "S1"); /* across the wrap */
	SEG(&k, O, "FA", a + 111, b + 51, 0, sF1, sCW, V_OK, "", "ShADadTF", "S2");
	SEG(&k, R, "FA", b + 51, a + 112, 0, sTW, sLA, V_FIN, "", "ShADadTFf", "SF");
	SEG(&k, O, "A", a + 112, b + 52, 0, sTW, sCL, V_OK, "", "ShADadTFf", "SF");
	check("seq wrap: payload bytes 110 / 50",
	      ft_tcp_payload_bytes(&k.c.ep[O]) == 110 && ft_tcp_payload_bytes(&k.c.ep[R]) == 50);
	/* An ack beyond what was sent, across the wrap. */
	k = tconn("seq wrap, ack unseen");
	SEG(&k, O, "S", a, 0, 0, sSS, sSR, V_OK, "", "S", "S0");
	SEG(&k, R, "SA", b, a + 1, 0, sES, sSR, V_OK, "", "Sh", "S1");
	SEG(&k, O, "A", a + 1, b + 11, 0, sES, sSR, V_OK, "handshake_bad_ack(s=4294967281,a=5,e=4294967291)",
	    "ShA", "S1");
	SEG(&k, O, "A", a + 1, b + 1, 0, sES, sES, V_OK, "", "ShA", "S1");
	SEG(&k, O, "A", a + 1, b + 11, 0, sES, sES, V_OK, "ack_unseen_data(s=4294967281,a=5,e=4294967291)",
	    "ShAg", "S1");

	/* More than 4 GiB through one connection: Zeek counts the bytes in a
	 * 64-bit space (TCP_Endpoint::Size() with its seq wrap counts). */
	k = tconn("5 GiB");
	handshake(&k);
	{
		struct ft_pkt d, ak;
		struct step sd = { .dir = O, .fl = "A", .ack = 5001, .len = 65000 };
		struct step sa = { .dir = R, .fl = "A", .seq = 5001, .win = 65535 };
		uint64_t total = 5ull << 30, sent = 0;
		uint32_t seq = 1001;
		unsigned int bad = 0;

		d = mkpkt(&sd);
		ak = mkpkt(&sa);
		while (sent < total) {
			d.tcp.seq = seq;
			ft_tcp_track(&k.c, O, &d, NULL, NULL, k.id, &k.r);
			bad += k.r.n;
			seq += 65000;
			sent += 65000;
			ak.tcp.ack = seq;
			ft_tcp_track(&k.c, R, &ak, NULL, NULL, k.id, &k.r);
			bad += k.r.n;
		}
		check("5 GiB: no anomaly across the wraps, both ESTABLISHED",
		      bad == 0 && k.c.ep[O].state == sES && k.c.ep[R].state == sES);
		/* README: payload bytes as Zeek counts them, wraps included
		 * (not modulo 2^32). */
		check(fmt("5 GiB: orig payload bytes %llu (tracker says %llu)",
			  (unsigned long long)sent,
			  (unsigned long long)ft_tcp_payload_bytes(&k.c.ep[O])),
		      ft_tcp_payload_bytes(&k.c.ep[O]) == sent);
	}
}

static void
test_wscale(void)
{
	struct tconn k = tconn("wscale both");

	SEG(&k, O, "S", 1000, 0, 0, sSS, sSR, V_OK, "", "S", "S0", .win = 65535, .ws = 8);
	SEG(&k, R, "SA", 5000, 1001, 0, sES, sSR, V_OK, "", "Sh", "S1", .win = 65535, .ws = 3);
	check("wscale both: shifts 7 and 2 in use", k.c.ep[O].wscale == 7 && k.c.ep[R].wscale == 2);
	/* 512 << 7: the responder may send up to 5001 + 65536 = 70537. */
	SEG(&k, O, "A", 1001, 5001, 0, sES, sES, V_OK, "", "ShA", "S1", .win = 512);
	SEG(&k, R, "A", 70538, 1001, 0, sES, sES, V_OK, "seq_out_of_window(s=70538,a=1001,e=5001)", "ShAa",
	    "S1");
	SEG(&k, R, "A", 70537, 1001, 0, sES, sES, V_OK, "", "ShAa", "S1");

	k = tconn("wscale client only");
	SEG(&k, O, "S", 1000, 0, 0, sSS, sSR, V_OK, "", "S", "S0", .win = 65535, .ws = 8);
	SEG(&k, R, "SA", 5000, 1001, 0, sES, sSR, V_OK, "", "Sh", "S1", .win = 65535);
	check("wscale client only: no scaling", k.c.ep[O].wscale == 0 && k.c.ep[R].wscale == 0);
	SEG(&k, O, "A", 1001, 5001, 0, sES, sES, V_OK, "", "ShA", "S1", .win = 512);
	SEG(&k, R, "A", 5514, 1001, 0, sES, sES, V_OK, "seq_out_of_window(s=5514,a=1001,e=5001)", "ShAa",
	    "S1");
	SEG(&k, R, "A", 5513, 1001, 0, sES, sES, V_OK, "", "ShAa", "S1");

	k = tconn("wscale server only");
	SEG(&k, O, "S", 1000, 0, 0, sSS, sSR, V_OK, "", "S", "S0", .win = 65535);
	SEG(&k, R, "SA", 5000, 1001, 0, sES, sSR, V_OK, "", "Sh", "S1", .win = 65535, .ws = 8);
	check("wscale server only: no scaling", k.c.ep[O].wscale == 0 && k.c.ep[R].wscale == 0);

	k = tconn("wscale 15 -> 14");
	SEG(&k, O, "S", 1000, 0, 0, sSS, sSR, V_OK, "", "S", "S0", .ws = 16);
	SEG(&k, R, "SA", 5000, 1001, 0, sES, sSR, V_OK, "", "Sh", "S1", .ws = 16);
	check("wscale 15 -> 14: both clamped", k.c.ep[O].wscale == 14 && k.c.ep[R].wscale == 14);
	SEG(&k, O, "A", 1001, 5001, 0, sES, sES, V_OK, "", "ShA", "S1", .win = 4);
	SEG(&k, R, "A", 70537, 1001, 0, sES, sES, V_OK, "", "ShAa", "S1");

	k = tconn("wscale 255 -> 14");
	SEG(&k, O, "S", 1000, 0, 0, sSS, sSR, V_OK, "", "S", "S0", .ws = 256);
	SEG(&k, R, "SA", 5000, 1001, 0, sES, sSR, V_OK, "", "Sh", "S1", .ws = 8);
	SEG(&k, O, "A", 1001, 5001, 0, sES, sES, V_OK, "", "ShA", "S1", .win = 4);
	SEG(&k, R, "A", 70537, 1001, 0, sES, sES, V_OK, NULL, "ShAa", "S1");
	check("wscale 255 -> 14: the client's shift is 14 (RFC 7323 2.3), 4 << 14 lets the server "
	      "send to 70537", k.c.ep[O].wscale == 14 && k.c.ep[R].wscale == 7 && k.r.n == 0);

	k = tconn("wscale syn+ack first");
	SEG(&k, R, "SA", 5000, 1001, 0, sES, sSR, V_OK, NULL, "^h", "OTH", .ws = 8);
	check("wscale syn+ack first: the missed SYN offered scaling, shift unknown: 14",
	      k.c.ep[O].wscale == 14 && k.c.ep[R].wscale == 7);
	k = tconn("wscale syn+ack first, no option");
	SEG(&k, R, "SA", 5000, 1001, 0, sES, sSR, V_OK, NULL, "^h", "OTH");
	check("wscale syn+ack first, no option: no scaling",
	      k.c.ep[O].wscale == 0 && k.c.ep[R].wscale == 0);

	/* RFC 5961 4: a SYN in a synchronized state is answered by a challenge
	 * ACK and otherwise dropped: the genuine stream goes on. */
	k = tconn("syn inside an established connection");
	handshake(&k);
	SEG(&k, O, "PA", 1001, 5001, 10, sES, sES, V_OK, "", "ShAD", "S1");
	SEG(&k, R, "A", 5001, 1011, 0, sES, sES, V_OK, "", "ShADa", "S1");
	SEG(&k, O, "S", 777777, 0, 0, sES, sES, V_OK, NULL, "ShADaS", "S1");
	TRACK(&k, O, "PA", 1011, 5001, 10);
	check("a SYN with another seq in ESTABLISHED leaves the sequence space alone: the next "
	      "genuine segment is in the window",
	      k.r.n == 0);
}

static void
test_history_thresholds(void)
{
	struct tconn k = tconn("history t");
	struct step s = { .dir = R, .fl = "PA", .seq = 5001, .ack = 1001, .len = 10 };
	struct ft_pkt p;
	unsigned int i;
	static const struct {
		unsigned int n;
		const char *h;
	} at[] = { { 1, "ShAdt" }, { 9, "ShAdt" }, { 10, "ShAdtt" }, { 99, "ShAdtt" }, { 100, "ShAdttt" },
		   { 999, "ShAdttt" }, { 1000, "ShAdtttt" } };
	unsigned int j = 0;

	handshake(&k);
	SEG(&k, R, "PA", 5001, 1001, 10, sES, sES, V_OK, "", "ShAd", "S1");
	p = mkpkt(&s);
	for (i = 1; i <= 1000; i++) {
		ft_tcp_track(&k.c, R, &p, NULL, segs, k.id, &k.r);
		if (j < RTE_DIM(at) && at[j].n == i) {
			check(fmt("history t: after %u retransmission(s) \"%s\"", i, at[j].h),
			      strcmp(hist(&k.c), at[j].h) == 0 && k.c.ep[R].rexmit == i);
			j++;
		}
	}
	/* Zero windows: 'w' at 1, 10, ... (not for a FIN). */
	k = tconn("history w");
	handshake(&k);
	SEG(&k, R, "A", 5001, 1001, 0, sES, sES, V_OK, "", "ShAaw", "S1", .zw = 1);
	for (i = 2; i <= 10; i++)
		SEG(&k, R, "A", 5001, 1001, 0, sES, sES, V_OK, "", i < 10 ? "ShAaw" : "ShAaww", "S1",
		    .zw = 1);
	SEG(&k, R, "FA", 5001, 1001, 0, sCW, sF1, V_OK, "", "ShAawwf", "S3", .zw = 1);
	check("history w: not for a FIN", k.c.ep[R].zero_win == 10);
}

/* ------------------------------------------------------------------------ */
/* The transition table                                                     */

static void
test_table(void)
{
	unsigned int e, s, bad_range = 0, to_listen = 0, rst_bad = 0, listen_moves = 0;
	char listen_exits[256] = "";
	size_t o = 0;

	for (e = 0; e < EV_MAX; e++) {
		for (s = 0; s < FT_TCP_STATE_MAX; s++) {
			unsigned int n = tcp_next[e][s];

			if (n >= FT_TCP_STATE_MAX)
				bad_range++;
			if (n == FT_TCP_LISTEN && s != FT_TCP_LISTEN) {
				to_listen++;
				printf("     cell [event %u][%s] -> LISTEN\n", e, st(s));
			}
			if ((e == EV_SEND_RST || e == EV_RECV_RST) && n != FT_TCP_CLOSED)
				rst_bad++;
			if (s == FT_TCP_LISTEN && n != FT_TCP_LISTEN) {
				listen_moves++;
				o += (size_t)snprintf(listen_exits + o, sizeof(listen_exits) - o, "%s%u:%s",
						      o ? " " : "", e, st(n));
			}
		}
	}
	check(fmt("transition table: all %u cells are states", EV_MAX * FT_TCP_STATE_MAX),
	      bad_range == 0);
	check("transition table: no cell leads to LISTEN from another state (CLOSED included)",
	      to_listen == 0);
	check("transition table: an acceptable RST closes from every state", rst_bad == 0);
	/* LISTEN is left only by an active open (send SYN -> SYN_SENT), a SYN
	 * (send SYN+ACK / receive SYN -> SYN_RECEIVED) or a RST (CLOSED). */
	check(fmt("transition table: LISTEN left only by SYN, SYN+ACK, RST (%s)", listen_exits),
	      listen_moves == 5 && tcp_next[EV_SEND_SYN][sLI] == sSS &&
		      tcp_next[EV_SEND_SYNACK][sLI] == sSR && tcp_next[EV_RECV_SYN][sLI] == sSR &&
		      tcp_next[EV_SEND_RST][sLI] == sCL && tcp_next[EV_RECV_RST][sLI] == sCL);
	/* The textbook ladder, cell by cell. */
	check("transition table: the RFC 793 close ladder",
	      tcp_next[EV_SEND_FIN][sES] == sF1 && tcp_next[EV_RECV_ACK_FIN][sF1] == sF2 &&
		      tcp_next[EV_RECV_FIN][sF2] == sTW && tcp_next[EV_RECV_FIN][sES] == sCW &&
		      tcp_next[EV_SEND_FIN][sCW] == sLA && tcp_next[EV_RECV_ACK_FIN][sLA] == sCL &&
		      tcp_next[EV_RECV_FIN][sF1] == sCG && tcp_next[EV_RECV_ACK_FIN][sCG] == sTW &&
		      tcp_next[EV_SEND_FIN_CROSSED][sCW] == sCG);
	for (s = 0; s < FT_TCP_STATE_MAX; s++)
		if (ft_tcp_state_name(s) == NULL || strcmp(ft_tcp_state_name(s), "unknown") == 0)
			break;
	check("state names: 11 names, then \"unknown\"",
	      s == FT_TCP_STATE_MAX && strcmp(ft_tcp_state_name(FT_TCP_STATE_MAX), "unknown") == 0 &&
		      strcmp(ft_tcp_state_name(FT_TCP_SYN_RECEIVED), "SYN_RECEIVED") == 0 &&
		      strcmp(ft_tcp_state_name(FT_TCP_TIME_WAIT), "TIME_WAIT") == 0);
	check("end names", strcmp(ft_tcp_end_name(FT_END_FIN), "fin") == 0 &&
				   strcmp(ft_tcp_end_name(FT_END_RST), "rst") == 0 &&
				   strcmp(ft_tcp_end_name(FT_END_TIMEOUT), "timeout") == 0 &&
				   strcmp(ft_tcp_end_name(FT_END_EVICTED), "evicted") == 0 &&
				   strcmp(ft_tcp_end_name(FT_END_EXIT), "exit") == 0 &&
				   strcmp(ft_tcp_end_name(FT_END_NONE), "") == 0 &&
				   strcmp(ft_tcp_end_name(99), "") == 0);
	check("segment cache: a size that is not a power of two is refused",
	      ft_tcp_segcache_create(1000, SOCKET_ID_ANY) == NULL &&
		      ft_tcp_segcache_create(0, SOCKET_ID_ANY) == NULL);
}

/* ------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------ */
/* The edges of the packed connection state (ft_tcp.h, issue #6)            */

static void
test_packed_edges(void)
{
	struct tconn k = tconn("history cut");
	struct step s;
	struct ft_pkt p;
	uint64_t before;
	unsigned int i;
	char want[FT_TCP_HISTORY_LEN + 8];

	/* Each new SYN (seqs 1 apart) adds an 'S': the history stops at 23
	 * letters, as the 24-byte string did. */
	for (i = 0; i < 30; i++)
		TRACK(&k, O, "S", 1000 + i, 0, 0, sSS, sLI, V_OK, NULL, NULL, NULL);
	memset(want, 'S', 23);
	want[23] = '\0';
	check("history cut: 23 letters, as before", strcmp(hist(&k.c), want) == 0 &&
						    k.c.hist_len == 23);
	TRACK(&k, R, "SA", 5000, 1030, 0, sES, sES, V_OK, NULL, NULL, NULL);
	check("history cut: nothing added once full", strcmp(hist(&k.c), want) == 0);

	/* A flipped connection: '^' and 22 letters. */
	k = tconn("history cut flipped");
	for (i = 0; i < 30; i++)
		TRACK(&k, R, "SA", 5000 + i, 1001, 0, sSS, sSR, V_OK, NULL, NULL, NULL);
	want[0] = '^';
	memset(want + 1, 'h', 22);
	want[23] = '\0';
	check("history cut flipped: '^' and 22 letters", strcmp(hist(&k.c), want) == 0 &&
							      k.c.hist_len == 23);

	/* The documented cost of the 12-bit fold: seqs 0 and 0x1001 fold alike,
	 * so the second SYN gets no second 'S' (Zeek would give one). */
	k = tconn("fold");
	TRACK(&k, O, "S", 0, 0, 0, sSS, sLI, V_OK, NULL, NULL, NULL);
	TRACK(&k, O, "S", 0x1001, 0, 0, sSS, sLI, V_OK, NULL, NULL, NULL);
	check("fold: seqs 0 and 0x1001 are taken as the same SYN", strcmp(hist(&k.c), "S") == 0);

	/* Retransmissions saturate at 65535: 't' at 1, 10, ..., 10000 only;
	 * ip_bytes goes beyond 2^32 (48 bits). */
	k = tconn("saturate rexmit");
	handshake(&k);
	SEG(&k, R, "PA", 5001, 1001, 10, sES, sES, V_OK, "", "ShAd", "S1");
	s = (struct step){ .dir = R, .fl = "PA", .seq = 5001, .ack = 1001, .len = 10 };
	p = mkpkt(&s);
	p.ip_len = UINT16_MAX;
	before = k.c.ep[R].ip_bytes;
	for (i = 0; i < 70000; i++)
		ft_tcp_track(&k.c, R, &p, NULL, NULL, k.id, &k.r);
	check(fmt("saturate rexmit: %u retransmits, history \"%s\"", (unsigned int)k.c.ep[R].rexmit,
		  hist(&k.c)),
	      k.c.ep[R].rexmit == FT_TCP_REXMIT_MAX && strcmp(hist(&k.c), "ShAdttttt") == 0);
	check(fmt("ip_bytes beyond 2^32: %llu", (unsigned long long)k.c.ep[R].ip_bytes),
	      k.c.ep[R].ip_bytes == before + 70000ull * UINT16_MAX && k.c.ep[R].pkts == 70002);

	/* Zero windows saturate at 16383: 'w' at 1, 10, ..., 10000. */
	k = tconn("saturate zero_win");
	handshake(&k);
	s = (struct step){ .dir = R, .fl = "A", .seq = 5001, .ack = 1001, .zw = 1 };
	p = mkpkt(&s);
	for (i = 0; i < 20000; i++)
		ft_tcp_track(&k.c, R, &p, NULL, NULL, k.id, &k.r);
	check(fmt("saturate zero_win: %u, history \"%s\"", (unsigned int)k.c.ep[R].zero_win,
		  hist(&k.c)),
	      k.c.ep[R].zero_win == FT_TCP_ZERO_WIN_MAX && strcmp(hist(&k.c), "ShAawwwww") == 0);

	/* Gaps saturate at 255: 'g' at 1, 10, 100. Each ack of data never
	 * seen is a gap in the responder's stream. */
	k = tconn("saturate gaps");
	handshake(&k);
	for (i = 1; i <= 300; i++) {
		s = (struct step){ .dir = O, .fl = "A", .seq = 1001, .ack = 5001 + 10 * i };
		p = mkpkt(&s);
		ft_tcp_track(&k.c, O, &p, NULL, NULL, k.id, &k.r);
	}
	check(fmt("saturate gaps: %u, history \"%s\"", (unsigned int)k.c.ep[R].gaps, hist(&k.c)),
	      k.c.ep[R].gaps == FT_TCP_GAPS_MAX && strcmp(hist(&k.c), "ShAggg") == 0);

	/* The windows: raw value and shift; a SYN's is never scaled. */
	k = tconn("windows");
	SEG(&k, O, "S", 1000, 0, 0, sSS, sSR, V_OK, "", "S", "S0", .win = 65535, .ws = 8);
	SEG(&k, R, "SA", 5000, 1001, 0, sES, sSR, V_OK, "", "Sh", "S1", .win = 29200, .ws = 8);
	check("windows: a SYN's unscaled", ft_tcp_win(&k.c.ep[O]) == 65535 &&
						ft_tcp_maxwin(&k.c.ep[R]) == 29200);
	SEG(&k, O, "A", 1001, 5001, 0, sES, sES, V_OK, "", "ShA", "S1", .win = 65535);
	check("windows: scaled by 2^7 after the handshake",
	      ft_tcp_win(&k.c.ep[O]) == 65535u << 7 && ft_tcp_maxwin(&k.c.ep[O]) == 65535u << 7);
}

/* ------------------------------------------------------------------------ */
/* Fast path                                                                */

static uint32_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (uint32_t)(*x >> 16);
}

/*
 * The fast path (header prediction) must change nothing: random
 * conversations, mostly well-behaved with every kind of surprise mixed in
 * (retransmissions, gaps, acks of unseen data, out-of-window segments, TTL
 * changes, zero windows, URG, FIN, RST, SYN, invalid flags), are tracked
 * twice, with and without it, into two connections and two segment caches;
 * after every segment both connections and both results are equal, byte
 * for byte.
 */
static void
test_fast_path(void)
{
	static const char *const odd_flags[] = { "FA", "RA", "R", "S", "SA", "UA", "FPUA", "", "F", "SF" };
	static uint8_t data[2048];
	struct ft_tcp_segcache *segs2 = ft_tcp_segcache_create(1024, SOCKET_ID_ANY);
	uint64_t x = 0x2545f4914f6cdd1dull;
	unsigned int conv, i, segments = 0, fits = 0, differ = 0;

	check("fast path: second segment cache", segs2 != NULL);
	if (segs2 == NULL)
		return;
	for (conv = 0; conv < 4000 && differ == 0; conv++) {
		struct ft_tcp_conn a, b;
		struct ft_tcp_result ra, rb;
		uint32_t nxt[2];
		uint8_t ttl[2] = { 64, 128 };
		unsigned int n = 10 + rnd(&x) % 60;

		memset(&ra, 0, sizeof(ra));
		memset(&rb, 0, sizeof(rb));
		nxt[O] = rnd(&x);
		nxt[R] = rnd(&x);
		for (i = 0; i < n && differ == 0; i++) {
			struct step st = { .dir = O, .fl = "A", .win = 4096, .ttl = 64 };
			struct ft_tcp_payload pl = { .data = data };
			struct ft_pkt p;
			unsigned int d, k, roll = rnd(&x) % 100, j;

			if (i < 3) {
				/* The handshake, mostly (sometimes one of its segments is lost). */
				static const char *const hs[] = { "S", "SA", "A" };

				d = i == 1 ? R : O;
				st.fl = hs[i];
				if (i != 0 && rnd(&x) % 20 == 0)
					continue;
			} else {
				d = rnd(&x) % 2;
				st.fl = rnd(&x) % 2 ? "A" : "PA";
			}
			st.dir = d;
			st.seq = nxt[d];
			st.ack = (i == 0) ? 0 : nxt[d ^ 1];
			st.len = (i >= 3 && rnd(&x) % 2) ? (uint16_t)(1 + rnd(&x) % 1400) : 0;
			st.win = (uint16_t)(1024 + rnd(&x) % 60000);
			st.ttl = ttl[d];
			if (i >= 3) {
				if (roll < 6)
					st.seq -= 1 + rnd(&x) % 3000;      /* retransmission, or old */
				else if (roll < 10)
					st.seq += 1 + rnd(&x) % 3000;      /* gap */
				else if (roll < 13)
					st.ack += 1 + rnd(&x) % 100000;    /* acks what was not seen */
				else if (roll < 15)
					st.seq += 1u << 30;                /* far out of window */
				else if (roll < 18)
					st.ttl = ttl[d] = (uint8_t)(ttl[d] + 1); /* TTL change */
				else if (roll < 20)
					st.zw = 1;
				else if (roll < 27)
					st.fl = odd_flags[rnd(&x) % RTE_DIM(odd_flags)];
				else if (roll < 29)
					st.mut = 1;                        /* different bytes (if re-sent) */
				else if (roll < 30)
					st.cap = (uint16_t)(st.len / 2);   /* not all captured */
			}
			p = mkpkt(&st);
			for (j = 0; j < st.len; j++)
				data[j] = pattern(d, st.seq + j);
			if (st.mut && st.len > 0)
				data[0] ^= 0xff;
			pl.caplen = st.cap ? st.cap : st.len;
			if (i == 0 || (i < 3 && !(a.ep[O].flags | a.ep[R].flags))) {
				memset(&a, 0, sizeof(a));
				memset(&b, 0, sizeof(b));
				if (ft_tcp_init(&a, &p, true) != 0 || ft_tcp_init(&b, &p, true) != 0)
					break;
			}
			segments++;
			fits += ft_tcp_fast_path_fits(&a, d, &p);
			ft_tcp_set_fast_path(true);
			ft_tcp_track(&a, d, &p, &pl, segs, conv + 1, &ra);
			ft_tcp_set_fast_path(false);
			ft_tcp_track(&b, d, &p, &pl, segs2, conv + 1, &rb);
			ft_tcp_set_fast_path(true);
			if (memcmp(&a, &b, sizeof(a)) != 0 || ra.verdict != rb.verdict || ra.n != rb.n ||
			    ra.obs != rb.obs || memcmp(ra.a, rb.a, ra.n * sizeof(ra.a[0])) != 0) {
				differ++;
				printf("     conversation %u segment %u: %s [%s] seq %u ack %u len %u: "
				       "the paths differ\n", conv, i, d == O ? "-->" : "<--", st.fl, st.seq,
				       st.ack, st.len);
			}
			/* What the sender sends next, as a well-behaved stack would. */
			k = (unsigned int)st.len + ((p.tcp.flags & (FT_TCP_SYN | FT_TCP_FIN)) ? 1 : 0);
			if (st.seq == nxt[d])
				nxt[d] += k;
		}
	}
	check(fmt("fast path: %u segments of %u conversations tracked alike with and without it",
		  segments, conv), differ == 0);
	check(fmt("fast path: taken by %u of %u segments (at least a third)", fits, segments),
	      fits * 3 >= segments);
	ft_tcp_segcache_free(segs2);
}

int
main(void)
{
	if (ft_unit_eal_init("tcp") < 0)
		return ft_unit_summary();
	segs = ft_tcp_segcache_create(1024, SOCKET_ID_ANY);
	check("segment cache created", segs != NULL);
	if (segs != NULL) {
		test_normal();
		test_half_close();
		test_simultaneous();
		test_rst();
		test_reuse();
		test_midstream();
		test_handshake_anomalies();
		test_invalid_flags();
		test_window();
		test_retransmit();
		test_ttl_and_after_close();
		test_wrap();
		test_wscale();
		test_history_thresholds();
		test_packed_edges();
		test_table();
		test_fast_path();
		ft_tcp_segcache_free(segs);
	}
	ft_unit_eal_cleanup();
	return ft_unit_summary();
}
