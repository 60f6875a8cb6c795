/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/control's query parameters: what each command accepts,
 * the connection spec (IPv4, bracketed IPv6), every error message, the
 * filter a worker matches connections with, and the packet view of a
 * connection spec (its owner must be the worker the decoder picks). No EAL.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ft_control.h"
#include "ft_decode.h"
#include "ft_unit.h"

#define FLOWS (FT_CTL_P_ADDR | FT_CTL_P_PORT | FT_CTL_P_STATE | FT_CTL_P_LIMIT | FT_CTL_P_FROM)
#define FLOW (FT_CTL_P_CONN | FT_CTL_P_VLAN)
#define LADDER (FT_CTL_P_ADDR | FT_CTL_P_PORT | FT_CTL_P_CONN | FT_CTL_P_OFF | FT_CTL_P_FROM)

static int
parse(const char *params, unsigned int allowed, struct ft_ctl_params *p, char *err)
{
	return ft_control_parse_params(params, allowed, p, err, 200);
}

static void
addr4(uint8_t out[16], const char *text)
{
	memset(out, 0, 16);
	inet_pton(AF_INET, text, out);
}

static void
test_accepted(void)
{
	struct ft_ctl_params p;
	uint8_t a[16];
	char err[200];
	int rc;

	rc = parse(NULL, FLOWS, &p, err);
	checkf("no parameters: defaults",
	       rc == 0 && p.given == 0 && p.filter.has == 0 && p.limit == FT_CTL_LIMIT_DEFAULT, "rc %d given %#x limit %u", rc, p.given, p.limit);

	rc = parse("port=25,state=ESTABLISHED,limit=20", FLOWS, &p, err);
	checkf("port=25,state=ESTABLISHED,limit=20",
	       rc == 0 && p.filter.has == (FT_CTL_F_PORT | FT_CTL_F_STATE) && p.filter.port == 25 &&
	      p.filter.state == FT_TCP_ESTABLISHED && p.limit == 20, "rc %d err '%s'", rc, err);

	rc = parse("state=time_wait\n", FLOWS, &p, err);
	checkf("state names any case; a trailing newline is fine",
	       rc == 0 && p.filter.state == FT_TCP_TIME_WAIT, "rc %d err '%s'", rc, err);

	rc = parse("addr=10.1.2.3,from=1.4096", FLOWS, &p, err);
	addr4(a, "10.1.2.3");
	checkf("addr=IPv4 and from=",
	       rc == 0 && p.filter.ip_ver == 4 && memcmp(p.filter.addr, a, 16) == 0 &&
	      strcmp(p.from, "1.4096") == 0, "rc %d err '%s'", rc, err);

	rc = parse("addr=[2001:db8::1]", FLOWS, &p, err);
	checkf("addr=[IPv6]",
	       rc == 0 && p.filter.ip_ver == 6 && p.filter.addr[0] == 0x20 && p.filter.addr[15] == 1, "rc %d err '%s'", rc, err);

	rc = parse("192.168.1.10:1042-192.168.1.20:25,vlan=10.20", FLOW, &p, err);
	addr4(a, "192.168.1.20");
	checkf("a connection spec and vlan=OUTER.INNER",
	       rc == 0 && (p.filter.has & FT_CTL_F_CONN) && p.filter.conn_port[0] == 1042 &&
	      p.filter.conn_port[1] == 25 && memcmp(p.filter.conn_addr[1], a, 16) == 0 &&
	      p.filter.vlan[0] == 10 && p.filter.vlan[1] == 20, "rc %d err '%s'", rc, err);

	rc = parse("[2001:db8::1]:40000-[2001:db8::2]:443", FLOW, &p, err);
	checkf("a bracketed IPv6 connection",
	       rc == 0 && p.filter.ip_ver == 6 && p.filter.conn_port[1] == 443 &&
	      p.filter.conn_addr[1][15] == 2, "rc %d err '%s'", rc, err);

	rc = parse("off", LADDER, &p, err);
	checkf("ladder: off", rc == 0 && p.given == FT_CTL_P_OFF, "rc %d err '%s'", rc, err);
}

static void
test_errors(void)
{
	static const struct {
		const char *params;
		unsigned int allowed;
		const char *err;
	} cases[] = {
		{ "port=abc", FLOWS, "port: 'abc' is not a port number (0-65535)" },
		{ "port=65536", FLOWS, "port: '65536' is not a port number (0-65535)" },
		{ "port=", FLOWS, "port: '' is not a port number (0-65535)" },
		{ "limit=0", FLOWS, "limit: '0' is not a number from 1 to 256" },
		{ "limit=99999999999", FLOWS, "limit: '99999999999' is not a number from 1 to 256" },
		{ "state=OPEN", FLOWS,
		  "state: 'OPEN' is not an RFC 793 state (CLOSED, LISTEN, SYN_SENT, ... TIME_WAIT)" },
		{ "addr=300.1.1.1", FLOWS, "addr: '300.1.1.1' is not an IPv4 or IPv6 address" },
		{ "from=a.b", FLOWS,
		  "from: 'a.b' is not a cursor (give the \"next\" of the previous reply)" },
		{ "colour=red", FLOWS, "unknown parameter 'colour' (this command takes addr=ADDR, "
		  "port=N, state=NAME, limit=N, from=CURSOR)" },
		{ "state=CLOSED", LADDER, "unknown parameter 'state' (this command takes addr=ADDR, "
		  "port=N, from=CURSOR, ADDR:PORT-ADDR:PORT, off)" },
		{ "port=1,,port=2", FLOWS, "empty parameter (two commas in a row?)" },
		{ "port=1,port=2", FLOWS, "parameter 'port' given twice" },
		{ "off", FLOWS, "'off' is not a parameter (this command takes addr=ADDR, port=N, "
		  "state=NAME, limit=N, from=CURSOR)" },
		{ "1.2.3.4:5", FLOW, "'1.2.3.4:5' is not a connection ADDR:PORT-ADDR:PORT" },
		{ "1.2.3.4-5.6.7.8:9", FLOW, "connection: '1.2.3.4' has no :PORT" },
		{ "2001:db8::1:80-2001:db8::2:80", FLOW,
		  "connection: '2001:db8::1:80': an IPv6 address goes in brackets: [2001:db8::1]:80" },
		{ "1.2.3.4:5-[::1]:6", FLOW, "connection '1.2.3.4:5-[::1]:6' mixes IPv4 and IPv6" },
		{ "1.2.3.4:5-1.2.3.5:6,1.2.3.4:5-1.2.3.5:7", FLOW,
		  "give one connection ADDR:PORT-ADDR:PORT, not two" },
		{ "1.2.3.4:5-1.2.3.5:6,vlan=4096", FLOW,
		  "vlan: '4096' is not a VLAN id (0-4095) or OUTER.INNER" },
		{ "1.2.3.4:5-1.2.3.5:6,addr=::1", LADDER,
		  "addr: '::1' is not of the connection's IP version" },
	};
	struct ft_ctl_params p;
	unsigned int i;
	char err[200];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse(cases[i].params, cases[i].allowed, &p, err);
		char name[160];

		snprintf(name, sizeof(name), "error: %s", cases[i].params);
		checkf(name, rc == -1 && strcmp(err, cases[i].err) == 0, "rc %d, err '%s', want '%s'",
		      rc, err, cases[i].err);
	}
}

static void
test_match(void)
{
	struct ft_ctl_params p;
	uint8_t addr[2][16];
	const uint16_t port[2] = { 1042, 25 };
	const uint8_t state[2] = { FT_TCP_CLOSED, FT_TCP_ESTABLISHED };
	char err[200];

	addr4(addr[0], "192.168.1.10");
	addr4(addr[1], "192.168.1.20");
#define MATCH(params, allowed, want) do {                                                   \
		bool got_ = parse(params, allowed, &p, err) == 0 &&                           \
			    ft_control_filter_match(&p.filter, 4, (const uint8_t (*)[16])addr, port, \
						    state);                                   \
		checkf("match: " params, got_ == (want), "got %d want %d (%s)", got_, want, err); \
	} while (0)
	MATCH("", FLOWS, true);
	MATCH("port=25", FLOWS, true);
	MATCH("port=1042", FLOWS, true);
	MATCH("port=80", FLOWS, false);
	MATCH("addr=192.168.1.20", FLOWS, true);
	MATCH("addr=192.168.1.30", FLOWS, false);
	MATCH("addr=::1", FLOWS, false);
	MATCH("state=ESTABLISHED", FLOWS, true);
	MATCH("state=CLOSED", FLOWS, true);
	MATCH("state=LISTEN", FLOWS, false);
	MATCH("port=25,state=LISTEN", FLOWS, false);
	MATCH("192.168.1.10:1042-192.168.1.20:25", FLOW, true);
	MATCH("192.168.1.20:25-192.168.1.10:1042", FLOW, true);
	MATCH("192.168.1.20:1042-192.168.1.10:25", FLOW, false);
	MATCH("192.168.1.10:1042-192.168.1.20:26", FLOW, false);
#undef MATCH
	parse("state=CLOSED", FLOWS, &p, err);
	checkf("match: a state filter never matches without states (ladder lines)",
	       !ft_control_filter_match(&p.filter, 4, (const uint8_t (*)[16])addr, port, NULL), "matched");
}

/* The connection's packet view hashes as the decoder hashes its segments, in
 * either direction, so the requester asks the worker that owns it. */
static void
test_conn_pkt(void)
{
	struct ft_ctl_params p, q;
	struct ft_pkt a, b;
	char err[200];
	uint32_t h;

	parse("192.168.1.10:1042-192.168.1.20:25,vlan=7", FLOW, &p, err);
	parse("192.168.1.20:25-192.168.1.10:1042,vlan=7", FLOW, &q, err);
	ft_control_conn_pkt(&p.filter, &a);
	ft_control_conn_pkt(&q.filter, &b);
	h = ft_decode_sym_hash(a.src, 1042, a.dst, 25, 6, 7u << 16);
	checkf("conn packet: the decoder's symmetric hash, both orders",
	       a.hash == h && b.hash == h && a.l4_proto == 6 && a.vlan[0] == 7 && a.n_vlan == 1 &&
	      a.ip_ver == 4 && a.sport == 1042 && a.dport == 25, "%#x %#x want %#x",
	      a.hash, b.hash, h);
}

int
main(void)
{
	test_accepted();
	test_errors();
	test_match();
	test_conn_pkt();
	return ft_unit_summary();
}
