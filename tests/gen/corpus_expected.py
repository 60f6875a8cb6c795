#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Extract what Zeek's and PcapPlusPlus's test suites state about the TCP
connections of the captures in tests/data/corpus, into tests/data/corpus/expected.json.

Input: a copy of the shared corpus directory (README.md, manifest.tsv, pcaps/,
expected/<capture>/ with the peers' btest scripts and baselines). The
baselines are parsed here (conn.log files, printed endpoint records, printed
connection ids and histories), nothing is typed in by hand except where a
baseline must be tied to a connection (see the per-capture functions and the
"tuple_from" / "source" keys they write). Where a baseline does not print the
4-tuple, it is taken from the capture (the SYN's sender is Zeek's originator
there; the history letters confirm it) and said so.

Only what a peer states is written: a key is absent when the peer says
nothing about it. Per connection, the keys test_corpus.py compares are
conn_state, history, orig_pkts, resp_pkts, orig_bytes, resp_bytes and
ended_by_fin_rst; zeek_orig_state / zeek_resp_state (Zeek's own endpoint
states, not RFC 793's) and everything under "info" are reported, not compared.

Usage: corpus_expected.py [CORPUS_DIR] [OUT_JSON]
       (defaults: /work/shared/corpus, tests/data/corpus/expected.json)
The test does not run this (CI has no corpus directory); it reads the JSON.
"""

import csv
import hashlib
import importlib
import ipaddress
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftgen  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_CORPUS = "/work/shared/corpus"
DEFAULT_OUT = os.path.join(SRC, "tests", "data", "corpus", "expected.json")

ZEEK_STATES = {0: "INACTIVE", 1: "SYN_SENT", 2: "SYN_ACK_SENT", 3: "PARTIAL", 4: "ESTABLISHED",
               5: "CLOSED", 6: "RESET"}

TSHARK_KEYS = ("tcp_streams", "udp_streams", "tcp_completeness", "syn", "synack", "fin", "rst",
               "v4_frag", "v4_reasm", "v6_frag", "v6_reasm", "retrans", "malformed")


class Corpus:
    def __init__(self, root):
        self.root = root
        with open(os.path.join(root, "manifest.tsv"), newline="") as f:
            self.rows = {r["file"]: r for r in csv.DictReader(f, delimiter="\t")}

    def expected(self, cap, fname):
        return os.path.join(self.root, "expected", cap, fname)

    def read(self, cap, fname):
        with open(self.expected(cap, fname)) as f:
            return f.read()

    def lines(self, cap, fname):
        """Baseline lines without btest's header line."""
        return [ln for ln in self.read(cap, fname).splitlines() if not ln.startswith("### BTest")]

    def pcap(self, cap):
        return os.path.join(self.root, "pcaps", cap + ".pcap")


# ---------------------------------------------------------------- parsing helpers
def conn_log(text):
    """Rows of a Zeek conn.log (#fields header) or of a btest-diff-cut output
    (plain tab-separated header line), as dicts of strings."""
    fields, rows = None, []
    for ln in text.splitlines():
        if ln.startswith("### BTest"):
            continue
        if ln.startswith("#fields"):
            fields = ln.split("\t")[1:]
            continue
        if ln.startswith("#") or not ln.strip():
            continue
        if fields is None:  # zeek-cut / btest-diff-cut: first line names the columns
            fields = ln.split("\t")
            continue
        rows.append(dict(zip(fields, ln.split("\t"))))
    return rows


def tcp_rows(text):
    return [r for r in conn_log(text) if r.get("proto", "tcp") == "tcp"]


CONN_ID = re.compile(r"\[orig_h=([^,]+), orig_p=(\d+)/tcp, resp_h=([^,]+), resp_p=(\d+)/tcp")
ENDPOINT = re.compile(r"\[size=(\d+), state=(\d+), num_pkts=(\d+), num_bytes_ip=(\d+)")


def conn_id(line):
    m = CONN_ID.search(line)
    if not m:
        raise ValueError("no conn_id in %r" % line)
    return m.group(1), int(m.group(2)), m.group(3), int(m.group(4))


def endpoint(line):
    m = ENDPOINT.search(line)
    if not m:
        raise ValueError("no endpoint record in %r" % line)
    size, state, pkts, ipb = (int(x) for x in m.groups())
    return {"size": size, "state": state, "num_pkts": pkts, "num_bytes_ip": ipb}


def exec_traces(script_text):
    """Trace names (path under Traces/) of a btest script's @TEST-EXEC lines, in order."""
    return re.findall(r"@TEST-EXEC:.*?-r \$TRACES/(\S+)", script_text)


def exec_commands(script_text):
    return [m.strip() for m in re.findall(r"@TEST-EXEC:\s*(zeek .*?)(?:>>?\s*\S+)?(?:&&.*)?$",
                                          script_text, re.M)]


def trace_of(row):
    """testing/btest/Traces/tcp/x.pcap -> tcp/x.pcap"""
    return row["source_path"].split("Traces/", 1)[1]


def tuple_id(oh, op, rh, rp):
    def a(h):
        return "[%s]" % h if ":" in h else h
    return "%s:%d>%s:%d" % (a(oh), op, a(rh), rp)


def norm(h):
    return str(ipaddress.ip_address(h))


# ---------------------------------------------------------------- pcap helpers (scapy)
def packets(path):
    from scapy.layers.l2 import Ether  # imported lazily: slow
    importlib.import_module("scapy.layers.ppp")  # binds PPPoE session -> PPP -> IP
    from scapy.layers.inet import IP, TCP
    from scapy.layers.inet6 import IPv6
    _, recs = ftgen.read_pcap(path)
    out = []
    for i, r in enumerate(recs):
        p = Ether(r[4])
        ip = p.getlayer(IP) or p.getlayer(IPv6)
        t = p.getlayer(TCP)
        if ip is None or t is None:
            continue
        if p.haslayer("ICMP") or p.haslayer("ICMPv6DestUnreach"):
            continue  # TCP header quoted inside an ICMP error
        out.append({"frame": i + 1, "src": norm(ip.src), "sport": int(t.sport), "dst": norm(ip.dst),
                    "dport": int(t.dport), "flags": str(t.flags), "len": len(bytes(t.payload))})
    return out


def connections_in(path):
    """TCP connections of a capture in order of first packet: list of dicts with
    the first packet, the first SYN without ACK (if any) and the packets."""
    conns = {}
    for p in packets(path):
        key = frozenset([(p["src"], p["sport"]), (p["dst"], p["dport"])])
        c = conns.setdefault(key, {"first": p, "syn": None, "pkts": []})
        c["pkts"].append(p)
        if c["syn"] is None and "S" in p["flags"] and "A" not in p["flags"]:
            c["syn"] = p
    return list(conns.values())


def syn_sender(path, expect_one=True):
    cs = connections_in(path)
    if expect_one and len(cs) != 1:
        raise ValueError("%s: %d TCP connections, expected 1" % (path, len(cs)))
    s = cs[0]["syn"]
    if s is None:
        raise ValueError("%s: no SYN" % path)
    return s["src"], s["sport"], s["dst"], s["dport"]


def first_sender(path):
    cs = connections_in(path)
    if len(cs) != 1:
        raise ValueError("%s: %d TCP connections, expected 1" % (path, len(cs)))
    f = cs[0]["first"]
    return f["src"], f["sport"], f["dst"], f["dport"]


def has_fin(conn, src):
    return any("F" in p["flags"] and (p["src"], p["sport"]) == src for p in conn["pkts"])


# ---------------------------------------------------------------- building blocks
def conn_entry(tup, source, tuple_from="baseline", **facts):
    oh, op, rh, rp = tup
    e = {"id": tuple_id(norm(oh), op, norm(rh), rp), "orig_h": norm(oh), "orig_p": op,
         "resp_h": norm(rh), "resp_p": rp, "source": source, "tuple_from": tuple_from}
    e.update({k: v for k, v in facts.items() if v is not None})
    return e


def from_conn_row(r):
    """Compared and informational facts of one conn.log row (only the columns present)."""
    facts, info = {}, {}
    if r.get("conn_state", "-") != "-":
        facts["conn_state"] = r["conn_state"]
    if "history" in r:
        facts["history"] = "" if r["history"] == "-" else r["history"]
    for k in ("orig_pkts", "resp_pkts", "orig_bytes", "resp_bytes"):
        if k in r:
            # "-": Zeek's conn.log sets orig_bytes/resp_bytes only when the duration is > 0
            # (a one-packet connection has none): unstated, not 0
            if r[k] != "-":
                facts[k] = int(r[k])
    for k in ("missed_bytes", "orig_ip_bytes", "resp_ip_bytes"):
        if k in r and r[k] != "-":
            info[k] = int(r[k])
    if r.get("service", "-") != "-":
        info["service"] = r["service"]
    return facts, info


def row_tuple(r):
    return r["id.orig_h"], int(r["id.orig_p"]), r["id.resp_h"], int(r["id.resp_p"])


def endpoint_facts(orig, resp):
    return {"orig_bytes": orig["size"], "orig_pkts": orig["num_pkts"],
            "resp_bytes": resp["size"], "resp_pkts": resp["num_pkts"],
            "zeek_orig_state": ZEEK_STATES[orig["state"]], "zeek_orig_state_code": orig["state"],
            "zeek_resp_state": ZEEK_STATES[resp["state"]], "zeek_resp_state_code": resp["state"]}


def baseline_ref(cap, fname, command):
    return "expected/%s/%s (%s)" % (cap, fname, command)


# ---------------------------------------------------------------- per capture: Zeek
def zk_fin_retransmission(cp, cap, row):
    out = cp.lines(cap, "core_tcp_fin-retransmit__out")
    orig, resp = endpoint(out[0]), endpoint(out[1])  # print c$orig; print c$resp
    cmd = exec_commands(cp.read(cap, "core_tcp_fin-retransmit.zeek"))[0]
    e = conn_entry(syn_sender(cp.pcap(cap)),
                   baseline_ref(cap, "core_tcp_fin-retransmit__out", cmd) + ": print c$orig, c$resp",
                   "pcap: sender of the SYN (the baseline prints the endpoints, not the id)",
                   **endpoint_facts(orig, resp))
    e["info"] = {"orig_ip_bytes": orig["num_bytes_ip"], "resp_ip_bytes": resp["num_bytes_ip"],
                 "note": "size = conn.log orig_bytes/resp_bytes, num_pkts = orig_pkts/resp_pkts"}
    return [e], {}


def zk_handshake_reorder(cp, cap, row):
    out = cp.lines(cap, "core_connection_flipped__out")
    cmd = exec_commands(cp.read(cap, "core_connection_flipped.zeek"))[0]
    rem = [ln for ln in out if "connection_state_remove" in ln]
    assert len(rem) == 1
    hist = rem[0].rsplit(", ", 2)[1]
    flipped = [ln for ln in out if "connection_flipped" in ln][0]
    # zeek-cut id.orig_h id.orig_p id.resp_h id.resp_p proto service community_id (no header line)
    cut = [ln.split("\t") for ln in
           cp.lines(cap, "scripts_policy_protocols_conn_community-id-logging-flipped__conn.log.cut") if ln.strip()]
    tup = conn_id(rem[0])
    assert len(cut) == 1 and (cut[0][0], int(cut[0][1]), cut[0][2], int(cut[0][3])) == tup, (cut, tup)
    e = conn_entry(tup, baseline_ref(cap, "core_connection_flipped__out", cmd)
                   + ": history at connection_state_remove; id also in community-id conn.log.cut",
                   history=hist)
    e["info"] = {"zeek_events": ["new_connection: orig=%s:%d history H (first packet is the SYN/ACK)"
                                 % conn_id(out[0])[:2],
                                 "connection_flipped on the SYN: history %s" % flipped.rsplit(", ", 2)[1]]}
    return [e], {}


def single_conn_log(cp, cap, fname, script):
    rows = tcp_rows(cp.read(cap, fname))
    assert len(rows) == 1, rows
    cmd = exec_commands(cp.read(cap, script))[0]
    facts, info = from_conn_row(rows[0])
    e = conn_entry(row_tuple(rows[0]), baseline_ref(cap, fname, cmd) + ": conn.log", **facts)
    e["info"] = info
    return e


def zk_miss_end_data(cp, cap, row):
    e = single_conn_log(cp, cap, "core_tcp_miss-end-data__conn.log", "core_tcp_miss-end-data.zeek")
    gap = cp.lines(cap, "core_tcp_miss-end-data__out")
    e["info"]["zeek_events"] = [ln.strip() for ln in gap if ln.strip()]
    return [e], {}


def zk_missing_syn(cp, cap, row):
    a = single_conn_log(cp, cap, "core_tcp_missing-syn__conn.log", "core_tcp_missing-syn.zeek")
    b = single_conn_log(cp, cap, "core_history-flip__conn.log", "core_history-flip.zeek")
    for k in ("id", "conn_state", "history", "orig_pkts", "resp_pkts", "orig_bytes", "resp_bytes"):
        assert a[k] == b[k], (k, a[k], b[k])
    a["source"] += "; core_history-flip__conn.log (zeek -b -C, mac-logging) says the same"
    a["info"]["note"] = ("first packet is the server's SYN/ACK; Zeek makes the client the originator "
                         "(port 80 is a likely server port: HTTP is loaded) and writes ^ first")
    excluded = ["core_tcp_flip-without-syn: runs on tcp/http-on-irc-port-missing-syn.pcapng, "
                "another trace (not in the corpus)"]
    script = cp.read(cap, "core_tcp_flip-without-syn.zeek")
    assert "http-on-irc-port-missing-syn" in script
    return [a], {"excluded_baselines": excluded}


def zk_quantum_insert(cp, cap, row):
    out = cp.lines(cap, "core_tcp_quantum-insert__stdout")
    cmd = exec_commands(cp.read(cap, "core_tcp_quantum-insert.zeek"))[0]
    ids = [conn_id(ln) for ln in out if " c: [" in ln]
    assert len(set(ids)) == 1
    flags = [ln.rsplit("tcp_flags: ", 1)[1] for ln in out if "tcp_flags:" in ln]
    e = conn_entry(ids[0], baseline_ref(cap, "core_tcp_quantum-insert__stdout", cmd)
                   + ": connection id of the rexmit_inconsistency event")
    e["info"] = {"zeek_events": ["rexmit_inconsistency x%d (tcp_flags %s): the injected 'HTTP/1.1 200 OK ... "
                                 "BANG!' vs the nginx reply at the same seq" % (len(ids), ",".join(flags))],
                 "note": "run with redef tcp_max_old_segments = 10; no conn.log/history baseline"}
    return [e], {}


def zk_retransmit_fast009(cp, cap, row):
    e = single_conn_log(cp, cap, "core_tcp_rxmit-history__conn-1.log", "core_tcp_rxmit-history.zeek")
    e["info"]["note"] = ("21 of the 39 frames are cut by the snap length (caplen < IP total length): "
                         "Zeek tracks them (headers intact) and counts the missing payload as gaps (G/g, "
                         "missed_bytes); zeek -C: TCP checksums ignored (18 frames have bad ones)")
    return [e], {}


def zk_rst_inject_rae(cp, cap, row):
    out = cp.lines(cap, "core_tcp_rst-after-syn__stdout")
    cmd = exec_commands(cp.read(cap, "core_tcp_rst-after-syn.zeek"))[0]
    tup = conn_id(out[0])
    orig = endpoint([ln for ln in out if ln.startswith("orig:")][0])
    resp = endpoint([ln for ln in out if ln.startswith("resp:")][0])
    e = conn_entry(tup, baseline_ref(cap, "core_tcp_rst-after-syn__stdout", cmd) + ": c$id, c$orig, c$resp",
                   **endpoint_facts(orig, resp))
    e["info"] = {"orig_ip_bytes": orig["num_bytes_ip"], "resp_ip_bytes": resp["num_bytes_ip"],
                 "note": "frame 2 is an injected RST/ACK (seq 0) before the real SYN/ACK: it must not "
                         "seed the responder's ISN (resp size stays 0, not ~2^32)"}
    return [e], {}


RST_BEHAVIOR = "scripts_base_protocols_conn_conn_state-RST-behavior"


def zk_rst_behavior(cp, cap, row):
    """One output line per @TEST-EXEC trace, in order: "history, conn_state"."""
    script = cp.read(cap, RST_BEHAVIOR + ".zeek")
    traces = exec_traces(script)
    cmds = exec_commands(script)
    out = [ln for ln in cp.lines(cap, RST_BEHAVIOR + "__out") if ln.strip()]
    assert len(out) == len(traces), (out, traces)
    i = traces.index(trace_of(row))
    hist, state = [x.strip() for x in out[i].split(",")]
    path = cp.pcap(cap)
    cs = connections_in(path)
    assert len(cs) == 1
    if cs[0]["syn"] is not None:
        tup, how = syn_sender(path), "pcap: sender of the SYN"
    else:
        tup, how = first_sender(path), "pcap: sender of the only packet (history R: the originator sent it)"
    assert hist[:1].isupper()  # the originator's packet comes first: no flip
    e = conn_entry(tup, baseline_ref(cap, RST_BEHAVIOR + "__out", cmds[i])
                   + ": line %d of %d (print c$history, c$conn$conn_state)" % (i + 1, len(out)),
                   how, conn_state=state, history=hist)
    return [e], {}


def zk_smtp(cp, cap, row):
    fname = "mime-content-hash__conn.log"
    script = cp.read(cap, "mime-content-hash.zeek")
    cmd = exec_commands(script)[0]
    filt = re.search(r"-f '([^']+)'", cmd).group(1)
    rows = conn_log(cp.read(cap, fname))
    port25 = [c for c in connections_in(cp.pcap(cap))
              if 25 in (c["first"]["sport"], c["first"]["dport"])]
    assert len(rows) == len(port25) == 2, (rows, len(port25))
    out = []
    # Zeek's uids are a deterministic sequence in btest (CHhAvVGS1DHFjwGM9, ClEkJM2Vm5giqnMf4h, ...):
    # the n-th uid is the n-th connection created, i.e. in order of first packet.
    assert [r["uid"] for r in rows] == ["CHhAvVGS1DHFjwGM9", "ClEkJM2Vm5giqnMf4h"]
    for r, c in zip(rows, port25):
        s = c["syn"]
        tup = (s["src"], s["sport"], s["dst"], s["dport"])
        h = r["history"]
        # tie-break check: FIN letters agree with the FINs in the capture
        assert ("F" in h) == has_fin(c, (s["src"], s["sport"])), (h, tup)
        assert ("f" in h) == has_fin(c, (s["dst"], s["dport"])), (h, tup)
        e = conn_entry(tup, baseline_ref(cap, fname, cmd) + ": uid %s, btest-diff-cut uid history service"
                       % r["uid"],
                       "pcap: the %s TCP port 25 connection in order of first packet (uid sequence), SYN sender"
                       % ("first" if r["uid"] == "CHhAvVGS1DHFjwGM9" else "second"),
                       history=h)
        e["filter"] = filt
        e["info"] = {"service": r["service"]}
        out.append(e)
    return out, {"zeek_filter": filt,
                 "zeek_filter_note": "Zeek ran with -f '%s': only its port-25 connections are stated; the "
                                     "other 4 TCP connections are only counted (tshark)" % filt}


def zk_ssh_dups(cp, cap, row):
    out = cp.lines(cap, "core_tcp_tcp-dups__out")
    cmd = exec_commands(cp.read(cap, "core_tcp_tcp-dups.zeek"))[0]
    rem = [ln for ln in out if ln.startswith("REMOVE:")]
    assert len(rem) == 1
    e = conn_entry(conn_id(rem[0]), baseline_ref(cap, "core_tcp_tcp-dups__out", cmd)
                   + ": history at connection_state_remove", history=rem[0].rsplit(", ", 1)[1])
    ev = []
    for ln in out:
        if ln.startswith("RETRANSMITS:"):
            parts = ln.rsplit(", ", 3)
            ev.append("tcp_multiple_retransmissions is_orig=%s threshold=%s history then %s"
                      % (parts[1], parts[2], parts[3]))
    e["info"] = {"zeek_events": ev}
    return [e], {}


def zk_wikipedia(cp, cap, row):
    full = "rxmit-history__conn-2.log"
    bare = "mac-logging__conn1.log"
    cmd_full = [c for c in exec_commands(cp.read(cap, "rxmit-history.zeek")) if "wikipedia" in c][0]
    cmd_bare = [c for c in exec_commands(cp.read(cap, "mac-logging.zeek")) if "wikipedia" in c][0]
    rows_full = tcp_rows(cp.read(cap, full))
    rows_bare = tcp_rows(cp.read(cap, bare))
    assert len(rows_full) == len(rows_bare) == 10
    by_uid = {r["uid"]: r for r in rows_bare}
    out = []
    for r in rows_full:
        facts, info = from_conn_row(r)
        e = conn_entry(row_tuple(r), baseline_ref(cap, full, cmd_full) + ": conn.log uid " + r["uid"], **facts)
        e["info"] = info
        b = by_uid[r["uid"]]
        bf, binfo = from_conn_row(b)
        if row_tuple(b) == row_tuple(r) and bf == facts:
            e["source"] += "; %s (%s) says the same" % (bare, cmd_bare)
        else:
            alt = conn_entry(row_tuple(b), baseline_ref(cap, bare, cmd_bare) + ": conn.log uid " + b["uid"],
                             **bf)
            del alt["tuple_from"]
            alt["why"] = ("zeek -b loads no analyzer, so port 80 is not a likely server port: the lone "
                          "SYN/ACK's sender stays the originator (history H, no flip)")
            e["alternatives"] = [alt]
            e["info"]["note"] = ("a lone SYN/ACK: with the default scripts Zeek flips it (port 80 is a likely "
                                 "server port), under zeek -b it does not; both views are Zeek's")
        out.append(e)
    return out, {}


def zk_window_scale_range(cp, cap, row):
    rows = conn_log(cp.read(cap, "core_tcp_window-scale-range__weird.log"))
    cmd = exec_commands(cp.read(cap, "core_tcp_window-scale-range.zeek"))[0]
    assert len(rows) == 1
    e = conn_entry(row_tuple(rows[0]), baseline_ref(cap, "core_tcp_window-scale-range__weird.log", cmd)
                   + ": weird.log id")
    e["info"] = {"zeek_weirds": ["%s addl=%s" % (rows[0]["name"], rows[0]["addl"])]}
    return [e], {}


def zk_reassembly(cp, cap, row):
    """core_reassembly: sections separated by dashes, one per @TEST-EXEC trace."""
    script = cp.read(cap, "core_reassembly.zeek")
    traces = exec_traces(script)
    secs, cur = [], None
    for ln in cp.lines(cap, "core_reassembly__output"):
        if ln.startswith("-----"):
            cur = []
            secs.append(cur)
        elif cur is not None and ln.strip():
            cur.append(ln)
    assert len(secs) == len(traces), (len(secs), traces)
    sec = secs[traces.index(trace_of(row))]
    weirds = [", ".join(ln.split(", ")[1:2]) for ln in sec if ln.startswith("flow weird")]
    return [], {"zeek_weirds": weirds,
                "zeek_weirds_source": "expected/%s/core_reassembly__output, section %d of %d (zeek -b -C)"
                                      % (cap, traces.index(trace_of(row)) + 1, len(traces))}


def zk_ipv6_oversize(cp, cap, row):
    rows = conn_log(cp.read(cap, "core_ipv6-reassembly-state-leak__weird.log"))
    names = [r.get("name") for r in rows]
    return [], {"zeek_weirds": names,
                "zeek_weirds_source": "expected/%s/core_ipv6-reassembly-state-leak__weird.log" % cap}


# ---------------------------------------------------------------- per capture: PcapPlusPlus
PP_FACTS = {
    # capture: (connections, per connection in order of first packet: (data packets, messages per side,
    #           ended by FIN/RST)); from manifest peer_expected and Tests/Pcap++Test/Tests/TcpReassemblyTests.cpp
    "pp_one_http_stream_fin": (1, [(5, (1, 1), True)]),
    "pp_one_http_stream_rst": (1, [(2, (1, 1), True)]),
    "pp_one_tcp_rst": (1, [(0, None, True)]),
    "pp_three_http_streams": (3, [(2, (1, 1), True)] * 3),
}


def pp_tcp(cp, cap, row):
    n, per = PP_FACTS[cap]
    cs = connections_in(cp.pcap(cap))
    assert len(cs) == n, (cap, len(cs))
    out = []
    for c, (data, msgs, ended) in zip(cs, per):
        s = c["syn"] or c["first"]
        tup = (s["src"], s["sport"], s["dst"], s["dport"])
        e = conn_entry(tup, "manifest.tsv peer_expected: " + row["peer_expected"],
                       "pcap: sender of the SYN (PcapPlusPlus's side 0)", ended_by_fin_rst=ended)
        e["info"] = {"pp_data_packets": data}
        if msgs:
            e["info"]["pp_messages_per_side"] = list(msgs)
        out.append(e)
    extra = {"pp_connections": n}
    if cap == "pp_three_http_streams":
        extra["pp_note"] = ("PcapPlusPlus's TestTcpReassemblyMultipleConns deletes frames 14 and 16 (two FINs) "
                            "to keep one connection open; in the unmodified capture all three end with FINs both "
                            "ways (TestTcpReassemblyCleanup: all three closed)")
    return out, extra


def pp_frag_http_req(cp, cap, row):
    return [], {"pp_note": "PcapPlusPlus IP reassembly: the 11 fragments make one HTTP request (TCP, "
                           "172.16.133.54:64415 -> 216.137.33.81:80 per tshark); a TCP record needs defrag",
                "needs_defrag": True}


def pp_none(cp, cap, row):
    return [], {}


HANDLERS = {
    "zk_fin_retransmission": zk_fin_retransmission,
    "zk_handshake-reorder": zk_handshake_reorder,
    "zk_miss_end_data": zk_miss_end_data,
    "zk_missing-syn": zk_missing_syn,
    "zk_quantum-insert": zk_quantum_insert,
    "zk_retransmit-fast009": zk_retransmit_fast009,
    "zk_rst-inject-rae": zk_rst_inject_rae,
    "zk_single-rst": zk_rst_behavior,
    "zk_syn-then-rst": zk_rst_behavior,
    "zk_syn-then-ack-then-rst": zk_rst_behavior,
    "zk_syn-then-stuff-then-rst": zk_rst_behavior,
    "zk_smtp": zk_smtp,
    "zk_ssh-dups": zk_ssh_dups,
    "zk_wikipedia": zk_wikipedia,
    "zk_window-scale-range": zk_window_scale_range,
    "zk_ipv4-fragmented-1": zk_reassembly,
    "zk_ipv4-fragmented-2": zk_reassembly,
    "zk_ipv4-fragmented-3": zk_reassembly,
    "zk_ipv4-fragmented-4": zk_reassembly,
    "zk_ipv6-oversize-frag-leak": zk_ipv6_oversize,
    "pp_one_http_stream_fin": pp_tcp,
    "pp_one_http_stream_rst": pp_tcp,
    "pp_one_tcp_rst": pp_tcp,
    "pp_three_http_streams": pp_tcp,
    "pp_frag_http_req": pp_frag_http_req,
    "pp_ip4_fragments": pp_none,
    "pp_ip6_fragments": pp_none,
    "pp_ip4_bad_fragment": pp_none,
}

ENCAP_NOTES = {
    # what the manifest's encap_note leaves out, seen with tshark
    "pp_one_http_stream_rst": "every frame: 802.1Q 939, 802.1Q 744, then PPPoE session (0x8864) + PPP before IPv4",
    "pp_ip4_bad_fragment": "MPLS (0x8847) label 8 before IPv4",
}


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main(argv):
    root = argv[1] if len(argv) > 1 else DEFAULT_CORPUS
    out_path = argv[2] if len(argv) > 2 else DEFAULT_OUT
    cp = Corpus(root)
    caps = {}
    for fname in sorted(cp.rows):
        row = cp.rows[fname]
        cap = fname[:-len(".pcap")]
        if cap not in HANDLERS:
            raise SystemExit("no extraction rule for %s" % fname)
        path = cp.pcap(cap)
        if sha256(path) != row["sha256"]:
            raise SystemExit("%s: sha256 differs from manifest.tsv" % fname)
        _, recs = ftgen.read_pcap(path)
        frames = len(recs)
        if frames != int(row["tshark_pkts"]):
            raise SystemExit("%s: %d frames, manifest says %s" % (fname, frames, row["tshark_pkts"]))
        conns, extra = HANDLERS[cap](cp, cap, row)
        peer = "zeek" if cap.startswith("zk_") else "pcapplusplus"
        entry = {
            "peer": peer,
            "source": {"repo": row["source_repo"], "commit": row["source_commit"], "path": row["source_path"],
                       "license": row["repo_license"]},
            "sha256": row["sha256"],
            "frames": frames,
            "tcp_records": int(row["tshark_tcp_streams"]),
            "tcp_records_from": "tshark tcp streams (manifest tshark_tcp_streams)",
            "tshark": {k: (row["tshark_" + k] if k == "tcp_completeness" else int(row["tshark_" + k]))
                       for k in TSHARK_KEYS},
            "exercises": row["exercises"],
            "peer_says": row["peer_expected"],
            "encap": ENCAP_NOTES.get(cap, row["encap_note"]),
        }
        entry.update(extra)
        entry["connections"] = conns
        ids = [c["id"] for c in conns]
        assert len(ids) == len(set(ids)), ids
        caps[fname] = entry
    doc = {
        "about": "What Zeek's and PcapPlusPlus's test suites state about the TCP connections of the captures "
                 "in this directory, extracted from their baselines by tests/gen/corpus_expected.py. "
                 "Compared by tests/integration/test_corpus.py: conn_state, history, orig_pkts, resp_pkts, "
                 "orig_bytes, resp_bytes, ended_by_fin_rst (and the 4-tuple's orientation); reported only: "
                 "zeek_*_state and info.",
        "zeek_endpoint_states": {str(k): v for k, v in ZEEK_STATES.items()},
        "captures": caps,
    }
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=False)
        f.write("\n")
    n = sum(len(c["connections"]) for c in caps.values())
    print("%s: %d captures, %d connections with peer facts" % (out_path, len(caps), n))


if __name__ == "__main__":
    main(sys.argv)
