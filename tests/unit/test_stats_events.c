/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of lib/stats and lib/events: names, accounting identity, JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ft_events.h"
#include "ft_stats.h"
#include "ft_unit.h"

static char *
capture(void (*fn)(FILE *, const void *), const void *arg)
{
	static char buf[65536];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	fn(f, arg);
	fclose(f);
	return buf;
}

static void
write_stats(FILE *f, const void *arg)
{
	ft_stats_write_json_members(f, arg, 0);
}

static void
write_event(FILE *f, const void *arg)
{
	ft_event_write_json(f, arg, NULL);
}

int
main(void)
{
	static struct ft_stats a, b, sum;
	struct ft_stats *blocks[2] = { &a, &b };
	struct ft_event ev;
	unsigned int i, j, uniq = 1;
	char *out;

	/* catalogue: names unique, round-trip, severities valid */
	for (i = 0; i < FT_EV_MAX; i++)
		for (j = i + 1; j < FT_EV_MAX; j++)
			if (strcmp(ft_event_name(i), ft_event_name(j)) == 0)
				uniq = 0;
	check("event names are unique", uniq);
	check("event name round-trip", ft_event_by_name("rst_out_of_window") == FT_EV_RST_OUT_OF_WINDOW &&
					       ft_event_by_name("nope") == FT_EV_MAX);
	check("frag_tiny_first is an alert",
	      ft_event_default_severity(FT_EV_FRAG_TINY_FIRST) == FT_SEV_ALERT);
	check("counter path", strcmp(ft_ctr_path(FT_CTR_RX), "packets.rx") == 0 &&
				      strcmp(ft_ctr_path(FT_CTR_DEFRAG_REASSEMBLED), "defrag.reassembled") == 0);
	check("final classes", ft_ctr_is_final(FT_CTR_TCP) && ft_ctr_is_final(FT_CTR_HANDOFF_FULL) &&
				       !ft_ctr_is_final(FT_CTR_RX) && !ft_ctr_is_final(FT_CTR_TX));

	/* accounting across workers: rx on one, classes on the other */
	ft_stats_add(&a, FT_CTR_RX, 10);
	ft_stats_add(&a, FT_CTR_TCP, 4);
	ft_stats_malformed(&a, FT_MAL_TCP_BAD_DOFF);
	ft_stats_add(&b, FT_CTR_TCP, 3);
	ft_stats_add(&b, FT_CTR_NON_IP, 1);
	ft_stats_add(&b, FT_CTR_HANDOFF_FULL, 1);
	ft_stats_anomaly(&b, FT_EV_SYN_WITH_DATA);
	ft_stats_sum(&sum, blocks, 2);
	check("sum", sum.ctr[FT_CTR_RX] == 10 && sum.ctr[FT_CTR_TCP] == 7 &&
			     sum.anomaly[FT_EV_SYN_WITH_DATA] == 1);
	check("accounted 10", ft_stats_accounted(&sum) == 10);
	check("accounting ok", ft_stats_accounting_ok(&sum));
	ft_stats_add(&b, FT_CTR_UDP, 1);
	ft_stats_sum(&sum, blocks, 2);
	check("accounting mismatch detected", !ft_stats_accounting_ok(&sum));

	out = capture(write_stats, &sum);
	check("json packets.rx", strstr(out, "\"packets\": {\n  \"rx\": 10,") != NULL);
	check("json malformed total", strstr(out, "\"malformed\": {\n    \"total\": 1,") != NULL);
	check("json malformed reason", strstr(out, "\"tcp_bad_doff\": 1") != NULL);
	check("json anomalies", strstr(out, "\"syn_with_data\": 1") != NULL);
	check("json accounting_ok false", strstr(out, "\"accounting_ok\": false") != NULL);
	check("json internal counters hidden", strstr(out, "iterations") == NULL);

	memset(&ev, 0, sizeof(ev));
	ev.ts_ns = 1767225600123456789ull;
	ev.type = FT_EV_RST_OUT_OF_WINDOW;
	ev.severity = FT_SEV_ALERT;
	ev.dir = FT_DIR_RESP;
	ev.ip_ver = 4;
	ev.proto = 6;
	ev.src[0] = 192, ev.src[1] = 168, ev.src[2] = 1, ev.src[3] = 20;
	ev.dst[0] = 192, ev.dst[1] = 168, ev.dst[2] = 1, ev.dst[3] = 10;
	ev.sport = 25;
	ev.dport = 1042;
	ev.has = FT_EVF_SEQ | FT_EVF_EXPECTED;
	ev.seq = 4294967295u;
	ev.expected = 7;
	memset(ev.detail, 'x', sizeof(ev.detail)); /* unterminated on purpose */
	ev.detail[0] = '"';
	out = capture(write_event, &ev);
	check("event json head", strncmp(out, "{\"ts\":1767225600.123456,\"event\":\"rst_out_of_window\","
					      "\"severity\":\"alert\",\"src\":\"192.168.1.20\",\"sport\":25,"
					      "\"dst\":\"192.168.1.10\",\"dport\":1042,\"proto\":\"tcp\","
					      "\"dir\":\"resp\",\"seq\":4294967295,\"expected\":7,\"detail\":\"\\\"xxx",
					 176) == 0);
	check("event json no ack key", strstr(out, "\"ack\"") == NULL);
	check("event detail bounded", strlen(out) < 300 && out[strlen(out) - 1] == '\n');

	ev.ip_ver = 6;
	memset(ev.src, 0, 16);
	ev.src[15] = 1;
	out = capture(write_event, &ev);
	check("event json ipv6", strstr(out, "\"src\":\"::1\"") != NULL);

	return ft_unit_summary();
}
