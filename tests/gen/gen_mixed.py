#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A bit of everything, with exactly known counts.

TCP flows (IPv4 and IPv6, both directions, untagged, 802.1Q, QinQ 88a8 and
9100), IPv6 TCP behind extension headers (HBH+DST, exactly 8 headers, AH,
routing, atomic fragment), UDP and ICMP over v4 and v6, other IP protocols
(GRE, ESP, SCTP, IGMP, IPv6 no-next-header), non-IP (ARP, LLDP, STP over
802.3, MPLS), PPPoE sessions (IPv4 and IPv6 in PPPoE, untagged, 802.1Q and
QinQ; LCP, IPCP, IPv6CP and discovery are non-IP), IPv4 and IPv6 fragments,
and at least one frame for every malformed reason of lib/decode/ft_decode.h,
crafted as raw bytes where scapy would fix them. Boundary cases sit next to
the malformed ones (2 VLAN tags fine, 3 not; 8 IPv6 extension headers fine, 9
not; Ethernet padding after a datagram is fine, a transport header that only
fits thanks to it is not; a PPPoE header complete to the last byte is fine,
one byte short is not; the PPPoE length, not the frame, bounds the IP datagram).

The truth (tests/data/mixed.json) is counted from the frames written:
each frame is labelled with what it was built to be, and refdecode.py (the
decoder contract in Python) must agree, or generation fails.

Usage: gen_mixed.py [OUTDIR]   (default tests/data)
"""

import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftgen  # noqa: E402
import refdecode  # noqa: E402

from scapy.all import (ARP, DNS, DNSQR, DNSRR, GRE, ICMP, IP, IPv6,  # noqa: E402
                       ICMPv6EchoReply, ICMPv6EchoRequest, IPOption_RR, ICMPv6ND_NS, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting,
                       IPv6ExtHdrSegmentRouting, LLC,
                       STP, TCP, UDP, Dot1Q, Dot3, Ether, Raw, fragment)

MAC_A, MAC_B = "00:00:5e:00:53:01", "00:00:5e:00:53:02"
BCAST = "ff:ff:ff:ff:ff:ff"
V4A, V4B, V4C = "10.0.0.1", "10.0.0.2", "10.0.0.3"
V6A, V6B = "2001:db8::1", "2001:db8::2"


def eth(vlans=(), src=MAC_A, dst=MAC_B):
    """Ethernet (+ tags) as scapy layers; TPIDs are patched by tagged()."""
    p = Ether(src=src, dst=dst)
    for v in vlans:
        p = p / Dot1Q(vlan=v)
    return p


def tagged(pkt, tpids):
    """Bytes of pkt with its VLAN TPIDs set (scapy writes 0x8100 for each)."""
    b = bytearray(bytes(pkt))
    for i, tp in enumerate(tpids):
        struct.pack_into("!H", b, 12 + 4 * i, tp)
    return bytes(b)


def raw_eth(ethertype, payload, dst=MAC_B, src=MAC_A):
    return bytes.fromhex(dst.replace(":", "")) + bytes.fromhex(src.replace(":", "")) + \
        struct.pack("!H", ethertype) + payload


def raw_ip4(proto, l4, ihl=5, tot=None, ver=4, ident=0x4242, frag=0x4000, ttl=64,
            src=V4A, dst=V4B, opts=b""):
    """IPv4 header bytes (checksum right) + l4; every field can be wrong on purpose."""
    if tot is None:
        tot = ihl * 4 + len(l4)
    h = struct.pack("!BBHHHBBH4s4s", (ver << 4) | ihl, 0, tot & 0xFFFF, ident, frag, ttl, proto, 0,
                    bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    h += opts
    cs = ftgen.inet_csum(h[:20] + opts)
    h = h[:10] + struct.pack("!H", cs) + h[12:]
    return h + tcp_csum_filled(proto, l4, h[12:16], h[16:20])


def tcp_csum_filled(proto, l4, src, dst):
    """l4 with its TCP checksum written in when raw_tcp() left it 0, as a
    host sends it (a segment with a wrong one is another frame: its receiver
    drops it); anything else as it is."""
    if proto != 6 or len(l4) < 18 or l4[16:18] != b"\0\0":
        return l4
    cs = ftgen.tcp_checksum(src, dst, l4)
    return l4[:16] + struct.pack("!H", cs) + l4[18:]


def ip6_addr(a):
    import ipaddress
    return ipaddress.IPv6Address(a).packed


def raw_ip6(nh, payload, plen=None, ver=6, hlim=64, src=V6A, dst=V6B, tcp_at=None):
    """IPv6 header + payload; tcp_at: where TCP starts in payload, after extension headers."""
    if plen is None:
        plen = len(payload)
    if tcp_at is None:
        tcp_at, nh_tcp = 0, nh
    else:
        nh_tcp = 6
    tcp = payload[tcp_at:]
    return (struct.pack("!IHBB", ver << 28, plen & 0xFFFF, nh, hlim) + ip6_addr(src) + ip6_addr(dst) +
            payload[:tcp_at] +
            tcp_csum_filled(nh_tcp, tcp, ip6_addr(src), ip6_addr(dst)))


def ext8(nh, units=0, fill=b""):
    """(units+1)*8-byte extension header (HBH, DST, routing...) with PadN/zero fill."""
    body = fill.ljust((units + 1) * 8 - 2, b"\0")
    return struct.pack("!BB", nh, units) + body


def raw_tcp(sport=1234, dport=80, seq=1, ack=0, doff=5, flags=0x02, win=1024, opts=b"", payload=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, win, 0, 0) + opts + payload


def raw_udp(sport=5353, dport=53, length=None, payload=b""):
    if length is None:
        length = 8 + len(payload)
    return struct.pack("!HHHH", sport, dport, length, 0) + payload


def pad60(b):
    return b + b"\0" * (60 - len(b)) if len(b) < 60 else b


PPPOE_SID = 0x2a17
PPP_IP4, PPP_IP6, PPP_LCP, PPP_IPCP, PPP_IP6CP = 0x0021, 0x0057, 0xC021, 0x8021, 0x8057
PPP_OF_ETHERTYPE = {0x0800: PPP_IP4, 0x86DD: PPP_IP6}


def pppoe(proto, payload, plen=None, ver_type=0x11, code=0, sid=PPPOE_SID):
    """PPPoE session header + PPP protocol + payload; plen (the PPPoE length) counts the protocol field."""
    if plen is None:
        plen = 2 + len(payload)
    return struct.pack("!BBHHH", ver_type, code, sid, plen, proto) + payload


def tags(tpids_vids, ethertype, payload):
    """Ethernet with the given (TPID, VLAN id) tags, outer first, then ethertype and payload."""
    types = [tp for tp, _ in tpids_vids] + [ethertype]  # each tag is followed by the next type field
    body = b"".join(struct.pack("!HH", vid, types[i + 1]) for i, (_, vid) in enumerate(tpids_vids))
    return raw_eth(types[0], body + payload)


def in_pppoe(frame, pad=False):
    """An Ethernet (+ tags) IPv4/IPv6 frame carried in a PPPoE session instead: the ethertype becomes 0x8864
    and the PPPoE header and PPP protocol go in front of the datagram; bytes after the datagram stay after it."""
    b = bytes(frame)
    e = 12
    while struct.unpack_from("!H", b, e)[0] in refdecode.VLAN_TPIDS:
        e += 4
    et, ip = struct.unpack_from("!H", b, e)[0], e + 2
    iplen = struct.unpack_from("!H", b, ip + 2)[0] if et == 0x0800 else 40 + struct.unpack_from("!H", b, ip + 4)[0]
    out = b[:e] + struct.pack("!H", 0x8864) + pppoe(PPP_OF_ETHERTYPE[et], b[ip:ip + iplen]) + b[ip + iplen:]
    return pad60(out) if pad else out


def tcp_flows(cap):
    # 1. IPv4 untagged, full SYN options, IP options on a data segment, padding, FIN close
    t = ftgen.Tcp(V4A, V4B, 40000, 80, 0x12345678, 0x9ABCDEF0, cmac=MAC_A, smac=MAC_B, pad=True,
                  syn_opts=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (100, 0)),
                            ("NOP", None), ("WScale", 7)])
    cap.add(t.build("c", "S"), "tcp", "v4 SYN, options MSS SACK-perm TS NOP WS")
    cap.add(t.build("s", "SA"), "tcp", "v4 SYN ACK")
    cap.add(t.build("c", "A"), "tcp", "v4 ACK, padded to 60")
    cap.add(t.build("c", "PA", b"GET / HTTP/1.0\r\n\r\n",
                    ip_opts=[IPOption_RR(routers=["0.0.0.0"] * 2)]),
            "tcp", "v4 data with IP option RR (IHL 8)")
    cap.add(t.build("s", "PA", b"HTTP/1.0 200 OK\r\n\r\nhello\n"), "tcp", "v4 server data")
    cap.add(t.build("c", "FA"), "tcp", "v4 client FIN")
    cap.add(t.build("s", "FA"), "tcp", "v4 server FIN")
    cap.add(t.build("c", "A"), "tcp", "v4 last ACK")
    # 2. IPv4, client with the higher address and port, data both ways, RST
    t = ftgen.Tcp("10.0.0.9", V4C, 51000, 443, 1, 0xFFFFFF00, cmac=MAC_B, smac=MAC_A)
    cap.add(t.build("c", "S"), "tcp", "v4 SYN (client 10.0.0.9)")
    cap.add(t.build("s", "SA"), "tcp", "v4 SYN ACK")
    cap.add(t.build("c", "A"), "tcp", "v4 ACK")
    cap.add(t.build("c", "PA", b"\x16\x03\x01" + b"x" * 100), "tcp", "v4 client data")
    cap.add(t.build("s", "PA", b"\x16\x03\x03" + b"y" * 300), "tcp", "v4 server data (seq wraps 2^32)")
    cap.add(t.build("c", "RA"), "tcp", "v4 client RST")
    # 3. 802.1Q vlan 100
    t = ftgen.Tcp(V4A, V4B, 40001, 22, 777, 888, vlans=(100,), pad=True)
    for side, fl, pl, what in (("c", "S", b"", "SYN"), ("s", "SA", b"", "SYN ACK"), ("c", "A", b"", "ACK"),
                               ("s", "PA", b"SSH-2.0-x\r\n", "server data"), ("c", "A", b"", "ACK"),
                               ("c", "RA", b"", "RST")):
        cap.add(t.build(side, fl, pl), "tcp", "802.1Q vlan 100 " + what)
    # 4. QinQ 88a8 (10) / 8100 (20): FIN close
    t = ftgen.Tcp(V4A, V4B, 40002, 25, 10, 20, vlans=(10, 20), tpids=(0x88A8, 0x8100))
    for side, fl, pl, what in (("c", "S", b"", "SYN"), ("s", "SA", b"", "SYN ACK"), ("c", "A", b"", "ACK"),
                               ("c", "PA", b"EHLO x\r\n", "client data"),
                               ("s", "PA", b"250 ok\r\n", "server data"),
                               ("c", "FA", b"", "FIN"), ("s", "FA", b"", "FIN"), ("c", "A", b"", "ACK")):
        cap.add(t.build(side, fl, pl), "tcp", "QinQ 88a8/8100 vlans 10/20 " + what)
    # 5. QinQ 9100 (30) / 8100 (40)
    t = ftgen.Tcp(V4C, V4B, 40003, 8080, 3000, 6000, vlans=(30, 40), tpids=(0x9100, 0x8100))
    for side, fl, what in (("c", "S", "SYN"), ("s", "SA", "SYN ACK"), ("c", "A", "ACK"), ("s", "RA", "RST")):
        cap.add(t.build(side, fl), "tcp", "QinQ 9100/8100 vlans 30/40 " + what)
    # 6. IPv6 flow, FIN close
    t = ftgen.Tcp(V6A, V6B, 50000, 80, 111111, 222222, v6=True)
    for side, fl, pl, what in (("c", "S", b"", "SYN"), ("s", "SA", b"", "SYN ACK"), ("c", "A", b"", "ACK"),
                               ("c", "PA", b"GET /v6 HTTP/1.0\r\n\r\n", "client data"),
                               ("s", "PA", b"HTTP/1.0 204 No Content\r\n\r\n", "server data"),
                               ("s", "FA", b"", "server FIN"), ("c", "FA", b"", "client FIN"),
                               ("s", "A", b"", "ACK")):
        cap.add(t.build(side, fl, pl), "tcp", "v6 " + what)
    # 7. IPv6 TCP behind HBH + DST, both directions
    for i, (src, dst, sp, dp, fl) in enumerate(((V6A, V6B, 50001, 443, "S"), (V6B, V6A, 443, 50001, "SA"))):
        p = Ether(src=MAC_A, dst=MAC_B) / IPv6(src=src, dst=dst) / IPv6ExtHdrHopByHop() / \
            IPv6ExtHdrDestOpt() / TCP(sport=sp, dport=dp, flags=fl, seq=9000 + i, ack=(9001 if i else 0))
        cap.add(p, "tcp", "v6 HBH+DST then TCP " + fl)
    # 8. exactly 8 extension headers then TCP: still TCP
    pl = raw_tcp(50002, 80, 1, 0)
    chain = b""
    nh = 6
    for _ in range(8):
        chain = ext8(nh) + chain
        nh = 60
    cap.add(raw_eth(0x86DD, raw_ip6(60, chain + pl, tcp_at=len(chain))), "tcp", "v6 8 DST ext headers then TCP SYN (limit)")
    # 9. routing header, AH, atomic fragment in front of TCP
    p = Ether(src=MAC_A, dst=MAC_B) / IPv6(src=V6A, dst=V6B) / IPv6ExtHdrRouting(addresses=[V6B]) / \
        TCP(sport=50003, dport=80, flags="S", seq=5)
    cap.add(p, "tcp", "v6 routing header then TCP SYN")
    # Routing headers on their way (segments left): scapy sums the final
    # destination, as RFC 8200 8.1 asks and flowtap checks
    hop = "2001:db8:ff::9"
    for rh, what in ((IPv6ExtHdrSegmentRouting(addresses=[V6B, hop], segleft=1), "SRH"),
                     (IPv6ExtHdrRouting(addresses=[V6B], segleft=1), "type 0 routing header")):
        p = Ether(src=MAC_A, dst=MAC_B) / IPv6(src=V6A, dst=hop) / rh / \
            TCP(sport=50007 if what == "SRH" else 50008, dport=80, flags="S", seq=5)
        cap.add(p, "tcp", "v6 %s, 1 segment left, then TCP SYN (checksum of the final destination)" % what)
    ah = struct.pack("!BBHII", 6, 4, 0, 0x1000, 1) + b"\0" * 12  # (4+2)*4 = 24 bytes
    cap.add(raw_eth(0x86DD, raw_ip6(51, ah + raw_tcp(50004, 80, 7, 0), tcp_at=len(ah))), "tcp", "v6 AH then TCP SYN")
    p = Ether(src=MAC_A, dst=MAC_B) / IPv6(src=V6A, dst=V6B) / IPv6ExtHdrFragment(offset=0, m=0, id=77) / \
        TCP(sport=50005, dport=80, flags="S", seq=9)
    cap.add(p, "tcp", "v6 atomic fragment header then TCP SYN (not a fragment)")


def udp_icmp(cap):
    q = Ether(src=MAC_A, dst=MAC_B) / IP(src=V4A, dst=V4B, id=1) / UDP(sport=33333, dport=53) / \
        DNS(id=0x1234, rd=1, qd=DNSQR(qname="example.com"))
    cap.add(q, "udp", "v4 DNS query")
    r = Ether(src=MAC_B, dst=MAC_A) / IP(src=V4B, dst=V4A, id=2) / UDP(sport=53, dport=33333) / \
        DNS(id=0x1234, qr=1, rd=1, ra=1, qd=DNSQR(qname="example.com"),
            an=DNSRR(rrname="example.com", rdata="192.0.2.1"))
    cap.add(r, "udp", "v4 DNS response")
    cap.add(tagged(eth((200,)) / IP(src=V4A, dst=V4C) / UDP(sport=123, dport=123) / Raw(b"\x23" + b"\0" * 47),
                   (0x8100,)), "udp", "802.1Q vlan 200 NTP")
    cap.add(Ether(src=MAC_A, dst=MAC_B) / IPv6(src=V6A, dst=V6B) / UDP(sport=546, dport=547) / Raw(b"\x01abc"),
            "udp", "v6 UDP DHCPv6-ish")
    cap.add(Ether(src=MAC_B, dst=MAC_A) / IPv6(src=V6B, dst=V6A) / IPv6ExtHdrHopByHop() / UDP(sport=547, dport=546),
            "udp", "v6 HBH then UDP, empty payload")
    cap.add(pad60(bytes(Ether(src=MAC_A, dst=MAC_B) / IP(src=V4A, dst=V4B) / UDP(sport=7, dport=7))),
            "udp", "v4 UDP no payload, padded")
    # ICMP
    cap.add(Ether(src=MAC_A, dst=MAC_B) / IP(src=V4A, dst=V4B) / ICMP(type=8, id=1, seq=1) / Raw(b"ping" * 8),
            "icmp", "v4 echo request")
    cap.add(Ether(src=MAC_B, dst=MAC_A) / IP(src=V4B, dst=V4A) / ICMP(type=0, id=1, seq=1) / Raw(b"ping" * 8),
            "icmp", "v4 echo reply")
    cap.add(Ether(src=MAC_B, dst=MAC_A) / IP(src=V4B, dst=V4A) / ICMP(type=3, code=3) /
            IP(src=V4A, dst=V4B) / UDP(sport=1, dport=2), "icmp", "v4 port unreachable")
    cap.add(Ether(src=MAC_A, dst=MAC_B) / IPv6(src=V6A, dst=V6B) / ICMPv6EchoRequest(id=2, seq=1, data=b"v6ping"),
            "icmp", "v6 echo request")
    cap.add(Ether(src=MAC_B, dst=MAC_A) / IPv6(src=V6B, dst=V6A) / ICMPv6EchoReply(id=2, seq=1, data=b"v6ping"),
            "icmp", "v6 echo reply")
    cap.add(Ether(src=MAC_A, dst="33:33:ff:00:00:02") / IPv6(src=V6A, dst="ff02::1:ff00:2", hlim=255) /
            ICMPv6ND_NS(tgt=V6B), "icmp", "v6 neighbour solicitation")
    cap.add(raw_eth(0x0800, raw_ip4(1, b"\x08\x00\xf7\xff")), "icmp", "v4 ICMP exactly 4 bytes (limit)")


def other_ip(cap):
    cap.add(Ether(src=MAC_A, dst=MAC_B) / IP(src=V4A, dst=V4B) / GRE() / IP(src="192.0.2.1", dst="192.0.2.2") /
            ICMP(), "other_ip", "v4 GRE carrying IPv4/ICMP")
    cap.add(raw_eth(0x0800, raw_ip4(50, struct.pack("!II", 0x100, 1) + b"\xaa" * 32)), "other_ip", "v4 ESP")
    cap.add(raw_eth(0x0800, raw_ip4(132, struct.pack("!HHII", 3868, 3868, 0, 0))), "other_ip", "v4 SCTP header")
    cap.add(pad60(raw_eth(0x0800, raw_ip4(2, b"\x16\x00\xfa\xfd\xe0\x00\x00\xfb", ttl=1))), "other_ip",
            "v4 IGMP report, padded")
    cap.add(raw_eth(0x86DD, raw_ip6(59, b"")), "other_ip", "v6 no next header")
    cap.add(raw_eth(0x86DD, raw_ip6(0, ext8(59) + b"ignored")), "other_ip",
            "v6 HBH then no next header (bytes after it ignored)")
    cap.add(raw_eth(0x86DD, raw_ip6(50, struct.pack("!II", 0x200, 1) + b"\xbb" * 24)), "other_ip", "v6 ESP")
    cap.add(raw_eth(0x86DD, raw_ip6(60, ext8(50) + struct.pack("!II", 0x201, 1) + b"\xcc" * 16)), "other_ip",
            "v6 DST then ESP")


def non_ip(cap):
    cap.add(Ether(src=MAC_A, dst=BCAST) / ARP(op=1, hwsrc=MAC_A, psrc=V4A, pdst=V4B), "non_ip", "ARP request")
    cap.add(Ether(src=MAC_B, dst=MAC_A) / ARP(op=2, hwsrc=MAC_B, psrc=V4B, hwdst=MAC_A, pdst=V4A), "non_ip",
            "ARP reply")
    cap.add(tagged(eth((100,), src=MAC_A, dst=BCAST) / ARP(op=1, hwsrc=MAC_A, psrc=V4A, pdst=V4C), (0x8100,)),
            "non_ip", "802.1Q ARP request")
    lldp = bytes.fromhex("020704" + "00005e005301" + "040703" + "00005e005301" + "06020078" + "0000")
    cap.add(raw_eth(0x88CC, lldp, dst="01:80:c2:00:00:0e"), "non_ip", "LLDP")
    cap.add(Dot3(src=MAC_A, dst="01:80:c2:00:00:00") / LLC() / STP(), "non_ip", "802.3 length + LLC STP BPDU")
    cap.add(pad60(raw_eth(0x8847, struct.pack("!I", (16 << 12) | (1 << 8) | 64) +
                          raw_ip4(17, raw_udp(1, 2, payload=b"mpls")))), "non_ip", "MPLS carrying IPv4")


def pppoe_sessions(cap):
    """PPPoE session frames (RFC 2516) as an access network carries them, then every way the header can fail."""
    M = "malformed:"
    qinq = ((0x88A8, 300), (0x8100, 301))
    # TCP connections in a session: v4 untagged, v4 QinQ, v6 untagged, v6 QinQ
    for v6, vlans, tpids, cli, srv, cport, what in (
            (False, (), None, V4A, V4C, 40100, "v4 PPPoE"),
            (False, (300, 301), (0x88A8, 0x8100), "100.64.0.7", "198.51.100.80", 40101, "QinQ 300/301 + PPPoE v4"),
            (True, (), None, V6A, V6B, 50100, "v6 PPPoE"),
            (True, (300, 301), (0x88A8, 0x8100), "2001:db8:64::7", "2001:db8:c633::80", 50101,
             "QinQ 300/301 + PPPoE v6")):
        t = ftgen.Tcp(cli, srv, cport, 80, 7000, 9000, v6=v6, vlans=vlans, tpids=tpids)
        for side, fl, pl, step in (("c", "S", b"", "SYN"), ("s", "SA", b"", "SYN ACK"), ("c", "A", b"", "ACK"),
                                   ("c", "PA", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "client data"),
                                   ("s", "PA", b"HTTP/1.1 204 No Content\r\n\r\n", "server data"),
                                   ("c", "RA", b"", "client RST")):
            cap.add(in_pppoe(t.build(side, fl, pl)), "tcp", "%s %s" % (what, step))
    # other transports in a session
    cap.add(in_pppoe(tagged(eth((400,)) / IP(src=V4A, dst=V4B, id=3) / UDP(sport=33334, dport=53) /
                            DNS(id=0x4321, rd=1, qd=DNSQR(qname="example.org")), (0x8100,))),
            "udp", "802.1Q vlan 400 + PPPoE v4 DNS query")
    cap.add(in_pppoe(Ether(src=MAC_A, dst=MAC_B) / IP(src=V4A, dst=V4B) / UDP(sport=7, dport=7), pad=True),
            "udp", "PPPoE v4 UDP no payload, padded to 60 (PPPoE length excludes the padding)")
    cap.add(raw_eth(0x8864, pppoe(PPP_IP4, raw_ip4(17, raw_udp(9, 9, payload=b"ab")) + b"\xee" * 4)),
            "udp", "PPPoE payload 4 bytes longer than the v4 datagram in it")
    cap.add(in_pppoe(Ether(src=MAC_A, dst=MAC_B) / IP(src=V4A, dst=V4B) / ICMP(type=8, id=4, seq=1) /
                     Raw(b"pppoe" * 4)), "icmp", "PPPoE v4 echo request")
    cap.add(in_pppoe(tagged(eth((300, 301)) / IPv6(src=V6A, dst=V6B) / ICMPv6EchoRequest(id=5, seq=1, data=b"p6"),
                            (0x88A8, 0x8100))), "icmp", "QinQ + PPPoE v6 echo request")
    cap.add(raw_eth(0x8864, pppoe(PPP_IP4, raw_ip4(50, struct.pack("!II", 0x300, 1) + b"\xdd" * 16))),
            "other_ip", "PPPoE v4 ESP")
    cap.add(raw_eth(0x8864, pppoe(PPP_IP6, raw_ip6(59, b""))), "other_ip", "PPPoE v6 no next header")
    # PPP control protocols and discovery: not IP
    cap.add(raw_eth(0x8864, pppoe(PPP_LCP, bytes.fromhex("01010008010405d4"))), "non_ip",
            "PPPoE LCP Configure-Request (MRU 1492)")
    cap.add(tags(qinq, 0x8864, pppoe(PPP_LCP, bytes.fromhex("090200080a0b0c0d"))), "non_ip",
            "QinQ + PPPoE LCP Echo-Request")
    cap.add(raw_eth(0x8864, pppoe(PPP_IPCP, bytes.fromhex("0101000a0306" + "00000000"))), "non_ip",
            "PPPoE IPCP Configure-Request")
    cap.add(raw_eth(0x8864, pppoe(PPP_IP6CP, bytes.fromhex("0101000e010a" + "0200000000000001"))), "non_ip",
            "PPPoE IPv6CP Configure-Request")
    cap.add(raw_eth(0x8864, pppoe(PPP_LCP, b"")), "non_ip",
            "PPPoE LCP, length 2: header complete to the last byte (limit)")
    cap.add(raw_eth(0x8863, pppoe(0x0101, b"\0\0", ver_type=0x11, code=0x09, sid=0), dst=BCAST), "non_ip",
            "PPPoE discovery PADI (Service-Name tag)")
    cap.add(tags(qinq, 0x8863, pppoe(0x0101, b"\0\0", code=0x65)), "non_ip", "QinQ + PPPoE discovery PADS")
    cap.add(raw_eth(0x8863, b"\x11"), "non_ip", "PPPoE discovery, 1 byte (discovery is not walked)")
    # the PPPoE header itself
    hdr = pppoe(PPP_IP4, b"")
    cap.add(raw_eth(0x8864, b""), M + "trunc_pppoe", "PPPoE ethertype, no header")
    cap.add(raw_eth(0x8864, hdr[:5]), M + "trunc_pppoe", "5 bytes of PPPoE header")
    cap.add(raw_eth(0x8864, hdr[:6]), M + "trunc_pppoe", "PPPoE header, no PPP protocol")
    cap.add(raw_eth(0x8864, hdr[:7]), M + "trunc_pppoe", "PPPoE header + 1 byte of PPP protocol (one short)")
    cap.add(tags(qinq, 0x8864, hdr[:7]), M + "trunc_pppoe", "QinQ + PPPoE, PPP protocol cut")
    v4 = raw_ip4(6, raw_tcp(40199, 80))
    cap.add(raw_eth(0x8864, pppoe(PPP_IP4, v4, ver_type=0x21)), M + "pppoe_bad_header", "PPPoE version 2")
    cap.add(raw_eth(0x8864, pppoe(PPP_IP4, v4, ver_type=0x12)), M + "pppoe_bad_header", "PPPoE type 2")
    cap.add(raw_eth(0x8864, pppoe(PPP_IP4, v4, code=0x09)), M + "pppoe_bad_header",
            "PPPoE session ethertype, code 0x09 (PADI)")
    cap.add(tags(qinq, 0x8864, pppoe(PPP_IP4, v4, code=0xA7)), M + "pppoe_bad_header",
            "QinQ + PPPoE session ethertype, code 0xa7 (PADT)")
    cap.add(raw_eth(0x8864, pppoe(PPP_IP4, v4, plen=2 + len(v4) + 1)), M + "pppoe_bad_len",
            "PPPoE length 1 byte beyond the frame")
    cap.add(raw_eth(0x8864, pppoe(PPP_IP4, v4, plen=1000)), M + "pppoe_bad_len", "PPPoE length 1000")
    cap.add(raw_eth(0x8864, pppoe(PPP_IP4, v4, plen=1)), M + "pppoe_bad_len", "PPPoE length 1 (half a PPP protocol)")
    cap.add(tags(qinq, 0x8864, pppoe(PPP_IP4, v4, plen=0)), M + "pppoe_bad_len", "QinQ + PPPoE length 0")
    # the PPPoE length bounds the datagram even where the frame has the bytes
    cap.add(raw_eth(0x8864, pppoe(PPP_IP4, b"")), M + "trunc_ip4", "PPPoE + PPP IPv4, frame ends there")
    cap.add(raw_eth(0x8864, pppoe(PPP_IP4, raw_ip4(1, b"\x08\x00\xf7\xff"), plen=2)), M + "trunc_ip4",
            "PPPoE length 2: the IPv4 after the PPP protocol is outside the session payload")
    cap.add(raw_eth(0x8864, pppoe(PPP_IP4, v4, plen=2 + 12)), M + "trunc_ip4",
            "PPPoE length cuts the IPv4 header at 12 bytes (frame has 40)")
    cap.add(raw_eth(0x8864, pppoe(PPP_IP4, v4, plen=2 + len(v4) - 1)), M + "ip4_bad_totlen",
            "IPv4 total length 1 byte beyond the PPPoE payload (inside the frame)")
    v6 = raw_ip6(6, raw_tcp(50199, 80))
    cap.add(raw_eth(0x8864, pppoe(PPP_IP6, v6, plen=2 + len(v6) - 1)), M + "ip6_bad_plen",
            "IPv6 payload length 1 byte beyond the PPPoE payload (inside the frame)")
    cap.add(raw_eth(0x8864, pppoe(PPP_IP6, v6[:39])), M + "trunc_ip6", "PPPoE + 39 bytes of IPv6")


def fragments(cap):
    datagrams = 0
    # IPv4 UDP datagram in 3 fragments
    big = IP(src=V4A, dst=V4B, id=0xBEEF, flags=0) / UDP(sport=4000, dport=4001) / Raw(bytes(range(256)) * 1)
    frs = fragment(big, fragsize=96)
    for i, f in enumerate(frs):
        cap.add(Ether(src=MAC_A, dst=MAC_B) / f, "fragment", "v4 UDP fragment %d/%d" % (i + 1, len(frs)))
    datagrams += 1
    # IPv4 ICMP in 2 fragments, last fragment first (out of order)
    big = IP(src=V4B, dst=V4A, id=0x0102, flags=0) / ICMP(type=8, id=3, seq=3) / Raw(b"Z" * 120)
    frs = fragment(big, fragsize=80)
    for i, f in reversed(list(enumerate(frs))):
        cap.add(Ether(src=MAC_B, dst=MAC_A) / f, "fragment", "v4 ICMP fragment %d/%d (reversed)" % (i + 1, len(frs)))
    datagrams += 1
    # IPv6 ICMPv6 echo in 2 fragments
    full = IPv6(src=V6A, dst=V6B) / ICMPv6EchoRequest(id=9, seq=9, data=b"F" * 150)
    payload = bytes(full)[40:]
    half = 80
    f1 = Ether(src=MAC_A, dst=MAC_B) / IPv6(src=V6A, dst=V6B) / \
        IPv6ExtHdrFragment(nh=58, offset=0, m=1, id=0xABCD) / Raw(payload[:half])
    f2 = Ether(src=MAC_A, dst=MAC_B) / IPv6(src=V6A, dst=V6B) / \
        IPv6ExtHdrFragment(nh=58, offset=half // 8, m=0, id=0xABCD) / Raw(payload[half:])
    cap.add(f1, "fragment", "v6 ICMPv6 fragment 1/2 (M=1, offset 0)")
    cap.add(f2, "fragment", "v6 ICMPv6 fragment 2/2 (offset 80)")
    datagrams += 1
    # IPv6 fragment header behind HBH (UDP)
    full = IPv6(src=V6B, dst=V6A) / UDP(sport=5000, dport=5001) / Raw(b"U" * 100)
    payload = bytes(full)[40:]
    for i, (lo, hi, m) in enumerate(((0, 64, 1), (64, len(payload), 0))):
        f = Ether(src=MAC_B, dst=MAC_A) / IPv6(src=V6B, dst=V6A) / IPv6ExtHdrHopByHop() / \
            IPv6ExtHdrFragment(nh=17, offset=lo // 8, m=m, id=0x5555) / Raw(payload[lo:hi])
        cap.add(f, "fragment", "v6 HBH then UDP fragment %d/2" % (i + 1))
    datagrams += 1
    return datagrams


def malformed(cap):
    M = "malformed:"
    v4tcp = raw_ip4(6, raw_tcp())
    # Ethernet
    cap.add(raw_eth(0x0800, b"")[:10], M + "trunc_ether", "10-byte frame")
    cap.add(raw_eth(0x0800, b"")[:13], M + "trunc_ether", "13-byte frame")
    # VLAN
    cap.add(raw_eth(0x8100, b"\x00\x64"), M + "trunc_vlan", "802.1Q tag cut after the TCI")
    cap.add(raw_eth(0x88A8, b"\x00\x0a\x81\x00\x00"), M + "trunc_vlan", "QinQ: inner tag cut after 1 byte")
    cap.add(raw_eth(0x88A8, b"\x00\x0a\x81\x00\x00\x14\x81\x00\x00\x1e\x08\x00" + v4tcp), M + "vlan_too_deep",
            "3 complete tags then IPv4 TCP")
    cap.add(raw_eth(0x9100, b"\x00\x0a\x91\x00\x00\x14\x81\x00\x00\x1e\x08\x00" + v4tcp), M + "vlan_too_deep",
            "3 complete tags (9100/9100/8100)")
    # IPv4
    cap.add(raw_eth(0x0800, v4tcp[:19]), M + "trunc_ip4", "19 bytes of IPv4")
    cap.add(raw_eth(0x0800, b""), M + "trunc_ip4", "IPv4 ethertype, no header")
    cap.add(tagged(Ether(src=MAC_A, dst=MAC_B) / Dot1Q(vlan=5, type=0x0800) / Raw(v4tcp[:12]), (0x8100,)),
            M + "trunc_ip4", "802.1Q then 12 bytes of IPv4")
    cap.add(raw_eth(0x0800, raw_ip6(6, raw_tcp())), M + "ip4_bad_version", "IPv4 ethertype carrying IPv6")
    cap.add(raw_eth(0x0800, raw_ip4(6, raw_tcp(), ver=5)), M + "ip4_bad_version", "IPv4 version 5")
    cap.add(raw_eth(0x0800, raw_ip4(6, raw_tcp(), ihl=4, tot=40)), M + "ip4_bad_ihl", "IHL 4")
    cap.add(raw_eth(0x0800, raw_ip4(6, raw_tcp(), ihl=0, tot=40)), M + "ip4_bad_ihl", "IHL 0")
    b = bytearray(raw_ip4(6, raw_tcp()))
    b[0] = 0x4F  # IHL 15: 60 bytes, only 40 captured
    cap.add(raw_eth(0x0800, bytes(b)), M + "ip4_bad_ihl", "IHL 15 beyond the 40 captured bytes")
    cap.add(raw_eth(0x0800, raw_ip4(6, raw_tcp(), tot=19)), M + "ip4_bad_totlen", "total length 19 < IHL*4")
    cap.add(raw_eth(0x0800, raw_ip4(6, raw_tcp(), tot=1000)), M + "ip4_bad_totlen", "total length 1000 > frame")
    cap.add(raw_eth(0x0800, raw_ip4(6, raw_tcp(), tot=41)), M + "ip4_bad_totlen", "total length 1 byte > frame")
    b = bytearray(raw_ip4(6, raw_tcp(sport=1240, flags=0x02)))
    b[10] ^= 0x01  # the header checksum one bit off: a host drops it unread
    cap.add(raw_eth(0x0800, bytes(b)), M + "ip4_bad_checksum", "SYN whose IPv4 header checksum is wrong")
    b = bytearray(raw_ip4(17, raw_udp(payload=b"frag"), ident=0x5151, frag=0x2000))
    b[10:12] = b"\0\0"
    cap.add(raw_eth(0x0800, bytes(b)), M + "ip4_bad_checksum",
            "first fragment (MF) with a zero header checksum: never reaches reassembly")
    # IPv6
    cap.add(raw_eth(0x86DD, raw_ip6(6, raw_tcp())[:39]), M + "trunc_ip6", "39 bytes of IPv6")
    cap.add(raw_eth(0x86DD, raw_ip4(6, raw_tcp())), M + "ip6_bad_version", "IPv6 ethertype carrying IPv4 (40 B)")
    cap.add(raw_eth(0x86DD, raw_ip6(6, raw_tcp(), ver=0)), M + "ip6_bad_version", "IPv6 version 0")
    cap.add(raw_eth(0x86DD, raw_ip6(6, raw_tcp(), plen=500)), M + "ip6_bad_plen", "payload length 500 > frame")
    cap.add(raw_eth(0x86DD, raw_ip6(6, raw_tcp(), plen=21)), M + "ip6_bad_plen", "payload length 1 byte > frame")
    cap.add(raw_eth(0x86DD, raw_ip6(0, ext8(6, units=2) + raw_tcp(), plen=16)), M + "ip6_ext_trunc",
            "HBH of 24 bytes in a 16-byte payload (frame has more)")
    cap.add(raw_eth(0x86DD, raw_ip6(60, ext8(6) + raw_tcp(), plen=4)), M + "ip6_ext_trunc",
            "DST header starts 4 bytes before the datagram end")
    cap.add(raw_eth(0x86DD, raw_ip6(44, struct.pack("!BBHI", 6, 0, 1, 1), plen=6)), M + "ip6_ext_trunc",
            "fragment header cut by the payload length")
    cap.add(raw_eth(0x86DD, raw_ip6(51, struct.pack("!BBHII", 6, 4, 0, 1, 1) + b"\0" * 4)), M + "ip6_ext_trunc",
            "AH says 24 bytes, 16 in the datagram")
    chain, nh = b"", 6
    for _ in range(9):
        chain = ext8(nh) + chain
        nh = 60
    cap.add(raw_eth(0x86DD, raw_ip6(60, chain + raw_tcp())), M + "ip6_ext_too_many",
            "9 DST ext headers then TCP")
    chain, nh = b"", 6
    for i in range(9):
        chain = ext8(nh) + chain
        nh = 0 if i == 8 else 60
    cap.add(raw_eth(0x86DD, raw_ip6(0, chain + raw_tcp())), M + "ip6_ext_too_many",
            "HBH + 8 DST ext headers then TCP")
    # TCP
    cap.add(raw_eth(0x0800, raw_ip4(6, raw_tcp()[:12])), M + "trunc_tcp", "12 bytes of TCP")
    cap.add(pad60(raw_eth(0x0800, raw_ip4(6, raw_tcp()[:8]))) + b"\0" * 8, M + "trunc_tcp",
            "8 bytes of TCP in the datagram, padding after it")
    cap.add(raw_eth(0x86DD, raw_ip6(6, raw_tcp()[:19])), M + "trunc_tcp", "v6: 19 bytes of TCP")
    cap.add(raw_eth(0x86DD, raw_ip6(60, ext8(6) + raw_tcp()[:16])), M + "trunc_tcp", "v6 DST then 16 bytes of TCP")
    cap.add(raw_eth(0x0800, raw_ip4(6, raw_tcp(doff=4))), M + "tcp_bad_doff", "data offset 4")
    cap.add(raw_eth(0x86DD, raw_ip6(6, raw_tcp(doff=0))), M + "tcp_bad_doff", "v6 data offset 0")
    cap.add(raw_eth(0x0800, raw_ip4(6, raw_tcp(doff=6))), M + "tcp_doff_overrun", "data offset 6 in 20 bytes")
    ip = raw_ip4(6, raw_tcp(doff=8))
    cap.add(raw_eth(0x0800, ip) + b"\0" * 20, M + "tcp_doff_overrun",
            "data offset 8, 20 bytes in the datagram, 20 bytes of padding after it")
    cap.add(raw_eth(0x86DD, raw_ip6(6, raw_tcp(doff=15))), M + "tcp_doff_overrun", "v6 data offset 15")
    # Bad option lengths: the walk ends there and the segment is TCP (as
    # Linux takes it), counted in packets.tcp_opt_invalid.
    cap.add(raw_eth(0x0800, raw_ip4(6, raw_tcp(doff=6, opts=b"\x02\x00\x05\xb4"))), "tcp",
            "MSS option length 0")
    cap.add(raw_eth(0x0800, raw_ip4(6, raw_tcp(doff=6, opts=b"\x01\x08\x01\x01"))), "tcp",
            "NOP then option kind 8 length 1")
    cap.add(raw_eth(0x0800, raw_ip4(6, raw_tcp(doff=6, opts=b"\x01\x03\x08\x07"))), "tcp",
            "window scale length 8 in a 4-byte option area")
    cap.add(raw_eth(0x86DD, raw_ip6(6, raw_tcp(doff=7, opts=b"\x02\x04\x05\xb4\x08\x0a\x00\x00"))),
            "tcp", "v6: MSS then timestamps cut by the header end")
    cap.add(raw_eth(0x0800, raw_ip4(6, raw_tcp(doff=6, opts=b"\x01\x01\x01\x04"))), "tcp",
            "NOP NOP NOP then a kind byte with no length byte")
    # a good option walk next to the bad ones
    cap.add(raw_eth(0x0800, raw_ip4(6, raw_tcp(doff=6, opts=b"\x02\x04\x05\xb4"))), "tcp", "MSS option, exact fit")
    cap.add(raw_eth(0x0800, raw_ip4(6, raw_tcp(doff=6, opts=b"\x00\xff\xff\xff"))), "tcp",
            "end-of-options then junk (not walked)")
    # TCP checksums: a host drops a wrong one (tcp, packets.tcp_bad_checksum, no
    # connection); one holding only the pseudo-header's sum is what a host with
    # checksum offload hands its capture (tcp, packets.tcp_checksum_partial)
    for v6, sport in ((False, 1250), (True, 1251)):
        ip = (lambda l4: raw_ip6(6, l4)) if v6 else (lambda l4: raw_ip4(6, l4))
        b = bytearray(ip(raw_tcp(sport=sport, payload=b"csum")))
        b[-4 - 20 + 16] ^= 0x80
        cap.add(raw_eth(0x86DD if v6 else 0x0800, bytes(b)), "tcp",
                "v%d SYN with 4 bytes whose TCP checksum is wrong" % (6 if v6 else 4))
    src, dst = bytes(map(int, V4A.split("."))), bytes(map(int, V4B.split(".")))
    seg = raw_tcp(sport=1252, payload=b"offload")
    partial = refdecode.sum16(refdecode.tcp_pseudo_header(src, dst, len(seg)))
    cap.add(raw_eth(0x0800, raw_ip4(6, seg[:16] + struct.pack("!H", partial) + seg[18:])), "tcp",
            "SYN whose TCP checksum is the pseudo-header's sum (sent with checksum offload)")
    # UDP
    cap.add(raw_eth(0x0800, raw_ip4(17, raw_udp()[:6])), M + "trunc_udp", "6 bytes of UDP")
    cap.add(pad60(raw_eth(0x0800, raw_ip4(17, raw_udp()[:4]))), M + "trunc_udp", "4 bytes of UDP, padded frame")
    cap.add(raw_eth(0x86DD, raw_ip6(17, raw_udp()[:7])), M + "trunc_udp", "v6: 7 bytes of UDP")
    cap.add(raw_eth(0x0800, raw_ip4(17, raw_udp(length=4, payload=b"abcd"))), M + "udp_bad_len", "UDP length 4")
    cap.add(raw_eth(0x0800, raw_ip4(17, raw_udp(length=100, payload=b"abcd"))), M + "udp_bad_len",
            "UDP length 100 in a 12-byte datagram")
    cap.add(pad60(raw_eth(0x0800, raw_ip4(17, raw_udp(length=13, payload=b"abcd")))), M + "udp_bad_len",
            "UDP length 13 > 12-byte datagram (padding after it)")
    cap.add(raw_eth(0x86DD, raw_ip6(17, raw_udp(length=0, payload=b"x"))), M + "udp_bad_len", "v6 UDP length 0")
    # ICMP
    cap.add(raw_eth(0x0800, raw_ip4(1, b"\x08\x00")), M + "trunc_icmp", "2 bytes of ICMP")
    cap.add(pad60(raw_eth(0x0800, raw_ip4(1, b"\x08\x00\xf7"))), M + "trunc_icmp", "3 bytes of ICMP, padded frame")
    cap.add(raw_eth(0x86DD, raw_ip6(58, b"\x80\x00\x00")), M + "trunc_icmp", "v6: 3 bytes of ICMPv6")
    cap.add(raw_eth(0x86DD, raw_ip6(0, ext8(58) + b"\x80")), M + "trunc_icmp", "v6 HBH then 1 byte of ICMPv6")


def build():
    cap = ftgen.Capture("mixed")
    tcp_flows(cap)
    udp_icmp(cap)
    other_ip(cap)
    non_ip(cap)
    pppoe_sessions(cap)
    datagrams = fragments(cap)
    malformed(cap)
    missing = [r for r, n in cap.counts()["malformed"].items() if r != "total" and n == 0]
    if missing:
        raise AssertionError("no frame for malformed reason(s): " + ", ".join(missing))
    cap.extra = {
        "tcp_connections": cap.tcp_connections(),
        "fragmented_datagrams_complete": datagrams,
    }
    return cap


def main(argv):
    return ftgen.write_main(build, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
