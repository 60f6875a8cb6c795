/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Recent events and anomalies: /flowtap/events and /flowtap/anomalies.
 *
 * The control lcore keeps the events it drains from the workers' rings (and
 * the detectors' own) in a bounded ring of the most recent ones (events.recent)
 * and the last event of each name. The telemetry threads read them, so a
 * mutex guards both: the control lcore holds it for one copy per event,
 * never a worker.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "ft_control_priv.h"

/* Most events one reply can show (the 16 KiB reply holds fewer anyway). */
#define EVENTS_COPY_MAX 128

static struct {
	pthread_mutex_t lock;
	struct ft_event *ring;          /* [cap], event n at ring[n % cap] */
	uint32_t cap;
	uint64_t total;                 /* events recorded since start */
	uint64_t by_type[FT_EV_MAX];    /* events (not occurrences) recorded per name */
	struct ft_event last[FT_EV_MAX];
} ev_keep = { .lock = PTHREAD_MUTEX_INITIALIZER };

int
ft_ctl_events_init(uint32_t recent)
{
	int rc = 0;

	pthread_mutex_lock(&ev_keep.lock);
	if (ev_keep.ring == NULL && recent != 0) {
		ev_keep.ring = calloc(recent, sizeof(*ev_keep.ring));
		if (ev_keep.ring == NULL)
			rc = -ENOMEM;
		else
			ev_keep.cap = recent;
	}
	pthread_mutex_unlock(&ev_keep.lock);
	return rc;
}

void
ft_ctl_events_release(void)
{
	pthread_mutex_lock(&ev_keep.lock);
	free(ev_keep.ring);
	ev_keep.ring = NULL;
	ev_keep.cap = 0;
	pthread_mutex_unlock(&ev_keep.lock);
}

void
ft_control_event_record(const struct ft_event *ev)
{
	pthread_mutex_lock(&ev_keep.lock);
	if (ev_keep.ring != NULL)
		ev_keep.ring[ev_keep.total % ev_keep.cap] = *ev;
	ev_keep.total++;
	if (ev->type < FT_EV_MAX) {
		ev_keep.last[ev->type] = *ev;
		ev_keep.by_type[ev->type]++;
	}
	pthread_mutex_unlock(&ev_keep.lock);
}

/* The keys of the --events JSON lines, with the same meanings. */
static void
event_fill(struct ft_tel_tree *t, const struct ft_event *ev)
{
	static const char *const dirs[] = { "orig", "resp" };
	char a[INET6_ADDRSTRLEN], buf[FT_EVENT_DETAIL_LEN];

	ft_ctl_format_ts(buf, sizeof(buf), ev->ts_ns);
	ft_tel_put_str(t, "ts", buf);
	ft_tel_put_str(t, "event", ft_event_name(ev->type));
	ft_tel_put_str(t, "severity", ft_severity_name(ev->severity));
	ft_tel_put_str(t, "src", ft_addr_format(a, sizeof(a), ev->ip_ver, ev->src));
	ft_tel_put_u64(t, "sport", ev->sport);
	ft_tel_put_str(t, "dst", ft_addr_format(a, sizeof(a), ev->ip_ver, ev->dst));
	ft_tel_put_u64(t, "dport", ev->dport);
	ft_tel_put_str(t, "proto", ft_proto_name(ev->proto, buf, sizeof(buf)));
	if (ev->dir < RTE_DIM(dirs))
		ft_tel_put_str(t, "dir", dirs[ev->dir]);
	if (ev->has & FT_EVF_SEQ)
		ft_tel_put_u64(t, "seq", ev->seq);
	if (ev->has & FT_EVF_ACK)
		ft_tel_put_u64(t, "ack", ev->ack);
	if (ev->has & FT_EVF_EXPECTED)
		ft_tel_put_u64(t, "expected", ev->expected);
	if (ev->has & FT_EVF_STATES) {
		ft_tel_put_str(t, "orig_state", ft_tcp_state_name(ev->orig_state));
		ft_tel_put_str(t, "resp_state", ft_tcp_state_name(ev->resp_state));
	}
	if (ev->has & FT_EVF_SIG)
		ft_tel_put_u64(t, "sig_id", ev->sig_id);
	memcpy(buf, ev->detail, sizeof(buf));
	buf[sizeof(buf) - 1] = '\0';
	if (buf[0] != '\0' && (ev->has & FT_EVF_SIG))
		ft_tel_put_str(t, "msg", buf); /* as in the events file */
	if (buf[0] != '\0')
		ft_tel_put_str(t, "detail", buf);
}

static void
event_row_fill(struct ft_tel_tree *t, const void *arg, unsigned int i)
{
	event_fill(t, &((const struct ft_event *)arg)[i]);
}

/* /flowtap/events[,N]: N is a bare number. */
static int
parse_count(const char *params, uint64_t max, uint64_t *n)
{
	const char *s = params != NULL ? params : "";
	size_t len = strcspn(s, "\r\n");
	uint64_t v = 0;
	size_t i;

	if (len == 0)
		return 0;
	if (len > 10)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v == 0 || v > max)
		return -1;
	*n = v;
	return 0;
}

int
ft_cmd_events(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct ft_event *copy;
	struct ft_tel_tree t;
	uint64_t want, kept, total, cap;
	unsigned int n, fit, failed, i;

	RTE_SET_USED(cmd);
	pthread_mutex_lock(&ev_keep.lock);
	cap = ev_keep.cap;
	total = ev_keep.total;
	pthread_mutex_unlock(&ev_keep.lock);
	want = cap;
	if (parse_count(params, RTE_MAX(cap, (uint64_t)1), &want) < 0)
		return ft_tel_error(d, "'%s' is not a number of events from 1 to %" PRIu64
				    " (events.recent)", params, RTE_MAX(cap, (uint64_t)1));

	/* Copy the newest under the lock, render without it. */
	copy = malloc(EVENTS_COPY_MAX * sizeof(*copy));
	if (copy == NULL)
		return ft_tel_error(d, "out of memory");
	pthread_mutex_lock(&ev_keep.lock);
	total = ev_keep.total;
	kept = RTE_MIN(total, (uint64_t)ev_keep.cap);
	want = RTE_MIN(want, kept);
	n = (unsigned int)RTE_MIN(want, (uint64_t)EVENTS_COPY_MAX);
	for (i = 0; i < n; i++)
		copy[i] = ev_keep.ring[(total - n + i) % ev_keep.cap];
	pthread_mutex_unlock(&ev_keep.lock);

	/* The newest that fit, oldest first. */
	fit = ft_tel_rows_fit(event_row_fill, copy, 0, n, FT_TEL_ROWS_BUDGET, true);
	rte_tel_data_start_dict(d);
	ft_tel_tree_init(&t, d);
	ft_tel_put_u64(&t, "recent", cap);
	ft_tel_put_u64(&t, "total", total);
	ft_tel_put_u64(&t, "kept", kept);
	ft_tel_put_u64(&t, "returned", fit);
	ft_tel_put_u64(&t, "truncated", fit < want ? 1 : 0);
	failed = t.n_failed + ft_tel_rows_add(d, "events", event_row_fill, copy, n - fit, fit);
	free(copy);
	ft_tel_report(failed, "/flowtap/events");
	return 0;
}

int
ft_cmd_anomalies(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct ft_control_view *view = ft_ctl_get_view();
	struct ft_event *last;
	uint64_t by_type[FT_EV_MAX];
	struct rte_tel_data *last_d;
	struct ft_stats sum;
	struct ft_tel_tree t;
	uint64_t total = 0;
	size_t used;
	unsigned int i, failed;

	RTE_SET_USED(cmd);
	if (params != NULL && params[strspn(params, " \r\n")] != '\0')
		return ft_tel_error(d, "/flowtap/anomalies takes no parameters");
	if (view == NULL)
		return -ENODEV;
	last = malloc(FT_EV_MAX * sizeof(*last));
	if (last == NULL)
		return ft_tel_error(d, "out of memory");
	pthread_mutex_lock(&ev_keep.lock);
	memcpy(last, ev_keep.last, FT_EV_MAX * sizeof(*last));
	memcpy(by_type, ev_keep.by_type, sizeof(by_type));
	pthread_mutex_unlock(&ev_keep.lock);

	ft_ctl_sum_stats(view, &sum);
	rte_tel_data_start_dict(d);
	ft_tel_tree_init(&t, d);
	for (i = 0; i < FT_EV_MAX; i++) {
		char path[FT_TEL_PATH_LEN];

		snprintf(path, sizeof(path), "counts.%s", ft_event_name(i));
		ft_tel_put_u64(&t, path, sum.anomaly[i]);
		total += sum.anomaly[i];
	}
	ft_tel_put_u64(&t, "total", total);
	failed = t.n_failed;
	used = t.bytes;
	/* The last event of each name seen, while the reply holds them. */
	last_d = ft_tel_row(d, "last");
	for (i = 0; last_d != NULL && i < FT_EV_MAX; i++) {
		struct rte_tel_data *row;
		struct ft_tel_tree m;

		if (by_type[i] == 0)
			continue;
		ft_tel_tree_init(&m, NULL);
		event_fill(&m, &last[i]);
		used += m.bytes + strlen(ft_event_name(i)) + 6;
		if (used > FT_TEL_REPLY_MAX - 256)
			break;
		row = ft_tel_row(last_d, ft_event_name(i));
		if (row == NULL) {
			failed++;
			continue;
		}
		ft_tel_tree_init(&m, row);
		event_fill(&m, &last[i]);
		failed += m.n_failed;
	}
	free(last);
	ft_tel_report(failed, "/flowtap/anomalies");
	return 0;
}
