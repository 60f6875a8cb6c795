#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Captures of other link layers: what `tcpdump -i any` writes (Linux cooked
v1 and v2), raw IP (a tunnel's capture), BSD and OpenBSD loopback.

flowtap delivers each frame as an Ethernet frame: the link header replaced by
a 14-byte Ethernet header with the EtherType it names and, for a cooked
capture, the sender's MAC as source. So a foreign capture F must give exactly
what the Ethernet capture E of those frames gives, and both are written here
from Ethernet captures under tests/data (mixed.pcap: every class of frame
and malformed header; smtp.pcap; frag/frag_tcp.pcap: IPv4 and IPv6
fragments): the frames a link type can carry (cooked: all of 14 bytes or
more, VLAN tags kept; raw IP and loopback: the untagged IPv4 and IPv6 ones,
their EtherType from the version nibble for raw IP).

  - each link type (classic pcap, and cooked v2 in pcapng): exit 0, the flow
    records byte for byte, the events and every counter (packet classes,
    malformed reasons, flows, defrag, anomalies, port bytes) equal to E's;
  - from standard input (cooked v2) and with 3 workers (cooked v1);
  - a cooked v2 capture with frames longer than an mbuf (tests/data/sig/
    jumbo.pcap) is read once as a stream (the pcap PMD would give its cooked
    headers as they are): both signature matches, as from the Ethernet file;
  - tshark reads the cooked v2 smtp capture as flowtap does: its TCP frames
    are packets.tcp, its TCP streams the flow records;
  - --reader worker on a cooked capture: one error line.
"""

import json
import os
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402

c = ftlib.checker("link types")

SLL, SLL2, RAW, NULL, LOOP = 113, 276, 101, 0, 108
NAMES = {SLL: "Linux cooked v1", SLL2: "Linux cooked v2", RAW: "raw IP", NULL: "BSD loopback",
         LOOP: "OpenBSD loopback"}
ZERO_MAC = b"\0" * 6


def read_pcap(path):
    """(sec, usec, orig_len, frame) of a little-endian microsecond pcap."""
    with open(path, "rb") as f:
        b = f.read()
    assert struct.unpack_from("<I", b)[0] == 0xA1B2C3D4, path
    out, o = [], 24
    while o + 16 <= len(b):
        sec, usec, caplen, wire = struct.unpack_from("<IIII", b, o)
        out.append((sec, usec, wire, b[o + 16:o + 16 + caplen]))
        o += 16 + caplen
    return out


def write_pcap(path, linktype, recs):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        for sec, usec, wire, d in recs:
            f.write(struct.pack("<IIII", sec, usec, len(d), wire) + d)


def write_pcapng(path, linktype, recs):
    def block(t, body):
        body += b"\0" * (-len(body) % 4)
        return struct.pack("<II", t, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))
    with open(path, "wb") as f:
        f.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        f.write(block(1, struct.pack("<HHI", linktype, 0, 262144)))
        for sec, usec, wire, d in recs:
            t = sec * 1000000 + usec
            f.write(block(6, struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF, len(d), wire) + d))


def convert(frame, lt):
    """(the record of link type lt, the Ethernet frame flowtap must make of
    it), or None when the link type cannot carry the frame."""
    if len(frame) < 14:
        return None
    src, etype, net = frame[6:12], struct.unpack("!H", frame[12:14])[0], frame[14:]
    if lt == SLL:  # outgoing, ARPHRD_ETHER, the MAC in 8 bytes, protocol
        return (struct.pack("!HHH", 4, 1, 6) + src + b"\0\0" + struct.pack("!H", etype) + net,
                ZERO_MAC + src + frame[12:14] + net)
    if lt == SLL2:  # protocol, reserved, ifindex 2, ARPHRD_ETHER, incoming, MAC
        return (struct.pack("!HHIHBB", etype, 0, 2, 1, 0, 6) + src + b"\0\0" + net,
                ZERO_MAC + src + frame[12:14] + net)
    if etype not in (0x0800, 0x86DD):
        return None
    if lt == RAW:
        v = net[0] >> 4 if net else 0
        made = 0x0800 if v == 4 else 0x86DD if v == 6 else 0
        return net, ZERO_MAC * 2 + struct.pack("!H", made) + net
    af = 2 if etype == 0x0800 else (30 if lt == NULL else 24)  # macOS's, OpenBSD's AF_INET6
    hdr = struct.pack("<I" if lt == NULL else "!I", af)
    return hdr + net, ZERO_MAC * 2 + frame[12:14] + net


def pair(tmp, src, lt, ng=False):
    """Write src's frames as link type lt (F) and as what flowtap must make of
    them (E); returns (F, E, frames)."""
    recs, eth = [], []
    for sec, usec, wire, frame in read_pcap(src):
        got = convert(frame, lt)
        if got is None:
            continue
        rec, made = got
        recs.append((sec, usec, wire - len(frame) + len(rec), rec))
        eth.append((sec, usec, wire - len(frame) + len(made), made))
    base = os.path.join(tmp, "%s-%d%s" % (os.path.basename(src)[:-5], lt, "-ng" if ng else ""))
    f, e = base + (".pcapng" if ng else ".pcap"), base + "-eth.pcap"
    (write_pcapng if ng else write_pcap)(f, lt, recs)
    write_pcap(e, 1, eth)
    return f, e, len(recs)


def analyse(tmp, tag, path, extra=(), stdin=None):
    out = os.path.join(tmp, tag)
    os.makedirs(out, exist_ok=True)
    st, ev, fl = (os.path.join(out, n) for n in ("stats.json", "events.json", "flows.json"))
    args = ["--pcap", "-" if stdin else path, "--stats-json", st, "--events", ev, "--flow-log", fl,
            "--quiet"] + list(extra)
    if stdin:
        with open(path, "rb") as f:
            r = ftlib.run_flowtap(args, stdin=f)
    else:
        r = ftlib.run_flowtap(args)
    if not c.eq("%s: exit status" % tag, r.rc, 0, r.brief()):
        return None
    c.check("%s: no runtime directory left" % tag, not r.leftover, r.leftover)
    with open(ev) as f1, open(fl) as f2:
        return ftlib.load_json(st), f1.read(), f2.read()


def counters(st):
    """What must not depend on the link type: all but how it was read."""
    keep = dict(st)
    for k in ("capture", "ports", "duration_s", "workers", "mempools", "version"):
        keep.pop(k, None)
    return keep


def same(tag, got, want, frames, workers=1):
    if got is None or want is None:
        return
    st, ev, fl = got
    c.eq("%s: %d frames, all analysed" % (tag, frames), (st["capture"]["packets"], st["packets"]["rx"]),
         (frames, frames))
    c.check("%s: accounting_ok, mempools_ok" % tag,
            st.get("accounting_ok") is True and st.get("mempools_ok") is True)
    c.check("%s: counters (and port bytes) equal the Ethernet capture's" % tag,
            counters(st) == counters(want[0]) and
            st["ports"][0]["ipackets"] == want[0]["ports"][0]["ipackets"],
            [k for k in counters(st) if counters(st)[k] != counters(want[0]).get(k)])
    if workers == 1:
        c.check("%s: flow records and events byte for byte" % tag, (fl, ev) == (want[2], want[1]),
                "%d/%d record bytes, %d/%d event bytes" % (len(fl), len(want[2]), len(ev), len(want[1])))
    else:
        c.check("%s: flow records and events, in any order" % tag,
                (sorted(fl.splitlines()), sorted(ev.splitlines())) ==
                (sorted(want[2].splitlines()), sorted(want[1].splitlines())))


def each_link_type(tmp):
    c.section("each link type gives what its Ethernet frames give")
    for name in ("mixed.pcap", "smtp.pcap", "frag/frag_tcp.pcap"):
        for lt in (SLL, SLL2, RAW, NULL, LOOP):
            f, e, n = pair(tmp, ftlib.data(name), lt)
            tag = "%s as %s" % (name, NAMES[lt])
            want = analyse(tmp, tag.replace(" ", "_").replace("/", "_") + "-eth", e)
            same(tag, analyse(tmp, tag.replace(" ", "_").replace("/", "_"), f), want, n)
            if name == "mixed.pcap" and lt == SLL2:
                same(tag + ", from standard input", analyse(tmp, "stdin-sll2", f, stdin=True), want, n)
            if name == "mixed.pcap" and lt == SLL:
                w3 = analyse(tmp, "sll-3w-eth", e, ["--workers", "3"])
                same(tag + ", 3 workers", analyse(tmp, "sll-3w", f, ["--workers", "3"]), w3, n, 3)
    f, e, n = pair(tmp, ftlib.data("mixed.pcap"), SLL2, ng=True)
    same("mixed.pcap as Linux cooked v2, pcapng", analyse(tmp, "ng-sll2", f),
         analyse(tmp, "ng-sll2-eth", e), n)


def long_frames(tmp):
    c.section("frames longer than an mbuf")
    f, e, n = pair(tmp, ftlib.data("sig/jumbo.pcap"), SLL2)
    rules = ["--signatures", os.path.join(ftlib.src_dir(), "config", "signatures.rules")]
    got, want = analyse(tmp, "jumbo-sll2", f, rules), analyse(tmp, "jumbo-eth", e, rules)
    same("jumbo.pcap as Linux cooked v2", got, want, n)
    if got is not None:
        c.eq("jumbo.pcap as Linux cooked v2: read as a stream (net_null placeholder)",
             got[0]["ports"][0]["driver"], "net_null")
        c.eq("jumbo.pcap as Linux cooked v2: both signature matches (VRFY, EXPN)",
             sorted(json.loads(x)["sig_id"] for x in got[1].splitlines()), [1001, 1002])


def tshark(tmp):
    c.section("tshark reads the cooked capture as flowtap does")
    exe = shutil.which("tshark")
    if exe is None:
        c.skip("tshark cross-check", "tshark not installed")
        return
    f, _, _ = pair(tmp, ftlib.data("smtp.pcap"), SLL2)
    got = analyse(tmp, "tshark-sll2", f)
    p = subprocess.run([exe, "-r", f, "-Y", "tcp", "-T", "fields", "-e", "tcp.stream"],
                       capture_output=True, text=True, timeout=300)
    if got is None or not c.eq("tshark: exit status", p.returncode, 0, p.stderr[-300:]):
        return
    streams = p.stdout.split()
    c.eq("tshark: TCP frames are packets.tcp", len(streams), got[0]["packets"]["tcp"])
    c.eq("tshark: TCP streams are the flow records", len(set(streams)), len(got[2].splitlines()))


def refusals(tmp):
    c.section("refusals")
    f, _, _ = pair(tmp, ftlib.data("smtp.pcap"), SLL)
    r = ftlib.run_flowtap(["--pcap", f, "--reader", "worker"])
    lines = r.stderr.splitlines()
    c.check("--reader worker on a cooked capture: exit != 0, one line naming --reader worker",
            r.rc not in (0, None) and len(lines) == 1 and lines[0].startswith("flowtap: ") and
            "--reader worker" in lines[0], r.brief())


def main():
    ftlib.require_binary()
    with ftlib.tempdir() as tmp:
        each_link_type(tmp)
        long_frames(tmp)
        tshark(tmp)
        refusals(tmp)
    c.finish()


if __name__ == "__main__":
    main()
