#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""No leak and no memory error in whole runs of flowtap.

The ASan build runs under LeakSanitizer (ASAN_OPTIONS detect_leaks=1), the
release build under valgrind memcheck (definite leaks and every memory error
fail). Both on the mixed capture with 1 and 3 workers (hand-over, every
class, malformed frames; 3 workers also fed by the control lcore) and on the SMTP capture with the ladder and with the
signatures (Hyperscan streams from flowtap's own allocator); the DPDK
threads' "possibly lost" blocks (never joined by the EAL) are not ours.
"""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402

c = ftlib.checker("leaks and memory errors in whole runs")


def asan_build(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    return "libasan" in out


def main():
    ftlib.require_binary()
    binary = ftlib.flowtap_path()
    asan = asan_build(binary)
    if not asan and shutil.which("valgrind") is None:
        c.check("valgrind installed (scripts/install-deps installs it)", False)
        ftlib.finish()
    runs = [
        ("mixed, 1 worker", ["--pcap", ftlib.data("mixed.pcap")]),
        ("mixed, 3 workers", ["--pcap", ftlib.data("mixed.pcap"), "--workers", "3"]),
        ("mixed, 3 workers fed by the control lcore", ["--pcap", ftlib.data("mixed.pcap"), "--workers", "3",
                                                        "--reader", "control"]),
        ("smtp with the ladder", ["--pcap", ftlib.data("smtp.pcap"), "--ladder", "tcp port 25"]),
        ("smtp with signatures, 3 workers", ["--pcap", ftlib.data("smtp.pcap"), "--workers", "3",
                                              "--signatures", os.path.join(ftlib.SRC, "config",
                                                                           "signatures.rules")]),
    ]
    with ftlib.tempdir() as tmp:
        for name, args in runs:
            args = args + ["--quiet", "--stats-json", os.path.join(tmp, "s.json"),
                           "--events", os.path.join(tmp, "e.json"),
                           "--flow-log", os.path.join(tmp, "f.json")]
            if asan:
                os.environ["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=1"
                r = ftlib.run_flowtap(args, timeout=300)
                c.check("%s: exit 0 under LeakSanitizer" % name, r.rc == 0, r.brief())
                c.check("%s: no leak reported" % name, "LeakSanitizer" not in r.stderr, r.brief(3000))
            else:
                # --fair-sched=yes: valgrind runs one thread at a time, and
                # a polling worker otherwise keeps it from the control lcore
                # that feeds it (scripts/bench instructions: minutes, not seconds).
                vg = ["valgrind", "--fair-sched=yes", "--leak-check=full",
                      "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
                      "--error-exitcode=99", binary]
                p = subprocess.run(vg + args, capture_output=True, text=True, timeout=900)
                summary = [ln for ln in p.stderr.splitlines()
                           if "ERROR SUMMARY" in ln or "definitely lost" in ln]
                c.check("%s: exit 0 under valgrind memcheck" % name, p.returncode == 0,
                        "rc=%d %s" % (p.returncode, p.stderr[-3000:]))
                c.check("%s: 0 memcheck errors, nothing definitely lost" % name,
                        any("ERROR SUMMARY: 0 errors" in ln for ln in summary), summary)
            stats = ftlib.load_json(os.path.join(tmp, "s.json"))
            c.check("%s: accounting_ok" % name, stats.get("accounting_ok") is True)
            c.check("%s: mempools_ok (every mbuf home after the drain)" % name, stats.get("mempools_ok") is True, stats.get("mempools"))
    ftlib.finish()


if __name__ == "__main__":
    main()
