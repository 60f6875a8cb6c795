#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""flowtap-ctl: ask a running flowtap questions over DPDK's telemetry socket.

    flowtap-ctl [--prefix P] [--json] stats|ports|workers|config|defrag|list
    flowtap-ctl flows [--addr A] [--port N] [--state S] [--limit N]
    flowtap-ctl flow ADDR:PORT-ADDR:PORT [--vlan V]   (IPv6: [ADDR]:PORT)
    flowtap-ctl anomalies
    flowtap-ctl signatures
    flowtap-ctl events [N]
    flowtap-ctl ladder [FILTER] [--wait S | --follow] [--relative] [--keep]
    flowtap-ctl ladder --off
    flowtap-ctl raw CMD          (any telemetry command, e.g. raw /ethdev/stats,0)

The socket is <runtime dir>/<prefix>/dpdk_telemetry.v2 (SOCK_SEQPACKET; the
server greets with a JSON object, then answers one command per message with
{"<command>": value}). Without --prefix, flowtap-ctl uses the one running
process whose command list has /flowtap/stats.

DPDK 22.11 telemetry allows no dots in key names, so flowtap nests its dotted
counter paths ({"packets": {"rx": N}} is packets.rx); the tables here show the
dotted paths again. --json prints the reply as flowtap sent it, --json --flat
with dotted keys ({"packets.rx": N}). A telemetry reply holds 16 KiB: flows
and ladder follow the reply's "next" cursor until they have everything asked
for, and --json prints the pages merged (lists instead of numbered keys).

Python 3 standard library only. Exit status: 0 on success, 1 on any error
(one line on stderr), 2 on bad usage.
"""

import argparse
import json
import os
import socket
import sys
import time

SOCKET_NAME = "dpdk_telemetry.v2"
# flowtap waits up to 1 s per worker for a query, and a query may wait for
# another client's: give it time before calling it hung.
TIMEOUT_S = 5.0
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
            self._connect(path)
            greeting = self._recv(GREETING_MAX)
        except BaseException:
            self.sock.close()
            raise
        self.pid = greeting.get("pid")
        self.version = greeting.get("version", "")
        self.max_output_len = int(greeting.get("max_output_len") or DEFAULT_OUTPUT_LEN)

    def _connect(self, path):
        """DPDK's telemetry socket listens with a backlog of 1: a client
        connecting at the same moment as another gets EAGAIN. Try again."""
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            try:
                self.sock.connect(path)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise socket.timeout() from None
                time.sleep(0.01)

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
    if isinstance(value, dict) and set(value) == {"error"}:
        raise CtlError("%s: %s" % (cmd, value["error"]))
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


def show_defrag(value, _path):
    """Counters, anomalies and limits of /flowtap/defrag, dotted, one per line."""
    pairs = flatten(value)
    kw = max(len(k) for k, _ in pairs) if pairs else 0
    for k, v in pairs:
        print("%s  %s" % (k.ljust(kw), v))


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


# ---- connections, events, ladders (answered by the workers) ----

def fmt_ts(text, with_date=False):
    """"1767225600.015000" (flowtap's seconds.micro) as UTC time."""
    try:
        sec = float(text)
    except (TypeError, ValueError):
        return str(text)
    t = time.gmtime(int(sec))
    micro = int(round((sec - int(sec)) * 1e6))
    return time.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S", t) + \
        ".%06d" % micro


def endpoint(addr, port):
    return ("[%s]:%s" if ":" in str(addr) else "%s:%s") % (addr, port)


def rows_of(obj):
    """The rows of a list reply ({"0": {...}, "1": {...}}) in order."""
    if not isinstance(obj, dict):
        return []
    return [obj[k] for k in sorted(obj, key=lambda k: int(k) if k.isdigit() else -1)]


def query_pages(path, first_cmd, next_cmd, enough):
    """Replies of a paged command over one connection: first_cmd, then
    next_cmd(reply) while the reply has a "next" cursor and enough(replies)
    is false."""
    replies = []
    with connect(path) as tel:
        cmd = first_cmd
        while cmd is not None:
            value = tel.query(cmd)
            if value is None:
                raise CtlError("%s: no answer to %s (not a flowtap process?)" % (path, cmd))
            if isinstance(value, dict) and set(value) == {"error"}:
                raise CtlError("%s: %s" % (cmd, value["error"]))
            replies.append(value)
            cmd = None
            if value.get("truncated") and value.get("next") is not None and \
                    not enough(replies) and len(replies) < 10000:
                cmd = next_cmd(value)
    return replies


def flows_params(args):
    params = []
    if args.addr:
        params.append("addr=" + args.addr)
    if args.port is not None:
        params.append("port=%d" % args.port)
    if args.state:
        params.append("state=" + args.state.upper())
    return params


def get_flows(path, args):
    """Up to --limit connections, following the cursor across pages."""
    base = "/flowtap/flows"
    params = flows_params(args)
    got = []

    def cmd(cursor):
        want = min(args.limit - len(got), FLOWS_PAGE_MAX)
        return ",".join([base] + params + ["limit=%d" % want] +
                        (["from=" + cursor] if cursor else []))

    def enough(replies):
        got[:] = [r for rep in replies for r in rows_of(rep.get("flows"))]
        return len(got) >= args.limit

    replies = query_pages(path, cmd(None), lambda rep: cmd(rep["next"]), enough)
    flows = [r for rep in replies for r in rows_of(rep.get("flows"))][:args.limit]
    matched = replies[0].get("matched", len(flows))
    return {"matched": matched, "returned": len(flows),
            "truncated": 1 if len(flows) < matched else 0, "flows": flows}


def show_flows(result, _args):
    flows = result["flows"]
    if flows:
        print_table(
            ["orig", "resp", "vlan", "orig_state", "resp_state", "conn", "history",
             "pkts", "bytes", "last_seen", "w", "anomalies"],
            [[endpoint(f.get("src"), f.get("sport")), endpoint(f.get("dst"), f.get("dport")),
              f.get("vlan") or "-", f.get("orig_state"), f.get("resp_state"),
              f.get("conn_state"), f.get("history") or "-",
              "%s/%s" % (f.get("orig_pkts"), f.get("resp_pkts")),
              "%s/%s" % (f.get("orig_bytes"), f.get("resp_bytes")),
              fmt_ts(f.get("last_ts")), f.get("worker"), f.get("anomalies") or "-"]
             for f in flows], right={10})
    n, m = result["returned"], result["matched"]
    if m == 0:
        print("no connection matches")
    elif n < m:
        print("showing %d of %d matching connections (--limit to see more)" % (n, m))
    else:
        print("%d connection%s" % (m, "" if m == 1 else "s"))


ENDPOINT_ROWS = ("state", "isn", "isn_seen", "next_seq", "highest_ack", "window",
                 "window_scale", "max_window", "ttl", "pkts", "payload_bytes", "ip_bytes",
                 "retransmits", "zero_windows", "gaps", "fin_seq", "flags")


def show_flow(f, _args):
    print("%s (orig) -> %s (resp)%s" % (endpoint(f.get("src"), f.get("sport")),
                                       endpoint(f.get("dst"), f.get("dport")),
                                       ", vlan " + f["vlan"] if f.get("vlan") else ""))
    print("  worker %s, conn %s, age class %s, idle %s s, expires in %s s%s"
          % (f.get("worker"), f.get("conn_id"), f.get("age_class"), f.get("idle_s"),
             f.get("expires_in_s"), ", picked up mid-stream" if f.get("midstream") else ""))
    print("  conn_state %s, history %s%s" % (f.get("conn_state"), f.get("history") or "-",
                                            ", ended: " + f["end"] if f.get("end") else ""))
    print("  first %s, last %s" % (fmt_ts(f.get("first_ts"), True), fmt_ts(f.get("last_ts"), True)))
    print("  anomalies: %s" % (f.get("anomalies") or "none"))
    if f.get("matched", 1) > 1:
        print("  (%d connections between these endpoints on different VLANs: "
              "choose one with --vlan)" % f["matched"])
    orig, resp = f.get("orig", {}), f.get("resp", {})
    print()
    print_table(["", "orig", "resp"],
                [[k, orig.get(k, "-"), resp.get(k, "-")] for k in ENDPOINT_ROWS
                 if k in orig or k in resp])


def show_anomalies(value, _args):
    counts = value.get("counts", {})
    last = value.get("last", {})
    rows = []
    for name, n in counts.items():
        if not n:
            continue
        ev = last.get(name)
        rows.append([name, n, fmt_ts(ev["ts"], True) if ev else "-",
                     "%s %s %s" % (endpoint(ev.get("src"), ev.get("sport")),
                                   "->" if ev.get("dir", "orig") == "orig" else "<-",
                                   endpoint(ev.get("dst"), ev.get("dport"))) if ev else "-",
                     (ev.get("detail") or "") if ev else ""])
    if not rows:
        print("no anomalies")
        return
    print_table(["anomaly", "count", "last_seen", "last_connection", "detail"], rows,
                right={1})
    print("total %s" % value.get("total", sum(r[1] for r in rows)))


def get_signatures(path):
    """Every rule with its matches, following the cursor across pages; the
    first reply's summary with the rules merged into one list."""
    replies = query_pages(path, "/flowtap/signatures",
                          lambda rep: "/flowtap/signatures,from=%d" % rep["next"],
                          lambda replies: False)
    value = dict(replies[0])
    value["signatures"] = [r for rep in replies for r in rows_of(rep.get("signatures"))]
    value["returned"] = len(value["signatures"])
    value["truncated"] = 0
    value.pop("next", None)
    return value


def show_signatures(value, _args):
    rules = value.get("signatures", [])
    if not rules:
        print("no signature rules (flowtap --signatures FILE)")
        return
    print_table(["id", "matches", "ports", "msg", "pattern"],
                [[r.get("id"), r.get("matches"), r.get("ports"), r.get("msg"), r.get("pattern")]
                 for r in rules], right={0, 1})
    print("%d rules from %s, %d matches, %d streams open" %
          (value.get("rules", len(rules)), value.get("rules_file") or "-",
           sum(r.get("matches", 0) for r in rules), value.get("streams_open", 0)))


def show_events(value, _args):
    events = rows_of(value.get("events"))
    if events:
        print_table(
            ["time", "event", "severity", "orig", "resp", "dir", "seq", "ack", "states",
             "detail"],
            [[fmt_ts(e.get("ts"), True), e.get("event"), e.get("severity"),
              endpoint(e.get("src"), e.get("sport")), endpoint(e.get("dst"), e.get("dport")),
              e.get("dir", "-"), e.get("seq", "-"), e.get("ack", "-"),
              "%s/%s" % (e["orig_state"], e["resp_state"]) if "orig_state" in e else "-",
              e.get("detail", "")] for e in events], right={6, 7})
    print("%d of %d events kept (%d since start%s)"
          % (len(events), value.get("kept", 0), value.get("total", 0),
             "; events.recent is 0: none are kept" if not value.get("recent") else ""))


# ---- the ladder, printed as flowtap --ladder prints it ----

TCP_FLAGS = ((0x02, "S"), (0x01, "F"), (0x04, "R"), (0x08, "P"), (0x20, "U"), (0x40, "E"),
             (0x80, "W"), (0x10, "."))


def flag_text(flags):
    text = "".join(c for bit, c in TCP_FLAGS if flags & bit)
    return "[%s]" % (text or "-")


class LadderPrinter:
    """Numbers connections in order of appearance, prints a header for each
    new one and a "-- connection N --" line when the ladder switches."""

    def __init__(self, relative, out=sys.stdout):
        self.relative = relative
        self.out = out
        self.conns = []
        self.last = None

    def header(self, number, conn):
        self.out.write("connection %d: %s (orig) -> %s (resp), %s sequence numbers\n"
                       % (number, endpoint(conn["src"], conn["sport"]),
                          endpoint(conn["dst"], conn["dport"]),
                          "relative" if self.relative else "absolute"))
        self.out.write("%10s  %-4s %-7s %10s %10s %5s %6s  %-12s  %s\n"
                       % ("time", "dir", "flags", "seq", "ack", "len", "win", "orig_state",
                          "resp_state"))

    def line(self, ln, conn):
        key = ln["conn"]
        if key not in self.conns:
            self.conns.append(key)
            if len(self.conns) > 1:
                self.out.write("\n")
            self.header(len(self.conns), conn)
        elif key != self.last:
            self.out.write("-- connection %d --\n" % (self.conns.index(key) + 1))
        self.last = key
        seq, ack, flags = ln["seq"], ln["ack"], ln["flags"]
        if self.relative:
            isn = (conn.get("orig_isn", 0), conn.get("resp_isn", 0))
            frm = 0 if ln["dir"] == "-->" else 1
            seq = (seq - isn[frm]) % 2**32
            ack = (ack - isn[frm ^ 1]) % 2**32 if flags & 0x10 else 0
        note = ln.get("note")
        self.out.write("%10.6f  %-4s %-7s %10d %10d %5d %6d  %-12s  %s%s\n"
                       % (float(ln["t"]), ln["dir"], flag_text(flags), seq, ack, ln["len"],
                          ln["win"], ln["orig_state"], ln["resp_state"],
                          "  (%s)" % note if note else ""))


def ladder_filter(args):
    items = list(args.filter or [])
    if args.addr:
        items.append("addr=" + args.addr)
    if args.port is not None:
        items.append("port=%d" % args.port)
    return ",".join(i for item in items for i in item.split(",") if i)


def ladder_read(path, cursor):
    """Every recorded line from the cursor on: (lines, conns, next cursor, reply)."""
    def cmd(cur):
        return "/flowtap/ladder" + (",from=" + ".".join(str(n) for n in cur) if cur else "")

    replies = query_pages(path, cmd(cursor), lambda rep: cmd(rep["next"]),
                          lambda replies: False)
    lines, conns = [], {}
    for rep in replies:
        conns.update(rep.get("conns") or {})
        lines.extend(rows_of(rep.get("lines")))
    return lines, conns, replies[-1].get("next"), replies


def ladder_print(lines, conns, printer):
    for ln in lines:
        printer.line(ln, conns.get(ln["conn"], {}))
    printer.out.flush()


def run_ladder(path, args):
    if args.off:
        value = ask(path, "/flowtap/ladder,off")
        if args.json:
            print(json.dumps(value, indent=2))
        else:
            print("ladder off (filter was %s)" % (value.get("filter") or "-"))
        return
    flt = ladder_filter(args)
    if flt:
        armed = ask(path, "/flowtap/ladder," + flt)
        if not args.json:
            print("ladder armed on %s worker%s for %s%s" % (
                armed.get("workers"), "" if armed.get("workers") == 1 else "s",
                armed.get("filter"), ": following, ^C to stop" if args.follow else ""),
                file=sys.stderr)
    printer = LadderPrinter(args.relative)
    all_lines, all_conns, lost, replies = [], {}, 0, [{}]
    try:
        if flt and not args.follow:
            time.sleep(args.wait)
        cursor = None
        while True:
            lines, conns, cursor, replies = ladder_read(path, cursor)
            lost += replies[0].get("lost", 0)
            if args.json:
                all_lines.extend(lines)
                all_conns.update(conns)
            else:
                ladder_print(lines, conns, printer)
            if not args.follow:
                break
            time.sleep(FOLLOW_INTERVAL_S)
    except KeyboardInterrupt:
        pass
    finally:
        if flt and not args.keep:
            ask(path, "/flowtap/ladder,off")
    if args.json:
        print(json.dumps({"filter": flt or replies[0].get("filter"), "lost": lost,
                          "conns": all_conns, "lines": all_lines}, indent=2))
    elif not printer.conns:
        print("no packets recorded" + ("" if flt or replies[-1].get("filter") else
                                       " (no ladder was armed: flowtap-ctl ladder FILTER)"))
    if lost and not args.json:
        print("(%d lines were overwritten before they were read)" % lost, file=sys.stderr)


SIMPLE_COMMANDS = {
    "stats": ("/flowtap/stats", show_stats),
    "ports": ("/flowtap/ports", show_ports),
    "workers": ("/flowtap/workers", show_workers),
    "config": ("/flowtap/config", show_config),
    "defrag": ("/flowtap/defrag", show_defrag),
}
FLOWS_PAGE_MAX = 256
FOLLOW_INTERVAL_S = 0.5


def port_number(text):
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a port number" % text) from None
    if not 0 <= n <= 65535:
        raise argparse.ArgumentTypeError("%d is not a port number (0-65535)" % n)
    return n


def positive(text):
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number" % text) from None
    if n < 1:
        raise argparse.ArgumentTypeError("%d: give 1 or more" % n)
    return n


def parse_args(argv):
    # Options accepted before and after the command; SUPPRESS keeps a
    # subcommand from resetting what was given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--prefix", "-p", metavar="P", default=argparse.SUPPRESS,
                        help="the flowtap started with --file-prefix P "
                             "(default: the only one running)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print the JSON reply instead of a table")
    common.add_argument("--flat", action="store_true", default=argparse.SUPPRESS,
                        help="with --json: dotted keys ({\"packets.rx\": N}) "
                             "instead of nested objects")
    common.add_argument("--runtime-dir", metavar="DIR", action="append",
                        default=argparse.SUPPRESS,
                        help="look for <DIR>/<prefix>/%s (default: %s)"
                             % (SOCKET_NAME, ", ".join(runtime_dirs())))
    ap = argparse.ArgumentParser(
        prog="flowtap-ctl", parents=[common],
        description="Ask a running flowtap questions over DPDK's telemetry socket.",
        epilog="'flowtap-ctl COMMAND -h' explains each command.")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name, help_text, **kw):
        return sub.add_parser(name, parents=[common], help=help_text, description=help_text,
                              **kw)

    add("stats", "every counter, summed over the workers")
    add("ports", "ports: setup and live ethdev counters")
    add("workers", "workers: lcore, NUMA node, queues, counters")
    add("config", "every configuration key and its value")
    add("defrag", "defragmentation: counters, frag_* anomalies, limits and policy")
    add("list", "the flowtap processes running")
    sp = add("raw", "any telemetry command, e.g. 'raw /ethdev/stats,0' or "
                    "'raw /help,/flowtap/flows'")
    sp.add_argument("cmd", metavar="CMD", help="the telemetry command, starting with /")
    sp = add("flows", "TCP connections on the wire, both endpoints' states (like "
                      "netstat, for both ends)")
    sp.add_argument("--addr", metavar="A", help="either end has address A")
    sp.add_argument("--port", metavar="N", type=port_number, help="either end has port N")
    sp.add_argument("--state", metavar="S",
                    help="either endpoint is in RFC 793 state S (e.g. ESTABLISHED)")
    sp.add_argument("--limit", metavar="N", type=positive, default=100,
                    help="show at most N connections (default 100)")
    sp = add("flow", "one TCP connection in full: ISNs, next seq, highest ack, windows, "
                     "TTLs, ageing, owning worker")
    sp.add_argument("spec", metavar="ADDR:PORT-ADDR:PORT",
                    help="its two endpoints, either order; IPv6 as [ADDR]:PORT")
    sp.add_argument("--vlan", metavar="V", help="its VLAN id (OUTER.INNER for QinQ)")
    add("anomalies", "count of every anomaly name, and the last event of each")
    add("signatures", "payload signature rules (id, ports, message, pattern) and their "
                      "matches")
    sp = add("events", "the most recent events (flowtap keeps events.recent of them)")
    sp.add_argument("n", metavar="N", nargs="?", type=positive,
                    help="how many (default: all kept that fit a reply)")
    sp = add("ladder", "the packet ladder of live connections: with a FILTER, arm it, "
                       "wait, print it (as flowtap --ladder does) and disarm; without, "
                       "print what an armed ladder recorded")
    sp.add_argument("filter", metavar="FILTER", nargs="*",
                    help="port=N, addr=A, or a connection ADDR:PORT-ADDR:PORT "
                         "(comma-separated or as separate words)")
    sp.add_argument("--addr", metavar="A", help="either end has address A")
    sp.add_argument("--port", metavar="N", type=port_number, help="either end has port N")
    sp.add_argument("--wait", metavar="S", type=float, default=2.0,
                    help="after arming, record for S seconds (default 2)")
    sp.add_argument("--follow", "-f", action="store_true",
                    help="print lines as they come, until ^C")
    sp.add_argument("--relative", action="store_true",
                    help="seq and ack relative to the ISNs")
    sp.add_argument("--keep", action="store_true",
                    help="leave the ladder armed when done")
    sp.add_argument("--off", action="store_true", help="disarm the ladder")
    args = ap.parse_args(argv)
    # Not set_defaults(): the parents' actions are shared with every
    # subcommand, which would then reset what was given before it.
    for name, default in (("prefix", None), ("json", False), ("flat", False),
                          ("runtime_dir", None)):
        if not hasattr(args, name):
            setattr(args, name, default)
    if args.command == "raw":
        if not args.cmd.startswith("/"):
            ap.error("raw needs a telemetry command starting with '/', "
                     "e.g. raw /ethdev/list")
        if len(args.cmd.encode()) >= 1024:
            ap.error("raw: command too long")
    if args.command == "ladder" and args.off and (args.filter or args.addr or
                                                  args.port is not None):
        ap.error("ladder: --off takes no filter")
    args.dirs = args.runtime_dir or runtime_dirs()
    return args


def print_json(value, flat):
    if flat and isinstance(value, dict):
        value = dict(flatten(value))
    print(json.dumps(value, indent=2))


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
        print_json(ask(path, args.cmd), args.flat)
        return
    if args.command == "ladder":
        run_ladder(path, args)
        return
    if args.command == "flows":
        value, show = get_flows(path, args), show_flows
    elif args.command == "flow":
        value, show = ask(path, "/flowtap/flow," + args.spec +
                          (",vlan=" + args.vlan if args.vlan else "")), show_flow
    elif args.command == "anomalies":
        value, show = ask(path, "/flowtap/anomalies"), show_anomalies
    elif args.command == "signatures":
        value, show = get_signatures(path), show_signatures
    elif args.command == "events":
        value, show = ask(path, "/flowtap/events" +
                          ("," + str(args.n) if args.n else "")), show_events
        if args.json and isinstance(value, dict):
            value = dict(value, events=rows_of(value.get("events")))
    else:
        cmd, show = SIMPLE_COMMANDS[args.command]
        value = ask(path, cmd)
    if args.json:
        print_json(value, args.flat)
    elif not isinstance(value, dict):
        raise CtlError("%s: unexpected reply to %s" % (path, args.command))
    else:
        show(value, path if args.command in SIMPLE_COMMANDS else args)


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
