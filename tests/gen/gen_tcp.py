#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""TCP tracking captures whose truth is known: one small capture per scenario.

Every TCP state transition flowtap infers (lib/tcp/ft_tcp.h) and every TCP
name of the anomaly catalogue (DESIGN.md section 5), each in its own capture,
plus the sessions that must raise nothing. For each scenario NAME this writes
NAME.pcap and NAME.json into OUTDIR (default tests/data/tcp):

  records   the flow records flowtap must write (DESIGN.md section 4): the
            5-tuple and VLANs, first/last ts, packets, IP bytes, payload bytes,
            ISNs, both RFC 793 states when the record is written, Zeek's
            conn_state and history, end, anomalies (catalogue order). A field
            the truth cannot state exactly is listed under "unstated" with why.
  ladder    every frame: which record, who sent it, flags, seq, ack, payload
            length, and both endpoints' states once it has arrived (what
            `flowtap --ladder` prints).
  events    the events of the default run (one per flow per name) and, where
            the scenario says so, of `--set events.every_occurrence=yes`.
  anomalies every occurrence, as the stats JSON "anomalies" object counts them.
  config    the --set options every run of the capture uses.

Where the truth comes from:
  - RFC 793 states: written by hand per frame below, from the inference rules
    of ft_tcp.h (sender moves on send, receiver on receive, the first SYN's
    receiver starts in LISTEN) and RFC 793/5961/7323;
  - conn_state, history and payload bytes: a model of Zeek's TCP analyzer
    (ZeekConn below, after Zeek's TCPSessionAdapter.cc, TCP_Endpoint.cc and
    TCP_Reassembler.cc) run over the frames, cross-checked against the values
    written by hand in each scenario (generation fails when they differ);
    payload bytes also by a plain count of sequence numbers, and stated only
    where the two agree (Zeek lets an in-window RST or an out-of-window
    segment move its byte count; those fields are "unstated"). Where Zeek's
    code and the documented meaning of a letter or state disagree, the
    record also carries the documented value under "alt" ("notes" says why)
    and either is accepted;
  - packets, IP bytes, timestamps: counted from the frames written.

Scenarios (see SCENARIOS for the list and each one's docstring):
  normal, half_close, simultaneous_open, split_handshake, simultaneous_close,
  port_reuse, rst_exact, rst_inexact, rst_out_of_window, rej, syn_only,
  lone_synack, synack_first, midstream, ipv6, vlan, seq_wrap, retransmit,
  syn_ack_bad_ack, handshake_bad_ack, syn_new_isn, syn_with_data,
  data_before_established, invalid_flags, seq_out_of_window, window_scale,
  ack_unseen_data, retransmit_different_data, ttl_change, packet_after_close,
  isn_predictable, isn_random, syn_flood, syn_below_flood, every_occurrence

Deterministic: fixed ISNs and seeds; frame i at 2026-01-01 00:00:00 UTC + i ms.

Usage: gen_tcp.py [OUTDIR] [--only NAME[,NAME...]]
       -> OUTDIR/NAME.pcap, OUTDIR/NAME.json for each scenario
"""

import json
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftgen  # noqa: E402

EVENTS_H = os.path.join(ftgen.SRC_ROOT, "lib", "events", "ft_events.h")
M32 = 1 << 32

CLI, SRV = "192.0.2.10", "198.51.100.20"
CLI6, SRV6 = "2001:db8::10", "2001:db8::20"
MAC_C, MAC_S = "00:00:5e:00:53:0a", "00:00:5e:00:53:14"

# Every run of every capture: a SYN flood needs > 50 SYNs in a second, not 1000.
CONFIG = ["detect.syn_flood_rate=50"]

STATE = {"CL": "CLOSED", "LI": "LISTEN", "SS": "SYN_SENT", "SR": "SYN_RECEIVED",
         "ES": "ESTABLISHED", "F1": "FIN_WAIT_1", "F2": "FIN_WAIT_2", "CW": "CLOSE_WAIT",
         "CG": "CLOSING", "LA": "LAST_ACK", "TW": "TIME_WAIT"}

# Which numbers each anomaly's event carries besides seq (and ack when the
# packet has ACK): "expected" where the anomaly defines it.
WITH_EXPECTED = {"syn_ack_bad_ack", "handshake_bad_ack", "syn_new_isn", "ack_unseen_data",
                 "rst_out_of_window", "rst_in_window_inexact", "syn_in_established",
                 "ack_out_of_window"}
CROSS_FLOW = {"isn_predictable", "syn_flood"}


def catalogue(header=EVENTS_H):
    """[(name, severity)] in catalogue order, from FT_EVENT_TYPES in ft_events.h."""
    with open(header) as f:
        text = f.read()
    pairs = re.findall(r'X\(\s*[A-Z0-9_]+\s*,\s*"([a-z0-9_]+)"\s*,\s*FT_SEV_([A-Z]+)\s*\)', text)
    if not pairs:
        raise RuntimeError("FT_EVENT_TYPES not found in " + header)
    return [(n, s.lower()) for n, s in pairs]


def sdelta(a, b):
    """a - b in sequence space (signed 32 bits)."""
    d = (a - b) & 0xFFFFFFFF
    return d - M32 if d & 0x80000000 else d


# --------------------------------------------------------------------------- Zeek's view
# A model of Zeek's TCP analyzer, enough for conn.log's conn_state, history
# and orig_bytes/resp_bytes (endpoint Size()). Names follow Zeek's source.
Z_INACTIVE, Z_SYN_SENT, Z_SYN_ACK_SENT, Z_PARTIAL, Z_ESTABLISHED, Z_CLOSED, Z_RESET = range(7)
TOO_LARGE_SEQ_DELTA = 1048576
H_SYN, H_FIN, H_RST, H_FIN_RST, H_DATA, H_ACK, H_MULTI = (1 << i for i in range(7))


class ZeekEndpoint:
    def __init__(self, conn, is_orig):
        self.conn, self.is_orig = conn, is_orig
        self.state = self.prev_state = Z_INACTIVE
        self.start = self.last = self.ack = 0
        self.fin_cnt = self.rst_cnt = 0
        self.fin_seq = 0
        self.hist_last = {"S": 0, "F": 0, "R": 0}
        self.scaled = {"T": [0, 1], "G": [0, 1], "W": [0, 1], "C": [0, 1]}
        self.peer = None
        # reassembler (relative sequence numbers, data starts at 1)
        self.blocks = []
        self.last_reassem = 1
        self.trim = 1

    def set_state(self, st):
        if st != self.state:
            self.prev_state, self.state = self.state, st

    def rel(self, x):
        return sdelta(x, self.start)

    def no_data_acked(self):
        return self.rel(self.ack) in (0, 1)

    def size(self):
        if (self.prev_state == Z_SYN_SENT and self.state == Z_RESET and
                self.peer.state == Z_INACTIVE and not self.no_data_acked()):
            return 0
        size = max(self.rel(self.last), self.rel(self.ack))
        if size != 0:
            size -= 1
        if self.fin_cnt > 0 and size != 0:
            size -= 1
        return size

    def letter(self, code):
        return code if self.is_orig else code.lower()

    def check_history(self, mask, code):
        if not self.is_orig:
            mask <<= 16
        return self.conn.check_history(mask, self.letter(code))

    def scaled_entry(self, code):
        cnt = self.scaled[code]
        cnt[0] += 1
        if cnt[0] == cnt[1]:
            self.conn.history += self.letter(code)
            cnt[1] *= 10

    # reassembler
    def data_sent(self, seq, length):
        ack = self.rel(self.ack)
        upper = seq + length
        if seq < ack:
            if upper <= ack:
                return
            seq = ack
        self.blocks.append([seq, upper])
        self.deliver()

    def deliver(self):
        moved = True
        while moved:
            moved = False
            for lo, hi in self.blocks:
                if lo <= self.last_reassem < hi:
                    self.last_reassem = hi
                    moved = True

    def is_clean(self):
        return self.state == Z_ESTABLISHED or (self.state == Z_CLOSED and
                                                self.prev_state == Z_ESTABLISHED)

    def gap(self):
        if self.is_clean() and self.peer.is_clean():
            self.scaled_entry("G")

    def ack_received(self, seq):
        if self.fin_cnt > 0 and seq >= self.fin_seq:
            seq = self.fin_seq - 1
        if seq <= self.trim:
            return
        if seq > self.last_reassem:
            self.undelivered(seq)
        self.trim = seq

    def undelivered(self, up_to):
        if up_to <= 2 and self.conn.is_partial:
            return
        for lo, hi in sorted(self.blocks):
            if lo < self.last_reassem:
                continue
            if lo >= up_to:
                break
            self.gap()
            self.last_reassem = lo
            self.deliver()
        if up_to > self.last_reassem:
            self.gap()
        self.last_reassem = max(self.last_reassem, up_to)


class ZeekConn:
    """One Zeek connection; feed it (is_orig, flags, seq, ack, payload length, window)."""

    def __init__(self, flipped):
        self.history = "^" if flipped else ""
        self.seen = 0
        self.orig, self.resp = ZeekEndpoint(self, True), ZeekEndpoint(self, False)
        self.orig.peer, self.resp.peer = self.resp, self.orig
        self.is_partial = False
        self.first_seen = 0

    def bad_checksum(self, is_orig):
        """A segment with a wrong checksum: Zeek's ChecksumError(), the
        scaled letter C (c from the responder: at 1, 10, 100 ... of them),
        and nothing else of it."""
        (self.orig if is_orig else self.resp).scaled_entry("C")

    def check_history(self, mask, code):
        if self.seen & mask == 0:
            self.seen |= mask
            self.history += code
            return False
        return True

    def packet(self, is_orig, flags, seq, ack, length, win):
        ep = self.orig if is_orig else self.resp
        peer = ep.peer
        SYN, FIN, RST, ACK = ("S" in flags), ("F" in flags), ("R" in flags), ("A" in flags)
        # SetPartialStatus
        if is_orig:
            if not self.first_seen & 1:
                self.is_partial = (not SYN) or ACK
        elif not self.first_seen & 2 and not self.is_partial:
            self.is_partial = not SYN
        seg_len = length + SYN + FIN - (length if RST else 0)
        one_past = (seq + seg_len) % M32
        self.init_endpoint(ep, SYN, seq, one_past)
        rel_seq = ep.rel(seq)
        underflow = rel_seq < 0
        self.update_history(ep, SYN, FIN, RST, ACK, rel_seq, length)
        if win == 0 and not RST and peer.state != Z_CLOSED and ep.state != Z_RESET:
            ep.scaled_entry("W")
        if FIN:
            ep.fin_cnt += 1
            ep.fin_seq = rel_seq + seg_len
        if RST:
            ep.rst_cnt += 1
        rel_ack = 0
        if ACK:
            if peer.state == Z_INACTIVE:
                rel_ack = 1
                peer.start = peer.ack = peer.last = (ack - 1) % M32
            else:
                rel_ack = peer.rel(ack)
                if rel_ack < 0:
                    rel_ack = 0
                elif not RST:
                    d = sdelta(ack, peer.ack)
                    if not (ack == 0 and d > TOO_LARGE_SEQ_DELTA) and d > 0:
                        peer.ack = ack
        delta_last = self.update_last_seq(ep, one_past, SYN, FIN, RST, length)
        self.state_machine(ep, peer, seq, length, delta_last, is_orig, SYN, FIN, RST, ACK)
        if ACK:
            peer.ack_received(rel_ack)
        if length > 0 and not RST and not underflow:
            ep.data_sent(rel_seq + 1 if SYN else rel_seq, length)

    @staticmethod
    def init_endpoint(ep, SYN, seq, last):
        if ep.state == Z_INACTIVE:
            if SYN:
                ep.ack = ep.start = seq
            else:
                ep.ack = ep.start = (seq - 1) % M32
                last = seq
            ep.last = last
        elif ep.state in (Z_SYN_SENT, Z_SYN_ACK_SENT):
            if SYN and seq != ep.start:
                ep.start = ep.ack = seq
                ep.last = last
        elif ep.state in (Z_ESTABLISHED, Z_PARTIAL):
            if SYN:
                ep.start = ep.ack = seq
                ep.last = last
        elif ep.state == Z_RESET:
            if SYN and ep.prev_state == Z_INACTIVE:
                ep.start = ep.ack = seq
                ep.last = last

    @staticmethod
    def update_history(ep, SYN, FIN, RST, ACK, rel_seq, length):
        bits = SYN + FIN + RST
        if bits > 1:
            if FIN and RST:
                ep.check_history(H_FIN_RST, "I")
            else:
                ep.check_history(H_MULTI, "Q")
        elif bits == 1:
            if SYN:
                code = "H" if ACK else "S"
                if ep.check_history(H_SYN, code) and rel_seq != ep.hist_last["S"]:
                    ep.conn.history += ep.letter(code)
                ep.hist_last["S"] = rel_seq
            if FIN:
                if ep.check_history(H_FIN, "F") and rel_seq + length != ep.hist_last["F"]:
                    ep.conn.history += ep.letter("F")
                ep.hist_last["F"] = rel_seq + length
            if RST:
                if ep.check_history(H_RST, "R") and rel_seq != ep.hist_last["R"]:
                    ep.conn.history += ep.letter("R")
                ep.hist_last["R"] = rel_seq
        else:
            if length:
                ep.check_history(H_DATA, "D")
            elif ACK:
                ep.check_history(H_ACK, "A")

    @staticmethod
    def update_last_seq(ep, last, SYN, FIN, RST, length):
        d = sdelta(last, ep.last)
        if (SYN or RST) and (d > TOO_LARGE_SEQ_DELTA or d < -TOO_LARGE_SEQ_DELTA):
            pass
        elif FIN and ep.last == (ep.start + 1) % M32:
            ep.last = last
        elif ep.state == Z_RESET:
            pass
        elif d > 0:
            ep.last = last
        elif length > 0:
            ep.scaled_entry("T")
        return d

    def state_machine(self, ep, peer, seq, length, delta_last, is_orig, SYN, FIN, RST, ACK):
        st = ep.state
        if st == Z_INACTIVE:
            if SYN:
                if is_orig:
                    ep.set_state(Z_SYN_ACK_SENT if ACK else Z_SYN_SENT)
                else:
                    if not ACK and peer.state == Z_SYN_ACK_SENT and seq == ep.start:
                        raise NotImplementedError("Zeek's SYN/SYN-ACK role reversal")
                    if peer.state == Z_SYN_SENT:
                        peer.set_state(Z_ESTABLISHED)
                    ep.set_state(Z_ESTABLISHED)
            if FIN:
                ep.set_state(Z_CLOSED)
            if RST:
                ep.set_state(Z_RESET)
            if ep.state == Z_INACTIVE:
                if not is_orig and length == 0 and self.orig.state == Z_SYN_SENT:
                    pass
                elif ACK and peer.state == Z_ESTABLISHED:
                    ep.set_state(Z_ESTABLISHED)
                    self.is_partial = False
                    self.first_seen |= 1 if is_orig else 2
                else:
                    ep.set_state(Z_PARTIAL)
        elif st in (Z_SYN_SENT, Z_SYN_ACK_SENT):
            if FIN:
                ep.set_state(Z_CLOSED)
            if RST:
                ep.set_state(Z_RESET)
        elif st in (Z_ESTABLISHED, Z_PARTIAL):
            if SYN and st == Z_PARTIAL and peer.state == Z_INACTIVE and not ACK:
                ep.set_state(Z_SYN_SENT)
            if FIN and not RST:
                ep.set_state(Z_CLOSED)
                if peer.state == Z_RESET and peer.prev_state == Z_CLOSED:
                    peer.set_state(Z_CLOSED)
            if RST:
                ep.set_state(Z_RESET)
        elif st == Z_CLOSED:
            if RST and peer.state != Z_CLOSED:
                ep.set_state(Z_RESET)

    def conn_state(self):
        os_, rs = self.orig.state, self.resp.state
        o_in = os_ in (Z_INACTIVE, Z_PARTIAL)
        r_in = rs in (Z_INACTIVE, Z_PARTIAL)
        if rs == Z_RESET:
            if os_ in (Z_SYN_SENT, Z_SYN_ACK_SENT) or (
                    os_ == Z_RESET and self.orig.size() == 0 and self.resp.size() == 0):
                return "REJ"
            return "RSTRH" if o_in else "RSTR"
        if os_ == Z_RESET:
            if r_in:
                return "RSTOS0" if re.fullmatch(r"\^?S[^HAFGIQ]*R.*", self.history) else "OTH"
            return "RSTO"
        if rs == Z_CLOSED and os_ == Z_CLOSED:
            return "SF"
        if os_ == Z_CLOSED:
            return "SH" if r_in else "S2"
        if rs == Z_CLOSED:
            return "SHR" if o_in else "S3"
        if os_ == Z_SYN_SENT and rs == Z_INACTIVE:
            return "S0"
        if os_ == Z_ESTABLISHED and rs == Z_ESTABLISHED:
            return "S1"
        return "OTH"


# --------------------------------------------------------------------------- building
class Record:
    """One flow record: a connection from its first packet to its end."""

    def __init__(self, sc, conn, orig_side):
        self.sc, self.conn, self.orig_side = sc, conn, orig_side
        self.index = len(sc.records)
        self.steps = []       # indexes into sc.steps
        self.end = "exit"
        self.want = {}        # values written by hand, checked against the models
        self.flipped = False

    def side_dir(self, side):
        return "orig" if side == self.orig_side else "resp"


class Conn(ftgen.TcpEnds):
    """Both endpoints of one 5-tuple (+ VLANs); tracks seq, ack, IP id, TTL and
    window of each side so a scenario only says who sends what."""

    def __init__(self, sc, cli, srv, cport, sport, cisn, sisn, v6=False, vlans=(),
                 ttl=(64, 64), win=(8192, 8760)):
        super().__init__({
            "c": dict(ip=cli, port=cport, mac=MAC_C, nxt=cisn, ipid=0x1c46, ttl=ttl[0], win=win[0]),
            "s": dict(ip=srv, port=sport, mac=MAC_S, nxt=sisn, ipid=0x3a10, ttl=ttl[1], win=win[1]),
        }, v6, vlans)
        self.sc = sc
        self.rec = None

    def nxt(self, side):
        return self.ep[side]["nxt"]

    def skip(self, side, n):
        """The side sent n bytes the capture missed."""
        e = self.ep[side]
        e["nxt"] = (e["nxt"] + n) % M32
        self.ack_of["s" if side == "c" else "c"] = e["nxt"]

    def new_isn(self, side, isn):
        self.ep[side]["nxt"] = isn

    def pkt(self, side, flags, payload=b"", seq=None, ack=None, ttl=None, win=None, opts=None,
            advance=True, states=None, ev=None, ignored=False, what="", new_record=False,
            bad_csum=False, urgptr=0):
        """Send one segment from side ("c" or "s"); returns its frame number.
        states: "XX YY" (orig, resp) after it; ev: {anomaly: expected or None};
        ignored: the receiver drops it (out of window, invalid flags): it does
        not count in the plain payload byte count. bad_csum: its TCP checksum
        is wrong, so its receiver drops it unread (ignored too); it counts in
        no record (packets, bytes, times), adds Zeek's history C and is marked
        on flowtap's ladder."""
        me, other, seq, ack = self.segment(side, flags, seq, ack)
        if opts is None:
            opts = [("MSS", 1460)] if "S" in flags and "F" not in flags and "R" not in flags else []
        if win is None:
            win = 0 if flags in ("R", "RA") else me["win"]
        ttl = me["ttl"] if ttl is None else ttl
        raw, tcp = self.frame(side, flags, seq, ack, win, opts, ttl, payload, urgptr=urgptr)
        if bad_csum:
            ignored, advance = True, False
            raw = ftgen.with_bad_tcp_csum(raw)
        ip_len = (40 if self.v6 else 20) + len(bytes(tcp)) + len(payload)
        adv = len(payload) + ("S" in flags) + ("F" in flags)
        if "R" in flags:
            adv = 0
        if advance and adv and sdelta((seq + adv) % M32, me["nxt"]) > 0:
            me["nxt"] = (seq + adv) % M32
            self.ack_of[other] = me["nxt"]
        # which record
        sc = self.sc
        if self.rec is None or new_record:
            synack = "S" in flags and "A" in flags and "R" not in flags and "F" not in flags
            self.rec = Record(sc, self, other if synack else side)
            self.rec.flipped = synack
            sc.records.append(self.rec)
        rec = self.rec
        if states is None:
            raise AssertionError("%s frame %d: states after it not given" % (sc.name, len(sc.steps) + 1))
        o, r = states.split()
        frame = sc.cap.add(bytes(raw), "tcp", "%s %s %s seq=%d ack=%d len=%d%s" % (
            rec.side_dir(side), "c>s" if side == "c" else "s>c", flags or "-", seq, ack,
            len(payload), (": " + what) if what else ""))
        st = dict(frame=frame, rec=rec.index, side=side, dir=rec.side_dir(side), flags=flags,
                  flag_bits=int(tcp.flags), seq=seq, ack=ack, len=len(payload), win=win, ttl=ttl,
                  ip_len=ip_len, orig_state=STATE[o], resp_state=STATE[r], ignored=ignored,
                  bad_csum=bad_csum, ev=dict(ev or {}))
        sc.steps.append(st)
        rec.steps.append(len(sc.steps) - 1)
        return frame

    def end(self, how, history=None, conn_state=None, bytes=None, alt=None, why=None):
        """The current record ends "fin", "rst" or at "exit"; the values written
        by hand (what Zeek's code writes) are checked against the models.
        alt: {field: value} where the documented meaning of Zeek's field gives
        another value than Zeek's code (why says how): either is accepted."""
        self.rec.end = how
        if alt:
            if not why:
                raise AssertionError("%s: an alternative value needs its reason" % self.sc.name)
            self.rec.want["alt"] = (dict(alt), why)
        if history is not None:
            self.rec.want["history"] = history
        if conn_state is not None:
            self.rec.want["conn_state"] = conn_state
        if bytes is not None:
            self.rec.want["bytes"] = bytes


class Scenario:
    def __init__(self, name, doc, every_occurrence=False):
        self.name, self.doc = name, " ".join(doc.split())
        self.cap = ftgen.Capture(name)
        self.records, self.steps = [], []
        self.cross = []            # cross-flow events: dict(event, dst, dport, frame)
        self.every_occurrence = every_occurrence

    def conn(self, *a, **kw):
        return Conn(self, *a, **kw)

    # ---- truth
    def ts(self, frame):
        sec, usec = ftgen.ts_of(frame - 1)
        return sec * 1000000 + usec

    def truth(self):
        cat = [n for n, _ in catalogue()]
        recs = [self.record_truth(r, cat) for r in self.records]
        occurrences = []
        for st in self.steps:
            rec = self.records[st["rec"]]
            for name, expected in st["ev"].items():
                if name not in cat:
                    raise AssertionError("%s: %s is not in the catalogue" % (self.name, name))
                occurrences.append(self.event_truth(st, rec, name, expected))
        first, seen = [], set()
        for e in occurrences:
            k = (e["record"], e["event"])
            if k not in seen:
                seen.add(k)
                first.append(e)
        cross = [dict(e, ts_us=self.ts(e["frame"])) for e in self.cross]
        counts = {}
        for e in occurrences + cross:
            counts[e["event"]] = counts.get(e["event"], 0) + 1
        t = {
            "capture": self.name + ".pcap",
            "generator": "tests/gen/gen_tcp.py",
            "scenario": self.name,
            "doc": self.doc,
            "first_ts": "2026-01-01T00:00:00Z",
            "frame_spacing_ms": 1,
            "config": CONFIG,
            "packets": {"rx": len(self.cap.frames), "rx_bytes": sum(len(f) for f in self.cap.frames),
                        "tcp": self.cap.labels.count("tcp")},
            "tcp_connections": len(recs),
            "flows_created": len(recs),
            "records": recs,
            "events": first + cross,
        }
        if self.every_occurrence:
            t["events_every_occurrence"] = occurrences + cross
        t["anomalies"] = {n: counts[n] for n in cat if n in counts}
        t["ladder"] = [dict({k: st[k] for k in ("frame", "rec", "dir", "flags", "flag_bits", "seq",
                                                "ack", "len", "orig_state", "resp_state")},
                            **({"bad_csum": True} if st["bad_csum"] else {}))
                       for st in self.steps]
        return t

    def event_truth(self, st, rec, name, expected):
        o, r = self.endpoints(rec)
        e = {"event": name, "record": rec.index, "frame": st["frame"], "ts_us": self.ts(st["frame"]),
             "dir": st["dir"], "src": o["ip"], "sport": o["port"], "dst": r["ip"],
             "dport": r["port"], "seq": st["seq"]}
        if "A" in st["flags"]:
            e["ack"] = st["ack"]
        if name in WITH_EXPECTED:
            if expected is None:
                raise AssertionError("%s frame %d: %s needs its expected value" %
                                     (self.name, st["frame"], name))
            e["expected"] = expected
        elif expected is not None:
            raise AssertionError("%s frame %d: %s has no expected value" % (self.name, st["frame"], name))
        e["orig_state"], e["resp_state"] = st["orig_state"], st["resp_state"]
        return e

    @staticmethod
    def endpoints(rec):
        c = rec.conn
        o = c.ep[rec.orig_side]
        r = c.ep["s" if rec.orig_side == "c" else "c"]
        return o, r

    def record_truth(self, rec, cat):
        z = ZeekConn(rec.flipped)
        for st in (self.steps[i] for i in rec.steps):
            if st["bad_csum"]:
                z.bad_checksum(st["dir"] == "orig")
            else:
                z.packet(st["dir"] == "orig", st["flags"], st["seq"], st["ack"], st["len"], st["win"])
        # A segment dropped for its checksum was never the connection's
        steps = [self.steps[i] for i in rec.steps if not self.steps[i]["bad_csum"]]
        o, r = self.endpoints(rec)
        unstated = {}
        out = {"src": o["ip"], "sport": o["port"], "dst": r["ip"], "dport": r["port"],
               "vlan": list(rec.conn.vlans),
               "first_ts_us": self.ts(steps[0]["frame"]), "last_ts_us": self.ts(steps[-1]["frame"])}
        for d in ("orig", "resp"):
            mine = [s for s in steps if s["dir"] == d]
            out[d + "_pkts"] = len(mine)
            out[d + "_ip_bytes"] = sum(s["ip_len"] for s in mine)
        plain = (plain_bytes(steps, "orig"), plain_bytes(steps, "resp"))
        zeek = (z.orig.size(), z.resp.size())
        want = rec.want.get("bytes")
        if want is not None and tuple(want) != plain:
            raise AssertionError("%s record %d: bytes written %s, counted %s" %
                                 (self.name, rec.index, tuple(want), plain))
        for i, d in enumerate(("orig", "resp")):
            if plain[i] == zeek[i]:
                out[d + "_bytes"] = plain[i]
            else:
                out[d + "_bytes"] = None
                unstated[d + "_bytes"] = ("%d payload bytes by sequence numbers, but Zeek's Size() "
                                          "gives %d (it lets this side's RST or out-of-window "
                                          "segment move its last seq)" % (plain[i], zeek[i]))
        for d, side in (("orig", rec.orig_side), ("resp", "s" if rec.orig_side == "c" else "c")):
            # the ISN is the last SYN the host accepted: an ignored SYN
            # (in an established connection, RFC 5961 4) sets none
            syns = [s["seq"] for s in steps if s["side"] == side and "S" in s["flags"] and
                    "F" not in s["flags"] and "R" not in s["flags"] and not s.get("ignored")]
            out[d + "_isn"] = syns[-1] if syns else None
        out["orig_state"], out["resp_state"] = steps[-1]["orig_state"], steps[-1]["resp_state"]
        out["conn_state"] = z.conn_state()
        out["history"] = z.history
        for k in ("history", "conn_state"):
            if k in rec.want and rec.want[k] != out[k]:
                raise AssertionError("%s record %d: %s written %r, Zeek model gives %r" %
                                     (self.name, rec.index, k, rec.want[k], out[k]))
        out["end"] = rec.end
        names = {n for s in (self.steps[i] for i in rec.steps) for n in s["ev"]}
        out["anomalies"] = [n for n in cat if n in names]
        out["frames"] = [steps[0]["frame"], steps[-1]["frame"]]
        if unstated:
            out["unstated"] = unstated
        if "alt" in rec.want:
            alt, why = rec.want["alt"]
            out["alt"] = alt
            out["notes"] = {k: "Zeek's code writes %r, the documented meaning gives %r: %s" %
                            (out[k], v, why) for k, v in alt.items()}
        return out

    def write(self, outdir):
        path = os.path.join(outdir, self.name + ".pcap")
        ftgen.write_pcap(path, self.cap.frames)
        t = self.truth()
        t["frames"] = ["%d %s" % (i + 1, w) for i, w in enumerate(self.cap.whats)]
        tpath = ftgen.truth_path(path)
        with open(tpath, "w") as f:
            json.dump(t, f, indent=1)
            f.write("\n")
        return path, tpath


def plain_bytes(steps, d):
    """Payload bytes one side sent, by sequence numbers: from its ISN + 1 (or its
    first seq) to the highest byte it sent or the peer acknowledged, each seq
    number once, the FIN's not counted; RSTs and segments the receiver drops
    are left out."""
    mine = [s for s in steps if s["dir"] == d and not s["ignored"]]
    theirs = [s for s in steps if s["dir"] != d and not s["ignored"]]
    syns = [s for s in mine if "S" in s["flags"] and "R" not in s["flags"]]
    if syns:
        base = (syns[-1]["seq"] + 1) % M32
        mine = mine[mine.index(syns[-1]):]
    else:
        data = [s for s in mine if "R" not in s["flags"]]
        if data:
            base = data[0]["seq"]
        else:
            acks = [s["ack"] for s in theirs if "A" in s["flags"] and "R" not in s["flags"]]
            if not acks:
                return 0
            base = acks[0]
    top, fin = base, None
    for s in mine:
        if "R" in s["flags"]:
            continue
        start = (s["seq"] + 1) % M32 if "S" in s["flags"] else s["seq"]
        end = (start + s["len"]) % M32
        if sdelta(end, top) > 0:
            top = end
        if "F" in s["flags"] and fin is None:
            fin = end
    data_top = top
    for s in theirs:
        if "A" not in s["flags"] or "R" in s["flags"]:
            continue
        a = s["ack"]
        if fin is not None and sdelta(a, fin) > 0 and sdelta(data_top, fin) <= 0:
            a = fin
        if sdelta(a, top) > 0:
            top = a
    n = sdelta(top, base)
    if fin is not None and 0 <= sdelta(fin, base) < n:
        n -= 1
    return max(n, 0)


# --------------------------------------------------------------------------- payloads
def text(tag, n):
    """n printable bytes, deterministic, starting with tag."""
    s = (tag + ":" + "abcdefghijklmnopqrstuvwxyz0123456789" * (n // 36 + 2)).encode()
    return s[:n]


REQ = b"GET / HTTP/1.0\r\n\r\n"                      # 18 bytes
RESP = b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"  # 38 bytes


def handshake(c):
    """SYN, SYN+ACK, ACK: the textbook three-way handshake."""
    c.pkt("c", "S", states="SS SR", what="SYN")
    c.pkt("s", "SA", states="ES SR", what="SYN+ACK")
    c.pkt("c", "A", states="ES ES", what="ACK: both established")


def close_client_first(c, what=""):
    """Client FIN, server FIN+ACK (acks it), last ACK."""
    c.pkt("c", "FA", states="F1 CW", what="client FIN " + what)
    c.pkt("s", "FA", states="TW LA", what="server FIN acks the client's")
    c.pkt("c", "A", states="TW CL", what="last ACK")


# --------------------------------------------------------------------------- scenarios
def sc_normal():
    """Textbook open and close: handshake, request, pure ACK, response, client
    FIN, the server's ACK of it (FIN_WAIT_2), server FIN (TIME_WAIT / LAST_ACK),
    last ACK (CLOSED). No anomaly."""
    sc = Scenario("normal", sc_normal.__doc__)
    c = sc.conn(CLI, SRV, 40001, 80, 1000000, 3000000000)
    handshake(c)
    c.pkt("c", "PA", REQ, states="ES ES", what="request")
    c.pkt("s", "A", states="ES ES", what="pure ACK")
    c.pkt("s", "PA", RESP, states="ES ES", what="response")
    c.pkt("c", "A", states="ES ES")
    c.pkt("c", "FA", states="F1 CW", what="client FIN")
    c.pkt("s", "A", states="F2 CW", what="server acks the FIN")
    c.pkt("s", "FA", states="TW LA", what="server FIN")
    c.pkt("c", "A", states="TW CL", what="last ACK")
    c.end("fin", history="ShADadFf", conn_state="SF", bytes=(18, 38))
    return sc


def sc_half_close():
    """Half-close: the client sends its request and FIN; the server (CLOSE_WAIT)
    keeps sending data the client (FIN_WAIT_2) acknowledges, then closes."""
    sc = Scenario("half_close", sc_half_close.__doc__)
    c = sc.conn(CLI, SRV, 40002, 80, 2000000, 1500000000)
    handshake(c)
    c.pkt("c", "PA", REQ, states="ES ES", what="request")
    c.pkt("c", "FA", states="F1 CW", what="client FIN right after")
    c.pkt("s", "A", states="F2 CW", what="server acks request and FIN")
    c.pkt("s", "PA", text("part1", 100), states="F2 CW", what="CLOSE_WAIT side sends")
    c.pkt("c", "A", states="F2 CW", what="FIN_WAIT_2 side acks")
    c.pkt("s", "PA", text("part2", 60), states="F2 CW", what="more data")
    c.pkt("c", "A", states="F2 CW")
    c.pkt("s", "FA", states="TW LA", what="server FIN")
    c.pkt("c", "A", states="TW CL", what="last ACK")
    c.end("fin", history="ShADFadf", conn_state="SF", bytes=(18, 160))
    return sc


def sc_simultaneous_open():
    """Simultaneous open (RFC 793 figure 8): SYN both ways, then SYN+ACK both
    ways; both ESTABLISHED; data both ways; still open at the end."""
    sc = Scenario("simultaneous_open", sc_simultaneous_open.__doc__)
    c = sc.conn(CLI, SRV, 40003, 5000, 3000000, 4000000)
    cisn, sisn = c.nxt("c"), c.nxt("s")
    c.pkt("c", "S", states="SS SR", what="SYN from one end")
    c.pkt("s", "S", states="SR SR", what="SYN from the other end (crossed)")
    c.pkt("c", "SA", seq=cisn, states="SR ES", what="SYN+ACK acking the other's SYN")
    c.pkt("s", "SA", seq=sisn, states="ES ES", what="SYN+ACK the other way")
    c.pkt("c", "PA", text("hello", 10), states="ES ES")
    c.pkt("s", "PA", text("world", 12), states="ES ES")
    c.pkt("c", "A", states="ES ES")
    c.end("exit", history="SsDdA", conn_state="S1", bytes=(10, 12), alt={"history": "SsHhDdA"},
          why=SYNACK_MASK)
    return sc


def sc_split_handshake():
    """Split handshake: SYN; the server answers with a bare SYN; the client
    sends SYN+ACK; the server ACKs; both ESTABLISHED; data; still open."""
    sc = Scenario("split_handshake", sc_split_handshake.__doc__)
    c = sc.conn(CLI, SRV, 40004, 80, 5000000, 6000000)
    cisn = c.nxt("c")
    c.pkt("c", "S", states="SS SR", what="SYN")
    c.pkt("s", "S", states="SR SR", what="server answers with a bare SYN")
    c.pkt("c", "SA", seq=cisn, states="SR ES", what="client SYN+ACK")
    c.pkt("s", "A", states="ES ES", what="server ACK")
    c.pkt("c", "PA", REQ, states="ES ES")
    c.pkt("s", "PA", RESP, states="ES ES")
    c.pkt("c", "A", states="ES ES")
    c.end("exit", history="SsaDdA", conn_state="S1", bytes=(18, 38), alt={"history": "SsHaDdA"},
          why=SYNACK_MASK)
    return sc


def sc_simultaneous_close():
    """Simultaneous close: each FIN sent before the other's arrived (the second
    FIN's ack does not cover the first FIN): both CLOSING, then both
    TIME_WAIT once the ACKs of the FINs cross."""
    sc = Scenario("simultaneous_close", sc_simultaneous_close.__doc__)
    c = sc.conn(CLI, SRV, 40005, 80, 7000000, 8000000)
    handshake(c)
    c.pkt("c", "PA", text("data", 10), states="ES ES")
    c.pkt("s", "A", states="ES ES")
    cfin = c.nxt("c")
    c.pkt("c", "FA", states="F1 CW", what="client FIN")
    c.pkt("s", "FA", ack=cfin, states="CG CG", what="server FIN, ack not covering the client's FIN")
    c.pkt("c", "A", states="CG TW", what="client acks the server's FIN")
    c.pkt("s", "A", states="TW TW", what="server acks the client's FIN")
    c.end("fin", history="ShADaFf", conn_state="SF", bytes=(10, 0))
    return sc


def sc_port_reuse():
    """TIME_WAIT then port reuse: a connection closes (client TIME_WAIT), the
    client opens again on the same ports with a new ISN: two records,
    flows.created 2. The second closes the other way round (server first)."""
    sc = Scenario("port_reuse", sc_port_reuse.__doc__)
    c = sc.conn(CLI, SRV, 40006, 80, 9000000, 1000000)
    handshake(c)
    c.pkt("c", "PA", text("one", 5), states="ES ES")
    c.pkt("s", "PA", text("ONE", 5), states="ES ES")
    close_client_first(c)
    c.end("fin", history="ShADdFf", conn_state="SF", bytes=(5, 5))
    c.new_isn("c", 9100000)
    c.new_isn("s", 2000000)
    c.pkt("c", "S", states="SS SR", new_record=True, what="new SYN on the finished connection")
    c.pkt("s", "SA", states="ES SR")
    c.pkt("c", "A", states="ES ES")
    c.pkt("c", "PA", text("two", 7), states="ES ES")
    c.pkt("s", "PA", text("TWO", 7), states="ES ES")
    c.pkt("s", "FA", states="CW F1", what="server closes first")
    c.pkt("c", "A", states="CW F2")
    c.pkt("c", "FA", states="LA TW")
    c.pkt("s", "A", states="CL TW")
    c.end("fin", history="ShADdfFa", conn_state="SF", bytes=(7, 7))
    return sc


def sc_rst_exact():
    """Abort: after data both ways the client sends RST at exactly its next
    sequence number: both CLOSED, end rst."""
    sc = Scenario("rst_exact", sc_rst_exact.__doc__)
    c = sc.conn(CLI, SRV, 40007, 80, 11000000, 12000000)
    handshake(c)
    c.pkt("c", "PA", text("req", 10), states="ES ES")
    c.pkt("s", "PA", text("resp", 20), states="ES ES")
    c.pkt("c", "A", states="ES ES")
    c.pkt("c", "RA", states="CL CL", what="RST, seq == client's next")
    c.end("rst", history="ShADdR", conn_state="RSTO", bytes=(10, 20))
    return sc


def sc_rst_inexact():
    """RFC 5961 3.2: a RST inside the window but not at the exact next seq is
    not acted on (the host sends a challenge ACK): rst_in_window_inexact, no
    state change; the connection goes on; a later exact RST closes it. Zeek
    records a second 'R' (new RST seq)."""
    sc = Scenario("rst_inexact", sc_rst_inexact.__doc__)
    c = sc.conn(CLI, SRV, 40008, 80, 13000000, 14000000)
    handshake(c)
    c.pkt("c", "PA", text("req", 10), states="ES ES")
    c.pkt("s", "PA", text("resp", 20), states="ES ES")
    c.pkt("c", "A", states="ES ES")
    nxt = c.nxt("c")
    c.pkt("c", "R", seq=nxt + 100, states="ES ES", ev={"rst_in_window_inexact": nxt},
          what="RST 100 past the next seq, inside the window")
    c.pkt("s", "A", states="ES ES", what="challenge ACK")
    c.pkt("c", "PA", text("more", 10), states="ES ES", what="connection goes on")
    c.pkt("s", "A", states="ES ES")
    c.pkt("c", "RA", states="CL CL", what="exact RST")
    c.end("rst", history="ShADdRaR", conn_state="RSTO", bytes=(20, 20))
    return sc


def sc_rst_out_of_window():
    """Blind reset attempts. 1: a RST 2,000,000 past the sender's next seq is
    outside the window: rst_out_of_window, ignored; the connection closes
    gracefully (Zeek still marks the RST: RSTR). 2: a RST answering a SYN
    whose ack is not the client's ISN + 1 is not acceptable either: the
    client stays in SYN_SENT and retransmits its SYN."""
    sc = Scenario("rst_out_of_window", sc_rst_out_of_window.__doc__)
    c = sc.conn(CLI, SRV, 40009, 80, 15000000, 16000000)
    handshake(c)
    c.pkt("c", "PA", text("req", 10), states="ES ES")
    c.pkt("s", "PA", text("resp", 20), states="ES ES")
    c.pkt("c", "A", states="ES ES")
    nxt = c.nxt("s")
    c.pkt("s", "R", seq=nxt + 2000000, states="ES ES", ev={"rst_out_of_window": nxt},
          what="spoofed RST far beyond the window")
    c.pkt("c", "PA", text("more", 10), states="ES ES")
    c.pkt("s", "A", states="ES ES")
    close_client_first(c)
    c.end("fin", history="ShADdraFf", conn_state="RSTR", bytes=(20, 20))
    d = sc.conn(CLI, SRV, 40010, 80, 17000000, 0)
    isn = d.nxt("c")
    d.pkt("c", "S", states="SS SR")
    d.pkt("s", "RA", seq=0, ack=isn + 77, states="SS SR", ev={"rst_out_of_window": isn + 1},
          what="RST answering the SYN, ack != ISN + 1")
    d.pkt("c", "S", seq=isn, states="SS SR", what="SYN retransmitted")
    d.end("exit", history="Sr", conn_state="REJ", bytes=(0, 0))
    return sc


def sc_rej():
    """A SYN refused: the server answers with RST+ACK acknowledging the SYN
    (ack == ISN + 1): both CLOSED, end rst, Zeek's REJ."""
    sc = Scenario("rej", sc_rej.__doc__)
    c = sc.conn(CLI, SRV, 40011, 81, 19000000, 0)
    isn = c.nxt("c")
    c.pkt("c", "S", states="SS SR")
    c.pkt("s", "RA", seq=0, ack=isn + 1, states="CL CL", what="RST+ACK: port closed")
    c.end("rst", history="Sr", conn_state="REJ", bytes=(0, 0))
    return sc


def sc_syn_only():
    """A SYN never answered (sent twice, same ISN): Zeek's S0, still open at
    the end: client SYN_SENT, server SYN_RECEIVED (it received the SYN)."""
    sc = Scenario("syn_only", sc_syn_only.__doc__)
    c = sc.conn(CLI, SRV, 40012, 80, 21000000, 0)
    isn = c.nxt("c")
    c.pkt("c", "S", states="SS SR")
    c.pkt("c", "S", seq=isn, states="SS SR", what="SYN retransmitted")
    c.end("exit", history="S", conn_state="S0", bytes=(0, 0))
    return sc


def sc_lone_synack():
    """A lone SYN+ACK (its SYN missed): its receiver is the originator, the
    history starts with '^'; syn_ack_without_syn."""
    sc = Scenario("lone_synack", sc_lone_synack.__doc__)
    c = sc.conn(CLI, SRV, 40013, 80, 23000000, 24000000)
    c.skip("c", 1)  # the client's SYN took one seq number
    c.pkt("s", "SA", states="ES SR", ev={"syn_ack_without_syn": None}, what="SYN+ACK, SYN not seen")
    c.end("exit", history="^h", conn_state="OTH", bytes=(0, 0))
    return sc


def sc_synack_first():
    """The capture starts at the SYN+ACK; the connection then goes on: '^',
    originator = the SYN+ACK's receiver, orig_isn null (its SYN not seen)."""
    sc = Scenario("synack_first", sc_synack_first.__doc__)
    c = sc.conn(CLI, SRV, 40014, 80, 25000000, 26000000)
    c.skip("c", 1)
    c.pkt("s", "SA", states="ES SR", ev={"syn_ack_without_syn": None}, what="SYN+ACK, SYN not seen")
    c.pkt("c", "A", states="ES ES")
    c.pkt("c", "PA", text("req", 10), states="ES ES")
    c.pkt("s", "PA", text("resp", 10), states="ES ES")
    c.pkt("c", "A", states="ES ES")
    c.end("exit", history="^hADd", conn_state="S1", bytes=(10, 10), alt={"conn_state": "OTH"},
          why="Zeek's code establishes both endpoints on the responder's SYN+ACK, so the "
              "originator's ACK makes S1; the documented OTH is 'no SYN seen, just midstream "
              "traffic', and this connection's SYN was not seen")
    return sc


def sc_midstream():
    """Mid-stream pickup: the first packet has no SYN: both ESTABLISHED,
    midstream_pickup; then a graceful close. ISNs null."""
    sc = Scenario("midstream", sc_midstream.__doc__)
    c = sc.conn(CLI, SRV, 40015, 80, 27000000, 28000000)
    c.skip("c", 5001)
    c.skip("s", 7001)
    c.pkt("c", "PA", text("mid", 10), states="ES ES", ev={"midstream_pickup": None},
          what="first packet seen: data")
    c.pkt("s", "PA", text("MID", 20), states="ES ES")
    c.pkt("c", "A", states="ES ES")
    close_client_first(c)
    c.end("fin", history="DdAFf", conn_state="SF", bytes=(10, 20))
    return sc


def sc_ipv6():
    """The normal session over IPv6."""
    sc = Scenario("ipv6", sc_ipv6.__doc__)
    c = sc.conn(CLI6, SRV6, 40016, 443, 29000000, 30000000, v6=True)
    handshake(c)
    c.pkt("c", "PA", text("hello6", 30), states="ES ES")
    c.pkt("s", "PA", text("world6", 50), states="ES ES")
    c.pkt("c", "A", states="ES ES")
    close_client_first(c)
    c.end("fin", history="ShADdFf", conn_state="SF", bytes=(30, 50))
    return sc


def sc_vlan():
    """The same 5-tuple in an 802.1Q VLAN (100) and in QinQ (outer 200, inner
    300), interleaved: two connections, two records."""
    sc = Scenario("vlan", sc_vlan.__doc__)
    a = sc.conn(CLI, SRV, 40017, 80, 31000000, 32000000, vlans=(100,))
    b = sc.conn(CLI, SRV, 40017, 80, 33000000, 34000000, vlans=(200, 300))
    for c in (a, b):
        c.pkt("c", "S", states="SS SR")
    for c in (a, b):
        c.pkt("s", "SA", states="ES SR")
    for c in (a, b):
        c.pkt("c", "A", states="ES ES")
    for c, n in ((a, 11), (b, 13)):
        c.pkt("c", "PA", text("vlan", n), states="ES ES")
    for c, n in ((a, 21), (b, 23)):
        c.pkt("s", "PA", text("VLAN", n), states="ES ES")
    for c in (a, b):
        c.pkt("c", "FA", states="F1 CW")
    for c in (a, b):
        c.pkt("s", "FA", states="TW LA")
    for c in (a, b):
        c.pkt("c", "A", states="TW CL")
    a.end("fin", history="ShADdFf", conn_state="SF", bytes=(11, 21))
    b.end("fin", history="ShADdFf", conn_state="SF", bytes=(13, 23))
    return sc


def sc_seq_wrap():
    """Sequence numbers wrap through 0 on both sides (ISNs 2^32 - 16 and
    2^32 - 2): nothing is out of window, bytes are counted across the wrap."""
    sc = Scenario("seq_wrap", sc_seq_wrap.__doc__)
    c = sc.conn(CLI, SRV, 40018, 80, M32 - 16, M32 - 2)
    handshake(c)
    c.pkt("c", "PA", text("wrap", 40), states="ES ES", what="crosses seq 0")
    c.pkt("s", "PA", text("WRAP", 30), states="ES ES", what="starts at 2^32 - 1")
    c.pkt("c", "A", states="ES ES")
    close_client_first(c)
    c.end("fin", history="ShADdFf", conn_state="SF", bytes=(40, 30))
    return sc


def sc_retransmit():
    """A plain retransmission (same seq, same bytes) is no anomaly; Zeek's 'T'."""
    sc = Scenario("retransmit", sc_retransmit.__doc__)
    c = sc.conn(CLI, SRV, 40019, 80, 35000000, 36000000)
    handshake(c)
    seq = c.nxt("c")
    data = text("again", 20)
    c.pkt("c", "PA", data, states="ES ES")
    c.pkt("c", "PA", data, seq=seq, states="ES ES", what="retransmitted, same bytes")
    c.pkt("s", "A", states="ES ES")
    close_client_first(c)
    c.end("fin", history="ShADTaFf", conn_state="SF", bytes=(20, 0))
    return sc


def sc_syn_ack_bad_ack():
    """A SYN+ACK whose ack is the ISN, not ISN + 1: syn_ack_bad_ack (expected
    ISN + 1); the client does not take it (stays SYN_SENT); the server's
    retransmitted SYN+ACK is right and the handshake completes."""
    sc = Scenario("syn_ack_bad_ack", sc_syn_ack_bad_ack.__doc__)
    c = sc.conn(CLI, SRV, 40020, 80, 37000000, 38000000)
    isn, sisn = c.nxt("c"), c.nxt("s")
    c.pkt("c", "S", states="SS SR")
    c.pkt("s", "SA", ack=isn, states="SS SR", ev={"syn_ack_bad_ack": isn + 1}, what="ack == ISN")
    c.pkt("s", "SA", seq=sisn, states="ES SR", what="SYN+ACK again, ack == ISN + 1")
    c.pkt("c", "A", states="ES ES")
    c.pkt("c", "PA", text("req", 10), states="ES ES")
    c.pkt("s", "A", states="ES ES")
    c.end("exit", history="ShADa", conn_state="S1", bytes=(10, 0))
    return sc


def sc_handshake_bad_ack():
    """The client's ACK completing the handshake acknowledges the server's ISN,
    not ISN + 1: handshake_bad_ack (expected server ISN + 1); the server stays
    SYN_RECEIVED; the client's next ACK is right and establishes it."""
    sc = Scenario("handshake_bad_ack", sc_handshake_bad_ack.__doc__)
    c = sc.conn(CLI, SRV, 40021, 80, 39000000, 40000000)
    sisn = c.nxt("s")
    c.pkt("c", "S", states="SS SR")
    c.pkt("s", "SA", states="ES SR")
    c.pkt("c", "A", ack=sisn, states="ES SR", ev={"handshake_bad_ack": sisn + 1}, what="ack == server ISN")
    c.pkt("c", "A", states="ES ES", what="ack == server ISN + 1")
    c.pkt("c", "PA", text("req", 10), states="ES ES")
    c.pkt("s", "A", states="ES ES")
    c.end("exit", history="ShADa", conn_state="S1", bytes=(10, 0))
    return sc


def sc_syn_new_isn():
    """The client re-sends its SYN with another ISN while in SYN_SENT:
    syn_new_isn (expected the old ISN); the connection then uses the new one
    (orig_isn). Again on a second connection, after the server's SYN+ACK
    (the server in SYN_RECEIVED)."""
    sc = Scenario("syn_new_isn", sc_syn_new_isn.__doc__)
    c = sc.conn(CLI, SRV, 40022, 80, 41000000, 42000000)
    old = c.nxt("c")
    c.pkt("c", "S", states="SS SR")
    c.new_isn("c", old + 123456)
    c.pkt("c", "S", states="SS SR", ev={"syn_new_isn": old}, what="SYN, new ISN")
    c.pkt("s", "SA", states="ES SR", what="acks the new ISN")
    c.pkt("c", "A", states="ES ES")
    c.pkt("c", "PA", text("req", 10), states="ES ES")
    c.pkt("s", "A", states="ES ES")
    c.end("exit", history="ShADa", conn_state="S1", bytes=(10, 0), alt={"history": "SShADa"},
          why="Zeek re-bases the endpoint on the new ISN (SYN_seq_jump) before comparing, so the "
              "new SYN has relative seq 0 like the first and adds no letter; the documented rule "
              "records 's' again when the seq differs from the last SYN's")
    # The handshake is still open after the SYN+ACK: the server waits in
    # SYN_RECEIVED for the third packet when the client's new SYN comes.
    d = sc.conn(CLI, SRV, 40042, 80, 43000000, 44000000)
    old = d.nxt("c")
    d.pkt("c", "S", states="SS SR")
    d.pkt("s", "SA", states="ES SR")
    d.new_isn("c", old + 654321)
    d.pkt("c", "S", states="ES SR", ev={"syn_new_isn": old}, what="SYN, new ISN, after the SYN+ACK")
    d.end("exit", history="Sh", conn_state="S1", bytes=(0, 0), alt={"history": "ShS"},
          why="as above: Zeek re-bases on the new ISN and adds no letter")
    return sc


def sc_syn_in_established():
    """A SYN with another seq inside an established connection (a blind
    injection trying to reset it, or a confused stack): RFC 5961 section 4
    has the host answer with a challenge ACK and drop it, so nothing moves:
    syn_in_established (expected the sender's next seq), and the genuine
    segments after it are still in the window."""
    sc = Scenario("syn_in_established", sc_syn_in_established.__doc__)
    c = sc.conn(CLI, SRV, 40041, 80, 61000000, 62000000)
    handshake(c)
    c.pkt("c", "PA", text("req", 10), states="ES ES")
    c.pkt("s", "A", states="ES ES")
    nxt = c.nxt("c")
    c.pkt("c", "S", seq=nxt + 5000000, advance=False, states="ES ES", ev={"syn_in_established": nxt},
          ignored=True, what="SYN far from the connection's seq, while established")
    c.pkt("s", "A", states="ES ES", what="challenge ACK")
    c.pkt("c", "PA", text("more", 10), states="ES ES", what="the real client goes on")
    c.pkt("s", "PA", text("resp", 20), states="ES ES")
    c.pkt("c", "FA", states="F1 CW")
    c.pkt("s", "FA", states="TW LA")
    c.pkt("c", "A", states="TW CL")
    c.end("fin", history="ShADaTdFf", conn_state="SF", bytes=(20, 20), alt={"history": "ShADaSdFf"},
          why="Zeek's model counts the next in-order data as a retransmission after the stray SYN "
              "moved its last seq; the documented rule records the SYN letter again (another seq) "
              "and no retransmission")
    return sc


SYN_DATA_QUIRK = ("Zeek initialises last_seq past a SYN's payload, then sees delta_last 0 with "
                  "payload and counts the SYN or SYN+ACK carrying data as a retransmission "
                  "('T'/'t'); by the documented meaning ('packet with retransmitted payload') it "
                  "is not: the bytes on a SYN are sent for the first time")


def sc_syn_with_data():
    """Payload on a SYN (the server acks only the SYN; the client sends the
    bytes again after the handshake) and, in a second connection, payload on
    a SYN+ACK (the client acks it): syn_with_data in each."""
    sc = Scenario("syn_with_data", sc_syn_with_data.__doc__)
    c = sc.conn(CLI, SRV, 40023, 80, 43000000, 44000000)
    isn = c.nxt("c")
    early = text("early", 8)
    c.pkt("c", "S", early, states="SS SR", ev={"syn_with_data": None}, what="SYN with 8 bytes")
    c.pkt("s", "SA", ack=isn + 1, states="ES SR", what="acks the SYN only")
    c.pkt("c", "A", seq=isn + 1, states="ES ES")
    c.pkt("c", "PA", early, seq=isn + 1, states="ES ES", what="the 8 bytes again")
    c.pkt("s", "A", states="ES ES")
    c.end("exit", history="SThADa", conn_state="S1", bytes=(8, 0), alt={"history": "ShADTa"},
          why=SYN_DATA_QUIRK)
    d = sc.conn(CLI, SRV, 40024, 80, 45000000, 46000000)
    d.pkt("c", "S", states="SS SR")
    d.pkt("s", "SA", text("hi", 6), states="ES SR", ev={"syn_with_data": None}, what="SYN+ACK with 6 bytes")
    d.pkt("c", "A", states="ES ES", what="acks them")
    d.pkt("c", "PA", text("req", 10), states="ES ES")
    d.pkt("s", "A", states="ES ES")
    d.end("exit", history="ShtADa", conn_state="S1", bytes=(10, 6), alt={"history": "ShADa"},
          why=SYN_DATA_QUIRK)
    return sc


def sc_data_before_established():
    """Client data before any SYN+ACK (PSH, no ACK, in SYN_SENT), and in a
    second connection server data before the client's ACK (SYN_RECEIVED):
    data_before_established in each."""
    sc = Scenario("data_before_established", sc_data_before_established.__doc__)
    c = sc.conn(CLI, SRV, 40025, 80, 47000000, 48000000)
    isn = c.nxt("c")
    data = text("eager", 10)
    c.pkt("c", "S", states="SS SR")
    c.pkt("c", "P", data, states="SS SR", ev={"data_before_established": None},
          what="data before the SYN+ACK")
    c.pkt("s", "SA", ack=isn + 1, states="ES SR")
    c.pkt("c", "PA", data, seq=isn + 1, states="ES ES", what="the data again, with the ACK")
    c.pkt("s", "A", states="ES ES")
    c.end("exit", history="SDhTa", conn_state="S1", bytes=(10, 0))
    d = sc.conn(CLI, SRV, 40026, 80, 49000000, 50000000)
    d.pkt("c", "S", states="SS SR")
    d.pkt("s", "SA", states="ES SR")
    d.pkt("s", "PA", text("banner", 10), states="ES SR", ev={"data_before_established": None},
          what="server data before the client's ACK")
    d.pkt("c", "A", states="ES ES", what="client ACK (covers the data)")
    d.end("exit", history="ShdA", conn_state="S1", bytes=(0, 10))
    return sc


def sc_invalid_flags():
    """Inside an established connection the client sends SYN+FIN, SYN+RST, a
    segment with no flags, FIN+PSH+URG (XMAS), a FIN without ACK and a
    FIN+RST without ACK: invalid_flags each time (6 occurrences, one event);
    no RFC state moves; the connection then closes normally. (Zeek acts on
    their FIN/RST bits.)"""
    sc = Scenario("invalid_flags", sc_invalid_flags.__doc__)
    c = sc.conn(CLI, SRV, 40027, 80, 51000000, 52000000)
    handshake(c)
    c.pkt("c", "PA", text("req", 10), states="ES ES")
    c.pkt("s", "A", states="ES ES")
    nxt = c.nxt("c")
    for flags, what in (("SF", "SYN+FIN"), ("SR", "SYN+RST"), ("", "no flags (NULL)"),
                        ("FPU", "FIN+PSH+URG (XMAS)"), ("F", "FIN without ACK"),
                        ("FR", "FIN+RST without ACK")):
        c.pkt("c", flags, seq=nxt, advance=False, ignored=True, states="ES ES",
              ev={"invalid_flags": None}, what=what)
    c.pkt("s", "PA", text("resp", 10), states="ES ES")
    c.pkt("c", "A", states="ES ES")
    close_client_first(c)
    c.end("fin", history="ShADaQFIdf", conn_state="SF", bytes=(10, 10))
    return sc


OOW_QUIRK = ("Zeek moves last_seq to the end of the out-of-window segment, so the next in-order "
             "segment looks like a retransmission ('T'); by the documented meaning it is not: its "
             "bytes were never sent before")
SYNACK_MASK = ("Zeek's code records SYN and SYN+ACK under one history bit and adds the letter again "
               "only for a new seq, so a SYN+ACK repeating the endpoint's own SYN seq adds no 'H'; "
               "the documented rule ('f', 'h', 'r' and 's' are recorded again when the seq differs "
               "from the last packet of the same flag type) records the first SYN+ACK as 'H'")


def sc_seq_out_of_window():
    """seq_out_of_window, no window scaling: 1: a segment starting 20,000
    bytes past what the server's ack + window (8760) allows; 2: a segment
    ending 100,000 bytes before the client's next seq (more than the
    receiver's largest window). Each ignored; both connections close normally."""
    sc = Scenario("seq_out_of_window", sc_seq_out_of_window.__doc__)
    c = sc.conn(CLI, SRV, 40028, 80, 53000000, 54000000)
    handshake(c)
    c.pkt("c", "PA", text("req", 10), states="ES ES")
    c.pkt("s", "A", states="ES ES")
    c.pkt("c", "PA", text("far", 10), seq=c.nxt("c") + 20000, advance=False, ignored=True,
          states="ES ES", ev={"seq_out_of_window": None}, what="beyond the window")
    c.pkt("c", "PA", text("next", 10), states="ES ES")
    c.pkt("s", "A", states="ES ES")
    close_client_first(c)
    c.end("fin", history="ShADaTFf", conn_state="SF", bytes=(20, 0), alt={"history": "ShADaFf"},
          why=OOW_QUIRK)
    d = sc.conn(CLI, SRV, 40029, 80, 55000000, 56000000)
    handshake(d)
    d.pkt("c", "PA", text("req", 10), states="ES ES")
    d.pkt("s", "A", states="ES ES")
    d.pkt("c", "PA", text("old", 10), seq=d.nxt("c") - 100000, advance=False, ignored=True,
          states="ES ES", ev={"seq_out_of_window": None}, what="entirely before the window")
    close_client_first(d)
    d.end("fin", history="ShADaTFf", conn_state="SF", bytes=(10, 0))
    return sc


def sc_window_scale():
    """Window scaling (RFC 7323). 1: both SYNs offer shift 7; the server's
    later raw window 30 means 3840: three 1000-byte segments in a row are in
    the window (no anomaly). 2: same, but the client sends before any
    non-SYN server segment: the SYN+ACK's window (30) is never scaled, so the
    second 1000-byte segment is out of window. 3: only the server offers the
    option: no scaling, raw 30 means 30: the second segment is out of window."""
    sc = Scenario("window_scale", sc_window_scale.__doc__)
    ws = [("MSS", 1460), ("WScale", 7)]
    blk = [text("blk%d" % i, 1000) for i in range(3)]
    c = sc.conn(CLI, SRV, 40030, 80, 57000000, 58000000, win=(65535, 30))
    c.pkt("c", "S", opts=ws, states="SS SR", what="SYN, wscale 7")
    c.pkt("s", "SA", opts=ws, states="ES SR", what="SYN+ACK, wscale 7, window 30 (unscaled)")
    c.pkt("c", "A", win=512, states="ES ES")
    c.pkt("s", "PA", text("banner", 20), states="ES ES", what="window 30 << 7 = 3840")
    for i in range(3):
        c.pkt("c", "PA", blk[i], win=512, states="ES ES", what="1000 bytes, in the scaled window")
    c.pkt("s", "A", states="ES ES")
    c.pkt("c", "FA", win=512, states="F1 CW")
    c.pkt("s", "FA", states="TW LA")
    c.pkt("c", "A", win=512, states="TW CL")
    c.end("fin", history="ShAdDaFf", conn_state="SF", bytes=(3000, 20))
    d = sc.conn(CLI, SRV, 40031, 80, 59000000, 60000000, win=(65535, 30))
    d.pkt("c", "S", opts=ws, states="SS SR")
    d.pkt("s", "SA", opts=ws, states="ES SR", what="window 30, unscaled on a SYN")
    d.pkt("c", "A", win=512, states="ES ES")
    d.pkt("c", "PA", blk[0], win=512, states="ES ES", what="starts inside the 30 bytes")
    d.pkt("c", "PA", blk[1], win=512, advance=False, ignored=True, states="ES ES",
          ev={"seq_out_of_window": None}, what="starts 1000 past the ack: beyond 30")
    d.pkt("s", "A", states="ES ES")
    d.end("exit", history="ShADa", conn_state="S1", bytes=(1000, 0))
    e = sc.conn(CLI, SRV, 40032, 80, 61000000, 62000000, win=(8192, 30))
    e.pkt("c", "S", states="SS SR", what="SYN without wscale")
    e.pkt("s", "SA", opts=ws, states="ES SR", what="SYN+ACK with wscale 7: not negotiated")
    e.pkt("c", "A", states="ES ES")
    e.pkt("s", "PA", text("banner", 20), states="ES ES", what="window 30, not scaled")
    e.pkt("c", "PA", blk[0], states="ES ES")
    e.pkt("c", "PA", blk[1], advance=False, ignored=True, states="ES ES",
          ev={"seq_out_of_window": None}, what="beyond 30")
    e.end("exit", history="ShAdD", conn_state="S1", bytes=(1000, 20))
    return sc


def sc_ack_unseen_data():
    """The server acknowledges 500 bytes the client was never seen sending:
    ack_unseen_data (expected = the client's next seq); Zeek notes a content
    gap ('G') and counts the bytes; the client goes on after them."""
    sc = Scenario("ack_unseen_data", sc_ack_unseen_data.__doc__)
    c = sc.conn(CLI, SRV, 40033, 80, 63000000, 64000000)
    handshake(c)
    c.pkt("c", "PA", text("req", 10), states="ES ES")
    seen = c.nxt("c")
    c.skip("c", 500)
    c.pkt("s", "A", states="ES ES", ev={"ack_unseen_data": seen}, what="acks 500 unseen bytes")
    c.pkt("c", "PA", text("after", 10), states="ES ES", what="client goes on after them")
    c.pkt("s", "A", states="ES ES")
    close_client_first(c)
    c.end("fin", history="ShADaGFf", conn_state="SF", bytes=(520, 0))
    return sc


def sc_ack_out_of_window():
    """The client advertises a 1000-byte window; the server sends 3 segments
    of 900 bytes, each acknowledged. Then a client segment with data acks
    only the server's ISN + 1, 2700 bytes back (more than the client's
    largest window, 1000): RFC 5961 section 5 has the server drop it
    (ack_out_of_window, expected the lowest acceptable ack), so its bytes
    are not the client's; the client then sends them with a good ack."""
    sc = Scenario("ack_out_of_window", sc_ack_out_of_window.__doc__)
    c = sc.conn(CLI, SRV, 40043, 80, 65000000, 66000000, win=(1000, 8760))
    handshake(c)
    first = c.nxt("s")
    for i in range(3):
        c.pkt("s", "PA", text("resp%d" % i, 900), states="ES ES")
        c.pkt("c", "A", states="ES ES")
    acked = c.nxt("s")
    seq = c.nxt("c")
    c.pkt("c", "PA", text("stale", 10), ack=first, advance=False, ignored=True, states="ES ES",
          ev={"ack_out_of_window": acked - 1000}, what="data with an ack 2700 bytes old")
    c.pkt("c", "PA", text("fresh", 10), seq=seq, states="ES ES", what="the same seq, a good ack")
    c.pkt("s", "A", states="ES ES")
    close_client_first(c)
    c.end("fin", history="ShAdDTaFf", conn_state="SF", bytes=(10, 2700), alt={"history": "ShAdDaFf"},
          why="Zeek's model takes the dropped segment's bytes as sent, so the good one repeats them "
              "('T'); by the documented meaning they were never taken: no retransmission")
    return sc


def sc_tcp_bad_checksum():
    """Segments whose TCP checksum is wrong, which their receiver drops
    unread: the client's "USER mallory" at the seq its next good segment
    ("USER alice") then takes (no retransmit_different_data: the first was
    never taken), and the server's RST at the exact next seq (the connection
    lives on and closes with FINs). tcp_bad_checksum, once per flow; Zeek's
    history letters C and c."""
    sc = Scenario("tcp_bad_checksum", sc_tcp_bad_checksum.__doc__)
    c = sc.conn(CLI, SRV, 40044, 21, 71000000, 72000000)
    handshake(c)
    c.pkt("c", "PA", b"USER mallory\r\n", bad_csum=True, states="ES ES",
          ev={"tcp_bad_checksum": None}, what="data, checksum wrong")
    c.pkt("c", "PA", b"USER alice\r\n", states="ES ES", what="other data at the same seq")
    c.pkt("s", "A", states="ES ES")
    c.pkt("s", "RA", bad_csum=True, states="ES ES", ev={"tcp_bad_checksum": None},
          what="an exact RST, checksum wrong")
    c.pkt("s", "PA", b"331 Password required\r\n", states="ES ES")
    c.pkt("c", "A", states="ES ES")
    close_client_first(c)
    c.end("fin", history="ShACDacdFf", conn_state="SF", bytes=(12, 23))
    return sc


def sc_urgent_data():
    """Urgent data: the client's "VRFXY root" with URG and an urgent pointer
    of 4, which a host reading out of band (the sockets' default) takes as
    "VRFY root" plus the out-of-band X, while a monitor scanning the stream
    inline sees "VRFXY". urgent_data, once per flow (its detail: the
    pointer); a URG segment without data (the pointer alone) raises none."""
    sc = Scenario("urgent_data", sc_urgent_data.__doc__)
    c = sc.conn(CLI, SRV, 40045, 25, 73000000, 74000000)
    handshake(c)
    c.pkt("c", "PAU", b"VRFXY root\r\n", urgptr=4, states="ES ES",
          ev={"urgent_data": None}, what="data with URG, urgent pointer 4")
    c.pkt("s", "A", states="ES ES")
    c.pkt("s", "AU", urgptr=1, states="ES ES", what="URG without data")
    c.pkt("c", "PAU", b"ABOR\r\n", urgptr=1, states="ES ES", ev={"urgent_data": None},
          what="URG again: counted, no second event")
    c.pkt("s", "A", states="ES ES")
    close_client_first(c)
    c.end("fin", history="ShADaFf", conn_state="SF", bytes=(18, 0))
    return sc


LONGER_REXMIT = ("Zeek's code counts a retransmission only when the segment does not reach past the "
                 "highest seq seen (delta_last <= 0), and this one does; by the documented meaning "
                 "('packet with retransmitted payload') it is one: its first 10 bytes are re-sent")


def sc_retransmit_different_data():
    """A segment re-sent at the same seq with other bytes: 1: same length;
    2: the first copy is shorter (10 bytes), the second longer (20) and its
    first 10 bytes differ; 3: a jumbo frame of 8000 payload bytes (chained
    mbufs) whose byte 6000 differs."""
    sc = Scenario("retransmit_different_data", sc_retransmit_different_data.__doc__)
    c = sc.conn(CLI, SRV, 40034, 80, 65000000, 66000000)
    handshake(c)
    seq = c.nxt("c")
    c.pkt("c", "PA", b"GET /index.html HTTP", states="ES ES")
    c.pkt("c", "PA", b"GET /evil.cgi?x HTTP", seq=seq, states="ES ES",
          ev={"retransmit_different_data": None}, what="same seq, same length, other bytes")
    c.pkt("s", "A", states="ES ES")
    close_client_first(c)
    c.end("fin", history="ShADTaFf", conn_state="SF", bytes=(20, 0))
    d = sc.conn(CLI, SRV, 40035, 80, 67000000, 68000000)
    handshake(d)
    seq = d.nxt("c")
    d.pkt("c", "PA", b"USER alice", states="ES ES")
    d.pkt("c", "PA", b"USER mallory\r\nPASS x", seq=seq, states="ES ES",
          ev={"retransmit_different_data": None}, what="same seq, longer, first 10 bytes differ")
    d.pkt("s", "A", states="ES ES")
    close_client_first(d)
    d.end("fin", history="ShADaFf", conn_state="SF", bytes=(20, 0), alt={"history": "ShADTaFf"},
          why=LONGER_REXMIT)
    # A jumbo frame (longer than an mbuf: it arrives in chained mbufs) re-sent
    # with one byte changed far past its first mbuf: the check compares the
    # whole segment, not the part in the first mbuf.
    e = sc.conn(CLI, SRV, 40036, 80, 69000000, 70000000)
    handshake(e)
    seq = e.nxt("c")
    body = text("JUMBO", 8000)
    e.pkt("c", "PA", body, states="ES ES")
    e.pkt("c", "PA", body[:6000] + b"#" + body[6001:], seq=seq, states="ES ES",
          ev={"retransmit_different_data": None}, what="8000 bytes re-sent, byte 6000 differs")
    e.pkt("s", "A", states="ES ES")
    close_client_first(e)
    e.end("fin", history="ShADTaFf", conn_state="SF", bytes=(8000, 0))
    return sc


def sc_ttl_change():
    """The client's TTL (64) changes to 50 on one segment and back: ttl_change
    twice (one event); the server's own TTL (52) differs from the client's,
    which is normal."""
    sc = Scenario("ttl_change", sc_ttl_change.__doc__)
    c = sc.conn(CLI, SRV, 40036, 80, 69000000, 70000000, ttl=(64, 52))
    handshake(c)
    c.pkt("c", "PA", text("one", 10), states="ES ES")
    c.pkt("s", "PA", text("ONE", 10), states="ES ES")
    c.pkt("c", "PA", text("two", 10), ttl=50, states="ES ES", ev={"ttl_change": None}, what="TTL 64 -> 50")
    c.pkt("s", "A", states="ES ES")
    c.pkt("c", "PA", text("three", 10), states="ES ES", ev={"ttl_change": None}, what="TTL 50 -> 64")
    c.pkt("s", "A", states="ES ES")
    close_client_first(c)
    c.end("fin", history="ShADdaFf", conn_state="SF", bytes=(30, 10))
    return sc


def sc_packet_after_close():
    """1: after an acceptable RST the server still sends data (a non-SYN,
    non-RST packet): packet_after_close; the client answers with a RST (not
    an anomaly). 2: after both FINs and the last ACK, a duplicate of the last
    ACK (not an anomaly), then a segment carrying new data: packet_after_close."""
    sc = Scenario("packet_after_close", sc_packet_after_close.__doc__)
    c = sc.conn(CLI, SRV, 40037, 80, 71000000, 72000000)
    handshake(c)
    c.pkt("c", "PA", text("req", 10), states="ES ES")
    c.pkt("s", "A", states="ES ES")
    c.pkt("c", "RA", states="CL CL", what="exact RST")
    c.pkt("s", "PA", text("late", 10), states="CL CL", ev={"packet_after_close": None},
          what="server data after the RST")
    c.pkt("c", "R", states="CL CL", what="RST again (seq = that segment's ack)")
    c.end("rst", history="ShADaRd", conn_state="RSTO", bytes=(10, 10))
    d = sc.conn(CLI, SRV, 40038, 80, 73000000, 74000000)
    handshake(d)
    d.pkt("c", "PA", text("req", 10), states="ES ES")
    d.pkt("s", "A", states="ES ES")
    close_client_first(d)
    last = d.nxt("c")
    d.pkt("c", "A", seq=last, states="TW CL", what="duplicate last ACK")
    d.pkt("c", "PA", text("new", 10), states="TW CL", ev={"packet_after_close": None},
          what="new data after the close")
    d.end("fin", history="ShADaFf", conn_state="SF", bytes=(20, 0))
    return sc


def isn_series(name, doc, server_isns, rng):
    sc = Scenario(name, doc)
    for i, sisn in enumerate(server_isns):
        c = sc.conn(CLI, SRV, 50000 + i, 80, rng.getrandbits(32), sisn)
        handshake(c)
        close_client_first(c)
        c.end("fin", history="ShAFf", conn_state="SF", bytes=(0, 0))
    return sc


def sc_isn_predictable():
    """One server, 8 connections whose SYN+ACK ISNs step by +64000 each (an
    old Berkeley stack): one isn_predictable event, dst = the server. The
    flow records themselves carry no anomaly."""
    rng = random.Random(8)
    sc = isn_series("isn_predictable", sc_isn_predictable.__doc__,
                    [1000000 + 64000 * i for i in range(8)], rng)
    synacks = [st["frame"] for st in sc.steps if st["flags"] == "SA"]
    sc.cross.append({"event": "isn_predictable", "dst": SRV, "dport": 80, "frame": synacks[-1]})
    return sc


def sc_isn_random():
    """The same 8 connections with random server ISNs: no isn_predictable."""
    rng = random.Random(9)
    return isn_series("isn_random", sc_isn_random.__doc__,
                      [rng.getrandbits(32) for _ in range(8)], rng)


def syn_series(name, doc, n, seed):
    sc = Scenario(name, doc)
    rng = random.Random(seed)
    for i in range(n):
        c = sc.conn("203.0.113.%d" % (i + 1), SRV, rng.randrange(1024, 65536), 80,
                    rng.getrandbits(32), 0)
        c.pkt("c", "S", states="SS SR", what="half-open SYN %d" % (i + 1))
        c.end("exit", history="S", conn_state="S0", bytes=(0, 0))
    return sc


def sc_syn_flood():
    """60 SYNs from 60 addresses to one server within 60 ms, never answered
    (detect.syn_flood_rate=50): one syn_flood event, dst = the server; 60 S0
    records."""
    sc = syn_series("syn_flood", sc_syn_flood.__doc__, 60, 60)
    sc.cross.append({"event": "syn_flood", "dst": SRV, "dport": 80, "frame": 51})
    return sc


def sc_syn_below_flood():
    """40 SYNs to one server within 40 ms (rate 50): no syn_flood."""
    return syn_series("syn_below_flood", sc_syn_below_flood.__doc__, 40, 40)


def sc_every_occurrence():
    """For --set events.every_occurrence=yes: one connection with two TTL
    changes, three invalid-flag segments (NULL, XMAS, FIN without ACK) and
    two retransmissions with other bytes: 3 events by default, 7 with every
    occurrence; the counters count 2, 3 and 2 either way."""
    sc = Scenario("every_occurrence", sc_every_occurrence.__doc__, every_occurrence=True)
    c = sc.conn(CLI, SRV, 40039, 80, 75000000, 76000000)
    handshake(c)
    s1 = c.nxt("c")
    c.pkt("c", "PA", text("aaaa", 10), states="ES ES")
    c.pkt("s", "A", states="ES ES")
    c.pkt("c", "PA", text("bbbb", 10), ttl=40, states="ES ES", ev={"ttl_change": None}, what="TTL 64 -> 40")
    c.pkt("s", "A", states="ES ES")
    s3 = c.nxt("c")
    c.pkt("c", "PA", text("cccc", 10), states="ES ES", ev={"ttl_change": None}, what="TTL 40 -> 64")
    c.pkt("s", "A", states="ES ES")
    nxt = c.nxt("c")
    for flags, what in (("", "NULL"), ("FPU", "XMAS"), ("F", "FIN without ACK")):
        c.pkt("c", flags, seq=nxt, advance=False, ignored=True, states="ES ES",
              ev={"invalid_flags": None}, what=what)
    c.pkt("c", "PA", text("CCCC", 10), seq=s3, states="ES ES", ev={"retransmit_different_data": None},
          what="third segment again, other bytes")
    c.pkt("c", "PA", text("AAAA", 10), seq=s1, states="ES ES", ev={"retransmit_different_data": None},
          what="first segment again, other bytes")
    c.pkt("s", "A", states="ES ES")
    close_client_first(c)
    c.end("fin", history="ShADaFTf", conn_state="SF", bytes=(30, 0))
    return sc


SCENARIOS = [
    sc_normal, sc_half_close, sc_simultaneous_open, sc_split_handshake, sc_simultaneous_close,
    sc_port_reuse, sc_rst_exact, sc_rst_inexact, sc_rst_out_of_window, sc_rej, sc_syn_only,
    sc_lone_synack, sc_synack_first, sc_midstream, sc_ipv6, sc_vlan, sc_seq_wrap, sc_retransmit,
    sc_syn_ack_bad_ack, sc_handshake_bad_ack, sc_syn_new_isn, sc_syn_with_data,
    sc_data_before_established, sc_invalid_flags, sc_seq_out_of_window, sc_window_scale,
    sc_ack_unseen_data, sc_retransmit_different_data, sc_ttl_change, sc_packet_after_close,
    sc_isn_predictable, sc_isn_random, sc_syn_flood, sc_syn_below_flood, sc_every_occurrence,
    sc_syn_in_established, sc_ack_out_of_window, sc_tcp_bad_checksum, sc_urgent_data,
]


def names():
    return [f.__name__[3:] for f in SCENARIOS]


def default_outdir():
    return os.path.join(ftgen.SRC_ROOT, "tests", "data", "tcp")


def build_all(outdir, only=None):
    """Write every scenario (or those in only) to outdir; returns the paths."""
    os.makedirs(outdir, exist_ok=True)
    out = []
    for f in SCENARIOS:
        if only and f.__name__[3:] not in only:
            continue
        out.extend(f().write(outdir))
    return out


def main(argv):
    args = argv[1:]
    only = None
    if "--only" in args:
        i = args.index("--only")
        only = set(args[i + 1].split(","))
        del args[i:i + 2]
        unknown = only - set(names())
        if unknown:
            print("gen_tcp.py: unknown scenario(s): %s" % ", ".join(sorted(unknown)), file=sys.stderr)
            return 2
    outdir = args[0] if args else default_outdir()
    for p in build_all(outdir, only):
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
