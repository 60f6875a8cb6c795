/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/config: defaults, config/flowtap.conf, every kind of
 * error message, --set and ft_config_foreach(). No EAL needed.
 *
 * The repository root is $FLOWTAP_SRC, else two levels above this file.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cfgfile.h>
#include <rte_mbuf.h>

#include "ft_config.h"
#include "ft_defrag.h"
#include "ft_unit.h"

/* The [ports] mbuf_size default is documented as DPDK's default. */
_Static_assert(RTE_MBUF_DEFAULT_BUF_SIZE == 2176, "mbuf_size default drifted");

#define NB_KEYS 52

static char conf_path[PATH_MAX];

static void
find_conf(void)
{
	const char *src = getenv("FLOWTAP_SRC");
	const char *slash;

	if (src != NULL && src[0] != '\0') {
		snprintf(conf_path, sizeof(conf_path), "%s/config/flowtap.conf", src);
		return;
	}
	slash = strrchr(__FILE__, '/');
	if (slash == NULL)
		snprintf(conf_path, sizeof(conf_path), "../../config/flowtap.conf");
	else
		snprintf(conf_path, sizeof(conf_path), "%.*s/../../config/flowtap.conf",
			 (int)(slash - __FILE__), __FILE__);
}

/* Write @p text to a new file under /tmp; the caller unlinks it. */
static void
temp_ini(char *path, size_t len, const char *text)
{
	FILE *f;
	int fd;

	snprintf(path, len, "/tmp/ft_test_config_XXXXXX");
	fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		exit(2);
	}
	f = fdopen(fd, "w");
	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

/*
 * Load @p text from a temp file over defaults; the load must fail with
 * exactly "<path>: <expect>" (or start with it when @p prefix), on one
 * line, and leave the configuration as it was.
 */
static void
expect_load_error(const char *name, const char *text, const char *expect, bool prefix)
{
	struct ft_config c, before;
	char path[64];
	char want[512];
	char err[512] = "";
	int ret;

	temp_ini(path, sizeof(path), text);
	ft_config_defaults(&c);
	memcpy(&before, &c, sizeof(c));
	ret = ft_config_load(&c, path, err, sizeof(err));
	unlink(path);
	snprintf(want, sizeof(want), "%s: %s", path, expect);
	if (ret != -1)
		checkf(name, false, "load returned %d, want -1", ret);
	else if (prefix ? strncmp(err, want, strlen(want)) != 0 : strcmp(err, want) != 0)
		checkf(name, false, "got \"%s\", want \"%s\"%s", err, want, prefix ? "..." : "");
	else if (strchr(err, '\n') != NULL)
		checkf(name, false, "message has a newline: \"%s\"", err);
	else if (memcmp(&c, &before, sizeof(c)) != 0)
		checkf(name, false, "a failed load changed the configuration");
	else
		check(name, true);
}

static void
expect_set_error(const char *name, const char *assignment, const char *expect, bool prefix)
{
	struct ft_config c, before;
	char err[512] = "";
	int ret;

	ft_config_defaults(&c);
	memcpy(&before, &c, sizeof(c));
	ret = ft_config_set_dotted(&c, assignment, err, sizeof(err));
	if (ret != -1)
		checkf(name, false, "set returned %d, want -1", ret);
	else if (prefix ? strncmp(err, expect, strlen(expect)) != 0 : strcmp(err, expect) != 0)
		checkf(name, false, "got \"%s\", want \"%s\"%s", err, expect, prefix ? "..." : "");
	else if (strchr(err, '\n') != NULL)
		checkf(name, false, "message has a newline: \"%s\"", err);
	else if (memcmp(&c, &before, sizeof(c)) != 0)
		checkf(name, false, "a failed set changed the configuration");
	else
		check(name, true);
}

/* Load @p text over defaults and expect success. */
static int
load_text(struct ft_config *c, const char *text, char *err, size_t errlen)
{
	char path[64];
	int ret;

	temp_ini(path, sizeof(path), text);
	ft_config_defaults(c);
	ret = ft_config_load(c, path, err, errlen);
	unlink(path);
	return ret;
}

struct visit {
	unsigned int count;
	char keys[NB_KEYS * 2][64];
	char values[NB_KEYS * 2][FT_CONFIG_STR_LEN];
};

static void
collect(const char *dotted_key, const char *value, void *arg)
{
	struct visit *v = arg;

	if (v->count < NB_KEYS * 2) {
		snprintf(v->keys[v->count], sizeof(v->keys[0]), "%s", dotted_key);
		snprintf(v->values[v->count], sizeof(v->values[0]), "%s", value);
	}
	v->count++;
}

static const char *
visit_get(const struct visit *v, const char *key)
{
	unsigned int i;

	for (i = 0; i < v->count && i < NB_KEYS * 2; i++)
		if (strcmp(v->keys[i], key) == 0)
			return v->values[i];
	return NULL;
}

static void
test_defaults(void)
{
	struct ft_config c;

	ft_config_defaults(&c);
	checkf("defaults: [general]",
	       c.mode == FT_MODE_PASSIVE && c.status_interval == 1 && c.checksums == FT_CSUMS_AUTO,
	       "mode %d status_interval %u checksums %d", c.mode, c.status_interval, c.checksums);
	checkf("defaults: [ports]",
	       c.rx_desc == 1024 && c.tx_desc == 1024 && c.mbufs == 65535 && c.mbuf_cache == 256 &&
		       c.mbuf_size == 2176 && c.promiscuous && c.rss && strcmp(c.pairs, "auto") == 0,
	       "rx %u tx %u mbufs %u cache %u size %u promisc %d rss %d pairs '%s'", c.rx_desc,
	       c.tx_desc, c.mbufs, c.mbuf_cache, c.mbuf_size, c.promiscuous, c.rss, c.pairs);
	checkf("defaults: [workers]", c.handoff_ring == 4096 && c.burst == 32,
	       "handoff_ring %u burst %u", c.handoff_ring, c.burst);
	checkf("defaults: [events]",
	       c.event_ring == 4096 && c.recent_events == 1024 && !c.every_occurrence,
	       "ring %u recent %u every %d", c.event_ring, c.recent_events, c.every_occurrence);
	checkf("defaults: [defrag]",
	       c.defrag_max_datagrams == 4096 && c.defrag_max_fragments == 64 &&
		       c.defrag_max_held == 8192 && c.defrag_max_size == 65535 &&
		       c.defrag_timeout == 30 && c.defrag_policy == FT_DEFRAG_LINUX,
	       "datagrams %u fragments %u held %u size %u timeout %u policy %u",
	       c.defrag_max_datagrams, c.defrag_max_fragments, c.defrag_max_held, c.defrag_max_size,
	       c.defrag_timeout, c.defrag_policy);
	checkf("defaults: [output]",
	       c.stats_json[0] == '\0' && c.events[0] == '\0' && c.flow_log[0] == '\0',
	       "'%s' '%s' '%s'", c.stats_json, c.events, c.flow_log);
	checkf("defaults: [control]", c.telemetry && c.socket_mode == 0600,
	       "telemetry %d socket_mode %o", c.telemetry, c.socket_mode);
	checkf("ft_mode_name",
	       strcmp(ft_mode_name(FT_MODE_PASSIVE), "passive") == 0 &&
		       strcmp(ft_mode_name(FT_MODE_INLINE), "inline") == 0,
	       "wrong names");
}

static void
test_conf_file(void)
{
	struct ft_config def, c;
	struct visit vd, vc;
	struct rte_cfgfile *cfg;
	char err[512] = "";
	unsigned int i, missing = 0;
	bool same = true;

	ft_config_defaults(&def);
	ft_config_defaults(&c);
	/* Start from something else so that a key missing from the file
	 * shows up as a difference. */
	c.rx_desc = 4242;
	c.mode = FT_MODE_INLINE;
	snprintf(c.events, sizeof(c.events), "junk");
	if (ft_config_load(&c, conf_path, err, sizeof(err)) != 0) {
		checkf("flowtap.conf loads", false, "%s", err);
		return;
	}
	check("flowtap.conf loads", true);

	memset(&vd, 0, sizeof(vd));
	memset(&vc, 0, sizeof(vc));
	ft_config_foreach(&def, collect, &vd);
	ft_config_foreach(&c, collect, &vc);
	for (i = 0; i < vd.count && i < NB_KEYS * 2; i++) {
		if (strcmp(vd.values[i], vc.values[i]) != 0) {
			checkf("flowtap.conf equals defaults", false, "%s = '%s', default '%s'",
			       vd.keys[i], vc.values[i], vd.values[i]);
			same = false;
		}
	}
	if (same)
		checkf("flowtap.conf equals defaults", memcmp(&def, &c, sizeof(c)) == 0,
		       "values print alike but the records differ");

	/* Every key must be written out (documented), not just defaulted. */
	cfg = rte_cfgfile_load(conf_path, CFG_FLAG_EMPTY_VALUES);
	if (cfg == NULL) {
		checkf("flowtap.conf lists every key", false, "rte_cfgfile_load failed");
		return;
	}
	for (i = 0; i < vd.count && i < NB_KEYS * 2; i++) {
		char sec[64];
		const char *dot = strchr(vd.keys[i], '.');

		snprintf(sec, sizeof(sec), "%.*s", (int)(dot - vd.keys[i]), vd.keys[i]);
		if (!rte_cfgfile_has_entry(cfg, sec, dot + 1)) {
			printf("     missing from flowtap.conf: %s\n", vd.keys[i]);
			missing++;
		}
	}
	rte_cfgfile_close(cfg);
	checkf("flowtap.conf lists every key", missing == 0, "%u missing", missing);
}

static void
test_errors(void)
{
	char longval[400];
	char text[600];
	char path[64];
	char err[512] = "";
	struct ft_config c;

	/* Missing file: make a name that surely does not exist. */
	temp_ini(path, sizeof(path), "");
	unlink(path);
	ft_config_defaults(&c);
	if (ft_config_load(&c, path, err, sizeof(err)) == 0) {
		checkf("error: missing file", false, "load succeeded");
	} else {
		char want[128];

		snprintf(want, sizeof(want), "%s: cannot read: %s", path, strerror(ENOENT));
		checkf("error: missing file", strcmp(err, want) == 0, "got \"%s\"", err);
	}
	ft_config_defaults(&c);
	err[0] = '\0';
	checkf("error: directory",
	       ft_config_load(&c, "/tmp", err, sizeof(err)) == -1 &&
		       strcmp(err, "/tmp: cannot read: Is a directory") == 0,
	       "got \"%s\"", err);

	expect_load_error("error: unknown section", "[ports]\nrx_desc = 512\n[bogus]\nx = 1\n",
			  "unknown section [bogus]", false);
	expect_load_error("error: unknown empty section", "[nothing]\n",
			  "unknown section [nothing]", false);
	expect_load_error("error: unknown key", "[ports]\nrx_desc = 512\nrx_dsc = 512\n",
			  "[ports] unknown key 'rx_dsc'", false);
	expect_load_error("error: key in wrong section", "[general]\nrx_desc = 512\n",
			  "[general] unknown key 'rx_desc'", false);
	expect_load_error("error: not a number", "[ports]\nrx_desc = 12x\n",
			  "[ports] rx_desc: '12x' is not a number", false);
	expect_load_error("error: negative number", "[workers]\nburst = -1\n",
			  "[workers] burst: '-1' is not a number", false);
	expect_load_error("error: empty number", "[workers]\nburst =\n",
			  "[workers] burst: '' is not a number", false);
	expect_load_error("error: hex number", "[workers]\nburst = 0x10\n",
			  "[workers] burst: '0x10' is not a number", false);
	expect_load_error("error: out of range (low)", "[ports]\nrx_desc = 32\n",
			  "[ports] rx_desc: '32' must be between 64 and 16384", false);
	expect_load_error("error: out of range (high)", "[workers]\nburst = 65\n",
			  "[workers] burst: '65' must be between 1 and 64", false);
	expect_load_error("error: overflow", "[ports]\nmbufs = 99999999999999999999999\n",
			  "[ports] mbufs: '99999999999999999999999' must be between 1023 and 16777215",
			  false);
	expect_load_error("error: 2^32 is out of range", "[ports]\nmbufs = 4294967296\n",
			  "[ports] mbufs: '4294967296' must be between 1023 and 16777215", false);
	expect_load_error("error: not a power of two", "[workers]\nhandoff_ring = 1000\n",
			  "[workers] handoff_ring: '1000' must be a power of two", false);
	expect_load_error("error: event ring not a power of two", "[events]\nring = 4097\n",
			  "[events] ring: '4097' must be a power of two", false);
	expect_load_error("error: bad bool", "[ports]\npromiscuous = maybe\n",
			  "[ports] promiscuous: 'maybe' must be yes or no", false);
	expect_load_error("error: bad mode", "[general]\nmode = bridge\n",
			  "[general] mode: 'bridge' must be passive or inline", false);
	expect_load_error("error: bad octal", "[control]\nsocket_mode = 0800\n",
			  "[control] socket_mode: '0800' is not an octal mode like 0600", false);
	expect_load_error("error: octal out of range", "[control]\nsocket_mode = 01000\n",
			  "[control] socket_mode: '01000' must be between 0000 and 0777", false);
	expect_load_error("error: bad defrag policy", "[defrag]\npolicy = solaris\n",
			  "[defrag] policy: 'solaris' must be first, last, bsd, linux or windows", false);
	expect_load_error("error: defrag policy is lower case", "[defrag]\npolicy = Linux\n",
			  "[defrag] policy: 'Linux' must be first, last, bsd, linux or windows", false);
	expect_load_error("error: max_fragments above 255", "[defrag]\nmax_fragments = 256\n",
			  "[defrag] max_fragments: '256' must be between 1 and 255", false);
	expect_load_error("error: max_size above 65535", "[defrag]\nmax_size = 65536\n",
			  "[defrag] max_size: '65536' must be between 68 and 65535", false);
	expect_load_error("error: defrag timeout 0", "[defrag]\ntimeout = 0\n",
			  "[defrag] timeout: '0' must be between 1 and 3600", false);
	expect_load_error("error: max_datagrams not a number", "[defrag]\nmax_datagrams = lots\n",
			  "[defrag] max_datagrams: 'lots' is not a number", false);
	expect_load_error("error: max_held too small", "[defrag]\nmax_held = 8\n",
			  "[defrag] max_held: '8' must be between 16 and 16777216", false);
	expect_load_error("error: bad pairs (word)", "[ports]\npairs = some\n",
			  "[ports] pairs: 'some' must be auto or a list like 0-1,2-3", false);
	expect_load_error("error: bad pairs (hairpin port also paired)", "[ports]\npairs = 0-0,0-1\n",
			  "[ports] pairs: '0-0,0-1' must be auto or a list like 0-1,2-3", true);
	expect_load_error("error: bad pairs (twice)", "[ports]\npairs = 0-1,1-2\n",
			  "[ports] pairs: '0-1,1-2' must be auto or a list like 0-1,2-3", true);
	expect_load_error("error: bad pairs (port 1024)", "[ports]\npairs = 0-1024\n",
			  "[ports] pairs: '0-1024' must be auto or a list like 0-1,2-3", true);
	expect_load_error("error: bad pairs (trailing comma)", "[ports]\npairs = 0-1,\n",
			  "[ports] pairs: '0-1,' must be auto or a list like 0-1,2-3", true);
	expect_load_error("error: bad pairs (empty)", "[ports]\npairs =\n",
			  "[ports] pairs: '' must be auto or a list like 0-1,2-3", true);

	memset(longval, 'a', 256);
	longval[256] = '\0';
	snprintf(text, sizeof(text), "[output]\nevents = /tmp/%s\n", longval);
	expect_load_error("error: string too long", text,
			  "[output] events: value longer than 255 characters", false);
	/* A value that would overflow rte_cfgfile's line buffer too. */
	memset(longval, '1', 350);
	longval[350] = '\0';
	snprintf(text, sizeof(text), "[ports]\nmbuf_cache = %s\n", longval);
	expect_load_error("error: number too long", text,
			  "[ports] mbuf_cache: value longer than 255 characters", false);

	expect_load_error("error: syntax (unclosed [)", "[ports\nrx_desc = 512\n",
			  "syntax error (not an INI file)", true);
	expect_load_error("error: syntax (no =)", "[ports]\nrx_desc 512\n",
			  "syntax error (not an INI file) at line 2", true);
	expect_load_error("error: syntax (key before section)", "rx_desc = 512\n[ports]\n",
			  "syntax error (not an INI file) at line 1", true);
	expect_load_error("error: syntax (junk after ])", "[ports] x\n",
			  "syntax error (not an INI file) at line 1", true);
	memset(longval, ' ', 350);
	longval[350] = '\0';
	snprintf(text, sizeof(text), "[ports]\n;%s\n", longval);
	expect_load_error("error: syntax (line too long)", text,
			  "syntax error (not an INI file) at line 2", true);
	expect_load_error("error: not an INI file at all", "\x7f" "ELF\x01\x02\n",
			  "syntax error (not an INI file) at line 1", true);
}

static void
test_file_values(void)
{
	struct ft_config c;
	char err[512] = "";
	char text[600];
	char val[300];
	int ret;

	ret = load_text(&c,
			"; comment\n"
			"[general]\n"
			"  mode = INLINE   ; trailing comment\n"
			"status_interval=0\n"
			"[ports]\r\n"
			"rx_desc = 0512\r\n"
			"promiscuous = Off\n"
			"rss = 0\n"
			"pairs = 2-3 , 0-1\n"
			"[control]\n"
			"socket_mode = 660\n"
			"[output]\n"
			"events = /tmp/a\\;b.json\n"
			"stats_json = -\n"
			"[ports]\n"
			"tx_desc = 2048\n",
			err, sizeof(err));
	checkf("file: values load", ret == 0, "%s", err);
	checkf("file: mode and zero", c.mode == FT_MODE_INLINE && c.status_interval == 0,
	       "mode %d interval %u", c.mode, c.status_interval);
	checkf("file: leading zero, bools", c.rx_desc == 512 && !c.promiscuous && !c.rss,
	       "rx %u promisc %d rss %d", c.rx_desc, c.promiscuous, c.rss);
	checkf("file: pairs canonical", strcmp(c.pairs, "2-3,0-1") == 0, "'%s'", c.pairs);
	checkf("file: octal", c.socket_mode == 0660, "%o", c.socket_mode);
	checkf("file: strings, escaped ';'",
	       strcmp(c.events, "/tmp/a;b.json") == 0 && strcmp(c.stats_json, "-") == 0,
	       "'%s' '%s'", c.events, c.stats_json);
	checkf("file: section written twice", c.tx_desc == 2048, "tx_desc %u", c.tx_desc);

	ret = load_text(&c, "[output]\nevents =\nflow_log = -\n", err, sizeof(err));
	checkf("file: empty value", ret == 0 && c.events[0] == '\0' && strcmp(c.flow_log, "-") == 0,
	       "%d '%s'", ret, err);

	memset(val, 'b', 255);
	val[255] = '\0';
	snprintf(text, sizeof(text), "[output]\nflow_log = %s\n", val);
	ret = load_text(&c, text, err, sizeof(err));
	checkf("file: 255-character string", ret == 0 && strcmp(c.flow_log, val) == 0, "%d '%s'",
	       ret, err);

	ret = load_text(&c, "", err, sizeof(err));
	checkf("file: empty file", ret == 0, "%s", err);
}

static void
test_set(void)
{
	struct ft_config c;
	char err[512] = "";
	char assign[400];
	char val[300];
	int ret;

	ft_config_defaults(&c);
	ret = ft_config_set_dotted(&c, "ports.rx_desc=512", err, sizeof(err));
	checkf("set: ports.rx_desc=512", ret == 0 && c.rx_desc == 512, "%d %u '%s'", ret, c.rx_desc,
	       err);
	ret = ft_config_set_dotted(&c, "output.events=/tmp/x.y=z.json", err, sizeof(err));
	checkf("set: value with '.' and '='", ret == 0 && strcmp(c.events, "/tmp/x.y=z.json") == 0,
	       "%d '%s' '%s'", ret, c.events, err);
	ret = ft_config_set_dotted(&c, "general.mode=inline", err, sizeof(err));
	checkf("set: mode", ret == 0 && c.mode == FT_MODE_INLINE, "%d '%s'", ret, err);
	ret = ft_config_set_dotted(&c, "defrag.policy=windows", err, sizeof(err));
	checkf("set: defrag.policy", ret == 0 && c.defrag_policy == FT_DEFRAG_WINDOWS, "%d '%s'", ret,
	       err);
	ret = ft_config_set_dotted(&c, "output.events=", err, sizeof(err));
	checkf("set: empty string", ret == 0 && c.events[0] == '\0', "%d '%s'", ret, err);
	ret = ft_config_set(&c, "x.conf", "events", "every_occurrence", "true", err, sizeof(err));
	checkf("set: ft_config_set", ret == 0 && c.every_occurrence, "%d '%s'", ret, err);

	expect_set_error("set: bad value names command line", "ports.rx_desc=abc",
			 "command line: [ports] rx_desc: 'abc' is not a number", false);
	expect_set_error("set: out of range", "workers.handoff_ring=32",
			 "command line: [workers] handoff_ring: '32' must be between 64 and 1048576",
			 false);
	expect_set_error("set: unknown section", "bogus.x=1",
			 "command line: unknown section [bogus]", false);
	expect_set_error("set: unknown key", "ports.nope=1",
			 "command line: [ports] unknown key 'nope'", false);
	expect_set_error("set: no '='", "ports.rx_desc",
			 "command line: --set expects section.key=value, got 'ports.rx_desc'", false);
	expect_set_error("set: no '.'", "rx_desc=512",
			 "command line: --set expects section.key=value, got 'rx_desc=512'", false);
	expect_set_error("set: '.' only in value", "events=a.json",
			 "command line: --set expects section.key=value, got 'events=a.json'", false);
	expect_set_error("set: empty key", "ports.=1",
			 "command line: --set expects section.key=value, got 'ports.=1'", false);
	expect_set_error("set: newline stays out", "general.mode=in\nline",
			 "command line: [general] mode: 'in?line' must be passive or inline", false);
	expect_set_error("set: a name not in the list", "general.checksums=on",
			 "command line: [general] checksums: 'on' must be auto, strict or off", false);
	ret = ft_config_set_dotted(&c, "general.checksums=STRICT", err, sizeof(err));
	checkf("set: names case-blind", ret == 0 && c.checksums == FT_CSUMS_STRICT, "%d %s", ret, err);
	ret = ft_config_set_dotted(&c, "general.checksums=off", err, sizeof(err));
	checkf("set: checksums=off", ret == 0 && c.checksums == FT_CSUMS_OFF && strcmp(ft_checksums_name(c.checksums), "off") == 0,
	       "%d %s", ret, err);

	memset(val, 'c', 256);
	val[256] = '\0';
	snprintf(assign, sizeof(assign), "output.stats_json=%s", val);
	expect_set_error("set: string too long", assign,
			 "command line: [output] stats_json: value longer than 255 characters", false);
	val[255] = '\0';
	snprintf(assign, sizeof(assign), "output.stats_json=%s", val);
	ft_config_defaults(&c);
	ret = ft_config_set_dotted(&c, assign, err, sizeof(err));
	checkf("set: 255-character string", ret == 0 && strlen(c.stats_json) == 255, "%d '%s'", ret,
	       err);

	/* A tiny buffer still ends up terminated and the call still fails. */
	ret = ft_config_set_dotted(&c, "ports.rx_desc=1", err, 8);
	checkf("set: small error buffer", ret == -1 && strlen(err) == 7, "%d '%s'", ret, err);
	ret = ft_config_set_dotted(&c, "ports.rx_desc=1", NULL, 0);
	checkf("set: no error buffer", ret == -1, "%d", ret);
}

static void
test_foreach(void)
{
	struct ft_config c, back;
	struct visit v;
	char err[512] = "";
	char assign[FT_CONFIG_STR_LEN + 80];
	unsigned int i, j, dup = 0, bad = 0;

	ft_config_defaults(&c);
	memset(&v, 0, sizeof(v));
	ft_config_foreach(&c, collect, &v);
	for (i = 0; i < v.count && i < NB_KEYS * 2; i++)
		for (j = i + 1; j < v.count && j < NB_KEYS * 2; j++)
			if (strcmp(v.keys[i], v.keys[j]) == 0)
				dup++;
	checkf("foreach: every key once", v.count == NB_KEYS && dup == 0, "%u keys, %u duplicates",
	       v.count, dup);

	checkf("foreach: value text",
	       visit_get(&v, "general.mode") != NULL &&
		       strcmp(visit_get(&v, "general.mode"), "passive") == 0 &&
		       strcmp(visit_get(&v, "general.checksums"), "auto") == 0 &&
		       strcmp(visit_get(&v, "control.socket_mode"), "0600") == 0 &&
		       strcmp(visit_get(&v, "ports.promiscuous"), "yes") == 0 &&
		       strcmp(visit_get(&v, "events.every_occurrence"), "no") == 0 &&
		       strcmp(visit_get(&v, "output.stats_json"), "") == 0 &&
		       strcmp(visit_get(&v, "ports.mbufs"), "65535") == 0 &&
		       strcmp(visit_get(&v, "events.ring"), "4096") == 0 &&
		       strcmp(visit_get(&v, "ports.pairs"), "auto") == 0,
	       "unexpected text");

	/* What foreach prints, --set reads back: change every key first. */
	ft_config_set_dotted(&c, "general.mode=inline", err, sizeof(err));
	ft_config_set_dotted(&c, "general.checksums=strict", err, sizeof(err));
	ft_config_set_dotted(&c, "ports.pairs=0-1,2-3", err, sizeof(err));
	ft_config_set_dotted(&c, "control.socket_mode=0640", err, sizeof(err));
	ft_config_set_dotted(&c, "ports.rss=no", err, sizeof(err));
	ft_config_set_dotted(&c, "output.flow_log=/tmp/f.json", err, sizeof(err));
	ft_config_set_dotted(&c, "events.recent=7", err, sizeof(err));
	memset(&v, 0, sizeof(v));
	ft_config_foreach(&c, collect, &v);
	ft_config_defaults(&back);
	for (i = 0; i < v.count && i < NB_KEYS * 2; i++) {
		snprintf(assign, sizeof(assign), "%s=%s", v.keys[i], v.values[i]);
		if (ft_config_set_dotted(&back, assign, err, sizeof(err)) != 0) {
			printf("     %s\n", err);
			bad++;
		}
	}
	checkf("foreach: round trip through --set", bad == 0 && memcmp(&c, &back, sizeof(c)) == 0,
	       "%u failed, records %s", bad,
	       memcmp(&c, &back, sizeof(c)) == 0 ? "equal" : "differ");
}

int
main(void)
{
	find_conf();
	test_defaults();
	test_conf_file();
	test_errors();
	test_file_values();
	test_set();
	test_foreach();
	return ft_unit_summary();
}
