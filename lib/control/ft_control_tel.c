/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building telemetry replies: dictionaries addressed by dotted paths, lists
 * of rows, and an estimate of the rendered size of each, so a list can stop
 * before DPDK would silently leave part of it out.
 *
 * Key names. DPDK 22.11 telemetry accepts only [A-Za-z0-9_/] in dictionary
 * names, so a dotted counter path such as "packets.rx" cannot be a key.
 * Every dotted path is therefore written as nesting: "packets.rx" becomes
 * {"packets": {"rx": N}}. This is the shape of the --stats-json file, and a
 * client gets the dotted paths back by joining the keys with dots.
 *
 * Size estimate. An entry renders as ,"name":value (strings quoted, and at
 * worst every character escaped as \u00XX when it is a control character);
 * the estimate counts each piece at its largest, so a row measured to fit
 * does fit.
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "ft_control_priv.h"

void
ft_tel_tree_init(struct ft_tel_tree *t, struct rte_tel_data *root)
{
	t->root = root;
	t->n_nodes = 0;
	t->n_failed = 0;
	t->bytes = 0;
}

/* ,"name": */
static size_t
entry_size(size_t name_len)
{
	return name_len + 4;
}

static size_t
u64_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* Quoted, each character at its escaped length. */
static size_t
str_size(const char *s)
{
	size_t n = 2;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		n += c < 0x20 ? 6 : (c == '"' || c == '\\') ? 2 : 1;
	}
	return n;
}

/* Count an add that telemetry refused (<0) or truncated (E2BIG). */
static void
ft_tel_check(struct ft_tel_tree *t, int rc)
{
	if (rc != 0)
		t->n_failed++;
}

/* The nested dictionary for the first @p plen bytes of @p path (whose last
 * component starts at @p comp), created in @p parent when missing.
 * Returns false when it cannot be made; *out is NULL when measuring. */
static bool
ft_tel_tree_node(struct ft_tel_tree *t, struct rte_tel_data *parent, const char *path,
		 size_t plen, const char *comp, struct rte_tel_data **out)
{
	char name[RTE_TEL_MAX_STRING_LEN];
	struct rte_tel_data *d = NULL;
	size_t clen = (size_t)(path + plen - comp);
	unsigned int i;

	if (plen >= FT_TEL_PATH_LEN || clen >= sizeof(name))
		return false;
	for (i = 0; i < t->n_nodes; i++)
		if (strncmp(t->node[i].path, path, plen) == 0 && t->node[i].path[plen] == '\0') {
			*out = t->node[i].d;
			return true;
		}
	if (t->n_nodes == FT_TEL_TREE_NODES)
		return false;
	memcpy(name, comp, clen);
	name[clen] = '\0';
	if (t->root != NULL) {
		d = rte_tel_data_alloc();
		if (d == NULL)
			return false;
		rte_tel_data_start_dict(d);
		if (rte_tel_data_add_dict_container(parent, name, d, 0) < 0) {
			/* Not attached: telemetry will not free it. */
			rte_tel_data_free(d);
			return false;
		}
	}
	t->bytes += entry_size(clen) + 2;
	memcpy(t->node[t->n_nodes].path, path, plen);
	t->node[t->n_nodes].path[plen] = '\0';
	t->node[t->n_nodes].d = d;
	t->n_nodes++;
	*out = d;
	return true;
}

/* The dictionary that holds the last component of @p path; *leaf is set to
 * that component. False (and counted) when a container cannot be made. */
static bool
ft_tel_tree_parent(struct ft_tel_tree *t, const char *path, struct rte_tel_data **parent,
		   const char **leaf)
{
	struct rte_tel_data *d = t->root;
	const char *comp = path;
	const char *dot;

	while ((dot = strchr(comp, '.')) != NULL) {
		if (!ft_tel_tree_node(t, d, path, (size_t)(dot - path), comp, &d)) {
			t->n_failed++;
			return false;
		}
		comp = dot + 1;
	}
	*leaf = comp;
	*parent = d;
	return true;
}

void
ft_tel_put_u64(struct ft_tel_tree *t, const char *path, uint64_t v)
{
	struct rte_tel_data *d;
	const char *leaf;

	if (!ft_tel_tree_parent(t, path, &d, &leaf))
		return;
	t->bytes += entry_size(strlen(leaf)) + u64_size(v);
	if (d != NULL)
		ft_tel_check(t, rte_tel_data_add_dict_u64(d, leaf, v));
}

void
ft_tel_put_int(struct ft_tel_tree *t, const char *path, int v)
{
	struct rte_tel_data *d;
	const char *leaf;

	if (!ft_tel_tree_parent(t, path, &d, &leaf))
		return;
	t->bytes += entry_size(strlen(leaf)) + 1 + u64_size(v < 0 ? -(int64_t)v : v);
	if (d != NULL)
		ft_tel_check(t, rte_tel_data_add_dict_int(d, leaf, v));
}

void
ft_tel_put_str(struct ft_tel_tree *t, const char *path, const char *s)
{
	char buf[RTE_TEL_MAX_STRING_LEN];
	struct rte_tel_data *d;
	const char *leaf;

	if (!ft_tel_tree_parent(t, path, &d, &leaf))
		return;
	if (strlen(s) >= sizeof(buf)) {
		snprintf(buf, sizeof(buf), "%.*s...", (int)sizeof(buf) - 4, s);
		s = buf;
	}
	t->bytes += entry_size(strlen(leaf)) + str_size(s);
	if (d != NULL)
		ft_tel_check(t, rte_tel_data_add_dict_string(d, leaf, s));
}

void
ft_tel_put_u64_array(struct ft_tel_tree *t, const char *path, const uint64_t *v, unsigned int n)
{
	struct rte_tel_data *d, *a;
	const char *leaf;
	unsigned int i;

	if (!ft_tel_tree_parent(t, path, &d, &leaf))
		return;
	t->bytes += entry_size(strlen(leaf)) + 2;
	for (i = 0; i < n; i++)
		t->bytes += u64_size(v[i]) + 1;
	if (d == NULL)
		return;
	a = rte_tel_data_alloc();
	if (a == NULL) {
		t->n_failed++;
		return;
	}
	rte_tel_data_start_array(a, RTE_TEL_U64_VAL);
	for (i = 0; i < n; i++)
		ft_tel_check(t, rte_tel_data_add_array_u64(a, v[i]));
	if (rte_tel_data_add_dict_container(d, leaf, a, 0) < 0) {
		rte_tel_data_free(a);
		t->n_failed++;
	}
}

void
ft_tel_report(unsigned int n_failed, const char *cmd)
{
	static unsigned int reported;

	if (n_failed == 0 || __atomic_exchange_n(&reported, 1, __ATOMIC_RELAXED))
		return;
	FT_CTL_LOG(WARNING, "%s: %u entries did not fit the telemetry reply", cmd, n_failed);
}

struct rte_tel_data *
ft_tel_row(struct rte_tel_data *d, const char *key)
{
	struct rte_tel_data *row = rte_tel_data_alloc();

	if (row == NULL)
		return NULL;
	rte_tel_data_start_dict(row);
	if (rte_tel_data_add_dict_container(d, key, row, 0) < 0) {
		rte_tel_data_free(row);
		return NULL;
	}
	return row;
}

unsigned int
ft_tel_rows_fit(ft_tel_row_fn fn, const void *arg, unsigned int first, unsigned int n,
		size_t budget, bool backwards)
{
	/* The row's key ("0" .. "n-1") at its longest, and its braces. */
	const size_t key = entry_size(u64_size(n)) + 2;
	struct ft_tel_tree t;
	size_t used = 0;
	unsigned int k;

	for (k = 0; k < n; k++) {
		ft_tel_tree_init(&t, NULL);
		fn(&t, arg, backwards ? first + n - 1 - k : first + k);
		if (used + t.bytes + key > budget)
			break;
		used += t.bytes + key;
	}
	return k;
}

unsigned int
ft_tel_rows_into(struct rte_tel_data *dict, ft_tel_row_fn fn, const void *arg, unsigned int first,
		 unsigned int n)
{
	unsigned int failed = 0, i;

	for (i = 0; i < n; i++) {
		struct rte_tel_data *row;
		struct ft_tel_tree t;
		char key[16];

		snprintf(key, sizeof(key), "%u", i);
		row = ft_tel_row(dict, key);
		if (row == NULL) {
			failed++;
			continue;
		}
		ft_tel_tree_init(&t, row);
		fn(&t, arg, first + i);
		failed += t.n_failed;
	}
	return failed;
}

unsigned int
ft_tel_rows_add(struct rte_tel_data *d, const char *name, ft_tel_row_fn fn, const void *arg,
		unsigned int first, unsigned int n)
{
	struct rte_tel_data *list = ft_tel_row(d, name);

	if (list == NULL)
		return n + 1;
	return ft_tel_rows_into(list, fn, arg, first, n);
}

int
ft_tel_error(struct rte_tel_data *d, const char *fmt, ...)
{
	char msg[512];
	struct ft_tel_tree t;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rte_tel_data_start_dict(d);
	ft_tel_tree_init(&t, d);
	ft_tel_put_str(&t, "error", msg);
	return 0;
}

void
ft_ctl_format_ts(char *buf, size_t len, uint64_t ns)
{
	snprintf(buf, len, "%" PRIu64 ".%06" PRIu64, ns / 1000000000u, ns % 1000000000u / 1000u);
}
