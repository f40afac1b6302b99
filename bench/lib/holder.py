"""Hold many established loopback TCP connections, spread over processes.

Runs inside the benchmark container (stdlib only, Python 3.9+). Two roles:

``worker``  one process: a listener on (addr, port) and ``count`` connections to it, both ends
            held. It opens them in batches (non-blocking connect, then accept what is queued),
            keeps accepting late arrivals while it holds, and prints one JSON progress line at a
            time on stdout. SIGUSR1 = stop opening, keep holding. It exits when its parent dies.
``fleet``   forks the workers (at most ``--per-process`` connections each, since the hard nofile
            limit is 20000 per process and every connection costs two descriptors), samples
            /proc (meminfo, sockstat, file-nr, TcpExt) every ``--interval`` seconds and prints one
            JSON line per sample. Phases: ``start`` (baseline), ``sample``..., ``reached`` (every
            worker finished opening), ``end`` (last sample before the workers are killed).
            It holds until stdin closes, ``--hold`` seconds after ``reached`` pass, or
            ``--max-seconds`` pass, whichever comes first. If MemAvailable drops below
            ``--mem-floor-mb`` it tells every worker to stop opening and records it.

Counting: a connection is counted when the listener has accepted it (on loopback the client end
is then ESTABLISHED too).

Host side: ``FleetRun(container, fleet_args)`` copies nothing; copy this file to CONTAINER_PATH
first (``podman cp``), then it runs ``podman exec -i`` and collects the JSON lines;
``stop()`` closes stdin, which ends the hold.
"""

import argparse
import errno
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time

TCPEXT_WATCH = ("ListenOverflows", "ListenDrops", "TCPAbortOnMemory", "TCPMemoryPressures",
                "TCPAbortOnData", "TCPTimeWaitOverflow", "TCPReqQFullDrop", "TCPReqQFullDoCookies",
                "TCPBacklogDrop", "TCPAbortFailed", "TCPMemoryPressuresChrono")
REPORT_EVERY = 0.25


# ---------------------------------------------------------------------------------------------
# worker

class _Stop:
    opening = True


def _errname(code):
    return errno.errorcode.get(code, str(code))


def run_worker(addr, port, count, batch, backlog, reuseport):
    """Open ``count`` connections to a listener of our own and hold them until killed."""
    signal.signal(signal.SIGUSR1, lambda *_: setattr(_Stop, "opening", False))
    parent = os.getppid()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuseport:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind((addr, port))
    listener.listen(backlog)
    listener.setblocking(False)
    lfd = listener.fileno()
    clients = []    # raw fds: a socket object per connection would cost ~100 bytes of Python each
    accepted = []
    errors = {}
    state = {"last": 0.0, "accept_failed": False}

    def report(done):
        now = time.monotonic()
        if done or now - state["last"] >= REPORT_EVERY:
            state["last"] = now
            line = {"c": len(clients), "a": len(accepted), "e": errors, "done": done}
            sys.stdout.write(json.dumps(line) + "\n")
            sys.stdout.flush()

    def accept_ready():
        while True:
            try:
                conn, _address = listener.accept()
            except BlockingIOError:
                return
            except OSError as exc:     # EMFILE while accepting: record once, stop accepting
                errors["accept_" + _errname(exc.errno)] = 1
                state["accept_failed"] = True
                return
            accepted.append(conn.detach())

    while _Stop.opening and len(clients) < count:
        for _attempt in range(min(batch, count - len(clients))):
            try:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            except OSError as exc:
                errors[_errname(exc.errno)] = errors.get(_errname(exc.errno), 0) + 1
                _Stop.opening = False
                break
            sock.setblocking(False)
            code = sock.connect_ex((addr, port))
            if code not in (0, errno.EINPROGRESS):
                errors[_errname(code)] = errors.get(_errname(code), 0) + 1
                sock.close()
                _Stop.opening = False
                break
            clients.append(sock.detach())
        # Let the handshakes land, then empty the accept queue before the next batch, so a batch
        # smaller than the backlog never overflows it. With SO_REUSEPORT the kernel spreads our
        # connections over every worker's listener, so there is nothing exact to wait for.
        give_up = time.monotonic() + 0.2
        while True:
            accept_ready()
            if reuseport or state["accept_failed"] or len(accepted) >= len(clients) or time.monotonic() > give_up:
                break
            select.select([lfd], [], [], 0.02)
        report(False)
    report(True)
    while os.getppid() == parent:      # hold; keep taking late arrivals (SYN retransmits)
        readable, _writable, _failed = select.select([] if state["accept_failed"] else [lfd], [], [], REPORT_EVERY)
        if readable:
            accept_ready()
        state["last"] = 0.0
        report(True)


# ---------------------------------------------------------------------------------------------
# fleet: /proc samplers (same namespace as the workers)

def read_meminfo():
    wanted = ("MemTotal", "MemAvailable", "Slab", "SReclaimable", "SUnreclaim")
    out = {}
    with open("/proc/meminfo") as handle:
        for line in handle:
            key, rest = line.split(":", 1)
            if key in wanted:
                out[key] = int(rest.split()[0]) * 1024
    return out


def read_sockstat():
    out = {}
    with open("/proc/net/sockstat") as handle:
        for line in handle:
            head, _colon, rest = line.partition(":")
            fields = rest.split()
            if head == "sockets":
                out["sockets_used"] = int(fields[1])
            elif head == "TCP":
                out["tcp"] = {fields[i]: int(fields[i + 1]) for i in range(0, len(fields), 2)}
    return out


def read_file_nr():
    with open("/proc/sys/fs/file-nr") as handle:
        allocated, _unused, maximum = handle.read().split()
    return {"allocated": int(allocated), "max": int(maximum)}


def read_tcpext():
    with open("/proc/net/netstat") as handle:
        lines = handle.read().splitlines()
    for names, values in zip(lines[0::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            pairs = dict(zip(names.split()[1:], values.split()[1:]))
            return {key: int(pairs[key]) for key in TCPEXT_WATCH if key in pairs}
    return {}


def read_slabinfo():
    """{cache: bytes in active objects}; {} when /proc/slabinfo is not readable (needs root)."""
    out = {}
    try:
        with open("/proc/slabinfo") as handle:
            for line in handle:
                fields = line.split()
                if line.startswith(("slabinfo", "#")) or len(fields) < 4:
                    continue
                out[fields[0]] = int(fields[1]) * int(fields[3])
    except OSError:
        pass
    return out


def snapshot(slab=False):
    snap = {"meminfo": read_meminfo(), "sockstat": read_sockstat(), "file_nr": read_file_nr(),
            "tcpext": read_tcpext()}
    if slab:
        snap["slabinfo"] = read_slabinfo()
    return snap


# ---------------------------------------------------------------------------------------------
# fleet

def layout(connections, per_process, addresses, base_port, single_port):
    """[(addr, port, count)]: as few processes as the per-process cap allows, counts even."""
    processes = max(1, -(-connections // per_process))
    base, extra = divmod(connections, processes)
    plan = []
    for index in range(processes):
        addr = "127.0.%d.%d" % ((index % addresses) // 250, (index % addresses) % 250 + 1)
        port = base_port if single_port else base_port + index
        if single_port:
            addr = "127.0.0.1"
        plan.append((addr, port, base + (1 if index < extra else 0)))
    return plan


class Fleet:
    """The workers (forked: a fresh interpreter per worker costs ~0.2 s on a loaded host) and
    the sampling loop. ``pump`` reads progress and stdin and emits a sample when one is due."""

    def __init__(self, args):
        self.args = args
        self.started = time.monotonic()
        self.emit = _emitter(self.started)
        self.workers = []          # {"pid", "fd", "buf", "last"}
        self.by_fd = {}
        self.stdin_open = not args.no_stdin
        self.reached_at = None
        self.floor_hit = None
        self.next_sample = self.started
        self.status = "running"

    def spawn(self, addr, port, count):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:               # child: only its own pipe, stdin from /dev/null
            try:
                os.dup2(write_end, 1)
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                for fd in [read_end, write_end, devnull] + list(self.by_fd):
                    os.close(fd)
                sys.stdout = os.fdopen(1, "w")
                run_worker(addr, port, count, self.args.batch, self.args.backlog,
                           self.args.single_port)
            except BaseException:  # pylint: disable=broad-except
                import traceback
                traceback.print_exc()
            finally:
                os._exit(0)
        os.close(write_end)
        worker = {"pid": pid, "fd": read_end, "buf": b"",
                  "last": {"c": 0, "a": 0, "e": {}, "done": False}}
        self.workers.append(worker)
        self.by_fd[read_end] = worker

    def pump(self, timeout):
        watch = list(self.by_fd) + ([0] if self.stdin_open else [])
        readable, _writable, _failed = select.select(watch, [], [], timeout)
        for fd in readable:
            if self.stdin_open and fd == 0:
                if not os.read(0, 4096):
                    self.stdin_open = False
                    if self.status == "running":
                        self.status = "stopped by stdin"
                continue
            worker = self.by_fd[fd]
            chunk = os.read(fd, 65536)
            if not chunk:
                del self.by_fd[fd]
                os.close(fd)
                continue
            worker["buf"] += chunk
            *lines, worker["buf"] = worker["buf"].split(b"\n")
            if lines:
                worker["last"] = json.loads(lines[-1])
        now = time.monotonic()
        if self.status != "running" or now < self.next_sample:
            return
        self.next_sample = now + self.args.interval
        snap = snapshot()
        totals = self.totals()
        if self.floor_hit is None and snap["meminfo"]["MemAvailable"] < self.args.mem_floor_mb * 2 ** 20:
            self.floor_hit = round(now - self.started, 2)
            self.signal_all(signal.SIGUSR1)
        if self.reached_at is None and self.spawned and totals["workers_done"] == len(self.workers):
            self.reached_at = now
            self.emit("reached", snap, **totals)
        else:
            self.emit("sample", snap, **totals)
        if self.spawned and not self.by_fd:
            self.status = "workers exited"
        elif self.reached_at is not None and self.args.hold and now - self.reached_at >= self.args.hold:
            self.status = "hold elapsed"
        elif now - self.started >= self.args.max_seconds:
            self.status = "max seconds"

    spawned = False

    def totals(self):
        errors = {}
        for worker in self.workers:
            for name, value in worker["last"]["e"].items():
                errors[name] = errors.get(name, 0) + value
        return {"connections": sum(w["last"]["a"] for w in self.workers),
                "clients": sum(w["last"]["c"] for w in self.workers),
                "workers_done": sum(1 for w in self.workers if w["last"]["done"]),
                "errors": errors}

    def signal_all(self, sig):
        for worker in self.workers:
            try:
                os.kill(worker["pid"], sig)
            except ProcessLookupError:
                pass

    def reap(self):
        self.signal_all(signal.SIGKILL)
        for worker in self.workers:
            try:
                os.waitpid(worker["pid"], 0)
            except ChildProcessError:
                pass


def run_fleet(args):
    fleet = Fleet(args)
    plan = layout(args.connections, args.per_process, args.addresses, args.base_port,
                  args.single_port)
    fleet.emit("start", snapshot(slab=True), target=args.connections, processes=len(plan),
               layout=[list(item) for item in plan[:3]] + ([["..."]] if len(plan) > 3 else []))
    try:
        for addr, port, count in plan:
            if fleet.floor_hit is not None or fleet.status != "running":
                break
            fleet.spawn(addr, port, count)
            fleet.pump(0)
        fleet.spawned = True
        while fleet.status == "running":
            fleet.pump(0.1)
        fleet.emit("end", snapshot(slab=True), status=fleet.status,
                   memory_floor_hit_at=fleet.floor_hit, **fleet.totals())
    finally:
        fleet.reap()
    fleet.emit("exit", None)


def _emitter(started):
    def emit(phase, snap, **extra):
        line = {"phase": phase, "t": round(time.monotonic() - started, 3)}
        if snap:
            line.update(snap)
        line.update(extra)
        sys.stdout.write(json.dumps(line, sort_keys=True) + "\n")
        sys.stdout.flush()
    return emit


# ---------------------------------------------------------------------------------------------
# host side: drive a fleet inside a container (used by bench/memory_model and bench/million)

CONTAINER_PATH = "/opt/holder.py"


class LineRun:
    """A process that prints one JSON line per event (a holder fleet, bench/lib/conns.py): runs
    ``argv`` and collects its lines on a reader thread into ``lines``. Closing its stdin
    (``stop()``) ends a hold."""

    def __init__(self, argv, on_line=None):
        import threading
        self.lines = []
        self.on_line = on_line
        self._cond = threading.Condition()
        self.proc = subprocess.Popen([str(arg) for arg in argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            try:
                line = json.loads(raw)
            except ValueError:  # not ours (a warning): kept, never a phase
                line = {"phase": "text", "text": raw.rstrip()}
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()
            if self.on_line:
                self.on_line(line)
        with self._cond:
            self.lines.append({"phase": "eof"})
            self._cond.notify_all()

    def wait_for(self, phases, timeout):
        """The first line whose phase is in ``phases`` (or eof/exit), or None on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines:
                    if line["phase"] in phases or line["phase"] in ("eof", "exit"):
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def first(self, phase):
        return next((line for line in self.lines if line["phase"] == phase), None)

    def last(self, phase):
        return next((line for line in reversed(self.lines) if line["phase"] == phase), None)

    def stop(self, timeout=120):
        """End the hold; returns every line. Kills the process if it does not finish in ``timeout`` s."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(10)
        return self.lines


class FleetRun(LineRun):
    """``podman exec -i CONTAINER python3 /opt/holder.py fleet ARGS``; collects its JSON lines."""

    def __init__(self, container, fleet_args, on_line=None):
        LineRun.__init__(self, ["podman", "exec", "-i", container, "python3", CONTAINER_PATH, "fleet"]
                         + list(fleet_args), on_line=on_line)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="role", required=True)
    worker = sub.add_parser("worker")
    worker.add_argument("--addr", required=True)
    worker.add_argument("--port", type=int, required=True)
    worker.add_argument("--count", type=int, required=True)
    worker.add_argument("--batch", type=int, default=512)
    worker.add_argument("--backlog", type=int, default=65535)
    worker.add_argument("--reuseport", action="store_true")
    fleet = sub.add_parser("fleet")
    fleet.add_argument("--connections", type=int, required=True)
    fleet.add_argument("--per-process", type=int, default=9850)
    fleet.add_argument("--addresses", type=int, default=8, help="spread over 127.0.0.1..N")
    fleet.add_argument("--base-port", type=int, default=20000)
    fleet.add_argument("--single-port", action="store_true",
                       help="every worker listens on 127.0.0.1:base-port with SO_REUSEPORT")
    fleet.add_argument("--batch", type=int, default=512, help="connects per accept round")
    fleet.add_argument("--backlog", type=int, default=65535)
    fleet.add_argument("--interval", type=float, default=0.5)
    fleet.add_argument("--hold", type=float, default=0.0,
                       help="seconds to hold after reached (0: until stdin closes)")
    fleet.add_argument("--max-seconds", type=float, default=300.0)
    fleet.add_argument("--mem-floor-mb", type=int, default=3072)
    fleet.add_argument("--no-stdin", action="store_true", help="ignore stdin (needs --hold)")
    args = parser.parse_args(argv)
    if args.role == "worker":
        run_worker(args.addr, args.port, args.count, args.batch, args.backlog, args.reuseport)
    else:
        run_fleet(args)


if __name__ == "__main__":
    main()
