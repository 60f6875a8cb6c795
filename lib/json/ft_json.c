/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <string.h>

#include "ft_json.h"

void
ft_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	for (; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			/* Bytes >= 0x80 are escaped one by one: the input (payload
			 * snippets, file names) need not be UTF-8, the output must be. */
			if (*p < 0x20 || *p >= 0x80)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

FILE *
ft_json_open_output(const char *path)
{
	if (path == NULL || path[0] == '\0')
		return NULL;
	if (strcmp(path, "-") == 0)
		return stdout;
	return fopen(path, "w");
}

void
ft_json_close_output(FILE *f)
{
	if (f == NULL)
		return;
	if (f == stdout)
		fflush(f);
	else
		fclose(f);
}

void
ft_json_ts(FILE *f, uint64_t ns)
{
	fprintf(f, "%" PRIu64 ".%06" PRIu64, ns / UINT64_C(1000000000),
		(ns % UINT64_C(1000000000)) / 1000);
}
