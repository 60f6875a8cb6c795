/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FT_JSON_H
#define FT_JSON_H

/**
 * @file
 * Minimal JSON text helpers shared by the writers of stats, events and flow
 * records (which write on the control lcore, never on a worker).
 */

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Write @p s as a JSON string literal, quotes included, escaping quotes,
 * backslashes and control bytes (bytes >= 0x80 as \u00XX so the output is
 * valid UTF-8 whatever the input).
 */
void ft_json_str(FILE *f, const char *s);

/** Write a time in ns since the epoch as seconds with microseconds (1700000000.123456). */
void ft_json_ts(FILE *f, uint64_t ns);

/**
 * Open an output named by the user: "-" is stdout, "" or NULL is none,
 * anything else a file truncated for writing.
 * @return the stream; NULL for none, or on failure with errno set (callers
 *         tell the two apart by the path)
 */
FILE *ft_json_open_output(const char *path);

/** Close what ft_json_open_output() opened (stdout is flushed, not closed). */
void ft_json_close_output(FILE *f);

#ifdef __cplusplus
}
#endif

#endif /* FT_JSON_H */
