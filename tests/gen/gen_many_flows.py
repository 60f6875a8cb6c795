#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""N interleaved TCP connections, for exact counters with 1 and several workers.

Each connection: three-way handshake, client data, server data, client ACK,
client FIN, server FIN, last ACK (9 frames). 70% IPv4, 20% IPv6, 10% IPv4 in
an 802.1Q tag, every client a different address, so the flows spread over
the workers' hash ranges. Connections overlap in time; each one's packets stay
in order. Deterministic for a given (N, seed). Generated at test time (not
committed): the frames are written with struct (scapy would take ~7 s for
2000 flows) and every one is checked against refdecode.py.

Usage: gen_many_flows.py OUTDIR [--flows N] [--seed S]
       -> OUTDIR/many_flows.pcap, OUTDIR/many_flows.json
"""

import argparse
import ipaddress
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftgen  # noqa: E402

FRAMES_PER_FLOW = 9
SERVERS4 = ["172.16.0.%d" % i for i in range(1, 5)]
SERVERS6 = ["2001:db8:5::%d" % i for i in range(1, 5)]
SPORTS = [80, 443, 25, 22]
MAC_C, MAC_S = bytes.fromhex("00005e005301"), bytes.fromhex("00005e005302")


def frame(f, side, flags, seq, ack, payload, ipid):
    """One Ethernet frame of flow f from side 'c' or 's'."""
    src, dst, sp, dp = (f["c"], f["s"], f["cport"], f["sport"]) if side == "c" else \
        (f["s"], f["c"], f["sport"], f["cport"])
    win = 29200 if side == "c" else 28960
    tcp = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 5 << 4, flags, win, 0, 0) + payload
    if f["v6"]:
        pseudo = src + dst + struct.pack("!IxxxB", len(tcp), 6)
    else:
        pseudo = src + dst + struct.pack("!xBH", 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", ftgen.inet_csum(pseudo + tcp)) + tcp[18:]
    if f["v6"]:
        ip = struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64) + src + dst
        et = 0x86DD
    else:
        h = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(tcp), ipid, 0x4000, 64, 6, 0) + src + dst
        ip = h[:10] + struct.pack("!H", ftgen.inet_csum(h)) + h[12:]
        et = 0x0800
    l2 = (MAC_S + MAC_C) if side == "c" else (MAC_C + MAC_S)
    if f["vlan"]:
        l2 += struct.pack("!HH", 0x8100, f["vlan"])
    return l2 + struct.pack("!H", et) + ip + tcp


def flow_packets(f, rng):
    """The 9 (side, flags, seq, ack, payload) of one connection."""
    ci, si = rng.getrandbits(32), rng.getrandbits(32)
    cdata = bytes([0x61 + f["i"] % 26]) * rng.randint(1, 300)
    sdata = bytes([0x41 + f["i"] % 26]) * rng.randint(1, 600)
    m = 0xFFFFFFFF
    c1, s1 = (ci + 1) & m, (si + 1) & m
    c2, s2 = (c1 + len(cdata)) & m, (s1 + len(sdata)) & m
    S, A, P, F = 0x02, 0x10, 0x08, 0x01
    return [
        ("c", S, ci, 0, b""),
        ("s", S | A, si, c1, b""),
        ("c", A, c1, s1, b""),
        ("c", P | A, c1, s1, cdata),
        ("s", P | A, s1, c2, sdata),
        ("c", A, c2, s2, b""),
        ("c", F | A, c2, s2, b""),
        ("s", F | A, s2, (c2 + 1) & m, b""),
        ("c", A, (c2 + 1) & m, (s2 + 1) & m, b""),
    ]


def build(n_flows=2000, seed=1):
    rng = random.Random(seed)
    flows, events = [], []
    kinds = {"v4": 0, "v6": 0, "v4_vlan": 0}
    for i in range(n_flows):
        r = rng.random()
        v6 = r < 0.2
        vlan = (1 + i % 4094) if 0.2 <= r < 0.3 else 0
        k = i % 4
        if v6:
            c = ipaddress.IPv6Address("2001:db8:c::") + i + 1
            s = ipaddress.IPv6Address(SERVERS6[k])
        else:
            c = ipaddress.IPv4Address("10.64.0.0") + i + 1
            s = ipaddress.IPv4Address(SERVERS4[k])
        kinds["v6" if v6 else ("v4_vlan" if vlan else "v4")] += 1
        f = dict(i=i, v6=v6, vlan=vlan, c=c.packed, s=s.packed, cport=1024 + rng.randrange(60000),
                 sport=SPORTS[k], ipid={"c": rng.getrandbits(16), "s": rng.getrandbits(16)})
        flows.append(f)
        # virtual times: start anywhere in the run, steps 1..40 units apart (~45 open at once)
        t = rng.randrange(n_flows * 4)
        for step, pkt in enumerate(flow_packets(f, rng)):
            events.append((t, i, step, pkt))
            t += rng.randint(1, 40)
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    cap = ftgen.Capture("many_flows")
    for _, i, step, (side, flags, seq, ack, payload) in events:
        f = flows[i]
        ipid = f["ipid"][side]
        f["ipid"][side] = (ipid + 1) & 0xFFFF
        cap.add(frame(f, side, flags, seq, ack, payload, ipid), "tcp")
    cap.extra = {"tcp_connections": n_flows, "flows_by_kind": kinds, "seed": seed,
                 "frames_per_flow": FRAMES_PER_FLOW}
    return cap


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--flows", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv[1:])
    os.makedirs(a.outdir, exist_ok=True)
    path, tpath = build(a.flows, a.seed).write(a.outdir, with_frames=False)
    print(path)
    print(tpath)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
