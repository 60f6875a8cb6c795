#!/usr/bin/python3
"""Live inline test: dpdk-testpmd replays a capture over net_memif into flowtap,
flowtap (inline, hairpin on its one port) sends every frame back, and testpmd
writes what it got back into a capture. Checks: every frame came back byte for
byte and in order, flowtap counted each one (exact classes, accounting), and
flowtap-ctl answered while it ran. Runs with 1 and with 3 workers (3 workers
on 2 cores exercises the hand-over: frames come back through other workers).
"""
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402

SRC = os.environ.get("FLOWTAP_SRC") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
FLOWTAP = ftlib.flowtap_path()
CTL = ftlib.ctl_path()


def remove_runtime_dir(prefix):
    subprocess.run(["rm", "-rf", os.path.join("/var/run/dpdk", prefix)], check=False)


class TestPmd:
    """dpdk-testpmd in interactive mode, driven through its prompt."""

    def __init__(self, args):
        self.p = subprocess.Popen(
            ["stdbuf", "-oL", "dpdk-testpmd"] + args,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1)
        self.out = ""
        self.wait_prompt(60)

    def wait_prompt(self, timeout):
        deadline = time.time() + timeout
        fd = self.p.stdout.fileno()
        while time.time() < deadline:
            if self.out.endswith("testpmd> "):
                return
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                chunk = os.read(fd, 65536).decode(errors="replace")
                if not chunk:
                    raise RuntimeError("testpmd exited:\n" + self.out[-800:])
                self.out += chunk
        raise RuntimeError("testpmd prompt timeout:\n" + self.out[-3000:])

    def cmd(self, line, timeout=20):
        self.out = ""
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        self.wait_prompt(timeout)
        return self.out

    def port_stats(self, port):
        text = self.cmd(f"show port stats {port}")
        rx = tx = None
        for ln in text.splitlines():
            ln = ln.strip()
            if ln.startswith("RX-packets:"):
                rx = int(ln.split()[1])
            elif ln.startswith("TX-packets:"):
                tx = int(ln.split()[1])
        return rx, tx

    def quit(self):
        try:
            self.p.stdin.write("quit\n")
            self.p.stdin.flush()
            self.p.wait(timeout=30)
        except Exception:
            self.p.kill()
            self.p.wait()


def run_case(t, workers, cap, expect):
    tmp = tempfile.mkdtemp(prefix="ft-memif-")
    sock = os.path.join(tmp, "memif.sock")
    back = os.path.join(tmp, "back.pcap")
    stats_path = os.path.join(tmp, "stats.json")
    tp_prefix = f"ft-memif-tp-{os.getpid()}-{workers}"
    ft_prefix = f"ft-memif-ft-{os.getpid()}-{workers}"
    tag = f"[{workers} worker{'s' if workers > 1 else ''}]"
    n_in = len(ftlib.capture_frames(cap))
    tp = ft = None
    try:
        # testpmd: port 0 replays the capture once and records what returns;
        # port 1 is the memif server flowtap connects to. io forwarding 0<->1.
        tp = TestPmd([
            "-l", "0-1", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
            "--file-prefix", tp_prefix, "--log-level", "error",
            "--vdev", f"net_pcap0,rx_pcap={cap},tx_pcap={back}",
            "--vdev", f"net_memif0,role=server,socket={sock},socket-abstract=no",
            "--", "-i", "--no-flush-rx", "--forward-mode=io", "--total-num-mbufs=8192",
            "--txq=1", "--rxq=1"])
        ft = subprocess.Popen([
            FLOWTAP, "--lcores", "(0-%d)@(0,1)" % workers, "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
            "--file-prefix", ft_prefix, "--log-level", "error",
            "--vdev", f"net_memif0,role=client,socket={sock},socket-abstract=no",
            "--", "--mode", "inline", "--set", "ports.pairs=0-0", "--set", "flows.max=65536", "--set", "general.status_interval=0",
            "--set", "ports.rx_queues=1", "--set", "ports.tx_queues=1",
            "--stats-json", stats_path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # wait for the memif link to come up on testpmd's side
        deadline = time.time() + 30
        up = False
        while time.time() < deadline and not up:
            up = "Link status: up" in tp.cmd("show port info 1")
            if not up:
                if ft.poll() is not None:
                    break
                time.sleep(0.5)
        t.check(f"{tag} memif link up", up, ft.stderr.read() if ft.poll() is not None else "")
        if not up:
            return
        ctl = subprocess.run([CTL, "--prefix", ft_prefix, "stats", "--json"],
                             capture_output=True, text=True, timeout=10)
        t.check(f"{tag} flowtap-ctl stats answers while running", ctl.returncode == 0 and
                "rx" in json.loads(ctl.stdout or "{}").get("packets", {}), ctl.stderr)
        tp.cmd("start")
        deadline = time.time() + 60
        got = 0
        while time.time() < deadline:
            rx, _ = tp.port_stats(1)
            got = rx or 0
            if got >= n_in:
                break
            time.sleep(0.5)
        time.sleep(0.5)
        rx1, tx1 = tp.port_stats(1)
        tp.cmd("stop")
        t.check(f"{tag} testpmd sent every frame into memif", tx1 == n_in or tx1 == 0,
                f"tx={tx1} want {n_in} (memif server tx counter may read 0)")
        t.check(f"{tag} testpmd got every frame back", rx1 == n_in, f"rx={rx1} want {n_in}")
        ft.send_signal(signal.SIGINT)
        try:
            _, err = ft.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            ft.kill()
            _, err = ft.communicate()
        t.check(f"{tag} flowtap exits 0 on SIGINT", ft.returncode == 0, err[-2000:])
        tp.quit()
        tp = None
        returned = ftlib.capture_frames(back)
        sent = ftlib.capture_frames(cap)
        if workers == 1:
            diff = [i for i in range(min(len(sent), len(returned))) if sent[i] != returned[i]]
            t.check(f"{tag} returned frames identical and in order", returned == sent,
                    f"{len(returned)} returned, {len(sent)} sent, first differing #{diff[:5]}: "
                    f"{sent[diff[0]].hex() if diff else ''} vs {returned[diff[0]].hex() if diff else ''}")
        else:
            # Several workers forward what they own: frames of different
            # flows may cross, a flow's own frames may not.
            t.check(f"{tag} returned frames identical (as a multiset)",
                    sorted(returned) == sorted(sent), f"{len(returned)} returned, {len(sent)} sent")
            bad = [k for k in set(map(flow_of, sent)) if k is not None and
                   [f for f in sent if flow_of(f) == k] != [f for f in returned if flow_of(f) == k]]
            t.check(f"{tag} every TCP/UDP flow's frames in order", not bad, repr(bad[:3]))
        with open(stats_path) as f:
            s = json.load(f)
        p = s["packets"]
        t.check(f"{tag} flowtap rx == frames", p["rx"] == n_in, f"rx={p['rx']} want {n_in}")
        t.check(f"{tag} flowtap forwarded every frame", p["tx"] == n_in and p["tx_failed"] == 0,
                f"tx={p['tx']} failed={p['tx_failed']}")
        t.check(f"{tag} packets.tx_retried counted within packets.tx",
                isinstance(p.get("tx_retried"), int) and 0 <= p["tx_retried"] <= p["tx"], p.get("tx_retried"))
        t.check(f"{tag} accounting_ok", s["accounting_ok"] is True)
        t.check(f"{tag} mempools_ok (every mbuf home after the drain)", s["mempools_ok"] is True, s.get("mempools"))
        for k, v in expect.items():
            got_v = p["malformed"]["total"] if k == "malformed" else p[k]
            t.check(f"{tag} packets.{k} == {v}", got_v == v, f"got {got_v}")
        if workers > 1:
            t.check(f"{tag} hand-over used and balanced",
                    s["handoff"]["out"] == s["handoff"]["in"] and s["handoff"]["out"] > 0,
                    json.dumps(s["handoff"]))
            t.check(f"{tag} workers without a tx queue handed their frames to the one with it",
                    s["handoff"]["tx_out"] == s["handoff"]["tx_in"] and s["handoff"]["tx_out"] > 0,
                    json.dumps(s["handoff"]))
    finally:
        if ft is not None and ft.poll() is None:
            ft.kill()
            ft.wait()
        if tp is not None:
            tp.quit()
        remove_runtime_dir(tp_prefix)  # whether testpmd quit, was killed or never started
        remove_runtime_dir(ft_prefix)


def flow_of(frame):
    """A TCP or UDP frame's connection (either direction), else None. A
    frame the decoder contract calls malformed belongs to no flow: flowtap
    cannot tell whose it is, so its worker forwards it where it came in, and
    it may cross a flow's frames that another worker forwards."""
    if ftlib.gen("refdecode").label(frame) not in ("tcp", "udp"):
        return None
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import Ether
    try:
        e = Ether(frame)
    except Exception:  # noqa: BLE001 - malformed frames are not grouped
        return None
    ip = e.getlayer(IP) or e.getlayer(IPv6)
    l4 = e.getlayer(TCP) or e.getlayer(UDP)
    if ip is None or l4 is None or (e.getlayer(IP) is not None and (ip.flags.MF or ip.frag)):
        return None
    return (l4.name, frozenset([(ip.src, l4.sport), (ip.dst, l4.dport)]))


def main():
    ftlib.require_binary()
    t = ftlib.Checker("memif inline")
    cap = os.path.join(SRC, "tests", "data", "mixed.pcap")
    truth_path = os.path.join(SRC, "tests", "data", "mixed.json")
    with open(truth_path) as f:
        truth = json.load(f)
    exp = truth.get("packets", truth)
    expect = {k: exp[k] for k in ("tcp", "udp", "icmp", "other_ip", "non_ip", "fragment") if k in exp}
    # testpmd's memif server offers one queue: with 3 workers, two of them
    # hand what they forward to the worker holding the tx queue (tx.c).
    for workers in (1, 3):
        try:
            run_case(t, workers, cap, expect)
        except Exception as e:  # report, do not hang
            t.check(f"[{workers} workers] ran", False, repr(e))
    t.finish()


if __name__ == "__main__":
    sys.exit(main())
