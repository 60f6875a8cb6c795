/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Command line: `flowtap [EAL options] -- [options]` for live ports, or
 * `flowtap --pcap FILE [options]`, for which flowtap builds its own EAL
 * arguments (DESIGN.md section 4).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_version.h>

#include "flowtap.h"

enum {
	OPT_CONFIG = 256,
	OPT_MODE,
	OPT_STATS_JSON,
	OPT_EVENTS,
	OPT_FLOW_LOG,
	OPT_SET,
	OPT_WORKERS,
	OPT_PCAP,
	OPT_QUIET,
	OPT_VERSION,
	OPT_LADDER,
	OPT_RELATIVE,
	OPT_SIGNATURES,
	OPT_HUGEPAGES,
	OPT_READER,
};

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "stats-json", required_argument, NULL, OPT_STATS_JSON },
	{ "events", required_argument, NULL, OPT_EVENTS },
	{ "flow-log", required_argument, NULL, OPT_FLOW_LOG },
	{ "set", required_argument, NULL, OPT_SET },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "pcap", required_argument, NULL, OPT_PCAP },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "ladder", required_argument, NULL, OPT_LADDER },
	{ "relative", no_argument, NULL, OPT_RELATIVE },
	{ "signatures", required_argument, NULL, OPT_SIGNATURES },
	{ "hugepages", no_argument, NULL, OPT_HUGEPAGES },
	{ "reader", required_argument, NULL, OPT_READER },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int
ft_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("flowtap: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

void
ft_usage(FILE *f)
{
	fputs("usage: flowtap [EAL options] -- [options]      watch live ports\n"
	      "       flowtap --pcap FILE [options]            analyse a capture (pcap, pcapng;\n"
	      "                                                FILE '-' or a FIFO: a stream)\n"
	      "\n"
	      "options:\n"
	      "  --config FILE          INI configuration (config/flowtap.conf documents every key)\n"
	      "  --set SECTION.KEY=VAL  override one configuration key (repeatable)\n"
	      "  --mode passive|inline  passive: receive, track, free; inline: forward port pairs\n"
	      "  --stats-json PATH      final counters as JSON ('-' for stdout)\n"
	      "  --events PATH          events as JSON lines ('-' for stdout)\n"
	      "  --flow-log PATH        one JSON line per TCP connection ('-' for stdout)\n"
	      "  --workers N            with --pcap: worker lcores (1-8, default 1)\n"
	      "  --quiet                no summary at the end\n"
	      "  --ladder FILTER        with --pcap: print every packet of the connections\n"
	      "                         the filter (tcpdump syntax) picks, with both\n"
	      "                         endpoints' states after each\n"
	      "  --relative             ladder seq/ack relative to the ISNs\n"
	      "  --signatures FILE      payload signature rules (config/signatures.rules is\n"
	      "                         the shipped set); overrides [signatures] rules\n"
	      "  --hugepages            with --pcap: take memory from hugepages (reserved\n"
	      "                         beforehand) instead of 4 KiB pages\n"
	      "  --reader auto|control|worker\n"
	      "                         with --pcap: who reads the capture: the control\n"
	      "                         lcore, feeding the worker through a ring, or the\n"
	      "                         worker itself; auto (default): the control lcore\n"
	      "                         when the lcores have a CPU besides the workers'\n"
	      "  --version, --help\n", f);
}

static int
set_key(struct ft_config *cfg, const char *section, const char *key, const char *value)
{
	char err[512];

	if (ft_config_set(cfg, "command line", section, key, value, err, sizeof(err)) < 0)
		return ft_fail("%s", err);
	return 0;
}

static int
parse_uint(const char *s, unsigned int lo, unsigned int hi, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

static int
parse_reader(const char *s, enum ft_reader_mode *out)
{
	static const char *const names[] = {
		[FT_READER_AUTO] = "auto",
		[FT_READER_CONTROL] = "control",
		[FT_READER_WORKER] = "worker",
	};
	unsigned int i;

	for (i = 0; i < RTE_DIM(names); i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum ft_reader_mode)i;
			return 0;
		}
	return -1;
}

/*
 * Parse flowtap's own options (argv[0] is a program name). The config file is
 * loaded first so that every other option overrides it, whatever the order.
 */
static int
parse_app_args(int argc, char **argv, struct ft_app *app)
{
	char err[512];
	int c;

	app->opt.workers = 1;
	/* pass 1: --config, --help, --version */
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		if (c == 'h') {
			ft_usage(stdout);
			exit(0);
		} else if (c == OPT_VERSION) {
			printf("flowtap " FT_VERSION " (%s)\n", rte_version());
			exit(0);
		} else if (c == OPT_CONFIG) {
			app->opt.config_path = optarg;
		}
	}
	if (app->opt.config_path != NULL &&
	    ft_config_load(&app->cfg, app->opt.config_path, err, sizeof(err)) < 0)
		return ft_fail("%s", err);

	/* pass 2: everything else, in order */
	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_CONFIG:
			break;
		case OPT_MODE:
			if (set_key(&app->cfg, "general", "mode", optarg) < 0)
				return -1;
			app->opt.mode_set = true;
			break;
		case OPT_STATS_JSON:
			if (set_key(&app->cfg, "output", "stats_json", optarg) < 0)
				return -1;
			break;
		case OPT_EVENTS:
			if (set_key(&app->cfg, "output", "events", optarg) < 0)
				return -1;
			break;
		case OPT_FLOW_LOG:
			if (set_key(&app->cfg, "output", "flow_log", optarg) < 0)
				return -1;
			break;
		case OPT_SET:
			if (ft_config_set_dotted(&app->cfg, optarg, err, sizeof(err)) < 0)
				return ft_fail("%s", err);
			break;
		case OPT_WORKERS:
			if (parse_uint(optarg, 1, FT_OFFLINE_MAX_WORKERS, &app->opt.workers) < 0)
				return ft_fail("--workers: '%s' must be a number from 1 to %d",
					       optarg, FT_OFFLINE_MAX_WORKERS);
			break;
		case OPT_PCAP:
			app->opt.pcap_path = optarg;
			break;
		case OPT_QUIET:
			app->opt.quiet = true;
			break;
		case OPT_LADDER:
			app->opt.ladder = optarg;
			break;
		case OPT_RELATIVE:
			app->opt.relative = true;
			break;
		case OPT_SIGNATURES:
			if (set_key(&app->cfg, "signatures", "rules", optarg) < 0)
				return -1;
			break;
		case OPT_HUGEPAGES:
			app->opt.hugepages = true;
			break;
		case OPT_READER:
			if (parse_reader(optarg, &app->opt.reader) < 0)
				return ft_fail("--reader: '%s' must be auto, control or worker", optarg);
			app->opt.reader_set = true;
			break;
		case ':':
			return ft_fail("option '%s' needs a value", argv[optind - 1]);
		default:
			return ft_fail("unknown option '%s' (see flowtap --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return ft_fail("unexpected argument '%s' (see flowtap --help)", argv[optind]);
	optind = 1;
	return 0;
}

static int
find_double_dash(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			return i;
	return -1;
}

static bool
has_arg(int argc, char **argv, const char *name)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0 || strncmp(argv[i], name, strlen(name)) == 0)
			return true;
	return false;
}

int
ft_options_parse(int argc, char **argv, struct ft_app *app)
{
	int dd = find_double_dash(argc, argv);
	int rc;

	if (dd >= 0) {
		/* live: EAL options before "--", ours after */
		char *saved = argv[dd];

		argv[dd] = argv[0];
		rc = parse_app_args(argc - dd, argv + dd, app);
		argv[dd] = saved;
		if (rc < 0)
			return -1;
		if (app->opt.pcap_path != NULL)
			return ft_fail("--pcap builds its own EAL arguments: use it without EAL options");
		if (app->opt.hugepages)
			return ft_fail("--hugepages goes with --pcap; live, the EAL options choose the memory");
		if (app->opt.reader_set)
			return ft_fail("--reader goes with --pcap; live, each worker polls its queues");
		return 0;
	}
	if (has_arg(argc, argv, "--pcap") || has_arg(argc, argv, "--help") ||
	    has_arg(argc, argv, "-h") || has_arg(argc, argv, "--version"))
		return parse_app_args(argc, argv, app);
	/* only EAL options: live with the defaults */
	return 0;
}

/* MB of memory the offline EAL needs: the mbuf pool plus room for rings and tables. */
static unsigned int
offline_memory_mb(const struct ft_app *app)
{
	uint64_t pool = (uint64_t)ft_pool_size(app, app->opt.workers) * (app->cfg.mbuf_size + 320);

	uint64_t tables = (ft_track_memory_per_worker(app) + ft_defrag_memory_per_worker(app)) *
			  app->opt.workers;

	return (unsigned int)(128 + ((pool + tables) * 11 / 10 >> 20));
}

/* Free hugepages of any size: the EAL only says "Cannot get hugepage
 * information" when there are none, so --hugepages checks first. */
static bool
hugepages_free(void)
{
	const char *dir = "/sys/kernel/mm/hugepages";
	char path[PATH_MAX];
	struct dirent *de;
	bool some = false;
	DIR *d = opendir(dir);

	if (d == NULL)
		return false;
	while (!some && (de = readdir(d)) != NULL) {
		unsigned long n = 0;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/free_hugepages", dir, de->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		some = fscanf(f, "%lu", &n) == 1 && n > 0;
		fclose(f);
	}
	closedir(d);
	return some;
}

int
ft_options_build_eal_args(struct ft_app *app, int argc, char **argv, int *eal_argc,
			  char ***eal_argv)
{
	static char *args[32];
	static char mem[16], prefix[80], lcores[64], vdev[PATH_MAX + 64];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int dd, n = 0;

	if (!app->offline) {
		dd = find_double_dash(argc, argv);
		*eal_argc = dd >= 0 ? dd : argc;
		*eal_argv = argv;
		return 0;
	}
	if (strchr(app->opt.pcap_path, ',') != NULL)
		return ft_fail("capture path '%s' contains ',' (a DPDK device argument separator): rename it",
			       app->opt.pcap_path);
	if (app->opt.hugepages && !hugepages_free())
		return ft_fail("--hugepages: no free hugepages (reserve some first, e.g. "
			       "echo 512 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages)");
	if (ncpu < 1)
		ncpu = 1;
	snprintf(mem, sizeof(mem), "%u", offline_memory_mb(app));
	snprintf(app->file_prefix, sizeof(app->file_prefix), "flowtap-%d", (int)getpid());
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", app->file_prefix);
	/* Lcore 0 is the control lcore, 1..N the workers; they float over every
	 * CPU, so more workers than cores works (and exercises the hand-over). */
	snprintf(lcores, sizeof(lcores), "--lcores=(0-%u)@(0-%ld)", app->opt.workers, ncpu - 1);
	if (app->capture_stream) /* read by lib/capture alone: a port that gives nothing */
		snprintf(vdev, sizeof(vdev), "--vdev=net_null0,no-rx=1");
	else
		snprintf(vdev, sizeof(vdev), "--vdev=net_pcap0,rx_pcap=%s", app->opt.pcap_path);

	args[n++] = argv[0];
	if (app->opt.hugepages) {
		/* Hugepages without a hugetlbfs mount, taken as needed: a large
		 * flow table then misses the TLB far less than on 4 KiB pages. */
		args[n++] = (char *)"--in-memory";
	} else {
		args[n++] = (char *)"--no-huge";
		args[n++] = (char *)"-m";
		args[n++] = mem;
	}
	args[n++] = (char *)"--no-pci";
	args[n++] = (char *)"--no-shconf";
	args[n++] = prefix;
	args[n++] = lcores;
	args[n++] = vdev;
	args[n++] = (char *)"--log-level=error";
	args[n] = NULL;
	*eal_argc = n;
	*eal_argv = args;
	return 0;
}
