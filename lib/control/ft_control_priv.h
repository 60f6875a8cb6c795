/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FT_CONTROL_PRIV_H
#define FT_CONTROL_PRIV_H

/*
 * Inside lib/control (not installed, not for the app): the helpers its
 * source files share to build telemetry replies, and the command callbacks
 * ft_control.c registers.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_log.h>
#include <rte_telemetry.h>

#include "ft_control.h"

#define FT_CTL_LOG(level, fmt, ...) \
	RTE_LOG(level, USER1, "flowtap control: " fmt "\n", ##__VA_ARGS__)

/* DPDK 22.11 renders a reply into MAX_OUTPUT_LEN (16 KiB, lib/telemetry/
 * telemetry.c) and leaves out, silently, an entry that does not fit. */
#define FT_TEL_REPLY_MAX 16384
/* What the command name, the summary keys of a list reply and the list's
 * own braces may take: rows get the rest. */
#define FT_TEL_REPLY_RESERVE 1024
#define FT_TEL_ROWS_BUDGET (FT_TEL_REPLY_MAX - FT_TEL_REPLY_RESERVE)

#define FT_TEL_TREE_NODES 32
#define FT_TEL_PATH_LEN 96

/*
 * A dictionary whose entries are addressed by dotted paths. Each prefix of a
 * path is a nested dictionary, created on first use and attached to its
 * parent at once (telemetry keeps the pointer and renders it after the
 * callback returns, so it may still be filled afterwards).
 *
 * With a NULL root the tree only measures: every put adds to `bytes` what
 * it would add to the rendered JSON (an upper bound), nothing is allocated.
 * Filling a row once measuring and once for real, with the same code, is
 * how lists stay within the reply size.
 */
struct ft_tel_tree {
	struct rte_tel_data *root;  /* NULL: measure only */
	unsigned int n_nodes;
	unsigned int n_failed;      /* entries that did not fit or were refused */
	size_t bytes;               /* rendered size of what was put, at most */
	struct {
		char path[FT_TEL_PATH_LEN]; /* full dotted prefix */
		struct rte_tel_data *d;     /* NULL when measuring */
	} node[FT_TEL_TREE_NODES];
};

void ft_tel_tree_init(struct ft_tel_tree *t, struct rte_tel_data *root);
void ft_tel_put_u64(struct ft_tel_tree *t, const char *path, uint64_t v);
void ft_tel_put_int(struct ft_tel_tree *t, const char *path, int v);
/* Strings longer than telemetry allows end in "..." rather than being cut
 * silently. */
void ft_tel_put_str(struct ft_tel_tree *t, const char *path, const char *s);
/* An array of numbers under @p path (e.g. a cursor of per-worker values). */
void ft_tel_put_u64_array(struct ft_tel_tree *t, const char *path, const uint64_t *v,
			  unsigned int n);

/* Say once per command that a reply was incomplete (a client polling every
 * second must not fill the log). */
void ft_tel_report(unsigned int n_failed, const char *cmd);

/* A new dictionary @p key inside @p d (rendered after the callback). NULL
 * when it cannot be added. */
struct rte_tel_data *ft_tel_row(struct rte_tel_data *d, const char *key);

/* Fill row @p i of a list into @p t. */
typedef void (*ft_tel_row_fn)(struct ft_tel_tree *t, const void *arg, unsigned int i);

/*
 * How many of rows first, first+1, ... first+n-1 (in that order) fit in
 * @p budget bytes, each keyed by its list index as ft_tel_rows_add() keys it.
 * With @p backwards, rows first+n-1, first+n-2, ... are counted instead (the
 * newest of a list that keeps the newest).
 */
unsigned int ft_tel_rows_fit(ft_tel_row_fn fn, const void *arg, unsigned int first,
			     unsigned int n, size_t budget, bool backwards);

/*
 * Add rows first .. first+n-1 as dictionary @p name of @p d, keyed "0",
 * "1", ... (DPDK 22.11 renders no array of dictionaries inside a
 * dictionary). Returns the entries that did not fit or were refused.
 */
unsigned int ft_tel_rows_add(struct rte_tel_data *d, const char *name, ft_tel_row_fn fn,
			     const void *arg, unsigned int first, unsigned int n);

/* The same rows straight into dictionary @p dict (already started). */
unsigned int ft_tel_rows_into(struct rte_tel_data *dict, ft_tel_row_fn fn, const void *arg,
			      unsigned int first, unsigned int n);

/* A reply that says what went wrong: {"error": "..."}. Returns 0 (the
 * callback's status: a null reply would not say why). */
int ft_tel_error(struct rte_tel_data *d, const char *fmt, ...) __rte_format_printf(2, 3);

/* The view the commands read (NULL before registration). */
const struct ft_control_view *ft_ctl_get_view(void);

/* Sum of every worker's and the control lcore's counters. */
void ft_ctl_sum_stats(const struct ft_control_view *view, struct ft_stats *sum);

/* "1767225600.000015": seconds since the epoch with microseconds. */
void ft_ctl_format_ts(char *buf, size_t len, uint64_t ns);

/* ft_control_query.c */
int ft_ctl_queries_init(const struct ft_control_view *view);
int ft_cmd_flows(const char *cmd, const char *params, struct rte_tel_data *d);
int ft_cmd_flow(const char *cmd, const char *params, struct rte_tel_data *d);
int ft_cmd_ladder(const char *cmd, const char *params, struct rte_tel_data *d);

/* ft_control_events.c */
int ft_ctl_events_init(uint32_t recent);
void ft_ctl_events_release(void);
int ft_cmd_events(const char *cmd, const char *params, struct rte_tel_data *d);
int ft_cmd_anomalies(const char *cmd, const char *params, struct rte_tel_data *d);

#endif /* FT_CONTROL_PRIV_H */
