#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Capturing what a live flowtap receives with DPDK's own tool, dpdk-dumpcap.

flowtap runs live (passive) on net_pcap replaying mixed.pcap endlessly; a
dpdk-dumpcap secondary process attaches to it and captures 1000 packets of the
port. They must be the capture's frames, byte for byte, in its order (a run of
consecutive frames, the replay wrapping round). flowtap then stops on SIGINT
with exit 0, exact accounting and every mbuf home (the copies are dumpcap's).

dpdk-dumpcap maps the primary's memory: flowtap must run on hugepages from a
hugetlbfs mount. As root the test reserves 2 MiB hugepages and mounts one for
itself (both undone at the end); without root, or when neither works, it skips.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402

c = ftlib.checker("packet capture with dpdk-dumpcap")

HP = "/sys/kernel/mm/hugepages/hugepages-2048kB"
PAGES = 200          # 400 MiB: flowtap's -m 320 and dumpcap's pool
CAPTURED = 1000


def read_int(path):
    with open(path) as f:
        return int(f.read())


def reserve_hugepages():
    """Make PAGES 2 MiB pages free; returns the count to restore (None: unchanged), or False."""
    try:
        total, free = read_int(HP + "/nr_hugepages"), read_int(HP + "/free_hugepages")
        if free >= PAGES:
            return None
        with open(HP + "/nr_hugepages", "w") as f:
            f.write(str(total + PAGES - free))
        if read_int(HP + "/free_hugepages") >= PAGES:
            return total
        with open(HP + "/nr_hugepages", "w") as f:
            f.write(str(total))
    except OSError:
        pass
    return False


def in_order(got, src):
    """Whether got is a run of src's frames in order, wrapping round."""
    n = len(src)
    for s in (i for i in range(n) if src[i] == got[0]):
        if all(g == src[(s + i) % n] for i, g in enumerate(got)):
            return True
    return False


def main():
    ftlib.require_binary()
    dumpcap = shutil.which("dpdk-dumpcap")
    if os.geteuid() != 0 or dumpcap is None:
        c.skip("dpdk-dumpcap", "needs root (hugepages, a hugetlbfs mount) and dpdk-dumpcap")
        c.finish()
    restore = reserve_hugepages()
    if restore is False:
        c.skip("dpdk-dumpcap", "cannot reserve %d free 2 MiB hugepages" % PAGES)
        c.finish()
    mnt = tempfile.mkdtemp(prefix="ft-hugetlbfs-")
    mounted = subprocess.run(["mount", "-t", "hugetlbfs", "-o", "pagesize=2M", "nodev", mnt],
                             capture_output=True, text=True).returncode == 0
    prefix = "ft-pdump-%d" % os.getpid()
    try:
        if mounted:
            capture(mnt, prefix)
        else:
            c.skip("dpdk-dumpcap", "cannot mount hugetlbfs")
    finally:
        ftlib.remove_runtime_dir(prefix)
        if mounted:
            for f in os.listdir(mnt):  # a killed run's pages
                os.unlink(os.path.join(mnt, f))
            subprocess.run(["umount", mnt], capture_output=True)
        os.rmdir(mnt)
        if restore is not None:
            with open(HP + "/nr_hugepages", "w") as f:
                f.write(str(restore))
    c.finish()


def capture(mnt, prefix):
    """flowtap live on hugepages of @p mnt, dpdk-dumpcap attached to it."""
    proc = None
    with ftlib.tempdir() as tmp:
        try:
            src = ftlib.data("mixed.pcap")
            st_path, out = os.path.join(tmp, "stats.json"), os.path.join(tmp, "dump.pcapng")
            # dumpcap maps flowtap's memory at the same addresses: put it
            # where neither process has anything else (the ASan build's
            # shadow memory moved it into the shared-library area, which a
            # secondary process may already use: "Cannot get a virtual area").
            cmd = [ftlib.flowtap_path(), "-l", "0-1", "--huge-dir", mnt, "-m", "320", "--file-prefix", prefix,
                   "--base-virtaddr=0x200000000000",
                   "--no-pci", "--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % src, "--log-level=error",
                   "--", "--mode", "passive", "--set", "flows.max=65536", "--set", "general.status_interval=0",
                   "--stats-json", st_path, "--quiet"]
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
            sock = os.path.join("/var/run/dpdk", prefix, "dpdk_telemetry.v2")
            deadline = time.monotonic() + 60
            while not os.path.exists(sock) and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            if not c.check("flowtap runs live on hugepages", proc.poll() is None and os.path.exists(sock),
                           proc.stderr.read().decode()[-500:] if proc.poll() is not None else "no telemetry socket"):
                return
            r = subprocess.run([shutil.which("dpdk-dumpcap"), "--file-prefix=%s" % prefix, "-i", "net_pcap0",
                                "-c", str(CAPTURED), "-w", out, "-q"], capture_output=True, text=True, timeout=120)
            c.eq("dpdk-dumpcap exit status", r.returncode, 0, (r.stdout + r.stderr)[-600:])
            got, want = ftlib.capture_frames(out) if os.path.isfile(out) else [], ftlib.capture_frames(src)
            # dumpcap writes whole bursts: it stops within a burst (32) past -c
            c.check("dpdk-dumpcap captured %d packets (up to a burst more)" % CAPTURED,
                    CAPTURED <= len(got) < CAPTURED + 32, "got %d" % len(got))
            if got and want:
                c.check("every packet captured is a frame of the capture, byte for byte",
                        all(g in set(want) for g in got))
                c.check("in the capture's order (a run of consecutive frames)", in_order(got, want))
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=60)
            c.eq("flowtap after the capture: SIGINT, exit 0", proc.returncode, 0, err.decode()[-500:])
            if os.path.isfile(st_path):
                st = ftlib.load_json(st_path)
                c.check("accounting_ok, mempools_ok (every mbuf home)",
                        st.get("accounting_ok") is True and st.get("mempools_ok") is True)
                c.check("it analysed more than what was captured", st["packets"]["rx"] > CAPTURED)
        finally:
            ftlib.kill_group(proc)


if __name__ == "__main__":
    main()
