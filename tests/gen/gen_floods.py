#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A capture of floods around one real connection (tests/integration/test_floods.py).

One HTTP-like connection C (192.0.2.10:40000 -> 198.51.100.80:80: handshake,
20 request/response exchanges, FIN close) is spread over the whole capture,
while these floods run between its packets, in turn:
  - SYN flood: SYN_FLOOD distinct SYNs (random sources) to the same server,
  - blind RST flood: RST_BLIND RSTs from C's client at sequence numbers far
    outside the server's window (RFC 5961: none may end C),
  - stray RSTs: RST_STRAY RSTs on random 4-tuples (no connection),
  - fragment flood: FRAG_FLOOD first fragments (distinct ids, never completed),
  - one-packet flows: UDP_FLOWS UDP datagrams from distinct sources.
Truth (written beside the capture) says what is exact whatever the limits:
frames per class, C's flow record, the anomaly counts the floods must raise.

Usage: gen_floods.py OUTDIR -> OUTDIR/floods.pcap, OUTDIR/floods.json
"""

import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftgen  # noqa: E402

from scapy.all import IP, TCP, UDP, Ether, Raw  # noqa: E402

SYN_FLOOD = 3000
RST_BLIND = 500
RST_STRAY = 500
FRAG_FLOOD = 2000
UDP_FLOWS = 3000
EXCHANGES = 20

CLIENT, SERVER, CPORT, SPORT = "192.0.2.10", "198.51.100.80", 40000, 80
MAC_C, MAC_S = "00:00:5e:00:53:01", "00:00:5e:00:53:02"


def conn_frames():
    """C's frames, in order."""
    cisn, sisn = 1000000, 2000000
    c = Ether(src=MAC_C, dst=MAC_S) / IP(src=CLIENT, dst=SERVER, ttl=64)
    s = Ether(src=MAC_S, dst=MAC_C) / IP(src=SERVER, dst=CLIENT, ttl=60)
    out = [c / TCP(sport=CPORT, dport=SPORT, flags="S", seq=cisn, window=65535),
           s / TCP(sport=SPORT, dport=CPORT, flags="SA", seq=sisn, ack=cisn + 1, window=65535),
           c / TCP(sport=CPORT, dport=SPORT, flags="A", seq=cisn + 1, ack=sisn + 1, window=65535)]
    cs, ss = cisn + 1, sisn + 1
    for i in range(EXCHANGES):
        req = b"GET /%d HTTP/1.1\r\n\r\n" % i
        rsp = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        out.append(c / TCP(sport=CPORT, dport=SPORT, flags="PA", seq=cs, ack=ss, window=65535) / Raw(req))
        cs += len(req)
        out.append(s / TCP(sport=SPORT, dport=CPORT, flags="PA", seq=ss, ack=cs, window=65535) / Raw(rsp))
        ss += len(rsp)
    out += [c / TCP(sport=CPORT, dport=SPORT, flags="FA", seq=cs, ack=ss, window=65535),
            s / TCP(sport=SPORT, dport=CPORT, flags="FA", seq=ss, ack=cs + 1, window=65535),
            c / TCP(sport=CPORT, dport=SPORT, flags="A", seq=cs + 1, ack=ss + 1, window=65535)]
    return out, cs - cisn - 1, ss - sisn - 1, cisn, sisn


def rand_addr(rng, first):
    return "%d.%d.%d.%d" % (first, rng.randrange(256), rng.randrange(256), rng.randrange(1, 255))


def floods(rng, cisn, sisn):
    """The flood frames, by kind, each kind in its own order."""
    e = Ether(src=MAC_C, dst=MAC_S)
    syn = [e / IP(src=rand_addr(rng, 10), dst=SERVER) /
           TCP(sport=1024 + i % 60000, dport=SPORT, flags="S", seq=rng.getrandbits(32))
           for i in range(SYN_FLOOD)]
    # From C's client (its TTL), far outside the server's window: half a
    # sequence space away from anything the server expects.
    blind = [e / IP(src=CLIENT, dst=SERVER, ttl=64) /
             TCP(sport=CPORT, dport=SPORT, flags="R", seq=(cisn + 2**31 + i * 7919) % 2**32)
             for i in range(RST_BLIND)]
    stray = [e / IP(src=rand_addr(rng, 11), dst=rand_addr(rng, 12)) /
             TCP(sport=rng.randrange(1024, 65535), dport=rng.randrange(1, 1024), flags="R",
                 seq=rng.getrandbits(32))
             for _ in range(RST_STRAY)]
    frag = [e / IP(src=rand_addr(rng, 13), dst=SERVER, id=i % 65536, flags="MF", frag=0, proto=17) /
            Raw(bytes(64)) for i in range(FRAG_FLOOD)]
    udp = [e / IP(src=rand_addr(rng, 14), dst=SERVER) / UDP(sport=rng.randrange(1024, 65535), dport=53) /
           Raw(b"q") for _ in range(UDP_FLOWS)]
    return [("syn", syn), ("rst_blind", blind), ("rst_stray", stray), ("frag", frag), ("udp", udp)]


def build(outdir):
    rng = random.Random(7)
    conn, cbytes, sbytes, cisn, sisn = conn_frames()
    kinds = floods(rng, cisn, sisn)
    flood = [f for _, fs in kinds for f in fs]
    # C's frames spread evenly through the floods (the first and last first/last).
    frames, step = [], len(flood) // (len(conn) - 1)
    for i, cf in enumerate(conn):
        frames.append(cf)
        frames += flood[i * step:(i + 1) * step] if i < len(conn) - 1 else []
    frames += flood[(len(conn) - 1) * step:]
    os.makedirs(outdir, exist_ok=True)
    pcap = os.path.join(outdir, "floods.pcap")
    ftgen.write_pcap(pcap, [bytes(f) for f in frames])
    counts = {k: len(fs) for k, fs in kinds}
    truth = {
        "frames": len(frames),
        "kinds": counts,
        "packets": {"tcp": len(conn) + SYN_FLOOD + RST_BLIND + RST_STRAY, "udp": UDP_FLOWS,
                    "fragment": FRAG_FLOOD},
        "conn": {"src": CLIENT, "sport": CPORT, "dst": SERVER, "dport": SPORT,
                 "orig_pkts": sum(f[IP].src == CLIENT for f in conn) + RST_BLIND,
                 "resp_pkts": sum(f[IP].src == SERVER for f in conn),
                 "orig_bytes": cbytes, "resp_bytes": sbytes, "orig_isn": cisn, "resp_isn": sisn,
                 "orig_state": "TIME_WAIT", "resp_state": "CLOSED", "end": "fin"},
        "anomalies": {"rst_out_of_window": RST_BLIND},
    }
    with open(os.path.join(outdir, "floods.json"), "w") as f:
        json.dump(truth, f, indent=1)
    return pcap, truth


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    p, t = build(sys.argv[1])
    print(p, t["frames"])
