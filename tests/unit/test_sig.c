/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/sig: the rules file's every error with its exact FILE:LINE message,
 * the port map, and matching in stream order on segments fed directly: in
 * one segment, across two, out of order, retransmitted (never scanned
 * twice), gaps given up (hold limit, chunk pool), once per flow per rule
 * (both directions), every match, end-anchored matches reported at close,
 * per-rule ports, sequence wrap, pool exhaustion and recovery.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <rte_common.h>
#include <rte_memory.h>

#include "ft_sig.h"
#include "ft_stats.h"
#include "ft_unit.h"

static char dir_path[PATH_MAX];

/* Write @p text to a rules file named @p name in the test directory. */
static const char *
rules_file(const char *name, const char *text)
{
	static char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir_path, name);
	if (text == NULL)
		return path; /* just its name */
	f = fopen(path, "w");
	if (f == NULL)
		return path;
	fputs(text, f);
	fclose(f);
	return path;
}

/* Load @p text; the error (or "" on success) in @p err; the set freed. */
static int
load_text(const char *text, char *err, size_t errlen, unsigned int *n_rules)
{
	struct ft_sig_set *s = NULL;
	int rc;

	err[0] = '\0';
	rc = ft_sig_load(rules_file("r.rules", text), false, &s, err, errlen);
	if (n_rules != NULL)
		*n_rules = ft_sig_rule_count(s);
	ft_sig_set_free(s);
	return rc;
}

static void
expect_error(const char *name, const char *text, const char *want_tail)
{
	char err[512], want[PATH_MAX + 512];

	snprintf(want, sizeof(want), "%s/r.rules:%s", dir_path, want_tail);
	checkf(fmt("parse: %s", name), load_text(text, err, sizeof(err), NULL) < 0 &&
	       strcmp(err, want) == 0, "got '%s', want '%s'", err, want);
}

static void
test_parse(void)
{
	char err[512];
	unsigned int n = 99;
	struct ft_sig_set *s = NULL;
	const struct ft_sig_rule *r;
	char buf[64];
	int rc;

	check("parse: empty file is no rules", load_text("", err, sizeof(err), &n) == 0 && n == 0);
	check("parse: comments and blank lines only",
	      load_text("# nothing\n\n   \t\n  # indented\n", err, sizeof(err), &n) == 0 && n == 0);
	rc = ft_sig_load(rules_file("ok.rules",
				    "# c\n"
				    "7 25,587,25 /VRFY\\s/im \"SMTP \\\"VRFY\\\" probe\"  # trailing comment\n"
				    "\t8\tany\t/a\\/b#c/s\t\"slash # in pattern\"\r\n"
				    "4294967295 65535,1 /x/ \"max\"\n"),
			 false, &s, err, sizeof(err));
	checkf("parse: a valid file", rc == 0 && ft_sig_rule_count(s) == 3, "rc %d: %s", rc, err);
	r = ft_sig_rule_at(s, 0);
	check("parse: rule 1 fields", r != NULL && r->id == 7 && r->line == 2 && !r->any_port &&
	      r->n_ports == 2 && r->ports[0] == 25 && r->ports[1] == 587 &&
	      strcmp(r->pattern, "VRFY\\s") == 0 && strcmp(r->flags, "im") == 0 &&
	      strcmp(r->msg, "SMTP \"VRFY\" probe") == 0 &&
	      strcmp(ft_sig_rule_ports(r, buf, sizeof(buf)), "25,587") == 0);
	r = ft_sig_rule_at(s, 1);
	check("parse: rule 2 fields (tabs, escaped slash, '#' in pattern and message, CRLF)",
	      r != NULL && r->id == 8 && r->any_port && strcmp(r->pattern, "a\\/b#c") == 0 &&
	      strcmp(r->flags, "s") == 0 && strcmp(r->msg, "slash # in pattern") == 0 &&
	      strcmp(ft_sig_rule_ports(r, buf, sizeof(buf)), "any") == 0);
	r = ft_sig_rule_at(s, 2);
	check("parse: largest ID and port", r != NULL && r->id == 4294967295u && r->n_ports == 2 &&
	      r->ports[0] == 1 && r->ports[1] == 65535);
	check("parse: ports cut with ...", r != NULL &&
	      strcmp(ft_sig_rule_ports(ft_sig_rule_at(s, 0), buf, 7), "25...") == 0);
	ft_sig_set_free(s);

	expect_error("ID not a number", "abc 25 /x/ \"m\"\n",
		     "1: ID 'abc' is not a positive integer (1-4294967295)");
	expect_error("ID 0", "# first\n0 25 /x/ \"m\"\n",
		     "2: ID '0' is not a positive integer (1-4294967295)");
	expect_error("ID too large", "4294967296 25 /x/ \"m\"\n",
		     "1: ID '4294967296' is not a positive integer (1-4294967295)");
	expect_error("ID negative", "-3 25 /x/ \"m\"\n",
		     "1: ID '-3' is not a positive integer (1-4294967295)");
	expect_error("only an ID", "5\n",
		     "1: missing ports, pattern and message (ID PORTS /PATTERN/FLAGS \"MESSAGE\")");
	expect_error("no pattern", "5 25\n",
		     "1: missing pattern and message (ID PORTS /PATTERN/FLAGS \"MESSAGE\")");
	expect_error("bad port", "5 25,smtp /x/ \"m\"\n",
		     "1: bad port 'smtp' in '25,smtp' (ports are 1-65535, comma-separated, or any)");
	expect_error("empty port", "5 25,,80 /x/ \"m\"\n",
		     "1: bad port '' in '25,,80' (ports are 1-65535, comma-separated, or any)");
	expect_error("any in a list", "5 any,25 /x/ \"m\"\n",
		     "1: bad port 'any' in 'any,25' (ports are 1-65535, comma-separated, or any)");
	expect_error("port 0", "5 0 /x/ \"m\"\n", "1: port 0 out of range (1-65535)");
	expect_error("port 65536", "5 80,65536 /x/ \"m\"\n", "1: port 65536 out of range (1-65535)");
	expect_error("pattern without slash", "5 25 VRFY \"m\"\n",
		     "1: the pattern must start with '/'");
	expect_error("unterminated pattern", "5 25 /VRFY\\/ \"m\"\n",
		     "1: unterminated pattern (no closing '/')");
	expect_error("empty pattern", "5 25 // \"m\"\n", "1: empty pattern");
	expect_error("unknown flag", "5 25 /x/ix \"m\"\n", "1: unknown flag 'x' (flags are i, m, s)");
	expect_error("missing quotes", "5 25 /x/i message\n",
		     "1: missing message: it must follow the pattern in double quotes");
	expect_error("missing message", "5 25 /x/i\n",
		     "1: missing message: it must follow the pattern in double quotes");
	expect_error("unterminated message", "5 25 /x/ \"message\n",
		     "1: unterminated message (no closing '\"')");
	expect_error("empty message", "5 25 /x/ \"\"\n", "1: empty message");
	expect_error("message too long",
		     "5 25 /x/ \"0123456789012345678901234567890123456789012345678901234567890123\"\n",
		     "1: message longer than 63 bytes");
	expect_error("trailing garbage", "5 25 /x/ \"m\" extra words\n",
		     "1: trailing garbage 'extra words' after the message");
	expect_error("duplicate ID", "5 25 /x/ \"m\"\n\n6 25 /y/ \"n\"\n5 80 /z/ \"o\"\n",
		     "4: duplicate ID 5 (first on line 1)");
	expect_error("pattern Hyperscan rejects", "5 25 /x/ \"m\"\n# c\n6 25 /a(b/ \"n\"\n",
		     "3: pattern /a(b/ rejected by Hyperscan: Missing close parenthesis for "
		     "group started at index 1.");
	expect_error("pattern matching the empty buffer", "1 25 /x/ \"m\"\n2 25 /a*/ \"n\"\n",
		     "2: pattern /a*/ rejected by Hyperscan: Pattern matches empty buffer; use "
		     "HS_FLAG_ALLOWEMPTY to enable support.");

	{
		FILE *f = fopen(rules_file("nul.rules", ""), "w");

		if (f != NULL) {
			fwrite("1 25 /x/ \"m\"\n2 25 /y\0/ \"n\"\n", 1, 27, f);
			fclose(f);
		}
		rc = ft_sig_load(rules_file("nul.rules", NULL), false, &s, err, sizeof(err));
		checkf("parse: a NUL byte", rc < 0 && strstr(err, "/nul.rules:2: a NUL byte in the line"),
		       "got '%s'", err);
	}
	rc = ft_sig_load("/nonexistent/x.rules", false, &s, err, sizeof(err));
	checkf("parse: missing file", rc < 0 && s == NULL &&
	       strcmp(err, "/nonexistent/x.rules: cannot read the rules file: "
			   "No such file or directory") == 0, "got '%s'", err);
}

static void
test_ports(void)
{
	struct ft_sig_set *s = NULL, *a = NULL;
	char err[512];

	ft_sig_load(rules_file("p.rules", "1 25,587 /x/ \"m\"\n2 80 /y/ \"n\"\n3 65535 /z/ \"o\"\n"),
		    false, &s, err, sizeof(err));
	check("ports: either end", s != NULL && ft_sig_port_wanted(s, 1042, 25) &&
	      ft_sig_port_wanted(s, 25, 1042) && ft_sig_port_wanted(s, 587, 587) &&
	      ft_sig_port_wanted(s, 80, 1) && ft_sig_port_wanted(s, 2, 65535));
	check("ports: unnamed", s != NULL && !ft_sig_port_wanted(s, 1042, 1043) &&
	      !ft_sig_port_wanted(s, 24, 26) && !ft_sig_port_wanted(s, 0, 65534) &&
	      !ft_sig_port_wanted(s, 586, 588));
	ft_sig_load(rules_file("a.rules", "1 25 /x/ \"m\"\n2 any /y/ \"n\"\n"), false, &a, err,
		    sizeof(err));
	check("ports: any", a != NULL && ft_sig_port_wanted(a, 1, 2) && ft_sig_port_wanted(a, 0, 0));
	check("ports: no rules, no port", !ft_sig_port_wanted(NULL, 25, 25));
	ft_sig_set_free(s);
	ft_sig_set_free(a);
}

/* Matching ------------------------------------------------------------------- */

#define MAX_SEEN 64

static struct {
	unsigned int n;
	uint32_t id[MAX_SEEN];
	unsigned int dir[MAX_SEEN];
	uint64_t end[MAX_SEEN];
} seen;

static void
on_match(void *arg, const struct ft_sig_match *m)
{
	RTE_SET_USED(arg);
	if (seen.n < MAX_SEEN) {
		seen.id[seen.n] = m->rule->id;
		seen.dir[seen.n] = m->dir;
		seen.end[seen.n] = m->end;
	}
	seen.n++;
}

static struct ft_stats st;

struct env {
	struct ft_sig_set *set;
	struct ft_sig_worker *w;
};

/* A rule set and a worker's matching state for one test; a failure is a
 * failed check ("env"), and the test returns. */
static bool
env_make(struct env *e, const char *rules, bool every, uint32_t streams, uint32_t ooo_bytes,
	 uint32_t chunks)
{
	struct ft_sig_worker_params prm = {
		.streams = streams, .ooo_bytes = ooo_bytes, .ooo_chunks = chunks,
		.socket = SOCKET_ID_ANY, .stats = &st,
	};
	char err[512];

	memset(e, 0, sizeof(*e));
	memset(&st, 0, sizeof(st));
	memset(&seen, 0, sizeof(seen));
	if (ft_sig_load(rules_file("m.rules", rules), every, &e->set, err, sizeof(err)) < 0) {
		printf("# %s\n", err);
		check("env", false);
		return false;
	}
	e->w = ft_sig_worker_create(e->set, &prm);
	if (e->w == NULL)
		check("env", false);
	return e->w != NULL;
}

static void
env_free(struct env *e)
{
	ft_sig_worker_free(e->w);
	ft_sig_set_free(e->set);
}

/* Feed @p text at @p seq of a direction whose stream starts at isn + 1. */
static void
feed(struct env *e, uint32_t slot, unsigned int dir, uint32_t isn, uint32_t seq, const char *text)
{
	struct ft_sig_segment seg = {
		.seq = seq, .len = (uint32_t)strlen(text), .caplen = (uint32_t)strlen(text),
		.data = (const uint8_t *)text, .isn_known = true, .isn = isn,
	};

	ft_sig_flow_feed(e->w, slot, dir, &seg, on_match, NULL);
}

#define CTR(name) st.ctr[FT_CTR_SIG_##name]
#define SMTP_RULES "1001 25,587 /VRFY\\s/i \"VRFY\"\n1002 25 /EXPN\\s/i \"EXPN\"\n" \
		   "1003 80 /GET \\/etc\\/passwd/ \"passwd\"\n1004 any /bye$/ \"end\"\n"

static void
test_in_order(void)
{
	struct env e;
	uint32_t h;

	if (!env_make(&e, SMTP_RULES, false, 64, 16384, 64))
		return;
	h = ft_sig_flow_open(e.w, 1042, 25);
	check("open: a slot", h != FT_SIG_NONE && h != FT_SIG_OFF && CTR(FLOWS) == 1);
	feed(&e, h, 0, 1000, 1001, "helpVRFY root\r\n");
	checkf("in one segment: one match", seen.n == 1 && seen.id[0] == 1001 && seen.dir[0] == 0 &&
	       seen.end[0] == 9 && CTR(MATCHES) == 1 && CTR(BYTES) == 15,
	       "n %u id %u end %" PRIu64 " bytes %" PRIu64, seen.n, seen.id[0], seen.end[0],
	       CTR(BYTES));
	feed(&e, h, 0, 1000, 1016, "VRFY admin\r\nEX");
	check("same rule again: no second match", seen.n == 1 && CTR(MATCHES) == 1);
	feed(&e, h, 0, 1000, 1030, "PN users\r\n");
	check("across two segments: EXPN", seen.n == 2 && seen.id[1] == 1002 && seen.end[1] == 32);
	feed(&e, h, 1, 5000, 5001, "252 VRFY root\r\n");
	check("other direction, same rule: deduplicated per flow", seen.n == 2 &&
	      CTR(MATCHES) == 2 && CTR(BYTES) == 15 + 14 + 10 + 15);
	feed(&e, h, 0, 1000, 1001, "helpVRFY root\r\n");
	feed(&e, h, 0, 1000, 1010, "oot\r\nVRFY admin\r\nEX");
	check("retransmissions: not scanned again", seen.n == 2 && CTR(BYTES) == 54 &&
	      CTR(GAPS) == 0 && CTR(OOO_HELD) == 0);
	check("per-rule counts", ft_sig_worker_rule_matches(e.w, 0) == 1 &&
	      ft_sig_worker_rule_matches(e.w, 1) == 1 && ft_sig_worker_rule_matches(e.w, 2) == 0);
	check("streams open", ft_sig_worker_streams_open(e.w) == 2);
	feed(&e, h, 1, 5000, 5016, "221 bye");
	check("end-anchored: not before the end", seen.n == 2);
	ft_sig_flow_close(e.w, h, on_match, NULL);
	check("close reports the end-anchored match", seen.n == 3 && seen.id[2] == 1004 &&
	      seen.dir[2] == 1 && seen.end[2] == 22 && ft_sig_worker_streams_open(e.w) == 0);
	env_free(&e);
}

static void
test_out_of_order(void)
{
	struct env e;
	uint32_t h;

	if (!env_make(&e, SMTP_RULES, false, 64, 16384, 64))
		return;
	h = ft_sig_flow_open(e.w, 25, 40000);
	feed(&e, h, 0, 1000, 1003, "FY root\r\n");
	check("out of order: held, nothing scanned", seen.n == 0 && CTR(BYTES) == 0 &&
	      CTR(OOO_HELD) == 1);
	feed(&e, h, 0, 1000, 1004, "Y ro");
	check("a retransmission of held bytes is not held twice", CTR(OOO_HELD) == 1 &&
	      CTR(BYTES) == 0);
	feed(&e, h, 0, 1000, 1001, "VR");
	checkf("gap filled: match, every byte once", seen.n == 1 && seen.id[0] == 1001 &&
	       CTR(BYTES) == 2 + 9 && CTR(GAPS) == 0, "n %u bytes %" PRIu64 " gaps %" PRIu64,
	       seen.n, CTR(BYTES), CTR(GAPS));
	/* Three segments in reverse order, overlapping. */
	feed(&e, h, 0, 1000, 1020, "users\r\n");
	feed(&e, h, 0, 1000, 1015, "EXPN us");
	feed(&e, h, 0, 1000, 1012, "\r\nX");
	check("reverse order, overlapping: one match, each byte once", seen.n == 2 &&
	      seen.id[1] == 1002 && CTR(BYTES) == 11 + 3 + 5 + 7 && CTR(OOO_HELD) == 3);
	ft_sig_flow_close(e.w, h, on_match, NULL);
	env_free(&e);
}

/* A receiver that refused scanned bytes (a Fast Open SYN's data): what comes
 * there next is scanned; a held chunk above stays held. */
static void
test_unscan(void)
{
	struct env e;
	uint32_t h;

	if (!env_make(&e, SMTP_RULES, false, 64, 16384, 64))
		return;
	h = ft_sig_flow_open(e.w, 1046, 25);
	feed(&e, h, 0, 1000, 1001, "VRFX root\r\n");
	feed(&e, h, 0, 1000, 1022, "PN x\r\n");
	ft_sig_flow_unscan(e.w, h, 0, 1020);
	ft_sig_flow_unscan(e.w, h, 1, 5001);
	check("unscan at or past the next byte, or of a stream not open: nothing",
	      CTR(RESCANNED) == 0 && CTR(BYTES) == 11 && CTR(OOO_HELD) == 1);
	ft_sig_flow_unscan(e.w, h, 0, 1001);
	feed(&e, h, 0, 1000, 1001, "VRFY root\r\n");
	checkf("refused, then other bytes there: scanned, matched", seen.n == 1 &&
	       seen.id[0] == 1001 && CTR(RESCANNED) == 1 && CTR(BYTES) == 22,
	       "n %u rescanned %" PRIu64 " bytes %" PRIu64, seen.n, CTR(RESCANNED), CTR(BYTES));
	feed(&e, h, 0, 1000, 1012, "VRFY x\r\nEX");
	check("the held chunk above drains in order", seen.n == 2 && seen.id[1] == 1002 &&
	      CTR(BYTES) == 22 + 10 + 6 && CTR(GAPS) == 0);
	ft_sig_flow_close(e.w, h, on_match, NULL);
	ft_sig_flow_unscan(e.w, h, 0, 1001);
	ft_sig_flow_unscan(e.w, FT_SIG_OFF, 0, 1001);
	check("closed, or no slot: nothing", CTR(RESCANNED) == 1);
	env_free(&e);
}

static void
test_gaps(void)
{
	struct env e;
	uint32_t h;

	if (!env_make(&e, SMTP_RULES, false, 64, 32, 64))
		return;
	h = ft_sig_flow_open(e.w, 25, 40000);
	feed(&e, h, 0, 1000, 1101, "VRFY 01234567890123456789");  /* 25 bytes: held */
	check("held within the limit", CTR(OOO_HELD) == 1 && CTR(BYTES) == 0);
	feed(&e, h, 0, 1000, 1201, "EXPN 0123456789");            /* 15: 40 > 32 */
	checkf("limit: the oldest gap given up, held bytes scanned, the new segment held",
	       CTR(GAPS) == 1 && CTR(BYTES) == 25 && seen.n == 1 && seen.id[0] == 1001 &&
	       CTR(OOO_HELD) == 2, "gaps %" PRIu64 " bytes %" PRIu64 " n %u held %" PRIu64,
	       CTR(GAPS), CTR(BYTES), seen.n, CTR(OOO_HELD));
	feed(&e, h, 0, 1000, 1300, "0123456789012345678901234567890123456789"); /* 40 > 32 */
	check("a segment larger than the limit: every gap given up, scanned", CTR(GAPS) == 3 &&
	      CTR(BYTES) == 25 + 15 + 40 && seen.n == 2 && seen.id[1] == 1002);
	feed(&e, h, 0, 1000, 1400, "VRFY x");
	ft_sig_flow_close(e.w, h, on_match, NULL);
	check("close: held bytes scanned, their gap counted", CTR(GAPS) == 4 &&
	      CTR(BYTES) == 80 + 6 && seen.n == 2);
	env_free(&e);

	/* The chunk pool runs out before the byte limit. */
	if (!env_make(&e, SMTP_RULES, false, 64, 16384, 2))
		return;
	h = ft_sig_flow_open(e.w, 25, 40000);
	{
		static char big[600];

		memset(big, 'a', sizeof(big) - 1);
		feed(&e, h, 0, 1000, 2001, big);   /* two chunks: the pool */
		check("chunks: a 599-byte segment takes two", CTR(OOO_HELD) == 1);
		feed(&e, h, 0, 1000, 3001, "VRFY x");
		check("chunks: pool empty, gap given up", CTR(GAPS) == 1 && CTR(BYTES) == 599 &&
		      CTR(OOO_HELD) == 2);
	}
	ft_sig_flow_close(e.w, h, on_match, NULL);
	check("chunks: closed, match from held bytes", seen.n == 1 && CTR(GAPS) == 2);
	env_free(&e);
}

static void
test_cut_and_midstream(void)
{
	struct env e;
	struct ft_sig_segment seg;
	uint32_t h;

	if (!env_make(&e, SMTP_RULES, false, 64, 16384, 64))
		return;
	h = ft_sig_flow_open(e.w, 25, 40000);
	memset(&seg, 0, sizeof(seg));
	seg.seq = 777777;
	seg.data = (const uint8_t *)"EXPN x\r\n";
	seg.len = 100;
	seg.caplen = 8;
	seg.isn_known = false;
	ft_sig_flow_feed(e.w, h, 0, &seg, on_match, NULL);
	check("mid-stream: starts at the first byte seen; a cut segment is a gap",
	      seen.n == 1 && CTR(BYTES) == 8 && CTR(GAPS) == 1);
	seg.seq = 777877;
	seg.data = (const uint8_t *)"VRFY y";
	seg.len = seg.caplen = 6;
	ft_sig_flow_feed(e.w, h, 0, &seg, on_match, NULL);
	check("after the cut: in order", seen.n == 2 && CTR(BYTES) == 14 && CTR(OOO_HELD) == 0);
	ft_sig_flow_close(e.w, h, on_match, NULL);
	env_free(&e);
}

static void
test_wrap_ports_every(void)
{
	struct env e;
	uint32_t h;

	if (!env_make(&e, SMTP_RULES, false, 64, 16384, 64))
		return;
	h = ft_sig_flow_open(e.w, 40000, 587);
	feed(&e, h, 0, 0xfffffff9u, 0xfffffffau, "xxxxVR");
	feed(&e, h, 0, 0xfffffff9u, 0, "FY root");
	check("sequence wrap: in order across 2^32", seen.n == 1 && seen.id[0] == 1001);
	feed(&e, h, 0, 0xfffffff9u, 0xfffffffcu, "xxVRFY root");
	check("sequence wrap: retransmission trimmed", CTR(BYTES) == 13);
	feed(&e, h, 0, 0xfffffff9u, 7, "EXPN a GET /etc/passwd ");
	check("rules of other ports do not match (EXPN: 25, passwd: 80)", seen.n == 1);
	ft_sig_flow_close(e.w, h, on_match, NULL);
	env_free(&e);

	if (!env_make(&e, SMTP_RULES, true, 64, 16384, 64))
		return;
	h = ft_sig_flow_open(e.w, 1042, 25);
	feed(&e, h, 0, 1000, 1001, "VRFY a\r\nVRFY b\r\n");
	feed(&e, h, 1, 5000, 5001, "VRFY c");
	feed(&e, h, 0, 1000, 1001, "VRFY a\r\nVRFY b\r\n");
	check("every_match: each occurrence, never a retransmission", seen.n == 3 &&
	      CTR(MATCHES) == 3 && ft_sig_worker_rule_matches(e.w, 0) == 3);
	ft_sig_flow_close(e.w, h, on_match, NULL);
	env_free(&e);
}

static void
test_pools(void)
{
	uint32_t h[17];
	struct env e;
	unsigned int i;
	bool ok = true;

	if (!env_make(&e, SMTP_RULES, false, 16, 16384, 64))
		return;
	for (i = 0; i < 16; i++) {
		h[i] = ft_sig_flow_open(e.w, 1042, 25);
		ok = ok && h[i] != FT_SIG_OFF;
	}
	h[16] = ft_sig_flow_open(e.w, 1042, 25);
	check("slots: 16, the 17th refused and counted", ok && h[16] == FT_SIG_OFF &&
	      CTR(STREAMS_FULL) == 1 && CTR(FLOWS) == 16);
	for (i = 0; i < 16; i++) {
		feed(&e, h[i], 0, 1000, 1001, "VRFY x ");
		feed(&e, h[i], 1, 5000, 5001, "VRFY y ");
	}
	checkf("streams: 16 (8 flows), the other 16 directions not matched, counted",
	       ft_sig_worker_streams_open(e.w) == 16 && CTR(STREAMS_FULL) == 1 + 16 &&
	       seen.n == 8, "open %u full %" PRIu64 " seen %u", ft_sig_worker_streams_open(e.w),
	       CTR(STREAMS_FULL), seen.n);
	feed(&e, h[15], 1, 5000, 5008, "EXPN z ");
	check("a direction without a stream stays unmatched", seen.n == 8);
	for (i = 0; i < 16; i++)
		ft_sig_flow_close(e.w, h[i], on_match, NULL);
	check("closed: every stream back", ft_sig_worker_streams_open(e.w) == 0);
	ok = true;
	for (i = 0; i < 16; i++) {
		h[i] = ft_sig_flow_open(e.w, 1042, 25);
		feed(&e, h[i], 0, 1000, 1001, "x");
		feed(&e, h[i], 1, 5000, 5001, "y");
		ok = ok && h[i] != FT_SIG_OFF;
	}
	check("pools reused after close", ok && ft_sig_worker_streams_open(e.w) == 16 &&
	      CTR(STREAMS_FULL) == 17 + 16);
	for (i = 0; i < 16; i++)
		ft_sig_flow_close(e.w, h[i], on_match, NULL);
	ft_sig_flow_close(e.w, FT_SIG_OFF, on_match, NULL);
	ft_sig_flow_close(e.w, FT_SIG_NONE, on_match, NULL);
	check("memory estimate covers the pools", ft_sig_worker_memory(e.set,
	      &(struct ft_sig_worker_params){ .streams = 16, .ooo_chunks = 64 }) >
	      16 * ft_sig_stream_size(e.set) + 64 * FT_SIG_CHUNK_DATA);
	env_free(&e);
}

int
main(int argc, char **argv)
{
	RTE_SET_USED(argc);
	RTE_SET_USED(argv);
	if (ft_unit_eal_init("sig") < 0)
		return ft_unit_summary();
	snprintf(dir_path, sizeof(dir_path), "/tmp/ft-test-sig-%d", (int)getpid());
	if (mkdir(dir_path, 0700) != 0) {
		check("mkdir", false);
		return ft_unit_summary();
	}
	test_parse();
	test_ports();
	test_in_order();
	test_out_of_order();
	test_gaps();
	test_cut_and_midstream();
	test_unscan();
	test_wrap_ports_every();
	test_pools();
	nftw(dir_path, ft_unit_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	ft_unit_eal_cleanup();
	return ft_unit_summary();
}
