#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Floods around one real connection (tests/gen/gen_floods.py): a SYN flood,
a blind RST flood on the connection, stray RSTs, a fragment flood and
one-packet UDP flows, all far beyond the configured tables.

Offline (1 and 3 workers, flows.max 1024 per worker): every frame accounted,
every mbuf home, the connection's record exact (both states, packets, bytes,
ISNs, ended by its FIN: no blind RST ended it), every blind RST counted as
rst_out_of_window, and counters saying what was shed (flows.evicted,
defrag.table_full, every fragment in a defrag.dropped reason).

Live (the capture replayed endlessly through net_pcap, infinite_rx): the
control socket answers every query within 2 s, the flow table and the
defragmenter never hold more than their bounds, DPDK's heap does not grow with the flows
(/eal/heap_info), and SIGINT ends it with exact accounting.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402

c = ftlib.checker("floods: SYN, RST, fragments, one-packet flows")
dig = ftlib.dig
MAX_FLOWS = 1024
MAX_DATAGRAMS, MAX_HELD = 128, 256
LIMITS = ["--set", "flows.max=%d" % MAX_FLOWS, "--set", "defrag.max_datagrams=%d" % MAX_DATAGRAMS,
          "--set", "defrag.max_held=%d" % MAX_HELD]


def offline(pcap, truth, tmp, workers):
    tag = "offline/w%d" % workers
    st_path, fl_path = os.path.join(tmp, "s%d.json" % workers), os.path.join(tmp, "f%d.json" % workers)
    r = ftlib.run_flowtap(["--pcap", pcap, "--workers", str(workers), "--quiet"] + LIMITS +
                          ["--stats-json", st_path, "--flow-log", fl_path])
    if not c.check("%s: exit 0" % tag, r.rc == 0, r.brief()):
        return
    st = ftlib.load_json(st_path)
    c.eq("%s: packets.rx" % tag, dig(st, "packets.rx"), truth["frames"])
    for k, v in truth["packets"].items():
        c.eq("%s: packets.%s" % (tag, k), dig(st, "packets." + k), v)
    c.check("%s: accounting_ok" % tag, st.get("accounting_ok") is True)
    c.check("%s: mempools_ok" % tag, st.get("mempools_ok") is True, st.get("mempools"))
    c.check("%s: flows.evicted > 0 (the SYN flood was shed)" % tag, dig(st, "flows.evicted", 0) > 0,
            dig(st, "flows.evicted", None))
    frags = truth["kinds"]["frag"]
    c.eq("%s: defrag.fragments" % tag, dig(st, "defrag.fragments"), frags)
    c.eq("%s: defrag.datagrams (each a datagram of its own)" % tag, dig(st, "defrag.datagrams"), frags)
    c.check("%s: defrag.table_full > 0 (the fragment flood was shed)" % tag,
            dig(st, "defrag.table_full", 0) > 0, dig(st, "defrag.table_full", None))
    dropped = sum((dig(st, "defrag.dropped", {}) or {}).values())
    c.eq("%s: every fragment dropped by a named reason (none completes)" % tag,
         (dig(st, "defrag.fragments_used"), dropped, dig(st, "defrag.held")), (0, frags, 0))
    c.eq("%s: detect.reordered_early (every observation judged in capture order)" % tag,
         dig(st, "detect.reordered_early"), 0)
    for name, n in truth["anomalies"].items():
        c.eq("%s: anomalies.%s" % (tag, name), dig(st, "anomalies." + name, 0), n)
    want = truth["conn"]
    with open(fl_path) as f:
        recs = [json.loads(ln) for ln in f if ln.strip()]
    mine = [x for x in recs if x["src"] == want["src"] and x["sport"] == want["sport"]]
    if not c.eq("%s: one record for the real connection" % tag, len(mine), 1):
        return
    for k, v in want.items():
        c.eq("%s: connection %s" % (tag, k), mine[0][k], v)
    c.eq("%s: connection anomalies" % tag, mine[0]["anomalies"], ["rst_out_of_window"])


def live(pcap, tmp):
    prefix = "ft-floods-%d" % os.getpid()
    rundir = os.path.join(ftlib.runtime_base(), prefix)
    st_path = os.path.join(tmp, "live.json")
    args = [ftlib.flowtap_path(), "-l", "0-1", "--no-huge", "-m", "512", "--no-pci",
            "--file-prefix", prefix, "--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap,
            "--", "--mode", "passive", "--stats-json", st_path] + LIMITS
    proc = None
    try:
        with open(os.path.join(tmp, "live.err"), "w") as err:
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=err, start_new_session=True)
        tel, deadline = None, time.monotonic() + 15
        while tel is None and time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(OSError):
                tel = ftlib.Telemetry(os.path.join(rundir, "dpdk_telemetry.v2"))
            if tel is None:
                time.sleep(0.3)
        if not c.check("live: telemetry socket up", tel is not None):
            return
        # Sample once the workers run (the socket answers before every table exists).
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError, KeyError):
                if dig(tel.q("/flowtap/stats")["/flowtap/stats"], "packets.rx", 0) > 0:
                    break
            time.sleep(0.2)
        samples, slow, heap = [], [], []
        for i in range(12):
            t0 = time.monotonic()
            try:
                s = tel.q("/flowtap/stats")["/flowtap/stats"]
                h = tel.q("/eal/heap_info,0")["/eal/heap_info"]
            except (OSError, ValueError, KeyError) as e:
                c.check("live: query %d answered" % i, False, str(e))
                return
            took = time.monotonic() - t0
            if took > 2:
                slow.append(took)
            samples.append(s)
            heap.append(h.get("Alloc_size"))
            time.sleep(0.5)
        c.check("live: 12 stats and heap queries, each answered within 2 s", not slow, slow)
        rx = [dig(s, "packets.rx", 0) for s in samples]
        c.check("live: the replay goes on (packets.rx grows past several loops)",
                rx[-1] > rx[0] and rx[-1] > 3 * 9046, rx)
        active = [dig(s, "flows.active", 0) for s in samples]
        c.check("live: flows.active never above flows.max (%d)" % MAX_FLOWS,
                max(active) <= MAX_FLOWS, active)
        c.check("live: flows.evicted grows (floods shed)", dig(samples[-1], "flows.evicted", 0) > 0)
        inflight = [dig(s, "defrag.in_flight", 0) for s in samples]
        held = [dig(s, "defrag.held", 0) for s in samples]
        c.check("live: defrag.in_flight never above max_datagrams (%d)" % MAX_DATAGRAMS,
                max(inflight) <= MAX_DATAGRAMS, inflight)
        c.check("live: defrag.held never above max_held (%d)" % MAX_HELD, max(held) <= MAX_HELD, held)
        c.check("live: defrag.table_full grows (fragment flood shed)",
                dig(samples[-1], "defrag.table_full", 0) > 0)
        # Every table is allocated at start: tens of thousands of new flows
        # must not move DPDK's heap (a few KB of DPDK's own bookkeeping may).
        created = dig(samples[-1], "flows.created", 0) - dig(samples[0], "flows.created", 0)
        c.check("live: > 10x flows.max new flows during the samples", created > 10 * MAX_FLOWS, created)
        c.check("live: DPDK heap grows < 256 KiB meanwhile (no per-flow allocation)",
                heap[-1] - heap[0] < 256 * 1024, heap)
        proc.send_signal(signal.SIGINT)
        c.eq("live: SIGINT: exit 0", proc.wait(timeout=20), 0)
        st = ftlib.load_json(st_path)
        c.check("live: accounting_ok", st.get("accounting_ok") is True)
        c.check("live: mempools_ok", st.get("mempools_ok") is True, st.get("mempools"))
    finally:
        ftlib.kill_group(proc)
        shutil.rmtree(rundir, ignore_errors=True)


def main():
    ftlib.require_binary()
    with ftlib.tempdir() as tmp:
        pcap, truth = ftlib.gen("gen_floods").build(tmp)
        for w in (1, 3):
            offline(pcap, truth, tmp, w)
        # A reorder buffer smaller than the flood's observations: bounded,
        # counted, and the detectors still see the flood.
        st_path = os.path.join(tmp, "small.json")
        r = ftlib.run_flowtap(["--pcap", pcap, "--workers", "3", "--quiet", "--set", "detect.reorder=1024",
                               "--stats-json", st_path] + LIMITS)
        if c.check("reorder 1024, 3 workers: exit 0", r.rc == 0, r.brief()):
            st = ftlib.load_json(st_path)
            c.eq("reorder 1024: detect.observations (every SYN, SYN+ACK, handshake)",
                 dig(st, "detect.observations"), truth["kinds"]["syn"] + 3)
            c.check("reorder 1024: detect.reordered_early > 0 (judged early, counted)",
                    dig(st, "detect.reordered_early", 0) > 0, dig(st, "detect.reordered_early", None))
            # Not asserted here: how often syn_flood is raised. Judged early,
            # the flood's SYNs may reach the detector out of capture order
            # when one worker ran far ahead of the others (seen on a loaded
            # machine in the ASan build), so its one-second windows can be
            # split or re-armed. The default buffer, above, judges it exactly.
        live(pcap, tmp)
    ftlib.finish()


if __name__ == "__main__":
    main()
