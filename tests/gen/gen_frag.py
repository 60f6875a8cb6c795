#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Fragment captures whose truth is known, for tests/integration/test_defrag.py.

Writes into OUTDIR (default tests/data/frag) NAME.pcap and NAME.json for:

  frag_tcp       TCP connections whose data segment (1400 bytes) is sent in
                 IPv4/IPv6 fragments: in order, reversed, shuffled,
                 duplicated, IPv6 with hop-by-hop + destination options
                 before the Fragment header, in VLAN 100 and in QinQ 200.300
                 (these two: same addresses, ports and IP id, fragments
                 interleaved, different bytes). Each data segment is followed
                 by an unfragmented retransmission with the same bytes: the
                 tracker compares retransmitted bytes, so no
                 retransmit_different_data proves flowtap reassembled exactly
                 the bytes sent (the test also compares them with tshark's
                 reassembly).
  frag_overlap   five connections whose data segment is sent as a Novak
                 overlap pattern (different bytes in the overlaps), each
                 with the TCP checksum of the bytes one policy keeps (as an
                 attacker aiming at a host of that policy writes it) and
                 retransmitted unfragmented with those bytes: under policy P
                 only the connection aimed at P takes its datagram; the
                 others' fail their checksum (tcp_bad_checksum, and their
                 retransmission is the first copy a host takes). With
                 checksums = off, every datagram is taken and only the
                 connection retransmitting P's bytes has no
                 retransmit_different_data.
  frag_anomalies one datagram per anomaly: tiny first fragment, oversize,
                 DF on a fragment, too many fragments, timeout, two last
                 fragments, data beyond the end, reserved flag, IPv6 non-last
                 fragment not a multiple of 8.
  frag_flood     1000 never-completed datagrams (one fragment each), then a
                 TCP connection in fragments; run with max_datagrams=64.

The truth (counters, events, records) is computed here from what is sent,
by the rules of lib/defrag/ft_defrag.h, not by running flowtap.
"""

import json
import os
import random
import sys

from scapy.all import (IP, TCP, UDP, Dot1Q, Ether, IPv6, IPv6ExtHdrDestOpt,  # noqa: E402
                       IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, Raw, PcapWriter)

T0 = 1767225600
MAC_A, MAC_B = "02:00:00:00:00:0a", "02:00:00:00:00:0b"

# The overlap pattern of test_defrag.c, shifted by 3 units (24 bytes) so that
# the first fragment alone carries the TCP header: (offset, length) in 8-byte
# units, digit, in arrival order; F0 is [0,3).
NOVAK = [(1, 3, "1"), (4, 4, "2"), (8, 3, "3"), (0, 5, "4"), (3, 3, "5"), (8, 4, "6")]
POLICIES = {
    "first": "411122223336",
    "last": "444555226666",
    "bsd": "444445223336",
    "linux": "444445226666",
    "windows": "444422223336",
}


class Pcap:
    def __init__(self, path):
        self.w = PcapWriter(path, linktype=1, sync=True)
        self.t = float(T0)
        self.n = 0

    def add(self, pkt, dt=0.001):
        self.t += dt
        pkt.time = self.t
        self.w.write(pkt)
        self.n += 1

    def close(self):
        self.w.close()


def l2(vlans=()):
    e = Ether(src=MAC_A, dst=MAC_B)
    for v in vlans:
        e = e / Dot1Q(vlan=v)
    return e


def l2r(vlans=()):
    e = Ether(src=MAC_B, dst=MAC_A)
    for v in vlans:
        e = e / Dot1Q(vlan=v)
    return e


def ip(v6, src, dst, **kw):
    if v6:
        return IPv6(src=src, dst=dst)
    return IP(src=src, dst=dst, **kw)


def frags_of(l4bytes, v6, src, dst, ident, proto, size, ext6=False, vlans=()):
    """Fragment a transport payload into pieces of `size` bytes (multiple of 8)."""
    out = []
    off = 0
    while off < len(l4bytes):
        chunk = l4bytes[off:off + size]
        more = off + len(chunk) < len(l4bytes)
        if v6:
            h = IPv6(src=src, dst=dst)
            if ext6:
                h = h / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt()
            p = l2(vlans) / h / IPv6ExtHdrFragment(nh=proto, offset=off // 8, m=int(more), id=ident) / \
                Raw(chunk)
        else:
            p = l2(vlans) / IP(src=src, dst=dst, id=ident, proto=proto, flags="MF" if more else 0,
                               frag=off // 8) / Raw(chunk)
        out.append(p)
        off += len(chunk)
    return out


class Conn:
    """A client-server TCP connection; frames built with correct checksums."""

    def __init__(self, cli, srv, cport, sport, v6=False, vlans=(), isn=1000, sisn=5000):
        self.cli, self.srv, self.cport, self.sport = cli, srv, cport, sport
        self.v6, self.vlans = v6, vlans
        self.cseq, self.sseq = isn, sisn

    def seg(self, side, flags, payload=b"", ident=1):
        if side == "c":
            h = l2(self.vlans) / ip(self.v6, self.cli, self.srv, **({} if self.v6 else {"id": ident}))
            t = TCP(sport=self.cport, dport=self.sport, flags=flags, seq=self.cseq, ack=self.sseq,
                    window=65535)
        else:
            h = l2r(self.vlans) / ip(self.v6, self.srv, self.cli, **({} if self.v6 else {"id": ident}))
            t = TCP(sport=self.sport, dport=self.cport, flags=flags, seq=self.sseq, ack=self.cseq,
                    window=65535)
        if "A" not in flags:
            t.ack = 0
        return h / t / Raw(payload) if payload else h / t

    def tcp_bytes(self, payload):
        """The TCP segment (header + payload) the client sends, as bytes."""
        p = self.seg("c", "PA", payload)
        l3 = p[IPv6] if self.v6 else p[IP]
        return bytes(l3.payload), p

    def open(self, cap):
        cap.add(self.seg("c", "S"))
        self.cseq += 1
        cap.add(self.seg("s", "SA"))
        self.sseq += 1
        cap.add(self.seg("c", "A"))

    def close(self, cap, data_len):
        self.cseq += data_len
        cap.add(self.seg("s", "A"))
        cap.add(self.seg("c", "FA"))
        self.cseq += 1
        cap.add(self.seg("s", "FA"))
        self.sseq += 1
        cap.add(self.seg("c", "A"))


def record(conn, orig_pkts, resp_pkts, orig_bytes, anomalies, vlans=()):
    return {"src": conn.cli, "sport": conn.cport, "dst": conn.srv, "dport": conn.sport,
            "vlan": list(vlans), "orig_pkts": orig_pkts, "resp_pkts": resp_pkts,
            "orig_bytes": orig_bytes, "resp_bytes": 0, "conn_state": "SF", "end": "fin",
            "anomalies": anomalies}


def data_bytes(seed, n):
    r = random.Random(seed)
    return bytes(r.randrange(256) for _ in range(n))


# ---------------------------------------------------------------- frag_tcp
def gen_tcp(outdir):
    cap = Pcap(os.path.join(outdir, "frag_tcp.pcap"))
    truth = {"records": [], "fragments": 0, "reassembled": 0, "overlaps": 0, "frag_overlap": 0,
             "datagrams": 0, "payloads": []}
    rnd = random.Random(4)
    cases = [("in order", False, (), "order", False), ("reversed", False, (), "reverse", False),
             ("shuffled", False, (), "shuffle", False), ("duplicated", False, (), "dup", False),
             ("ipv6 ext", True, (), "order", True), ("ipv6 reversed", True, (), "reverse", False)]
    for i, (what, v6, vlans, order, ext6) in enumerate(cases):
        cli, srv = ("2001:db8::%x" % (0x10 + i), "2001:db8::1") if v6 else \
            ("10.1.0.%d" % (10 + i), "10.1.0.1")
        c = Conn(cli, srv, 40000 + i, 80, v6=v6, vlans=vlans)
        c.open(cap)
        payload = data_bytes(i, 1400)
        tb, _ = c.tcp_bytes(payload)
        fr = frags_of(tb, v6, cli, srv, 0x100 + i, 6, 512, ext6=ext6, vlans=vlans)
        seq = list(fr)
        if order == "reverse":
            seq.reverse()
        elif order == "shuffle":
            rnd.shuffle(seq)
            if seq[-1] is fr[-1] or seq == fr:
                seq = [fr[1], fr[2], fr[0]]
        elif order == "dup":
            seq = [fr[0], fr[1], fr[1], fr[0], fr[2]]
            truth["overlaps"] += 2
            truth["frag_overlap"] += 1
        for f in seq:
            cap.add(f)
        truth["fragments"] += len(seq)
        truth["reassembled"] += 1
        truth["datagrams"] += 1
        # The retransmission, unfragmented, in one frame.
        cap.add(c.seg("c", "PA", payload, ident=0x200 + i))
        c.close(cap, len(payload))
        truth["records"].append(dict(record(c, 6, 3, 1400, []), what=what))
        truth["payloads"].append({"what": what, "src": cli, "sport": 40000 + i,
                                  "hex": payload.hex()})
    # Same addresses, ports and IP id on VLAN 100 and on QinQ 200.300, interleaved.
    a = Conn("10.2.0.5", "10.2.0.1", 41000, 80, vlans=(100,))
    b = Conn("10.2.0.5", "10.2.0.1", 41000, 80, vlans=(200, 300))
    a.open(cap)
    b.open(cap)
    pa, pb = data_bytes(100, 1400), data_bytes(200, 1400)
    fa = frags_of(a.tcp_bytes(pa)[0], False, a.cli, a.srv, 0x777, 6, 512, vlans=(100,))
    fb = frags_of(b.tcp_bytes(pb)[0], False, b.cli, b.srv, 0x777, 6, 512, vlans=(200, 300))
    for x, y in zip(fa, fb):
        cap.add(x)
        cap.add(y)
    truth["fragments"] += len(fa) + len(fb)
    truth["reassembled"] += 2
    truth["datagrams"] += 2
    cap.add(a.seg("c", "PA", pa, ident=0x900))
    cap.add(b.seg("c", "PA", pb, ident=0x901))
    a.close(cap, 1400)
    b.close(cap, 1400)
    truth["records"].append(dict(record(a, 6, 3, 1400, [], vlans=(100,)), what="vlan 100"))
    truth["records"].append(dict(record(b, 6, 3, 1400, [], vlans=(200, 300)), what="qinq 200.300"))
    truth["frames"] = cap.n
    cap.close()
    return truth


# ---------------------------------------------------------------- frag_overlap
def policy_bytes(pol):
    """The 100 payload bytes a host of policy pol reassembles."""
    return b"\0" * 4 + b"".join(ch.encode() * 8 for ch in POLICIES[pol])


def novak_frags(c, ident, pol):
    """F0 = TCP header (its checksum that of pol's bytes) + 4 bytes, then the
    pattern shifted by 3 units."""
    tb, _ = c.tcp_bytes(policy_bytes(pol))
    head = tb[:24]
    out = [(0, head, True)]
    for off, ln, digit in NOVAK:
        last = (off, ln) == (8, 4)
        out.append(((off + 3) * 8, digit.encode() * (ln * 8), not last))
    frames = []
    for off, chunk, more in out:
        frames.append(l2() / IP(src=c.cli, dst=c.srv, id=ident, proto=6, flags="MF" if more else 0,
                                frag=off // 8) / Raw(chunk))
    return frames


def gen_overlap(outdir):
    cap = Pcap(os.path.join(outdir, "frag_overlap.pcap"))
    truth = {"policies": {}, "records": [], "fragments": 0}
    conns = []
    for i, pol in enumerate(POLICIES):
        c = Conn("10.3.0.%d" % (10 + i), "10.3.0.1", 42000 + i, 80)
        c.open(cap)
        for f in novak_frags(c, 0x300 + i, pol):
            cap.add(f)
        truth["fragments"] += 1 + len(NOVAK)
        kept = policy_bytes(pol)
        cap.add(c.seg("c", "PA", kept, ident=0x400 + i))
        c.close(cap, len(kept))
        conns.append((pol, c))
    truth["policies_checksums_off"] = {}
    for pol in POLICIES:
        truth["policies"][pol] = {
            "records": [dict(record(c, 6, 3, 100, []) if p == pol else
                             record(c, 5, 3, 100, ["tcp_bad_checksum"]),
                             what="aimed at %s" % p) for p, c in conns],
            "retransmit_different_data": 0,
            "tcp_bad_checksum": len(POLICIES) - 1,
        }
        truth["policies_checksums_off"][pol] = {
            "records": [dict(record(c, 6, 3, 100, [] if p == pol else ["retransmit_different_data"]),
                             what="retransmits %s's bytes" % p) for p, c in conns],
            "retransmit_different_data": len(POLICIES) - 1,
            "tcp_bad_checksum": 0,
        }
    # Per datagram F4, F5 and F6 overlap held fragments, all with different bytes.
    truth["overlaps"] = 3 * len(POLICIES)
    truth["overlaps_different"] = 3 * len(POLICIES)
    truth["frag_overlap_events"] = len(POLICIES)
    truth["reassembled"] = len(POLICIES)
    truth["frames"] = cap.n
    cap.close()
    return truth


# ---------------------------------------------------------------- frag_anomalies
def gen_anomalies(outdir):
    cap = Pcap(os.path.join(outdir, "frag_anomalies.pcap"))
    t = {"anomalies": {}, "events": {}, "counters": {}}
    cnt = {"fragments": 0, "reassembled": 0, "fragments_used": 0, "datagrams": 0, "timeouts": 0,
           "dropped.timeout": 0, "dropped.too_many": 0, "dropped.oversize": 0,
           "dropped.inconsistent": 0, "dropped.dead": 0, "dropped.exit": 0}

    def a(name, n=1, ev=1):
        t["anomalies"][name] = t["anomalies"].get(name, 0) + n
        t["events"][name] = t["events"].get(name, 0) + ev

    def v4(ident, off, payload, more, proto=17, flags=0, src="10.4.0.2"):
        f = flags | (1 if more else 0)
        return l2() / IP(src=src, dst="10.4.0.1", id=ident, proto=proto, flags=f, frag=off // 8) / \
            Raw(payload)

    # 1. tiny first fragment: a TCP SYN's header, 16 bytes, then 4 (it completes).
    tcp = bytes(TCP(sport=1, dport=2, flags="S"))
    cap.add(v4(1, 0, tcp[:16], True, proto=6))
    cap.add(v4(1, 16, tcp[16:], False, proto=6))
    a("frag_tiny_first")
    cnt.update(fragments=2, fragments_used=2, reassembled=1, datagrams=1)
    # 2. DF on both fragments (kept: completes).
    udp = bytes(UDP(sport=3, dport=4, len=8 + 24)) + b"d" * 24
    cap.add(v4(2, 0, udp[:16], True, flags=2))
    cap.add(v4(2, 16, udp[16:], False, flags=2))
    a("frag_df_set", 2, 1)
    cnt["fragments"] += 2
    cnt["fragments_used"] += 2
    cnt["reassembled"] += 1
    cnt["datagrams"] += 1
    # 3. reserved flag (kept: completes) -> frag_inconsistent.
    cap.add(v4(3, 0, udp[:16], True, flags=4))
    cap.add(v4(3, 16, udp[16:], False))
    a("frag_inconsistent")
    cnt["fragments"] += 2
    cnt["fragments_used"] += 2
    cnt["reassembled"] += 1
    cnt["datagrams"] += 1
    # 4. oversize: 20 + 65528 + 16 > 65535; then a late fragment is dead.
    cap.add(v4(4, 0, udp[:16], True))
    cap.add(v4(4, 65528, b"o" * 16, False))
    cap.add(v4(4, 16, b"l" * 16, True))
    a("frag_oversize")
    cnt["fragments"] += 3
    cnt["dropped.oversize"] += 2
    cnt["dropped.dead"] += 1
    cnt["datagrams"] += 1
    # 5. too many: 65 fragments of 8 bytes, never complete (max_fragments 64).
    for k in range(65):
        cap.add(v4(5, 8 + 8 * k, b"m" * 8, True, proto=253))
    a("frag_too_many")
    cnt["fragments"] += 65
    cnt["dropped.too_many"] += 65
    cnt["datagrams"] += 1
    # 6. two last fragments with different ends.
    cap.add(v4(6, 16, b"a" * 16, False, proto=253))
    cap.add(v4(6, 32, b"b" * 16, False, proto=253))
    a("frag_inconsistent")
    cnt["fragments"] += 2
    cnt["dropped.inconsistent"] += 2
    cnt["datagrams"] += 1
    # 7. data beyond the end.
    cap.add(v4(7, 16, b"a" * 16, False, proto=253))
    cap.add(v4(7, 32, b"b" * 16, True, proto=253))
    a("frag_inconsistent")
    cnt["fragments"] += 2
    cnt["dropped.inconsistent"] += 2
    cnt["datagrams"] += 1
    # 8. IPv6 non-last fragment of 20 bytes: dropped (no tracker opened).
    cap.add(l2() / IPv6(src="2001:db8::4", dst="2001:db8::1") /
            IPv6ExtHdrFragment(nh=17, offset=0, m=1, id=8) / Raw(b"s" * 20))
    a("frag_inconsistent")
    cnt["fragments"] += 1
    cnt["dropped.inconsistent"] += 1
    # 9. timeout: two fragments, then 40 s later an unrelated UDP packet.
    cap.add(v4(9, 0, udp[:16], True, src="10.4.0.9"))
    cap.add(v4(9, 32, b"t" * 8, False, src="10.4.0.9"))
    cap.add(l2() / IP(src="10.4.0.3", dst="10.4.0.1") / UDP(sport=5, dport=6) / Raw(b"late"), dt=40)
    a("frag_timeout")
    cnt["fragments"] += 2
    cnt["timeouts"] += 1
    cnt["dropped.timeout"] += 2
    cnt["datagrams"] += 1
    # The trackers of 4..7 are dead until their timeout: gone by then too.
    t["counters"] = cnt
    t["frames"] = cap.n
    cap.close()
    return t


# ---------------------------------------------------------------- frag_flood
FLOOD_N = 1000
FLOOD_MAX = 64


def gen_flood(outdir):
    cap = Pcap(os.path.join(outdir, "frag_flood.pcap"))
    for k in range(FLOOD_N):
        src = "10.%d.%d.%d" % (5 + k // 65536, (k // 256) % 256, k % 256)
        cap.add(l2() / IP(src=src, dst="10.9.0.1", id=k, proto=17, flags="MF", frag=0) /
                Raw(b"f" * 64), dt=0.0001)
    c = Conn("10.8.0.2", "10.8.0.1", 43000, 80)
    c.open(cap)
    payload = data_bytes(7, 1400)
    for f in frags_of(c.tcp_bytes(payload)[0], False, c.cli, c.srv, 0x4242, 6, 512):
        cap.add(f)
    cap.add(c.seg("c", "PA", payload, ident=0x4343))
    c.close(cap, 1400)
    truth = {
        "config": ["defrag.max_datagrams=%d" % FLOOD_MAX],
        "records": [record(c, 6, 3, 1400, [])],
        "counters": {
            "fragments": FLOOD_N + 3, "datagrams": FLOOD_N + 1, "reassembled": 1, "fragments_used": 3,
            # every flood datagram beyond the limit evicts the oldest; the good one evicts one more
            "table_full": FLOOD_N - FLOOD_MAX + 1, "dropped.evicted": FLOOD_N - FLOOD_MAX + 1,
            "held": 0, "in_flight": 0,
            "dropped.exit": FLOOD_MAX - 1,
        },
        "frames": cap.n,
    }
    cap.close()
    return truth


def main(argv):
    outdir = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                       "..", "data", "frag")
    os.makedirs(outdir, exist_ok=True)
    for name, fn in (("frag_tcp", gen_tcp), ("frag_overlap", gen_overlap),
                     ("frag_anomalies", gen_anomalies), ("frag_flood", gen_flood)):
        truth = fn(outdir)
        with open(os.path.join(outdir, name + ".json"), "w") as f:
            json.dump(truth, f, indent=1, sort_keys=True)
            f.write("\n")
        print("wrote %s.pcap (%d frames) and %s.json" % (name, truth["frames"], name))


if __name__ == "__main__":
    main(sys.argv)
