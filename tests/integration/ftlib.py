#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Shared helpers of flowtap's integration tests (run them with /usr/bin/python3).

- where things are: FLOWTAP, FLOWTAP_CTL, FLOWTAP_SRC from the environment
  (meson sets them), else paths under FLOWTAP_SRC/build, FLOWTAP_SRC being
  this checkout when unset;
- run_flowtap(): run the binary in its own session with a timeout, capture
  stdout, stderr and exit status, then look for and remove the DPDK runtime
  directory of that very process (/var/run/dpdk/flowtap-<pid>);
- stats JSON loading and dotted access;
- the capture generators of tests/gen (importable as modules);
- a tiny check/report API: check(name, cond, detail), eq(name, got, want),
  note(), skip(), finish() prints "N passed, N failed" and exits 1 on failure.

Environment knobs: FT_KEEP=1 keeps temporary directories, FT_VERBOSE=1 prints
passing checks too, FT_TIMEOUT overrides the per-run timeout (seconds).
"""

import contextlib
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.environ.get("FLOWTAP_SRC") or os.path.join(HERE, "..", ".."))
GEN_DIR = os.path.join(SRC, "tests", "gen")
DATA_DIR = os.path.join(SRC, "tests", "data")
BUILD_DIR = os.path.join(SRC, "build")
MISSING = object()
SKIP_EXIT = 77  # meson: test skipped

if GEN_DIR not in sys.path:
    sys.path.insert(0, GEN_DIR)


# ---------------------------------------------------------------- locations
def flowtap_path():
    return os.environ.get("FLOWTAP") or os.path.join(BUILD_DIR, "app", "flowtap")


def ctl_path():
    return os.environ.get("FLOWTAP_CTL") or os.path.join(BUILD_DIR, "app", "flowtap-ctl")


def require_binary():
    """Exit with meson's skip status when flowtap is not built."""
    p = flowtap_path()
    if not (os.path.isfile(p) and os.access(p, os.X_OK)):
        print("SKIP: flowtap binary not found at %s (build it, or set FLOWTAP)" % p)
        sys.exit(SKIP_EXIT)
    return p


def data(name):
    return os.path.join(DATA_DIR, name)


def gen(name):
    """Import a generator module of tests/gen, e.g. gen("gen_mixed")."""
    return importlib.import_module(name)


def ftgen():
    return gen("ftgen")


# ---------------------------------------------------------------- running
def runtime_base():
    """DPDK's runtime directory base for this user (as EAL picks it)."""
    if os.geteuid() == 0:
        return "/var/run/dpdk"
    return os.path.join(os.environ.get("XDG_RUNTIME_DIR") or "/tmp", "dpdk")


def runtime_dirs(pid):
    """Where DPDK puts the runtime directory of file prefix flowtap-<pid>."""
    return [os.path.join(runtime_base(), "flowtap-%d" % pid)]


class Run:
    """Outcome of one flowtap run."""

    def __init__(self, args):
        self.args = list(args)
        self.rc = None
        self.stdout = ""
        self.stderr = ""
        self.pid = None
        self.elapsed = 0.0
        self.timed_out = False
        self.leftover = []  # runtime directories that were still there after exit

    @property
    def stderr_lines(self):
        return self.stderr.splitlines()

    def cmdline(self):
        return " ".join(self.args)

    def brief(self, limit=600):
        """rc and the end of stderr, for failure details."""
        err = self.stderr.strip()
        if len(err) > limit:
            err = "..." + err[-limit:]
        return "rc=%s%s stderr=%r" % (self.rc, " (timed out)" if self.timed_out else "", err)


def default_timeout():
    return float(os.environ.get("FT_TIMEOUT", "180"))


def run_flowtap(args, timeout=None, binary=None, stdin=subprocess.DEVNULL):
    """Run flowtap with args; returns a Run. The process gets its own session so
    that a hung run can be killed (by its process group id, which is its pid)."""
    binary = binary or flowtap_path()
    timeout = timeout or default_timeout()
    r = Run([binary] + list(args))
    t0 = time.monotonic()
    p = subprocess.Popen(r.args, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    r.pid = p.pid
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        r.timed_out = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
    r.elapsed = time.monotonic() - t0
    r.rc = p.returncode
    r.stdout = out.decode("utf-8", "replace")
    r.stderr = err.decode("utf-8", "replace")
    for d in runtime_dirs(p.pid):
        if os.path.exists(d):
            r.leftover.append(d)
            shutil.rmtree(d, ignore_errors=True)
    return r


def kill_group(proc):
    """Kill a still running Popen started with start_new_session=True, and its
    children (its process group), then reap it."""
    if proc is not None and proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def remove_runtime_dir(prefix):
    """Remove the DPDK runtime directory of a file prefix; True when it existed."""
    found = False
    for base in ("/var/run/dpdk", os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk")):
        d = os.path.join(base, prefix)
        if prefix and os.path.isdir(d):
            found = True
            shutil.rmtree(d, ignore_errors=True)
    return found


def run_python(script, args, timeout=600):
    """Run a generator script with this interpreter; returns CompletedProcess."""
    return subprocess.run([sys.executable, script] + list(args), capture_output=True, text=True,
                          timeout=timeout)


# ---------------------------------------------------------------- data
def load_json(path):
    with open(path) as f:
        return json.load(f)


def json_from_stdout(text):
    """The first JSON object in text that starts at the beginning of a line."""
    dec = json.JSONDecoder()
    pos = 0
    while True:
        i = text.find("{", pos)
        if i < 0:
            raise ValueError("no JSON object in output")
        if i == 0 or text[i - 1] == "\n":
            try:
                return dec.raw_decode(text, i)[0]
            except ValueError:
                pass
        pos = i + 1


def dig(d, dotted, default=MISSING):
    """d["a"]["b"] for "a.b"; default (or MISSING) when absent."""
    cur = d
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return default
        cur = cur[part]
    return cur


def pcap_totals(path):
    """(frames, sum of captured lengths, sum of wire lengths) from our own reader."""
    _, recs = ftgen().read_pcap(path)
    return len(recs), sum(r[2] for r in recs), sum(r[3] for r in recs)


def capture_frames(path):
    """The frames of a pcap or pcapng file, as bytes (scapy's reader)."""
    from scapy.utils import RawPcapReader
    return [bytes(d) for d, _ in RawPcapReader(path)]


class Telemetry:
    """A client of a DPDK telemetry socket, connected once for many queries."""

    def __init__(self, path, timeout=2):
        import socket
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.sock.settimeout(timeout)
            self.sock.connect(path)
            self.sock.recv(4096)  # the greeting
        except OSError:
            self.sock.close()
            raise

    def q(self, cmd):
        """The whole reply to cmd ({cmd: value}); OSError or ValueError when
        the socket or the reply fails."""
        self.sock.send(cmd.encode())
        return json.loads(self.sock.recv(1 << 20).decode())

    def close(self):
        self.sock.close()


def telemetry_query(path, cmd, timeout=2):
    """One command on a DPDK telemetry socket: its reply's value for cmd, or
    None when the socket is not there, or the command not (yet) known."""
    try:
        tel = Telemetry(path, timeout)
        try:
            return tel.q(cmd).get(cmd)
        finally:
            tel.close()
    except (OSError, ValueError):
        return None


def tshark_frames(path):
    """Frames tshark counts in path, or None when tshark is not installed."""
    exe = shutil.which("tshark")
    if exe is None:
        return None
    p = subprocess.run([exe, "-r", path, "-T", "fields", "-e", "frame.number"],
                       capture_output=True, text=True, timeout=300)
    return len(p.stdout.splitlines())


def malformed_reasons():
    return ftgen().malformed_reasons()


@contextlib.contextmanager
def tempdir(tag="flowtap-test-"):
    d = tempfile.mkdtemp(prefix=tag)
    try:
        yield d
    finally:
        if os.environ.get("FT_KEEP"):
            print("kept %s" % d)
        else:
            shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------- reporting
class Checker:
    def __init__(self, title=None):
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.failures = []
        self.verbose = bool(os.environ.get("FT_VERBOSE"))
        if title:
            print("== %s" % title, flush=True)

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            if self.verbose:
                print("ok   %s" % name, flush=True)
        else:
            self.failed += 1
            self.failures.append(name)
            print("FAIL %s%s" % (name, (": " + str(detail)) if detail != "" else ""), flush=True)
        return bool(cond)

    def eq(self, name, got, want, detail=""):
        extra = ("; " + detail) if detail else ""
        return self.check(name, got == want, "got %r, want %r%s" % (got, want, extra))

    def note(self, msg):
        print("note %s" % msg, flush=True)

    def skip(self, name, why):
        self.skipped += 1
        print("skip %s: %s" % (name, why), flush=True)

    def section(self, title):
        print("-- %s" % title, flush=True)

    def summary(self):
        s = "%d passed, %d failed" % (self.passed, self.failed)
        if self.skipped:
            s += ", %d skipped" % self.skipped
        return s

    def finish(self):
        print(self.summary(), flush=True)
        sys.exit(1 if self.failed else 0)


_default = None


def checker(title=None):
    """The module's default Checker (created on first use)."""
    global _default
    if _default is None:
        _default = Checker(title)
    return _default


def check(name, cond, detail=""):
    return checker().check(name, cond, detail)


def eq(name, got, want, detail=""):
    return checker().eq(name, got, want, detail)


def note(msg):
    checker().note(msg)


def skip(name, why):
    checker().skip(name, why)


def finish():
    checker().finish()


# ---------------------------------------------------------------- aliases
# Names other integration tests use for the same things.
def src_dir():
    return SRC


flowtap_bin = flowtap_path
ctl_bin = ctl_path
Checks = Checker
