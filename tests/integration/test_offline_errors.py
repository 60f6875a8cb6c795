#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Set-up errors of `flowtap --pcap`: each one exits non-zero with exactly one
line on stderr, starting "flowtap: " and naming the file or key at fault, and
no run (failed or successful) leaves /var/run/dpdk/flowtap-<pid> behind.

Cases: missing capture, a directory, 0-byte file, garbage, text, a cut pcap
header, link types IEEE 802.11 and PPP, --config missing, config files
with an unknown key / unknown section / bad value, --set with a bad value,
an unknown key, no '=', --workers 0 / 9 / abc, --mode with a bad value, an
unknown option, --pcap without a value. Then a good run (exit 0, nothing
left) and, for reference only, a capture cut in the middle of a record.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402

c = ftlib.checker("offline set-up errors")


def one_error(name, args, names, timeout=60):
    """args must fail with one 'flowtap: ' line on stderr containing every string of names."""
    r = ftlib.run_flowtap(args, timeout=timeout)
    lines = r.stderr.splitlines()
    c.check("%s: exit status != 0" % name, r.rc not in (0, None) and not r.timed_out, r.brief())
    c.check("%s: exactly one stderr line" % name, len(lines) == 1, "%d lines: %r" % (len(lines), r.stderr[:800]))
    first = lines[0] if lines else ""
    c.check("%s: line starts with 'flowtap: '" % name, first.startswith("flowtap: "), repr(first))
    for s in names:
        c.check("%s: line names %r" % (name, s), s in r.stderr, repr(first))
    c.check("%s: no runtime directory left" % name, not r.leftover, r.leftover)
    if ftlib.checker().verbose:
        c.note("%s -> %r" % (name, first))
    return r


def main():
    ftlib.require_binary()
    good = ftlib.data("smtp.pcap")
    with ftlib.tempdir() as tmp:
        bad = ftlib.gen("gen_bad_captures").build(os.path.join(tmp, "bad"))

        c.section("captures")
        missing = os.path.join(tmp, "no-such-capture.pcap")
        one_error("missing capture", ["--pcap", missing], [missing])
        one_error("directory as capture", ["--pcap", tmp], [tmp])
        for n, what in (("empty.pcap", "0-byte file"), ("garbage.pcap", "garbage file"),
                        ("text.pcap", "text file"), ("short_header.pcap", "pcap header cut at 12 bytes"),
                        ("wifi.pcap", "link type IEEE 802.11"), ("ppp.pcap", "link type PPP")):
            one_error(what, ["--pcap", bad[n]], [bad[n]])
        if os.geteuid() != 0:
            unreadable = os.path.join(tmp, "unreadable.pcap")
            with open(good, "rb") as f, open(unreadable, "wb") as g:
                g.write(f.read())
            os.chmod(unreadable, 0)
            one_error("unreadable capture", ["--pcap", unreadable], [unreadable])
        else:
            c.skip("unreadable capture", "running as root: permissions do not stop reading")

        c.section("configuration")
        nocfg = "/nonexistent/flowtap.conf"
        one_error("--config missing file", ["--pcap", good, "--config", nocfg], [nocfg])
        cfgs = {
            "unknown_key.conf": ("[ports]\nrx_desc = 1024\nno_such_key = 1\n", ["no_such_key"]),
            "unknown_section.conf": ("[no_such_section]\nrx_desc = 1024\n", ["no_such_section"]),
            "bad_value.conf": ("[ports]\nrx_desc = abc\n", ["rx_desc"]),
        }
        for fname, (text, names) in cfgs.items():
            p = os.path.join(tmp, fname)
            with open(p, "w") as f:
                f.write(text)
            # ft_config.h: errors name the file, the section and the key
            one_error("config %s" % fname, ["--pcap", good, "--config", p], [fname] + names)

        c.section("command line")
        one_error("--set ports.rx_desc=abc", ["--pcap", good, "--set", "ports.rx_desc=abc"], ["rx_desc"])
        one_error("--set nosuch.key=1", ["--pcap", good, "--set", "nosuch.key=1"], ["nosuch"])
        one_error("--set without '='", ["--pcap", good, "--set", "ports.rx_desc"], ["ports.rx_desc"])
        for v in ("0", "9", "abc"):
            one_error("--workers %s" % v, ["--pcap", good, "--workers", v], ["workers"])
        one_error("--reader sideways", ["--pcap", good, "--reader", "sideways"], ["--reader", "sideways"])
        one_error("--mode sideways", ["--pcap", good, "--mode", "sideways"], ["mode", "sideways"])
        one_error("unknown option", ["--pcap", good, "--no-such-option"], ["--no-such-option"])
        one_error("--pcap without a value", ["--pcap"], ["--pcap"])

        c.section("good runs leave nothing behind")
        out = os.path.join(tmp, "stats.json")
        for w in (1, 3):
            r = ftlib.run_flowtap(["--pcap", good, "--workers", str(w), "--stats-json", out])
            c.eq("smtp.pcap --workers %d: exit status" % w, r.rc, 0, r.brief())
            c.check("smtp.pcap --workers %d: no runtime directory left" % w, not r.leftover, r.leftover)

        # Not a set-up error by the contract: a capture damaged after 2 frames.
        out = os.path.join(tmp, "stats-trunc.json")
        r = ftlib.run_flowtap(["--pcap", bad["truncated_record.pcap"], "--stats-json", out], timeout=60)
        c.check("truncated record: no runtime directory left", not r.leftover, r.leftover)
        rx = ftlib.dig(ftlib.load_json(out), "packets.rx", None) if os.path.isfile(out) else None
        c.note("truncated record (reference only): rc=%s rx=%s stderr=%r" % (r.rc, rx, r.stderr.strip()[:300]))
    ftlib.finish()


if __name__ == "__main__":
    main()
