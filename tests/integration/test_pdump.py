#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Capturing what a live flowtap receives with DPDK's own tool, dpdk-dumpcap.

flowtap runs live (passive) on a net_pcap port bound to one end of a veth
pair; a dpdk-dumpcap secondary process attaches to it, and once it captures
the test sends 1000 frames (those of smtp.pcap and mixed.pcap, in turn) into
the other end. dumpcap must capture exactly them, byte for byte, in order,
and flowtap must have received exactly them; it then stops on SIGINT with
exit 0, exact accounting and every mbuf home (the copies are dumpcap's).

The traffic stops before dumpcap exits, on purpose: DPDK 22.11's librte_pdump
removes its callbacks when dumpcap detaches without waiting for a worker
still inside one, and dumpcap then frees the pool that callback copies into.
With traffic flowing (this test replayed a capture endlessly before 0.4.8)
a worker crashed in rte_pcapng_copy() about once in ten runs (see README).

dpdk-dumpcap maps the primary's memory: flowtap must run on hugepages from a
hugetlbfs mount. As root the test reserves 2 MiB hugepages, mounts one and
makes the veth pair (all undone at the end); without root, or when any of it
fails, it skips.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
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


def frames_to_send():
    """CAPTURED frames: those of smtp.pcap and mixed.pcap that cross a veth
    pair unchanged, in turn: 14 bytes or more (a packet socket sends no
    less), no VLAN tag (the kernel takes it out of the frame, and libpcap
    puts back what it can: a cut tag comes out otherwise)."""
    pool = [f for n in ("smtp.pcap", "mixed.pcap") for f in ftlib.capture_frames(ftlib.data(n))
            if len(f) >= 14 and f[12:14] not in (b"\x81\x00", b"\x88\xa8", b"\x91\x00")]
    return [pool[i % len(pool)] for i in range(CAPTURED)]


def make_veth(a, b):
    """A veth pair, up, with no traffic of the kernel's own (no IPv6, no ARP)."""
    if subprocess.run(["ip", "link", "add", a, "type", "veth", "peer", "name", b],
                      capture_output=True).returncode != 0:
        return False
    for i in (a, b):
        subprocess.run(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % i], capture_output=True)
        subprocess.run(["ip", "link", "set", i, "arp", "off", "up"], capture_output=True)
    return True


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
    veth = ("ftp%dA" % (os.getpid() % 100000), "ftp%dB" % (os.getpid() % 100000))
    have_veth = mounted and make_veth(*veth)
    try:
        if have_veth:
            capture(mnt, prefix, veth)
        else:
            c.skip("dpdk-dumpcap", "cannot mount hugetlbfs or make a veth pair")
    finally:
        if have_veth:
            subprocess.run(["ip", "link", "del", veth[0]], capture_output=True)
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


def capture(mnt, prefix, veth):
    """flowtap live on hugepages of @p mnt and veth[0], dpdk-dumpcap attached to
    it, the frames sent into veth[1]."""
    proc = dumpcap = None
    with ftlib.tempdir() as tmp:
        try:
            st_path, out = os.path.join(tmp, "stats.json"), os.path.join(tmp, "dump.pcapng")
            # dumpcap maps flowtap's memory at the same addresses: put it
            # where neither process has anything else (the ASan build's
            # shadow memory moved it into the shared-library area, which a
            # secondary process may already use: "Cannot get a virtual area").
            cmd = [ftlib.flowtap_path(), "-l", "0-1", "--huge-dir", mnt, "-m", "320", "--file-prefix", prefix,
                   "--base-virtaddr=0x200000000000",
                   "--no-pci", "--vdev", "net_pcap0,iface=%s" % veth[0], "--log-level=error",
                   "--", "--mode", "passive", "--set", "general.status_interval=0",
                   "--stats-json", st_path, "--quiet"]
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
            # Up once /flowtap/stats answers (dumpcap can attach from then on).
            sock = os.path.join("/var/run/dpdk", prefix, "dpdk_telemetry.v2")
            deadline, up = time.monotonic() + 60, False
            while not up and proc.poll() is None and time.monotonic() < deadline:
                up = ftlib.telemetry_query(sock, "/flowtap/stats") is not None
                time.sleep(0.1)
            if not c.check("flowtap runs live on hugepages", up,
                           proc.stderr.read().decode()[-500:] if proc.poll() is not None else "no answer"):
                return
            dumpcap = subprocess.Popen([shutil.which("dpdk-dumpcap"), "--file-prefix=%s" % prefix, "-i",
                                        "net_pcap0", "-c", str(CAPTURED), "-w", out],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            # It counts on stderr once its capture is enabled.
            err = b""
            while b"Packets captured" not in err and dumpcap.poll() is None:
                err += dumpcap.stderr.read1(256)
            reader = threading.Thread(target=dumpcap.stderr.read, daemon=True)
            reader.start()
            if not c.check("dpdk-dumpcap attaches", dumpcap.poll() is None, err.decode()[-600:]):
                return
            sent = frames_to_send()
            with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
                s.bind((veth[1], 0))
                for f in sent:
                    s.send(f)
            try:
                rc = dumpcap.wait(timeout=60)
            except subprocess.TimeoutExpired:
                dumpcap.kill()
                rc = "did not end: fewer frames than sent reached it"
            c.eq("dpdk-dumpcap captured %d packets, exit 0" % CAPTURED, rc, 0)
            got = ftlib.capture_frames(out) if os.path.isfile(out) else []
            c.check("dumpcap's frames are those sent, byte for byte, in order", got == sent,
                    "%d frames, first differing %s" % (len(got), next(
                        (i for i, (g, w) in enumerate(zip(got, sent)) if g != w), None)))
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=60)
            c.eq("flowtap after the capture: SIGINT, exit 0", proc.returncode, 0, err.decode()[-500:])
            if os.path.isfile(st_path) and os.path.getsize(st_path) > 0:
                st = ftlib.load_json(st_path)
                c.check("accounting_ok, mempools_ok (every mbuf home)",
                        st.get("accounting_ok") is True and st.get("mempools_ok") is True)
                c.eq("flowtap received exactly the frames sent", st["packets"]["rx"], CAPTURED)
        finally:
            if dumpcap is not None and dumpcap.poll() is None:
                dumpcap.kill()
            ftlib.kill_group(proc)


if __name__ == "__main__":
    main()
