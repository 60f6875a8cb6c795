#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Events and flow records can be followed while flowtap runs live.

flowtap runs live (passive) on net_pcap reading tests/data/tcp/seq_out_of_window.pcap
once (two connections, each with one seq_out_of_window event, both closed by
FINs) with flows.close_linger = 1. While it still runs, --events and --flow-log
must hold both events and both records within a few seconds: written through,
not held in a stdio buffer until exit. Each is the offline analysis's line
but for its times (live time is the wall clock). SIGINT then adds nothing.
"""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402

c = ftlib.checker("live outputs, followed while running")
TIMES = ("ts", "first_ts", "last_ts")


def lines(path):
    """Whole JSON lines of a file so far."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return []
    return [json.loads(x) for x in text.split("\n")[:-1]]


def untimed(objs):
    return sorted((json.dumps({k: v for k, v in o.items() if k not in TIMES}, sort_keys=True) for o in objs))


def main():
    ftlib.require_binary()
    src = ftlib.data(os.path.join("tcp", "seq_out_of_window.pcap"))
    with ftlib.tempdir() as tmp:
        ev0, fl0 = os.path.join(tmp, "offline.events"), os.path.join(tmp, "offline.flows")
        r = ftlib.run_flowtap(["--pcap", src, "--quiet", "--events", ev0, "--flow-log", fl0])
        c.eq("offline analysis: exit status", r.rc, 0, r.brief())
        want_ev, want_fl = lines(ev0), lines(fl0)
        c.eq("offline: 2 events, 2 records", (len(want_ev), len(want_fl)), (2, 2))

        ev, fl = os.path.join(tmp, "live.events"), os.path.join(tmp, "live.flows")
        prefix = "ft-live-out-%d" % os.getpid()
        cmd = [ftlib.flowtap_path(), "-l", "0-1", "--no-huge", "-m", "512", "--file-prefix", prefix, "--no-pci",
               "--vdev", "net_pcap0,rx_pcap=%s" % src, "--log-level=error", "--",
               "--mode", "passive", "--set", "flows.max=65536", "--set", "general.status_interval=0",
               "--set", "flows.close_linger=1", "--events", ev, "--flow-log", fl, "--quiet"]
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and proc.poll() is None and \
                    (len(lines(ev)) < 2 or len(lines(fl)) < 2):
                time.sleep(0.1)
            running = proc.poll() is None
            got_ev, got_fl = lines(ev), lines(fl)
            c.check("flowtap still running", running, proc.stderr.read().decode()[-400:] if not running else "")
            c.eq("both events in the file while it runs", len(got_ev), 2)
            c.eq("both flow records in the file while it runs", len(got_fl), 2)
            c.check("events as offline, but for their times", untimed(got_ev) == untimed(want_ev),
                    (got_ev, want_ev))
            c.check("records as offline, but for their times", untimed(got_fl) == untimed(want_fl),
                    (got_fl, want_fl))
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=60)
            c.eq("SIGINT: exit 0", proc.returncode, 0, err.decode()[-400:])
            c.eq("nothing added at exit", (len(lines(ev)), len(lines(fl))), (2, 2))
        finally:
            ftlib.kill_group(proc)
            ftlib.remove_runtime_dir(prefix)
    c.finish()


if __name__ == "__main__":
    main()
