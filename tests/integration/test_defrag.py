#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Defragmentation, offline, on the captures of tests/gen/gen_frag.py (tests/data/frag).

- frag_tcp (1 and 3 workers): exact defrag.* counters, the flow records of
  the TCP connections carried in fragments (VLAN 100 and QinQ 200.300 with
  the same addresses and IP id are two connections), accounting_ok, the
  identity fragments == fragments_used + dropped.* + held, and the bytes:
  tshark's reassembly (ip/ipv6.defragment) of each data segment equals the
  bytes sent and the unfragmented retransmission that follows it, and
  flowtap's tracker, which compares a retransmission's bytes with the
  segment it retransmits, finds no retransmit_different_data: flowtap
  reassembled the same bytes as tshark.
- frag_overlap, under each policy: only the connection whose retransmission
  carries that policy's bytes has no retransmit_different_data; overlaps and
  frag_overlap events ("different bytes") exact.
- frag_anomalies (1 worker: the timeout needs the late packet's time on the
  worker that holds the datagram): every frag_* anomaly and event count,
  every drop reason.
- frag_flood with max_datagrams=64 (1 worker: exact evictions; 3 workers:
  bounded and the good datagram still reassembles).
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402

DATA = os.path.join(ftlib.DATA_DIR, "frag")
DROP_REASONS = ("timeout", "evicted", "too_many", "oversize", "inconsistent", "dead", "no_buffer", "exit")
c = ftlib.checker("defragmentation (tests/data/frag)")
dig = ftlib.dig


def run(tmp, name, workers, sets=()):
    tag = "%s/w%d%s" % (name, workers, "".join(" " + s for s in sets))
    base = os.path.join(tmp, "%s-w%d-%d" % (name, workers, len(os.listdir(tmp))))
    args = ["--pcap", os.path.join(DATA, name + ".pcap"), "--workers", str(workers),
            "--stats-json", base + ".stats", "--events", base + ".events", "--flow-log", base + ".flows",
            "--quiet"]
    for s in sets:
        args += ["--set", s]
    r = ftlib.run_flowtap(args)
    c.eq("%s: exit status" % tag, r.rc, 0, r.brief())
    c.check("%s: no runtime directory left" % tag, not r.leftover, r.leftover)
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
    for pol, want in sorted(truth["policies"].items()):
        tag, st, evs, recs = run(tmp, "frag_overlap", 1, ["defrag.policy=" + pol])
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
        check_records(tag, recs, want["records"])
    tag, st, _, _ = run(tmp, "frag_overlap", 3)
    c.eq("%s: default policy linux" % tag, dig(st, "anomalies.retransmit_different_data", None),
         truth["policies"]["linux"]["retransmit_different_data"])


def test_anomalies(tmp):
    c.section("frag_anomalies")
    truth = ftlib.load_json(os.path.join(DATA, "frag_anomalies.json"))
    tag, st, evs, _ = run(tmp, "frag_anomalies", 1)
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
    tag, st, _, _ = run(tmp, "frag_anomalies", 3)
    c.eq("%s: fragments" % tag, dig(st, "defrag.fragments", None), truth["counters"]["fragments"])


def test_flood(tmp):
    c.section("frag_flood: a flood fills the table")
    truth = ftlib.load_json(os.path.join(DATA, "frag_flood.json"))
    tag, st, _, recs = run(tmp, "frag_flood", 1, truth["config"])
    for k, want in sorted(truth["counters_w1"].items()):
        c.eq("%s: defrag.%s" % (tag, k), dig(st, "defrag." + k, None), want)
    check_records(tag, recs, truth["records"])
    tag, st, _, recs = run(tmp, "frag_flood", 3, truth["config"])
    c.eq("%s: the good datagram reassembles after the flood" % tag, dig(st, "defrag.reassembled", None), 1)
    c.check("%s: evictions bounded the table (3 x 64 in flight at most)" % tag,
            dig(st, "defrag.table_full", 0) >= 1000 - 3 * 64, repr(st.get("defrag")))
    check_records(tag, recs, truth["records"])


def main():
    ftlib.require_binary()
    with ftlib.tempdir("flowtap-defrag-") as tmp:
        test_tcp(tmp)
        test_overlap(tmp)
        test_anomalies(tmp)
        test_flood(tmp)
    ftlib.finish()


if __name__ == "__main__":
    main()
