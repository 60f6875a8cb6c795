#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The canonical session of DESIGN.md section 2, as a capture.

SMTP, client 192.168.1.10 port 1042 to server 192.168.1.20 port 25, absolute
ISNs 1000 (client) and 5000 (server): three-way handshake, the server's
banner, the client sends "help" (exactly 4 bytes, so the server's ack moves
by 4), then tries VRFY and EXPN to find user names; the server closes with a
FIN and the client's stack answers with a RST (its application had already
gone away with SO_LINGER 0: the abortive close, RST|ACK acknowledging the
FIN). Each side acknowledges what it received as a real stack does: data
piggybacks the ack, otherwise a pure ACK.

Usage: gen_smtp.py [OUTDIR]   (default tests/data) -> smtp.pcap, smtp.json
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftgen  # noqa: E402

CLIENT, SERVER = "192.168.1.10", "192.168.1.20"
CPORT, SPORT = 1042, 25
CISN, SISN = 1000, 5000

BANNER = b"220 mail.example.com ESMTP ready\r\n"
HELP = b"help"
HELP_REPLY = (b"214-Commands supported:\r\n"
              b"214 HELO EHLO MAIL RCPT DATA RSET NOOP QUIT HELP VRFY EXPN\r\n")
VRFY = b"VRFY root\r\n"
VRFY_REPLY = b"252 2.5.2 Cannot VRFY user; try RCPT to attempt delivery\r\n"
EXPN = b"EXPN users\r\n"
EXPN_REPLY = b"550 5.7.1 EXPN not allowed\r\n"


def build():
    cap = ftgen.Capture("smtp")
    t = ftgen.Tcp(CLIENT, SERVER, CPORT, SPORT, CISN, SISN, cwin=8192, swin=8760)
    steps = [
        ("c", "S", b"", "SYN: client opens, seq X"),
        ("s", "SA", b"", "SYN ACK: seq Y, ack X+1"),
        ("c", "A", b"", "ACK: seq X+1, ack Y+1 (established)"),
        ("s", "PA", BANNER, "server banner 220"),
        ("c", "A", b"", "client acks the banner"),
        ("c", "PA", HELP, "client: help (4 bytes)"),
        ("s", "PA", HELP_REPLY, "server: 214 help text, acks 4 bytes"),
        ("c", "A", b"", "client acks"),
        ("c", "PA", VRFY, "client: VRFY root"),
        ("s", "PA", VRFY_REPLY, "server: 252"),
        ("c", "A", b"", "client acks"),
        ("c", "PA", EXPN, "client: EXPN users"),
        ("s", "PA", EXPN_REPLY, "server: 550"),
        ("c", "A", b"", "client acks"),
        ("s", "FA", b"", "server closes: FIN"),
        ("c", "RA", b"", "client stack answers the FIN with RST"),
    ]
    for side, flags, payload, what in steps:
        cap.add(t.build(side, flags, payload), "tcp", what)
    cap.extra = {
        "tcp_flows": 1,
        "client": {"ip": CLIENT, "port": CPORT, "isn": CISN},
        "server": {"ip": SERVER, "port": SPORT, "isn": SISN},
        "ladder": t.ladder,
    }
    return cap


def main(argv):
    return ftgen.write_main(build, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
