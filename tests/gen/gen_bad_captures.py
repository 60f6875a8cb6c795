#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Captures flowtap must refuse (or handle) at set-up, written to a directory.

  wifi.pcap             link type IEEE802_11 (105): 802.11 frames (flowtap reads Ethernet,
                        Linux cooked, raw IP and loopback captures)
  ppp.pcap              link type PPP (9)
  empty.pcap            0 bytes
  garbage.pcap          4 KiB of seeded random bytes (no pcap magic)
  text.pcap             a line of text
  short_header.pcap     the first 12 bytes of a valid pcap header
  -- not set-up errors, for reference runs --
  header_only.pcap      a valid Ethernet pcap header and no frames
  truncated_record.pcap 2 good frames, then a record cut in the middle

Usage: gen_bad_captures.py OUTDIR   (prints name<TAB>path lines)
"""

import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftgen  # noqa: E402


def _ip4_udp(i):
    udp = struct.pack("!HHHH", 5000 + i, 9, 12, 0) + b"abcd"
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0,
                    bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    return h + udp


def _eth(i):
    return bytes.fromhex("00005e00530200005e005301") + b"\x08\x00" + _ip4_udp(i)


def build(outdir):
    os.makedirs(outdir, exist_ok=True)
    out = {}

    def path(name):
        p = os.path.join(outdir, name)
        out[name] = p
        return p

    # 802.11 data frames: frame control, duration, three addresses, sequence, LLC/SNAP
    wifi = [bytes.fromhex("0801000000005e00530200005e00530100005e0053020000aaaa030000000800") +
            _ip4_udp(i) for i in range(3)]
    ftgen.write_pcap(path("wifi.pcap"), wifi, linktype=105)
    # PPP in HDLC-like framing: address, control, protocol (IPv4)
    ftgen.write_pcap(path("ppp.pcap"), [b"\xff\x03\x00\x21" + _ip4_udp(i) for i in range(3)],
                     linktype=9)
    open(path("empty.pcap"), "wb").close()
    rng = random.Random(7)
    junk = bytearray(rng.getrandbits(8) for _ in range(4096))
    junk[0:4] = b"JUNK"  # never a pcap/pcapng magic, whatever the seed gives
    with open(path("garbage.pcap"), "wb") as f:
        f.write(bytes(junk))
    with open(path("text.pcap"), "w") as f:
        f.write("this is not a capture\n")
    with open(path("short_header.pcap"), "wb") as f:
        f.write(ftgen.pcap_header()[:12])
    with open(path("header_only.pcap"), "wb") as f:
        f.write(ftgen.pcap_header())
    with open(path("truncated_record.pcap"), "wb") as f:
        f.write(ftgen.pcap_header())
        for i in range(2):
            f.write(ftgen.pcap_record(i, _eth(i)))
        f.write(ftgen.pcap_record(2, _eth(2))[:30])
    return out


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    for name, p in build(argv[1]).items():
        print("%s\t%s" % (name, p))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
