#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Live control-socket test: flowtap runs on net_null (which generates packets
endlessly), and flowtap-ctl and dpdk-telemetry.py ask it questions while it
runs; then SIGINT must end it cleanly with exact final accounting.

Environment: FLOWTAP (flowtap binary), FLOWTAP_CTL (flowtap-ctl script),
FLOWTAP_SRC (repo root). Prints one line per check, ends with
"N passed, N failed", exits 1 on a failure (77, meson's skip, when flowtap is
not built).

flowtap's telemetry replies nest dotted counter paths ({"packets": {"rx": N}}
is packets.rx: DPDK 22.11 refuses dots in key names); dig() reads them.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402

START_TIMEOUT_S = 15
EXIT_TIMEOUT_S = 10
CTL_TIMEOUT_S = 10       # flowtap-ctl's own socket timeout is 2 s
SOCKET_NAME = "dpdk_telemetry.v2"
COMMANDS = ("/flowtap/stats", "/flowtap/ports", "/flowtap/workers", "/flowtap/config",
            "/flowtap/defrag")
DEFRAG_COUNTERS = ("fragments", "reassembled", "datagrams", "fragments_used", "timeouts", "overlaps",
                   "overlaps_different", "table_full", "in_flight", "held", "undecodable",
                   "dropped.timeout", "dropped.evicted", "dropped.too_many", "dropped.oversize",
                   "dropped.inconsistent", "dropped.dead", "dropped.no_buffer", "dropped.exit")
DEFRAG_CONFIG = {"max_datagrams": "4096", "max_fragments": "64", "max_held": "8192",
                 "max_size": "65535", "timeout": "30", "policy": "linux"}
# Final classes of the accounting identity (lib/stats/ft_stats.h).
FINAL_CLASSES = ("packets.tcp", "packets.udp", "packets.icmp", "packets.other_ip",
                 "packets.non_ip", "packets.fragment", "packets.handoff_full",
                 "packets.malformed.total")

dig = ftlib.dig
t = ftlib.Checker("control socket (live, net_null)")
t.verbose = True  # one line per check


def ctl(*args, timeout=CTL_TIMEOUT_S):
    """Run flowtap-ctl with Debian's python; returns CompletedProcess with
    returncode None when it did not finish in time."""
    cmd = [sys.executable, CTL] + list(args)
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(cmd, None, e.stdout or "", e.stderr or "")


def ctl_json(*args):
    """(reply, CompletedProcess) of flowtap-ctl --json ...; reply None on error."""
    p = ctl("--prefix", PREFIX, "--json", *args)
    if p.returncode != 0:
        return None, p
    try:
        return json.loads(p.stdout), p
    except ValueError:
        return None, p


def why(p):
    return "rc=%r stderr=%r stdout=%.300r" % (p.returncode, p.stderr.strip()[-400:], p.stdout)


def accounted(stats):
    """Right side of the identity, summed here (not trusted from flowtap)."""
    return sum(dig(stats, k, 0) for k in FINAL_CLASSES)


def wait_for_stats(proc):
    """First stats reply, polling until START_TIMEOUT_S; None if flowtap
    exited or never answered."""
    deadline = time.monotonic() + START_TIMEOUT_S
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None, last
        stats, last = ctl_json("stats")
        if stats is not None and isinstance(dig(stats, "packets.rx", None), int):
            return stats, last
        time.sleep(0.3)
    return None, last


def check_stats(stats):
    t.check("stats: packets.rx is a number", isinstance(dig(stats, "packets.rx", None), int),
            json.dumps(stats)[:300])
    t.check("stats: packets.malformed.total present",
            isinstance(dig(stats, "packets.malformed.total", None), int))
    t.check("stats: anomalies is an object of counts",
            isinstance(stats.get("anomalies"), dict) and
            all(isinstance(v, int) for v in stats["anomalies"].values()) and
            "syn_with_data" in stats["anomalies"])
    t.check("stats: malformed reasons listed, 'none' not among them",
            isinstance(dig(stats, "packets.malformed", None), dict) and
            len(dig(stats, "packets.malformed")) > 1 and
            "none" not in dig(stats, "packets.malformed"))
    t.check("stats: accounting_ok is 0 or 1", stats.get("accounting_ok") in (0, 1),
            repr(stats.get("accounting_ok")))
    t.check("stats: uptime_s present", isinstance(stats.get("uptime_s"), int))


def check_growth_and_accounting(first, config):
    time.sleep(0.5)
    second, p = ctl_json("stats")
    if not t.check("stats: second read answers", second is not None, why(p)):
        return first
    rx1, rx2 = dig(first, "packets.rx"), dig(second, "packets.rx")
    t.check("stats: packets.rx grows (net_null generates)", rx2 > rx1, "%d then %d" % (rx1, rx2))

    # Live, a packet is in packets.rx before it reaches its final class, and
    # the counters are read one after another, not as a snapshot: allow two
    # bursts per worker plus whatever the hand-over rings can hold.
    workers = second.get("workers") or 1
    burst = int(dig(config, "workers.burst", "64") if config else 64)
    ring = int(dig(config, "workers.handoff_ring", "4096") if config else 4096)
    tol = 2 * burst * workers + ring * workers * (workers - 1)
    diff = rx2 - accounted(second)
    t.check("stats: live accounting within %d packets" % tol, abs(diff) <= tol,
            "rx %d, final classes %d, off by %d" % (rx2, accounted(second), diff))
    return second


def check_ports():
    ports, p = ctl_json("ports")
    if not t.check("ports: answers", isinstance(ports, dict), why(p)):
        return
    p0 = ports.get("0", {})
    t.eq("ports: port 0 driver", p0.get("driver"), "net_null")
    t.eq("ports: port 0 name", p0.get("name"), "net_null0")
    t.check("ports: port 0 has live ipackets > 0",
            isinstance(p0.get("ipackets"), int) and p0["ipackets"] > 0, repr(p0))
    t.check("ports: port 0 has queues, socket, peer",
            all(k in p0 for k in ("rx_queues", "tx_queues", "socket", "peer", "rss")), repr(p0))
    table = ctl("--prefix", PREFIX, "ports")
    t.check("ports table: one row for net_null0",
            table.returncode == 0 and "net_null0" in table.stdout, why(table))


def check_workers():
    workers, p = ctl_json("workers")
    if not t.check("workers: answers", isinstance(workers, dict), why(p)):
        return
    t.eq("workers: one worker (-l 0-1: lcore 0 is the control core)", len(workers), 1)
    w0 = workers.get("0", {})
    t.eq("workers: worker 0 runs on lcore 1", w0.get("lcore"), 1)
    t.check("workers: worker 0 polls port 0", str(w0.get("queues", "")).startswith("0:"),
            repr(w0))
    t.check("workers: worker 0 counted rx", (dig(w0, "packets.rx", 0) or 0) > 0, repr(w0))
    t.check("workers: iterations counted", (dig(w0, "worker.iterations", 0) or 0) > 0, repr(w0))


def check_config():
    config, p = ctl_json("config")
    if not t.check("config: answers", isinstance(config, dict), why(p)):
        return None
    t.eq("config: general.mode", dig(config, "general.mode", None), "passive")
    t.check("config: config_file named", isinstance(config.get("config_file"), str))
    table = ctl("--prefix", PREFIX, "config")
    t.check("config table: 'general.mode = passive'", table.returncode == 0 and any(
        ln.split() == ["general.mode", "=", "passive"] for ln in table.stdout.splitlines()),
        why(table))
    return config


def check_defrag():
    """/flowtap/defrag: every defrag.* counter, the frag_* anomalies, the limits."""
    d, p = ctl_json("defrag")
    if not t.check("defrag: answers", isinstance(d, dict), why(p)):
        return
    missing = [k for k in DEFRAG_COUNTERS if not isinstance(dig(d, "defrag." + k, None), int)]
    t.check("defrag: every defrag.* counter", not missing, "missing %s in %r" % (missing, d))
    t.eq("defrag: no fragment on net_null", dig(d, "defrag.fragments", None), 0)
    frag = sorted((d.get("anomalies") or {}).keys())
    t.eq("defrag: the frag_* anomalies", frag,
         sorted(["frag_overlap", "frag_tiny_first", "frag_oversize", "frag_df_set", "frag_too_many",
                 "frag_timeout", "frag_inconsistent"]))
    t.eq("defrag: limits and policy", d.get("config"), DEFRAG_CONFIG)
    t.eq("defrag: reassembly on the worker frames enter through (one rx queue)", d.get("reassembly"), "entry")
    table = ctl("--prefix", PREFIX, "defrag")
    t.check("defrag table: 'config.policy  linux'", table.returncode == 0 and any(
        ln.split() == ["config.policy", "linux"] for ln in table.stdout.splitlines()), why(table))


def check_telemetry_script():
    """dpdk-telemetry.py, DPDK's own client, on the same socket."""
    script = shutil.which("dpdk-telemetry.py") or "/usr/bin/dpdk-telemetry.py"
    if not os.path.exists(script):
        t.skip("dpdk-telemetry.py answers /flowtap/stats", "dpdk-telemetry.py not installed")
        return
    cmds = "/\n/flowtap/stats\n/help,/flowtap/stats\n"
    try:
        p = subprocess.run([sys.executable, script, "-f", PREFIX], input=cmds,
                           capture_output=True, text=True, timeout=CTL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        t.check("dpdk-telemetry.py answers", False, "timed out")
        return
    replies = {}
    for ln in p.stdout.splitlines():
        with contextlib.suppress(ValueError):
            obj = json.loads(ln)
            if isinstance(obj, dict) and len(obj) == 1:
                replies.update(obj)
    t.check("dpdk-telemetry.py: / lists the four /flowtap/ commands",
            isinstance(replies.get("/"), list) and all(c in replies["/"] for c in COMMANDS),
            p.stdout[-400:])
    t.check("dpdk-telemetry.py: /flowtap/stats answers",
            isinstance(dig(replies.get("/flowtap/stats") or {}, "packets.rx", None), int),
            p.stdout[-400:] + p.stderr[-200:])
    help_text = dig(replies.get("/help") or {}, "/flowtap/stats", None)
    t.check("dpdk-telemetry.py: /help,/flowtap/stats has a help text",
            isinstance(help_text, str) and len(help_text) > 10, repr(replies.get("/help")))


def check_errors_and_socket():
    t0 = time.monotonic()
    p = ctl("--prefix", PREFIX, "raw", "/flowtap/nope")
    took = time.monotonic() - t0
    t.check("raw /flowtap/nope: answered with an error, not a hang",
            p.returncode == 1 and "/flowtap/nope" in p.stderr and took < 5,
            "%s, took %.1f s" % (why(p), took))
    p = ctl("--prefix", PREFIX, "raw", "/ethdev/stats,0")
    try:
        ok = p.returncode == 0 and json.loads(p.stdout).get("ipackets", 0) > 0
    except (ValueError, AttributeError):
        ok = False
    t.check("raw /ethdev/stats,0: DPDK's own commands answer", ok, why(p))

    path = os.path.join(RUNDIR, SOCKET_NAME)
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError as e:
        mode = str(e)
    t.eq("telemetry socket mode is 0600", mode, 0o600)


def telemetry_connect():
    """A raw client of the telemetry socket: (socket, greeting bytes); b"" when
    the server closed it at once (all client slots taken)."""
    import socket
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sock.settimeout(5)
    sock.connect(os.path.join(RUNDIR, SOCKET_NAME))
    return sock, sock.recv(4096)


def ask(sock, request):
    sock.send(request)
    return json.loads(sock.recv(1 << 20).decode())


def check_hostile_clients():
    """Garbage, oversized requests, clients that hold every slot or never read:
    clear answers, and the workers and other clients never notice."""
    sock, hello = telemetry_connect()
    t.check("raw client: greeting names max_output_len", b"max_output_len" in hello, repr(hello))
    rep = ask(sock, b"\x00\xffgarbage\n")
    t.eq("garbage bytes: null reply (unknown command)", rep, {"(null)": None})
    rep = ask(sock, b"/flowtap/flows," + b"a" * 60000)
    t.check("60 KB request: cut to DPDK's 1024 bytes, answered with an error",
            "is too long" in json.dumps(rep), repr(rep)[:300])
    first = dig(ask(sock, b"/flowtap/stats"), "/flowtap/stats.packets.rx", None)
    t.check("same client still answered after both", isinstance(first, int), repr(first))

    # DPDK serves at most 10 clients, one thread each: 9 more take every slot.
    held = [telemetry_connect() for _ in range(9)]
    t.check("10 clients held: all greeted", all(h for _, h in held), [len(h) for _, h in held])
    extra, greeting = telemetry_connect()
    t.eq("11th client: closed at once (slots full), no hang", greeting, b"")
    extra.close()
    # A client that sends and never reads blocks only its own thread.
    slow = held[0][0]
    for _ in range(50):
        slow.send(b"/flowtap/stats")
    time.sleep(0.5)
    later = dig(ask(sock, b"/flowtap/stats"), "/flowtap/stats.packets.rx", None)
    t.check("while slots are full and one client never reads: the workers go on",
            isinstance(later, int) and later > first, "%r -> %r" % (first, later))
    for s_, _ in held:
        s_.close()
    sock.close()
    deadline = time.monotonic() + 5
    stats = None
    while stats is None and time.monotonic() < deadline:
        stats, _ = ctl_json("stats")
        if stats is None:
            time.sleep(0.2)
    t.check("clients gone: a new client is answered within 5 s", stats is not None)


def check_discovery():
    listing, p = ctl_json("list")
    if not t.check("list: answers", isinstance(listing, list), why(p)):
        return
    ours = [e for e in listing if e.get("prefix") == PREFIX]
    t.eq("list: shows this flowtap", len(ours), 1, repr(listing))
    if len(listing) != 1:
        t.skip("without --prefix: finds the only flowtap",
               "other flowtap processes run: %s" % [e.get("prefix") for e in listing])
        return
    p = ctl("--json", "stats")
    if p.returncode == 1 and "several flowtap processes" in p.stderr:
        t.skip("without --prefix: finds the only flowtap", "another flowtap started meanwhile")
        return
    try:
        ok = p.returncode == 0 and isinstance(dig(json.loads(p.stdout), "packets.rx"), int)
    except ValueError:
        ok = False
    t.check("without --prefix: finds the only flowtap", ok, why(p))


def check_tables():
    p = ctl("--prefix", PREFIX, "stats")
    t.check("stats table: has packets section and accounting line",
            p.returncode == 0 and "packets" in p.stdout and "accounting" in p.stdout and
            "rx" in p.stdout, why(p))
    p = ctl("--prefix", PREFIX, "workers")
    t.check("workers table: one row", p.returncode == 0 and len(p.stdout.splitlines()) == 2,
            why(p))


def stop(proc, live_rx, stats_path, err_path):
    proc.send_signal(signal.SIGINT)
    try:
        rc = proc.wait(timeout=EXIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        rc = "still running after %d s" % EXIT_TIMEOUT_S
    with open(err_path, errors="replace") as f:
        err = f.read()[-600:]
    t.eq("SIGINT: flowtap exits 0 within %d s" % EXIT_TIMEOUT_S, rc, 0, "stderr: %r" % err)
    try:
        final = ftlib.load_json(stats_path)
    except (OSError, ValueError) as e:
        t.check("SIGINT: --stats-json written", False, str(e))
        return
    t.check("final: accounting_ok is true", final.get("accounting_ok") is True,
            "rx %s, final classes %s" % (dig(final, "packets.rx", None), accounted(final)))
    t.check("final: mempools_ok (every mbuf home after the drain)", final.get("mempools_ok") is True, final.get("mempools"))
    t.check("final: packets.rx >= last live reading",
            isinstance(dig(final, "packets.rx", None), int) and
            dig(final, "packets.rx") >= live_rx,
            "%s < %s" % (dig(final, "packets.rx", None), live_rx))
    p = ctl("--prefix", PREFIX, "stats")
    t.check("after exit: flowtap-ctl fails cleanly",
            p.returncode == 1 and p.stderr.startswith("flowtap-ctl: "), why(p))


def main():
    global CTL, PREFIX, RUNDIR
    flowtap = os.environ.get("FLOWTAP") or ftlib.flowtap_path()
    CTL = os.environ.get("FLOWTAP_CTL") or ftlib.ctl_path()
    if not (os.path.isfile(flowtap) and os.access(flowtap, os.X_OK)):
        print("SKIP: flowtap binary not found at %s (build it, or set FLOWTAP)" % flowtap)
        sys.exit(ftlib.SKIP_EXIT)
    if not os.path.isfile(CTL):
        CTL = os.path.join(ftlib.SRC, "app", "flowtap-ctl", "flowtap-ctl.py")
    PREFIX = "ft-ctl-test-%d" % os.getpid()
    RUNDIR = os.path.join(ftlib.runtime_base(), PREFIX)

    tmp = tempfile.mkdtemp(prefix="ft-ctl-test-")
    stats_path = os.path.join(tmp, "stats.json")
    err_path = os.path.join(tmp, "stderr")
    args = [flowtap, "-l", "0-1", "--no-huge", "-m", "512", "--no-pci",
            "--file-prefix", PREFIX, "--vdev", "net_null0",
            "--", "--mode", "passive", "--stats-json", stats_path,
            "--set", "flows.max=65536"]
    proc = None
    try:
        # Output to files: a pipe nobody reads could fill and stall flowtap.
        with open(os.path.join(tmp, "stdout"), "w") as out, open(err_path, "w") as err:
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    start_new_session=True)
        stats, p = wait_for_stats(proc)
        if not t.check("flowtap-ctl stats answers within %d s" % START_TIMEOUT_S,
                       stats is not None,
                       "flowtap rc=%r; last flowtap-ctl: %s" % (proc.poll(),
                                                                why(p) if p else "-")):
            with open(err_path, errors="replace") as f:
                t.note("flowtap stderr: %r" % f.read()[-800:])
            return
        check_stats(stats)
        config = check_config()
        check_defrag()
        stats = check_growth_and_accounting(stats, config)
        check_ports()
        check_workers()
        check_telemetry_script()
        check_errors_and_socket()
        check_hostile_clients()
        check_discovery()
        check_tables()
        last, _ = ctl_json("stats")
        stop(proc, dig(last or stats, "packets.rx"), stats_path, err_path)
    finally:
        ftlib.kill_group(proc)
        shutil.rmtree(RUNDIR, ignore_errors=True)
        if os.environ.get("FT_KEEP"):
            print("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
    t.finish()
