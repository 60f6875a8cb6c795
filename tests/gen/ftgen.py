# SPDX-License-Identifier: BSD-3-Clause
"""Shared pieces of the capture generators (run them with /usr/bin/python3).

- a pcap writer/reader of its own (exact timestamps, any link type, any frame
  length, no dependency on scapy's writer),
- the malformed-reason names, read from lib/decode/ft_decode.h,
- Capture: collects frames with the class each was meant to have, checks the
  reference classifier (refdecode.py) agrees, writes FILE.pcap and the truth
  FILE.json beside it, with every counter computed from the frames.

Timestamps: frame i is at 2026-01-01 00:00:00 UTC + i ms.
"""

import json
import os
import re
import struct

import refdecode

T0 = 1767225600  # 2026-01-01T00:00:00Z
GEN_DIR = os.path.dirname(os.path.abspath(__file__))
SRC_ROOT = os.path.normpath(os.path.join(GEN_DIR, "..", ".."))
DECODE_H = os.path.join(SRC_ROOT, "lib", "decode", "ft_decode.h")

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113

PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D


def ts_of(i):
    """(seconds, microseconds) of frame i."""
    return T0 + i // 1000, (i % 1000) * 1000


def pcap_header(linktype=LINKTYPE_ETHERNET, snaplen=65535):
    return struct.pack("<IHHiIII", PCAP_MAGIC_US, 2, 4, 0, 0, snaplen, linktype)


def pcap_record(i, data, wirelen=None):
    sec, usec = ts_of(i)
    return struct.pack("<IIII", sec, usec, len(data), len(data) if wirelen is None else wirelen) + data


def write_pcap(path, frames, linktype=LINKTYPE_ETHERNET, snaplen=65535):
    """Write frames (bytes) 1 ms apart from T0."""
    with open(path, "wb") as f:
        f.write(pcap_header(linktype, snaplen))
        for i, fr in enumerate(frames):
            f.write(pcap_record(i, bytes(fr)))


def read_pcap(path):
    """Return (linktype, [(sec, frac, caplen, wirelen, data)]). Classic pcap only."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 24:
        raise ValueError("%s: shorter than a pcap header" % path)
    magic = struct.unpack_from("<I", buf, 0)[0]
    if magic in (PCAP_MAGIC_US, PCAP_MAGIC_NS):
        e = "<"
    elif struct.unpack_from(">I", buf, 0)[0] in (PCAP_MAGIC_US, PCAP_MAGIC_NS):
        e = ">"
    else:
        raise ValueError("%s: not a classic pcap (magic %08x)" % (path, magic))
    linktype = struct.unpack_from(e + "I", buf, 20)[0] & 0x0FFFFFFF
    recs, off = [], 24
    while off + 16 <= len(buf):
        sec, frac, incl, orig = struct.unpack_from(e + "IIII", buf, off)
        off += 16
        if off + incl > len(buf):
            raise ValueError("%s: record %d cut off" % (path, len(recs) + 1))
        recs.append((sec, frac, incl, orig, buf[off:off + incl]))
        off += incl
    return linktype, recs


def malformed_reasons(header=DECODE_H):
    """Reason names in enum order, from FT_MAL_* in ft_decode.h (lower-cased)."""
    with open(header) as f:
        text = f.read()
    m = re.search(r"enum\s+ft_malformed_reason\s*\{(.*?)\}", text, re.S)
    if not m:
        raise RuntimeError("enum ft_malformed_reason not found in " + header)
    names = re.findall(r"\bFT_MAL_([A-Z0-9_]+)", re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S))
    return [n.lower() for n in names if n not in ("NONE", "MAX")]


class Capture:
    """Frames plus what each is meant to be; writes the pcap and its truth."""

    def __init__(self, name):
        self.name = name
        self.frames = []   # bytes
        self.labels = []   # "tcp", ..., "malformed:<reason>"
        self.whats = []    # short description
        self.extra = {}    # more truth (flows, datagrams, ladder ...)

    def add(self, frame, expect, what=""):
        """Append one frame; expect is a class or 'malformed:<reason>'."""
        b = bytes(frame)
        got = refdecode.label(b)
        if got != expect:
            raise AssertionError("%s frame %d (%s): built as %s but the contract says %s"
                                 % (self.name, len(self.frames) + 1, what, expect, got))
        self.frames.append(b)
        self.labels.append(expect)
        self.whats.append(what)
        return len(self.frames)  # 1-based frame number, as tshark counts

    def tcp_connections(self):
        """Distinct TCP connections (VLANs + both endpoints) among the tcp frames."""
        return len({refdecode.conn_key(f) for f, lab in zip(self.frames, self.labels) if lab == "tcp"} - {None})

    def counts(self):
        pk = {"rx": len(self.frames), "rx_bytes": sum(len(f) for f in self.frames)}
        for c in refdecode.CLASSES:
            if c != "malformed":
                pk[c] = 0
        mal = {"total": 0}
        for r in malformed_reasons():
            mal[r] = 0
        for lab in self.labels:
            if lab.startswith("malformed:"):
                r = lab.split(":", 1)[1]
                if r not in mal:
                    raise AssertionError("reason %s is not in ft_decode.h" % r)
                mal[r] += 1
                mal["total"] += 1
            else:
                pk[lab] += 1
        pk["malformed"] = mal
        pk["tcp_opt_invalid"] = sum(1 for f in self.frames if refdecode.tcp_opt_bad(f))
        verdicts = [refdecode.tcp_csum(f) for f in self.frames]
        pk["tcp_bad_checksum"] = verdicts.count("bad")
        pk["tcp_checksum_partial"] = verdicts.count("partial")
        pk["tcp_checksum_unchecked"] = verdicts.count("unchecked")
        return pk

    def truth(self):
        t = {
            "capture": self.name + ".pcap",
            "generator": "tests/gen/gen_%s.py" % self.name,
            "first_ts": "2026-01-01T00:00:00Z",
            "frame_spacing_ms": 1,
            "packets": self.counts(),
        }
        t.update(self.extra)
        t["frames"] = ["%d %s %s" % (i + 1, lab, w) for i, (lab, w)
                       in enumerate(zip(self.labels, self.whats))]
        return t

    def write(self, outdir, pcap_name=None, with_frames=True):
        pcap_name = pcap_name or self.name + ".pcap"
        path = os.path.join(outdir, pcap_name)
        write_pcap(path, self.frames)
        t = self.truth()
        if not with_frames:
            del t["frames"]
        tpath = truth_path(path)
        with open(tpath, "w") as f:
            json.dump(t, f, indent=1, sort_keys=False)
            f.write("\n")
        return path, tpath


def truth_path(pcap_path):
    base = pcap_path[:-5] if pcap_path.endswith(".pcap") else pcap_path
    return base + ".json"


def inet_csum(data):
    """The Internet checksum (RFC 1071) of data."""
    return ~refdecode.sum16(data) & 0xFFFF


def tcp_checksum(src, dst, segment):
    """The right checksum of a TCP segment (its checksum field 0) between
    src and dst (4- or 16-byte addresses)."""
    return inet_csum(refdecode.tcp_pseudo_header(src, dst, len(segment)) + segment)


def with_bad_tcp_csum(frame):
    """The frame with its TCP checksum made wrong (a host drops it unread)."""
    ctx = {}
    refdecode.classify(frame, ctx)
    b = bytearray(frame)
    b[ctx["tcp"][0] + 16] ^= 0x5A
    return b


def write_main(build, argv):
    """main() of a generator whose build() returns a Capture: write it to
    argv[1] (default tests/data) and print the two paths."""
    outdir = argv[1] if len(argv) > 1 else default_data_dir()
    os.makedirs(outdir, exist_ok=True)
    path, tpath = build().write(outdir)
    print(path)
    print(tpath)
    return 0


def default_data_dir():
    return os.path.join(SRC_ROOT, "tests", "data")


class TcpEnds:
    """Both ends of one TCP connection, "c" (client) and "s" (server): ep[side]
    holds the end's ip, port, mac, nxt (its next sequence number) and ipid
    (its next IPv4 id), and ack_of[side] what it acknowledges. What Tcp below
    and gen_tcp.py's Conn share; each keeps its own bookkeeping of what a
    segment advances."""

    def __init__(self, ep, v6=False, vlans=(), tpids=None):
        self.ep = ep
        self.ack_of = {"c": 0, "s": 0}  # what each side acknowledges: the peer's next byte
        self.v6, self.vlans = v6, tuple(vlans)
        if tpids is None:  # two tags: 802.1ad, an S-tag outside the C-tag
            tpids = (0x88A8, 0x8100) if len(self.vlans) == 2 else (0x8100,) * len(self.vlans)
        self.tpids = tuple(tpids)

    def segment(self, side, flags, seq=None, ack=None):
        """The sender's end, the receiver's side, and the seq and ack of a
        segment from side: unless given, the sender's next sequence number and,
        with ACK, what the sender acknowledges (else 0)."""
        me = self.ep[side]
        if seq is None:
            seq = me["nxt"]
        if ack is None:
            ack = self.ack_of[side] if "A" in flags else 0
        return me, "s" if side == "c" else "c", seq, ack

    def frame(self, side, flags, seq, ack, window, options, ttl, payload=b"", ip_opts=None, urgptr=0):
        """A segment from side, built with scapy: Ethernet, a tag per VLAN,
        IPv4 (DF; the sender's IP id, which advances) or IPv6, TCP, payload.
        Returns the frame as a bytearray (callers may pad it) and the TCP
        layer (its flags, its header length)."""
        from scapy.all import Ether, Dot1Q, IP, IPv6, TCP, Raw
        me = self.ep[side]
        peer = self.ep["s" if side == "c" else "c"]
        tcp = TCP(sport=me["port"], dport=peer["port"], seq=seq, ack=ack, flags=flags,
                  window=window, options=options, urgptr=urgptr)
        if self.v6:
            ip = IPv6(src=me["ip"], dst=peer["ip"], hlim=ttl)
        else:
            ip = IP(src=me["ip"], dst=peer["ip"], ttl=ttl, id=me["ipid"], flags="DF")
            if ip_opts is not None:
                ip.options = ip_opts
            me["ipid"] = (me["ipid"] + 1) & 0xFFFF
        pkt = Ether(src=me["mac"], dst=peer["mac"])
        for vid in self.vlans:
            pkt = pkt / Dot1Q(vlan=vid)
        pkt = pkt / ip / tcp
        if payload:
            pkt = pkt / Raw(payload)
        raw = bytearray(bytes(pkt))
        for i, tp in enumerate(self.tpids):  # scapy writes 0x8100 for every tag
            struct.pack_into("!H", raw, 12 + 4 * i, tp)
        return raw, tcp


class Tcp(TcpEnds):
    """One TCP connection as a real stack writes it: tracks seq, ack and IP id of
    both ends so callers only say who sends what. build(side, flags, payload)
    returns the frame bytes (built with scapy); side is "c" or "s"."""

    def __init__(self, cli, srv, cport, sport, cisn, sisn, v6=False, vlans=(), tpids=None,
                 cmac="00:00:5e:00:53:0a", smac="00:00:5e:00:53:14",
                 cwin=8192, swin=8760, ttl=64, syn_opts=None, pad=False):
        super().__init__({
            "c": dict(ip=cli, port=cport, mac=cmac, nxt=cisn, win=cwin, ipid=0x1c46),
            "s": dict(ip=srv, port=sport, mac=smac, nxt=sisn, win=swin, ipid=0x3a10),
        }, v6, vlans, tpids)
        self.ttl, self.pad = ttl, pad
        self.syn_opts = [("MSS", 1460)] if syn_opts is None else syn_opts
        self.ladder = []

    def build(self, side, flags, payload=b"", seq=None, ack=None, ip_opts=None):
        me, other, seq, ack = self.segment(side, flags, seq, ack)
        opts = self.syn_opts if "S" in flags else []
        raw, _ = self.frame(side, flags, seq, ack, me["win"], opts, self.ttl, payload, ip_opts)
        if self.pad and len(raw) < 60:
            raw += b"\x00" * (60 - len(raw))  # Ethernet padding, after the datagram
        adv = len(payload) + ("S" in flags) + ("F" in flags)  # SYN, FIN take one number
        if seq == me["nxt"] and adv:
            me["nxt"] = (seq + adv) & 0xFFFFFFFF
            self.ack_of[other] = me["nxt"]
        self.ladder.append({"dir": "c>s" if side == "c" else "s>c", "flags": flags,
                            "seq": seq, "ack": ack, "len": len(payload)})
        return bytes(raw)
