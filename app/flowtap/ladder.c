/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ladder (--ladder FILTER): every packet of the connections the filter
 * (tcpdump syntax, compiled by libpcap) picks, one line each: time since the
 * connection's first packet, a direction arrow, flags as tcpdump prints them,
 * absolute (or, with --relative, relative) seq and ack, payload length,
 * window, and both endpoints' RFC 793 states after the packet.
 *
 * Workers test the filter once per connection until it matches and send the
 * lines through a ring; the control lcore prints them here.
 */
#include <inttypes.h>
#include <string.h>

#include "flowtap.h"

#define LADDER_MAX_CONNS 256

static struct {
	uint32_t key[LADDER_MAX_CONNS]; /* worker << 24 ^ conn_id */
	unsigned int n;
	int last;
} ladder_seen = { .last = -1 };

int
ft_ladder_setup(struct ft_app *app)
{
	pcap_t *dead;

	if (app->opt.ladder == NULL)
		return 0;
	if (!app->offline)
		return ft_fail("--ladder needs --pcap (for a live connection use flowtap-ctl ladder)");
	dead = pcap_open_dead(DLT_EN10MB, 65535);
	if (dead == NULL)
		return ft_fail("--ladder: cannot set up the filter compiler");
	if (pcap_compile(dead, &app->ladder_prog, app->opt.ladder, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		ft_fail("--ladder: bad filter '%s': %s", app->opt.ladder, pcap_geterr(dead));
		pcap_close(dead);
		return -1;
	}
	pcap_close(dead);
	app->ladder_on = true;
	return 0;
}

/* tcpdump's flag letters: S F R P U E W, '.' for ACK. */
static const char *
flag_text(uint8_t f, char *buf)
{
	static const struct { uint8_t bit; char c; } order[] = {
		{ FT_TCP_SYN, 'S' }, { FT_TCP_FIN, 'F' }, { FT_TCP_RST, 'R' }, { FT_TCP_PSH, 'P' },
		{ FT_TCP_URG, 'U' }, { FT_TCP_ECE, 'E' }, { FT_TCP_CWR, 'W' }, { FT_TCP_ACK, '.' },
	};
	unsigned int i, n = 0;

	buf[n++] = '[';
	for (i = 0; i < RTE_DIM(order); i++)
		if (f & order[i].bit)
			buf[n++] = order[i].c;
	if (n == 1)
		buf[n++] = '-';
	buf[n++] = ']';
	buf[n] = '\0';
	return buf;
}

static void
header(const struct ft_ladder_line *l, unsigned int number, bool relative, FILE *out)
{
	char a[2][INET6_ADDRSTRLEN];

	ft_addr_format(a[0], sizeof(a[0]), l->ip_ver, l->addr[0]);
	ft_addr_format(a[1], sizeof(a[1]), l->ip_ver, l->addr[1]);
	fprintf(out, "connection %u: %s:%u (orig) -> %s:%u (resp), %s sequence numbers\n", number,
		a[0], l->port[0], a[1], l->port[1], relative ? "relative" : "absolute");
	fprintf(out, "%10s  %-4s %-7s %10s %10s %5s %6s  %-12s  %s\n", "time", "dir", "flags",
		"seq", "ack", "len", "win", "orig_state", "resp_state");
}

void
ft_ladder_print(struct ft_app *app, const struct ft_ladder_line *l, FILE *out)
{
	const uint32_t key = ((uint32_t)l->worker << 24) ^ l->conn_id;
	const unsigned int from = l->dir, to = l->dir ^ 1;
	uint64_t dt = l->ts_ns >= l->first_ns ? l->ts_ns - l->first_ns : 0;
	uint32_t seq = l->seq, ack = l->ack;
	unsigned int i;
	char fl[16];

	for (i = 0; i < ladder_seen.n && ladder_seen.key[i] != key; i++)
		;
	if (i == ladder_seen.n && ladder_seen.n < LADDER_MAX_CONNS) {
		ladder_seen.key[ladder_seen.n++] = key;
		if (i != 0)
			fputc('\n', out);
		header(l, i + 1, app->opt.relative, out);
	} else if ((int)i != ladder_seen.last) {
		fprintf(out, "-- connection %u --\n", i + 1);
	}
	ladder_seen.last = (int)i;
	if (app->opt.relative) {
		seq -= l->isn[from];
		ack = (l->flags & FT_TCP_ACK) ? ack - l->isn[to] : 0;
	}
	fprintf(out, "%10.6f  %-4s %-7s %10" PRIu32 " %10" PRIu32 " %5u %6u  %-12s  %s%s%s%s\n",
		(double)dt / 1e9, l->dir == FT_TCP_ORIG ? "-->" : "<--", flag_text(l->flags, fl), seq,
		ack, l->len, l->win, ft_tcp_state_name(l->state[0]), ft_tcp_state_name(l->state[1]),
		l->note ? "  (" : "", ft_ladder_note_text(l->note), l->note ? ")" : "");
}
