#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A full flow table: eviction of the oldest embryonic flow, flows.table_full
when nothing is evictable, and every packet still accounted for.

Captures are generated at test time (ftgen, scapy) into a temporary directory;
flowtap runs offline with [flows] max = 1024 (the smallest table) and 1 worker:
  evict     one established connection, 3000 SYN-only connection attempts,
            then the connection goes on and closes: the SYNs push each other
            out (oldest first), the established connection is never evicted
  full      1100 one-packet connections picked up mid-stream (not embryonic):
            76 packets find the table full and stay counted in packets.tcp
  udp       1100 one-sided UDP flows: embryonic, so the oldest make room
  reuse     1024 SYN-only attempts fill the table, then 16 times a new SYN
            (which evicts the oldest attempt, and whose flow takes its entry)
            and the SYN+ACK of an attempt just evicted, in the same rx
            burst: the SYN+ACK was looked up (in bulk, with its burst)
            before the eviction, yet must not be tracked in the entry its
            flow left, now another connection's
"""
import collections
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402

ftgen = ftlib.ftgen()
MAX = 1024


def cap_evict(path):
    a = ftgen.Tcp("192.0.2.10", "198.51.100.20", 40000, 80, 1000, 5000)
    frames = [a.build("c", "S"), a.build("s", "SA"), a.build("c", "A"), a.build("c", "PA", b"GET /")]
    for i in range(3000):
        s = ftgen.Tcp("10.1.%d.%d" % (i >> 8, i & 255), "10.2.%d.%d" % (i >> 8, i & 255),
                      20000 + i, 80, 7000 + i, 9000)
        frames.append(s.build("c", "S"))
    frames += [a.build("s", "PA", b"200 OK"), a.build("c", "FA"), a.build("s", "FA"), a.build("c", "A")]
    ftgen.write_pcap(path, frames)
    return len(frames)


def cap_full(path):
    frames = []
    for i in range(MAX + 76):
        m = ftgen.Tcp("10.3.%d.%d" % (i >> 8, i & 255), "10.4.0.1", 30000 + i, 443, 100 + i, 500)
        m.ack_of["c"] = 501
        frames.append(m.build("c", "A"))
    ftgen.write_pcap(path, frames)
    return len(frames)


def udp_frame(i):
    """A UDP datagram from a distinct source (IPv4, checksum 0: allowed)."""
    src = struct.pack("!I", 0x0A050000 | i)
    udp = struct.pack("!HHHH", 40000 + (i % 20000), 53, 8 + 4, 0) + b"ping"
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0, src,
                     bytes([10, 6, 0, 1]))
    ip = ip[:10] + struct.pack("!H", ftgen.inet_csum(ip)) + ip[12:]
    return bytes.fromhex("00005e00530200005e0053010800") + ip + udp


def cap_udp(path):
    frames = [udp_frame(i) for i in range(MAX + 76)]
    ftgen.write_pcap(path, frames)
    return len(frames)


def cap_reuse(path):
    attempts = [ftgen.Tcp("10.7.%d.%d" % (i >> 8, i & 255), "10.8.0.1", 21000 + i, 80, 100 + i, 900)
                for i in range(MAX)]
    frames = [a.build("c", "S") for a in attempts]
    for k in range(16):
        x = ftgen.Tcp("10.9.0.%d" % k, "10.8.0.2", 22000 + k, 443, 300 + k, 700)
        frames += [x.build("c", "S"), attempts[k].build("s", "SA")]
    ftgen.write_pcap(path, frames)
    return len(frames)


def run(c, tmp, name, build):
    cap = os.path.join(tmp, name + ".pcap")
    n = build(cap)
    stats, flows = os.path.join(tmp, name + ".stats.json"), os.path.join(tmp, name + ".flows.json")
    r = ftlib.run_flowtap(["--pcap", cap, "--quiet", "--set", "flows.max=%d" % MAX,
                           "--stats-json", stats, "--flow-log", flows])
    if not c.check("%s: flowtap exits 0" % name, r.rc == 0, r.brief()):
        return None, None, n
    with open(flows) as f:
        recs = [json.loads(line) for line in f]
    return ftlib.load_json(stats), recs, n


def main():
    ftlib.require_binary()
    c = ftlib.checker("flow table: eviction and table_full")
    with ftlib.tempdir() as tmp:
        s, recs, n = run(c, tmp, "evict", cap_evict)
        if s is not None:
            c.eq("evict: packets.rx", ftlib.dig(s, "packets.rx"), n)
            c.eq("evict: packets.tcp", ftlib.dig(s, "packets.tcp"), n)
            c.check("evict: accounting_ok", s["accounting_ok"] is True)
            c.check("evict: mempools_ok (every mbuf home after the drain)", s["mempools_ok"] is True, s.get("mempools"))
            c.eq("evict: flows.tcp (every connection, evicted or not)", ftlib.dig(s, "flows.tcp"), 3001)
            c.eq("evict: flows.evicted (each SYN beyond the table pushes the oldest out)",
                 ftlib.dig(s, "flows.evicted"), 3001 - MAX)
            c.eq("evict: flows.table_full", ftlib.dig(s, "flows.table_full"), 0)
            ends = collections.Counter(r["end"] for r in recs)
            c.eq("evict: records by end", dict(ends), {"evicted": 3001 - MAX, "exit": MAX - 1, "fin": 1})
            ev = [r for r in recs if r["end"] == "evicted"]
            c.check("evict: the oldest attempts were evicted (ports 20000..%d)" % (20000 + 3001 - MAX - 1),
                    sorted(r["sport"] for r in ev) == list(range(20000, 20000 + 3001 - MAX)))
            a = [r for r in recs if r["sport"] == 40000]
            c.check("evict: the established connection kept its whole record",
                    len(a) == 1 and a[0]["end"] == "fin" and a[0]["conn_state"] == "SF" and
                    a[0]["orig_pkts"] == 5 and a[0]["resp_pkts"] == 3 and a[0]["orig_bytes"] == 5 and
                    a[0]["resp_bytes"] == 6, json.dumps(a))
        s, recs, n = run(c, tmp, "full", cap_full)
        if s is not None:
            c.eq("full: packets.tcp (untracked packets stay in their class)", ftlib.dig(s, "packets.tcp"), n)
            c.check("full: accounting_ok", s["accounting_ok"] is True)
            c.check("full: mempools_ok (every mbuf home after the drain)", s["mempools_ok"] is True, s.get("mempools"))
            c.eq("full: flows.tcp", ftlib.dig(s, "flows.tcp"), MAX)
            c.eq("full: flows.table_full", ftlib.dig(s, "flows.table_full"), 76)
            c.eq("full: flows.evicted (mid-stream connections are not embryonic)",
                 ftlib.dig(s, "flows.evicted"), 0)
            c.eq("full: records", len(recs), MAX)
        s, recs, n = run(c, tmp, "udp", cap_udp)
        if s is not None:
            c.eq("udp: packets.udp", ftlib.dig(s, "packets.udp"), n)
            c.eq("udp: flows.udp", ftlib.dig(s, "flows.udp"), n)
            c.eq("udp: flows.evicted (one-sided flows make room)", ftlib.dig(s, "flows.evicted"), 76)
            c.eq("udp: flows.table_full", ftlib.dig(s, "flows.table_full"), 0)
            c.eq("udp: no TCP records", len(recs), 0)
        s, recs, n = run(c, tmp, "reuse", cap_reuse)
        if s is not None:
            c.eq("reuse: packets.tcp", ftlib.dig(s, "packets.tcp"), n)
            c.check("reuse: accounting_ok", s["accounting_ok"] is True)
            c.eq("reuse: flows.tcp (each SYN+ACK of an evicted attempt is a new flow)",
                 ftlib.dig(s, "flows.tcp"), MAX + 32)
            c.eq("reuse: flows.evicted", ftlib.dig(s, "flows.evicted"), 32)
            new = [r for r in recs if r["src"].startswith("10.9.")]
            c.check("reuse: each new SYN's record holds its SYN only (16 of them, history S)",
                    len(new) == 16 and all(r["history"] == "S" and r["orig_pkts"] == 1 and
                                           r["resp_pkts"] == 0 for r in new), json.dumps(new[:3]))
            sa = [r for r in recs if r["history"] == "^h"]
            c.check("reuse: each SYN+ACK of an evicted attempt has its own flipped record (16)",
                    len(sa) == 16 and all(r["src"].startswith("10.7.") and r["resp_pkts"] == 1 and
                                          r["orig_pkts"] == 0 for r in sa), json.dumps(sa[:3]))
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
