#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""TCP tracking against generated captures whose truth is known.

Captures: tests/data/tcp/NAME.pcap with NAME.json (tests/gen/gen_tcp.py: one
scenario per capture, every RFC 793 transition flowtap infers and every TCP
anomaly name), and tests/data/smtp.pcap.

For each capture:
  - the generator reproduces the committed pcap and truth byte for byte;
  - tshark (when installed) reads the same flags, seq, ack and payload length
    per frame as the truth's ladder, and valid checksums (wrong where meant);
  - flowtap --pcap with 1 worker (and --ladder 'tcp'): exit 0, one flow
    record per connection with every field the truth states (5-tuple, vlan,
    first/last ts to the microsecond, packets, payload and IP bytes, ISNs,
    both RFC 793 states, conn_state, history, end, anomalies), the events
    (name, connection, ts, dir, seq, ack, expected, states, severity; one per
    flow per name; nothing else), the stats JSON anomaly counters (every
    occurrence, every TCP name), flows.created, accounting_ok, and the states
    after every frame on the ladder (a frame whose checksum is wrong marked);
  - with 3 workers: records and events identical apart from order, same
    counters, flows.created == connections (both directions met one owner);
  - scenarios with events_every_occurrence: again with
    --set events.every_occurrence=yes, every occurrence is an event.
smtp.pcap: one record, CLOSED/CLOSED, end rst, ISNs 1000/5000, no anomaly.

Every run uses the truth's "config" (--set detect.syn_flood_rate=50).
FT_TCP_ONLY=name,name runs only those scenarios; FT_VERBOSE=1 prints passing
checks too; FT_KEEP=1 keeps the outputs.
"""

import collections
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402

TCP_DIR = os.path.join(ftlib.DATA_DIR, "tcp")
GEN = os.path.join(ftlib.GEN_DIR, "gen_tcp.py")
REC_FIELDS = ("first_ts", "last_ts", "orig_pkts", "resp_pkts", "orig_bytes", "resp_bytes",
              "orig_ip_bytes", "resp_ip_bytes", "orig_isn", "resp_isn", "orig_state", "resp_state",
              "conn_state", "history", "end", "anomalies")
LADDER_RE = re.compile(r"^\s*(\d+\.\d+)\s+(-->|<--)\s+\[([^\]]*)\]\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)"
                       r"\s+([A-Z_0-9]+)\s+([A-Z_0-9]+)(?:\s+\((.*)\))?\s*$")
LADDER_NOTE_BAD_CSUM = "checksum wrong: dropped"

# Every TCP frame, untagged, 802.1Q or QinQ ("vlan" moves the offsets of what follows it).
LADDER_FILTER = "tcp or (vlan and (tcp or (vlan and tcp)))"

c = ftlib.checker("tcp tracking")
gen_tcp = ftlib.gen("gen_tcp")
CATALOGUE = gen_tcp.catalogue()
SEVERITY = dict(CATALOGUE)
TCP_NAMES = [n for n, _ in CATALOGUE if not n.startswith("frag_") and n != "signature_match"]


def us(v):
    """A JSON seconds value (float with microseconds) as integer microseconds."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return v
    return int(round(v * 1000000))


def key_of(r):
    return (r.get("src"), r.get("sport"), r.get("dst"), r.get("dport"), tuple(r.get("vlan") or ()))


def fmt_key(k):
    return "%s:%s>%s:%s%s" % (k[0], k[1], k[2], k[3], (" vlan%s" % list(k[4])) if k[4] else "")


def read_lines(path):
    out, bad = [], []
    if not os.path.isfile(path):
        return out, ["%s not written" % os.path.basename(path)]
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except ValueError as e:
                bad.append("line %d: %s: %r" % (i, e, line[:200]))
    return out, bad


# ------------------------------------------------------------------ running
def ladder_supported():
    r = ftlib.run_flowtap(["--help"], timeout=30)
    return "--ladder" in (r.stdout + r.stderr)


class Out:
    def __init__(self):
        self.ok = False
        self.records, self.events, self.stats, self.ladder = [], [], {}, []
        self.run = None


def run(tmp, pcap, truth, tag, workers, extra=(), ladder=False):
    base = os.path.join(tmp, tag.replace("/", "-"))
    flog, ev, st = base + "-flows.json", base + "-events.json", base + "-stats.json"
    args = ["--pcap", pcap, "--workers", str(workers), "--flow-log", flog, "--events", ev,
            "--stats-json", st, "--quiet"]
    for s in list(truth.get("config", [])) + list(extra):
        args += ["--set", s]
    if ladder:
        args += ["--ladder", LADDER_FILTER]
    o = Out()
    r = o.run = ftlib.run_flowtap(args)
    c.eq("%s: exit status" % tag, r.rc, 0, r.brief())
    c.check("%s: no runtime directory left" % tag, not r.leftover, r.leftover)
    if r.rc != 0:
        return o
    o.records, bad = read_lines(flog)
    c.check("%s: flow log is JSON lines" % tag, not bad, bad[:3])
    o.events, bad = read_lines(ev)
    c.check("%s: events are JSON lines" % tag, not bad, bad[:3])
    try:
        o.stats = ftlib.load_json(st)
    except (OSError, ValueError) as e:
        c.check("%s: stats JSON" % tag, False, str(e))
        return o
    if ladder:
        o.ladder = [m.groups() for m in (LADDER_RE.match(ln) for ln in r.stdout.splitlines()) if m]
    o.ok = True
    return o


# ------------------------------------------------------------------ checks
def check_records(tag, got, truth):
    want = truth["records"]
    c.eq("%s: number of flow records" % tag, len(got), len(want),
         "got %s" % [fmt_key(key_of(r)) for r in got][:8])
    pool = collections.defaultdict(list)
    for r in got:
        pool[key_of(r)].append(r)
    for k in pool:
        pool[k].sort(key=lambda r: (us(r.get("first_ts")) or 0))
    for i, w in enumerate(want):
        k = key_of(w)
        name = "%s: record %d %s" % (tag, i, fmt_key(k))
        if not pool.get(k):
            rk = (k[2], k[3], k[0], k[1], k[4])
            hint = " (a record exists with orig and resp swapped)" if pool.get(rk) else ""
            c.check(name + " written", False, "no such record" + hint)
            continue
        g = pool[k].pop(0)
        unstated = w.get("unstated", {})
        for f in REC_FIELDS:
            if f in unstated:
                if c.verbose:
                    c.note("%s: %s not stated: %s" % (name, f, unstated[f]))
                continue
            wv = w.get(f + "_us") if f in ("first_ts", "last_ts") else w.get(f)
            gv = us(g.get(f, ftlib.MISSING)) if f in ("first_ts", "last_ts") else g.get(f, ftlib.MISSING)
            if gv is ftlib.MISSING:
                c.check("%s: %s" % (name, f), False, "key missing")
            elif f in w.get("alt", {}) and gv == w["alt"][f] and gv != wv:
                c.check("%s: %s" % (name, f), True)
                c.note("%s: %s %r is the documented meaning, not what Zeek's code writes (%r)" %
                       (name, f, gv, wv))
            else:
                extra = ("or %r; %s" % (w["alt"][f], w["notes"][f])) if f in w.get("alt", {}) else ""
                c.eq("%s: %s" % (name, f), gv, wv, extra)
    left = [r for rs in pool.values() for r in rs]
    c.check("%s: no record beyond the truth's" % tag, not left,
            "; ".join(json.dumps(r, sort_keys=True)[:300] for r in left[:3]))


def event_matches(e, w):
    if e.get("event") != w["event"]:
        return False
    if w["event"] in gen_tcp.CROSS_FLOW:
        return e.get("dst") == w["dst"]
    return (e.get("src"), e.get("sport"), e.get("dst"), e.get("dport")) == \
        (w["src"], w["sport"], w["dst"], w["dport"]) and us(e.get("ts")) == w["ts_us"]


def check_events(tag, got, want):
    left = list(got)
    for w in want:
        where = ("dst %s" % w["dst"]) if w["event"] in gen_tcp.CROSS_FLOW else \
            "%s:%d>%s:%d frame %d" % (w["src"], w["sport"], w["dst"], w["dport"], w["frame"])
        name = "%s: event %s (%s)" % (tag, w["event"], where)
        found = next((e for e in left if event_matches(e, w)), None)
        if found is None:
            same = [e for e in left if e.get("event") == w["event"]]
            c.check(name, False, "not emitted%s" % (
                ("; emitted for: %s" % [(e.get("src"), e.get("sport"), e.get("dst"), e.get("dport"),
                                          e.get("ts")) for e in same[:3]]) if same else ""))
            continue
        left.remove(found)
        bad = {}
        if found.get("proto") != "tcp":
            bad["proto"] = (found.get("proto"), "tcp")
        if found.get("severity") != SEVERITY.get(w["event"]):
            bad["severity"] = (found.get("severity"), SEVERITY.get(w["event"]))
        if w["event"] in gen_tcp.CROSS_FLOW:
            if "dport" in found and found.get("dport") not in (w["dport"], 0):
                bad["dport"] = (found.get("dport"), w["dport"])
            if us(found.get("ts")) != w["ts_us"]:  # the packet that crossed the threshold
                bad["ts_us"] = (us(found.get("ts")), w["ts_us"])
        else:
            for k in ("dir", "seq", "expected"):
                if k in w and found.get(k, ftlib.MISSING) != w[k]:
                    bad[k] = (found.get(k, "missing"), w[k])
            for k in ("ack", "orig_state", "resp_state"):
                if k in w and k in found and found[k] != w[k]:
                    bad[k] = (found[k], w[k])
            if "expected" in found and "expected" not in w:
                c.note("%s: flowtap gives expected=%s (the truth defines none)" % (name, found["expected"]))
        c.check(name, not bad, "; ".join("%s got %r want %r" % (k, g, v) for k, (g, v) in bad.items()))
    c.check("%s: no event beyond the truth's" % tag, not left,
            "; ".join(json.dumps(e, sort_keys=True)[:300] for e in left[:4]))
    gc = collections.Counter(e.get("event") for e in got)
    wc = collections.Counter(w["event"] for w in want)
    c.eq("%s: events per name" % tag, dict(gc), dict(wc))


def check_stats(tag, st, truth):
    an = st.get("anomalies") if isinstance(st.get("anomalies"), dict) else {}
    want = truth.get("anomalies", {})
    for n in TCP_NAMES:
        c.eq("%s: anomalies.%s" % (tag, n), an.get(n), want.get(n, 0))
    c.eq("%s: flows.created" % tag, ftlib.dig(st, "flows.created", None), truth["flows_created"])
    c.check("%s: accounting_ok" % tag, st.get("accounting_ok") is True, repr(st.get("accounting_ok")))
    c.check("%s: mempools_ok (every mbuf home after the drain)" % tag, st.get("mempools_ok") is True, st.get("mempools"))
    c.eq("%s: packets.tcp" % tag, ftlib.dig(st, "packets.tcp", None), truth["packets"]["tcp"])


def check_ladder(tag, lines, truth):
    lad = truth["ladder"]
    if not c.eq("%s: ladder lines == frames" % tag, len(lines), len(lad)):
        if not lines:
            return
    for got, w in zip(lines, lad):
        _, arrow, _flags, seq, _ack, ln, _win, ost, rst, note = got
        name = "%s: ladder frame %d %s %s" % (tag, w["frame"], w["dir"], w["flags"] or "-")
        same_pkt = (int(seq), int(ln)) == (w["seq"], w["len"]) and \
            arrow == ("-->" if w["dir"] == "orig" else "<--")
        if not same_pkt:
            c.check(name + ": ladder line is this frame", False, "got %s seq %s len %s, want %s seq %d len %d"
                    % (arrow, seq, ln, w["dir"], w["seq"], w["len"]))
            continue
        c.eq(name + ": states after it", (ost, rst), (w["orig_state"], w["resp_state"]))
        # A segment whose checksum is wrong is on it, marked: the receiver dropped it
        c.eq(name + ": note", note, LADDER_NOTE_BAD_CSUM if w.get("bad_csum") else None)


def canon(objs):
    return sorted(json.dumps(o, sort_keys=True) for o in objs)


def check_same(tag, a, b):
    """The 3-worker run gives what the 1-worker run gave."""
    for what, x, y in (("records", a.records, b.records), ("events", a.events, b.events)):
        ca, cb = canon(x), canon(y)
        only_a = sorted((collections.Counter(ca) - collections.Counter(cb)).elements())
        only_b = sorted((collections.Counter(cb) - collections.Counter(ca)).elements())
        c.check("%s: %s identical to 1 worker's (apart from order)" % (tag, what), not only_a and not only_b,
                "only with 1 worker: %s; only with 3: %s" % ([s[:200] for s in only_a[:2]],
                                                             [s[:200] for s in only_b[:2]]))
    c.eq("%s: anomaly counters same as 1 worker's" % tag, a.stats.get("anomalies"), b.stats.get("anomalies"))


def check_tshark(name, pcap, truth):
    exe = shutil.which("tshark")
    if exe is None:
        c.skip("%s: tshark reads the truth's frames" % name, "tshark not installed")
        return
    p = subprocess.run([exe, "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-r", pcap,
                        "-T", "fields", "-e", "tcp.flags", "-e", "tcp.seq_raw", "-e", "tcp.ack_raw",
                        "-e", "tcp.len", "-e", "tcp.checksum.status"],
                       capture_output=True, text=True, timeout=120)
    rows = [ln.split("\t") for ln in p.stdout.splitlines()]
    bad = []
    for row, w in zip(rows, truth["ladder"]):
        try:
            got = (int(row[0], 16), int(row[1]), int(row[2]), int(row[3]), row[4])
        except (ValueError, IndexError):
            got = tuple(row)
        # tshark's checksum status: 1 good, 0 bad (the frames built wrong on purpose)
        want = (w["flag_bits"], w["seq"], w["ack"], w["len"], "0" if w.get("bad_csum") else "1")
        if got != want:
            bad.append("frame %d: tshark %s, truth %s" % (w["frame"], got, want))
    c.eq("%s: tshark frames == truth frames" % name, len(rows), len(truth["ladder"]))
    c.check("%s: tshark reads the truth's flags/seq/ack/len, checksums good (bad where meant)" % name,
            not bad, bad[:3])


def scenario(tmp, name, has_ladder):
    c.section(name)
    pcap = os.path.join(TCP_DIR, name + ".pcap")
    tpath = os.path.join(TCP_DIR, name + ".json")
    if not c.check("%s: capture and truth exist" % name, os.path.isfile(pcap) and os.path.isfile(tpath)):
        return
    truth = ftlib.load_json(tpath)
    check_tshark(name, pcap, truth)
    one = run(tmp, pcap, truth, name + "/w1", 1, ladder=has_ladder)
    if one.ok:
        check_records(name + "/w1", one.records, truth)
        check_events(name + "/w1", one.events, truth["events"])
        check_stats(name + "/w1", one.stats, truth)
        if has_ladder:
            check_ladder(name + "/w1", one.ladder, truth)
    three = run(tmp, pcap, truth, name + "/w3", 3)
    if three.ok:
        c.eq("%s/w3: flows.created == connections" % name, ftlib.dig(three.stats, "flows.created", None),
             truth["flows_created"], "one worker must see both directions of each connection")
        check_stats(name + "/w3", three.stats, truth)
        if one.ok:
            check_same(name + "/w3", one, three)
        else:
            check_records(name + "/w3", three.records, truth)
    if "events_every_occurrence" in truth:
        ev = run(tmp, pcap, truth, name + "/every", 1, extra=["events.every_occurrence=yes"])
        if ev.ok:
            check_events(name + "/every", ev.events, truth["events_every_occurrence"])
            check_stats(name + "/every", ev.stats, truth)


def smtp(tmp):
    c.section("smtp")
    truth = {"config": gen_tcp.CONFIG}
    o = run(tmp, ftlib.data("smtp.pcap"), truth, "smtp/w1", 1)
    if not o.ok:
        return
    if not c.eq("smtp: one flow record", len(o.records), 1, str([fmt_key(key_of(r)) for r in o.records])):
        return
    r = o.records[0]
    for k, v in (("src", "192.168.1.10"), ("sport", 1042), ("dst", "192.168.1.20"), ("dport", 25),
                 ("orig_state", "CLOSED"), ("resp_state", "CLOSED"), ("end", "rst"),
                 ("orig_isn", 1000), ("resp_isn", 5000), ("anomalies", [])):
        c.eq("smtp: %s" % k, r.get(k, ftlib.MISSING), v)
    bad = [e for e in o.events if e.get("event") in TCP_NAMES]
    c.check("smtp: no anomaly events", not bad, [e.get("event") for e in bad])
    an = o.stats.get("anomalies") or {}
    c.check("smtp: no anomaly counted", not any(an.get(n) for n in TCP_NAMES),
            {n: an.get(n) for n in TCP_NAMES if an.get(n)})


def regenerate(tmp, names):
    c.section("gen_tcp.py reproduces tests/data/tcp")
    regen = os.path.join(tmp, "regen")
    p = ftlib.run_python(GEN, [regen])
    if not c.eq("gen_tcp.py exit status", p.returncode, 0, p.stderr[-800:]):
        return
    made = sorted(os.listdir(regen))
    have = sorted(os.listdir(TCP_DIR)) if os.path.isdir(TCP_DIR) else []
    c.eq("tests/data/tcp holds exactly the generated files", have, made,
         "regenerate with: /usr/bin/python3 tests/gen/gen_tcp.py")
    for fname in made:
        a, b = os.path.join(regen, fname), os.path.join(TCP_DIR, fname)
        if not os.path.isfile(b):
            continue
        with open(a, "rb") as fa, open(b, "rb") as fb:
            c.check("gen_tcp.py reproduces tests/data/tcp/%s byte for byte" % fname, fa.read() == fb.read(),
                    "regenerate with: /usr/bin/python3 tests/gen/gen_tcp.py")
    covered = set()
    for n in names:
        t = ftlib.load_json(os.path.join(regen, n + ".json"))
        covered |= set(t.get("anomalies", {}))
    missing = [n for n in TCP_NAMES if n not in covered]
    c.check("every TCP anomaly name is raised by some capture", not missing, missing)


def main():
    ftlib.require_binary()
    names = gen_tcp.names()
    only = os.environ.get("FT_TCP_ONLY")
    with ftlib.tempdir("flowtap-tcp-") as tmp:
        regenerate(tmp, names)
        has_ladder = ladder_supported()
        if not has_ladder:
            c.skip("ladder states per frame", "flowtap has no --ladder")
        for n in names:
            if only and n not in only.split(","):
                continue
            scenario(tmp, n, has_ladder)
        if not only:
            smtp(tmp)
    ftlib.finish()


if __name__ == "__main__":
    main()
