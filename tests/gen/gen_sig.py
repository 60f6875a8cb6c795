#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Captures for payload signatures (config/signatures.rules, the default set).

One capture per scenario, tests/data/sig/NAME.pcap with NAME.json: the
signature_match events flowtap must emit with the default rules (sig_id, msg,
connection, dir, seq, ts; seq absent for a match found when the streams
close), the same with signatures.every_match = yes, and the signatures.*
counters: flows (connections with a named port that sent payload), bytes
(each direction's distinct payload bytes, counted from the frames, plus the
bytes scanned again after a receiver refused them), matches, gaps, ooo_held,
rescanned (receivers that refused bytes already scanned), by_rule.

Scenarios:
  in_segment      SMTP (port 25): "VRFY root" in one segment
  across_segments "VR" + "FY root": the match needs both segments
  out_of_order    "FY root" arrives before "VR": held, matched when the gap fills
  retransmission  "VRFY root" sent twice: matched and scanned once (every_match too)
  unnamed_port    the same session on port 2525: no stream, no match
  gap             "FY" never arrives: VRFY cannot match; EXPN after the hole is
                  found when the streams close at exit (gap given up)
  repeat          VRFY twice from the client, once in the server's HELP text:
                  one event by default, two with every_match
  jumbo           frames longer than an mbuf (chained): VRFY across two of a
                  9000-byte frame's mbufs, EXPN near the end of a 60000-byte one
  insertion       "VRFX root" in a segment the server drops (no flags), then
                  "VRFY root" at the same seq: the real bytes are the ones scanned;
                  likewise "EXPX staff" in a segment whose TCP checksum is
                  wrong, then "EXPN staff"
  syn_data        "VRFX root" on a SYN without a Fast Open cookie (the server
                  drops it), then "VRFY root" at ISN + 1: matched; "VRFY bob"
                  on a SYN with a cookie (the server takes it): matched;
                  "VRFX root" on a SYN whose cookie the server refuses (its
                  SYN+ACK acks the SYN alone), then "VRFY root": matched
  sessions        several connections: SMTP submission (587), FTP (USER root,
                  SITE EXEC), HTTP traversal (80, URL-encoded), cmd.exe over
                  IPv6 (8080) and Telnet (23), an unnamed port (22) carrying VRFY

Usage: gen_sig.py [OUTDIR]   (default tests/data/sig)
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftgen  # noqa: E402

T0 = ftgen.T0
RULES = {  # id: message, as config/signatures.rules has them
    1001: "SMTP VRFY: user name probe",
    1002: "SMTP EXPN: mailing list expansion probe",
    1003: "SMTP DEBUG/WIZ: sendmail back door command",
    1010: "FTP login as root",
    1011: "FTP SITE EXEC: command execution",
    1020: "HTTP traversal to /etc/passwd",
    1021: "cmd.exe in Telnet or HTTP",
}
NAMED_PORTS = {25, 587, 21, 80, 8080, 23}


def ts(frame_no):
    """Capture time of 1-based frame frame_no, as flowtap writes it."""
    i = frame_no - 1
    return "%d.%06d" % (T0 + i // 1000, (i % 1000) * 1000)


class Scenario:
    """A capture of TCP connections whose payload bytes are tracked per
    direction, with the events expected from the default rules."""

    def __init__(self, name):
        self.cap = ftgen.Capture(name)
        self.conns = []
        self.events = []        # default: once per connection per rule
        self.events_every = []  # signatures.every_match = yes
        self.other_events = []  # names of the other events flowtap must emit

    def conn(self, cli, srv, cport, sport, cisn=1000, sisn=5000, v6=False, syn_opts=None):
        c = Conn(self, cli, srv, cport, sport, cisn, sisn, v6, syn_opts)
        self.conns.append(c)
        return c

    def truth(self):
        flows = sum(1 for c in self.conns if c.named() and (c.bytes["c"] or c.bytes["s"]))
        scanned = sum(len(c.bytes["c"]) + len(c.bytes["s"]) + c.rescanned_bytes
                      for c in self.conns if c.named())
        by_rule = {str(i): 0 for i in RULES}
        for e in self.events:
            by_rule[str(e["sig_id"])] += 1
        by_rule_every = {str(i): 0 for i in RULES}
        for e in self.events_every:
            by_rule_every[str(e["sig_id"])] += 1
        gaps = sum(c.gaps for c in self.conns)
        held = sum(c.held for c in self.conns)
        rescanned = sum(c.rescans for c in self.conns)
        self.cap.extra = {
            "generator": "tests/gen/gen_sig.py",
            "tcp_flows": len(self.conns),
            "rules": "config/signatures.rules",
            "events": self.events,
            "events_every_match": self.events_every,
            "other_events": sorted(self.other_events),
            "signatures": {"rules": len(RULES), "flows": flows, "bytes": scanned,
                           "matches": len(self.events), "streams_full": 0, "gaps": gaps,
                           "ooo_held": held, "rescanned": rescanned, "by_rule": by_rule},
            "signatures_every_match": {"matches": len(self.events_every), "by_rule": by_rule_every},
        }
        return self.cap


class Conn:
    def __init__(self, sc, cli, srv, cport, sport, cisn, sisn, v6, syn_opts=None):
        self.sc = sc
        self.t = ftgen.Tcp(cli, srv, cport, sport, cisn, sisn, v6=v6, syn_opts=syn_opts)
        self.addr = {"c": (cli, cport), "s": (srv, sport)}
        self.bytes = {"c": set(), "s": set()}  # absolute seqs of payload bytes seen
        self.gaps = 0
        self.held = 0
        self.rescans = 0          # times a receiver refused bytes already scanned
        self.rescanned_bytes = 0  # bytes scanned again after that
        self.last_frame = 0

    def named(self):
        return self.addr["c"][1] in NAMED_PORTS or self.addr["s"][1] in NAMED_PORTS

    def send(self, side, flags, payload=b"", seq=None, what="", bad_csum=False):
        """One segment (bad_csum: its TCP checksum wrong); returns its 1-based frame number."""
        me = self.t.ep[side]
        s = me["nxt"] if seq is None else seq
        frame = self.t.build(side, flags, payload, seq=seq)
        n = self.sc.cap.add(ftgen.with_bad_tcp_csum(frame) if bad_csum else frame, "tcp", what)
        for k in range(len(payload)):
            self.bytes[side].add((s + ("S" in flags) + k) & 0xFFFFFFFF)
        self.last_frame = n
        return n

    def skip_to(self, side, seq):
        """The sender's next byte is seq (what was skipped was sent out of
        order, or never captured; or, back, a segment the receiver dropped
        moved it on); the peer acknowledges up to it."""
        other = "s" if side == "c" else "c"
        self.t.ep[side]["nxt"] = seq
        self.t.ack_of[other] = seq

    def open(self):
        self.send("c", "S", what="SYN")
        self.send("s", "SA", what="SYN ACK")
        self.send("c", "A", what="ACK")

    def close(self):
        self.send("c", "FA", what="client FIN")
        self.send("s", "FA", what="server FIN")
        self.send("c", "A", what="client acks the FIN")

    def expect(self, side, sig_id, frame, seq, every_only=False, default_only=False):
        """A match of rule sig_id in side's stream, found on frame (its seq),
        or when the streams close (seq None: ts is the connection's last
        packet, filled in by finish())."""
        cli, srv = self.addr["c"], self.addr["s"]
        e = {"sig_id": sig_id, "msg": RULES[sig_id], "src": cli[0], "sport": cli[1],
             "dst": srv[0], "dport": srv[1], "dir": "orig" if side == "c" else "resp",
             "frame": frame, "seq": seq}
        if not every_only:
            self.sc.events.append(e)
        if not default_only:
            self.sc.events_every.append(dict(e))
        return e

    def finish(self):
        """Close-time matches happen at the connection's last packet."""
        for lst in (self.sc.events, self.sc.events_every):
            for e in lst:
                if e["frame"] is None and (e["src"], e["sport"]) == self.addr["c"]:
                    e["frame"] = self.last_frame
        for lst in (self.sc.events, self.sc.events_every):
            for e in lst:
                e["ts"] = ts(e["frame"])


CLI, SRV = "192.168.1.10", "192.168.1.20"
BANNER = b"220 mail.example.com ESMTP ready\r\n"


def smtp(name, sport=25, **kw):
    sc = Scenario(name)
    c = sc.conn(CLI, SRV, 1042, sport)
    c.open()
    c.send("s", "PA", BANNER, what="banner")
    return sc, c


def in_segment(port=25, name="in_segment"):
    sc, c = smtp(name, port)
    f = c.send("c", "PA", b"VRFY root\r\n", what="VRFY in one segment")
    c.send("s", "PA", b"252 2.5.2 Cannot VRFY user\r\n", what="reply")
    if port in NAMED_PORTS:
        c.expect("c", 1001, f, 1001)
    c.close()
    return sc


def across_segments():
    sc, c = smtp("across_segments")
    c.send("c", "PA", b"VR", what="VR")
    f = c.send("c", "PA", b"FY root\r\n", what="FY root: completes VRFY")
    c.send("s", "PA", b"252 2.5.2 Cannot VRFY user\r\n", what="reply")
    c.expect("c", 1001, f, 1003)
    c.close()
    return sc


def out_of_order():
    sc, c = smtp("out_of_order")
    c.send("c", "PA", b"FY root\r\n", seq=1003, what="second segment first: held")
    f = c.send("c", "PA", b"VR", seq=1001, what="first segment: fills the gap")
    c.skip_to("c", 1012)
    c.held += 1
    c.send("s", "PA", b"252 2.5.2 Cannot VRFY user\r\n", what="reply")
    c.expect("c", 1001, f, 1001)
    c.close()
    return sc


def retransmission():
    sc, c = smtp("retransmission")
    f = c.send("c", "PA", b"VRFY root\r\n", what="VRFY")
    c.send("c", "PA", b"VRFY root\r\n", seq=1001, what="VRFY retransmitted")
    c.send("c", "PA", b"FY root\r\nEXPN x\r\n", seq=1003, what="overlap: only EXPN is new")
    c.skip_to("c", 1003 + 17)
    c.send("s", "PA", b"252 2.5.2 Cannot VRFY user\r\n", what="reply")
    c.expect("c", 1001, f, 1001)
    c.expect("c", 1002, f + 2, 1003)
    c.close()
    return sc


def gap():
    sc, c = smtp("gap")
    c.send("c", "PA", b"VR", what="VR")
    c.send("c", "PA", b" root\r\nEXPN x\r\n", seq=1005, what="after a hole (FY never seen): held")
    c.skip_to("c", 1005 + 15)
    c.held += 1
    c.gaps += 1
    c.send("s", "PA", b"252 2.5.2 Cannot VRFY user\r\n", what="reply")
    c.close()
    c.expect("c", 1002, None, None)
    return sc


def repeat():
    sc, c = smtp("repeat")
    f1 = c.send("c", "PA", b"HELP\r\n", what="HELP")
    c.send("s", "PA", b"214 HELO EHLO MAIL RCPT HELP VRFY EXPN\r\n", what="HELP text: no match")
    f1 = c.send("c", "PA", b"VRFY a\r\n", what="VRFY a")
    c.send("s", "PA", b"252 a\r\n", what="reply")
    f2 = c.send("c", "PA", b"VRFY b\r\nvrfy c\r\n", what="VRFY b, vrfy c (caseless)")
    c.send("s", "PA", b"252 b\r\n252 c\r\n", what="reply")
    c.expect("c", 1001, f1, 1001 + 6)
    c.expect("c", 1001, f2, 1001 + 14, every_only=True)
    c.expect("c", 1001, f2, 1001 + 14, every_only=True)
    c.close()
    return sc


def jumbo():
    sc = Scenario("jumbo")
    c = sc.conn(CLI, SRV, 1042, 25)
    c.t.ep["s"]["win"] = 65535  # room for the 60000-byte segment
    c.open()
    c.send("s", "PA", BANNER, what="banner")
    # 9000 bytes: "VRFY root" across the 2nd and 3rd mbufs of 2048 bytes (the
    # frame's bytes 4096 on; 54 of headers before the payload).
    body = b"x" * (4096 - 54 - 4) + b"VRFY root\r\n"
    f = c.send("c", "PA", body + b"y" * (9000 - len(body)), what="9000-byte frame")
    c.expect("c", 1001, f, 1001)
    c.send("s", "PA", b"252 2.5.2 Cannot VRFY user\r\n", what="reply")
    # A host capture's GRO frame: EXPN near its end.
    body = b"z" * 59000 + b"EXPN staff\r\n"
    f = c.send("c", "PA", body + b"z" * (60000 - len(body)), what="60000-byte frame")
    c.expect("c", 1002, f, 1001 + 9000)
    c.close()
    return sc


def insertion():
    sc, c = smtp("insertion")
    nxt = c.t.ep["c"]["nxt"]
    # Other bytes at the same seq first, in a segment the server drops (no
    # flags: invalid): scanned, they would make the real bytes a
    # retransmission, trimmed unscanned, and VRFY would go unseen.
    c.send("c", "", b"VRFX root\r\n", seq=nxt, what="no flags, other bytes: the host drops it")
    c.skip_to("c", nxt)
    sc.other_events.append("invalid_flags")
    f = c.send("c", "PA", b"VRFY root\r\n", what="the real bytes at the same seq")
    c.expect("c", 1001, f, nxt)
    c.send("s", "PA", b"252 2.5.2 Cannot VRFY user\r\n", what="reply")
    # The same with a segment whose TCP checksum is wrong: flags, window and
    # ack all fine, and the host drops it all the same.
    nxt = c.t.ep["c"]["nxt"]
    c.send("c", "PA", b"EXPX staff\r\n", seq=nxt, bad_csum=True,
           what="other bytes, TCP checksum wrong: the host drops it")
    c.skip_to("c", nxt)
    sc.other_events.append("tcp_bad_checksum")
    f = c.send("c", "PA", b"EXPN staff\r\n", what="the real bytes at the same seq")
    c.expect("c", 1002, f, nxt)
    c.send("s", "PA", b"550 5.7.1 EXPN denied\r\n", what="reply")
    c.close()
    return sc


def syn_data():
    sc = Scenario("syn_data")
    # No Fast Open cookie: the server drops the SYN's bytes (its SYN+ACK
    # acks the ISN + 1 only); the client then sends the real ones there.
    c = sc.conn(CLI, SRV, 1044, 25, 30000, 40000)
    isn = c.t.ep["c"]["nxt"]
    c.send("c", "S", b"VRFX root\r\n", what="SYN with bytes, no cookie: the server drops them")
    c.skip_to("c", isn + 1)
    sc.other_events.append("syn_with_data")
    c.send("s", "SA", what="SYN ACK: acks the SYN alone")
    c.send("c", "A", what="ACK")
    c.send("s", "PA", BANNER, what="banner")
    f = c.send("c", "PA", b"VRFY root\r\n", what="the real bytes at ISN + 1")
    c.expect("c", 1001, f, isn + 1)
    c.close()
    # A Fast Open cookie: the server takes the SYN's bytes (its SYN+ACK acks
    # them), so they are scanned.
    c = sc.conn(CLI, SRV, 1045, 25, 50000, 60000,
                syn_opts=[("MSS", 1460), (34, b"\x01\x02\x03\x04\x05\x06\x07\x08")])
    isn = c.t.ep["c"]["nxt"]
    f = c.send("c", "S", b"VRFY bob\r\n", what="SYN with bytes and a Fast Open cookie")
    sc.other_events.append("syn_with_data")
    c.expect("c", 1001, f, isn)  # the segment's seq: the SYN's
    c.send("s", "SA", what="SYN ACK: acks the bytes too")
    c.send("c", "A", what="ACK")
    c.send("s", "PA", BANNER, what="banner")
    c.close()
    # A cookie the server refuses (bogus or stale): its SYN+ACK acks the SYN
    # alone, so the SYN's bytes were never read; the client sends other ones
    # at ISN + 1, and those are what the server reads.
    c = sc.conn(CLI, SRV, 1046, 25, 70000, 80000,
                syn_opts=[("MSS", 1460), (34, b"\xde\xad\xbe\xef\xde\xad\xbe\xef")])
    isn = c.t.ep["c"]["nxt"]
    c.send("c", "S", b"VRFX root\r\n", what="SYN with bytes and a cookie the server refuses")
    c.skip_to("c", isn + 1)
    sc.other_events.append("syn_with_data")
    c.send("s", "SA", what="SYN ACK: acks the SYN alone (cookie refused)")
    c.rescans += 1
    c.rescanned_bytes += len(b"VRFY root\r\n")
    c.send("c", "A", what="ACK")
    c.send("s", "PA", BANNER, what="banner")
    f = c.send("c", "PA", b"VRFY root\r\n", what="other bytes at ISN + 1: what the server reads")
    c.expect("c", 1001, f, isn + 1)
    c.close()
    return sc


def sessions():
    sc = Scenario("sessions")
    # SMTP submission: VRFY and EXPN, and a DEBUG line.
    c = sc.conn("10.0.0.1", "10.0.0.2", 40001, 587, 70000, 90000)
    c.open()
    c.send("s", "PA", BANNER, what="banner")
    a = c.send("c", "PA", b"EHLO x\r\nDEBUG\r\n", what="EHLO, DEBUG")
    c.send("s", "PA", b"250-mail\r\n250-VRFY\r\n250 EXPN\r\n", what="EHLO reply lists VRFY: no match")
    b = c.send("c", "PA", b"EXPN staff\r\nVRFY bob\r\n", what="EXPN, VRFY")
    c.expect("c", 1003, a, 70001)
    c.expect("c", 1002, b, 70001 + 15)
    c.expect("c", 1001, b, 70001 + 15)
    c.close()
    # FTP: USER root, SITE EXEC.
    c = sc.conn("10.0.0.3", "10.0.0.4", 40002, 21, 11, 22)
    c.open()
    c.send("s", "PA", b"220 ftp ready\r\n", what="banner")
    a = c.send("c", "PA", b"USER root\r\n", what="USER root")
    c.send("s", "PA", b"331 password\r\n", what="331")
    b = c.send("c", "PA", b"SITE EXEC /bin/sh\r\n", what="SITE EXEC")
    c.expect("c", 1010, a, 12)
    c.expect("c", 1011, b, 12 + 11)
    c.close()
    # HTTP: URL-encoded traversal on 80.
    c = sc.conn("10.0.0.5", "10.0.0.6", 40003, 80, 4294967280, 3)
    c.open()
    a = c.send("c", "PA", b"GET /cgi-bin/%2e%2e/%2e%2e/etc/passwd HTTP/1.0\r\n\r\n",
               what="traversal (its bytes wrap past 2^32)")
    c.send("s", "PA", b"HTTP/1.0 404 Not Found\r\n\r\n", what="404")
    c.expect("c", 1020, a, 4294967281)
    c.close()
    # cmd.exe over IPv6 on 8080, in the server's reply.
    c = sc.conn("2001:db8::1", "2001:db8::2", 40004, 8080, 500, 600, v6=True)
    c.open()
    c.send("c", "PA", b"GET /scripts/run HTTP/1.0\r\n\r\n", what="request")
    a = c.send("s", "PA", b"HTTP/1.0 200 OK\r\n\r\nC:\\WINNT\\system32\\CMD.EXE /c dir",
               what="reply names CMD.EXE")
    c.expect("s", 1021, a, 601)
    c.close()
    # Telnet: cmd.exe split over two segments.
    c = sc.conn("10.0.0.7", "10.0.0.8", 40005, 23, 7, 8)
    c.open()
    c.send("c", "PA", b"run cmd", what="run cmd")
    a = c.send("c", "PA", b".exe\r\n", what=".exe")
    c.expect("c", 1021, a, 15)
    c.close()
    # SSH port: no rule names it, VRFY text goes unscanned.
    c = sc.conn("10.0.0.9", "10.0.0.10", 40006, 22, 1, 2)
    c.open()
    c.send("c", "PA", b"VRFY root\r\nUSER root\r\ncmd.exe\r\n", what="unnamed port")
    c.close()
    return sc


SCENARIOS = [
    in_segment,
    across_segments,
    out_of_order,
    retransmission,
    lambda: in_segment(2525, "unnamed_port"),
    gap,
    repeat,
    jumbo,
    insertion,
    syn_data,
    sessions,
]


def build_all():
    out = []
    for build in SCENARIOS:
        sc = build()
        for c in sc.conns:
            c.finish()
        out.append(sc.truth())
    return out


def main(argv):
    outdir = argv[1] if len(argv) > 1 else os.path.join(ftgen.default_data_dir(), "sig")
    os.makedirs(outdir, exist_ok=True)
    for cap in build_all():
        path, tpath = cap.write(outdir)
        print(path)
        print(tpath)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
