#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""flowtap-ctl: ask a running flowtap questions over DPDK's telemetry socket.

    flowtap-ctl [--prefix P] [--json] stats|ports|workers|config|list
    flowtap-ctl [--prefix P] [--json] raw CMD     (any telemetry command,
                                                   e.g. raw /ethdev/stats,0)

The socket is <runtime dir>/<prefix>/dpdk_telemetry.v2 (SOCK_SEQPACKET; the
server greets with a JSON object, then answers one command per message with
{"<command>": value}). Without --prefix, flowtap-ctl uses the one running
process whose command list has /flowtap/stats.

DPDK 22.11 telemetry allows no dots in key names, so flowtap nests its dotted
counter paths ({"packets": {"rx": N}} is packets.rx); the tables here show the
dotted paths again. --json prints the reply as flowtap sent it, --json --flat
with dotted keys ({"packets.rx": N}).

Python 3 standard library only. Exit status: 0 on success, 1 on any error
(one line on stderr), 2 on bad usage.
"""

import argparse
import json
import os
import socket
import sys

SOCKET_NAME = "dpdk_telemetry.v2"
TIMEOUT_S = 2.0
FLOWTAP_PROBE = "/flowtap/stats"
GREETING_MAX = 4096
DEFAULT_OUTPUT_LEN = 16384
# Order of the stats sections; groups flowtap adds later follow these.
STATS_SECTIONS = ("packets", "handoff", "flows", "defrag", "events", "worker")
# Top-level stats keys that are not counter groups.
STATS_SCALARS = ("accounted", "accounting_ok", "uptime_s", "workers", "offline")


class CtlError(Exception):
    """An error to report as one line, exit status 1."""


def runtime_dirs():
    """Where DPDK puts runtime directories, as DPDK itself decides it (root:
    /var/run/dpdk; others: $XDG_RUNTIME_DIR/dpdk or /tmp/dpdk). A non-root
    user also looks in /var/run/dpdk, where a root flowtap lives."""
    dirs = []
    if os.getuid() != 0:
        base = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
        dirs.append(os.path.join(base, "dpdk"))
    dirs.append("/var/run/dpdk")
    return dirs


def permission_hint(path):
    return ("%s: permission denied: the telemetry socket and its directory are "
            "owner-only; run flowtap-ctl as the user that started flowtap" % path)


class Telemetry:
    """One connection to a telemetry socket."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(TIMEOUT_S)
        try:
            self.sock.connect(path)
            greeting = self._recv(GREETING_MAX)
        except BaseException:
            self.sock.close()
            raise
        self.pid = greeting.get("pid")
        self.version = greeting.get("version", "")
        self.max_output_len = int(greeting.get("max_output_len") or DEFAULT_OUTPUT_LEN)

    def _recv(self, size):
        try:
            data = self.sock.recv(size)
        except socket.timeout:
            raise CtlError("%s: no answer within %g s" % (self.path, TIMEOUT_S)) from None
        if not data:
            raise CtlError("%s: the server closed the connection "
                           "(too many telemetry clients?)" % self.path)
        try:
            obj = json.loads(data.decode("utf-8", "replace"))
        except ValueError:
            raise CtlError("%s: unreadable reply: %.60r" % (self.path, data)) from None
        if not isinstance(obj, dict):
            raise CtlError("%s: unexpected reply: %.60r" % (self.path, data))
        return obj

    def query(self, cmd):
        """Send one command; return the value of its reply (None: telemetry
        answered null, i.e. unknown command or the command failed)."""
        try:
            self.sock.send(cmd.encode())
        except socket.timeout:
            raise CtlError("%s: cannot send within %g s" % (self.path, TIMEOUT_S)) from None
        except OSError as e:
            raise CtlError("%s: %s" % (self.path, e.strerror or e)) from None
        reply = self._recv(self.max_output_len)
        if len(reply) != 1:
            raise CtlError("%s: unexpected reply to %s" % (self.path, cmd))
        return next(iter(reply.values()))

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def connect(path):
    """Open @path or raise CtlError with one clear line."""
    try:
        return Telemetry(path)
    except FileNotFoundError:
        raise CtlError("%s: no such socket (is flowtap running with this "
                       "--file-prefix?)" % path) from None
    except PermissionError:
        raise CtlError(permission_hint(path)) from None
    except ConnectionRefusedError:
        raise CtlError("%s: connection refused (a stale socket: the process "
                       "that made it is gone)" % path) from None
    except socket.timeout:
        raise CtlError("%s: no answer within %g s" % (path, TIMEOUT_S)) from None
    except OSError as e:
        raise CtlError("%s: %s" % (path, e.strerror or e)) from None


def probe(path):
    """(greeting info, is flowtap) for a socket, or None if it does not answer."""
    try:
        with connect(path) as tel:
            commands = tel.query("/")
            info = {"pid": tel.pid, "version": tel.version}
            return info, isinstance(commands, list) and FLOWTAP_PROBE in commands
    except CtlError:
        return None


def scan(dirs):
    """Every answering flowtap under @dirs: list of (prefix, path, info), and
    the directories that could not be read."""
    found, denied, seen = [], [], set()
    for base in dirs:
        try:
            names = sorted(os.listdir(base))
        except FileNotFoundError:
            continue
        except PermissionError:
            denied.append(base)
            continue
        except NotADirectoryError:
            continue
        for name in names:
            path = os.path.join(base, name, SOCKET_NAME)
            try:
                st = os.stat(path)
            except PermissionError:
                denied.append(os.path.join(base, name))
                continue
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            res = probe(path)
            if res is not None and res[1]:
                found.append((name, path, res[0]))
    return found, denied


def resolve(prefix, dirs):
    """Socket path of the flowtap to talk to."""
    if prefix is not None:
        if not prefix or "/" in prefix or prefix in (".", ".."):
            raise CtlError("bad --prefix %r" % prefix)
        denied = None
        for base in dirs:
            path = os.path.join(base, prefix, SOCKET_NAME)
            try:
                os.stat(path)
                return path
            except PermissionError:
                denied = denied or path
            except OSError:
                pass
        if denied:
            raise CtlError(permission_hint(denied))
        raise CtlError("no process with --file-prefix %s (no %s)"
                       % (prefix, " or ".join(os.path.join(b, prefix, SOCKET_NAME)
                                               for b in dirs)))
    found, denied = scan(dirs)
    if len(found) == 1:
        return found[0][1]
    if len(found) > 1:
        raise CtlError("several flowtap processes are running (prefixes: %s); "
                       "choose one with --prefix" % ", ".join(f[0] for f in found))
    if denied:
        raise CtlError(permission_hint(denied[0]))
    raise CtlError("no running flowtap found (looked in %s)" % ", ".join(dirs))


def ask(path, cmd):
    """One command's reply value; None (null) becomes a clear error."""
    with connect(path) as tel:
        value = tel.query(cmd)
    if value is None:
        raise CtlError("%s: no answer to %s (unknown command, bad parameter, or "
                       "not a flowtap process)" % (path, cmd))
    return value


# ---- formatting ----

def flatten(obj, prefix=""):
    """[(dotted path, value)] of a nested dict, in reply order."""
    out = []
    for key, value in obj.items():
        path = prefix + "." + key if prefix else key
        if isinstance(value, dict):
            out.extend(flatten(value, path))
        else:
            out.append((path, value))
    return out


def fmt_uptime(seconds):
    seconds = int(seconds)
    d, rest = divmod(seconds, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    if d:
        return "%dd%02dh%02dm" % (d, h, m)
    if h:
        return "%dh%02dm%02ds" % (h, m, s)
    if m:
        return "%dm%02ds" % (m, s)
    return "%ds" % s


def print_table(headers, rows, right=()):
    """Aligned columns; @right: indexes of right-aligned (numeric) columns."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(row):
        parts = [c.rjust(widths[i]) if i in right else c.ljust(widths[i])
                 for i, c in enumerate(row)]
        return "  ".join(parts).rstrip()

    print(line(headers))
    for row in cells:
        print(line(row))


def show_stats(stats, path):
    flat = flatten(stats)
    groups = {}
    malformed, anomalies = [], []
    for key, value in flat:
        head, _, rest = key.partition(".")
        if key.startswith("packets.malformed."):
            malformed.append((key[len("packets.malformed."):], value))
        elif head == "anomalies":
            anomalies.append((rest, value))
        elif rest:
            groups.setdefault(head, []).append((rest, value))
    order = [g for g in STATS_SECTIONS if g in groups]
    order += [g for g in groups if g not in order]

    title = "flowtap %s" % os.path.basename(os.path.dirname(path))
    if "uptime_s" in stats:
        title += ", up %s" % fmt_uptime(stats["uptime_s"])
    if "workers" in stats:
        title += ", %s worker%s" % (stats["workers"], "" if stats["workers"] == 1 else "s")
    if stats.get("offline"):
        title += ", reading a capture"
    print(title)
    width = max([len(k) for g in order for k, _ in groups[g]] +
                [len(k) for k, _ in malformed + anomalies] + [10])
    vwidth = max([len(str(v)) for _, v in flat if not isinstance(v, str)] + [1])

    def rows(pairs):
        if not pairs:
            print("  none")
        for k, v in pairs:
            print("  %s  %s" % (k.ljust(width), str(v).rjust(vwidth)))

    for g in order:
        print("\n" + g)
        rows(groups[g])
    total = dict(malformed).get("total", 0)
    reasons = [(k, v) for k, v in malformed if k != "total" and v]
    print("\nmalformed (total %s)" % total)
    rows(reasons)
    print("\nanomalies")
    rows([(k, v) for k, v in anomalies if v])

    print()
    if "accounting_ok" in stats:
        if stats["accounting_ok"]:
            print("accounting  ok")
        else:
            rx = stats.get("packets", {}).get("rx", 0)
            acc = stats.get("accounted", 0)
            note = "" if stats.get("offline") else \
                " (a live reading differs by the packets being processed)"
            print("accounting  MISMATCH: rx %s, accounted %s, off by %d%s"
                  % (rx, acc, rx - acc, note))


PORT_COLUMNS = ("name", "driver", "socket", "rx_queues", "tx_queues", "peer", "rss",
                "ipackets", "opackets", "ibytes", "imissed", "ierrors", "rx_nombuf",
                "oerrors")


def show_ports(ports, _path):
    if not ports:
        print("no ports")
        return
    headers = ["port"] + [c.replace("_queues", "q").upper() if c.endswith("_queues")
                          else c for c in PORT_COLUMNS]
    rows = []
    for pid, p in ports.items():
        row = [pid]
        for c in PORT_COLUMNS:
            v = p.get(c, "-")
            if c == "peer" and v == -1:
                v = "-"
            elif c == "rss":
                v = "yes" if v else "no"
            row.append(v)
        rows.append(row)
    print_table(headers, rows, right={0, 3, 4, 5, 6} | set(range(8, len(headers))))
    bad = [pid for pid, p in ports.items() if "error" in p]
    for pid in bad:
        print("port %s: %s" % (pid, ports[pid]["error"]))


def show_workers(workers, _path):
    if not workers:
        print("no workers")
        return
    headers = ["worker", "lcore", "socket", "numa", "queues", "rx", "handoff_out",
               "handoff_in", "busy"]
    rows = []
    for idx, w in workers.items():
        f = dict(flatten(w))
        it = f.get("worker.iterations", 0)
        busy = f.get("worker.busy_iterations", 0)
        rows.append([idx, f.get("lcore", "-"), f.get("socket", "-"),
                     "REMOTE" if f.get("remote_numa") else "local",
                     f.get("queues", "") or "-", f.get("packets.rx", 0),
                     f.get("handoff.out", 0), f.get("handoff.in", 0),
                     # Two relaxed loads, not a snapshot: busy may be read
                     # a little ahead of iterations.
                     "%.1f%%" % min(100.0, 100.0 * busy / it) if it else "-"])
    print_table(headers, rows, right={0, 1, 2, 5, 6, 7, 8})


def show_config(config, _path):
    pairs = flatten(config)
    kw = max(len(k) for k, _ in pairs) if pairs else 0
    for k, v in pairs:
        print("%s = %s" % (k.ljust(kw), v if v != "" else '""'))


def show_list(found, args):
    rows = []
    for prefix, path, info in found:
        entry = {"prefix": prefix, "pid": info.get("pid"), "socket": path,
                 "version": info.get("version")}
        try:
            stats = ask(path, "/flowtap/stats")
            entry["uptime_s"] = stats.get("uptime_s")
            entry["packets.rx"] = stats.get("packets", {}).get("rx")
        except CtlError:
            pass
        rows.append(entry)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        print("no running flowtap found (looked in %s)" % ", ".join(args.dirs))
        return
    print_table(["prefix", "pid", "uptime", "packets.rx", "socket"],
                [[r["prefix"], r["pid"],
                  fmt_uptime(r["uptime_s"]) if r.get("uptime_s") is not None else "-",
                  r.get("packets.rx", "-"), r["socket"]] for r in rows],
                right={1, 2, 3})


COMMANDS = {
    "stats": ("/flowtap/stats", show_stats),
    "ports": ("/flowtap/ports", show_ports),
    "workers": ("/flowtap/workers", show_workers),
    "config": ("/flowtap/config", show_config),
}


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="flowtap-ctl",
        description="Ask a running flowtap questions over DPDK's telemetry socket.",
        epilog="commands: stats (all counters), ports, workers, config, "
               "list (running flowtap processes), raw CMD (any telemetry command, "
               "e.g. 'raw /ethdev/stats,0' or 'raw /help,/flowtap/stats')")
    ap.add_argument("--prefix", "-p", metavar="P",
                    help="the flowtap started with --file-prefix P "
                         "(default: the only one running)")
    ap.add_argument("--json", action="store_true",
                    help="print the JSON reply instead of a table")
    ap.add_argument("--flat", action="store_true",
                    help="with --json: dotted keys ({\"packets.rx\": N}) "
                         "instead of nested objects")
    ap.add_argument("--runtime-dir", metavar="DIR", action="append",
                    help="look for <DIR>/<prefix>/%s (default: %s)"
                         % (SOCKET_NAME, ", ".join(runtime_dirs())))
    ap.add_argument("command", choices=sorted(list(COMMANDS) + ["list", "raw"]),
                    help="what to ask")
    ap.add_argument("arg", nargs="?", metavar="CMD",
                    help="for raw: the telemetry command, e.g. /ethdev/stats,0")
    args = ap.parse_args(argv)
    if args.command == "raw":
        if not args.arg or not args.arg.startswith("/"):
            ap.error("raw needs a telemetry command starting with '/', "
                     "e.g. raw /ethdev/list")
        if len(args.arg.encode()) >= 1024:
            ap.error("raw: command too long")
    elif args.arg is not None:
        ap.error("%s takes no argument" % args.command)
    args.dirs = args.runtime_dir or runtime_dirs()
    return args


def run(args):
    if args.command == "list":
        found, denied = scan(args.dirs)
        if not found and denied and not args.json:
            raise CtlError(permission_hint(denied[0]))
        if args.prefix:
            found = [f for f in found if f[0] == args.prefix]
        show_list(found, args)
        return
    path = resolve(args.prefix, args.dirs)
    if args.command == "raw":
        value = ask(path, args.arg)
        if args.flat and isinstance(value, dict):
            value = dict(flatten(value))
        print(json.dumps(value, indent=2))
        return
    cmd, show = COMMANDS[args.command]
    value = ask(path, cmd)
    if args.json and args.flat:
        print(json.dumps(dict(flatten(value)) if isinstance(value, dict) else value,
                         indent=2))
    elif args.json:
        print(json.dumps(value, indent=2))
    elif not isinstance(value, dict):
        raise CtlError("%s: unexpected reply to %s" % (path, cmd))
    else:
        show(value, path)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        run(args)
        sys.stdout.flush()
    except CtlError as e:
        print("flowtap-ctl: %s" % e, file=sys.stderr)
        return 1
    except BrokenPipeError:
        # Output piped into head: not an error. Keep Python from
        # complaining again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
