/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench-decode: the decoder (lib/decode: headers, classification and the
 * symmetric hash) timed alone, on frames of a capture held in memory, in
 * bursts of 32 as a worker decodes them. scripts/bench's "decode" row runs it
 * twice: on a few frames over and over (hot in the cache: the decoder's own
 * cost, steady enough to show a change of a nanosecond) and on many (each
 * frame read from memory, as a worker meets it). No EAL, no port. Not a user
 * tool (not installed).
 *
 *   bench-decode CAPTURE [FRAMES [PASSES]]
 *
 * Output, one line: "bench-decode: frames=N passes=P best_ns=B median_ns=M",
 * nanoseconds per frame of the best and the median pass.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

#include "ft_decode.h"

#define BURST 32

struct frame {
	uint8_t *data;
	uint32_t caplen, wirelen;
};

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static unsigned int
load(const char *path, struct frame *f, unsigned int max)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	unsigned int n = 0;
	pcap_t *p = pcap_open_offline(path, err);

	if (p == NULL) {
		fprintf(stderr, "bench-decode: %s\n", err);
		exit(1);
	}
	while (n < max && pcap_next_ex(p, &h, &d) == 1) {
		f[n].data = malloc(h->caplen);
		if (f[n].data == NULL)
			break;
		memcpy(f[n].data, d, h->caplen);
		f[n].caplen = h->caplen;
		f[n].wirelen = h->len;
		n++;
	}
	pcap_close(p);
	return n;
}

int
main(int argc, char **argv)
{
	unsigned int max = argc > 2 ? (unsigned int)strtoul(argv[2], NULL, 10) : 2048;
	unsigned int passes = argc > 3 ? (unsigned int)strtoul(argv[3], NULL, 10) : 1000;
	struct ft_pkt meta[BURST];
	struct frame *f;
	double *per;
	uint64_t sum = 0;
	unsigned int n, r, i, j;

	if (argc < 2 || max == 0 || passes == 0) {
		fprintf(stderr, "usage: bench-decode CAPTURE [FRAMES [PASSES]]\n");
		return 2;
	}
	f = calloc(max, sizeof(*f));
	per = calloc(passes, sizeof(*per));
	if (f == NULL || per == NULL)
		return 1;
	n = load(argv[1], f, max);
	n -= n % BURST;
	if (n == 0) {
		fprintf(stderr, "bench-decode: %s: fewer than %d frames\n", argv[1], BURST);
		return 1;
	}
	for (r = 0; r < passes; r++) {
		double t0 = now_ns();

		for (i = 0; i < n; i += BURST) {
			for (j = 0; j < BURST; j++)
				ft_decode(f[i + j].data, f[i + j].caplen, f[i + j].wirelen, &meta[j]);
			/* Use every result, as the worker does. */
			for (j = 0; j < BURST; j++)
				sum += meta[j].hash + meta[j].cls;
		}
		per[r] = (now_ns() - t0) / n;
	}
	qsort(per, passes, sizeof(*per), cmp_double);
	printf("bench-decode: frames=%u passes=%u best_ns=%.2f median_ns=%.2f check=%" PRIu64 "\n", n,
	       passes, per[0], per[passes / 2], sum & 0xff);
	for (i = 0; i < n; i++)
		free(f[i].data);
	free(f);
	free(per);
	return 0;
}
