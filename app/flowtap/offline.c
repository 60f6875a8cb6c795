/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checks on a capture before anything starts: the net_pcap PMD ignores the
 * link type and says little about unreadable files, so flowtap looks at the
 * capture first, refuses what it cannot analyse with one clear line, and
 * counts the frames so it knows when the capture is consumed. lib/capture
 * walks a pcap's record headers or a pcapng's blocks (a read() per MiB);
 * anything it does not read exactly as the PMD would (another link type,
 * several pcapng sections, a damaged file, jumbo frames) is opened and
 * counted with libpcap, as the PMD will read it.
 */
#include <dirent.h>
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

	if (stat(path, &st) < 0)
		return ft_fail("cannot open capture '%s': %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return ft_fail("cannot open capture '%s': is a directory", path);
	/* Read twice (counted here, replayed by net_pcap): a pipe cannot be. */
	if (!S_ISREG(st.st_mode))
		return ft_fail("cannot open capture '%s': not a regular file (pipes and devices cannot be replayed)",
			       path);
	if (access(path, R_OK) < 0)
		return ft_fail("cannot open capture '%s': %s", path, strerror(errno));
	if (st.st_size == 0)
		return ft_fail("cannot open capture '%s': empty file", path);

	/* When the scan cannot read the file, libpcap says why below. */
	if (ft_capture_scan(path, app->cfg.mbuf_size - RTE_PKTMBUF_HEADROOM, &info) == 0 &&
	    info.readable) {
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
		return ft_fail("capture '%s' has link type %s (%d); flowtap reads Ethernet captures only",
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
