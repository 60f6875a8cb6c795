#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Exact counters of `flowtap --pcap` on generated captures, with 1 and 3 workers.

Captures: tests/data/smtp.pcap and tests/data/mixed.pcap (committed, with
their NAME.json truths), and a fresh gen_many_flows capture (FT_MANY_FLOWS flows,
default 2000) in a temporary directory. For each capture and worker count:
exit 0, no runtime directory left, every class counter and every malformed
reason exactly as in the truth, packets.rx == frames, rx_bytes == sum of
frame lengths, accounting identity (flowtap's accounting_ok and recomputed
here), no hand-over drops, passive (nothing sent), per-worker sums; the
class counters of 1 and 3 workers are identical; with 3 workers handoff.out
== handoff.in, > 0 where the capture has several connections; tshark counts
as many frames as packets.rx. Also: the generators reproduce the committed
captures, a header-only capture runs clean, and --stats-json - gives the same
object on stdout. When mixed.pcap disagrees, each frame of a disagreeing class
is run alone to name the frames (FT_NO_DIAG=1 turns that off). And an
analysis interrupted by SIGINT midway ends with every frame read analysed.
Capture formats: mixed.pcap rewritten with nanosecond times in big-endian
order and as pcapng (both read by lib/capture), and as pcapng in two sections
(left to the pcap PMD) gives the same counters and the same flow records,
byte for byte, as the original;
jumbo frames go to the pcap PMD with the full mbuf pool, every one analysed.
"""

import os
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402

CLASSES = ("tcp", "udp", "icmp", "other_ip", "non_ip", "fragment")
FINAL = CLASSES + ("handoff_full",)
WORKER_COUNTS = (1, 3)

c = ftlib.checker("offline counts")


def structure(tag, st, workers):
    """Keys of the stats JSON contract exist with the right types."""
    for key in ("packets.rx", "packets.rx_bytes", "packets.tcp", "packets.udp", "packets.icmp",
                "packets.other_ip", "packets.non_ip", "packets.fragment", "packets.handoff_full",
                "packets.tx", "packets.tx_failed", "packets.malformed.total", "handoff.out", "handoff.in",
                "flows.created", "flows.active", "defrag.fragments", "defrag.reassembled",
                "events.emitted", "events.dropped"):
        v = ftlib.dig(st, key)
        c.check("%s: %s is an integer" % (tag, key), isinstance(v, int) and not isinstance(v, bool),
                "got %r" % (v if v is not ftlib.MISSING else "missing"))
    c.check("%s: anomalies is an object of integers" % tag,
            isinstance(st.get("anomalies"), dict) and
            all(isinstance(v, int) for v in st["anomalies"].values()), repr(st.get("anomalies")))
    c.check("%s: accounting_ok is a boolean" % tag, isinstance(st.get("accounting_ok"), bool),
            repr(st.get("accounting_ok")))
    c.check("%s: ports is a list" % tag, isinstance(st.get("ports"), list), repr(st.get("ports")))
    ws = st.get("workers")
    if not c.check("%s: workers is a list of %d" % (tag, workers),
                   isinstance(ws, list) and len(ws) == workers,
                   "got %r" % (len(ws) if isinstance(ws, list) else ws)):
        return False
    for i, w in enumerate(ws):
        for k in ("lcore", "rx", "handoff_out", "handoff_in"):
            c.check("%s: workers[%d].%s is an integer" % (tag, i, k), isinstance(w.get(k), int),
                    repr(w.get(k)))
    reasons = ftlib.malformed_reasons()
    mal = ftlib.dig(st, "packets.malformed", {})
    missing = [r for r in reasons if r not in mal]
    unknown = [r for r in mal if r != "total" and r not in reasons]
    c.check("%s: packets.malformed has every reason of ft_decode.h" % tag, not missing, "missing %s" % missing)
    c.check("%s: packets.malformed has no reason ft_decode.h lacks" % tag, not unknown, "unknown %s" % unknown)
    return True


def counters(st):
    """The class counters that must not depend on the number of workers."""
    out = {k: ftlib.dig(st, "packets." + k, None) for k in ("rx", "rx_bytes") + FINAL}
    out["malformed"] = dict(ftlib.dig(st, "packets.malformed", {}))
    out["defrag.fragments"] = ftlib.dig(st, "defrag.fragments", None)
    return out


def exact(tag, st, truth, frames, nbytes):
    pk = truth["packets"]
    c.eq("%s: packets.rx == frames in the capture" % tag, ftlib.dig(st, "packets.rx", None), frames)
    c.eq("%s: packets.rx_bytes == sum of frame lengths" % tag, ftlib.dig(st, "packets.rx_bytes", None), nbytes)
    for k in CLASSES:
        c.eq("%s: packets.%s" % (tag, k), ftlib.dig(st, "packets." + k, None), pk[k])
    c.eq("%s: packets.handoff_full" % tag, ftlib.dig(st, "packets.handoff_full", None), 0,
         "an offline run must not drop at the hand-over")
    # TCP segments a host would drop for their checksum, or take as sent with offload
    for k in ("tcp_opt_invalid", "tcp_bad_checksum", "tcp_checksum_partial", "tcp_checksum_unchecked"):
        if k in pk:
            c.eq("%s: packets.%s" % (tag, k), ftlib.dig(st, "packets." + k, None), pk[k])
    mal = ftlib.dig(st, "packets.malformed", {})
    for r, n in pk["malformed"].items():
        c.eq("%s: packets.malformed.%s" % (tag, r), mal.get(r) if isinstance(mal, dict) else None, n)
    c.check("%s: accounting_ok" % tag, st.get("accounting_ok") is True, repr(st.get("accounting_ok")))
    c.check("%s: mempools_ok (every mbuf home after the drain)" % tag, st.get("mempools_ok") is True, st.get("mempools"))
    rhs = sum(ftlib.dig(st, "packets." + k, 0) or 0 for k in FINAL) + (ftlib.dig(st, "packets.malformed.total", 0) or 0)
    c.eq("%s: identity rx == sum of final classes (recomputed)" % tag, rhs, ftlib.dig(st, "packets.rx", None))
    if isinstance(mal, dict):
        c.eq("%s: malformed.total == sum of reasons" % tag, mal.get("total"),
             sum(v for r, v in mal.items() if r != "total"))
    c.eq("%s: defrag.fragments == packets.fragment" % tag,
         ftlib.dig(st, "defrag.fragments", None), ftlib.dig(st, "packets.fragment", None))
    c.eq("%s: defrag.reassembled == complete fragmented datagrams" % tag,
         ftlib.dig(st, "defrag.reassembled", None), truth.get("fragmented_datagrams_complete", 0))
    c.eq("%s: defrag.fragments_used == packets.fragment (every fragment completes its datagram)" % tag,
         ftlib.dig(st, "defrag.fragments_used", None), ftlib.dig(st, "packets.fragment", None))
    c.eq("%s: packets.tx == 0 (passive)" % tag, ftlib.dig(st, "packets.tx", None), 0)
    c.eq("%s: packets.tx_failed == 0" % tag, ftlib.dig(st, "packets.tx_failed", None), 0)
    cap = st.get("capture")
    if isinstance(cap, dict):  # beyond the contract: checked when flowtap writes it
        c.eq("%s: capture.packets == frames" % tag, cap.get("packets"), frames)
        c.eq("%s: capture.lost_before_rx == 0" % tag, cap.get("lost_before_rx"), 0)
        c.check("%s: capture.complete" % tag, cap.get("complete") is True, repr(cap))


def per_worker(tag, st, workers, truth):
    ws = st.get("workers") or []
    out, inn = ftlib.dig(st, "handoff.out", None), ftlib.dig(st, "handoff.in", None)
    c.eq("%s: sum of workers[].rx == packets.rx" % tag, sum(w.get("rx", 0) for w in ws),
         ftlib.dig(st, "packets.rx", None))
    c.eq("%s: sum of workers[].handoff_out == handoff.out" % tag, sum(w.get("handoff_out", 0) for w in ws), out)
    c.eq("%s: sum of workers[].handoff_in == handoff.in" % tag, sum(w.get("handoff_in", 0) for w in ws), inn)
    c.eq("%s: handoff.out == handoff.in" % tag, out, inn)
    if workers == 1:
        c.eq("%s: no hand-over with one worker" % tag, out, 0)
    elif truth.get("tcp_connections", 0) > 1:
        c.check("%s: handoff.out > 0" % tag, isinstance(out, int) and out > 0, "handoff.out=%r" % out)
    else:
        c.note("%s: one connection only: handoff.out=%r (0 is right if its owner is the receiving worker)"
               % (tag, out))


def run_capture(tmp, name, pcap, truth):
    c.section(name)
    frames, ncap, nwire = ftlib.pcap_totals(pcap)
    c.eq("%s: truth rx == frames in the file" % name, truth["packets"]["rx"], frames)
    c.eq("%s: truth rx_bytes == captured bytes" % name, truth["packets"]["rx_bytes"], ncap)
    c.eq("%s: captured == wire lengths (no snaplen cut)" % name, ncap, nwire)
    ts = ftlib.tshark_frames(pcap)
    if ts is None:
        c.skip("%s: tshark frame count" % name, "tshark not installed")
    else:
        c.eq("%s: tshark frame count == frames" % name, ts, frames)
    results = {}
    for w in WORKER_COUNTS:
        tag = "%s/w%d" % (name, w)
        out = os.path.join(tmp, "stats-%s-w%d.json" % (name, w))
        r = ftlib.run_flowtap(["--pcap", pcap, "--workers", str(w), "--stats-json", out])
        c.eq("%s: exit status" % tag, r.rc, 0, r.brief())
        c.check("%s: finished within the timeout" % tag, not r.timed_out, "%.0f s" % r.elapsed)
        c.check("%s: no runtime directory left" % tag, not r.leftover, r.leftover)
        if r.stderr.strip():
            c.note("%s: stderr: %s" % (tag, r.stderr.strip()[:300]))
        if not c.check("%s: stats JSON written" % tag, os.path.isfile(out), r.brief()):
            continue
        try:
            st = ftlib.load_json(out)
        except ValueError as e:
            c.check("%s: stats JSON parses" % tag, False, str(e))
            continue
        if ts is not None:
            c.eq("%s: tshark frame count == packets.rx" % tag, ts, ftlib.dig(st, "packets.rx", None))
        structure(tag, st, w)
        exact(tag, st, truth, frames, ncap)
        per_worker(tag, st, w, truth)
        results[w] = st
        c.note("%s: %.1f s, handoff out/in %s/%s" % (tag, r.elapsed, ftlib.dig(st, "handoff.out", "?"),
                                                     ftlib.dig(st, "handoff.in", "?")))
    if len(results) == len(WORKER_COUNTS):
        a, b = (counters(results[w]) for w in WORKER_COUNTS)
        diff = {k: (a[k], b[k]) for k in a if a[k] != b[k]}
        c.check("%s: class counters identical with %d and %d workers" % ((name,) + WORKER_COUNTS), not diff,
                diff)
    return results


def regenerate(tmp):
    """The generators reproduce the committed captures and truths."""
    c.section("generators reproduce tests/data")
    regen = os.path.join(tmp, "regen")
    os.makedirs(regen)
    ftgen = ftlib.ftgen()
    for name in ("smtp", "mixed"):
        p = ftlib.run_python(os.path.join(ftlib.GEN_DIR, "gen_%s.py" % name), [regen])
        if not c.eq("gen_%s.py exit status" % name, p.returncode, 0, p.stderr[-500:]):
            continue
        for fname in (name + ".pcap", name + ".json"):
            a, b = os.path.join(regen, fname), ftlib.data(fname)
            if not c.check("tests/data/%s exists" % fname, os.path.isfile(b)):
                continue
            with open(a, "rb") as fa, open(b, "rb") as fb:
                c.check("gen_%s.py reproduces tests/data/%s byte for byte" % (name, fname),
                        fa.read() == fb.read(), "regenerate with: /usr/bin/python3 tests/gen/gen_%s.py" % name)
        t = ftlib.load_json(ftlib.data(name + ".json")) if os.path.isfile(ftlib.data(name + ".json")) \
            else None
        if t:
            c.check("%s truth covers every malformed reason of ft_decode.h" % name,
                    set(ftgen.malformed_reasons()) <= set(t["packets"]["malformed"]),
                    set(ftgen.malformed_reasons()) - set(t["packets"]["malformed"]))
    t = ftlib.load_json(ftlib.data("mixed.json"))
    zero = [r for r, n in t["packets"]["malformed"].items() if n == 0]
    c.check("mixed.pcap has a frame for every malformed reason", not zero, zero)


def diagnose(tmp, pcap, truth, st):
    """Run each frame of a disagreeing class alone and say what flowtap made of it."""
    if os.environ.get("FT_NO_DIAG"):
        return
    pk = truth["packets"]
    bad = {k for k in CLASSES if ftlib.dig(st, "packets." + k, None) != pk[k]}
    mal = ftlib.dig(st, "packets.malformed", {}) or {}
    bad |= {"malformed:" + r for r, n in pk["malformed"].items() if r != "total" and mal.get(r) != n}
    if not bad:
        return
    ftgen = ftlib.ftgen()
    _, recs = ftgen.read_pcap(pcap)
    lines = truth.get("frames", [])
    todo = [i for i, ln in enumerate(lines) if ln.split(" ", 2)[1] in bad]
    c.section("diagnosis: frames labelled %s, run one by one" % ", ".join(sorted(bad)))
    if len(todo) > 80:
        c.note("%d frames; running the first 80" % len(todo))
        todo = todo[:80]
    d = os.path.join(tmp, "diag")
    os.makedirs(d, exist_ok=True)
    for i in todo:
        one = os.path.join(d, "frame%d.pcap" % (i + 1))
        ftgen.write_pcap(one, [recs[i][4]])
        out = one + ".json"
        r = ftlib.run_flowtap(["--pcap", one, "--stats-json", out], timeout=60)
        got = "no stats (%s)" % r.brief(200)
        if os.path.isfile(out):
            s = ftlib.load_json(out)
            got = [k for k in CLASSES + ("handoff_full",) if ftlib.dig(s, "packets." + k, 0)]
            got += ["malformed:" + k for k, v in (ftlib.dig(s, "packets.malformed", {}) or {}).items()
                    if k != "total" and v]
            got = ",".join(got) or "nothing"
        want = lines[i].split(" ", 2)[1]
        if got != want:
            c.note("frame %s: flowtap says %s, contract says %s" % (lines[i], got, want))


def empty_capture(tmp):
    c.section("header-only capture")
    bad = ftlib.gen("gen_bad_captures").build(os.path.join(tmp, "bad"))
    out = os.path.join(tmp, "stats-empty.json")
    r = ftlib.run_flowtap(["--pcap", bad["header_only.pcap"], "--stats-json", out], timeout=60)
    c.eq("header-only pcap: exit status", r.rc, 0, r.brief())
    c.check("header-only pcap: no runtime directory left", not r.leftover, r.leftover)
    if c.check("header-only pcap: stats JSON written", os.path.isfile(out)):
        st = ftlib.load_json(out)
        c.eq("header-only pcap: packets.rx", ftlib.dig(st, "packets.rx", None), 0)
        c.check("header-only pcap: accounting_ok", st.get("accounting_ok") is True)
        c.check("header-only pcap: mempools_ok (every mbuf home after the drain)", st.get("mempools_ok") is True, st.get("mempools"))


def stats_to_stdout(file_stats):
    c.section("--stats-json -")
    r = ftlib.run_flowtap(["--pcap", ftlib.data("smtp.pcap"), "--stats-json", "-"], timeout=60)
    c.eq("--stats-json -: exit status", r.rc, 0, r.brief())
    c.check("--stats-json -: no runtime directory left", not r.leftover, r.leftover)
    try:
        st = ftlib.json_from_stdout(r.stdout)
    except ValueError as e:
        c.check("--stats-json -: a JSON object on stdout", False, "%s; stdout=%r" % (e, r.stdout[:300]))
        return
    if file_stats is not None:
        c.eq("--stats-json -: packets same as the file's", st.get("packets"), file_stats.get("packets"))


def interrupted(tmp):
    """SIGINT in the middle of an analysis: exit 0, and every frame the capture's
    port delivered was analysed (with one worker on a machine of two CPUs or
    more, the control lcore reads the capture and the worker takes it from a
    ring: what is in that ring or read but not yet passed on is analysed
    too); accounting exact, every mbuf home."""
    pcap = os.path.join(tmp, "interrupted.pcap")
    gen = os.path.join(ftlib.SRC, "scripts", "gen-bench-pcap")
    p = subprocess.run([gen, pcap, "--flows", "300000", "--segments", "3", "--window", "4096"],
                       capture_output=True, text=True, timeout=300)
    if not c.eq("interrupted: gen-bench-pcap exit status", p.returncode, 0, p.stderr[-500:]):
        return
    size = os.path.getsize(pcap)
    st_path = os.path.join(tmp, "interrupted.json")
    proc = subprocess.Popen([ftlib.flowtap_path(), "--pcap", pcap, "--quiet", "--stats-json", st_path],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        # flowtap reads the capture twice: once to count its frames, then
        # for the analysis. A fifth of the second pass read: mid-analysis.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            with open("/proc/%d/io" % proc.pid) as f:
                rchar = int(next(ln for ln in f if ln.startswith("rchar:")).split()[1])
            if rchar > size * 1.2:
                break
            time.sleep(0.005)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        ftlib.kill_group(proc)
    c.eq("interrupted: SIGINT mid-analysis: exit 0", proc.returncode, 0, err[-500:])
    st = ftlib.load_json(st_path)
    frames = st["capture"]["packets"]
    rx = st["packets"]["rx"]
    c.check("interrupted: stopped before the end (0 < packets.rx < frames)", 0 < rx < frames, (rx, frames))
    ftlib.note("interrupted after %d of %d frames" % (rx, frames))
    c.eq("interrupted: capture.complete false", st["capture"]["complete"], False)
    c.eq("interrupted: every frame the port delivered analysed (ipackets == packets.rx)",
         st["ports"][0]["ipackets"], rx)
    c.check("interrupted: accounting_ok", st.get("accounting_ok") is True)
    c.check("interrupted: mempools_ok (every mbuf home)", st.get("mempools_ok") is True, st.get("mempools"))


def pcapng_block_offsets(blob):
    """Where each block of a little-endian pcapng file starts (and its end)."""
    offs, o = [], 0
    while o + 8 <= len(blob):
        offs.append(o)
        o += struct.unpack_from("<I", blob, o + 4)[0]
    offs.append(o)
    return offs


def formats(tmp):
    """The same frames in three files: the reader changes, nothing else."""
    c.section("capture formats")
    script = (
        "import sys\n"
        "from scapy.utils import rdpcap, PcapWriter, PcapNgWriter\n"
        "pk = rdpcap(sys.argv[1])\n"
        "w = PcapWriter(sys.argv[2], linktype=1, endianness='>', nano=True)\n"
        "[w.write(p) for p in pk]\n"
        "w.close()\n"
        "w = PcapNgWriter(sys.argv[3])\n"
        "[w.write(p) for p in pk]\n"
        "w.close()\n")
    ns_be = os.path.join(tmp, "mixed-ns-be.pcap")
    ng = os.path.join(tmp, "mixed.pcapng")
    p = subprocess.run([sys.executable, "-c", script, ftlib.data("mixed.pcap"), ns_be, ng],
                       capture_output=True, text=True, timeout=120)
    if not c.eq("formats: scapy wrote the nanosecond big-endian pcap and the pcapng",
                p.returncode, 0, p.stderr[-500:]):
        return
    # Two sections (the frames split between them): libpcap reads across
    # them, lib/capture leaves such a file to it.
    ng2 = os.path.join(tmp, "mixed-2sections.pcapng")
    with open(ng, "rb") as f_in:
        blob = f_in.read()
    cut = pcapng_block_offsets(blob)
    head_end = cut[1]                     # after the SHB ...
    while blob[head_end:head_end + 4] == struct.pack("<I", 1):   # ... and its IDBs
        head_end += struct.unpack_from("<I", blob, head_end + 4)[0]
    mid = [o for o in cut if o >= head_end][len(cut) // 2]
    with open(ng2, "wb") as f_out:
        f_out.write(blob[:mid] + blob[:head_end] + blob[mid:])
    runs = {}
    for tag, path, reader in (("pcap", ftlib.data("mixed.pcap"), "lib/capture"),
                              ("pcap ns big-endian", ns_be, "lib/capture"),
                              ("pcapng", ng, "lib/capture"),
                              ("pcapng, two sections", ng2, "pcap PMD")):
        out = os.path.join(tmp, "fmt-%d.json" % len(runs))
        log = os.path.join(tmp, "fmt-%d.flows" % len(runs))
        # --reader control: the control lcore reads on any machine.
        r = ftlib.run_flowtap(["--pcap", path, "--reader", "control", "--stats-json", out,
                               "--flow-log", log], timeout=60)
        c.eq("formats: %s: exit status" % tag, r.rc, 0, r.brief())
        c.check("formats: %s: read by %s" % (tag, reader),
                "read by the control lcore (%s)" % reader in r.stdout + r.stderr,
                (r.stdout + r.stderr)[:300])
        if not os.path.isfile(out) or not os.path.isfile(log):
            return
        st = ftlib.load_json(out)
        with open(log) as f:
            records = f.read()
        c.eq("formats: %s: ports[0].ipackets == packets.rx" % tag,
             st["ports"][0]["ipackets"], st["packets"]["rx"])
        c.check("formats: %s: accounting_ok, mempools_ok" % tag,
                st.get("accounting_ok") is True and st.get("mempools_ok") is True)
        runs[tag] = (st, records)
    # Jumbo frames: several mbufs each from the pcap PMD, so the pool keeps
    # ports.mbufs (the PMD drops a frame it has no mbufs for).
    # Their checksums are summed across the mbufs: 4 of them have one byte
    # changed deep in the chain after their TCP checksum was computed.
    jumbo = os.path.join(tmp, "jumbo.pcap")
    ftgen = ftlib.ftgen()
    with open(jumbo, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i in range(200):
            body = b"j" * 8960
            a, b = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(body), i, 0, 64, 6, 0, a, b)
            ip = ip[:10] + struct.pack("!H", ftgen.inet_csum(ip)) + ip[12:]
            tcp = struct.pack("!HHIIBBHHH", 40000, 80, 1 + i * len(body), 1, 0x50, 0x10, 65535, 0, 0)
            tcp = tcp[:16] + struct.pack("!H", ftgen.tcp_checksum(a, b, tcp + body)) + tcp[18:]
            if i % 50 == 7:
                body = body[:7001] + b"k" + body[7002:]
            fr = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + tcp + body
            f.write(struct.pack("<IIII", 1700000000, i, len(fr), len(fr)) + fr)
    out = os.path.join(tmp, "fmt-jumbo.json")
    r = ftlib.run_flowtap(["--pcap", jumbo, "--reader", "control", "--stats-json", out], timeout=60)
    c.eq("formats: jumbo frames: exit status", r.rc, 0, r.brief())
    c.check("formats: jumbo frames: read by the pcap PMD",
            "read by the control lcore (pcap PMD)" in r.stdout + r.stderr, (r.stdout + r.stderr)[:300])
    if os.path.isfile(out):
        st = ftlib.load_json(out)
        c.eq("formats: jumbo frames: all 200 analysed, capture complete",
             (st["packets"]["rx"], st["packets"]["tcp"], st["capture"]["complete"]), (200, 200, True))
        c.eq("formats: jumbo frames: 4 with a byte changed after their TCP checksum (summed across mbufs)",
             ftlib.dig(st, "packets.tcp_bad_checksum", None), 4)
        c.eq("formats: jumbo frames: the pool keeps ports.mbufs (65535)",
             ftlib.dig(st, "mempools.ft_mbuf_0.size", None), 65535)
    base_st, base_rec = runs["pcap"]
    for tag in ("pcap ns big-endian", "pcapng", "pcapng, two sections"):
        st, rec = runs[tag]
        for key in ("packets", "flows", "anomalies", "defrag", "capture.packets"):
            c.eq("formats: %s: %s as the pcap's" % (tag, key), ftlib.dig(st, key, None),
                 ftlib.dig(base_st, key, None))
        c.check("formats: %s: flow records identical to the pcap's (%d bytes)" % (tag, len(base_rec)),
                rec == base_rec and len(rec) > 0)


def main():
    ftlib.require_binary()
    with ftlib.tempdir() as tmp:
        regenerate(tmp)
        smtp = run_capture(tmp, "smtp", ftlib.data("smtp.pcap"), ftlib.load_json(ftlib.data("smtp.json")))
        mixed_truth = ftlib.load_json(ftlib.data("mixed.json"))
        mixed = run_capture(tmp, "mixed", ftlib.data("mixed.pcap"), mixed_truth)
        if 1 in mixed:
            diagnose(tmp, ftlib.data("mixed.pcap"), mixed_truth, mixed[1])
        n = int(os.environ.get("FT_MANY_FLOWS", "2000"))
        gdir = os.path.join(tmp, "many")
        p = ftlib.run_python(os.path.join(ftlib.GEN_DIR, "gen_many_flows.py"), [gdir, "--flows", str(n)])
        if c.eq("gen_many_flows.py exit status", p.returncode, 0, p.stderr[-500:]):
            pcap = os.path.join(gdir, "many_flows.pcap")
            run_capture(tmp, "many_flows(%d)" % n, pcap, ftlib.load_json(os.path.join(gdir, "many_flows.json")))
        empty_capture(tmp)
        stats_to_stdout(smtp.get(1))
        interrupted(tmp)
        formats(tmp)
    ftlib.finish()


if __name__ == "__main__":
    main()
