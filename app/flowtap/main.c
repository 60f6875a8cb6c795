/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowtap: watches TCP traffic at line rate and knows, for every connection,
 * what each of its two endpoints is doing.
 *
 * main() only wires the pieces together: options and configuration, EAL,
 * workers and their rings, ports, outputs, the control socket, then the
 * control loop on the main lcore until a signal or the end of a capture.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_pdump.h>

#include "flowtap.h"
#include "ft_capture.h"
#include "ft_json.h"

struct ft_app ft_app;
volatile sig_atomic_t ft_signal_received;

static void
on_signal(int sig)
{
	(void)sig;
	ft_signal_received = 1;
}

static int
open_outputs(struct ft_app *app)
{
	if (app->cfg.events[0] != '\0') {
		app->events_out = ft_json_open_output(app->cfg.events);
		if (app->events_out == NULL)
			return ft_fail("--events: cannot write '%s': %s", app->cfg.events, strerror(errno));
	}
	if (app->cfg.flow_log[0] != '\0') {
		app->flow_log_out = ft_json_open_output(app->cfg.flow_log);
		if (app->flow_log_out == NULL)
			return ft_fail("--flow-log: cannot write '%s': %s", app->cfg.flow_log, strerror(errno));
	}
	/* Checked now so a bad path stops start-up, not the final write. */
	if (app->cfg.stats_json[0] != '\0' && strcmp(app->cfg.stats_json, "-") != 0) {
		FILE *f = fopen(app->cfg.stats_json, "w");

		if (f == NULL)
			return ft_fail("--stats-json: cannot write '%s': %s", app->cfg.stats_json,
				       strerror(errno));
		fclose(f);
	}
	return 0;
}

static int
write_final_stats(struct ft_app *app)
{
	FILE *f;
	int rc;

	if (app->cfg.stats_json[0] == '\0')
		return 0;
	f = ft_json_open_output(app->cfg.stats_json);
	if (f == NULL)
		return ft_fail("--stats-json: cannot write '%s': %s", app->cfg.stats_json, strerror(errno));
	rc = ft_write_stats_json(app, f);
	ft_json_close_output(f);
	return rc;
}

static bool
some_output_is_stdout(const struct ft_config *c)
{
	return strcmp(c->stats_json, "-") == 0 || strcmp(c->events, "-") == 0 ||
	       strcmp(c->flow_log, "-") == 0;
}

/* /flowtap/ports: a port's counters as the stats JSON gives them. */
static int
view_port_stats(unsigned int index, struct rte_eth_stats *st)
{
	return ft_port_stats(&ft_app, index, st);
}

static int
register_control(struct ft_app *app)
{
	int rc;

	if (!app->cfg.telemetry)
		return 0;
	app->view.cfg = &app->cfg;
	app->view.config_path = app->opt.config_path ? app->opt.config_path : "(defaults)";
	app->view.n_workers = app->n_workers;
	app->view.workers = app->winfo;
	app->view.control_stats = &app->control_stats;
	app->view.n_ports = app->n_ports;
	app->view.ports = app->pinfo;
	app->view.port_stats = view_port_stats;
	app->view.start_tsc = app->start_tsc;
	app->view.offline = app->offline;
	app->view.defrag_at_entry = app->defrag_at_entry;
	app->view.sig = app->sig;
	rc = ft_control_register(&app->view);
	if (rc < 0)
		return ft_fail("cannot register telemetry commands: %s", strerror(-rc));
	rc = ft_control_secure_socket(app->cfg.socket_mode);
	if (rc < 0 && rc != -ENOENT)
		return ft_fail("cannot restrict the telemetry socket: %s", strerror(-rc));
	return 0;
}

static int
setup_detectors(struct ft_app *app)
{
	struct ft_detect_config dc = {
		.max_hosts = app->cfg.detect_max_hosts,
		.isn_samples = app->cfg.isn_samples,
		.syn_flood_rate = app->cfg.syn_flood_rate,
	};

	app->detect = ft_detect_create(&dc);
	if (app->detect == NULL)
		return ft_fail("cannot allocate the detectors' table of %u hosts", dc.max_hosts);
	return 0;
}

/*
 * Live, what a port receives and sends can be captured while flowtap runs,
 * with DPDK's own tools (dpdk-dumpcap, dpdk-pdump: secondary processes that
 * ask this one, through the EAL's multi-process channel, to copy each
 * port's packets to them; rx and tx callbacks do the copying on the
 * workers, and only while a capture is on). It needs the multi-process
 * channel and memory the secondary can map: hugepages from a hugetlbfs
 * mount, not --in-memory or --no-huge. Without them capture is simply not
 * offered (a warning says why when the EAL has the channel but pdump
 * cannot start).
 */
static void
setup_pdump(struct ft_app *app)
{
	if (app->offline)
		return;
	app->pdump_on = rte_pdump_init() == 0;
	if (!app->pdump_on && rte_errno != ENOTSUP) /* the channel is there: something is wrong */
		fprintf(stderr, "flowtap: warning: packet capture (dpdk-dumpcap) unavailable: %s\n",
			rte_strerror(rte_errno));
}

static int
run(struct ft_app *app)
{
	unsigned int i;

	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	app->start_tsc = rte_get_tsc_cycles();
	app->wall_ns_at_start = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	app->ns_per_tsc = 1e9 / (double)app->tsc_hz;
	if (ft_ladder_setup(app) < 0 || setup_detectors(app) < 0)
		return -1;
	if (ft_workers_create(app) < 0 || ft_detect_backlog_setup(app) < 0 ||
	    ft_ports_setup(app) < 0 || ft_reader_setup(app) < 0 || ft_tx_setup(app) < 0 ||
	    open_outputs(app) < 0)
		return -1;
	ft_defrag_ports_ready(app);
	/* Before the control commands: once /flowtap/ answers, dpdk-dumpcap
	 * can attach (its request before rte_pdump_init() goes unanswered). */
	setup_pdump(app);
	if (register_control(app) < 0)
		return -1;
	for (i = 0; i < app->n_workers; i++)
		rte_eal_remote_launch(ft_worker_main, app->workers[i], app->workers[i]->lcore);
	ft_control_loop(app);
	ft_ports_stop(app);
	if (write_final_stats(app) < 0)
		return -1;
	if (!app->opt.quiet)
		ft_print_summary(app, some_output_is_stdout(&app->cfg) ? stderr : stdout);
	return 0;
}

int
main(int argc, char **argv)
{
	struct ft_app *app = &ft_app;
	int eal_argc, rc;
	char **eal_argv;

	ft_config_defaults(&app->cfg);
	if (ft_options_parse(argc, argv, app) < 0)
		return 2;
	if (app->opt.pcap_path != NULL) {
		app->offline = true;
		if (ft_offline_check_capture(app, app->opt.pcap_path) < 0)
			return 1;
	}
	/* From here a signal stops flowtap cleanly, at start-up too (its
	 * runtime directory removed, the final counters written): the control
	 * loop sees it first thing. Not before: opening a FIFO and reading a
	 * stream's header wait for its writer, and Ctrl-C must end that. */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* Before the EAL: a bad rule stops start-up at once, and the offline
	 * EAL's memory is sized with the signature pools. */
	if (ft_track_sig_setup(app) < 0) {
		ft_capture_close(app->capture_stream_cap);
		return 1;
	}
	if (ft_options_build_eal_args(app, argc, argv, &eal_argc, &eal_argv) < 0) {
		ft_capture_close(app->capture_stream_cap);
		ft_sig_set_free(app->sig);
		return 1;
	}

	rc = rte_eal_init(eal_argc, eal_argv);
	if (rc < 0) {
		ft_fail("EAL initialisation failed: %s", rte_strerror(rte_errno));
		ft_capture_close(app->capture_stream_cap);
		ft_sig_set_free(app->sig);
		ft_offline_remove_runtime_dir(app->file_prefix);
		return 1;
	}
	app->tsc_hz = rte_get_tsc_hz();
	app->tx_retry_tsc = app->tsc_hz * app->cfg.tx_retry_us / 1000000;
	app->ts_dynfield = -1;
	/* DPDK 22.11's pcap PMD stores the capture time in microseconds. */
	app->ts_to_ns = 1000;

	rc = run(app);

	ft_reader_free(app);
	ft_workers_free(app);
	ft_detect_free(app->detect);
	ft_sig_set_free(app->sig);
	if (app->ladder_on)
		pcap_freecode(&app->ladder_prog);
	if (app->pdump_on)
		rte_pdump_uninit();
	ft_ports_close(app);
	ft_json_close_output(app->events_out);
	ft_json_close_output(app->flow_log_out);
	rte_eal_cleanup();
	if (app->offline)
		ft_offline_remove_runtime_dir(app->file_prefix);
	return rc < 0 ? 1 : 0;
}
