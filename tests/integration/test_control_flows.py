#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Live queries the workers answer: /flowtap/flows, /flowtap/flow,
/flowtap/anomalies, /flowtap/events and the live /flowtap/ladder, through the
telemetry socket and through flowtap-ctl.

Live run: dpdk-testpmd replays a capture once over net_memif into flowtap
(passive, 2 workers on 2 cores: one memif queue, so half the connections are
handed over to the other worker, and every listing merges both). The capture
is built here: tests/data/smtp.pcap (the SMTP session, ISNs 1000/5000),
tests/data/corpus/zk_quantum-insert.pcap (retransmit_different_data,
ttl_change, packet_after_close), the SMTP session's first 5 frames on client
port 1043 (left ESTABLISHED), an IPv6 handshake (ESTABLISHED) and 150 lone
SYNs to port 8080 (more connections than a 16 KiB reply holds), and last the
SMTP session's closing RST again with a wrong TCP checksum (an injection the
host drops: tcp_bad_checksum, history C, a ladder line marked as dropped).
The ladder is armed before testpmd starts; long timeouts keep every connection in the
tables while the test asks. Expected content comes from the capture and from
flowtap's own offline run of the same capture (--ladder, --events).

Offline run: flowtap --pcap on a generated capture answers /flowtap/flows
while it runs, and a query racing with the end of the capture gets a clear
error, never a hang or a crash.

Environment as test_control.py. Exits 77 (skip) without flowtap or testpmd.
"""

import contextlib
import importlib.machinery
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402
from test_memif_inline import TestPmd  # noqa: E402

SMTP = ("192.168.1.10", 1042, "192.168.1.20", 25)
SMTP_SPEC = "192.168.1.10:1042-192.168.1.20:25"
COPY_PORT = 1043                       # the SMTP session's first 5 frames, again
SMTP_LINES = 17                        # smtp.json's 16 ladder lines and the RST with a wrong checksum
BAD_CSUM_NOTE = "checksum wrong: dropped"
V6 = ("2001:db8::1", 40000, "2001:db8::2", 443)
V6_SPEC = "[2001:db8::1]:40000-[2001:db8::2]:443"
# Half-open connections, each to its own server (no syn_flood): more than a
# 16 KiB reply holds, so listings are cut by size and followed by cursor.
HALF_OPEN = 150
HALF_OPEN_PORT = 8080
QI_SERVER = "96.126.98.124"
QI_EVENTS = {"retransmit_different_data", "ttl_change", "packet_after_close"}
# Every timeout at its longest: nothing leaves the tables during the test.
KEEP_FLOWS = ["flows.timeout_established=864000", "flows.timeout_closing=86400",
              "flows.timeout_closed=3600", "flows.close_linger=3600", "flows.msl=3600",
              "flows.timeout_embryonic=86400"]

t = ftlib.Checker("control socket: flows, flow, anomalies, events, ladder")
t.verbose = True


def load_ctl_module(path):
    """flowtap-ctl as a module: its Telemetry client speaks to the socket."""
    loader = importlib.machinery.SourceFileLoader("flowtap_ctl", path)
    mod = importlib.util.module_from_spec(importlib.util.spec_from_loader("flowtap_ctl", loader))
    loader.exec_module(mod)
    return mod


def build_capture(out):
    """The live capture; returns its frame count."""
    from scapy.layers.inet import IP, TCP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import Ether

    smtp = ftlib.capture_frames(ftlib.data("smtp.pcap"))
    qi = ftlib.capture_frames(ftlib.data("corpus/zk_quantum-insert.pcap"))
    copy = []
    for raw in smtp[:5]:
        e = Ether(raw)
        if e[TCP].sport == SMTP[1]:
            e[TCP].sport = COPY_PORT
        else:
            e[TCP].dport = COPY_PORT
        del e[IP].chksum
        del e[TCP].chksum
        copy.append(bytes(e))
    c, s = (V6[0], V6[1]), (V6[2], V6[3])
    eth = Ether(src="00:00:5e:00:53:01", dst="00:00:5e:00:53:02")
    v6 = [eth / IPv6(src=c[0], dst=s[0]) / TCP(sport=c[1], dport=s[1], flags="S", seq=7000),
          eth / IPv6(src=s[0], dst=c[0]) / TCP(sport=s[1], dport=c[1], flags="SA", seq=9000,
                                               ack=7001),
          eth / IPv6(src=c[0], dst=s[0]) / TCP(sport=c[1], dport=s[1], flags="A", seq=7001,
                                               ack=9001)]
    syns = [bytes(eth / IP(src="10.9.%d.%d" % (i // 250, i % 250 + 1), dst="192.0.2.%d" % (i % 250 + 1))
                  / TCP(sport=20000 + i, dport=HALF_OPEN_PORT, flags="S", seq=100 * i))
            for i in range(HALF_OPEN)]
    bad_rst = bytes(ftlib.ftgen().with_bad_tcp_csum(smtp[15]))  # the client's RST, ladder line 16
    frames = smtp + qi + copy + [bytes(p) for p in v6] + syns + [bad_rst]
    ftlib.ftgen().write_pcap(out, frames)
    return len(frames)


def offline(args):
    """flowtap --pcap ... (same engine, for expected content)."""
    r = ftlib.run_flowtap(args, timeout=120)
    if r.rc != 0:
        raise RuntimeError("offline flowtap failed: " + r.brief())
    return r.stdout


def ladder_rows(text):
    """The ladder lines of flowtap --ladder output, without the time column
    (a note, "(checksum wrong: dropped)", as one last column)."""
    rows = []
    for ln in text.splitlines():
        parts = ln.split()
        if len(parts) >= 9 and parts[1] in ("-->", "<--"):
            rows.append(parts[1:9] + ([" ".join(parts[9:])] if len(parts) > 9 else []))
    return rows


class Live:
    """The telemetry socket of the live flowtap, and flowtap-ctl on it."""

    def __init__(self, ctl_mod, ctl_path, prefix):
        self.mod = ctl_mod
        self.ctl_path = ctl_path
        self.prefix = prefix
        self.sock = os.path.join("/var/run/dpdk", prefix, "dpdk_telemetry.v2")

    def q(self, cmd):
        with self.mod.Telemetry(self.sock) as tel:
            return tel.query(cmd)

    def ctl(self, *args, timeout=30):
        cmd = [sys.executable, self.ctl_path, "--prefix", self.prefix] + list(args)
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            return subprocess.CompletedProcess(cmd, None, e.stdout or "", e.stderr or "")


def why(p):
    return "rc=%r stderr=%r stdout=%.600r" % (p.returncode, p.stderr[-400:], p.stdout)


def conn_of(row):
    return (row["src"], row["sport"], row["dst"], row["dport"])


def flows(live, params=""):
    rep = live.q("/flowtap/flows" + ("," + params if params else ""))
    return rep, [conn_of(r) for r in ftlib_rows(rep.get("flows") if isinstance(rep, dict) else None)]


def ftlib_rows(obj):
    if not isinstance(obj, dict):
        return []
    return [obj[k] for k in sorted(obj, key=int)]


def check_flows(live):
    t.section("/flowtap/flows")
    smtp_copy = (SMTP[0], COPY_PORT, SMTP[2], SMTP[3])
    qi = None
    total = 4 + HALF_OPEN
    rep, conns = flows(live)
    t.eq("flows: every connection matched", rep.get("matched"), total, json.dumps(rep)[:300])
    t.check("flows: the reply is cut by its size, and says so",
            rep.get("truncated") == 1 and rep.get("truncated_by") == "reply_size" and
            20 < rep.get("returned", 0) == len(conns) < 64 and rep.get("next"),
            json.dumps({k: v for k, v in rep.items() if k != "flows"}))
    # Every connection once, following the cursor with the largest limit.
    all_rows, pages = ftlib_rows(rep.get("flows")), 1
    while rep.get("next") and pages < 50:
        rep = live.q("/flowtap/flows,limit=256,from=" + rep["next"])
        all_rows += ftlib_rows(rep.get("flows"))
        pages += 1
    all_conns = [conn_of(r) for r in all_rows]
    t.check("flows: following next visits all %d connections once (%d pages)" % (total, pages),
            len(all_conns) == total and len(set(all_conns)) == total and pages > 2,
            "%d rows, %d distinct, %d pages" % (len(all_conns), len(set(all_conns)), pages))
    half = [r for r in all_rows if r["dport"] == HALF_OPEN_PORT]
    t.eq("flows: the half-open ones: SYN_SENT / SYN_RECEIVED, S0, history S",
         {(r["orig_state"], r["resp_state"], r["conn_state"], r["history"]) for r in half},
         {("SYN_SENT", "SYN_RECEIVED", "S0", "S")})
    rows = {conn_of(r): r for r in all_rows if r["dport"] != HALF_OPEN_PORT}
    for c in rows:
        if c[2] == QI_SERVER or c[0] == QI_SERVER:
            qi = c
    t.eq("flows: the four other connections, originators first",
         sorted(rows, key=str), sorted([SMTP, smtp_copy, V6, qi or ("?",)], key=str))
    s = rows.get(SMTP, {})
    t.eq("flows: SMTP states, conn_state, history",
         (s.get("orig_state"), s.get("resp_state"), s.get("conn_state"), s.get("history")),
         ("CLOSED", "CLOSED", "RSTO", "ShAdDfRC"))
    t.eq("flows: SMTP packets and payload bytes per side",
         (s.get("orig_pkts"), s.get("orig_bytes"), s.get("resp_pkts"), s.get("resp_bytes")),
         (10, 27, 6, 205))
    t.eq("flows: SMTP untagged, the RST with a wrong checksum its one anomaly",
         (s.get("vlan"), s.get("anomalies")), ("", "tcp_bad_checksum"))
    t.check("flows: first_ts <= last_ts, both live wall-clock times",
            float(s.get("first_ts", 0)) <= float(s.get("last_ts", -1)) and
            abs(float(s.get("last_ts", 0)) - time.time()) < 600, repr(s))
    t.eq("flows: the SMTP copy is ESTABLISHED on both ends",
         (rows.get(smtp_copy, {}).get("orig_state"), rows.get(smtp_copy, {}).get("resp_state")),
         ("ESTABLISHED", "ESTABLISHED"))
    t.eq("flows: the IPv6 connection is ESTABLISHED on both ends",
         (rows.get(V6, {}).get("orig_state"), rows.get(V6, {}).get("resp_state")),
         ("ESTABLISHED", "ESTABLISHED"))
    t.eq("flows: quantum-insert's anomalies listed",
         set((rows.get(qi, {}).get("anomalies") or "").split(",")), QI_EVENTS)
    t.eq("flows: both workers own some connections",
         sorted({r.get("worker") for r in rows.values()}), [0, 1])

    for params, want in [
            ("port=25", {SMTP, smtp_copy}),
            ("port=1042", {SMTP}),
            ("port=80", {qi}),
            ("port=9", set()),
            ("addr=192.168.1.20", {SMTP, smtp_copy}),
            ("addr=" + QI_SERVER, {qi}),
            ("addr=2001:db8::2", {V6}),
            ("addr=[2001:db8::1]", {V6}),
            ("state=ESTABLISHED", {smtp_copy, V6}),
            ("state=closed", {SMTP, qi}),
            ("state=LISTEN", set()),
            ("addr=10.9.0.7", {("10.9.0.7", 20006, "192.0.2.7", HALF_OPEN_PORT)}),
            ("port=25,state=ESTABLISHED", {smtp_copy}),
            ("addr=192.168.1.10,port=1042,state=CLOSED", {SMTP}),
            ("addr=192.168.1.10,port=443", set())]:
        rep, conns = flows(live, params)
        t.eq("flows,%s selects %d" % (params, len(want)),
             (set(conns), rep.get("matched")), (want, len(want)), json.dumps(rep)[:300])

    rep, conns = flows(live, "state=SYN_RECEIVED,limit=256")
    t.eq("flows,state=SYN_RECEIVED,limit=256: %d matched, cut by size" % HALF_OPEN,
         (rep.get("matched"), rep.get("truncated"), rep.get("truncated_by")),
         (HALF_OPEN, 1, "reply_size"))
    # limit cuts and says so; the cursor walks every connection once.
    rep, conns = flows(live, "limit=1,port=25")
    t.eq("flows,limit=1,port=25: 1 of 2, truncated by the limit",
         (rep.get("returned"), rep.get("matched"), rep.get("truncated"), rep.get("truncated_by"),
          len(conns)), (1, 2, 1, "limit", 1))
    seen = list(conns)
    pages = 1
    while rep.get("next") and pages < 10:
        rep, conns = flows(live, "limit=1,port=25,from=" + rep["next"])
        seen += conns
        pages += 1
    t.eq("flows: following next with limit=1 visits both once",
         sorted(seen, key=str), sorted([SMTP, smtp_copy], key=str))
    t.eq("flows: the last page is not truncated", rep.get("truncated"), 0)
    rep, conns = flows(live, "limit=2,port=25")
    t.eq("flows,limit=2,port=25: both, not truncated", (len(conns), rep.get("truncated")), (2, 0))


def check_flow(live):
    t.section("/flowtap/flow")
    f = live.q("/flowtap/flow," + SMTP_SPEC)
    if not t.check("flow: SMTP answers", isinstance(f, dict) and "orig" in f, repr(f)):
        return
    o, r = f["orig"], f["resp"]
    t.eq("flow: ISNs 1000 and 5000, both seen", (o.get("isn"), r.get("isn"), o.get("isn_seen"),
                                                 r.get("isn_seen")), (1000, 5000, 1, 1))
    t.eq("flow: endpoint states", (o.get("state"), r.get("state")), ("CLOSED", "CLOSED"))
    t.check("flow: highest acks (the server acked 1028; the client 5206, or 5207 by its RST)",
            r.get("highest_ack") == 1028 and o.get("highest_ack") in (5206, 5207), repr((o, r)))
    t.eq("flow: next seq of each side", (o.get("next_seq"), r.get("next_seq")), (1028, 5207))
    t.eq("flow: windows as sent", (o.get("window"), r.get("window")), (8192, 8760))
    t.check("flow: TTLs, packets", o.get("ttl", 0) > 0 and r.get("ttl", 0) > 0 and
            (o.get("pkts"), r.get("pkts")) == (10, 6), repr((o, r)))
    t.eq("flow: the server's FIN", (r.get("fin_seq"), "fin" in r.get("flags", "").split(",")),
         (5206, True))
    t.eq("flow: conn_state, ended by rst, finished",
         (f.get("conn_state"), f.get("end"), f.get("finished")), ("RSTO", "rst", 1))
    t.check("flow: ageing class and expiry", f.get("age_class") in ("linger", "closed") and
            0 < f.get("expires_in_s", 0) <= 3600, repr(f))
    t.check("flow: owning worker named", f.get("worker") in (0, 1), repr(f))
    rev = live.q("/flowtap/flow,192.168.1.20:25-192.168.1.10:1042")
    t.eq("flow: the spec in the other order finds the same connection",
         (rev.get("sport"), rev.get("orig", {}).get("isn")), (1042, 1000))
    v6 = live.q("/flowtap/flow," + V6_SPEC)
    t.eq("flow: IPv6 in brackets", (v6.get("src"), v6.get("orig", {}).get("isn"),
                                    v6.get("resp", {}).get("isn"), v6.get("orig_state")),
         (V6[0], 7000, 9000, "ESTABLISHED"))
    nf = live.q("/flowtap/flow,192.168.1.10:1042-192.168.1.20:26")
    t.eq("flow: an unknown connection is an error reply",
         nf, {"error": "no connection 192.168.1.10:1042-192.168.1.20:26"})
    nv = live.q("/flowtap/flow,%s,vlan=5" % SMTP_SPEC)
    t.check("flow: on another VLAN it is not found",
            isinstance(nv, dict) and "on that VLAN" in nv.get("error", ""), repr(nv))


def check_malformed(live):
    t.section("malformed parameters")
    cases = [
        ("/flowtap/flows,port=abc", "port: 'abc' is not a port number (0-65535)"),
        ("/flowtap/flows,port=70000", "port: '70000' is not a port number (0-65535)"),
        ("/flowtap/flows,limit=0", "limit: '0' is not a number from 1 to 256"),
        ("/flowtap/flows,limit=257", "limit: '257' is not a number from 1 to 256"),
        ("/flowtap/flows,state=OPEN", "state: 'OPEN' is not an RFC 793 state"),
        ("/flowtap/flows,addr=1.2.3", "addr: '1.2.3' is not an IPv4 or IPv6 address"),
        ("/flowtap/flows,colour=red", "unknown parameter 'colour'"),
        ("/flowtap/flows,port=25,,limit=2", "empty parameter"),
        ("/flowtap/flows,port=25,port=26", "parameter 'port' given twice"),
        ("/flowtap/flows,25", "'25' is not a parameter"),
        ("/flowtap/flows,from=7.0", "from: worker 7 does not exist (2 workers)"),
        ("/flowtap/flows,from=x", "from: 'x' is not a cursor"),
        ("/flowtap/flow", "give the connection"),
        ("/flowtap/flow,192.168.1.10:1042", "is not a connection ADDR:PORT-ADDR:PORT"),
        ("/flowtap/flow,2001:db8::1:80-2001:db8::2:80", "an IPv6 address goes in brackets"),
        ("/flowtap/flow,192.168.1.10:1042-[2001:db8::2]:25", "mixes IPv4 and IPv6"),
        ("/flowtap/flow,192.168.1.10:x-192.168.1.20:25", "'x' is not a port number"),
        ("/flowtap/flow,%s,vlan=5000" % SMTP_SPEC, "vlan: '5000' is not a VLAN id"),
        ("/flowtap/ladder,port=25,off", "one of them"),
        ("/flowtap/ladder,state=CLOSED", "unknown parameter 'state'"),
        ("/flowtap/ladder,from=1", "is not a cursor of /flowtap/ladder"),
        ("/flowtap/events,abc", "'abc' is not a number of events from 1 to 1024"),
        ("/flowtap/events,0", "is not a number of events"),
        ("/flowtap/anomalies,x", "takes no parameters"),
    ]
    for cmd, want in cases:
        rep = live.q(cmd)
        err = rep.get("error", "") if isinstance(rep, dict) else ""
        t.check("%s -> error reply" % cmd, isinstance(rep, dict) and set(rep) == {"error"} and
                want in err, repr(rep))
    p = live.ctl("flows", "--state", "NOPE")
    t.check("flowtap-ctl flows --state NOPE: one line, exit 1",
            p.returncode == 1 and p.stderr.startswith("flowtap-ctl: /flowtap/flows") and
            "not an RFC 793 state" in p.stderr and len(p.stderr.splitlines()) == 1, why(p))


def check_events(live, expected_events, expected_anomalies):
    t.section("/flowtap/events and /flowtap/anomalies")
    rep = live.q("/flowtap/events")
    evs = ftlib_rows(rep.get("events"))
    key = ("event", "src", "sport", "dst", "dport", "dir", "seq", "orig_state", "resp_state")
    got = sorted(tuple(e.get(k) for k in key) for e in evs)
    want = sorted(tuple(e.get(k) for k in key) for e in expected_events)
    t.eq("events: the events of the capture, as flowtap --events wrote them offline", got, want)
    t.eq("events: quantum-insert's three names, and the SMTP RST's wrong checksum",
         {e["event"] for e in evs}, QI_EVENTS | {"tcp_bad_checksum"})
    t.eq("events: kept, total, returned", (rep.get("kept"), rep.get("total"),
                                          rep.get("returned"), rep.get("truncated")),
         (len(want), len(want), len(want), 0))
    one = live.q("/flowtap/events,1")
    t.eq("events,1: the most recent one", [e.get("event") for e in ftlib_rows(one.get("events"))],
         [evs[-1]["event"]] if evs else [])
    t.eq("events,1: says one of the kept was returned", (one.get("returned"), one.get("truncated")),
         (1, 0))
    an = live.q("/flowtap/anomalies")
    counts = {k: v for k, v in (an.get("counts") or {}).items() if v}
    t.eq("anomalies: counts of every occurrence, as offline", counts, expected_anomalies)
    t.eq("anomalies: total", an.get("total"), sum(expected_anomalies.values()))
    t.eq("anomalies: the last event of each name seen", set(an.get("last") or {}),
         QI_EVENTS | {"tcp_bad_checksum"})
    t.eq("anomalies: last ttl_change is quantum-insert's",
         (an.get("last", {}).get("ttl_change", {}).get("dst"),
          an.get("last", {}).get("ttl_change", {}).get("detail")), (QI_SERVER, "54 -> 56"))


def check_ladder(live, offline_ladder, offline_relative):
    t.section("/flowtap/ladder (armed before the traffic)")
    rep = live.q("/flowtap/ladder")
    lines = ftlib_rows(rep.get("lines"))
    conns = rep.get("conns") or {}
    t.eq("ladder: armed, %d lines recorded and returned, none lost" % SMTP_LINES,
         (rep.get("armed"), rep.get("recorded"), rep.get("returned"), rep.get("lost"),
          rep.get("truncated")), (1, SMTP_LINES, SMTP_LINES, 0, 0), json.dumps(rep)[:400])
    truth = ftlib.load_json(ftlib.data("smtp.json"))["ladder"]
    truth = truth + [truth[15]]  # the RST again, its checksum wrong
    bits = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10}
    t.eq("ladder: each line's direction, flags, seq, ack, len as smtp.json's truth",
         [(ln.get("dir"), ln.get("flags"), ln.get("seq"), ln.get("ack"), ln.get("len"))
          for ln in lines],
         [("-->" if x["dir"] == "c>s" else "<--", sum(bits[c] for c in x["flags"]), x["seq"],
           x["ack"], x["len"]) for x in truth])
    t.eq("ladder: only the RST with a wrong checksum carries a note, that it was dropped",
         [(i, ln["note"]) for i, ln in enumerate(lines) if "note" in ln],
         [(SMTP_LINES - 1, BAD_CSUM_NOTE)])
    t.eq("ladder: one connection, the SMTP one, ISNs 1000/5000",
         [(c.get("src"), c.get("sport"), c.get("dst"), c.get("dport"), c.get("orig_isn"),
           c.get("resp_isn")) for c in conns.values()], [SMTP + (1000, 5000)])
    p = live.ctl("ladder")
    rows = ladder_rows(p.stdout)
    t.eq("flowtap-ctl ladder prints the %d lines as flowtap --ladder does (states, note)"
         % SMTP_LINES, rows, offline_ladder, why(p))
    t.eq("flowtap-ctl ladder: the last line marked as dropped",
         rows[-1][-1] if rows else None, "(%s)" % BAD_CSUM_NOTE)
    t.check("flowtap-ctl ladder: the header of flowtap --ladder",
            p.stdout.startswith("connection 1: 192.168.1.10:1042 (orig) -> 192.168.1.20:25 "
                                "(resp), absolute sequence numbers\n"), p.stdout[:200])
    t.eq("ladder: first and last lines' states",
         (rows[0][6:8], rows[-1][6:8]) if rows else None,
         (["SYN_SENT", "SYN_RECEIVED"], ["CLOSED", "CLOSED"]))
    p = live.ctl("ladder", "--relative")
    t.eq("flowtap-ctl ladder --relative as flowtap --ladder --relative",
         ladder_rows(p.stdout), offline_relative, why(p))
    p = live.ctl("--json", "ladder")
    try:
        j = json.loads(p.stdout)
    except ValueError:
        j = {}
    t.eq("flowtap-ctl --json ladder: %d lines" % SMTP_LINES, len(j.get("lines", [])), SMTP_LINES,
         why(p))

    # Reading from a cursor: only what came after it.
    nxt = rep.get("next")
    again = live.q("/flowtap/ladder,from=" + ".".join(str(n) for n in nxt)) if nxt else {}
    t.eq("ladder,from=next: nothing new", again.get("returned"), 0, repr(again)[:300])
    half = live.q("/flowtap/ladder,from=" + ".".join(str(n // 2) for n in nxt)) if nxt else {}
    t.eq("ladder,from=half: the second half", half.get("returned"), SMTP_LINES - SMTP_LINES // 2,
         repr(half)[:300])

    t.section("ladder arming through flowtap-ctl")
    off = live.q("/flowtap/ladder,off")
    t.eq("ladder,off: disarmed", (off.get("armed"), off.get("filter")), (0, SMTP_SPEC))
    kept = live.q("/flowtap/ladder")
    t.eq("ladder after off: the lines stay readable", (kept.get("armed"), kept.get("returned")),
         (0, SMTP_LINES))
    p = live.ctl("ladder", "port=80", "--wait", "0.3")
    t.check("flowtap-ctl ladder port=80: arms, records nothing new, says so",
            p.returncode == 0 and "no packets recorded" in p.stdout and
            "ladder armed on 2 workers for port=80" in p.stderr, why(p))
    after = live.q("/flowtap/ladder")
    t.eq("flowtap-ctl ladder disarms when done; the new arming cleared the history",
         (after.get("armed"), after.get("recorded"), after.get("filter")), (0, 0, "port=80"))
    p = live.ctl("ladder", "--port", "80", "--keep", "--wait", "0")
    kept = live.q("/flowtap/ladder")
    t.eq("flowtap-ctl ladder --keep leaves it armed", (p.returncode, kept.get("armed")), (0, 1))
    p = live.ctl("ladder", "--off")
    t.check("flowtap-ctl ladder --off", p.returncode == 0 and "ladder off" in p.stdout, why(p))


def check_ctl_tables(live):
    t.section("flowtap-ctl tables")
    p = live.ctl("flows", "--port", "25")
    lines = p.stdout.splitlines()
    t.check("flows --port 25: header, 2 rows, a count line",
            p.returncode == 0 and len(lines) == 4 and lines[0].split()[:5] ==
            ["orig", "resp", "vlan", "orig_state", "resp_state"] and
            lines[-1] == "2 connections", why(p))
    t.check("flows --port 25: the SMTP row",
            any(ln.split()[:7] == ["192.168.1.10:1042", "192.168.1.20:25", "-", "CLOSED", "CLOSED",
                                   "RSTO", "ShAdDfRC"] for ln in lines), why(p))
    total = 4 + HALF_OPEN
    p = live.ctl("flows", "--limit", "1")
    t.check("flows --limit 1: says it shows 1 of %d" % total,
            p.returncode == 0 and "showing 1 of %d matching connections" % total in p.stdout,
            why(p))
    p = live.ctl("flows", "--limit", "1000")
    t.check("flows --limit 1000: pages through all %d" % total,
            p.returncode == 0 and len(p.stdout.splitlines()) == total + 2 and
            p.stdout.splitlines()[-1] == "%d connections" % total, why(p)[-300:])
    p = live.ctl("--json", "flows", "--limit", "100")
    try:
        j = json.loads(p.stdout)
    except ValueError:
        j = {}
    t.eq("--json flows --limit 100: 100 of %d, as a list" % total,
         (j.get("matched"), len(j.get("flows", [])), j.get("truncated")), (total, 100, 1))
    p = live.ctl("--json", "flows", "--state", "ESTABLISHED")
    try:
        j = json.loads(p.stdout)
    except ValueError:
        j = {}
    t.eq("--json flows --state ESTABLISHED: 2, as a list",
         (j.get("matched"), len(j.get("flows", [])), j.get("truncated")), (2, 2, 0), why(p))
    p = live.ctl("flow", V6_SPEC)
    t.check("flow [v6]: detail with the ISNs in a table",
            p.returncode == 0 and "[2001:db8::1]:40000 (orig) -> [2001:db8::2]:443 (resp)" in p.stdout
            and any(ln.split() == ["isn", "7000", "9000"] for ln in p.stdout.splitlines()), why(p))
    p = live.ctl("anomalies")
    t.check("anomalies: one row per name seen",
            p.returncode == 0 and all(any(ln.startswith(n) for ln in p.stdout.splitlines())
                                      for n in QI_EVENTS), why(p))
    p = live.ctl("events", "2")
    t.check("events 2: header and 2 events",
            p.returncode == 0 and len(p.stdout.splitlines()) == 4 and
            p.stdout.splitlines()[-1].startswith("2 of 4 events kept"), why(p))


def check_concurrent(live):
    """Several telemetry clients asking at once (DPDK runs a thread for each):
    the request path serialises them, every answer is exact."""
    errors = []
    start = threading.Barrier(6)

    def client():
        try:
            with live.mod.Telemetry(live.sock) as tel:  # retries a busy listen backlog
                start.wait(30)
                for _ in range(5):
                    rep = tel.query("/flowtap/flows,port=25")
                    if not isinstance(rep, dict) or rep.get("matched") != 2:
                        errors.append(repr(rep)[:200])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=client) for _ in range(6)]
    t0 = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    t.check("6 clients x 5 listings at once: every reply exact (%.1f s)" % (time.monotonic() - t0),
            not errors, "; ".join(errors[:3]))


def wait_rx(live, n, timeout=30):
    """Wait until flowtap received n frames and every frame handed to another
    worker was taken by it (handoff.in == handoff.out): a worker answers a
    query only between bursts, so what it took is then tracked."""
    deadline = time.monotonic() + timeout
    rx = None
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            st = live.q("/flowtap/stats")
            rx = ftlib.dig(st, "packets.rx", None)
            if rx == n and ftlib.dig(st, "handoff.in", 0) == ftlib.dig(st, "handoff.out", 0):
                return rx
        time.sleep(0.2)
    return rx


def run_live(ctl_mod, ctl_path, tmp):
    cap = os.path.join(tmp, "live.pcap")
    n_frames = build_capture(cap)
    expected_ladder = ladder_rows(offline(["--pcap", cap, "--ladder", "tcp port 1042", "--quiet"]))
    expected_relative = ladder_rows(offline(["--pcap", cap, "--ladder", "tcp port 1042",
                                             "--relative", "--quiet"]))
    events_path = os.path.join(tmp, "events.json")
    stats_path = os.path.join(tmp, "stats.json")
    offline(["--pcap", cap, "--events", events_path, "--stats-json", stats_path, "--quiet"])
    with open(events_path) as f:
        expected_events = [json.loads(ln) for ln in f if ln.strip()]
    expected_anomalies = {k: v for k, v in ftlib.load_json(stats_path)["anomalies"].items() if v}

    sock = os.path.join(tmp, "memif.sock")
    tp_prefix = "ft-flows-tp-%d" % os.getpid()
    ft_prefix = "ft-flows-ft-%d" % os.getpid()
    live = Live(ctl_mod, ctl_path, ft_prefix)
    tp = ft = None
    err_path = os.path.join(tmp, "flowtap.stderr")
    try:
        tp = TestPmd([
            "-l", "0-1", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
            "--file-prefix", tp_prefix, "--log-level", "error",
            "--vdev", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (cap, os.path.join(tmp, "tx.pcap")),
            "--vdev", "net_memif0,role=server,socket=%s,socket-abstract=no" % sock,
            "--", "-i", "--no-flush-rx", "--forward-mode=io", "--total-num-mbufs=8192",
            "--txq=1", "--rxq=1"])
        with open(err_path, "w") as err:
            ft = subprocess.Popen([
                ftlib.flowtap_path(), "--lcores", "(0-2)@(0,1)", "--no-huge", "-m", "512",
                "--no-pci", "--no-shconf", "--file-prefix", ft_prefix, "--log-level", "error",
                "--vdev", "net_memif0,role=client,socket=%s,socket-abstract=no" % sock,
                "--", "--mode", "passive", "--set", "flows.max=65536",
                "--set", "general.status_interval=0", "--set", "ports.rx_queues=1"] +
                sum((["--set", k] for k in KEEP_FLOWS), []),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                start_new_session=True)
        deadline = time.time() + 30
        up = False
        while time.time() < deadline and not up and ft.poll() is None:
            up = "Link status: up" in tp.cmd("show port info 1")
            if not up:
                time.sleep(0.5)
        if not t.check("memif link up between testpmd and flowtap", up,
                       open(err_path, errors="replace").read()[-800:]):
            return
        t.section("before any traffic")
        rep = live.q("/flowtap/flows")
        t.eq("flows: empty table, matched 0", (rep.get("matched"), rep.get("returned")), (0, 0))
        rep = live.q("/flowtap/ladder")
        t.eq("ladder: never armed", (rep.get("armed"), rep.get("returned"), rep.get("next")),
             (0, 0, [0, 0]))
        rep = live.q("/flowtap/ladder," + SMTP_SPEC)
        t.eq("ladder armed for the SMTP connection on both workers",
             (rep.get("armed"), rep.get("filter"), rep.get("workers")), (1, SMTP_SPEC, 2))

        tp.cmd("start")
        rx = wait_rx(live, n_frames)
        tp.cmd("stop")
        if not t.eq("flowtap received the %d frames" % n_frames, rx, n_frames):
            return
        check_flows(live)
        check_flow(live)
        check_malformed(live)
        check_events(live, expected_events, expected_anomalies)
        check_ladder(live, expected_ladder, expected_relative)
        check_ctl_tables(live)
        check_concurrent(live)

        ft.send_signal(signal.SIGINT)
        try:
            rc = ft.wait(timeout=20)
        except subprocess.TimeoutExpired:
            rc = "still running"
        t.eq("flowtap exits 0 on SIGINT", rc, 0, open(err_path, errors="replace").read()[-800:])
    finally:
        if ft is not None and ft.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(ft.pid, signal.SIGKILL)
            ft.wait()
        if tp is not None:
            tp.quit()
        ftlib.remove_runtime_dir(tp_prefix)
        ftlib.remove_runtime_dir(ft_prefix)


def run_offline(ctl_mod, tmp):
    """flowtap --pcap with telemetry answers while it runs; a query racing the
    end gets a clear error; nothing hangs or crashes."""
    t.section("offline: queries while a capture is read")
    cap = os.path.join(tmp, "bench.pcap")
    gen = subprocess.run([sys.executable, os.path.join(ftlib.SRC, "scripts", "gen-bench-pcap"),
                          cap, "--flows", "100000", "--data", "0"],
                         capture_output=True, text=True, timeout=300)
    if not t.check("generated a capture of 100000 connections", gen.returncode == 0, gen.stderr):
        return
    p = subprocess.Popen([ftlib.flowtap_path(), "--pcap", cap, "--quiet", "--workers", "2"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    sock = os.path.join("/var/run/dpdk", "flowtap-%d" % p.pid, "dpdk_telemetry.v2")
    answered, stopping, bad, slowest = 0, 0, [], 0.0
    try:
        while p.poll() is None:
            if not os.path.exists(sock):
                time.sleep(0.01)
                continue
            t0 = time.monotonic()
            try:
                with ctl_mod.Telemetry(sock) as tel:
                    rep = tel.query("/flowtap/flows,port=80,limit=3")
            except Exception as e:  # noqa: BLE001 - the process may just have ended
                if p.poll() is None and os.path.exists(sock):
                    bad.append(repr(e))
                continue
            slowest = max(slowest, time.monotonic() - t0)
            if rep is None and answered + stopping == 0:
                continue  # the socket is up before flowtap registers its commands
            if isinstance(rep, dict) and isinstance(rep.get("matched"), int):
                answered += 1
                if rep["matched"] > 0 and len(rep.get("flows", {})) != min(3, rep["matched"]):
                    bad.append(repr(rep)[:200])
            elif isinstance(rep, dict) and "stopping" in rep.get("error", ""):
                stopping += 1
            else:
                bad.append(repr(rep)[:200])
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
        ftlib.remove_runtime_dir("flowtap-%d" % p.pid)
    t.eq("offline: flowtap exits 0", p.returncode, 0, err.decode(errors="replace")[-500:])
    t.check("offline: every reply a listing or the 'stopping' error (%d listings, %d stopping)"
            % (answered, stopping), not bad, "; ".join(bad[:3]))
    t.check("offline: no query took more than 3 s (slowest %.2f s)" % slowest, slowest < 3)
    if answered == 0:
        t.note("offline: the capture ended before a listing was answered")


def main():
    ftlib.require_binary()
    ctl_path = ftlib.ctl_path()
    if not os.path.isfile(ctl_path):
        ctl_path = os.path.join(ftlib.SRC, "app", "flowtap-ctl", "flowtap-ctl.py")
    if not shutil.which("dpdk-testpmd"):
        print("SKIP: dpdk-testpmd not installed")
        sys.exit(ftlib.SKIP_EXIT)
    if os.geteuid() != 0:
        print("SKIP: needs root (DPDK runtime directory under /var/run/dpdk)")
        sys.exit(ftlib.SKIP_EXIT)
    ctl_mod = load_ctl_module(ctl_path)
    with ftlib.tempdir("ft-ctl-flows-") as tmp:
        try:
            run_live(ctl_mod, ctl_path, tmp)
        except Exception as e:  # report, do not hang
            t.check("live run completed", False, repr(e))
        try:
            run_offline(ctl_mod, tmp)
        except Exception as e:  # noqa: BLE001
            t.check("offline run completed", False, repr(e))
    t.finish()


if __name__ == "__main__":
    main()
