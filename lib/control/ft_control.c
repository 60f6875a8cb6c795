/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowtap control socket: the /flowtap/ commands on DPDK's telemetry socket.
 *
 * Dotted paths ("packets.rx") are nested dictionaries on the wire (see
 * ft_control_tel.c: DPDK 22.11 refuses '.' in key names).
 *
 * Booleans are u64 0/1 (telemetry has no boolean type; 0/1 keeps "if
 * value:" right in every client, where a "false" string would be true).
 *
 * The commands of this file run on DPDK's telemetry threads (one per
 * client, up to ten at once): they only read the view and the workers'
 * counters with relaxed loads, and build their reply on the stack and in
 * telemetry containers, so they need no lock and never stall a worker. The
 * commands the workers answer are in ft_control_query.c, the recent events
 * in ft_control_events.c, the reply building in ft_control_tel.c.
 */

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "ft_control_priv.h"
#include "ft_decode.h"
#include "ft_events.h"

/* The view the commands read; set once by ft_control_register(). */
static const struct ft_control_view *ft_ctl_view;

const struct ft_control_view *
ft_ctl_get_view(void)
{
	return __atomic_load_n(&ft_ctl_view, __ATOMIC_ACQUIRE);
}

static inline uint64_t
ft_ctr_load(const struct ft_stats *s, enum ft_ctr id)
{
	return __atomic_load_n(&s->ctr[id], __ATOMIC_RELAXED);
}

/* ---- /flowtap/stats ---- */

/* Every dictionary of the stats reply stays below telemetry's limit. */
static_assert(FT_CTR_MAX + 8 <= RTE_TEL_MAX_DICT_ENTRIES, "too many counters");
static_assert(FT_MAL_MAX + 1 <= RTE_TEL_MAX_DICT_ENTRIES, "too many malformed reasons");
static_assert(FT_EV_MAX <= RTE_TEL_MAX_DICT_ENTRIES, "too many anomaly names");

void
ft_ctl_sum_stats(const struct ft_control_view *view, struct ft_stats *sum)
{
	struct ft_stats *workers[RTE_MAX_LCORE];
	unsigned int n = 0;
	unsigned int i;

	for (i = 0; i < view->n_workers && n < RTE_DIM(workers); i++)
		if (view->workers[i].stats != NULL)
			workers[n++] = view->workers[i].stats;
	if (view->control_stats != NULL && n < RTE_DIM(workers))
		workers[n++] = view->control_stats;
	ft_stats_sum(sum, workers, n);
}

static void
ft_control_stats_fill(const struct ft_control_view *view, struct ft_tel_tree *t)
{
	struct ft_stats sum;
	char path[FT_TEL_PATH_LEN];
	unsigned int i;

	ft_ctl_sum_stats(view, &sum);

	for (i = 0; i < FT_CTR_MAX; i++)
		ft_tel_put_u64(t, ft_ctr_path(i), sum.ctr[i]);

	ft_tel_put_u64(t, "packets.malformed.total", ft_stats_malformed_total(&sum));
	for (i = 1; i < FT_MAL_MAX; i++) {
		snprintf(path, sizeof(path), "packets.malformed.%s", ft_malformed_name(i));
		ft_tel_put_u64(t, path, sum.malformed[i]);
	}
	for (i = 0; i < FT_EV_MAX; i++) {
		snprintf(path, sizeof(path), "anomalies.%s", ft_event_name(i));
		ft_tel_put_u64(t, path, sum.anomaly[i]);
	}

	/* accounted: right side of the identity, so a client can see how far
	 * a live reading is off (packets between rx and their final class). */
	ft_tel_put_u64(t, "accounted", ft_stats_accounted(&sum));
	ft_tel_put_u64(t, "accounting_ok", ft_stats_accounting_ok(&sum) ? 1 : 0);
	ft_tel_put_u64(t, "uptime_s", view->start_tsc != 0 ?
		       (rte_rdtsc() - view->start_tsc) / rte_get_tsc_hz() : 0);
	ft_tel_put_u64(t, "workers", view->n_workers);
	ft_tel_put_u64(t, "offline", view->offline ? 1 : 0);
}

void
ft_control_stats_dict(const struct ft_control_view *view, void *d)
{
	struct ft_tel_tree t;

	rte_tel_data_start_dict(d);
	ft_tel_tree_init(&t, d);
	if (view != NULL)
		ft_control_stats_fill(view, &t);
	ft_tel_report(t.n_failed, "/flowtap/stats");
}

static int
ft_cmd_stats(const char *cmd __rte_unused, const char *params __rte_unused,
	     struct rte_tel_data *d)
{
	const struct ft_control_view *view = ft_ctl_get_view();

	if (view == NULL)
		return -ENODEV;
	ft_control_stats_dict(view, d);
	return 0;
}

/* ---- /flowtap/ports ---- */

static void
ft_control_port_fill(const struct ft_control_view *view, unsigned int index,
		     const struct ft_port_info *p, struct ft_tel_tree *t)
{
	struct rte_eth_stats st;
	int rc;

	ft_tel_put_str(t, "name", p->name);
	ft_tel_put_str(t, "driver", p->driver);
	ft_tel_put_int(t, "socket", p->socket);
	ft_tel_put_u64(t, "rx_queues", p->n_rxq);
	ft_tel_put_u64(t, "tx_queues", p->n_txq);
	ft_tel_put_int(t, "peer", p->peer);
	ft_tel_put_u64(t, "rss", p->rss ? 1 : 0);
	ft_tel_put_u64(t, "rss_hf", p->rss_hf);

	/* Read-only on the device's counters, as DPDK's /ethdev/stats does. */
	if (!rte_eth_dev_is_valid_port(p->port_id))
		rc = -ENODEV;
	else if (view->port_stats != NULL)
		rc = view->port_stats(index, &st);
	else
		rc = rte_eth_stats_get(p->port_id, &st);
	if (rc != 0) {
		ft_tel_put_str(t, "error", "stats unavailable");
		return;
	}
	ft_tel_put_u64(t, "ipackets", st.ipackets);
	ft_tel_put_u64(t, "opackets", st.opackets);
	ft_tel_put_u64(t, "ibytes", st.ibytes);
	ft_tel_put_u64(t, "obytes", st.obytes);
	ft_tel_put_u64(t, "imissed", st.imissed);
	ft_tel_put_u64(t, "ierrors", st.ierrors);
	ft_tel_put_u64(t, "rx_nombuf", st.rx_nombuf);
	ft_tel_put_u64(t, "oerrors", st.oerrors);
}

static int
ft_cmd_ports(const char *cmd __rte_unused, const char *params __rte_unused,
	     struct rte_tel_data *d)
{
	const struct ft_control_view *view = ft_ctl_get_view();
	unsigned int failed = 0;
	unsigned int i;

	if (view == NULL)
		return -ENODEV;
	rte_tel_data_start_dict(d);
	for (i = 0; i < view->n_ports; i++) {
		const struct ft_port_info *p = &view->ports[i];
		struct rte_tel_data *row;
		struct ft_tel_tree t;
		char key[16];

		snprintf(key, sizeof(key), "%u", p->port_id);
		row = ft_tel_row(d, key);
		if (row == NULL) {
			failed++;
			continue;
		}
		ft_tel_tree_init(&t, row);
		ft_control_port_fill(view, i, p, &t);
		failed += t.n_failed;
	}
	ft_tel_report(failed, "/flowtap/ports");
	return 0;
}

/* ---- /flowtap/workers ---- */

/* "0:0 1:0": the (port:queue) pairs, cut with "..." when they would not fit
 * a telemetry string (n_queues always has the count). */
static void
ft_control_format_queues(const struct ft_worker_info *w, char *buf, size_t len)
{
	unsigned int n = RTE_MIN(w->n_rxq, (unsigned int)FT_MAX_RXQ_PER_WORKER);
	size_t used = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		char pair[16];
		int plen = snprintf(pair, sizeof(pair), "%s%u:%u", i ? " " : "",
				    w->rxq[i].port, w->rxq[i].queue);

		if (used + (size_t)plen + sizeof(" ...") > len) {
			snprintf(buf + used, len - used, " ...");
			return;
		}
		memcpy(buf + used, pair, (size_t)plen + 1);
		used += (size_t)plen;
	}
}

/* The counters of one worker shown per row (the sums are on /flowtap/stats). */
static const enum ft_ctr ft_worker_ctrs[] = {
	FT_CTR_RX, FT_CTR_HANDOFF_OUT, FT_CTR_HANDOFF_IN,
	FT_CTR_ITERATIONS, FT_CTR_BUSY_ITERATIONS,
};

static void
ft_control_worker_fill(const struct ft_worker_info *w, struct ft_tel_tree *t)
{
	char queues[RTE_TEL_MAX_STRING_LEN];
	unsigned int i;

	ft_control_format_queues(w, queues, sizeof(queues));
	ft_tel_put_u64(t, "lcore", w->lcore);
	ft_tel_put_int(t, "socket", w->socket);
	ft_tel_put_u64(t, "remote_numa", w->remote_numa ? 1 : 0);
	ft_tel_put_u64(t, "n_queues", w->n_rxq);
	ft_tel_put_str(t, "queues", queues);
	if (w->stats == NULL)
		return;
	for (i = 0; i < RTE_DIM(ft_worker_ctrs); i++)
		ft_tel_put_u64(t, ft_ctr_path(ft_worker_ctrs[i]),
			       ft_ctr_load(w->stats, ft_worker_ctrs[i]));
}

static void
ft_control_worker_row(struct ft_tel_tree *t, const void *arg, unsigned int i)
{
	const struct ft_control_view *view = arg;

	ft_control_worker_fill(&view->workers[i], t);
}

static int
ft_cmd_workers(const char *cmd __rte_unused, const char *params __rte_unused,
	       struct rte_tel_data *d)
{
	const struct ft_control_view *view = ft_ctl_get_view();

	if (view == NULL)
		return -ENODEV;
	rte_tel_data_start_dict(d);
	ft_tel_report(ft_tel_rows_into(d, ft_control_worker_row, view, 0, view->n_workers),
		      "/flowtap/workers");
	return 0;
}

/* ---- /flowtap/config ---- */

static void
ft_control_config_visit(const char *dotted_key, const char *value, void *arg)
{
	ft_tel_put_str(arg, dotted_key, value);
}

static int
ft_cmd_config(const char *cmd __rte_unused, const char *params __rte_unused,
	      struct rte_tel_data *d)
{
	const struct ft_control_view *view = ft_ctl_get_view();
	struct ft_tel_tree t;

	if (view == NULL)
		return -ENODEV;
	rte_tel_data_start_dict(d);
	ft_tel_tree_init(&t, d);
	ft_tel_put_str(&t, "config_file",
		       view->config_path != NULL ? view->config_path : "(defaults)");
	if (view->cfg != NULL)
		ft_config_foreach(view->cfg, ft_control_config_visit, &t);
	ft_tel_report(t.n_failed, "/flowtap/config");
	return 0;
}

/* ---- /flowtap/signatures ---- */

static void
ft_control_sig_row(struct ft_tel_tree *t, const void *arg, unsigned int i)
{
	const struct ft_control_view *view = arg;
	const struct ft_sig_rule *r = ft_sig_rule_at(view->sig, i);
	char buf[RTE_TEL_MAX_STRING_LEN];
	uint64_t matches = 0;
	unsigned int w;

	for (w = 0; w < view->n_workers; w++)
		matches += ft_sig_worker_rule_matches(view->workers[w].sig, i);
	ft_tel_put_u64(t, "id", r->id);
	ft_tel_put_str(t, "msg", r->msg);
	ft_tel_put_str(t, "ports", ft_sig_rule_ports(r, buf, sizeof(buf)));
	snprintf(buf, sizeof(buf), "/%s/%s", r->pattern, r->flags);
	ft_tel_put_str(t, "pattern", buf);
	ft_tel_put_u64(t, "matches", matches);
}

static int
ft_cmd_signatures(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	const struct ft_control_view *view = ft_ctl_get_view();
	struct ft_ctl_params prm;
	struct ft_tel_tree t;
	unsigned int n, first = 0, fit, w;
	uint64_t streams = 0;
	char err[256];
	struct rte_tel_data *list;

	if (view == NULL)
		return -ENODEV;
	if (ft_control_parse_params(params, FT_CTL_P_FROM, &prm, err, sizeof(err)) < 0)
		return ft_tel_error(d, "%s", err);
	n = ft_sig_rule_count(view->sig);
	if (prm.from[0] != '\0') {
		char *end;
		unsigned long v = strtoul(prm.from, &end, 10);

		if (*end != '\0' || prm.from[0] == '-' || v > n)
			return ft_tel_error(d, "from: '%s' is not a rule position (0-%u)", prm.from, n);
		first = (unsigned int)v;
	}
	for (w = 0; w < view->n_workers; w++)
		streams += ft_sig_worker_streams_open(view->workers[w].sig);
	/* Rows keyed by position: a rules file may hold more than one reply. */
	fit = ft_tel_rows_fit(ft_control_sig_row, view, first, n - first, FT_TEL_ROWS_BUDGET, false);
	rte_tel_data_start_dict(d);
	ft_tel_tree_init(&t, d);
	ft_tel_put_str(&t, "rules_file", view->cfg != NULL ? view->cfg->sig_rules : "");
	ft_tel_put_u64(&t, "rules", n);
	ft_tel_put_u64(&t, "streams_open", streams);
	ft_tel_put_u64(&t, "returned", fit);
	ft_tel_put_u64(&t, "truncated", first + fit < n ? 1 : 0);
	if (first + fit < n)
		ft_tel_put_u64(&t, "next", first + fit);
	list = ft_tel_row(d, "signatures");
	if (list == NULL)
		t.n_failed++;
	else
		t.n_failed += ft_tel_rows_into(list, ft_control_sig_row, view, first, fit);
	ft_tel_report(t.n_failed, "/flowtap/signatures");
	return 0;
}

/* ---- /flowtap/defrag ---- */

static void
ft_control_defrag_visit(const char *dotted_key, const char *value, void *arg)
{
	/* The [defrag] keys: "defrag.max_held" -> "config.max_held". */
	if (strncmp(dotted_key, "defrag.", 7) == 0) {
		char path[FT_TEL_PATH_LEN];

		snprintf(path, sizeof(path), "config.%s", dotted_key + 7);
		ft_tel_put_str(arg, path, value);
	}
}

static int
ft_cmd_defrag(const char *cmd __rte_unused, const char *params __rte_unused,
	      struct rte_tel_data *d)
{
	const struct ft_control_view *view = ft_ctl_get_view();
	struct ft_tel_tree t;
	struct ft_stats sum;
	unsigned int i;

	if (view == NULL)
		return -ENODEV;
	rte_tel_data_start_dict(d);
	ft_tel_tree_init(&t, d);
	ft_ctl_sum_stats(view, &sum);
	/* defrag.* as in /flowtap/stats, the frag_* anomalies, the limits. */
	for (i = 0; i < FT_CTR_MAX; i++)
		if (strncmp(ft_ctr_path(i), "defrag.", 7) == 0)
			ft_tel_put_u64(&t, ft_ctr_path(i), sum.ctr[i]);
	for (i = 0; i < FT_EV_MAX; i++)
		if (strncmp(ft_event_name(i), "frag_", 5) == 0) {
			char path[FT_TEL_PATH_LEN];

			snprintf(path, sizeof(path), "anomalies.%s", ft_event_name(i));
			ft_tel_put_u64(&t, path, sum.anomaly[i]);
		}
	/* Where datagrams are reassembled: on the worker every frame enters
	 * through, or on the owner of the fragments' hash (several queues). */
	ft_tel_put_str(&t, "reassembly", view->defrag_at_entry ? "entry" : "hash");
	if (view->cfg != NULL)
		ft_config_foreach(view->cfg, ft_control_defrag_visit, &t);
	ft_tel_report(t.n_failed, "/flowtap/defrag");
	return 0;
}

/* ---- registration ---- */

/* Help texts: telemetry refuses 64 characters or more. */
static const struct {
	const char *cmd;
	telemetry_cb fn;
	const char *help;
} ft_control_cmds[] = {
	{ "/flowtap/stats", ft_cmd_stats,
	  "flowtap counters summed over workers. No parameters" },
	{ "/flowtap/ports", ft_cmd_ports,
	  "flowtap ports: setup and live ethdev counters. No parameters" },
	{ "/flowtap/workers", ft_cmd_workers,
	  "flowtap workers: lcore, NUMA, queues, counters. No parameters" },
	{ "/flowtap/config", ft_cmd_config,
	  "flowtap configuration, every key. No parameters" },
	{ "/flowtap/defrag", ft_cmd_defrag,
	  "Defragmentation: counters, frag anomalies, limits. No parameters" },
	{ "/flowtap/flows", ft_cmd_flows,
	  "TCP connections. Params: addr=A,port=N,state=S,limit=N,from=C" },
	{ "/flowtap/flow", ft_cmd_flow,
	  "One TCP connection in full. Params: ADDR:PORT-ADDR:PORT,vlan=V" },
	{ "/flowtap/anomalies", ft_cmd_anomalies,
	  "Count and last event of every anomaly name. No parameters" },
	{ "/flowtap/events", ft_cmd_events,
	  "Most recent events. Parameters: int N (default: all kept)" },
	{ "/flowtap/ladder", ft_cmd_ladder,
	  "Live ladder. Params: FILTER (arms), off, none or from=C (reads)" },
	{ "/flowtap/signatures", ft_cmd_signatures,
	  "Signature rules and their matches. Params: from=N" },
};

int
ft_control_register(const struct ft_control_view *view)
{
	static unsigned int registered;
	unsigned int i;
	int rc;

	if (view == NULL)
		return -EINVAL;
	rc = ft_ctl_queries_init(view);
	if (rc == 0)
		rc = ft_ctl_events_init(view->cfg != NULL ? view->cfg->recent_events : 0);
	if (rc < 0)
		return rc;
	__atomic_store_n(&ft_ctl_view, view, __ATOMIC_RELEASE);
	/* Telemetry cannot unregister and would list a command twice. */
	if (__atomic_exchange_n(&registered, 1, __ATOMIC_ACQ_REL))
		return 0;
	for (i = 0; i < RTE_DIM(ft_control_cmds); i++) {
		rc = rte_telemetry_register_cmd(ft_control_cmds[i].cmd, ft_control_cmds[i].fn,
						ft_control_cmds[i].help);
		if (rc < 0) {
			FT_CTL_LOG(ERR, "cannot register %s: %s", ft_control_cmds[i].cmd,
				   strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* chmod @p name in the runtime directory if it is a socket there.
 * Returns 0, -ENOENT when absent, or another negative errno. */
static int
ft_control_chmod_socket(const char *dir, const char *name, mode_t mode)
{
	char path[PATH_MAX];
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	if (lstat(path, &st) != 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	if (chmod(path, mode) != 0)
		return -errno;
	return 0;
}

int
ft_control_secure_socket(unsigned int mode)
{
	const char *dir = rte_eal_get_runtime_dir();
	int rc;

	if ((mode & ~07777u) != 0)
		return -EINVAL;
	if (dir == NULL || dir[0] == '\0')
		return -ENOENT;
	rc = ft_control_chmod_socket(dir, "dpdk_telemetry.v2", (mode_t)mode);
	if (rc < 0)
		return rc;
	/* Legacy v1 socket: 22.11 creates "<runtime>/telemetry" only when some
	 * library registered legacy commands. */
	rc = ft_control_chmod_socket(dir, "telemetry", (mode_t)mode);
	return rc == -ENOENT ? 0 : rc;
}
