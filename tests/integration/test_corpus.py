#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""flowtap's flow records against what Zeek's and PcapPlusPlus's test suites state.

Captures and facts: tests/data/corpus/*.pcap and expected.json (see the README
there; tests/gen/corpus_expected.py extracts the facts from the peers'
baselines). For each capture:

- the committed capture is the one the facts describe (sha256), and has the
  stated number of frames;
- `flowtap --pcap F --workers 1 --flow-log --stats-json --events --quiet`:
  exit 0, no runtime directory left, packets.rx == frames, accounting_ok,
  every flow record has the keys and value sets of DESIGN.md section 4, the
  events file is JSON lines;
- capture level: number of TCP records == tshark's TCP stream count
  ("tcp_records"), flows.tcp == number of records ("flows_created"), and
  while nothing is reassembled, the records' packets add up to packets.tcp
  ("pkts_sum");
- per connection the peer states: exactly one record with that 4-tuple
  (either direction), oriented as the peer orients it ("orientation": the
  record's src/sport is the peer's originator), and equal conn_state,
  history, orig_pkts, resp_pkts, orig_bytes, resp_bytes where stated; where
  PcapPlusPlus says the connection ended by FIN/RST, `end` is fin or rst
  ("end"). Fields are compared as flowtap wrote them: a reversed record
  therefore also shows its counts swapped. Zeek's own endpoint states
  (INACTIVE..RESET, not RFC 793's) are printed beside flowtap's, not compared.
  A connection may list "alternatives": other views the same peer gives of it
  in another configuration (e.g. a lone SYN/ACK, flipped by full Zeek, not by
  zeek -b); a record that matches one of them completely passes, with a note;
- defragmentation (DEFRAG): the fragment captures' defrag.* counters and
  frag_* anomalies against what PcapPlusPlus (reassembled datagrams, byte
  counts) and Zeek (weirds, mapped to flowtap's names) state, and the
  identity fragments == fragments_used + dropped.* + held;
- for the captures in MULTI_WORKER, a run with --workers 3 writes the same
  records (as sets of JSON objects) as the 1-worker run.

KNOWN_DIFFERENCES lists deliberate differences: (capture, connection id or
"*" for capture-level checks, field) -> (flowtap's value, reason). Such a
field must still have exactly that flowtap value (else it fails as drifted,
also when flowtap now agrees with the peer: then remove the entry); it is
reported as a note, not a failure. An entry no check consults fails too.

Environment: FT_CORPUS=a,b (capture names, with or without .pcap) runs only
those; FT_VERBOSE=1 prints passing checks; FT_KEEP=1 keeps the outputs;
FT_CORPUS_RECORDS=1 prints every flowtap record (else only for captures with
failures).
"""

import hashlib
import ipaddress
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402

CORPUS = os.path.join(ftlib.DATA_DIR, "corpus")
EXPECTED = os.path.join(CORPUS, "expected.json")

# (capture file, connection id from expected.json or "*", field) -> (flowtap value, reason)
# fields: conn_state history orig_pkts resp_pkts orig_bytes resp_bytes orientation end
#         (per connection); tcp_records flows_created pkts_sum (capture level, id "*")
SLICED = ("21 of its 39 frames are sliced (IP total length beyond the frame): flowtap counts them "
          "malformed (ip4_bad_totlen), as a host would drop them; Zeek tracks their headers")
# What the default (checksums = auto) makes of the captures' checksums, where
# not all are right: tshark's checksum status (-o ip.check_checksum:TRUE -o
# tcp.check_checksum:TRUE) calls exactly these frames bad, partial sums
# included (tshark does not tell them apart); its further "bad" TCP sums in
# zk_smtp.pcap are of the headers quoted in ICMP errors, which no host sums.
CHECKSUMS = {
    "pp_one_http_stream_fin.pcap": (8, 0, 0),
    "zk_retransmit-fast009.pcap": (18, 0, 0),
    "pp_one_tcp_rst.pcap": (0, 0, 1),
    "zk_ipv4-fragmented-4.pcap": (0, 1, 0),
    "zk_ssh-dups.pcap": (0, 0, 152),
}
# Captures compared with the peers' facts under checksums = off: the peers
# took every packet (PcapPlusPlus never checks; Zeek's tests run such traces
# with -C), and these hold wrong sums a host would drop.
CHECKSUMS_OFF = {
    "pp_one_http_stream_fin.pcap": "the IPv4 header checksums of the server's 8 packets are wrong "
                                   "(addresses rewritten without them)",
    "zk_retransmit-fast009.pcap": "an anonymised trace: every IPv4 and TCP checksum is 0 (Zeek's test "
                                  "reads it with -C)",
}
KNOWN_DIFFERENCES = {
    ("pp_ip4_bad_fragment.pcap", "*", "defrag.fragments"):
        (0, "the fragment follows an MPLS label (ethertype 0x8847), which flowtap does not decode: the frame "
            "counts as non_ip"),
    ("zk_ipv4-fragmented-1.pcap", "*", "defrag.reassembled"):
        (0, "frame 3 (offset 0, 304 bytes, MF) reaches beyond the last fragment's end (164): a host drops the "
            "datagram, flowtap too (frag_inconsistent 'data beyond the end'); tshark reassembles anyway"),
    ("zk_ipv4-fragmented-1.pcap", "*", "anomalies.frag_tiny_first"):
        (0, "Zeek's excessively_small_fragment is any short fragment; frag_tiny_first is a first fragment too "
            "short for its transport header (RFC 1858): 18 bytes hold the 8-byte UDP header. flowtap flags "
            "the 18 bytes as frag_inconsistent (a non-last length not a multiple of 8)"),
    ("zk_ipv4-fragmented-2.pcap", "*", "anomalies.frag_tiny_first"):
        (0, "as in zk_ipv4-fragmented-1: 18-byte UDP first fragments hold the UDP header; flowtap flags "
            "their length (frag_inconsistent, not a multiple of 8) instead"),
    ("zk_ipv4-fragmented-4.pcap", "*", "anomalies.frag_tiny_first"):
        (0, "the 24-byte first fragment holds the whole 20-byte TCP header (data offset 5): not an RFC 1858 "
            "tiny fragment; Zeek's excessively_small_fragment counts short fragments"),
    ("zk_handshake-reorder.pcap", "141.142.228.5:59856>192.150.187.43:80", "history"):
        ("^hSADadFf", "flowtap takes the SYN+ACK's receiver as originator at once (as Zeek does for a "
                      "missing SYN); Zeek -b flips only when the late SYN arrives: same roles, letters in "
                      "another order"),
    ("zk_retransmit-fast009.pcap", "10.0.88.85:50368>192.168.0.27:80", "history"): ("ShAaGgR", SLICED),
    ("zk_retransmit-fast009.pcap", "10.0.88.85:50368>192.168.0.27:80", "orig_pkts"): (16, SLICED),
    ("zk_retransmit-fast009.pcap", "10.0.88.85:50368>192.168.0.27:80", "resp_pkts"): (2, SLICED),
}

# Defragmentation against what the peers state (expected/<capture>/ in the
# shared corpus: PcapPlusPlus's reassembly results, Zeek's weirds), as
# flowtap's counters: defrag.* and anomalies.frag_* (the count of every
# occurrence; a name the peer raises is expected at least once, ">= 1").
# Zeek's weirds map to: fragment_inconsistency / fragment_size_inconsistency
# -> frag_inconsistent, or frag_overlap with "different bytes" when the bytes
# of an overlap disagree (that is what Zeek's fragment_inconsistency reports);
# fragment_overlap -> frag_overlap; fragment_with_DF -> frag_df_set;
# excessively_large_fragment -> frag_oversize; excessively_small_fragment ->
# frag_tiny_first.
DEFRAG = {
    "pp_frag_http_req.pcap": {  # FIRST_FRAGMENT, 9x FRAGMENT, REASSEMBLED; 1514-byte frame
        "defrag.fragments": 11, "defrag.reassembled": 1, "defrag.fragments_used": 11,
        "record_orig_bytes": 1460},  # frag_http_req_reassembled.txt: 1514 - 14 - 20 - 20
    "pp_ip4_fragments.pcap": {  # all 6 reassembled, 3 non-fragments pass through
        "defrag.reassembled": 6, "packets.udp": 3, "defrag.overlaps_different": 0},
    "pp_ip6_fragments.pcap": {"defrag.reassembled": 4, "defrag.fragments_used": 36},
    "pp_ip4_bad_fragment.pcap": {"defrag.fragments": 1, "defrag.reassembled": 0},  # MALFORMED_FRAGMENT
    "zk_ipv4-fragmented-1.pcap": {"defrag.reassembled": 1,  # tshark v4_reasm
                                  "anomalies.frag_tiny_first": ">= 1", "anomalies.frag_inconsistent": ">= 1"},
    "zk_ipv4-fragmented-2.pcap": {"defrag.reassembled": 0, "anomalies.frag_tiny_first": ">= 1",
                                  "anomalies.frag_overlap": 1, "defrag.overlaps_different": 0},
    "zk_ipv4-fragmented-3.pcap": {"defrag.reassembled": 0, "anomalies.frag_df_set": 5},
    "zk_ipv4-fragmented-4.pcap": {"defrag.reassembled": 1, "anomalies.frag_tiny_first": ">= 1",
                                  "anomalies.frag_overlap": 1, "defrag.overlaps_different": 1},
    "zk_ipv6-oversize-frag-leak.pcap": {"defrag.reassembled": 0, "anomalies.frag_oversize": ">= 1"},
}

COMPARED = ("conn_state", "history", "orig_pkts", "resp_pkts", "orig_bytes", "resp_bytes")
MULTI_WORKER = ("zk_wikipedia.pcap", "zk_smtp.pcap", "zk_ssh-dups.pcap", "pp_three_http_streams.pcap")

RECORD_KEYS = ("src", "sport", "dst", "dport", "vlan", "first_ts", "last_ts", "orig_pkts", "orig_bytes",
               "resp_pkts", "resp_bytes", "orig_isn", "resp_isn", "orig_state", "resp_state", "conn_state",
               "history", "end", "anomalies")
INT_KEYS = ("sport", "dport", "orig_pkts", "orig_bytes", "resp_pkts", "resp_bytes")
ISN_KEYS = ("orig_isn", "resp_isn")  # an integer, or null when that endpoint's SYN was not seen
RFC793 = {"CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2",
          "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT"}
CONN_STATES = {"S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH"}
ENDS = {"fin", "rst", "timeout", "evicted", "exit"}
HISTORY_LETTERS = set("shadfrcgtwiqSHADFRCGTWIQ^")

c = ftlib.checker("corpus: flowtap vs Zeek / PcapPlusPlus")
kd_used = set()


# ---------------------------------------------------------------- helpers
def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def addr(a):
    try:
        return str(ipaddress.ip_address(str(a)))
    except ValueError:
        return str(a)


def port(p):
    try:
        return int(p)
    except (TypeError, ValueError):
        return p


def rec_tuple(r):
    return (addr(r.get("src")), port(r.get("sport")), addr(r.get("dst")), port(r.get("dport")))


def rec_brief(r):
    keys = ("conn_state", "history", "orig_pkts", "resp_pkts", "orig_bytes", "resp_bytes", "orig_state",
            "resp_state", "end", "anomalies")
    t = rec_tuple(r)
    return "%s:%s>%s:%s %s" % (t + (" ".join("%s=%s" % (k, json.dumps(r.get(k))) for k in keys),))


def read_json_lines(path):
    """(objects, problems) of a JSON-lines file; a missing file is one problem."""
    if not os.path.isfile(path):
        return [], ["%s not written" % os.path.basename(path)]
    objs, bad = [], []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                o = json.loads(line)
            except ValueError as e:
                bad.append("line %d: %s" % (n, e))
                continue
            if not isinstance(o, dict):
                bad.append("line %d: not an object" % n)
                continue
            objs.append(o)
    return objs, bad


def capture_span(pcap):
    _, recs = ftlib.ftgen().read_pcap(pcap)
    if not recs:
        return 0, None
    # classic pcap, microsecond or nanosecond fraction: a window of +-1 s is enough for the check
    return len(recs), (recs[0][0] - 1, max(r[0] for r in recs) + 2)


def record_problems(recs, span):
    out = []
    for i, r in enumerate(recs):
        tag = "record %d (%s)" % (i + 1, ":".join(str(x) for x in rec_tuple(r)[:2]))
        missing = [k for k in RECORD_KEYS if k not in r]
        if missing:
            out.append("%s: missing %s" % (tag, ",".join(missing)))
        for k in INT_KEYS:
            if k in r and not (isinstance(r[k], int) and not isinstance(r[k], bool)):
                out.append("%s: %s=%r is not an integer" % (tag, k, r[k]))
        for k in ISN_KEYS:
            if k in r and r[k] is not None and not (isinstance(r[k], int) and not isinstance(r[k], bool)
                                                     and 0 <= r[k] < 1 << 32):
                out.append("%s: %s=%r is neither null nor a 32-bit sequence number" % (tag, k, r[k]))
        for k in ("orig_state", "resp_state"):
            if k in r and r[k] not in RFC793:
                out.append("%s: %s=%r is not an RFC 793 state" % (tag, k, r[k]))
        if "conn_state" in r and r["conn_state"] not in CONN_STATES:
            out.append("%s: conn_state=%r is not one of Zeek's" % (tag, r["conn_state"]))
        if "history" in r and (not isinstance(r["history"], str) or set(r["history"]) - HISTORY_LETTERS):
            out.append("%s: history=%r has letters Zeek does not use" % (tag, r["history"]))
        if "end" in r and r["end"] not in ENDS:
            out.append("%s: end=%r not in %s" % (tag, r["end"], sorted(ENDS)))
        if "anomalies" in r and not (isinstance(r["anomalies"], list) and
                                     all(isinstance(a, str) for a in r["anomalies"])):
            out.append("%s: anomalies=%r is not a list of names" % (tag, r["anomalies"]))
        f, la = r.get("first_ts"), r.get("last_ts")
        if isinstance(f, (int, float)) and isinstance(la, (int, float)) and span:
            if not (span[0] <= f <= la <= span[1]):
                out.append("%s: first_ts %r / last_ts %r not ordered within the capture's time" % (tag, f, la))
    return out


# ---------------------------------------------------------------- verdicts
def verdict(cap, cid, field, got, want, ok, detail=""):
    """One check line; KNOWN_DIFFERENCES turns an expected mismatch into a note."""
    name = "%s %s: %s" % (cap, cid, field)
    key = (cap, cid, field)
    other = "peer" if cid != "*" else "expected"
    if key in KNOWN_DIFFERENCES:
        kd_used.add(key)
        kval, reason = KNOWN_DIFFERENCES[key]
        if ok:
            c.check(name + " (known difference)", False,
                    "flowtap now agrees with the %s (%r): remove the entry" % (other, got))
        elif got == kval:
            c.check(name + " (known difference)", True)
            c.note("known difference %s: flowtap %r, %s %r: %s" % (name, got, other, want, reason))
        else:
            c.check(name + " (known difference)", False,
                    "drifted: flowtap gives %r, KNOWN_DIFFERENCES says %r (%s %r): update or remove the entry"
                    % (got, kval, other, want))
        return
    c.check(name, ok, "flowtap %r, %s %r%s" % (got, other, want, ("; " + detail) if detail else ""))


def evaluate(view, rec):
    """[(field, flowtap value, peer value, ok)] of a record against one view of a connection."""
    out = []
    orient = "same" if rec_tuple(rec)[:2] == (view["orig_h"], view["orig_p"]) else "reversed"
    out.append(("orientation", orient, "same", orient == "same"))
    for f in COMPARED:
        if f in view:
            got = rec.get(f, "<missing>")
            out.append((f, got, view[f], got == view[f]))
    if view.get("ended_by_fin_rst"):
        got = rec.get("end", "<missing>")
        out.append(("end", got, "fin or rst", got in ("fin", "rst")))
    return out


def compare_connection(cap, exp, recs):
    cid = exp["id"]
    ends = {(exp["orig_h"], exp["orig_p"]), (exp["resp_h"], exp["resp_p"])}
    cands = [r for r in recs if {rec_tuple(r)[:2], rec_tuple(r)[2:]} == ends]
    src = exp["source"].split(" (", 1)[0]
    if (cap, cid, "records") in KNOWN_DIFFERENCES:
        verdict(cap, cid, "records", len(cands), 1, len(cands) == 1)
        if len(cands) != 1:
            return False
    elif not c.check("%s %s: one flowtap record with this 4-tuple" % (cap, cid), len(cands) == 1,
                   "%d records (either direction); flowtap wrote %d TCP records%s"
                   % (len(cands), len(recs), (": " + "; ".join(rec_brief(r) for r in cands[:3])) if cands
                      else "")):
        if not cands:
            return False
    rec = cands[0]
    res = evaluate(exp, rec)
    if not all(ok for _, _, _, ok in res):
        for alt in exp.get("alternatives", []):
            ra = evaluate(alt, rec)
            if all(ok for _, _, _, ok in ra):
                c.note("%s %s: matches the peer's other view %s (%s)" % (cap, cid, alt["id"],
                                                                        alt["source"].split(" (", 1)[0]))
                res = ra
                break
    for field, got, want, ok in res:
        verdict(cap, cid, field, got, want, ok, "from %s" % src)
    if "zeek_orig_state" in exp:
        c.note("%s %s: Zeek endpoint states orig %s(%d) resp %s(%d); flowtap orig_state=%s resp_state=%s end=%s"
               % (cap, cid, exp["zeek_orig_state"], exp["zeek_orig_state_code"], exp["zeek_resp_state"],
                  exp["zeek_resp_state_code"], rec.get("orig_state"), rec.get("resp_state"), rec.get("end")))
    return all(ok for _, _, _, ok in res)


# ---------------------------------------------------------------- runs
def run(tmp, cap, pcap, workers, sets=()):
    tag = "%s/w%d%s" % (cap, workers, "".join(" " + s for s in sets))
    base = os.path.join(tmp, "%s-w%d-%d" % (cap, workers, len(sets)))
    flows, stats, events = base + ".flows.json", base + ".stats.json", base + ".events.json"
    # With 3 workers the control lcore reads whatever the CPUs, so the
    # reader's ring and the hand-over are covered together.
    r = ftlib.run_flowtap(["--pcap", pcap, "--workers", str(workers), "--flow-log", flows,
                           "--stats-json", stats, "--events", events, "--quiet"] +
                          (["--reader", "control"] if workers > 1 else []) +
                          [a for s in sets for a in ("--set", s)])
    c.eq("%s: exit status" % tag, r.rc, 0, r.brief())
    c.check("%s: finished within the timeout" % tag, not r.timed_out, "%.0f s" % r.elapsed)
    c.check("%s: no runtime directory left" % tag, not r.leftover, r.leftover)
    st = None
    if c.check("%s: stats JSON written" % tag, os.path.isfile(stats), r.brief()):
        try:
            st = ftlib.load_json(stats)
        except ValueError as e:
            c.check("%s: stats JSON parses" % tag, False, str(e))
    recs, bad = read_json_lines(flows)
    c.check("%s: flow log is JSON lines" % tag, not bad, "; ".join(bad[:5]))
    evs, bad = read_json_lines(events)
    c.check("%s: events file is JSON lines with an event name each" % tag,
            not bad and all(isinstance(e.get("event"), str) for e in evs), "; ".join(bad[:5]))
    return st, recs


def check_checksums(cap, st):
    """The default run's checksum verdicts against CHECKSUMS (all 0 elsewhere)."""
    if st is None:
        return
    got = (ftlib.dig(st, "packets.malformed.ip4_bad_checksum", None), ftlib.dig(st, "packets.tcp_bad_checksum", None),
           ftlib.dig(st, "packets.tcp_checksum_partial", None))
    c.eq("%s: checksums = auto: (ip4_bad_checksum, tcp_bad_checksum, tcp_checksum_partial)" % cap, got,
         CHECKSUMS.get(cap, (0, 0, 0)))


def check_defrag(cap, st, recs):
    dropped = sum(v for v in (ftlib.dig(st, "defrag.dropped", {}) or {}).values())
    c.eq("%s: defrag.fragments == fragments_used + dropped.* + held" % cap, ftlib.dig(st, "defrag.fragments", None),
         (ftlib.dig(st, "defrag.fragments_used", 0) or 0) + dropped + (ftlib.dig(st, "defrag.held", 0) or 0))
    for key, want in sorted(DEFRAG[cap].items()):
        if key == "record_orig_bytes":
            got = [r.get("orig_bytes") for r in recs]
            verdict(cap, "*", key, got, [want], got == [want], "the reassembled request's TCP payload")
            continue
        got = ftlib.dig(st, key, None)
        if want == ">= 1":
            verdict(cap, "*", key, got, want, isinstance(got, int) and got >= 1)
        else:
            verdict(cap, "*", key, got, want, got == want)


def check_capture(tmp, cap, exp):
    c.section(cap)
    pcap = os.path.join(CORPUS, cap)
    if not c.check("%s: capture present" % cap, os.path.isfile(pcap), pcap):
        return
    c.eq("%s: sha256 as in expected.json" % cap, sha256(pcap), exp["sha256"])
    frames, span = capture_span(pcap)
    c.eq("%s: frames in the file" % cap, frames, exp["frames"])
    failed_before = c.failed
    sets = ()
    if cap in CHECKSUMS_OFF:
        c.note("%s: compared with checksums = off: %s" % (cap, CHECKSUMS_OFF[cap]))
        sets = ("general.checksums=off",)
        check_checksums(cap, run(tmp, cap, pcap, 1)[0])
    st, recs = run(tmp, cap, pcap, 1, sets)
    if not sets:
        check_checksums(cap, st)
    if st is not None:
        c.eq("%s: packets.rx == frames" % cap, ftlib.dig(st, "packets.rx", None), exp["frames"])
        cp = ftlib.dig(st, "capture.packets", None)
        if cp is not None:
            c.eq("%s: capture.packets == frames" % cap, cp, exp["frames"])
        c.check("%s: accounting_ok" % cap, st.get("accounting_ok") is True, repr(st.get("accounting_ok")))
        c.check("%s: mempools_ok (every mbuf home after the drain)" % cap, st.get("mempools_ok") is True, st.get("mempools"))
    probs = record_problems(recs, span)
    c.check("%s: every flow record follows DESIGN.md section 4" % cap, not probs,
            "%d problems: %s" % (len(probs), "; ".join(probs[:6])))
    n = len(recs)
    verdict(cap, "*", "tcp_records", n, exp["tcp_records"], n == exp["tcp_records"],
            "tshark's TCP streams" + ("; needs defrag" if exp.get("needs_defrag") else ""))
    if st is not None:
        created = ftlib.dig(st, "flows.tcp", None)
        verdict(cap, "*", "flows_created", created, n, created == n,
                "flows.tcp (TCP connections tracked) vs TCP records written")
        tcp = ftlib.dig(st, "packets.tcp", None)
        total = sum(r.get("orig_pkts", 0) + r.get("resp_pkts", 0) for r in recs
                    if isinstance(r.get("orig_pkts"), int) and isinstance(r.get("resp_pkts"), int))
        if ftlib.dig(st, "defrag.reassembled", 0):
            c.note("%s: datagrams reassembled: records' packets %d vs packets.tcp %s not compared"
                   % (cap, total, tcp))
        else:
            verdict(cap, "*", "pkts_sum", total, tcp, total == tcp, "sum of orig_pkts+resp_pkts vs packets.tcp")
    if st is not None and cap in DEFRAG:
        check_defrag(cap, st, recs)
    if exp.get("zeek_filter"):
        c.note("%s: Zeek ran with -f '%s'; only those connections are compared" % (cap, exp["zeek_filter"]))
    for e in exp["connections"]:
        compare_connection(cap, e, recs)
    if cap in MULTI_WORKER:
        st3, recs3 = run(tmp, cap, pcap, 3, sets)
        a = sorted(json.dumps(r, sort_keys=True) for r in recs)
        b = sorted(json.dumps(r, sort_keys=True) for r in recs3)
        only1 = sorted(set(a) - set(b))
        only3 = sorted(set(b) - set(a))
        c.check("%s: same records with 1 and 3 workers" % cap, a == b,
                "%d vs %d records; only with 1 worker: %s; only with 3: %s"
                % (len(a), len(b), only1[:2], only3[:2]))
        if st3 is not None:
            c.check("%s/w3: accounting_ok" % cap, st3.get("accounting_ok") is True)
            c.check("%s/w3: mempools_ok" % cap, st3.get("mempools_ok") is True, st3.get("mempools"))
            c.eq("%s/w3: packets.rx == frames" % cap, ftlib.dig(st3, "packets.rx", None), exp["frames"])
    if recs and (c.failed > failed_before or os.environ.get("FT_CORPUS_RECORDS")):
        c.note("%s: flowtap's %d TCP records:" % (cap, len(recs)))
        for r in recs:
            print("       %s" % rec_brief(r), flush=True)


def selected(caps):
    want = os.environ.get("FT_CORPUS", "").strip()
    if not want:
        return sorted(caps)
    names = {w if w.endswith(".pcap") else w + ".pcap" for w in want.split(",") if w}
    unknown = names - set(caps)
    c.check("FT_CORPUS names captures of expected.json", not unknown, sorted(unknown))
    return sorted(names & set(caps))


def main():
    ftlib.require_binary()
    doc = ftlib.load_json(EXPECTED)
    caps = doc["captures"]
    on_disk = sorted(f for f in os.listdir(CORPUS) if f.endswith(".pcap"))
    c.eq("tests/data/corpus: captures on disk == captures in expected.json", on_disk, sorted(caps))
    todo = selected(caps)
    with ftlib.tempdir("flowtap-corpus-") as tmp:
        for cap in todo:
            check_capture(tmp, cap, caps[cap])
    stale = sorted(k for k in KNOWN_DIFFERENCES if k[0] in todo and k not in kd_used)
    c.check("every KNOWN_DIFFERENCES entry names a check that ran", not stale, stale)
    ftlib.finish()


if __name__ == "__main__":
    main()
