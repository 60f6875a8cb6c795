#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Payload signatures (Hyperscan) against generated captures whose truth is known.

Captures: tests/data/sig/NAME.pcap with NAME.json (tests/gen/gen_sig.py), the
default rules config/signatures.rules, and the canonical tests/data/smtp.pcap.

  - gen_sig.py reproduces the committed captures byte for byte;
  - each capture with 1 and 3 workers: exit 0, exactly the signature_match
    events of the truth (sig_id, msg (also in detail), severity, the connection,
    dir, seq or none for a match found at close, ts, states present), the
    signatures.* counters and by_rule exactly, anomalies.signature_match,
    accounting_ok, and the flow records of the matched connections listing
    signature_match; with signatures.every_match = yes every match;
  - frames longer than an mbuf (jumbo): a match across two chained mbufs and
    one near the end of a 60000-byte frame, from the file (the pcap PMD
    chains them) and from standard input (lib/capture chains them);
  - smtp.pcap gives VRFY (seq 1005) and EXPN (seq 1016);
  - the rules come from --signatures, [signatures] rules in a config file or
    --set, and --signatures overrides the file; no rules and an empty rules
    file match nothing (signatures.rules 0, by_rule {});
  - bad rule files stop start-up: non-zero exit, one line on stderr,
    "flowtap: FILE:LINE: reason";
  - live on net_null: /flowtap/signatures lists the rules (flowtap-ctl
    signatures, and --json), /flowtap/stats has the signatures group.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402

SIG_DIR = os.path.join(ftlib.DATA_DIR, "sig")
GEN = os.path.join(ftlib.GEN_DIR, "gen_sig.py")
RULES = os.path.join(ftlib.SRC, "config", "signatures.rules")
COUNTERS = ("rules", "flows", "bytes", "matches", "streams_full", "gaps", "ooo_held", "rescanned",
            "by_rule")

c = ftlib.checker("payload signatures")


def scenario_names():
    return sorted(f[:-5] for f in os.listdir(SIG_DIR) if f.endswith(".pcap"))


def run(tmp, pcap, extra, tag, stream=False):
    """flowtap --pcap with outputs in tmp (stream: the capture on standard
    input, --pcap -); returns (Run, stats, events, records)."""
    out = os.path.join(tmp, tag)
    os.makedirs(out, exist_ok=True)
    s, e, f = (os.path.join(out, n) for n in ("stats.json", "events.json", "flows.json"))
    args = ["--pcap", "-" if stream else pcap, "--stats-json", s, "--events", e, "--flow-log", f,
            "--quiet"] + extra
    if stream:
        with open(pcap, "rb") as src:
            r = ftlib.run_flowtap(args, stdin=src)
    else:
        r = ftlib.run_flowtap(args)
    stats = ftlib.load_json(s) if r.rc == 0 and os.path.exists(s) else {}
    events = [json.loads(x) for x in open(e)] if r.rc == 0 and os.path.exists(e) else []
    recs = [json.loads(x) for x in open(f)] if r.rc == 0 and os.path.exists(f) else []
    return r, stats, events, recs


def event_key(e):
    """What a signature_match event must say, in comparable form."""
    return (e["sig_id"], e.get("msg", e.get("detail")), e["src"], e["sport"], e["dst"], e["dport"],
            e["dir"], e.get("seq"), "%.6f" % float(e["ts"]) if not isinstance(e["ts"], str) else e["ts"])


def check_events(name, events, want, other=()):
    sig = [e for e in events if e.get("event") == "signature_match"]
    c.check(name + ": every signature_match has msg (and the same text in detail)",
            all(e.get("msg") and e.get("msg") == e.get("detail") for e in sig), sig[:2])
    c.eq(name + ": signature_match events", sorted(event_key(e) for e in sig),
         sorted(event_key(e) for e in want))
    c.check(name + ": every event alert, tcp, both states, sig_id",
            all(e.get("severity") == "alert" and e.get("proto") == "tcp" and
                "orig_state" in e and "resp_state" in e and isinstance(e.get("sig_id"), int)
                for e in sig), sig[:2])
    c.eq(name + ": the other events", sorted(e.get("event") for e in events if e not in sig),
         sorted(other))


def scenario(tmp, name):
    truth = ftlib.load_json(os.path.join(SIG_DIR, name + ".json"))
    pcap = os.path.join(SIG_DIR, name + ".pcap")
    want = truth["signatures"]
    # Frames longer than an mbuf come chained from the pcap PMD (a file) and
    # from lib/capture (a stream): both are checked.
    runs = [(w, False) for w in (1, 3)] + ([(1, True)] if name == "jumbo" else [])
    for workers, stream in runs:
        tag = "%s/%dw%s" % (name, workers, " stream" if stream else "")
        r, stats, events, recs = run(tmp, pcap, ["--signatures", RULES, "--workers", str(workers)],
                                     tag.replace("/", "-").replace(" ", "-"), stream)
        if not c.eq(tag + ": exit status", r.rc, 0, r.brief()):
            continue
        check_events(tag, events, truth["events"], truth["other_events"])
        got = {k: ftlib.dig(stats, "signatures." + k) for k in COUNTERS}
        c.eq(tag + ": signatures counters", got, want)
        c.eq(tag + ": anomalies.signature_match", ftlib.dig(stats, "anomalies.signature_match"),
             want["matches"])
        c.eq(tag + ": accounting_ok", stats.get("accounting_ok"), True)
        c.eq(tag + ": mempools_ok", stats.get("mempools_ok"), True)
        c.eq(tag + ": one flow record per connection", len(recs), truth["tcp_flows"])
        matched = {(e["src"], e["sport"]) for e in truth["events"]}
        c.eq(tag + ": records listing signature_match are the matched connections",
             sorted((x["src"], x["sport"]) for x in recs if "signature_match" in x["anomalies"]),
             sorted(matched))
    r, stats, events, _ = run(tmp, pcap, ["--signatures", RULES, "--set",
                                          "signatures.every_match=yes"], name + "-every")
    if c.eq(name + " every_match: exit status", r.rc, 0, r.brief()):
        check_events(name + " every_match", events, truth["events_every_match"],
                     truth["other_events"])
        we = truth["signatures_every_match"]
        c.eq(name + " every_match: matches, by_rule",
             (ftlib.dig(stats, "signatures.matches"), ftlib.dig(stats, "signatures.by_rule")),
             (we["matches"], we["by_rule"]))


def smtp(tmp):
    c.section("the canonical SMTP session")
    r, stats, events, _ = run(tmp, ftlib.data("smtp.pcap"), ["--signatures", RULES], "smtp")
    if not c.eq("smtp: exit status", r.rc, 0, r.brief()):
        return
    want = [
        {"sig_id": 1001, "detail": "SMTP VRFY: user name probe", "src": "192.168.1.10",
         "sport": 1042, "dst": "192.168.1.20", "dport": 25, "dir": "orig", "seq": 1005,
         "ts": "1767225600.008000"},
        {"sig_id": 1002, "detail": "SMTP EXPN: mailing list expansion probe",
         "src": "192.168.1.10", "sport": 1042, "dst": "192.168.1.20", "dport": 25, "dir": "orig",
         "seq": 1016, "ts": "1767225600.011000"},
    ]
    check_events("smtp", events, want)
    c.eq("smtp: signatures.matches, flows, bytes (27 client + 205 server)",
         [ftlib.dig(stats, "signatures." + k) for k in ("matches", "flows", "bytes")], [2, 1, 232])


def sources(tmp):
    c.section("where the rules come from")
    pcap = ftlib.data("smtp.pcap")
    conf = os.path.join(tmp, "sig.conf")
    with open(conf, "w") as f:
        f.write("[signatures]\nrules = %s\n" % RULES)
    bad = os.path.join(tmp, "bad-conf.rules")
    with open(bad, "w") as f:
        f.write("1 25 /x/ \"m\" junk\n")
    badconf = os.path.join(tmp, "bad.conf")
    with open(badconf, "w") as f:
        f.write("[signatures]\nrules = %s\n" % bad)
    for tag, extra in (("config file", ["--config", conf]),
                       ("--set", ["--set", "signatures.rules=" + RULES]),
                       ("--signatures over the config file", ["--config", badconf,
                                                              "--signatures", RULES])):
        r, stats, _, _ = run(tmp, pcap, extra, "src-" + tag.replace(" ", "_").replace("/", ""))
        c.eq("rules from %s: exit 0, 7 rules, 2 matches" % tag,
             (r.rc, ftlib.dig(stats, "signatures.rules"), ftlib.dig(stats, "signatures.matches")),
             (0, 7, 2), r.brief())
    empty = os.path.join(tmp, "empty.rules")
    with open(empty, "w") as f:
        f.write("# nothing yet\n\n")
    for tag, extra in (("no rules", []), ("an empty rules file", ["--signatures", empty])):
        r, stats, events, _ = run(tmp, pcap, extra, "none-" + tag.replace(" ", "_"))
        c.eq("%s: exit 0, nothing matched or scanned" % tag,
             (r.rc, [ftlib.dig(stats, "signatures." + k) for k in COUNTERS],
              [e for e in events if e.get("event") == "signature_match"]),
             (0, [0] * (len(COUNTERS) - 1) + [{}], []), r.brief())


BAD_RULES = [
    ("not a number", "# c\nx1 25 /a/ \"m\"\n", "2: ID 'x1' is not a positive integer (1-4294967295)"),
    ("ID 0", "0 25 /a/ \"m\"\n", "1: ID '0' is not a positive integer (1-4294967295)"),
    ("bad port", "1 25,smtp /a/ \"m\"\n",
     "1: bad port 'smtp' in '25,smtp' (ports are 1-65535, comma-separated, or any)"),
    ("port 0", "1 0 /a/ \"m\"\n", "1: port 0 out of range (1-65535)"),
    ("port above 65535", "1 25,70000 /a/ \"m\"\n", "1: port 70000 out of range (1-65535)"),
    ("unknown flag", "1 25 /a/x \"m\"\n", "1: unknown flag 'x' (flags are i, m, s)"),
    ("missing quotes", "1 25 /a/i message\n",
     "1: missing message: it must follow the pattern in double quotes"),
    ("unterminated message", "1 25 /a/ \"message\n", "1: unterminated message (no closing '\"')"),
    ("trailing garbage", "1 25 /a/ \"m\" more\n", "1: trailing garbage 'more' after the message"),
    ("duplicate ID", "1 25 /a/ \"m\"\n2 25 /b/ \"n\"\n1 80 /c/ \"o\"\n",
     "3: duplicate ID 1 (first on line 1)"),
    ("pattern Hyperscan rejects", "1 25 /a/ \"m\"\n2 25 /(ab/ \"n\"\n",
     "2: pattern /(ab/ rejected by Hyperscan: Missing close parenthesis for group started at "
     "index 0."),
]


def bad_rules(tmp):
    c.section("bad rule files stop start-up with FILE:LINE: reason")
    pcap = ftlib.data("smtp.pcap")
    for i, (tag, text, tail) in enumerate(BAD_RULES):
        path = os.path.join(tmp, "bad%d.rules" % i)
        with open(path, "w") as f:
            f.write(text)
        r = ftlib.run_flowtap(["--pcap", pcap, "--signatures", path, "--quiet"])
        c.check("bad rules, %s: non-zero exit" % tag, r.rc not in (0, None), r.brief())
        c.eq("bad rules, %s: one line" % tag, r.stderr_lines, ["flowtap: %s:%s" % (path, tail)])
        c.eq("bad rules, %s: no runtime directory left" % tag, r.leftover, [])
    missing = os.path.join(tmp, "missing.rules")
    r = ftlib.run_flowtap(["--pcap", pcap, "--signatures", missing, "--quiet"])
    c.eq("missing rules file: exit 1 and one line", (r.rc, r.stderr_lines),
         (1, ["flowtap: %s: cannot read the rules file: No such file or directory" % missing]))


def regenerate(tmp):
    c.section("gen_sig.py reproduces tests/data/sig")
    regen = os.path.join(tmp, "regen")
    p = ftlib.run_python(GEN, [regen])
    if not c.eq("gen_sig.py exit status", p.returncode, 0, p.stderr[-800:]):
        return
    made = sorted(os.listdir(regen))
    c.eq("tests/data/sig holds exactly the generated files", sorted(os.listdir(SIG_DIR)), made,
         "regenerate with: /usr/bin/python3 tests/gen/gen_sig.py")
    for fname in made:
        a, b = os.path.join(regen, fname), os.path.join(SIG_DIR, fname)
        if os.path.isfile(b):
            with open(a, "rb") as fa, open(b, "rb") as fb:
                c.check("gen_sig.py reproduces tests/data/sig/%s" % fname, fa.read() == fb.read(),
                        "regenerate with: /usr/bin/python3 tests/gen/gen_sig.py")


def live(tmp):
    c.section("live: /flowtap/signatures")
    ctl = ftlib.ctl_path()
    if not os.path.isfile(ctl):
        ctl = os.path.join(ftlib.SRC, "app", "flowtap-ctl", "flowtap-ctl.py")
    prefix = "ft-sig-%d" % os.getpid()
    args = [ftlib.flowtap_path(), "-l", "0-1", "--no-huge", "-m", "512", "--no-pci",
            "--file-prefix", prefix, "--vdev", "net_null0", "--log-level=error", "--",
            "--signatures", RULES, "--set", "flows.max=65536", "--set", "signatures.streams=4096",
            "--set", "general.status_interval=0"]
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        rep, deadline = None, time.monotonic() + 60
        while time.monotonic() < deadline and p.poll() is None:
            q = subprocess.run([sys.executable, ctl, "--prefix", prefix, "signatures", "--json"],
                               capture_output=True, text=True, timeout=30)
            if q.returncode == 0:
                rep = json.loads(q.stdout)
                break
            time.sleep(0.3)
        if c.check("live: flowtap-ctl signatures --json answers", rep is not None,
                   p.poll() if p.poll() is not None else "no reply"):
            rows = rep.get("signatures", [])
            c.eq("live: rules, rules_file, streams_open", (rep.get("rules"), rep.get("rules_file"),
                                                           rep.get("streams_open")), (7, RULES, 0))
            c.eq("live: rows (id, ports, msg, matches)",
                 [(r.get("id"), r.get("ports"), r.get("msg"), r.get("matches")) for r in rows][:3],
                 [(1001, "25,587", "SMTP VRFY: user name probe", 0),
                  (1002, "25,587", "SMTP EXPN: mailing list expansion probe", 0),
                  (1003, "25,587", "SMTP DEBUG/WIZ: sendmail back door command", 0)])
            c.eq("live: pattern as written", rows[0].get("pattern") if rows else None,
                 "/(^|[^\\s-])VRFY\\s/im")
            q = subprocess.run([sys.executable, ctl, "--prefix", prefix, "signatures"],
                               capture_output=True, text=True, timeout=30)
            c.check("live: the table", q.returncode == 0 and "cmd.exe in Telnet or HTTP" in q.stdout
                    and "7 rules from" in q.stdout, q.stdout + q.stderr)
            q = subprocess.run([sys.executable, ctl, "--prefix", prefix, "raw",
                                "/flowtap/signatures,from=6"], capture_output=True, text=True,
                               timeout=30)
            v = json.loads(q.stdout) if q.returncode == 0 else {}
            c.eq("live: from=6 gives the last rule", [r.get("id") for r in
                                                     v.get("signatures", {}).values()], [1021])
            q = subprocess.run([sys.executable, ctl, "--prefix", prefix, "raw",
                                "/flowtap/signatures,from=99"], capture_output=True, text=True,
                               timeout=30)
            c.check("live: a bad from= is an error reply",
                    "from: '99' is not a rule position (0-7)" in q.stdout + q.stderr,
                    q.stdout + q.stderr)
            q = subprocess.run([sys.executable, ctl, "--prefix", prefix, "stats", "--json",
                                "--flat"], capture_output=True, text=True, timeout=30)
            st = json.loads(q.stdout) if q.returncode == 0 else {}
            c.eq("live: /flowtap/stats signatures.rules", st.get("signatures.rules"), 7)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
        c.eq("live: SIGINT, exit 0", p.returncode, 0, err.decode(errors="replace")[-400:])
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
        ftlib.remove_runtime_dir(prefix)


def main():
    ftlib.require_binary()
    with ftlib.tempdir("flowtap-sig-") as tmp:
        regenerate(tmp)
        for n in scenario_names():
            c.section(n)
            scenario(tmp, n)
        smtp(tmp)
        sources(tmp)
        bad_rules(tmp)
        live(tmp)
    ftlib.finish()


if __name__ == "__main__":
    main()
