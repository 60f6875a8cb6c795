/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Payload signatures: the rules file, the Hyperscan database, and each
 * worker's streams with their out-of-order holdings (see ft_sig.h).
 *
 * DPDK has no stream reassembly library (lib/ip_frag is for IP fragments),
 * so the in-order feeding and the bounded holdings are our own: a sorted
 * singly linked list of fixed-size chunks per direction, taken from a
 * per-worker free stack.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* getline() under -std=c11 */
#endif

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_per_lcore.h>

#include "ft_config.h"
#include "ft_sig.h"

#define NIL UINT32_MAX
#define PORT_WORDS (65536 / 64)
/* Stream state blocks are cache-line aligned (Hyperscan asks for at least
 * 8-byte alignment; a whole line also keeps two streams apart). */
#define BLOCK_ALIGN 64

struct ft_sig_set {
	unsigned int n_rules;
	struct ft_sig_rule *rules;
	hs_database_t *db;          /* NULL without rules */
	hs_scratch_t *scratch;      /* prototype the workers clone */
	size_t stream_size;
	bool every_match;
	bool any_port;              /* some rule is "any" */
	uint64_t port_map[PORT_WORDS];
};

enum dir_state {
	DIR_NEW = 0, /* no segment yet: the stream opens on the first */
	DIR_OPEN,
	DIR_OFF,     /* not matched (no stream was free) */
};

struct sig_dir {
	hs_stream_t *stream;
	uint32_t next_seq;      /* next byte to scan */
	uint32_t held;          /* first held chunk (lowest seq), NIL when none */
	uint32_t held_bytes;
	uint8_t state;          /* enum dir_state */
};

struct sig_flow {
	struct sig_dir d[2];
	uint16_t port[2];       /* the flow's two ports (per-rule port filter) */
};

/* Bytes held out of order: a piece of one segment, sorted by seq. */
struct sig_chunk {
	uint32_t next;
	uint32_t seq;
	uint16_t len;
	uint8_t pad[6];
	uint8_t data[FT_SIG_CHUNK_DATA];
};

struct ft_sig_worker {
	const struct ft_sig_set *set;
	struct ft_stats *stats;
	hs_scratch_t *scratch;
	uint32_t ooo_bytes;
	uint32_t streams_open;
	unsigned int words;         /* 64-bit words of one flow's matched-rule bitmap */
	/* flow slots */
	uint32_t n_slots, n_free_slots;
	uint32_t *free_slots;
	struct sig_flow *flows;
	uint64_t *matched;          /* words per slot */
	/* stream state blocks (Hyperscan's stream allocator) */
	size_t block_size;
	uint8_t *blocks;
	uint32_t n_blocks, n_free_blocks;
	uint32_t *free_blocks;
	/* out-of-order chunks */
	uint32_t n_chunks, n_free_chunks;
	uint32_t *free_chunks;
	struct sig_chunk *chunks;
	uint64_t *rule_matches;     /* per rule; this worker is the only writer */
};

/* Rules file ---------------------------------------------------------------- */

static const char *
skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static bool
is_blank_or_end(char c)
{
	return c == ' ' || c == '\t' || c == '\0' || c == '\r' || c == '\n';
}

/* The field starting at *sp, up to a blank: copied into buf (cut to fit). */
static void
take_field(const char **sp, char *buf, size_t len)
{
	const char *s = *sp;
	size_t n = 0;

	while (!is_blank_or_end(*s)) {
		if (n + 1 < len)
			buf[n++] = *s;
		s++;
	}
	buf[n] = '\0';
	*sp = s;
}

/* What a line says, before compiling. */
struct parsed {
	uint32_t id;
	bool any_port;
	uint16_t n_ports;
	uint16_t ports[64];
	char flags[4];
	uint32_t hs_flags;
	char msg[FT_SIG_MSG_LEN];
	const char *pat;        /* in the line */
	size_t pat_len;
};

static int
parse_id(const char *f, struct parsed *r, const char **why, char *why_buf, size_t wlen)
{
	uint64_t v = 0;
	const char *s;

	for (s = f; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			break;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			break;
	}
	if (*f == '\0' || *s != '\0' || v == 0 || v > UINT32_MAX) {
		snprintf(why_buf, wlen, "ID '%.32s' is not a positive integer (1-4294967295)", f);
		*why = why_buf;
		return -1;
	}
	r->id = (uint32_t)v;
	return 0;
}

static int
cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static int
parse_ports(const char *f, struct parsed *r, const char **why, char *why_buf, size_t wlen)
{
	const char *s = f;
	unsigned int i, k;

	if (strcmp(f, "any") == 0) {
		r->any_port = true;
		return 0;
	}
	for (;;) {
		uint32_t v = 0;
		const char *start = s;

		while (isdigit((unsigned char)*s)) {
			if (v <= 65535)
				v = v * 10 + (uint32_t)(*s - '0');
			s++;
		}
		if (s == start || (*s != ',' && *s != '\0')) {
			const char *end = strchr(start, ',');
			int n = end != NULL ? (int)(end - start) : (int)strlen(start);

			snprintf(why_buf, wlen, "bad port '%.*s' in '%.64s' (ports are 1-65535, "
				 "comma-separated, or any)", RTE_MIN(n, 32), start, f);
			*why = why_buf;
			return -1;
		}
		if (v == 0 || v > 65535) {
			snprintf(why_buf, wlen, "port %.*s out of range (1-65535)",
				 (int)RTE_MIN(s - start, 32), start);
			*why = why_buf;
			return -1;
		}
		if (r->n_ports == RTE_DIM(r->ports)) {
			snprintf(why_buf, wlen, "more than %u ports in one rule (use several rules)",
				 (unsigned int)RTE_DIM(r->ports));
			*why = why_buf;
			return -1;
		}
		r->ports[r->n_ports++] = (uint16_t)v;
		if (*s == '\0')
			break;
		s++;
	}
	qsort(r->ports, r->n_ports, sizeof(r->ports[0]), cmp_u16);
	for (i = 1, k = 1; i < r->n_ports; i++)
		if (r->ports[i] != r->ports[k - 1])
			r->ports[k++] = r->ports[i];
	r->n_ports = (uint16_t)k;
	return 0;
}

/*
 * Parse one line. @return 1 for a rule, 0 for a blank or comment line, -1
 * with *why set.
 */
static int
parse_line(const char *line, struct parsed *r, const char **why, char *why_buf, size_t wlen)
{
	char field[128];
	const char *s = skip_blanks(line);
	size_t n;

	memset(r, 0, sizeof(*r));
	if (*s == '\0' || *s == '#' || *s == '\n' || *s == '\r')
		return 0;
	take_field(&s, field, sizeof(field));
	if (parse_id(field, r, why, why_buf, wlen) < 0)
		return -1;
	s = skip_blanks(s);
	if (*s == '\0' || *s == '\n' || *s == '\r' || *s == '#') {
		*why = "missing ports, pattern and message (ID PORTS /PATTERN/FLAGS \"MESSAGE\")";
		return -1;
	}
	take_field(&s, field, sizeof(field));
	if (parse_ports(field, r, why, why_buf, wlen) < 0)
		return -1;
	s = skip_blanks(s);
	if (*s != '/') {
		*why = *s == '\0' || *s == '\n' || *s == '\r' || *s == '#' ?
		       "missing pattern and message (ID PORTS /PATTERN/FLAGS \"MESSAGE\")" :
		       "the pattern must start with '/'";
		return -1;
	}
	r->pat = ++s;
	while (*s != '\0' && *s != '/') {
		if (*s == '\\' && s[1] != '\0')
			s++;
		s++;
	}
	if (*s != '/') {
		*why = "unterminated pattern (no closing '/')";
		return -1;
	}
	r->pat_len = (size_t)(s - r->pat);
	if (r->pat_len == 0) {
		*why = "empty pattern";
		return -1;
	}
	for (s++; !is_blank_or_end(*s) && *s != '"'; s++) {
		uint32_t fl;

		switch (*s) {
		case 'i':
			fl = HS_FLAG_CASELESS;
			break;
		case 'm':
			fl = HS_FLAG_MULTILINE;
			break;
		case 's':
			fl = HS_FLAG_DOTALL;
			break;
		default:
			snprintf(why_buf, wlen, "unknown flag '%c' (flags are i, m, s)", *s);
			*why = why_buf;
			return -1;
		}
		if (!(r->hs_flags & fl)) {
			n = strlen(r->flags);
			r->flags[n] = *s;
			r->flags[n + 1] = '\0';
		}
		r->hs_flags |= fl;
	}
	s = skip_blanks(s);
	if (*s != '"') {
		*why = "missing message: it must follow the pattern in double quotes";
		return -1;
	}
	n = 0;
	for (s++; *s != '\0' && *s != '"' && *s != '\n' && *s != '\r'; s++) {
		if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		if (n + 1 >= sizeof(r->msg)) {
			snprintf(why_buf, wlen, "message longer than %u bytes",
				 (unsigned int)sizeof(r->msg) - 1);
			*why = why_buf;
			return -1;
		}
		r->msg[n++] = *s;
	}
	r->msg[n] = '\0';
	if (*s != '"') {
		*why = "unterminated message (no closing '\"')";
		return -1;
	}
	if (n == 0) {
		*why = "empty message";
		return -1;
	}
	s = skip_blanks(s + 1);
	while (*s == '\r' || *s == '\n')
		s++;
	if (*s != '\0' && *s != '#') {
		snprintf(why_buf, wlen, "trailing garbage '%.*s' after the message",
			 (int)RTE_MIN(strcspn(s, "\r\n"), (size_t)32), s);
		*why = why_buf;
		return -1;
	}
	return 1;
}

static void
rules_free(struct ft_sig_rule *rules, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		free(rules[i].ports);
		free(rules[i].pattern);
	}
	free(rules);
}

/* Append a parsed rule. @return 0, or -1 when memory is short. */
static int
rule_add(struct ft_sig_set *s, unsigned int *cap, const struct parsed *p, unsigned int line)
{
	struct ft_sig_rule *r;

	if (s->n_rules == *cap) {
		unsigned int c = *cap ? *cap * 2 : 16;
		struct ft_sig_rule *v = realloc(s->rules, c * sizeof(*v));

		if (v == NULL)
			return -1;
		s->rules = v;
		*cap = c;
	}
	r = &s->rules[s->n_rules];
	memset(r, 0, sizeof(*r));
	r->id = p->id;
	r->line = line;
	r->hs_flags = p->hs_flags;
	r->any_port = p->any_port;
	memcpy(r->flags, p->flags, sizeof(r->flags));
	memcpy(r->msg, p->msg, sizeof(r->msg));
	r->pattern = strndup(p->pat, p->pat_len);
	if (p->n_ports != 0) {
		r->ports = malloc(p->n_ports * sizeof(r->ports[0]));
		if (r->ports != NULL)
			memcpy(r->ports, p->ports, p->n_ports * sizeof(r->ports[0]));
	}
	s->n_rules++; /* counted even when short of memory: freed with the rest */
	if (r->pattern == NULL || (p->n_ports != 0 && r->ports == NULL))
		return -1;
	r->n_ports = p->n_ports;
	return 0;
}

static int
compile(struct ft_sig_set *s, const char *path, char *err, size_t errlen)
{
	const char **exprs = calloc(s->n_rules, sizeof(*exprs));
	unsigned int *flags = calloc(s->n_rules, sizeof(*flags));
	unsigned int *ids = calloc(s->n_rules, sizeof(*ids));
	hs_compile_error_t *ce = NULL;
	unsigned int i;
	int rc = -1;

	if (exprs == NULL || flags == NULL || ids == NULL) {
		ft_config_errorf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	for (i = 0; i < s->n_rules; i++) {
		exprs[i] = s->rules[i].pattern;
		/* Once per stream per rule is all the default needs: Hyperscan
		 * then stops following a rule once it matched. */
		flags[i] = s->rules[i].hs_flags | (s->every_match ? 0 : HS_FLAG_SINGLEMATCH);
		ids[i] = i;
	}
	if (hs_compile_multi(exprs, flags, ids, s->n_rules, HS_MODE_STREAM, NULL, &s->db, &ce) !=
	    HS_SUCCESS) {
		if (ce != NULL && ce->expression >= 0 && (unsigned int)ce->expression < s->n_rules)
			ft_config_errorf(err, errlen, "%s:%u: pattern /%s/ rejected by Hyperscan: %s", path,
				s->rules[ce->expression].line, s->rules[ce->expression].pattern,
				ce->message);
		else
			ft_config_errorf(err, errlen, "%s: Hyperscan cannot compile the rules: %s", path,
				ce != NULL ? ce->message : "unknown error");
		hs_free_compile_error(ce);
		s->db = NULL;
		goto out;
	}
	if (hs_stream_size(s->db, &s->stream_size) != HS_SUCCESS ||
	    hs_alloc_scratch(s->db, &s->scratch) != HS_SUCCESS) {
		ft_config_errorf(err, errlen, "%s: Hyperscan cannot allocate its scratch space", path);
		goto out;
	}
	rc = 0;
out:
	free(exprs);
	free(flags);
	free(ids);
	return rc;
}

int
ft_sig_load(const char *path, bool every_match, struct ft_sig_set **out, char *err, size_t errlen)
{
	struct ft_sig_set *s;
	unsigned int cap = 0, lineno = 0, i, k;
	char *line = NULL;
	size_t linecap = 0;
	FILE *f;
	int rc = -1;

	*out = NULL;
	f = fopen(path, "r");
	if (f == NULL) {
		ft_config_errorf(err, errlen, "%s: cannot read the rules file: %s", path, strerror(errno));
		return -1;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		fclose(f);
		ft_config_errorf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	s->every_match = every_match;
	for (;;) {
		const ssize_t len = getline(&line, &linecap, f);
		char why_buf[160];
		const char *why = NULL;
		struct parsed p;
		int r;

		if (len < 0)
			break;
		lineno++;
		if ((size_t)len != strlen(line)) {
			ft_config_errorf(err, errlen, "%s:%u: a NUL byte in the line", path, lineno);
			goto fail;
		}
		r = parse_line(line, &p, &why, why_buf, sizeof(why_buf));
		if (r < 0) {
			ft_config_errorf(err, errlen, "%s:%u: %s", path, lineno, why);
			goto fail;
		}
		if (r == 0)
			continue;
		for (i = 0; i < s->n_rules; i++)
			if (s->rules[i].id == p.id) {
				ft_config_errorf(err, errlen, "%s:%u: duplicate ID %" PRIu32 " (first on line %u)",
					path, lineno, p.id, s->rules[i].line);
				goto fail;
			}
		if (rule_add(s, &cap, &p, lineno) < 0) {
			ft_config_errorf(err, errlen, "%s:%u: out of memory", path, lineno);
			goto fail;
		}
	}
	if (ferror(f)) {
		ft_config_errorf(err, errlen, "%s: read error: %s", path, strerror(errno));
		goto fail;
	}
	for (i = 0; i < s->n_rules; i++) {
		const struct ft_sig_rule *r = &s->rules[i];

		if (r->any_port)
			s->any_port = true;
		for (k = 0; k < r->n_ports; k++)
			s->port_map[r->ports[k] / 64] |= UINT64_C(1) << (r->ports[k] % 64);
	}
	if (s->n_rules != 0 && compile(s, path, err, errlen) < 0)
		goto fail;
	*out = s;
	s = NULL;
	rc = 0;
fail:
	free(line);
	fclose(f);
	ft_sig_set_free(s);
	return rc;
}

void
ft_sig_set_free(struct ft_sig_set *s)
{
	if (s == NULL)
		return;
	hs_free_scratch(s->scratch);
	hs_free_database(s->db);
	rules_free(s->rules, s->n_rules);
	free(s);
}

unsigned int
ft_sig_rule_count(const struct ft_sig_set *s)
{
	return s != NULL ? s->n_rules : 0;
}

const struct ft_sig_rule *
ft_sig_rule_at(const struct ft_sig_set *s, unsigned int i)
{
	return s != NULL && i < s->n_rules ? &s->rules[i] : NULL;
}

char *
ft_sig_rule_ports(const struct ft_sig_rule *r, char *buf, size_t len)
{
	size_t used = 0;
	unsigned int i;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (r->any_port) {
		snprintf(buf, len, "any");
		return buf;
	}
	for (i = 0; i < r->n_ports; i++) {
		char one[8];
		int n = snprintf(one, sizeof(one), "%s%u", i ? "," : "", r->ports[i]);

		if (used + (size_t)n + sizeof("...") > len) {
			snprintf(buf + used, len - used, "...");
			break;
		}
		memcpy(buf + used, one, (size_t)n + 1);
		used += (size_t)n;
	}
	return buf;
}

static inline bool
port_bit(const struct ft_sig_set *s, uint16_t p)
{
	return (s->port_map[p / 64] >> (p % 64)) & 1;
}

bool
ft_sig_port_wanted(const struct ft_sig_set *s, uint16_t a, uint16_t b)
{
	if (s == NULL || s->n_rules == 0)
		return false;
	return s->any_port || port_bit(s, a) || port_bit(s, b);
}

size_t
ft_sig_stream_size(const struct ft_sig_set *s)
{
	return s != NULL ? s->stream_size : 0;
}

static bool
rule_names_port(const struct ft_sig_rule *r, uint16_t p)
{
	return bsearch(&p, r->ports, r->n_ports, sizeof(p), cmp_u16) != NULL;
}

/* Workers -------------------------------------------------------------------- */

/*
 * Hyperscan allocates a stream's state through one process-wide allocator
 * that gets no context: the worker opening or closing a stream publishes
 * itself in this per-lcore variable first, so the allocator takes a block
 * from that worker's free stack and never calls malloc.
 */
static RTE_DEFINE_PER_LCORE(struct ft_sig_worker *, sig_cur);

static void *
stream_alloc(size_t size)
{
	struct ft_sig_worker *w = RTE_PER_LCORE(sig_cur);

	if (w == NULL || size > w->block_size || w->n_free_blocks == 0)
		return NULL;
	return w->blocks + (size_t)w->free_blocks[--w->n_free_blocks] * w->block_size;
}

static void
stream_free(void *p)
{
	struct ft_sig_worker *w = RTE_PER_LCORE(sig_cur);
	size_t off;

	if (w == NULL || p == NULL)
		return;
	off = (size_t)((uint8_t *)p - w->blocks);
	if ((uint8_t *)p < w->blocks || off / w->block_size >= w->n_blocks)
		return; /* not ours: never happens, but never corrupt the stack */
	w->free_blocks[w->n_free_blocks++] = (uint32_t)(off / w->block_size);
}

static unsigned int
bitmap_words(const struct ft_sig_set *s)
{
	return (s->n_rules + 63) / 64;
}

static size_t
block_size(const struct ft_sig_set *s)
{
	return RTE_ALIGN_CEIL(s->stream_size, (size_t)BLOCK_ALIGN);
}

uint64_t
ft_sig_worker_memory(const struct ft_sig_set *s, const struct ft_sig_worker_params *prm)
{
	uint64_t per_stream;

	if (s == NULL || s->n_rules == 0)
		return 0;
	/* A slot, its bitmap and free-stack entry; a block and its entry. */
	per_stream = sizeof(struct sig_flow) + bitmap_words(s) * 8 + 4 + block_size(s) + 4;
	return (uint64_t)prm->streams * per_stream +
	       (uint64_t)prm->ooo_chunks * (sizeof(struct sig_chunk) + 4) + s->n_rules * 8 +
	       sizeof(struct ft_sig_worker) + 8 * RTE_CACHE_LINE_SIZE;
}

static void *
zalloc(const char *what, size_t n, size_t size, int socket)
{
	if (n == 0)
		n = 1;
	return rte_zmalloc_socket(what, n * size, RTE_CACHE_LINE_SIZE, socket);
}

struct ft_sig_worker *
ft_sig_worker_create(const struct ft_sig_set *s, const struct ft_sig_worker_params *prm)
{
	struct ft_sig_worker *w;
	uint32_t i;

	if (s == NULL || s->n_rules == 0 || prm->streams == 0 || prm->streams >= NIL - 1) {
		rte_errno = EINVAL;
		return NULL;
	}
	/* Process-wide; the same functions for every worker. */
	if (hs_set_stream_allocator(stream_alloc, stream_free) != HS_SUCCESS) {
		rte_errno = EINVAL;
		return NULL;
	}
	w = zalloc("ft_sig_worker", 1, sizeof(*w), prm->socket);
	if (w == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	w->set = s;
	w->stats = prm->stats;
	w->ooo_bytes = prm->ooo_bytes;
	w->words = bitmap_words(s);
	w->n_slots = w->n_free_slots = prm->streams;
	w->n_blocks = w->n_free_blocks = prm->streams;
	w->n_chunks = w->n_free_chunks = prm->ooo_chunks;
	w->block_size = block_size(s);
	w->free_slots = zalloc("ft_sig_slots", w->n_slots, sizeof(uint32_t), prm->socket);
	w->flows = zalloc("ft_sig_flows", w->n_slots, sizeof(struct sig_flow), prm->socket);
	w->matched = zalloc("ft_sig_matched", (size_t)w->n_slots * w->words, sizeof(uint64_t),
			    prm->socket);
	w->free_blocks = zalloc("ft_sig_free_blocks", w->n_blocks, sizeof(uint32_t), prm->socket);
	w->blocks = rte_zmalloc_socket("ft_sig_blocks", (size_t)w->n_blocks * w->block_size,
				       BLOCK_ALIGN, prm->socket);
	w->free_chunks = zalloc("ft_sig_free_chunks", w->n_chunks, sizeof(uint32_t), prm->socket);
	w->chunks = zalloc("ft_sig_chunks", w->n_chunks, sizeof(struct sig_chunk), prm->socket);
	w->rule_matches = zalloc("ft_sig_rule_matches", s->n_rules, sizeof(uint64_t), prm->socket);
	if (w->free_slots == NULL || w->flows == NULL || w->matched == NULL ||
	    w->free_blocks == NULL || w->blocks == NULL || w->free_chunks == NULL ||
	    w->chunks == NULL || w->rule_matches == NULL ||
	    hs_clone_scratch(s->scratch, &w->scratch) != HS_SUCCESS) {
		ft_sig_worker_free(w);
		rte_errno = ENOMEM;
		return NULL;
	}
	/* Stacks popped from the top: slot 0, block 0, chunk 0 go first. */
	for (i = 0; i < w->n_slots; i++) {
		w->free_slots[i] = w->n_slots - 1 - i;
		w->free_blocks[i] = w->n_blocks - 1 - i;
	}
	for (i = 0; i < w->n_chunks; i++)
		w->free_chunks[i] = w->n_chunks - 1 - i;
	return w;
}

void
ft_sig_worker_free(struct ft_sig_worker *w)
{
	if (w == NULL)
		return;
	hs_free_scratch(w->scratch);
	rte_free(w->free_slots);
	rte_free(w->flows);
	rte_free(w->matched);
	rte_free(w->free_blocks);
	rte_free(w->blocks);
	rte_free(w->free_chunks);
	rte_free(w->chunks);
	rte_free(w->rule_matches);
	rte_free(w);
}

uint64_t
ft_sig_worker_rule_matches(const struct ft_sig_worker *w, unsigned int i)
{
	if (w == NULL || i >= w->set->n_rules)
		return 0;
	return __atomic_load_n(&w->rule_matches[i], __ATOMIC_RELAXED);
}

uint32_t
ft_sig_worker_streams_open(const struct ft_sig_worker *w)
{
	return w != NULL ? __atomic_load_n(&w->streams_open, __ATOMIC_RELAXED) : 0;
}

uint32_t
ft_sig_flow_open(struct ft_sig_worker *w, uint16_t a, uint16_t b)
{
	struct sig_flow *fl;
	uint32_t idx;

	if (w->n_free_slots == 0) {
		ft_stats_add(w->stats, FT_CTR_SIG_STREAMS_FULL, 1);
		return FT_SIG_OFF;
	}
	idx = w->free_slots[--w->n_free_slots];
	fl = &w->flows[idx];
	memset(fl, 0, sizeof(*fl));
	fl->d[0].held = fl->d[1].held = NIL;
	fl->port[0] = a;
	fl->port[1] = b;
	memset(&w->matched[(size_t)idx * w->words], 0, w->words * sizeof(uint64_t));
	ft_stats_add(w->stats, FT_CTR_SIG_FLOWS, 1);
	return idx + 1;
}

/* Matching ------------------------------------------------------------------- */

/* a before b, modulo 2^32 */
static inline bool
seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

struct scan_ctx {
	struct ft_sig_worker *w;
	uint32_t idx;
	unsigned int dir;
	ft_sig_match_fn fn;
	void *arg;
};

static int
on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
	 void *arg)
{
	struct scan_ctx *c = arg;
	struct ft_sig_worker *w = c->w;
	const struct ft_sig_rule *r;
	const struct sig_flow *fl = &w->flows[c->idx];
	struct ft_sig_match m;

	RTE_SET_USED(from);
	RTE_SET_USED(flags);
	if (id >= w->set->n_rules)
		return 0;
	r = &w->set->rules[id];
	/* One database for every rule: the rule's own ports pick the flows. */
	if (!r->any_port && !rule_names_port(r, fl->port[0]) && !rule_names_port(r, fl->port[1]))
		return 0;
	if (!w->set->every_match) {
		uint64_t *bits = &w->matched[(size_t)c->idx * w->words + id / 64];
		const uint64_t bit = UINT64_C(1) << (id % 64);

		if (*bits & bit)
			return 0; /* the other direction matched it already */
		*bits |= bit;
	}
	ft_stats_add(w->stats, FT_CTR_SIG_MATCHES, 1);
	__atomic_store_n(&w->rule_matches[id], w->rule_matches[id] + 1, __ATOMIC_RELAXED);
	m.rule = r;
	m.rule_idx = id;
	m.dir = c->dir;
	m.end = to;
	if (c->fn != NULL)
		c->fn(c->arg, &m);
	return 0;
}

static void
scan(struct scan_ctx *c, struct sig_dir *d, const uint8_t *data, uint32_t n)
{
	if (n == 0)
		return;
	/* Our callback never stops a scan: an error here would be a broken
	 * stream, and there is nothing better to do than go on. */
	(void)hs_scan_stream(d->stream, (const char *)data, n, 0, c->w->scratch, on_match, c);
	ft_stats_add(c->w->stats, FT_CTR_SIG_BYTES, n);
}

static void
chunk_put(struct ft_sig_worker *w, uint32_t ci)
{
	w->free_chunks[w->n_free_chunks++] = ci;
}

/* Scan what is held and now in order (at or below next_seq). */
static void
drain(struct scan_ctx *c, struct sig_dir *d)
{
	struct ft_sig_worker *w = c->w;

	while (d->held != NIL) {
		const uint32_t ci = d->held;
		struct sig_chunk *ch = &w->chunks[ci];
		const uint32_t end = ch->seq + ch->len;

		if (seq_lt(d->next_seq, ch->seq))
			break;
		if (seq_lt(d->next_seq, end)) {
			const uint32_t off = d->next_seq - ch->seq;

			scan(c, d, ch->data + off, ch->len - off);
			d->next_seq = end;
		}
		d->held = ch->next;
		d->held_bytes -= ch->len;
		chunk_put(w, ci);
	}
}

/* Give up the gap before the first held chunk: scan on from there. */
static void
skip_to_held(struct scan_ctx *c, struct sig_dir *d)
{
	ft_stats_add(c->w->stats, FT_CTR_SIG_GAPS, 1);
	d->next_seq = c->w->chunks[d->held].seq;
	drain(c, d);
}

/*
 * Hold [seq, seq + n) where no held chunk covers it already (the first copy
 * held wins, as the first copy scanned does in order). With @p dry nothing
 * changes: it returns the chunks that would be taken (the new bytes cut at
 * held chunks and at FT_SIG_CHUNK_DATA), so the caller can check the room.
 */
static uint32_t
hold(struct ft_sig_worker *w, struct sig_dir *d, uint32_t seq, const uint8_t *data, uint32_t n,
     bool dry)
{
	const uint32_t end = seq + n;
	uint32_t prev = NIL, cur = d->held, taken = 0;

	while (seq_lt(seq, end)) {
		uint32_t limit, len, ci;
		struct sig_chunk *ch;

		while (cur != NIL && !seq_lt(seq, w->chunks[cur].seq + w->chunks[cur].len)) {
			prev = cur;
			cur = w->chunks[cur].next;
		}
		if (cur != NIL && !seq_lt(seq, w->chunks[cur].seq)) {
			/* Inside a held chunk: skip what it covers. */
			const uint32_t cend = w->chunks[cur].seq + w->chunks[cur].len;
			const uint32_t skip = seq_lt(cend, end) ? cend - seq : end - seq;

			seq += skip;
			data += skip;
			continue;
		}
		limit = (cur != NIL && seq_lt(w->chunks[cur].seq, end)) ? w->chunks[cur].seq : end;
		len = RTE_MIN(limit - seq, (uint32_t)FT_SIG_CHUNK_DATA);
		taken++;
		seq += len;
		if (dry)
			continue;
		ci = w->free_chunks[--w->n_free_chunks];
		ch = &w->chunks[ci];
		ch->seq = seq - len;
		ch->len = (uint16_t)len;
		memcpy(ch->data, data, len);
		ch->next = cur;
		if (prev == NIL)
			d->held = ci;
		else
			w->chunks[prev].next = ci;
		prev = ci;
		d->held_bytes += len;
		data += len;
	}
	return taken;
}

static bool
hold_fits(struct ft_sig_worker *w, struct sig_dir *d, uint32_t seq, const uint8_t *data,
	  uint32_t n)
{
	/* Bytes counted as if nothing overlapped: a bound, never an overrun. */
	return (uint64_t)d->held_bytes + n <= w->ooo_bytes &&
	       w->n_free_chunks >= hold(w, d, seq, data, n, true);
}

static bool
dir_open(struct ft_sig_worker *w, struct sig_dir *d)
{
	RTE_PER_LCORE(sig_cur) = w;
	if (hs_open_stream(w->set->db, 0, &d->stream) != HS_SUCCESS) {
		d->stream = NULL;
		d->state = DIR_OFF;
		ft_stats_add(w->stats, FT_CTR_SIG_STREAMS_FULL, 1);
		return false;
	}
	d->state = DIR_OPEN;
	__atomic_store_n(&w->streams_open, w->streams_open + 1, __ATOMIC_RELAXED);
	return true;
}

void
ft_sig_flow_feed(struct ft_sig_worker *w, uint32_t slot, unsigned int dir,
		 const struct ft_sig_segment *seg, ft_sig_match_fn fn, void *arg)
{
	struct scan_ctx c = { .w = w, .idx = slot - 1, .dir = dir & 1, .fn = fn, .arg = arg };
	struct sig_dir *d;
	const uint8_t *data = seg->data;
	uint32_t seq = seg->seq;
	uint32_t n = RTE_MIN(seg->caplen, seg->len);

	if (slot == FT_SIG_NONE || slot == FT_SIG_OFF || slot > w->n_slots || seg->len == 0)
		return;
	d = &w->flows[c.idx].d[c.dir];
	if (d->state == DIR_NEW) {
		if (!dir_open(w, d))
			return;
		d->next_seq = seg->isn_known ? seg->isn + 1 : seq;
	}
	if (d->state != DIR_OPEN)
		return;
	while (n != 0) {
		uint32_t off;

		if (!seq_lt(d->next_seq, seq + n))
			break; /* all of it scanned already: a retransmission */
		if (seq_lt(seq, d->next_seq)) {
			off = d->next_seq - seq;
			seq += off;
			data += off;
			n -= off;
		}
		if (seq == d->next_seq) {
			scan(&c, d, data, n);
			d->next_seq = seq + n;
			drain(&c, d);
			break;
		}
		if (hold_fits(w, d, seq, data, n)) {
			/* Counted when it brought bytes not held yet. */
			if (hold(w, d, seq, data, n, false) != 0)
				ft_stats_add(w->stats, FT_CTR_SIG_OOO_HELD, 1);
			break;
		}
		/* No room to wait for the gap: give up the oldest one and try
		 * again; with nothing held, give up the gap before this one. */
		if (d->held != NIL) {
			skip_to_held(&c, d);
		} else {
			ft_stats_add(w->stats, FT_CTR_SIG_GAPS, 1);
			d->next_seq = seq;
		}
	}
	/* The capture cut the segment: its missing bytes are a gap. */
	if (seg->caplen < seg->len && d->next_seq == seg->seq + seg->caplen) {
		ft_stats_add(w->stats, FT_CTR_SIG_GAPS, 1);
		d->next_seq = seg->seq + seg->len;
		drain(&c, d);
	}
}

void
ft_sig_flow_unscan(struct ft_sig_worker *w, uint32_t slot, unsigned int dir, uint32_t seq)
{
	struct sig_dir *d;

	if (slot == FT_SIG_NONE || slot == FT_SIG_OFF || slot > w->n_slots)
		return;
	d = &w->flows[slot - 1].d[dir & 1];
	/* Held chunks all lie above next_seq: they stay held. */
	if (d->state == DIR_OPEN && seq_lt(seq, d->next_seq)) {
		d->next_seq = seq;
		ft_stats_add(w->stats, FT_CTR_SIG_RESCANNED, 1);
	}
}

void
ft_sig_flow_close(struct ft_sig_worker *w, uint32_t slot, ft_sig_match_fn fn, void *arg)
{
	struct scan_ctx c = { .w = w, .idx = slot - 1, .fn = fn, .arg = arg };
	unsigned int i;

	if (slot == FT_SIG_NONE || slot == FT_SIG_OFF || slot > w->n_slots)
		return;
	RTE_PER_LCORE(sig_cur) = w;
	for (i = 0; i < 2; i++) {
		struct sig_dir *d = &w->flows[c.idx].d[i];

		c.dir = i;
		if (d->state != DIR_OPEN)
			continue;
		/* Bytes that crossed the wire are scanned even if a gap before
		 * them never filled. */
		while (d->held != NIL)
			skip_to_held(&c, d);
		/* Reports what matches only at the end of the stream ($). */
		(void)hs_close_stream(d->stream, w->scratch, on_match, &c);
		d->stream = NULL;
		d->state = DIR_OFF;
		__atomic_store_n(&w->streams_open, w->streams_open - 1, __ATOMIC_RELAXED);
	}
	w->free_slots[w->n_free_slots++] = c.idx;
}
