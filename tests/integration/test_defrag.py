#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Defragmentation, offline, on the captures of tests/gen/gen_frag.py (tests/data/frag).

Offline every frame enters through one worker, which reassembles the
fragments itself and sends a datagram on to its flow's owner in its place
among the other packets: every truth below holds, exactly, with 1 worker
reading the capture itself and with 3 workers fed by the control lcore.

- frag_tcp: exact defrag.* counters, the flow records of
  the TCP connections carried in fragments (VLAN 100 and QinQ 200.300 with
  the same addresses and IP id are two connections), accounting_ok, the
  identity fragments == fragments_used + dropped.* + held, and the bytes:
  tshark's reassembly (ip/ipv6.defragment) of each data segment equals the
  bytes sent and the unfragmented retransmission that follows it, and
  flowtap's tracker, which compares a retransmission's bytes with the
  segment it retransmits, finds no retransmit_different_data: flowtap
  reassembled the same bytes as tshark.
- frag_overlap, under each policy: only the connection whose datagram's
  TCP checksum is that of the policy's bytes takes it; the others raise
  tcp_bad_checksum (a checksum over every byte: flowtap reassembled exactly
  the policy's bytes). With checksums = off, only the connection whose
  retransmission carries that policy's bytes has no
  retransmit_different_data (with 3 workers this needs the datagram tracked
  before the retransmission right behind it in the capture); overlaps and
  frag_overlap events ("different bytes") exact.
- frag_anomalies: every frag_* anomaly and event count, every drop reason
  (the timeouts need the late packets' times on the worker that holds the
  datagrams).
- frag_flood with max_datagrams=64: exact evictions, and the good datagram
  still reassembles.
- live, frag_tcp replayed in a loop on one rx queue with 3 workers (the
  queue's worker reassembles, others track): exit 0 on SIGINT, accounting_ok,
  mempools_ok and the fragment identity, with datagrams handed over to full
  rings waiting rather than counted as lost packets.
"""

import itertools
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402

DATA = os.path.join(ftlib.DATA_DIR, "frag")
DROP_REASONS = ("timeout", "evicted", "too_many", "oversize", "inconsistent", "dead", "no_buffer", "exit")
c = ftlib.checker("defragmentation (tests/data/frag)")
dig = ftlib.dig


def run(tmp, name, workers, sets=()):
    tag = "%s/w%d%s" % (name, workers, "".join(" " + s for s in sets))
    base = os.path.join(tmp, "%s-w%d-%d" % (name, workers, len(os.listdir(tmp))))
    # Both readers, whatever the CPUs: 1 worker reads itself, 3 are fed by
    # the control lcore (worker 0 reassembles, hands over).
    args = ["--pcap", os.path.join(DATA, name + ".pcap"), "--workers", str(workers),
            "--reader", "worker" if workers == 1 else "control",
            "--stats-json", base + ".stats", "--events", base + ".events", "--flow-log", base + ".flows",
            "--quiet"]
    for s in sets:
        args += ["--set", s]
    r = ftlib.run_flowtap(args)
    c.eq("%s: exit status" % tag, r.rc, 0, r.brief())
    c.check("%s: no runtime directory left" % tag, not r.leftover, r.leftover)
    return outputs(tag, base)


def outputs(tag, base):
    """The stats, events and flow records a run wrote under base, with the
    checks every run must pass."""
    st = ftlib.load_json(base + ".stats") if os.path.isfile(base + ".stats") else {}
    evs, recs = [], []
    for path, out in ((base + ".events", evs), (base + ".flows", recs)):
        if os.path.isfile(path):
            with open(path) as f:
                out.extend(json.loads(ln) for ln in f if ln.strip())
    c.check("%s: accounting_ok" % tag, st.get("accounting_ok") is True, repr(st.get("accounting_ok")))
    c.check("%s: mempools_ok (every mbuf home, reassembly pools included)" % tag,
            st.get("mempools_ok") is True, st.get("mempools"))
    dropped = sum(dig(st, "defrag.dropped." + k, 0) or 0 for k in DROP_REASONS)
    c.eq("%s: fragments == fragments_used + dropped.* + held" % tag, dig(st, "defrag.fragments", None),
         (dig(st, "defrag.fragments_used", 0) or 0) + dropped + (dig(st, "defrag.held", 0) or 0))
    c.eq("%s: defrag.fragments == packets.fragment" % tag, dig(st, "defrag.fragments", None),
         dig(st, "packets.fragment", None))
    c.eq("%s: nothing held or in flight at exit" % tag,
         (dig(st, "defrag.held", None), dig(st, "defrag.in_flight", None)), (0, 0))
    return tag, st, evs, recs


def find(recs, want):
    return [r for r in recs if (r.get("src"), r.get("sport"), r.get("dst"), r.get("dport"), r.get("vlan")) ==
            (want["src"], want["sport"], want["dst"], want["dport"], want["vlan"])]


def check_records(tag, recs, wanted):
    c.eq("%s: TCP records" % tag, len(recs), len(wanted))
    for w in wanted:
        got = find(recs, w)
        name = "%s: record %s %s:%d (%s)" % (tag, w.get("what", ""), w["src"], w["sport"], w["vlan"])
        if not c.check(name + " exists once", len(got) == 1, "%d records" % len(got)):
            continue
        r = got[0]
        for k in ("orig_pkts", "resp_pkts", "orig_bytes", "resp_bytes", "conn_state", "end", "anomalies"):
            c.eq("%s: %s" % (name, k), r.get(k), w[k])


def tshark_payloads(pcap):
    """{(vlan ids, srcport): [payload hex, ...]} of TCP segments with data, as tshark reassembles."""
    out = subprocess.run(["tshark", "-r", pcap, "-o", "ip.defragment:TRUE", "-o", "ipv6.defragment:TRUE",
                          "-Y", "tcp.len>0", "-T", "fields", "-e", "vlan.id", "-e", "tcp.srcport",
                          "-e", "tcp.payload"], capture_output=True, text=True, timeout=120)
    res = {}
    for ln in out.stdout.splitlines():
        parts = ln.split("\t")
        if len(parts) != 3:
            continue
        vl = tuple(int(v) for v in parts[0].split(",") if v)
        res.setdefault((vl, int(parts[1])), []).append(parts[2].replace(":", "").lower())
    return res


def test_tcp(tmp):
    c.section("frag_tcp: TCP in fragments")
    truth = ftlib.load_json(os.path.join(DATA, "frag_tcp.json"))
    for workers in (1, 3):
        tag, st, evs, recs = run(tmp, "frag_tcp", workers)
        c.eq("%s: packets.rx" % tag, dig(st, "packets.rx", None), truth["frames"])
        for k, want in (("fragments", truth["fragments"]), ("reassembled", truth["reassembled"]),
                        ("fragments_used", truth["fragments"]), ("datagrams", truth["datagrams"]),
                        ("overlaps", truth["overlaps"]), ("overlaps_different", 0),
                        ("timeouts", 0), ("table_full", 0), ("undecodable", 0)):
            c.eq("%s: defrag.%s" % (tag, k), dig(st, "defrag." + k, None), want)
        c.eq("%s: frag_overlap events (same bytes)" % tag,
             sorted((e["event"], e.get("detail")) for e in evs if e["event"].startswith("frag_")),
             [("frag_overlap", "same bytes")] * truth["frag_overlap"])
        c.eq("%s: no retransmit_different_data" % tag,
             dig(st, "anomalies.retransmit_different_data", None), 0)
        check_records(tag, recs, truth["records"])
    # Bytes: tshark's reassembly == what was sent == the retransmission.
    tp = tshark_payloads(os.path.join(DATA, "frag_tcp.pcap"))
    for p in truth["payloads"]:
        got = tp.get(((), p["sport"]), [])
        c.check("tshark: %s: reassembled segment and retransmission carry the bytes sent" % p["what"],
                len(got) == 2 and all(g == p["hex"] for g in got), "%d segments" % len(got))
    for vl in ((100,), (200, 300)):
        got = tp.get((vl, 41000), [])
        c.check("tshark: VLAN %s: reassembled segment equals its retransmission" % (vl,),
                len(got) == 2 and got[0] == got[1], "%d segments" % len(got))


def test_overlap(tmp):
    c.section("frag_overlap: policies")
    truth = ftlib.load_json(os.path.join(DATA, "frag_overlap.json"))
    runs = [(w, pol, want, []) for w, (pol, want) in itertools.product((1, 3), sorted(truth["policies"].items()))]
    runs += [(1, pol, want, ["general.checksums=off"])
             for pol, want in sorted(truth["policies_checksums_off"].items())]
    for workers, pol, want, extra in runs:
        tag, st, evs, recs = run(tmp, "frag_overlap", workers, ["defrag.policy=" + pol] + extra)
        c.eq("%s: reassembled" % tag, dig(st, "defrag.reassembled", None), truth["reassembled"])
        c.eq("%s: overlaps, overlaps_different" % tag,
             (dig(st, "defrag.overlaps", None), dig(st, "defrag.overlaps_different", None)),
             (truth["overlaps"], truth["overlaps_different"]))
        c.eq("%s: anomalies.frag_overlap (every occurrence)" % tag, dig(st, "anomalies.frag_overlap", None),
             truth["overlaps"])
        c.eq("%s: frag_overlap events, one per datagram, different bytes" % tag,
             [(e.get("detail"), e.get("dir"), e.get("proto")) for e in evs if e["event"] == "frag_overlap"],
             [("different bytes", None, "tcp")] * truth["frag_overlap_events"])
        c.eq("%s: retransmit_different_data" % tag, dig(st, "anomalies.retransmit_different_data", None),
             want["retransmit_different_data"])
        c.eq("%s: tcp_bad_checksum" % tag, dig(st, "anomalies.tcp_bad_checksum", None) or 0,
             want["tcp_bad_checksum"])
        check_records(tag, recs, want["records"])


def test_anomalies(tmp):
    c.section("frag_anomalies")
    truth = ftlib.load_json(os.path.join(DATA, "frag_anomalies.json"))
    for workers in (1, 3):
        tag, st, evs, _ = run(tmp, "frag_anomalies", workers)
        for k, want in sorted(truth["counters"].items()):
            c.eq("%s: defrag.%s" % (tag, k), dig(st, "defrag." + k, None), want)
        frag = {k: v for k, v in (st.get("anomalies") or {}).items() if k.startswith("frag_") and v}
        c.eq("%s: frag_* anomaly counts" % tag, frag, truth["anomalies"])
        got = {}
        for e in evs:
            if e["event"].startswith("frag_"):
                got[e["event"]] = got.get(e["event"], 0) + 1
                c.check("%s: %s event has no dir and a detail" % (tag, e["event"]),
                        "dir" not in e and bool(e.get("detail")), repr(e))
        c.eq("%s: frag_* events (one per datagram per name)" % tag, got, truth["events"])


def test_flood(tmp):
    c.section("frag_flood: a flood fills the table")
    truth = ftlib.load_json(os.path.join(DATA, "frag_flood.json"))
    for workers in (1, 3):
        tag, st, _, recs = run(tmp, "frag_flood", workers, truth["config"])
        for k, want in sorted(truth["counters"].items()):
            c.eq("%s: defrag.%s" % (tag, k), dig(st, "defrag." + k, None), want)
        check_records(tag, recs, truth["records"])


def test_live(tmp):
    c.section("live: one rx queue read by one of 3 workers")
    name = "frag_tcp"
    truth = ftlib.load_json(os.path.join(DATA, name + ".json"))
    base = os.path.join(tmp, "live")
    prefix = "ft-defrag-%d" % os.getpid()
    args = [ftlib.flowtap_path(), "--lcores=(0-3)@(0-%d)" % (os.cpu_count() - 1), "--no-huge", "-m", "512",
            "--no-pci", "--file-prefix", prefix,
            "--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % os.path.join(DATA, name + ".pcap"),
            "--", "--mode", "passive", "--stats-json", base + ".stats", "--events", base + ".events",
            "--flow-log", base + ".flows", "--set", "flows.max=16384"]
    proc, rc = None, None
    try:
        with open(base + ".err", "w") as err:
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                    start_new_session=True)
        time.sleep(6)
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pass
    finally:
        ftlib.kill_group(proc)
        ftlib.remove_runtime_dir(prefix)
    tag = "%s live/w3" % name
    c.eq("%s: SIGINT: exit status" % tag, rc, 0)
    st = outputs(tag, base)[1]
    rx = dig(st, "packets.rx", 0) or 0
    c.check("%s: the replay looped (packets.rx > 3 x %d frames)" % (tag, truth["frames"]),
            rx > 3 * truth["frames"], rx)
    c.check("%s: datagrams reassembled (> 3 x %d)" % (tag, truth["reassembled"]),
            dig(st, "defrag.reassembled", 0) > 3 * truth["reassembled"],
            dig(st, "defrag.reassembled", None))


def main():
    ftlib.require_binary()
    with ftlib.tempdir("flowtap-defrag-") as tmp:
        test_tcp(tmp)
        test_overlap(tmp)
        test_anomalies(tmp)
        test_flood(tmp)
        test_live(tmp)
    ftlib.finish()


if __name__ == "__main__":
    main()
