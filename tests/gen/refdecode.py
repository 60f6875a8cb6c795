# SPDX-License-Identifier: BSD-3-Clause
"""Reference classifier for the generators: the decoder contract in Python.

It follows the rules written for lib/decode (ft_decode.h and the test brief),
independently of the C code, so that a capture's truth is computed from the
bytes the generator wrote and not typed twice by hand. Every generator labels
each frame with the class it meant to build; ftgen.Capture checks that this
classifier agrees, so a frame that does not say what it was meant to say
fails at generation time.

classify(frame) -> (cls, reason): cls is one of CLASSES, reason is a
malformed-reason name (ft_malformed_name()) when cls == "malformed", else None.
"""

import struct

CLASSES = ("tcp", "udp", "icmp", "other_ip", "fragment", "non_ip", "malformed")

VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)
MAX_VLAN = 2
MAX_IP6_EXT = 8
# Extension headers measured in 8-byte units ((len + 1) * 8).
IP6_EXT_8 = (0, 43, 60, 135, 139, 140)
IP6_AH = 51
IP6_FRAG = 44
IP6_OTHER = (59, 50)  # no next header, ESP: payload not decodable
PPPOE_SESSION = 0x8864  # discovery (0x8863) is just another non-IP ethertype
PPPOE_HLEN = 6
PPP_PROTO_LEN = 2
# PPP protocol -> the ethertype it stands for; any other (LCP, IPCP, ...) is not IP
PPP_TO_ETHERTYPE = {0x0021: 0x0800, 0x0057: 0x86DD}


def _u16(b, o):
    return struct.unpack_from("!H", b, o)[0]


def sum16(data):
    """The ones' complement sum of data's 16-bit words (RFC 1071), folded."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def _mal(reason):
    return ("malformed", reason)


def _l4(b, proto, p, end, v6, ctx):
    """Transport header at p; the IP datagram ends at end (<= len(b))."""
    avail = end - p
    ctx["proto"] = proto
    if proto in (6, 17) and avail >= 4:
        ctx["ports"] = (_u16(b, p), _u16(b, p + 2))
    if proto == 6:
        if avail < 20:
            return _mal("trunc_tcp")
        ctx["tcp"] = (p, end, v6)
        doff = b[p + 12] >> 4
        if doff < 5:
            return _mal("tcp_bad_doff")
        hlen = doff * 4
        if hlen > avail:
            return _mal("tcp_doff_overrun")
        i, hend = p + 20, p + hlen
        while i < hend:
            kind = b[i]
            if kind == 0:  # end of option list
                break
            if kind == 1:  # NOP
                i += 1
                continue
            # A length byte past the header, below 2 or running past it:
            # the walk ends (Linux's tcp_parse_options()), the segment is TCP.
            if i + 1 >= hend or b[i + 1] < 2 or i + b[i + 1] > hend:
                ctx["opt_bad"] = True
                break
            i += b[i + 1]
        return ("tcp", None)
    if proto == 17:
        if avail < 8:
            return _mal("trunc_udp")
        ulen = _u16(b, p + 4)
        if ulen < 8 or ulen > avail:
            return _mal("udp_bad_len")
        return ("udp", None)
    if (proto == 1 and not v6) or (proto == 58 and v6):
        if avail < 4:
            return _mal("trunc_icmp")
        return ("icmp", None)
    return ("other_ip", None)


def _ip4(b, off, ctx):
    n = len(b)
    if n - off < 20:
        return _mal("trunc_ip4")
    if b[off] >> 4 != 4:
        return _mal("ip4_bad_version")
    ihl = b[off] & 0x0F
    if ihl < 5 or off + ihl * 4 > n:
        return _mal("ip4_bad_ihl")
    tot = _u16(b, off + 2)
    if tot < ihl * 4 or off + tot > n:
        return _mal("ip4_bad_totlen")
    ctx["addrs"] = (b[off + 12:off + 16], b[off + 16:off + 20])
    frag = _u16(b, off + 6)
    if frag & 0x2000 or frag & 0x1FFF:
        r = ("fragment", None)
    else:
        r = _l4(b, b[off + 9], off + ihl * 4, off + tot, False, ctx)
    # A host checks the header's sum before it looks further; flowtap judges
    # the sum of a packet that decodes (a malformed one keeps its reason).
    if r[0] != "malformed" and sum16(b[off:off + ihl * 4]) != 0xFFFF:
        return _mal("ip4_bad_checksum")
    return r


def _ip6(b, off, ctx):
    n = len(b)
    if n - off < 40:
        return _mal("trunc_ip6")
    if b[off] >> 4 != 6:
        return _mal("ip6_bad_version")
    end = off + 40 + _u16(b, off + 4)
    if end > n:
        return _mal("ip6_bad_plen")
    ctx["addrs"] = (b[off + 8:off + 24], b[off + 24:off + 40])
    nh, p, count = b[off + 6], off + 40, 0
    while True:
        if nh in IP6_EXT_8 or nh == IP6_AH or nh == IP6_FRAG:
            count += 1
            if count > MAX_IP6_EXT:
                return _mal("ip6_ext_too_many")
            if p + 2 > end:
                return _mal("ip6_ext_trunc")
            if nh == IP6_FRAG:
                hl = 8
            elif nh == IP6_AH:
                hl = (b[p + 1] + 2) * 4
            else:
                hl = (b[p + 1] + 1) * 8
            if p + hl > end:
                return _mal("ip6_ext_trunc")
            if nh == 43 and b[p + 3] != 0 and hl >= 24:
                # segments left: a transport checksum sums the final destination
                if b[p + 2] in (0, 2):
                    ctx["final_dst"] = b[p + 8 + 16 * ((hl - 8) // 16 - 1):][:16]
                elif b[p + 2] == 4:
                    ctx["final_dst"] = b[p + 8:p + 24]
            if nh == IP6_FRAG:
                fo = _u16(b, p + 2)
                if (fo >> 3) != 0 or (fo & 1):
                    return ("fragment", None)
                # atomic fragment: keep walking
            nh = b[p]
            p += hl
            continue
        if nh in IP6_OTHER:
            return ("other_ip", None)
        return _l4(b, nh, p, end, True, ctx)


def _pppoe(b, off, ctx):
    """PPPoE session header + PPP protocol at off: (ethertype carried or None, payload end) or a malformed result.

    The 8 bytes are a fixed header (cut: trunc_pppoe); version/type 1/1 and code 0 or pppoe_bad_header; the
    length covers the PPP protocol field and stays within the frame or pppoe_bad_len. The session id is not
    part of a connection's identity (see ft_decode.c), so ctx only records it.
    """
    n = len(b)
    if n - off < PPPOE_HLEN + PPP_PROTO_LEN:
        return _mal("trunc_pppoe")
    if b[off] != 0x11 or b[off + 1] != 0:
        return _mal("pppoe_bad_header")
    plen = _u16(b, off + 4)
    if plen < PPP_PROTO_LEN or off + PPPOE_HLEN + plen > n:
        return _mal("pppoe_bad_len")
    ctx["pppoe_sid"] = _u16(b, off + 2)
    return PPP_TO_ETHERTYPE.get(_u16(b, off + PPPOE_HLEN)), off + PPPOE_HLEN + plen


def classify(frame, ctx=None):
    """ctx (a dict), when given, receives vlans, pppoe_sid, addrs, proto, ports as far as decoded."""
    if ctx is None:
        ctx = {}
    b = bytes(frame)
    ctx["vlans"] = []
    n = len(b)
    if n < 14:
        return _mal("trunc_ether")
    et, off, tags = _u16(b, 12), 14, 0
    while et in VLAN_TPIDS:
        if tags == MAX_VLAN:
            return _mal("vlan_too_deep")
        if n < off + 4:
            return _mal("trunc_vlan")
        ctx["vlans"].append(_u16(b, off) & 0x0FFF)
        et = _u16(b, off + 2)
        off += 4
        tags += 1
    if et == PPPOE_SESSION:
        r = _pppoe(b, off, ctx)
        if r[0] == "malformed":
            return r
        et, end = r
        # the PPPoE payload is the frame for what PPP carries: bytes after it are padding
        b, off = b[:end], off + PPPOE_HLEN + PPP_PROTO_LEN
    if et == 0x0800:
        return _ip4(b, off, ctx)
    if et == 0x86DD:
        return _ip6(b, off, ctx)
    return ("non_ip", None)


def tcp_opt_bad(frame):
    """True for a TCP frame whose options end in a bad length (packets.tcp_opt_invalid)."""
    ctx = {}
    return classify(frame, ctx)[0] == "tcp" and ctx.get("opt_bad", False)


def tcp_pseudo_header(src, dst, n):
    """The pseudo-header a TCP checksum of n bytes sums: IPv4's (4-byte
    addresses, 16-bit length) or IPv6's (16-byte, 32-bit length)."""
    if len(src) == 16:
        return src + dst + struct.pack("!IxxxB", n, 6)
    return src + dst + struct.pack("!xBH", 6, n)


def tcp_csum(frame):
    """A TCP frame's checksum verdict as flowtap's default (checksums = auto)
    gives it: "good", "bad", "partial" (only the pseudo-header's sum, what a
    host with checksum offload writes: taken) or "unchecked" (the segment is
    cut short of its IP length); None when the frame is not TCP."""
    ctx = {}
    if classify(frame, ctx)[0] != "tcp":
        return None
    b = bytes(frame)
    p, end, v6 = ctx["tcp"]
    if end > len(b):
        return "unchecked"
    src, dst = ctx["addrs"]
    dst = ctx.get("final_dst", dst)
    n = end - p
    pseudo = tcp_pseudo_header(src, dst, n)
    if sum16(pseudo + b[p:end]) in (0xFFFF, 0):
        return "good"
    field = _u16(b, p + 16)
    ps = sum16(pseudo)
    if field == ps or (field, ps) in ((0, 0xFFFF), (0xFFFF, 0)):
        return "partial"
    return "bad"


def label(frame):
    """'tcp', 'udp', ... or 'malformed:<reason>'."""
    cls, reason = classify(frame)
    return cls if reason is None else "malformed:" + reason


def conn_key(frame):
    """Direction-free key of a TCP frame's connection (VLANs, addresses, ports), else None."""
    ctx = {}
    cls, _ = classify(frame, ctx)
    if cls != "tcp" or tcp_csum(frame) == "bad":
        return None  # a segment its receiver drops makes no connection
    (a, b), (ap, bp) = ctx["addrs"], ctx["ports"]
    ends = sorted(((a, ap), (b, bp)))
    return (tuple(ctx["vlans"]), ends[0], ends[1])
