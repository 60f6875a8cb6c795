/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* getline(), strcasecmp() under -std=c11 */
#endif

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <rte_cfgfile.h>

#include "ft_config.h"
#include "ft_defrag.h"

/* The one origin name for --set, so every caller's errors read alike. */
#define FT_ORIGIN_CMDLINE "command line"

/* rte_cfgfile reads lines with fgets() into a buffer of this size and fails
 * on any line that does not fit (terminating '\n' included). */
#define FT_CFG_LINE_MAX (CFG_NAME_LEN + CFG_VALUE_LEN + 4 - 2)

/* Highest port id accepted in [ports] pairs: far above any real port count,
 * low enough to keep a bitmap on the stack. */
#define FT_PAIRS_PORT_MAX 1023

/* How much of a bad value an error message echoes: keeps the message one
 * readable line. */
#define FT_ECHO_MAX 64

enum ft_key_type {
	FT_KEY_UINT,   /* uint32_t, decimal, [min, max] */
	FT_KEY_POW2,   /* uint32_t, decimal, [min, max], power of two */
	FT_KEY_OCTAL,  /* uint32_t, octal (file modes), [min, max] */
	FT_KEY_BOOL,   /* bool */
	FT_KEY_NAMED,  /* an enum, by the names in ft_config_key.names */
	FT_KEY_STR,    /* char[FT_CONFIG_STR_LEN] */
	FT_KEY_PAIRS,  /* char[FT_CONFIG_STR_LEN], "auto" or "A-B,C-D" */
	FT_KEY_POLICY, /* uint32_t enum ft_defrag_policy, by name */
};

struct ft_config_key {
	const char *section;
	const char *key;
	enum ft_key_type type;
	size_t offset;
	uint32_t min;
	uint32_t max;
	const char *def;
	const char *doc;
};

static const char * const ft_mode_names[] = {
	[FT_MODE_PASSIVE] = "passive",
	[FT_MODE_INLINE] = "inline",
	NULL
};

static const char * const ft_checksums_names[] = {
	[FT_CSUMS_AUTO] = "auto",
	[FT_CSUMS_STRICT] = "strict",
	[FT_CSUMS_OFF] = "off",
	NULL
};

/* FT_KEY_NAMED stores the name's index as an unsigned int. */
_Static_assert(sizeof(enum ft_mode) == sizeof(unsigned int) &&
	       sizeof(enum ft_checksums) == sizeof(unsigned int), "an enum is not an int");

#define FT_OFF(field) offsetof(struct ft_config, field)

/* Everything about a key lives here: parsing, range checks, defaults,
 * ft_config_foreach() and the tests all walk this table, and
 * config/flowtap.conf must list the same keys with the same defaults. */
static const struct ft_config_key ft_config_keys[] = {
	{ "general", "mode", FT_KEY_NAMED, FT_OFF(mode), 0, 0, "passive",
	  "passive: receive, track, free; inline: forward to the paired port" },
	{ "general", "status_interval", FT_KEY_UINT, FT_OFF(status_interval), 0, 3600, "1",
	  "seconds between status lines on stderr, 0 = off" },
	{ "general", "checksums", FT_KEY_NAMED, FT_OFF(checksums), 0, 0, "auto",
	  "auto: verify IPv4 and TCP checksums, take offloaded ones; strict: verify; off" },

	{ "ports", "rx_desc", FT_KEY_UINT, FT_OFF(rx_desc), 64, 16384, "1024",
	  "descriptors per rx queue" },
	{ "ports", "tx_desc", FT_KEY_UINT, FT_OFF(tx_desc), 64, 16384, "1024",
	  "descriptors per tx queue" },
	{ "ports", "mbufs", FT_KEY_UINT, FT_OFF(mbufs), 1023, 16777215, "65535",
	  "mbufs in the pool of each NUMA node" },
	{ "ports", "mbuf_cache", FT_KEY_UINT, FT_OFF(mbuf_cache), 0, 512, "256",
	  "per-lcore mempool cache, in mbufs" },
	/* 2176 is RTE_MBUF_DEFAULT_BUF_SIZE (2048 + headroom). */
	{ "ports", "mbuf_size", FT_KEY_UINT, FT_OFF(mbuf_size), 1024, 16384, "2176",
	  "data room of one mbuf, in bytes, headroom included" },
	{ "ports", "promiscuous", FT_KEY_BOOL, FT_OFF(promiscuous), 0, 0, "yes",
	  "put ports in promiscuous mode" },
	{ "ports", "rss", FT_KEY_BOOL, FT_OFF(rss), 0, 0, "yes",
	  "spread packets over rx queues by RSS" },
	{ "ports", "rx_queues", FT_KEY_UINT, FT_OFF(rx_queues), 0, 1024, "0",
	  "rx queues per port, 0 = one per worker (at most what the device has)" },
	{ "ports", "tx_queues", FT_KEY_UINT, FT_OFF(tx_queues), 0, 1024, "0",
	  "inline: tx queues per port, 0 = one per worker (at most what the device has)" },
	{ "ports", "tx_retry_us", FT_KEY_UINT, FT_OFF(tx_retry_us), 0, 100000, "64",
	  "inline: microseconds a full tx queue is retried before frames are dropped" },
	{ "ports", "pairs", FT_KEY_PAIRS, FT_OFF(pairs), 0, 0, "auto",
	  "inline port pairs: auto (0-1, 2-3, ...) or a list like 0-1,2-3" },

	{ "workers", "handoff_ring", FT_KEY_POW2, FT_OFF(handoff_ring), 64, 1048576, "4096",
	  "slots of each worker-to-worker ring, a power of two" },
	{ "workers", "burst", FT_KEY_UINT, FT_OFF(burst), 1, 64, "32",
	  "packets per rx burst" },

	{ "events", "ring", FT_KEY_POW2, FT_OFF(event_ring), 64, 1048576, "4096",
	  "slots of each worker's event ring, a power of two" },
	{ "events", "recent", FT_KEY_UINT, FT_OFF(recent_events), 0, 1048576, "1024",
	  "events kept for /flowtap/events, 0 = none" },
	{ "events", "every_occurrence", FT_KEY_BOOL, FT_OFF(every_occurrence), 0, 0, "no",
	  "one event per occurrence instead of one per flow per name" },

	{ "flows", "max", FT_KEY_UINT, FT_OFF(flows_max), 1024, 67108864, "1048576",
	  "flow entries per worker (offline: at most the capture's frame count)" },
	{ "flows", "timeout_embryonic", FT_KEY_UINT, FT_OFF(timeout_embryonic), 1, 86400, "30",
	  "seconds a connection may stay in its handshake" },
	{ "flows", "timeout_established", FT_KEY_UINT, FT_OFF(timeout_established), 1, 864000, "3600",
	  "seconds of silence before an established connection times out" },
	{ "flows", "timeout_closing", FT_KEY_UINT, FT_OFF(timeout_closing), 1, 86400, "120",
	  "seconds of silence in FIN_WAIT, CLOSE_WAIT, CLOSING or LAST_ACK" },
	{ "flows", "msl", FT_KEY_UINT, FT_OFF(msl), 1, 3600, "60",
	  "maximum segment lifetime in seconds: TIME_WAIT lasts 2 MSL" },
	{ "flows", "timeout_closed", FT_KEY_UINT, FT_OFF(timeout_closed), 1, 3600, "10",
	  "seconds a reset or fully closed connection is kept" },
	{ "flows", "timeout_udp", FT_KEY_UINT, FT_OFF(timeout_udp), 1, 86400, "60",
	  "seconds of silence before a UDP flow is forgotten" },
	{ "flows", "timeout_other", FT_KEY_UINT, FT_OFF(timeout_other), 1, 86400, "60",
	  "seconds of silence before an ICMP or other IP flow is forgotten" },
	{ "flows", "close_linger", FT_KEY_UINT, FT_OFF(close_linger), 0, 3600, "5",
	  "seconds after a close before its flow record is written" },
	{ "flows", "record_ring", FT_KEY_POW2, FT_OFF(record_ring), 64, 1048576, "4096",
	  "slots of each worker's flow-record ring, a power of two" },

	{ "tcp", "midstream", FT_KEY_BOOL, FT_OFF(midstream), 0, 0, "yes",
	  "track connections first seen after their handshake" },
	{ "tcp", "segment_cache", FT_KEY_POW2, FT_OFF(segment_cache), 1024, 16777216, "32768",
	  "recent segments remembered per worker to compare retransmissions" },

	{ "defrag", "max_datagrams", FT_KEY_UINT, FT_OFF(defrag_max_datagrams), 16, 16777216, "4096",
	  "datagrams in reassembly per worker (oldest evicted beyond)" },
	{ "defrag", "max_fragments", FT_KEY_UINT, FT_OFF(defrag_max_fragments), 1,
	  FT_DEFRAG_MAX_FRAGMENTS, "64", "fragments of one datagram (more: dropped, frag_too_many)" },
	{ "defrag", "max_held", FT_KEY_UINT, FT_OFF(defrag_max_held), 16, 16777216, "8192",
	  "fragments (mbufs) held per worker (oldest datagrams evicted beyond)" },
	{ "defrag", "max_size", FT_KEY_UINT, FT_OFF(defrag_max_size), 68, FT_DEFRAG_MAX_SIZE, "65535",
	  "largest reassembled datagram: IPv4 total / IPv6 payload length" },
	{ "defrag", "timeout", FT_KEY_UINT, FT_OFF(defrag_timeout), 1, 3600, "30",
	  "seconds from a datagram's first fragment to its expiry" },
	{ "defrag", "policy", FT_KEY_POLICY, FT_OFF(defrag_policy), 0, 0, "linux",
	  "overlapping bytes: first, last, bsd, linux or windows" },

	{ "detect", "max_hosts", FT_KEY_UINT, FT_OFF(detect_max_hosts), 64, 16777216, "65536",
	  "servers and destinations the cross-flow detectors follow" },
	{ "detect", "isn_samples", FT_KEY_UINT, FT_OFF(isn_samples), 6, 64, "8",
	  "connections per server judged by isn_predictable" },
	{ "detect", "syn_flood_rate", FT_KEY_UINT, FT_OFF(syn_flood_rate), 1, 100000000, "1000",
	  "half-open connections per second to one destination that make a syn_flood" },
	{ "detect", "observe_ring", FT_KEY_POW2, FT_OFF(observe_ring), 64, 1048576, "4096",
	  "slots of each worker's observation ring to the detectors" },
	{ "detect", "reorder", FT_KEY_UINT, FT_OFF(detect_reorder), 1024, 67108864, "1048576",
	  "offline, several workers: observations held to be judged in capture order" },

	{ "signatures", "rules", FT_KEY_STR, FT_OFF(sig_rules), 0, 0, "",
	  "payload signature rules file, empty for none (--signatures)" },
	{ "signatures", "streams", FT_KEY_UINT, FT_OFF(sig_streams), 16, 16777216, "65536",
	  "Hyperscan streams per worker (offline: at most the capture's frame count)" },
	{ "signatures", "ooo_bytes", FT_KEY_UINT, FT_OFF(sig_ooo_bytes), 0, 1048576, "16384",
	  "bytes held out of order per direction before a gap is given up" },
	{ "signatures", "ooo_chunks", FT_KEY_UINT, FT_OFF(sig_ooo_chunks), 16, 16777216, "4096",
	  "out-of-order chunks of 496 bytes per worker" },
	{ "signatures", "every_match", FT_KEY_BOOL, FT_OFF(sig_every_match), 0, 0, "no",
	  "report every match instead of once per flow per rule" },

	{ "output", "stats_json", FT_KEY_STR, FT_OFF(stats_json), 0, 0, "",
	  "final counters as JSON: path, - for stdout, empty for none" },
	{ "output", "events", FT_KEY_STR, FT_OFF(events), 0, 0, "",
	  "events as JSON lines: path, - for stdout, empty for none" },
	{ "output", "flow_log", FT_KEY_STR, FT_OFF(flow_log), 0, 0, "",
	  "flow records as JSON lines: path, - for stdout, empty for none" },

	{ "control", "telemetry", FT_KEY_BOOL, FT_OFF(telemetry), 0, 0, "yes",
	  "register the /flowtap/ telemetry commands" },
	{ "control", "socket_mode", FT_KEY_OCTAL, FT_OFF(socket_mode), 0, 0777, "0600",
	  "octal permissions of the telemetry socket" },
};

#define FT_NB_KEYS (sizeof(ft_config_keys) / sizeof(ft_config_keys[0]))

/* The names of each FT_KEY_NAMED key's values, by the key's field. */
static const struct {
	size_t offset;
	const char *const *names; /* NULL-terminated, indexed by value */
} ft_named_keys[] = {
	{ FT_OFF(mode), ft_mode_names },
	{ FT_OFF(checksums), ft_checksums_names },
};

static const char *const *
ft_key_names(const struct ft_config_key *k)
{
	size_t i;

	for (i = 0; i < sizeof(ft_named_keys) / sizeof(ft_named_keys[0]); i++)
		if (ft_named_keys[i].offset == k->offset)
			return ft_named_keys[i].names;
	return NULL; /* unreachable: every named key is listed (test_config walks them) */
}

/* The name of value @p v of a NULL-terminated names table. */
static const char *
ft_name_of(const char *const *names, unsigned int v)
{
	unsigned int i;

	for (i = 0; names[i] != NULL; i++)
		if (i == v)
			return names[i];
	return "unknown";
}

const char *
ft_mode_name(enum ft_mode m)
{
	return ft_name_of(ft_mode_names, (unsigned int)m);
}

const char *
ft_checksums_name(enum ft_checksums c)
{
	return ft_name_of(ft_checksums_names, (unsigned int)c);
}

/* Messages end up on one line of stderr: a control character from a value
 * given on the command line must not break that. */
static void
ft_err_sanitize(char *err)
{
	for (; *err != '\0'; err++)
		if (iscntrl((unsigned char)*err))
			*err = '?';
}

void
ft_config_errorf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	ft_err_sanitize(err);
}

/* "origin: [section] key: <what>" */
static void __attribute__((format(printf, 5, 6)))
ft_key_err(char *err, size_t errlen, const char *origin,
	   const struct ft_config_key *k, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL || errlen == 0)
		return;
	n = snprintf(err, errlen, "%s: [%s] %s: ", origin, k->section, k->key);
	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - n, fmt, ap);
		va_end(ap);
	}
	ft_err_sanitize(err);
}

/* Quote a value for an error message, shortened if long. */
static const char *
ft_echo(char *buf, size_t len, const char *value)
{
	if (strlen(value) > FT_ECHO_MAX)
		snprintf(buf, len, "'%.*s...'", FT_ECHO_MAX, value);
	else
		snprintf(buf, len, "'%s'", value);
	return buf;
}

/*
 * Digits only, in @p base (8 or 10): no sign, no spaces, no prefix, no
 * trailing junk. Values that overflow saturate above UINT32_MAX so that the
 * caller reports them as out of range rather than as not a number.
 */
static int
ft_parse_digits(const char *s, unsigned int base, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		unsigned int d;

		if (*s < '0' || *s > '9')
			return -1;
		d = (unsigned int)(*s - '0');
		if (d >= base)
			return -1;
		if (v <= UINT32_MAX)
			v = v * base + d;
	}
	*out = v;
	return 0;
}

static int
ft_parse_bool(const char *s, bool *out)
{
	static const char * const yes[] = { "yes", "true", "on", "1" };
	static const char * const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static const char *
ft_skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static int
ft_parse_port(const char **sp, unsigned int *port)
{
	const char *s = ft_skip_blanks(*sp);
	unsigned int v = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		v = v * 10 + (unsigned int)(*s - '0');
		if (v > FT_PAIRS_PORT_MAX)
			return -1;
	}
	*port = v;
	*sp = ft_skip_blanks(s);
	return 0;
}

/*
 * Check "auto" or "A-B,C-D" and write it in canonical form (no blanks, no
 * leading zeros) to @p out, so that consumers parse one spelling only.
 * @p why gets the reason on failure.
 */
static int
ft_parse_pairs(const char *s, char *out, size_t outlen, const char **why)
{
	uint8_t seen[(FT_PAIRS_PORT_MAX + 1) / 8] = { 0 };
	size_t used = 0;

	const char *t = ft_skip_blanks(s);

	if (strncasecmp(t, "auto", 4) == 0 && *ft_skip_blanks(t + 4) == '\0') {
		snprintf(out, outlen, "auto");
		return 0;
	}
	for (;;) {
		unsigned int a, b, i;
		unsigned int ports[2];
		int n;

		if (ft_parse_port(&s, &a) != 0 || *s != '-') {
			*why = "";
			return -1;
		}
		s++;
		if (ft_parse_port(&s, &b) != 0) {
			*why = "";
			return -1;
		}
		/* "A-A" is a hairpin: frames leave on the port they came in on
		 * (a one-port reflector, e.g. a single memif to a tester). */
		ports[0] = a;
		ports[1] = b;
		for (i = 0; i < (a == b ? 1u : 2u); i++) {
			if (seen[ports[i] / 8] & (1u << (ports[i] % 8))) {
				*why = " (a port in two pairs)";
				return -1;
			}
			seen[ports[i] / 8] |= (uint8_t)(1u << (ports[i] % 8));
		}
		n = snprintf(out + used, outlen - used, "%s%u-%u",
			     used == 0 ? "" : ",", a, b);
		/* The canonical form is never longer than the input, which
		 * fits; this only guards against a future caller. */
		if (n < 0 || (size_t)n >= outlen - used) {
			*why = "";
			return -1;
		}
		used += (size_t)n;
		if (*s == '\0')
			return 0;
		if (*s != ',') {
			*why = "";
			return -1;
		}
		s++;
	}
}

static const struct ft_config_key *
ft_key_find(const char *section, const char *key)
{
	size_t i;

	for (i = 0; i < FT_NB_KEYS; i++)
		if (strcmp(ft_config_keys[i].section, section) == 0 &&
		    strcmp(ft_config_keys[i].key, key) == 0)
			return &ft_config_keys[i];
	return NULL;
}

static bool
ft_section_known(const char *section)
{
	size_t i;

	for (i = 0; i < FT_NB_KEYS; i++)
		if (strcmp(ft_config_keys[i].section, section) == 0)
			return true;
	return false;
}

static int
ft_key_set(struct ft_config *c, const struct ft_config_key *k, const char *origin,
	   const char *value, char *err, size_t errlen)
{
	void *field = (char *)c + k->offset;
	char echo[FT_ECHO_MAX + 8];
	char pairs[FT_CONFIG_STR_LEN];
	const char *why;
	uint64_t v;
	bool b;

	switch (k->type) {
	case FT_KEY_UINT:
	case FT_KEY_POW2:
		if (ft_parse_digits(value, 10, &v) != 0) {
			ft_key_err(err, errlen, origin, k, "%s is not a number",
				   ft_echo(echo, sizeof(echo), value));
			return -1;
		}
		if (v < k->min || v > k->max) {
			ft_key_err(err, errlen, origin, k, "%s must be between %u and %u",
				   ft_echo(echo, sizeof(echo), value), k->min, k->max);
			return -1;
		}
		if (k->type == FT_KEY_POW2 && (v & (v - 1)) != 0) {
			ft_key_err(err, errlen, origin, k, "%s must be a power of two",
				   ft_echo(echo, sizeof(echo), value));
			return -1;
		}
		*(uint32_t *)field = (uint32_t)v;
		return 0;
	case FT_KEY_OCTAL:
		if (ft_parse_digits(value, 8, &v) != 0) {
			ft_key_err(err, errlen, origin, k,
				   "%s is not an octal mode like 0600",
				   ft_echo(echo, sizeof(echo), value));
			return -1;
		}
		if (v < k->min || v > k->max) {
			ft_key_err(err, errlen, origin, k,
				   "%s must be between %04o and %04o",
				   ft_echo(echo, sizeof(echo), value), k->min, k->max);
			return -1;
		}
		*(uint32_t *)field = (uint32_t)v;
		return 0;
	case FT_KEY_BOOL:
		if (ft_parse_bool(value, &b) != 0) {
			ft_key_err(err, errlen, origin, k, "%s must be yes or no",
				   ft_echo(echo, sizeof(echo), value));
			return -1;
		}
		*(bool *)field = b;
		return 0;
	case FT_KEY_NAMED: {
		const char *const *names = ft_key_names(k);
		unsigned int i;
		char list[128] = "";

		for (i = 0; names[i] != NULL; i++)
			if (strcasecmp(value, names[i]) == 0) {
				*(unsigned int *)field = i;
				return 0;
			}
		for (i = 0; names[i] != NULL; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 i == 0 ? "" : names[i + 1] == NULL ? " or " : ", ", names[i]);
		ft_key_err(err, errlen, origin, k, "%s must be %s",
			   ft_echo(echo, sizeof(echo), value), list);
		return -1;
	}
	case FT_KEY_POLICY:
		if (ft_defrag_policy_by_name(value) >= FT_DEFRAG_POLICY_MAX) {
			ft_key_err(err, errlen, origin, k,
				   "%s must be first, last, bsd, linux or windows",
				   ft_echo(echo, sizeof(echo), value));
			return -1;
		}
		*(uint32_t *)field = ft_defrag_policy_by_name(value);
		return 0;
	case FT_KEY_STR:
	case FT_KEY_PAIRS:
		if (strlen(value) > FT_CONFIG_STR_LEN - 1) {
			ft_key_err(err, errlen, origin, k,
				   "value longer than %d characters", FT_CONFIG_STR_LEN - 1);
			return -1;
		}
		if (k->type == FT_KEY_PAIRS) {
			if (ft_parse_pairs(value, pairs, sizeof(pairs), &why) != 0) {
				ft_key_err(err, errlen, origin, k,
					   "%s must be auto or a list like 0-1,2-3%s",
					   ft_echo(echo, sizeof(echo), value), why);
				return -1;
			}
			value = pairs;
		}
		/* Zero the tail too: two configs holding the same values
		 * compare equal byte for byte. */
		memset(field, 0, FT_CONFIG_STR_LEN);
		memcpy(field, value, strlen(value));
		return 0;
	}
	ft_key_err(err, errlen, origin, k, "internal error: bad key type");
	return -1;
}

static void
ft_key_format(const struct ft_config *c, const struct ft_config_key *k,
	      char *buf, size_t len)
{
	const void *field = (const char *)c + k->offset;

	switch (k->type) {
	case FT_KEY_UINT:
	case FT_KEY_POW2:
		snprintf(buf, len, "%u", *(const uint32_t *)field);
		return;
	case FT_KEY_OCTAL:
		snprintf(buf, len, "%04o", *(const uint32_t *)field);
		return;
	case FT_KEY_BOOL:
		snprintf(buf, len, "%s", *(const bool *)field ? "yes" : "no");
		return;
	case FT_KEY_NAMED:
		snprintf(buf, len, "%s", ft_name_of(ft_key_names(k), *(const unsigned int *)field));
		return;
	case FT_KEY_POLICY:
		snprintf(buf, len, "%s", ft_defrag_policy_name(*(const uint32_t *)field));
		return;
	case FT_KEY_STR:
	case FT_KEY_PAIRS:
		snprintf(buf, len, "%.*s", FT_CONFIG_STR_LEN - 1, (const char *)field);
		return;
	}
	snprintf(buf, len, "?");
}

void
ft_config_defaults(struct ft_config *c)
{
	char err[256];
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < FT_NB_KEYS; i++) {
		const struct ft_config_key *k = &ft_config_keys[i];

		/* Defaults go through the parser so that they cannot leave the
		 * documented range; a failure is a bug in the table above. */
		if (ft_key_set(c, k, "built-in default", k->def, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			abort();
		}
	}
}

int
ft_config_set(struct ft_config *c, const char *origin, const char *section,
	      const char *key, const char *value, char *err, size_t errlen)
{
	const struct ft_config_key *k;

	if (origin == NULL)
		origin = FT_ORIGIN_CMDLINE;
	if (value == NULL)
		value = "";
	if (section == NULL || !ft_section_known(section)) {
		ft_config_errorf(err, errlen, "%s: unknown section [%s]", origin,
		       section == NULL ? "" : section);
		return -1;
	}
	k = key == NULL ? NULL : ft_key_find(section, key);
	if (k == NULL) {
		ft_config_errorf(err, errlen, "%s: [%s] unknown key '%s'", origin, section,
		       key == NULL ? "" : key);
		return -1;
	}
	return ft_key_set(c, k, origin, value, err, errlen);
}

int
ft_config_set_dotted(struct ft_config *c, const char *assignment, char *err, size_t errlen)
{
	char section[CFG_NAME_LEN];
	char key[CFG_NAME_LEN];
	const char *eq, *dot;
	size_t slen, klen;

	if (assignment == NULL)
		assignment = "";
	eq = strchr(assignment, '=');
	/* The '.' must be in the name: values (paths) may hold dots too. */
	dot = eq == NULL ? NULL : memchr(assignment, '.', (size_t)(eq - assignment));
	if (eq == NULL || dot == NULL || dot == assignment || dot + 1 == eq) {
		ft_config_errorf(err, errlen, "%s: --set expects section.key=value, got '%s'",
		       FT_ORIGIN_CMDLINE, assignment);
		return -1;
	}
	slen = (size_t)(dot - assignment);
	klen = (size_t)(eq - dot - 1);
	/* No known name comes near CFG_NAME_LEN: a longer one is unknown. */
	if (slen >= sizeof(section)) {
		ft_config_errorf(err, errlen, "%s: unknown section [%.*s]", FT_ORIGIN_CMDLINE,
		       (int)slen, assignment);
		return -1;
	}
	memcpy(section, assignment, slen);
	section[slen] = '\0';
	if (klen >= sizeof(key)) {
		if (!ft_section_known(section))
			ft_config_errorf(err, errlen, "%s: unknown section [%s]", FT_ORIGIN_CMDLINE,
			       section);
		else
			ft_config_errorf(err, errlen, "%s: [%s] unknown key '%.*s'", FT_ORIGIN_CMDLINE,
			       section, (int)klen, dot + 1);
		return -1;
	}
	memcpy(key, dot + 1, klen);
	key[klen] = '\0';
	return ft_config_set(c, FT_ORIGIN_CMDLINE, section, key, eq + 1, err, errlen);
}

static char *
ft_trim(char *s, char **end)
{
	char *e = *end;

	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	*e = '\0';
	*end = e;
	return s;
}

/*
 * rte_cfgfile silently skips a line without '=' (a key whose '=' was
 * forgotten), silently truncates values to CFG_VALUE_LEN - 1 (a truncated
 * path or number could still be accepted), and otherwise fails with no
 * reason the caller can see. Read the file once with the same rules to
 * report those with a line number, before rte_cfgfile parses it.
 */
static int
ft_config_scan(FILE *f, const char *path, char *err, size_t errlen)
{
	char section[CFG_NAME_LEN] = "";
	bool in_section = false;
	const char *problem;
	unsigned int lineno = 0;
	size_t cap = 0;
	char *line = NULL;
	ssize_t n;
	int ret = 0;

	while (ret == 0 && (n = getline(&line, &cap, f)) != -1) {
		size_t content = (size_t)n;
		char *s, *e, *cut, *eq;

		lineno++;
		if (content > 0 && line[content - 1] == '\n')
			content--;
		problem = NULL;

		e = line + strnlen(line, (size_t)n);
		/* Same comment rule as rte_cfgfile: the first ';' starts a
		 * comment unless escaped as "\;". */
		cut = memchr(line, CFG_DEFAULT_COMMENT_CHARACTER, (size_t)(e - line));
		if (cut != NULL && (cut == line || cut[-1] != '\\'))
			e = cut;
		s = ft_trim(line, &e);

		if (*s == '[') {
			char *close = memchr(s, ']', (size_t)(e - s));

			if (close == NULL) {
				problem = "no closing ']'";
			} else {
				char *after = close + 1;
				char *name;

				*close = '\0';
				name = ft_trim(s + 1, &close);
				if (*ft_trim(after, &e) != '\0')
					problem = "text after ']'";
				snprintf(section, sizeof(section), "%s", name);
				in_section = true;
			}
		} else if (*s != '\0') {
			eq = memchr(s, '=', (size_t)(e - s));
			if (eq == NULL) {
				problem = "no '=' (expected key = value)";
			} else if (!in_section) {
				problem = "key = value before any [section]";
			} else {
				char *kend = eq;
				char *vend = e;
				char *key = ft_trim(s, &kend);
				char *val = ft_trim(eq + 1, &vend);
				size_t vlen = (size_t)(vend - val);
				char *p;

				for (p = val; (p = strstr(p, "\\;")) != NULL; p += 2)
					vlen--;
				if (vlen > FT_CONFIG_STR_LEN - 1) {
					ft_config_errorf(err, errlen,
					       "%s: [%s] %s: value longer than %d characters",
					       path, section, key, FT_CONFIG_STR_LEN - 1);
					ret = -1;
					break;
				}
			}
		}
		if (problem == NULL && content > FT_CFG_LINE_MAX) {
			ft_config_errorf(err, errlen,
			       "%s: syntax error (not an INI file) at line %u: longer than %d characters",
			       path, lineno, FT_CFG_LINE_MAX);
			ret = -1;
		} else if (problem != NULL) {
			ft_config_errorf(err, errlen,
			       "%s: syntax error (not an INI file) at line %u: %s",
			       path, lineno, problem);
			ret = -1;
		}
	}
	if (ret == 0 && ferror(f)) {
		/* e.g. EISDIR: a directory opens but does not read. */
		ft_config_errorf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		ret = -1;
	}
	free(line);
	return ret;
}

/* Apply every entry of a parsed file to @p c. */
static int
ft_config_apply(struct ft_config *c, struct rte_cfgfile *cfg, const char *path,
		char *err, size_t errlen)
{
	struct rte_cfgfile_entry *entries = NULL;
	int nb_sections, i, j;
	int ret = 0;

	nb_sections = rte_cfgfile_num_sections(cfg, NULL, 0);
	/* By index, not by name: a section written twice is read twice. */
	for (i = 0; i < nb_sections && ret == 0; i++) {
		char name[CFG_NAME_LEN];
		int nb;

		nb = rte_cfgfile_section_num_entries_by_index(cfg, name, i);
		if (!ft_section_known(name)) {
			ft_config_errorf(err, errlen, "%s: unknown section [%s]", path, name);
			ret = -1;
			break;
		}
		if (nb <= 0)
			continue;
		free(entries);
		entries = calloc((size_t)nb, sizeof(*entries));
		if (entries == NULL) {
			ft_config_errorf(err, errlen, "%s: out of memory", path);
			ret = -1;
			break;
		}
		nb = rte_cfgfile_section_entries_by_index(cfg, i, name, entries, nb);
		for (j = 0; j < nb && ret == 0; j++)
			ret = ft_config_set(c, path, name, entries[j].name,
					    entries[j].value, err, errlen);
	}
	free(entries);
	return ret;
}

int
ft_config_load(struct ft_config *c, const char *path, char *err, size_t errlen)
{
	struct ft_config tmp;
	struct rte_cfgfile *cfg;
	FILE *f;
	int ret;

	if (path == NULL || path[0] == '\0') {
		ft_config_errorf(err, errlen, "config: empty file name");
		return -1;
	}
	f = fopen(path, "r");
	if (f == NULL) {
		ft_config_errorf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	ret = ft_config_scan(f, path, err, errlen);
	fclose(f);
	if (ret != 0)
		return -1;

	/* Empty values are allowed: "events =" turns an output off. */
	cfg = rte_cfgfile_load(path, CFG_FLAG_EMPTY_VALUES);
	if (cfg == NULL) {
		/* The scan passed, so the file changed under us or memory
		 * ran out: say what rte_cfgfile says, without a line. */
		ft_config_errorf(err, errlen, "%s: syntax error (not an INI file)", path);
		return -1;
	}
	/* Work on a copy: a file that fails half-way changes nothing. */
	memcpy(&tmp, c, sizeof(tmp));
	ret = ft_config_apply(&tmp, cfg, path, err, errlen);
	rte_cfgfile_close(cfg);
	if (ret != 0)
		return -1;
	memcpy(c, &tmp, sizeof(*c));
	return 0;
}

void
ft_config_foreach(const struct ft_config *c, ft_config_visit_fn fn, void *arg)
{
	char dotted[2 * CFG_NAME_LEN];
	char value[FT_CONFIG_STR_LEN];
	size_t i;

	for (i = 0; i < FT_NB_KEYS; i++) {
		const struct ft_config_key *k = &ft_config_keys[i];

		snprintf(dotted, sizeof(dotted), "%s.%s", k->section, k->key);
		ft_key_format(c, k, value, sizeof(value));
		fn(dotted, value, arg);
	}
}
