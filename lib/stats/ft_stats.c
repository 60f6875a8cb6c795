/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <string.h>

#include "ft_stats.h"

static const char *const ctr_paths[FT_CTR_MAX] = {
#define FT_CTR_PATH(id, path, final) [FT_CTR_##id] = path,
	FT_COUNTERS(FT_CTR_PATH)
#undef FT_CTR_PATH
};

static const bool ctr_final[FT_CTR_MAX] = {
#define FT_CTR_FINAL(id, path, final) [FT_CTR_##id] = final,
	FT_COUNTERS(FT_CTR_FINAL)
#undef FT_CTR_FINAL
};

const char *
ft_ctr_path(enum ft_ctr id)
{
	return (unsigned int)id < FT_CTR_MAX ? ctr_paths[id] : "unknown";
}

bool
ft_ctr_is_final(enum ft_ctr id)
{
	return (unsigned int)id < FT_CTR_MAX && ctr_final[id];
}

static inline uint64_t
load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void
ft_stats_sum(struct ft_stats *out, struct ft_stats *const *workers, unsigned int n)
{
	unsigned int w, i;

	memset(out, 0, sizeof(*out));
	for (w = 0; w < n; w++) {
		const struct ft_stats *s = workers[w];

		for (i = 0; i < FT_CTR_MAX; i++)
			out->ctr[i] += load(&s->ctr[i]);
		for (i = 0; i < FT_MAL_MAX; i++)
			out->malformed[i] += load(&s->malformed[i]);
		for (i = 0; i < FT_EV_MAX; i++)
			out->anomaly[i] += load(&s->anomaly[i]);
	}
}

uint64_t
ft_stats_malformed_total(const struct ft_stats *s)
{
	uint64_t t = 0;
	unsigned int i;

	for (i = 0; i < FT_MAL_MAX; i++)
		t += s->malformed[i];
	return t;
}

uint64_t
ft_stats_accounted(const struct ft_stats *s)
{
	uint64_t t = ft_stats_malformed_total(s);
	unsigned int i;

	for (i = 0; i < FT_CTR_MAX; i++)
		if (ctr_final[i])
			t += s->ctr[i];
	return t;
}

bool
ft_stats_accounting_ok(const struct ft_stats *s)
{
	return s->ctr[FT_CTR_RX] == ft_stats_accounted(s);
}

/* Length of the group part of a dotted path ("packets" of "packets.rx"). */
static size_t
group_len(const char *path)
{
	const char *dot = strchr(path, '.');

	return dot != NULL ? (size_t)(dot - path) : strlen(path);
}

static void
write_malformed(FILE *f, const struct ft_stats *s, int indent)
{
	unsigned int i;

	fprintf(f, ",\n%*s\"malformed\": {\n%*s\"total\": %" PRIu64, indent, "",
		indent + 2, "", ft_stats_malformed_total(s));
	for (i = 1; i < FT_MAL_MAX; i++)
		fprintf(f, ",\n%*s\"%s\": %" PRIu64, indent + 2, "", ft_malformed_name(i),
			s->malformed[i]);
	fprintf(f, "\n%*s}", indent, "");
}

/* The group's own extra members, then its closing brace. */
static void
close_group(FILE *f, const struct ft_stats *s, const char *group, size_t len, int indent,
	    ft_stats_group_fn extra, void *arg)
{
	char name[32];

	if (strncmp(group, "packets", len) == 0)
		write_malformed(f, s, indent + 2);
	if (extra != NULL) {
		snprintf(name, sizeof(name), "%.*s", (int)len, group);
		extra(f, name, indent + 2, arg);
	}
	fprintf(f, "\n%*s}", indent, "");
}

void
ft_stats_write_json_members(FILE *f, const struct ft_stats *s, int indent)
{
	ft_stats_write_json_members_ext(f, s, indent, NULL, NULL);
}

void
ft_stats_write_json_members_ext(FILE *f, const struct ft_stats *s, int indent,
				ft_stats_group_fn extra, void *arg)
{
	const char *open_group = NULL, *open_sub = NULL;
	size_t open_len = 0, sub_len = 0;
	unsigned int i;

	for (i = 0; i < FT_CTR_MAX; i++) {
		const char *path = ctr_paths[i];
		size_t glen = group_len(path);
		const char *rest = path + glen + 1;
		/* A third level ("defrag.dropped.timeout"): a nested object. */
		const char *dot = strchr(rest, '.');
		size_t slen = dot != NULL ? (size_t)(dot - rest) : 0;
		bool new_group;

		/* Loop bookkeeping is internal; it is on /flowtap/workers. */
		if (strncmp(path, "worker.", 7) == 0)
			continue;
		new_group = open_group == NULL || glen != open_len ||
			    strncmp(path, open_group, glen) != 0;
		if (open_sub != NULL &&
		    (new_group || slen != sub_len || strncmp(rest, open_sub, slen) != 0)) {
			fprintf(f, "\n%*s}", indent + 2, "");
			open_sub = NULL;
		}
		if (new_group) {
			if (open_group != NULL) {
				close_group(f, s, open_group, open_len, indent, extra, arg);
				fputs(",\n", f);
			}
			fprintf(f, "%*s\"%.*s\": {\n", indent, "", (int)glen, path);
			open_group = path;
			open_len = glen;
		} else {
			fputs(",\n", f);
		}
		if (dot != NULL && open_sub == NULL) {
			fprintf(f, "%*s\"%.*s\": {\n", indent + 2, "", (int)slen, rest);
			open_sub = rest;
			sub_len = slen;
		}
		if (dot != NULL)
			fprintf(f, "%*s\"%s\": %" PRIu64, indent + 4, "", dot + 1, s->ctr[i]);
		else
			fprintf(f, "%*s\"%s\": %" PRIu64, indent + 2, "", rest, s->ctr[i]);
	}
	if (open_sub != NULL)
		fprintf(f, "\n%*s}", indent + 2, "");
	if (open_group != NULL) {
		close_group(f, s, open_group, open_len, indent, extra, arg);
		fputs(",\n", f);
	}

	fprintf(f, "%*s\"anomalies\": {", indent, "");
	for (i = 0; i < FT_EV_MAX; i++)
		fprintf(f, "%s\n%*s\"%s\": %" PRIu64, i ? "," : "", indent + 2, "",
			ft_event_name(i), s->anomaly[i]);
	fprintf(f, "\n%*s},\n", indent, "");
	fprintf(f, "%*s\"accounting_ok\": %s", indent, "",
		ft_stats_accounting_ok(s) ? "true" : "false");
}
