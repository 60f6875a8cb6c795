/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_common.h>

#include "ft_events.h"
#include "ft_json.h"

/* The ring copies events by value in 4-byte units. */
_Static_assert(sizeof(struct ft_event) % 8 == 0, "ft_event must be a multiple of 8 bytes");

static const char *const event_names[FT_EV_MAX] = {
#define FT_EV_NAME(id, name, sev) [FT_EV_##id] = name,
	FT_EVENT_TYPES(FT_EV_NAME)
#undef FT_EV_NAME
};

static const uint8_t event_severity[FT_EV_MAX] = {
#define FT_EV_SEV(id, name, sev) [FT_EV_##id] = sev,
	FT_EVENT_TYPES(FT_EV_SEV)
#undef FT_EV_SEV
};

static const char *const severity_names[] = { "info", "warning", "alert" };

const char *
ft_event_name(unsigned int type)
{
	return type < FT_EV_MAX ? event_names[type] : "unknown";
}

enum ft_severity
ft_event_default_severity(unsigned int type)
{
	return type < FT_EV_MAX ? (enum ft_severity)event_severity[type] : FT_SEV_WARNING;
}

const char *
ft_severity_name(unsigned int sev)
{
	return sev < RTE_DIM(severity_names) ? severity_names[sev] : "unknown";
}

unsigned int
ft_event_by_name(const char *name)
{
	unsigned int i;

	for (i = 0; i < FT_EV_MAX; i++)
		if (strcmp(event_names[i], name) == 0)
			return i;
	return FT_EV_MAX;
}

char *
ft_addr_format(char *buf, unsigned int len, unsigned int ip_ver, const uint8_t *addr)
{
	if (inet_ntop(ip_ver == 4 ? AF_INET : AF_INET6, addr, buf, len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

const char *
ft_proto_name(unsigned int proto, char *buf, unsigned int len)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	default:
		snprintf(buf, len, "%u", proto);
		return buf;
	}
}

static void
write_state(FILE *f, const char *key, unsigned int state, ft_state_name_fn state_name)
{
	if (state_name != NULL) {
		fprintf(f, ",\"%s\":", key);
		ft_json_str(f, state_name(state));
	} else {
		fprintf(f, ",\"%s\":%u", key, state);
	}
}

int
ft_event_write_json(FILE *f, const struct ft_event *ev, ft_state_name_fn state_name)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], pbuf[8];
	static const char *const dirs[] = { "orig", "resp" };

	fputs("{\"ts\":", f);
	ft_json_ts(f, ev->ts_ns);
	fprintf(f, ",\"event\":\"%s\",\"severity\":\"%s\"", ft_event_name(ev->type),
		ft_severity_name(ev->severity));
	fprintf(f, ",\"src\":\"%s\",\"sport\":%u,\"dst\":\"%s\",\"dport\":%u,\"proto\":\"%s\"",
		ft_addr_format(src, sizeof(src), ev->ip_ver, ev->src), ev->sport,
		ft_addr_format(dst, sizeof(dst), ev->ip_ver, ev->dst), ev->dport,
		ft_proto_name(ev->proto, pbuf, sizeof(pbuf)));
	if (ev->dir < RTE_DIM(dirs))
		fprintf(f, ",\"dir\":\"%s\"", dirs[ev->dir]);
	if (ev->has & FT_EVF_SEQ)
		fprintf(f, ",\"seq\":%" PRIu32, ev->seq);
	if (ev->has & FT_EVF_ACK)
		fprintf(f, ",\"ack\":%" PRIu32, ev->ack);
	if (ev->has & FT_EVF_EXPECTED)
		fprintf(f, ",\"expected\":%" PRIu32, ev->expected);
	if (ev->has & FT_EVF_STATES) {
		write_state(f, "orig_state", ev->orig_state, state_name);
		write_state(f, "resp_state", ev->resp_state, state_name);
	}
	if (ev->has & FT_EVF_SIG)
		fprintf(f, ",\"sig_id\":%" PRIu32, ev->sig_id);
	if (ev->detail[0] != '\0') {
		char detail[FT_EVENT_DETAIL_LEN];

		/* A worker filled it; never trust it to be terminated. */
		memcpy(detail, ev->detail, sizeof(detail));
		detail[sizeof(detail) - 1] = '\0';
		/* A signature's message is its "msg" (issue 5); "detail" keeps
		 * the catalogue's common key for readers of every event. */
		if (ev->has & FT_EVF_SIG) {
			fputs(",\"msg\":", f);
			ft_json_str(f, detail);
		}
		fputs(",\"detail\":", f);
		ft_json_str(f, detail);
	}
	fputs("}\n", f);
	return ferror(f) ? -1 : 0;
}
