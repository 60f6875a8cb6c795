#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Run one libFuzzer harness: its regression inputs first, then fuzzing for a
bounded time from seeds made of the test captures.

    run_fuzz.py HARNESS NAME SECONDS

NAME picks the seed format and tests/fuzz/regressions/NAME/. A crash leaves
its input in a temporary directory whose path is printed: copy it into
tests/fuzz/regressions/NAME/ so it stays a regression test.
Exit status: 0 when no input crashed, 1 otherwise.
"""
import glob
import hashlib
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("FLOWTAP_SRC", os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(SRC, "tests", "gen"))
import ftgen  # noqa: E402  (classic pcap reader)

# Largest input per harness: a frame, or a few connections' worth of frames.
MAX_LEN = {"decode": 4096, "tcp": 16384, "defrag": 16384, "capture": 16384}
SEEDS_PER_HARNESS = 3000


def captures():
    return sorted(glob.glob(os.path.join(SRC, "tests", "data", "**", "*.pcap"), recursive=True))


def frames_of(path):
    try:
        linktype, recs = ftgen.read_pcap(path)
    except ValueError:
        return []
    return recs if linktype == 1 else []


def seq_seed(recs):
    """Frames as the sequence harnesses read them: dt, length (2 bytes), bytes;
    dt*dt*10 ms approximates the gap between capture timestamps."""
    out, prev = bytearray(), None
    for sec, frac, incl, _orig, data in recs:
        t = sec + frac / 1e6
        gap_ms = 0 if prev is None else max(0.0, (t - prev) * 1000)
        prev = t
        out += bytes([min(255, int(math.ceil(math.sqrt(gap_ms / 10))))])
        out += len(data).to_bytes(2, "big") + data
        if len(out) > MAX_LEN["tcp"]:
            break
    return bytes(out)


def pcapng_of(recs, k):
    """The frames as a pcapng file, varied by k: byte order, time resolution
    (microseconds or nanoseconds), options and a statistics block."""
    e = ">" if k % 2 else "<"

    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)

    ns = k % 4 >= 2
    out = block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1))
    opts = struct.pack(e + "HHB3x", 9, 1, 9) if ns else b""
    out += block(1, struct.pack(e + "HHI", 1, 0, 65535) + opts + struct.pack(e + "HH", 0, 0))
    for i, (sec, frac, incl, orig, data) in enumerate(recs):
        t = sec * (10 ** 9 if ns else 10 ** 6) + frac
        out += block(6, struct.pack(e + "IIIII", 0, t >> 32 & 0xFFFFFFFF, t & 0xFFFFFFFF,
                                    incl, orig) + data)
        if i == 2:
            out += block(5, struct.pack(e + "IIIHH", 0, 0, 0, 0, 0))
        if len(out) > MAX_LEN["capture"]:
            break
    return out[:MAX_LEN["capture"]]


def linked_of(recs, k):
    """The frames as a classic pcap of another link type, varied by k: Linux
    cooked v2 (the Ethernet header's MAC and type in its header), cooked v1,
    raw IP (what follows the Ethernet header) or BSD loopback."""
    lt = (276, 113, 101, 0)[k % 4]
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, lt)
    for sec, frac, _incl, _orig, data in recs:
        mac, etype, net = data[6:12], data[12:14], data[14:]
        hdr = (etype + struct.pack("!HIHBB", 0, 1, 1, 0, 6) + mac + b"\0\0" if lt == 276 else
               struct.pack("!HHH", 0, 1, 6) + mac + b"\0\0" + etype if lt == 113 else
               b"" if lt == 101 else struct.pack("<I", 2 if etype == b"\x08\x00" else 10))
        rec = hdr + net
        out += struct.pack("<IIII", sec, frac, len(rec), len(rec)) + rec
        if len(out) > MAX_LEN["capture"]:
            break
    return out[:MAX_LEN["capture"]]


def write_seeds(name, where):
    seen = set()

    def put(blob):
        h = hashlib.sha1(blob).hexdigest()
        if h not in seen and len(seen) < SEEDS_PER_HARNESS:
            seen.add(h)
            with open(os.path.join(where, h), "wb") as f:
                f.write(blob)

    for path in captures():
        if name == "capture":
            # Whole files (their first MAX_LEN bytes: the longer ones end
            # inside a record, as a cut capture does).
            with open(path, "rb") as f:
                put(f.read(MAX_LEN["capture"]))
            # The same frames as pcapng.
            recs = frames_of(path)
            if recs:
                put(pcapng_of(recs, len(seen)))
                put(linked_of(recs, len(seen)))
            continue
        recs = frames_of(path)
        if name == "decode":
            for r in recs:
                put(r[4][:MAX_LEN["decode"]])
        else:
            # Whole captures, and each run of 8 frames (short inputs mutate well);
            # the defragmenter's inputs start with the policy byte.
            pre = (lambda k: bytes([k % 5])) if name == "defrag" else (lambda k: b"")
            put(pre(len(seen)) + seq_seed(recs))
            for i in range(0, len(recs), 8):
                put(pre(len(seen)) + seq_seed(recs[i:i + 8]))
    return len(seen)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    harness, name = sys.argv[1], sys.argv[2]
    seconds = int(os.environ.get("FUZZ_SECONDS", sys.argv[3]))
    work = tempfile.mkdtemp(prefix="flowtap-fuzz-%s-" % name)
    corpus = os.path.join(work, "corpus")
    os.mkdir(corpus)
    n = write_seeds(name, corpus)
    common = ["-rss_limit_mb=4096", "-timeout=20", "-max_len=%d" % MAX_LEN[name],
              "-artifact_prefix=%s/" % work]

    failed = 0
    regressions = sorted(glob.glob(os.path.join(HERE, "regressions", name, "*")))
    if regressions:
        rc = subprocess.call([harness] + common + regressions)
        print("%s regressions: %d input(s), %s" % (name, len(regressions), "ok" if rc == 0 else "CRASH"))
        failed += rc != 0
    rc = subprocess.call([harness, corpus, "-max_total_time=%d" % seconds,
                          "-seed=%s" % os.environ.get("FUZZ_SEED", "1"),
                          "-print_final_stats=1"] + common)
    print("%s: %d seeds, %d s of fuzzing, %s" % (name, n, seconds, "ok" if rc == 0 else "CRASH"))
    failed += rc != 0
    if failed:
        print("the crashing input is in %s (crash-*, timeout-*, oom-*): copy it into "
              "tests/fuzz/regressions/%s/ and fix the bug" % (work, name))
    else:
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (2 - failed if regressions else 1 - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
