#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A capture read as a stream: `--pcap -` (standard input), a FIFO, a pipe
named /dev/fd/N (bash's <(zcat f.pcap.gz)). Read once, as it arrives, by
lib/capture; the port is a placeholder (net_null).

- The same frames as a stream give the same flow records, byte for byte, and
  the same counters as the file: mixed.pcap and smtp.pcap on standard input,
  mixed.pcap as pcapng, with 1 and 3 workers.
- A FIFO written slowly (cut mid-record, with a pause longer than the 5 s
  stall rule of a file) is analysed whole: a slow writer is not a stall.
- Frames longer than an mbuf (3000, 9014 and 60000 bytes) come in chained
  mbufs, as the pcap PMD gives them from the file: the same records and
  counters, captured bytes included.
- A stream cut inside a record, or with a record it cannot take (one above
  the snaplen, a second pcapng section), ends there: exit 0, one warning
  naming the record, every frame before it analysed, the refused record
  counted in lost_before_rx.
- SIGINT while the writer still holds the stream open: exit 0, what was
  read analysed, capture.complete false.
- Errors, one stderr line each and exit != 0: an empty stream, garbage, a
  link type flowtap does not read (802.11), --reader worker.
"""

import array
import fcntl
import os
import signal
import struct
import subprocess
import sys
import termios
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402

c = ftlib.checker("offline streams")


class StreamRun:
    """flowtap reading a stream fed by a writer thread; Run-like fields."""

    def __init__(self, args, parts, path=None, hold_open=False):
        """parts: (seconds to wait first, bytes) written in turn; path: a FIFO
        to write to (else flowtap's standard input, --pcap -); hold_open:
        do not close the stream after the last part (SIGINT ends the run)."""
        self.args = [ftlib.flowtap_path()] + list(args)
        self.parts, self.path, self.hold_open = parts, path, hold_open
        self.rc, self.stdout, self.stderr, self.leftover = None, "", "", []
        self.written = threading.Event()

    def _write(self, f):
        try:
            for delay, data in self.parts:
                time.sleep(delay)
                f.write(data)
                f.flush()
            self.written.set()
            while self.hold_open and self.proc.poll() is None:
                time.sleep(0.05)
        except (BrokenPipeError, ValueError):
            self.written.set()
        finally:
            try:
                f.close()
            except BrokenPipeError:
                pass

    def unread(self):
        """Bytes written to flowtap's standard input it has not read yet."""
        buf = array.array("i", [0])
        if self.wfd is None:
            return 0
        try:
            fcntl.ioctl(self.wfd, termios.FIONREAD, buf)
        except OSError:
            return 0
        return buf[0]

    def start(self):
        # A pipe of our own as standard input (communicate() would close
        # a subprocess.PIPE at once).
        rfd, wfd = os.pipe() if self.path is None else (subprocess.DEVNULL, None)
        self.proc = subprocess.Popen(self.args, stdin=rfd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True)
        self.wfd = wfd
        if wfd is not None:
            os.close(rfd)
        f = os.fdopen(wfd, "wb") if wfd is not None else open(self.path, "wb")
        self.writer = threading.Thread(target=self._write, args=(f,), daemon=True)
        self.writer.start()
        return self

    def finish(self, timeout=120, sigint_after_written=False):
        try:
            if sigint_after_written:
                self.written.wait(timeout)
                deadline = time.monotonic() + timeout
                while self.unread() and time.monotonic() < deadline and self.proc.poll() is None:
                    time.sleep(0.05)
                time.sleep(1.0)  # what was read is analysed
                self.proc.send_signal(signal.SIGINT)
            out, err = self.proc.communicate(timeout=timeout)
        finally:
            ftlib.kill_group(self.proc)
        self.writer.join(10)
        self.rc = self.proc.returncode
        self.stdout, self.stderr = out.decode(errors="replace"), err.decode(errors="replace")
        for d in ftlib.runtime_dirs(self.proc.pid):
            if os.path.exists(d):
                self.leftover.append(d)
        return self

    def brief(self):
        return "rc=%s stderr=%r" % (self.rc, self.stderr.strip()[-600:])


def stream(args, data, **kw):
    """Run flowtap on one stream written at once; the finished run."""
    return StreamRun(args, [(0, data)], **kw).start().finish()


def analyse_file(tmp, tag, path, workers=1):
    st, log = os.path.join(tmp, tag + ".json"), os.path.join(tmp, tag + ".flows")
    r = ftlib.run_flowtap(["--pcap", path, "--reader", "control", "--workers", str(workers),
                           "--stats-json", st, "--flow-log", log], timeout=120)
    c.eq("%s: file: exit status" % tag, r.rc, 0, r.brief())
    with open(log) as f:
        return ftlib.load_json(st), f.read()


def outputs(tmp, tag):
    st, log = os.path.join(tmp, tag + "-s.json"), os.path.join(tmp, tag + "-s.flows")
    return st, log, ["--stats-json", st, "--flow-log", log]


def counters(st):
    """What must not depend on how the capture was read."""
    keep = dict(st)
    for k in ("capture", "ports", "duration_s", "workers", "mempools", "version"):
        keep.pop(k, None)
    return keep


def same_as_file(tag, base, run, st_path, log_path, packets, workers=1):
    c.eq("%s: exit status" % tag, run.rc, 0, run.brief())
    c.check("%s: no runtime directory left" % tag, not run.leftover, run.leftover)
    if not os.path.isfile(st_path):
        return None
    st = ftlib.load_json(st_path)
    with open(log_path) as f:
        records = f.read()
    c.eq("%s: capture.packets" % tag, st["capture"]["packets"], packets)
    c.eq("%s: capture.complete" % tag, st["capture"]["complete"], True)
    c.eq("%s: the port is the placeholder net_null" % tag, st["ports"][0]["driver"], "net_null")
    c.eq("%s: ports[0].ipackets == packets.rx" % tag, st["ports"][0]["ipackets"], st["packets"]["rx"])
    c.check("%s: accounting_ok, mempools_ok" % tag,
            st.get("accounting_ok") is True and st.get("mempools_ok") is True)
    if base is not None and workers == 1:
        c.check("%s: flow records identical to the file's, byte for byte" % tag, records == base[1],
                "%d vs %d bytes" % (len(records), len(base[1])))
    elif base is not None:  # the workers' records interleave as they come
        c.check("%s: flow records identical to the file's, in any order" % tag,
                sorted(records.splitlines()) == sorted(base[1].splitlines()))
        c.check("%s: counters identical to the file's" % tag, counters(st) == counters(base[0]))
    return st


def pcapng_of(src, dst):
    script = ("import sys\nfrom scapy.utils import rdpcap, PcapNgWriter\n"
              "w = PcapNgWriter(sys.argv[2])\n[w.write(p) for p in rdpcap(sys.argv[1])]\nw.close()\n")
    p = subprocess.run([sys.executable, "-c", script, src, dst], capture_output=True, text=True, timeout=120)
    return c.eq("scapy wrote %s" % os.path.basename(dst), p.returncode, 0, p.stderr[-400:])


def pcap_records(blob):
    """Offsets where each record of a little-endian microsecond pcap starts, and its end."""
    offs, o = [], 24
    while o + 16 <= len(blob):
        offs.append(o)
        o += 16 + struct.unpack_from("<I", blob, o + 8)[0]
    offs.append(o)
    return offs


def read(path):
    with open(path, "rb") as f:
        return f.read()


def same_frames(tmp):
    c.section("a stream gives what the file gives")
    for name, workers in (("mixed.pcap", 1), ("smtp.pcap", 1), ("mixed.pcap", 3)):
        tag = "%s, %d worker%s" % (name, workers, "s" if workers > 1 else "")
        path = ftlib.data(name)
        base = analyse_file(tmp, "f-%s-%d" % (name, workers), path, workers)
        st, log, out = outputs(tmp, "%s-%d" % (name, workers))
        run = stream(["--pcap", "-", "--workers", str(workers)] + out, read(path))
        same_as_file("stdin, " + tag, base, run, st, log, base[0]["capture"]["packets"], workers)
    ng = os.path.join(tmp, "mixed.pcapng")
    if pcapng_of(ftlib.data("mixed.pcap"), ng):
        base = analyse_file(tmp, "f-ng", ng)
        st, log, out = outputs(tmp, "ng")
        run = stream(["--pcap", "-"] + out, read(ng))
        same_as_file("stdin, mixed.pcapng", base, run, st, log, base[0]["capture"]["packets"])
    # /dev/fd/N: the name bash gives <(zcat f.pcap.gz), a pipe
    base = analyse_file(tmp, "f-fd", ftlib.data("mixed.pcap"))
    st, log, out = outputs(tmp, "fd")
    rfd, wfd = os.pipe()
    proc = subprocess.Popen([ftlib.flowtap_path(), "--pcap", "/dev/fd/%d" % rfd] + out, pass_fds=(rfd,),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    os.close(rfd)
    with os.fdopen(wfd, "wb") as w:
        w.write(read(ftlib.data("mixed.pcap")))
    try:
        _, err = proc.communicate(timeout=120)
    finally:
        ftlib.kill_group(proc)
    run = StreamRun([], [])
    run.rc, run.stderr = proc.returncode, err.decode(errors="replace")
    run.leftover = [d for d in ftlib.runtime_dirs(proc.pid) if os.path.exists(d)]
    same_as_file("a pipe as /dev/fd/N", base, run, st, log, base[0]["capture"]["packets"])


def long_frames(tmp):
    """Frames longer than an mbuf (jumbo, and a 60000-byte GRO-sized one): the
    file goes to the pcap PMD, which chains them; the stream is chained by
    lib/capture the same way: the same records and counters."""
    c.section("frames longer than an mbuf")
    blob = read(ftlib.data("mixed.pcap"))
    offs = pcap_records(blob)
    parts = [blob[:offs[30]]]
    for i, size in enumerate((3000, 9014, 60000)):
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, size - 14, i, 0, 64, 6, 0, bytes([10, 9, 0, 1]),
                         bytes([10, 9, 0, 2]))
        tcp = struct.pack("!HHIIBBHHH", 41000, 80, 1000 + i * 70000, 1, 0x50, 0x18, 65535, 0, 0)
        frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + tcp
        frame += bytes((j * 7) & 0xff for j in range(size - len(frame)))
        parts.append(struct.pack("<IIII", 1767225600, 30000 + i, size, size) + frame)
    parts.append(blob[offs[30]:])
    data = b"".join(parts)
    path = os.path.join(tmp, "long.pcap")
    with open(path, "wb") as f:
        f.write(data)
    base = analyse_file(tmp, "f-long", path)
    st, log, out = outputs(tmp, "long")
    run = stream(["--pcap", "-"] + out, data)
    s = same_as_file("stdin, frames of 3000, 9014 and 60000 bytes", base, run, st, log,
                     base[0]["capture"]["packets"])
    if s is not None:
        c.eq("long frames: the same captured bytes as the pcap PMD's",
             s["packets"]["rx_bytes"], base[0]["packets"]["rx_bytes"])


def slow_fifo(tmp):
    c.section("a FIFO written slowly")
    path = ftlib.data("mixed.pcap")
    blob = read(path)
    base = analyse_file(tmp, "f-slow", path)
    offs = pcap_records(blob)
    # Cut inside the file header and inside records; one pause of 6 s
    # (longer than a file's 5 s stall rule), the others short.
    cuts = [0, 13, offs[3] + 5, offs[40] + 17, offs[100] + 3, offs[-2] + 9, len(blob)]
    delays = [0, 0.3, 0.3, 6.0, 0.3, 0.3]
    parts = [(d, blob[a:b]) for d, a, b in zip(delays, cuts, cuts[1:])]
    fifo = os.path.join(tmp, "capture.fifo")
    os.mkfifo(fifo)
    st, log, out = outputs(tmp, "fifo")
    t0 = time.monotonic()
    run = StreamRun(["--pcap", fifo] + out, parts, path=fifo).start().finish()
    c.check("slow FIFO: took the writer's time (> 7 s)", time.monotonic() - t0 > 7.0)
    same_as_file("slow FIFO", base, run, st, log, base[0]["capture"]["packets"])


def ends_early(tmp):
    c.section("a stream that ends early")
    blob = read(ftlib.data("mixed.pcap"))
    offs = pcap_records(blob)
    # cut inside record 51
    st, log, out = outputs(tmp, "cut")
    run = stream(["--pcap", "-"] + out, blob[:offs[50] + 20])
    check_early("cut inside record 51", run, st, 50, "cut inside record 51")
    # a record above the file header's snaplen (65535) at record 21
    frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + bytes(70000 - 14)
    big = struct.pack("<IIII", 1, 0, len(frame), len(frame)) + frame
    st, log, out = outputs(tmp, "big")
    run = stream(["--pcap", "-"] + out, blob[:offs[20]] + big + blob[offs[20]:])
    check_early("a record above the snaplen", run, st, 20, "record 21: 70000 captured bytes, above the snaplen")
    # pcapng with a second section after 30 packets
    ng = os.path.join(tmp, "early.pcapng")
    if pcapng_of(ftlib.data("mixed.pcap"), ng):
        b = read(ng)
        o, blocks = 0, []
        while o + 8 <= len(b):
            blocks.append((o, struct.unpack_from("<I", b, o)[0]))
            o += struct.unpack_from("<I", b, o + 4)[0]
        epbs = [off for off, typ in blocks if typ == 6]
        head = b[:epbs[0]]
        st, log, out = outputs(tmp, "ng2")
        run = stream(["--pcap", "-"] + out, b[:epbs[30]] + head + b[epbs[30]:])
        check_early("a second pcapng section", run, st, 30, "record 31: a second section")


def check_early(tag, run, st_path, frames, reason):
    c.eq("%s: exit status" % tag, run.rc, 0, run.brief())
    warn = [ln for ln in run.stderr.splitlines() if "warning" in ln]
    c.eq("%s: one warning" % tag, len(warn), 1, run.stderr[-600:])
    c.check("%s: the warning names %r" % (tag, reason), any(reason in w for w in warn), warn)
    if not os.path.isfile(st_path):
        return
    st = ftlib.load_json(st_path)
    c.eq("%s: packets.rx (the frames before)" % tag, st["packets"]["rx"], frames)
    c.eq("%s: capture.packets (and the refused record)" % tag, st["capture"]["packets"], frames + 1)
    c.eq("%s: lost_before_rx" % tag, st["capture"]["lost_before_rx"], 1)
    c.check("%s: accounting_ok, mempools_ok" % tag,
            st.get("accounting_ok") is True and st.get("mempools_ok") is True)


def interrupted(tmp):
    c.section("SIGINT while the writer holds the stream open")
    blob = read(ftlib.data("mixed.pcap"))
    offs = pcap_records(blob)
    st, log, out = outputs(tmp, "int")
    run = StreamRun(["--pcap", "-"] + out, [(0, blob[:offs[120] + 7])], hold_open=True).start()
    run.finish(sigint_after_written=True)
    c.eq("SIGINT: exit status", run.rc, 0, run.brief())
    c.check("SIGINT: no runtime directory left", not run.leftover, run.leftover)
    if not os.path.isfile(st):
        return
    s = ftlib.load_json(st)
    c.eq("SIGINT: every whole record read analysed (packets.rx)", s["packets"]["rx"], 120)
    c.eq("SIGINT: capture.packets is what was read", s["capture"]["packets"], 120)
    c.eq("SIGINT: capture.complete false (the stream did not end)", s["capture"]["complete"], False)
    c.check("SIGINT: accounting_ok, mempools_ok", s.get("accounting_ok") is True and s.get("mempools_ok") is True)


def errors(tmp):
    c.section("errors")
    bad = ftlib.gen("gen_bad_captures").build(os.path.join(tmp, "bad"))
    cases = (("empty stream", b"", ["'-'", "empty"]),
             ("garbage", read(bad["garbage.pcap"]), ["'-'", "neither pcap nor pcapng"]),
             ("link type IEEE 802.11", read(bad["wifi.pcap"]), ["'-'", "link type 105"]),
             ("cut file header", read(bad["short_header.pcap"]), ["'-'", "shorter than a pcap file header"]))
    for tag, data, names in cases:
        run = stream(["--pcap", "-"], data)
        one_error(tag, run, names)
    run = stream(["--pcap", "-", "--reader", "worker"], read(ftlib.data("mixed.pcap")))
    one_error("--reader worker", run, ["--reader worker"])


def one_error(tag, run, names):
    lines = run.stderr.splitlines()
    c.check("%s: exit status != 0" % tag, run.rc not in (0, None), run.brief())
    c.eq("%s: exactly one stderr line" % tag, len(lines), 1, run.stderr[-600:])
    first = lines[0] if lines else ""
    c.check("%s: line starts with 'flowtap: '" % tag, first.startswith("flowtap: "), first)
    for n in names:
        c.check("%s: line names %r" % (tag, n), n in first, first)
    c.check("%s: no runtime directory left" % tag, not run.leftover, run.leftover)


def main():
    ftlib.require_binary()
    with ftlib.tempdir() as tmp:
        same_frames(tmp)
        long_frames(tmp)
        slow_fifo(tmp)
        ends_early(tmp)
        interrupted(tmp)
        errors(tmp)
    c.finish()


if __name__ == "__main__":
    main()
