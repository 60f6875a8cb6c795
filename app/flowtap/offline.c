/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checks on a capture before anything starts: the net_pcap PMD ignores the
 * link type and says little about unreadable files, so flowtap looks at the
 * capture first, refuses what it cannot analyse with one clear line, and
 * counts the frames so it knows when the capture is consumed. lib/capture
 * walks a pcap's record headers or a pcapng's blocks (a read() per MiB);
 * anything it does not read exactly as the PMD would (another link type,
 * several pcapng sections, a damaged file, jumbo frames) is opened and
 * counted with libpcap, as the PMD will read it. A capture of another link
 * layer that lib/capture reads (Linux cooked, raw IP, loopback: it makes
 * their frames Ethernet, which the PMD does not) is always read by it, on
 * the control lcore; once, as a stream, when its scan refuses the file.
 *
 * A stream (standard input as "-", a FIFO, a pipe such as bash's
 * <(zcat f.pcap.gz)) cannot be read twice: lib/capture opens it here, reads
 * its header (refusing what it cannot read, with why), and the control
 * lcore reads it once, as it arrives; its size is known at its end.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>
#include <rte_mbuf.h>

#include "ft_capture.h"

#include "flowtap.h"

/* Open a stream capture and read its header. */
static int
open_stream(struct ft_app *app, const char *path)
{
	char why[128];
	int fd;

	if (app->opt.reader == FT_READER_WORKER)
		return ft_fail("--reader worker: a stream (--pcap - or a FIFO) is read by the control lcore "
			       "(its worker cannot read it through the pcap PMD)");
	if (strcmp(path, "-") == 0) {
		if (isatty(STDIN_FILENO))
			return ft_fail("--pcap -: standard input is a terminal; pipe a capture into it "
				       "(zcat f.pcap.gz | flowtap --pcap -)");
		fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC); /* a FIFO: waits for a writer */
	}
	if (fd < 0)
		return ft_fail("cannot open capture '%s': %s", path, strerror(errno));
	app->capture_stream_cap = ft_capture_open_stream(fd, why, sizeof(why));
	if (app->capture_stream_cap == NULL)
		return ft_fail("cannot read capture '%s': %s%s", path, why,
			       errno == EINVAL && strncmp(why, "link type", 9) != 0 ?
			       " (a stream is read by flowtap's own reader: save it to a file for "
			       "libpcap to read it)" : "");
	app->capture_stream = true;
	app->capture_native = true;
	app->capture_packets = UINT64_MAX;
	return 0;
}

int
ft_offline_check_capture(struct ft_app *app, const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct ft_capture_info info;
	struct pcap_pkthdr *hdr;
	const u_char *data;
	struct stat st;
	pcap_t *p;
	uint64_t n = 0;
	int dlt, rc;

	if (strcmp(path, "-") == 0)
		return open_stream(app, path);
	if (stat(path, &st) < 0)
		return ft_fail("cannot open capture '%s': %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return ft_fail("cannot open capture '%s': is a directory", path);
	if (S_ISFIFO(st.st_mode))
		return open_stream(app, path);
	/* Read twice (counted here, then analysed): a device cannot be. */
	if (!S_ISREG(st.st_mode))
		return ft_fail("cannot open capture '%s': not a regular file, a FIFO or a pipe", path);
	if (access(path, R_OK) < 0)
		return ft_fail("cannot open capture '%s': %s", path, strerror(errno));
	if (st.st_size == 0)
		return ft_fail("cannot open capture '%s': empty file", path);

	/* When the scan cannot read the file, libpcap says why below. */
	rc = ft_capture_scan(path, app->cfg.mbuf_size - RTE_PKTMBUF_HEADROOM, &info);
	/* The PMD would give a cooked or raw IP frame's link header as it is:
	 * only lib/capture makes it Ethernet, so it reads such a file whatever
	 * the CPUs, and when it cannot read it whole (long frames, a second
	 * section, a damaged record), once, as a stream (long frames chained;
	 * a record it cannot take ends the capture with a warning). */
	if (rc == 0 && info.not_ethernet) {
		if (app->opt.reader == FT_READER_WORKER)
			return ft_fail("--reader worker: capture '%s' is not Ethernet (link type %u): "
				       "flowtap's own reader makes its frames Ethernet on the control lcore, "
				       "the pcap PMD cannot", path, info.linktype);
		app->capture_not_ethernet = true;
		if (!info.readable)
			return open_stream(app, path);
	}
	if (rc == 0 && info.readable) {
		app->capture_native = true;
		app->capture_packets = info.frames;
		return 0;
	}
	p = pcap_open_offline(path, errbuf);
	if (p == NULL)
		return ft_fail("cannot open capture '%s': %s", path, errbuf);
	dlt = pcap_datalink(p);
	if (dlt != DLT_EN10MB) {
		const char *name = pcap_datalink_val_to_name(dlt);

		pcap_close(p);
		return ft_fail("capture '%s' has link type %s (%d); flowtap reads Ethernet, Linux cooked "
			       "(SLL, SLL2), raw IP and BSD loopback captures",
			       path, name != NULL ? name : "unknown", dlt);
	}
	while ((rc = pcap_next_ex(p, &hdr, &data)) == 1)
		n++;
	if (rc == PCAP_ERROR) {
		/* A capture cut off mid-record: analyse what is readable, say so. */
		fprintf(stderr, "flowtap: warning: capture '%s' is damaged after frame %" PRIu64 ": %s\n",
			path, n, pcap_geterr(p));
	}
	pcap_close(p);
	app->capture_packets = n;
	return 0;
}

void
ft_offline_remove_runtime_dir(const char *prefix)
{
	char dir[PATH_MAX], file[PATH_MAX + 256];
	struct dirent *de;
	DIR *d;

	if (prefix == NULL || prefix[0] == '\0')
		return;
	snprintf(dir, sizeof(dir), "%s/dpdk/%s",
		 getuid() == 0 ? "/var/run" : (getenv("XDG_RUNTIME_DIR") ? getenv("XDG_RUNTIME_DIR") : "/tmp"),
		 prefix);
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s", dir, de->d_name);
		unlink(file);
	}
	closedir(d);
	rmdir(dir);
}
