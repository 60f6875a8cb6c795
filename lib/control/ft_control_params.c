/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parameters of the /flowtap/ commands that take some, and the connection
 * filter they describe. DPDK telemetry passes everything after the first
 * comma of a command as one string: "port=25,state=ESTABLISHED,limit=20".
 * Every mistake gets a one-line reason naming the item, so a client never
 * mistakes a typo for an empty answer.
 */

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <rte_common.h>

#include "ft_control_priv.h"
#include "ft_decode.h"

/* The longest item worth reading: a bracketed IPv6 connection spec. */
#define ITEM_MAX 128

static const struct {
	unsigned int bit;
	const char *key;        /* key=, or the bare word */
	const char *syntax;     /* for the list of what a command takes */
} param_keys[] = {
	{ FT_CTL_P_ADDR, "addr", "addr=ADDR" },
	{ FT_CTL_P_PORT, "port", "port=N" },
	{ FT_CTL_P_STATE, "state", "state=NAME" },
	{ FT_CTL_P_LIMIT, "limit", "limit=N" },
	{ FT_CTL_P_FROM, "from", "from=CURSOR" },
	{ FT_CTL_P_VLAN, "vlan", "vlan=V[.V]" },
	{ FT_CTL_P_CONN, NULL, "ADDR:PORT-ADDR:PORT" },
	{ FT_CTL_P_OFF, "off", "off" },
};

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* "takes addr=ADDR, port=N" or "takes no parameters". */
static void
format_allowed(unsigned int allowed, char *buf, size_t len)
{
	size_t used = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < RTE_DIM(param_keys) && used < len; i++)
		if (allowed & param_keys[i].bit)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "takes ",
						 param_keys[i].syntax);
	if (used == 0)
		snprintf(buf, len, "takes no parameters");
}

/* A decimal number of 1 to 10 digits, at most @p max. */
static bool
parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 10)
		return false;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* An IPv4 or IPv6 address (IPv6 optionally in brackets); returns its IP
 * version, 0 when it is neither. */
static unsigned int
parse_addr(const char *s, size_t len, uint8_t out[16])
{
	char buf[INET6_ADDRSTRLEN + 2];

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(buf))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(out, 0, 16);
	if (inet_pton(AF_INET, buf, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, buf, out) == 1)
		return 6;
	return 0;
}

/* ADDR:PORT, IPv6 as [ADDR]:PORT. Returns the IP version, 0 on error. */
static unsigned int
parse_endpoint(const char *s, size_t len, uint8_t addr[16], uint16_t *port, char *err,
	       size_t errlen)
{
	const char *colon = NULL;
	unsigned int ver;
	uint64_t p;
	size_t i, alen;

	for (i = len; i > 0; i--)
		if (s[i - 1] == ':') {
			colon = s + i - 1;
			break;
		}
	if (colon == NULL) {
		fail(err, errlen, "'%.*s' has no :PORT", (int)len, s);
		return 0;
	}
	alen = (size_t)(colon - s);
	if (s[0] != '[' && memchr(s, ':', alen) != NULL) {
		fail(err, errlen, "'%.*s': an IPv6 address goes in brackets: [2001:db8::1]:80",
		     (int)len, s);
		return 0;
	}
	ver = parse_addr(s, alen, addr);
	if (ver == 0) {
		fail(err, errlen, "'%.*s' is not an IPv4 or IPv6 address", (int)alen, s);
		return 0;
	}
	if (!parse_uint(colon + 1, len - alen - 1, UINT16_MAX, &p)) {
		fail(err, errlen, "'%.*s' is not a port number (0-65535)",
		     (int)(len - alen - 1), colon + 1);
		return 0;
	}
	*port = (uint16_t)p;
	return ver;
}

/* ADDR:PORT-ADDR:PORT (no '-' can occur inside an address or a port). */
static int
parse_conn(const char *s, size_t len, struct ft_ctl_filter *f, char *err, size_t errlen)
{
	const char *dash = memchr(s, '-', len);
	unsigned int v0, v1;
	char why[160];

	if (dash == NULL || memchr(dash + 1, '-', len - (size_t)(dash + 1 - s)) != NULL)
		return fail(err, errlen, "'%.*s' is not a connection ADDR:PORT-ADDR:PORT",
			    (int)len, s);
	v0 = parse_endpoint(s, (size_t)(dash - s), f->conn_addr[0], &f->conn_port[0], why,
			    sizeof(why));
	if (v0 == 0)
		return fail(err, errlen, "connection: %s", why);
	v1 = parse_endpoint(dash + 1, len - (size_t)(dash + 1 - s), f->conn_addr[1],
			    &f->conn_port[1], why, sizeof(why));
	if (v1 == 0)
		return fail(err, errlen, "connection: %s", why);
	if (v0 != v1)
		return fail(err, errlen, "connection '%.*s' mixes IPv4 and IPv6", (int)len, s);
	f->ip_ver = (uint8_t)v0;
	f->has |= FT_CTL_F_CONN;
	return 0;
}

static int
parse_state(const char *s, size_t len, uint8_t *out)
{
	unsigned int i;

	for (i = 0; i < FT_TCP_STATE_MAX; i++) {
		const char *name = ft_tcp_state_name(i);

		if (strlen(name) == len && strncasecmp(name, s, len) == 0) {
			*out = (uint8_t)i;
			return 0;
		}
	}
	return -1;
}

/* One key=value item. */
static int
parse_kv(const char *item, size_t len, unsigned int allowed, struct ft_ctl_params *out,
	 char *err, size_t errlen)
{
	const char *eq = memchr(item, '=', len);
	const char *v = eq + 1;
	const size_t klen = (size_t)(eq - item), vlen = len - klen - 1;
	char takes[160];
	unsigned int i, bit = 0;
	uint64_t n, n2;

	for (i = 0; i < RTE_DIM(param_keys); i++)
		if (param_keys[i].key != NULL && strlen(param_keys[i].key) == klen &&
		    strncmp(param_keys[i].key, item, klen) == 0 && param_keys[i].bit != FT_CTL_P_OFF)
			bit = param_keys[i].bit;
	if (bit == 0 || !(allowed & bit)) {
		format_allowed(allowed, takes, sizeof(takes));
		return fail(err, errlen, "unknown parameter '%.*s' (this command %s)", (int)klen, item,
			    takes);
	}
	if (out->given & bit)
		return fail(err, errlen, "parameter '%.*s' given twice", (int)klen, item);
	out->given |= bit;
	switch (bit) {
	case FT_CTL_P_ADDR: {
		unsigned int ver = parse_addr(v, vlen, out->filter.addr);

		if (ver == 0)
			return fail(err, errlen, "addr: '%.*s' is not an IPv4 or IPv6 address", (int)vlen, v);
		if ((out->filter.has & FT_CTL_F_CONN) && out->filter.ip_ver != ver)
			return fail(err, errlen, "addr: '%.*s' is not of the connection's IP version",
				    (int)vlen, v);
		out->filter.ip_ver = (uint8_t)ver;
		out->filter.has |= FT_CTL_F_ADDR;
		break;
	}
	case FT_CTL_P_PORT:
		if (!parse_uint(v, vlen, UINT16_MAX, &n))
			return fail(err, errlen, "port: '%.*s' is not a port number (0-65535)", (int)vlen, v);
		out->filter.port = (uint16_t)n;
		out->filter.has |= FT_CTL_F_PORT;
		break;
	case FT_CTL_P_STATE:
		if (parse_state(v, vlen, &out->filter.state) < 0)
			return fail(err, errlen, "state: '%.*s' is not an RFC 793 state "
				    "(CLOSED, LISTEN, SYN_SENT, ... TIME_WAIT)", (int)vlen, v);
		out->filter.has |= FT_CTL_F_STATE;
		break;
	case FT_CTL_P_LIMIT:
		if (!parse_uint(v, vlen, FT_CTL_LIMIT_MAX, &n) || n == 0)
			return fail(err, errlen, "limit: '%.*s' is not a number from 1 to %d", (int)vlen, v,
				    FT_CTL_LIMIT_MAX);
		out->limit = (unsigned int)n;
		break;
	case FT_CTL_P_FROM:
		if (vlen == 0 || vlen >= sizeof(out->from) || strspn(v, "0123456789.") < vlen)
			return fail(err, errlen, "from: '%.*s' is not a cursor (give the \"next\" "
				    "of the previous reply)", (int)vlen, v);
		memcpy(out->from, v, vlen);
		out->from[vlen] = '\0';
		break;
	case FT_CTL_P_VLAN: {
		const char *dot = memchr(v, '.', vlen);
		size_t l1 = dot != NULL ? (size_t)(dot - v) : vlen;

		n2 = 0;
		if (!parse_uint(v, l1, 4095, &n) ||
		    (dot != NULL && !parse_uint(dot + 1, vlen - l1 - 1, 4095, &n2)))
			return fail(err, errlen, "vlan: '%.*s' is not a VLAN id (0-4095) or OUTER.INNER",
				    (int)vlen, v);
		out->filter.vlan[0] = (uint16_t)n;
		out->filter.vlan[1] = (uint16_t)n2;
		out->filter.has |= FT_CTL_F_VLAN;
		break;
	}
	default:
		break;
	}
	return 0;
}

int
ft_control_parse_params(const char *params, unsigned int allowed, struct ft_ctl_params *out,
			char *err, size_t errlen)
{
	const char *s = params != NULL ? params : "";
	char takes[160];

	memset(out, 0, sizeof(*out));
	out->limit = FT_CTL_LIMIT_DEFAULT;
	err[0] = '\0';
	/* A trailing newline from a client that sent a line is not a mistake. */
	while (*s != '\0') {
		size_t len = strcspn(s, ",\n\r");
		const char *next = s + len;

		while (len > 0 && isspace((unsigned char)s[len - 1]))
			len--;
		while (len > 0 && isspace((unsigned char)*s)) {
			s++;
			len--;
		}
		if (len == 0) {
			if (*next == '\0' || *next == '\n' || *next == '\r')
				break;
			return fail(err, errlen, "empty parameter (two commas in a row?)");
		}
		if (len >= ITEM_MAX)
			return fail(err, errlen, "parameter '%.20s...' is too long", s);
		if (memchr(s, '=', len) != NULL) {
			if (parse_kv(s, len, allowed, out, err, errlen) < 0)
				return -1;
		} else if ((allowed & FT_CTL_P_OFF) && len == 3 && strncmp(s, "off", 3) == 0) {
			if (out->given & FT_CTL_P_OFF)
				return fail(err, errlen, "'off' given twice");
			out->given |= FT_CTL_P_OFF;
		} else if (allowed & FT_CTL_P_CONN) {
			if (out->given & FT_CTL_P_CONN)
				return fail(err, errlen, "give one connection ADDR:PORT-ADDR:PORT, not two");
			if ((out->filter.has & FT_CTL_F_ADDR) != 0) {
				uint8_t ver = out->filter.ip_ver;

				if (parse_conn(s, len, &out->filter, err, errlen) < 0)
					return -1;
				if (ver != out->filter.ip_ver)
					return fail(err, errlen, "addr and the connection are of different IP versions");
			} else if (parse_conn(s, len, &out->filter, err, errlen) < 0) {
				return -1;
			}
			out->given |= FT_CTL_P_CONN;
		} else {
			format_allowed(allowed, takes, sizeof(takes));
			return fail(err, errlen, "'%.*s' is not a parameter (this command %s)", (int)len, s,
				    takes);
		}
		if (*next == '\0')
			break;
		s = next + 1;
	}
	return 0;
}

bool
ft_control_filter_match(const struct ft_ctl_filter *flt, unsigned int ip_ver,
			const uint8_t addr[2][16], const uint16_t port[2], const uint8_t *state)
{
	if ((flt->has & (FT_CTL_F_ADDR | FT_CTL_F_CONN)) && ip_ver != flt->ip_ver)
		return false;
	if ((flt->has & FT_CTL_F_ADDR) && memcmp(addr[0], flt->addr, 16) != 0 &&
	    memcmp(addr[1], flt->addr, 16) != 0)
		return false;
	if ((flt->has & FT_CTL_F_PORT) && port[0] != flt->port && port[1] != flt->port)
		return false;
	if ((flt->has & FT_CTL_F_STATE) &&
	    (state == NULL || (state[0] != flt->state && state[1] != flt->state)))
		return false;
	if (flt->has & FT_CTL_F_CONN) {
		unsigned int d;

		/* d = 0: the spec names the originator first; d = 1: the responder. */
		for (d = 0; d < 2; d++)
			if (memcmp(addr[d], flt->conn_addr[0], 16) == 0 && port[d] == flt->conn_port[0] &&
			    memcmp(addr[d ^ 1], flt->conn_addr[1], 16) == 0 &&
			    port[d ^ 1] == flt->conn_port[1])
				break;
		if (d == 2)
			return false;
	}
	return true;
}

void
ft_control_conn_pkt(const struct ft_ctl_filter *flt, struct ft_pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->cls = FT_CLS_TCP;
	p->ip_ver = flt->ip_ver;
	p->l4_proto = IPPROTO_TCP;
	memcpy(p->src, flt->conn_addr[0], 16);
	memcpy(p->dst, flt->conn_addr[1], 16);
	p->sport = flt->conn_port[0];
	p->dport = flt->conn_port[1];
	if (flt->has & FT_CTL_F_VLAN) {
		p->vlan[0] = flt->vlan[0];
		p->vlan[1] = flt->vlan[1];
		p->n_vlan = (uint8_t)((flt->vlan[0] != 0) + (flt->vlan[1] != 0));
	}
	/* As ft_decode() hashes a TCP segment. */
	p->hash = ft_decode_sym_hash(p->src, p->sport, p->dst, p->dport, p->l4_proto,
				     ((uint32_t)p->vlan[0] << 16) | p->vlan[1]);
}
