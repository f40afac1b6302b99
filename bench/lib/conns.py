"""Hold idle TCP connections the way an event-driven server and its clients hold them; read /proc.

Runs on either side of a benchmark: in a qemu guest (over ssh) or in a child network namespace on
the host. Stdlib only, Python 3.9+ (Debian 11's python3). It imports holder.py, copied next to it,
for its /proc readers.

    conns.py serve --ports 20000-20007 --expect K [--settle 3] [--idle-reach 20] [--max-seconds 900]
    conns.py connect --dest ADDR --ports 20000-20007 --sources A,B --count K [--window 256] ...
    conns.py snapshot

serve    listens on every port (listen(65535), capped by somaxconn), accepts, and registers every
         accepted socket with an epoll (EPOLLIN | EPOLLRDHUP), as an event-driven server holds it.
         A peer's close or reset is counted and its socket closed. Nothing per connection is kept in
         Python: the epoll registration is the server's only record of it.
connect  opens ``count`` connections. Each socket is bound to a source address in turn with
         IP_BIND_ADDRESS_NO_PORT (the kernel picks the port at connect() and shares it between
         destinations), connects non-blocking to the ports in turn, at most ``window`` in flight, and
         once connected is registered with an epoll like the server's. A connect not done after
         ``--connect-timeout`` s is abandoned and counted; after ``--max-failures`` failures it stops
         opening.
Workers: the sockets are held by forked worker processes, as many as the hard RLIMIT_NOFILE needs
(one where root may raise it up to fs.nr_open; on a host whose root lacks CAP_SYS_RESOURCE, about
15 000 connections each). A server's workers split the ports (so at least as many ports as
workers), a client's split the count. The parent only samples /proc, sums the workers' counts and
reads stdin. Every socket has SO_LINGER {on, 0} (accepted sockets inherit it from the listener):
however a worker ends, its sockets are reset, never left as orphans (tcp_max_orphans is global on a
host).

Output, one JSON line each on stdout (holder.py's format):
  start      before any socket: /proc/meminfo, sockstat, file-nr, TcpExt, /proc/slabinfo (root only)
  listening  (serve) every worker listens
  sample     every --interval s: the same without slabinfo, plus the summed counts
  reached    --settle s after the work is done (serve: ``expect`` accepted, or no accept for
             --idle-reach s after the first; connect: every connect resolved or stopped), with slabinfo
  end        when stdin closes, --hold s after reached, or --max-seconds pass; with slabinfo
  exit
"""

import argparse
import errno
import json
import os
import resource
import select
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import holder  # noqa: E402  (copied next to this file)

IP_BIND_ADDRESS_NO_PORT = 24  # linux/in.h; socket.IP_BIND_ADDRESS_NO_PORT needs Python 3.12
LINGER_RESET = struct.pack("ii", 1, 0)
ESTABLISHED_EVENTS = select.EPOLLIN | select.EPOLLRDHUP
ACCEPT_BATCH = 4096
REPORT_EVERY = 0.5
SPARE_FDS = 1024  # listeners, pipes, in-flight connects


def port_list(text):
    """'20000-20003,20010' -> [20000, 20001, 20002, 20003, 20010]: the --ports of conns.py and rawpeer.py."""
    ports = []
    for item in text.split(","):
        low, _dash, high = item.partition("-")
        ports.extend(range(int(low), int(high or low) + 1))
    return ports


def raise_nofile(needed):
    """Soft = hard = ``needed`` descriptors if allowed (root with CAP_SYS_RESOURCE: up to fs.nr_open),
    else soft = the hard limit; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return soft
    try:
        with open("/proc/sys/fs/nr_open") as handle:
            ceiling = int(handle.read())
    except OSError:
        ceiling = hard
    want = min(max(needed, hard), ceiling)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
        return want
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard


def errname(code):
    return errno.errorcode.get(code, str(code))


# ---------------------------------------------------------------------------------------------
# workers: hold the sockets, write their counts to the parent

class Worker:
    def __init__(self, args, out_fd):
        self.args = args
        self.out = out_fd
        self.poll = select.epoll()
        self.counts = {"open": 0, "closed_by_peer": 0, "bytes_in": 0, "errors": {}}
        self.last_report = 0.0

    def error(self, code):
        name = errname(code)
        self.counts["errors"][name] = self.counts["errors"].get(name, 0) + 1

    def report(self, force=False):
        now = time.monotonic()
        if force or now - self.last_report >= REPORT_EVERY:
            self.last_report = now
            os.write(self.out, (json.dumps(self.counts) + "\n").encode())

    def established_event(self, fd, events):
        """Data, a close or a reset from the peer on a held socket."""
        if events & select.EPOLLIN and not events & (select.EPOLLRDHUP | select.EPOLLHUP | select.EPOLLERR):
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if data:
                self.counts["bytes_in"] += len(data)
                return
        self.poll.unregister(fd)
        os.close(fd)
        self.counts["open"] -= 1
        self.counts["closed_by_peer"] += 1


class ServeWorker(Worker):
    def __init__(self, args, out_fd, ports):
        Worker.__init__(self, args, out_fd)
        self.counts.update(accepted=0, last_accept=None)
        self.listeners = {}
        for port in ports:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)  # inherited by accept()
            listener.bind((args.addr, port))
            listener.listen(65535)
            listener.setblocking(False)
            self.listeners[listener.fileno()] = listener
            self.poll.register(listener.fileno(), select.EPOLLIN)
        self.full = False

    def accept_from(self, listener):
        for _count in range(ACCEPT_BATCH):
            try:
                # the fd alone: no socket object per connection
                fd, _address = listener._accept()  # pylint: disable=protected-access
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # EMFILE, ENFILE, ENOMEM: counted; the queue keeps the rest
                self.error(exc.errno)
                if exc.errno in (errno.EMFILE, errno.ENFILE):
                    self.full = True  # stop polling the listeners (they would spin); keep holding
                    for lfd in self.listeners:
                        self.poll.unregister(lfd)
                return
            self.poll.register(fd, ESTABLISHED_EVENTS)
            self.counts["accepted"] += 1
            self.counts["open"] += 1
            self.counts["last_accept"] = time.time()

    def run(self):
        self.report(force=True)
        while True:
            for fd, events in self.poll.poll(REPORT_EVERY):
                if fd in self.listeners:
                    self.accept_from(self.listeners[fd])
                else:
                    self.established_event(fd, events)
            self.report()


class ConnectWorker(Worker):
    def __init__(self, args, out_fd, count):
        Worker.__init__(self, args, out_fd)
        self.count = count
        workers = -(-args.count // max(count, 1))
        self.window = max(8, args.window // workers)
        self.max_failures = max(1, args.max_failures // workers)
        self.counts.update(connected=0, failed=0, timeouts=0, in_flight=0, attempts=0, done=False)
        self.targets = [(source, port) for port in port_list(args.ports) for source in args.sources.split(",")]
        self.pending = {}  # fd -> (socket, started)

    def start_one(self):
        source, port = self.targets[self.counts["attempts"] % len(self.targets)]
        self.counts["attempts"] += 1
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        except OSError as exc:
            self.fail(exc.errno)
            return
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
            sock.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            sock.bind((source, 0))
            sock.setblocking(False)
            code = sock.connect_ex((self.args.dest, port))
        except OSError as exc:
            code = exc.errno
        if code not in (0, errno.EINPROGRESS):
            self.fail(code)
            sock.close()
            return
        self.pending[sock.fileno()] = (sock, time.monotonic())
        self.poll.register(sock.fileno(), select.EPOLLOUT)

    def fail(self, code):
        self.error(code)
        self.counts["failed"] += 1

    def resolve(self, fd):
        sock, _started = self.pending.pop(fd)
        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            self.poll.unregister(fd)
            self.fail(code)
            sock.close()
            return
        self.poll.modify(fd, ESTABLISHED_EVENTS)
        sock.detach()
        self.counts["connected"] += 1
        self.counts["open"] += 1

    def expire(self):
        limit = time.monotonic() - self.args.connect_timeout
        for fd in [fd for fd, (_sock, started) in self.pending.items() if started < limit]:
            sock, _started = self.pending.pop(fd)
            self.poll.unregister(fd)
            sock.close()
            self.counts["timeouts"] += 1
            self.fail(errno.ETIMEDOUT)

    def opening(self):
        return self.counts["attempts"] < self.count and self.counts["failed"] < self.max_failures

    def run(self):
        last_expire = time.monotonic()
        while True:
            while self.opening() and len(self.pending) < self.window:
                self.start_one()
            for fd, events in self.poll.poll(0.05 if self.pending else REPORT_EVERY):
                if fd in self.pending:
                    self.resolve(fd)
                else:
                    self.established_event(fd, events)
            if time.monotonic() - last_expire >= 1:
                last_expire = time.monotonic()
                self.expire()
            self.counts["in_flight"] = len(self.pending)
            self.counts["done"] = not self.opening() and not self.pending
            self.report()


# ---------------------------------------------------------------------------------------------
# the parent: snapshots, sums, stop conditions

class Parent:
    def __init__(self, args, role):
        self.args = args
        self.role = role
        self.started = time.monotonic()
        self.emit = holder._emitter(self.started)  # pylint: disable=protected-access
        self.workers = {}  # read fd -> {"pid", "buf", "last"}
        self.stdin_open = not args.no_stdin
        self.next_sample = self.started
        self.done_at = None
        self.reached_at = None
        self.stop_reason = None

    def spawn(self, make):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.close(read_end)
                for fd in list(self.workers):
                    os.close(fd)
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                make(write_end).run()
            except BaseException:  # pylint: disable=broad-except
                import traceback
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        os.close(write_end)
        self.workers[read_end] = {"pid": pid, "buf": b"", "last": {}}

    def pump(self, timeout):
        watch = list(self.workers) + ([0] if self.stdin_open else [])
        readable, _w, _x = select.select(watch, [], [], timeout)
        for fd in readable:
            if fd == 0:
                if not os.read(0, 4096):
                    self.stdin_open = False
                    self.stop_reason = self.stop_reason or "stdin closed"
                continue
            chunk = os.read(fd, 65536)
            worker = self.workers[fd]
            if not chunk:
                worker["dead"] = True
                self.stop_reason = self.stop_reason or "a worker exited"
                continue
            worker["buf"] += chunk
            *lines, worker["buf"] = worker["buf"].split(b"\n")
            if lines:
                worker["last"] = json.loads(lines[-1])
        for fd in [fd for fd, worker in self.workers.items() if worker.get("dead")]:
            os.close(fd)
            self.workers[fd]["dead"] = "closed"

    def counts(self):
        out = {"errors": {}, "workers": len(self.workers)}
        for worker in self.workers.values():
            for key, value in worker["last"].items():
                if key == "errors":
                    for name, number in value.items():
                        out["errors"][name] = out["errors"].get(name, 0) + number
                elif isinstance(value, bool):
                    out[key] = out.get(key, True) and value
                elif key == "last_accept":
                    out[key] = max(out.get(key) or 0, value or 0) or None
                else:
                    out[key] = out.get(key, 0) + value
        return out

    def done(self, counts):
        if self.role == "serve":
            if counts.get("accepted", 0) >= self.args.expect:
                return True
            last = counts.get("last_accept")
            return last is not None and time.time() - last >= self.args.idle_reach
        return len(self.workers) > 0 and all(w["last"].get("done") for w in self.workers.values())

    def tick(self):
        now = time.monotonic()
        counts = self.counts()
        if self.done(counts) and self.reached_at is None:
            self.done_at = self.done_at or now
            if now - self.done_at >= self.args.settle:
                self.reached_at = now
                self.emit("reached", holder.snapshot(slab=True), **self.public(counts))
                self.next_sample = now + self.args.interval
        if now >= self.next_sample:
            self.next_sample = now + self.args.interval
            self.emit("sample", holder.snapshot(), **self.public(counts))
        if self.reached_at is not None and self.args.hold and now - self.reached_at >= self.args.hold:
            self.stop_reason = self.stop_reason or "hold elapsed"
        if now - self.started >= self.args.max_seconds:
            self.stop_reason = self.stop_reason or "max seconds"

    def public(self, counts):
        counts = dict(counts, nofile=self.nofile)
        counts.pop("last_accept", None)
        counts.pop("done", None)
        return counts

    def run(self):
        per_worker = self.args.expect if self.role == "serve" else self.args.count
        self.nofile = raise_nofile(per_worker + SPARE_FDS)
        share = max(self.nofile - SPARE_FDS, 1000)
        count = -(-per_worker // share)
        self.emit("start", holder.snapshot(slab=True), role=self.role, ports=self.args.ports, nofile=self.nofile,
                  workers=count, **({"expect": self.args.expect} if self.role == "serve" else
                                    {"dest": self.args.dest, "sources": self.args.sources, "count": self.args.count}))
        try:
            if self.role == "serve":
                ports = port_list(self.args.ports)
                if len(ports) < count:
                    raise SystemExit("serve: %d workers need at least as many ports, got %d" % (count, len(ports)))
                for index in range(count):
                    self.spawn(lambda out, mine=ports[index::count]: ServeWorker(self.args, out, mine))
                while any(not w["last"] for w in self.workers.values()) and self.stop_reason is None:
                    self.pump(0.2)
                self.emit("listening", None, workers=count)
            else:
                base, extra = divmod(self.args.count, count)
                for index in range(count):
                    mine = base + (1 if index < extra else 0)
                    self.spawn(lambda out, mine=mine: ConnectWorker(self.args, out, mine))
            while self.stop_reason is None:
                self.pump(0.2)
                self.tick()
            self.emit("end", holder.snapshot(slab=True), status=self.stop_reason, **self.public(self.counts()))
        finally:
            for worker in self.workers.values():
                try:
                    os.kill(worker["pid"], signal.SIGKILL)  # its sockets are reset (SO_LINGER 0)
                    os.waitpid(worker["pid"], 0)
                except (ProcessLookupError, ChildProcessError):
                    pass
        self.emit("exit", None)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="role", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--ports", required=True, help="e.g. 20000-20007")
    common.add_argument("--settle", type=float, default=3.0, help="seconds between done and the reached snapshot")
    common.add_argument("--interval", type=float, default=2.0, help="seconds between samples")
    common.add_argument("--hold", type=float, default=0.0, help="seconds to hold after reached (0: until stdin closes)")
    common.add_argument("--max-seconds", type=float, default=900.0)
    common.add_argument("--no-stdin", action="store_true", help="ignore stdin (then --hold or --max-seconds ends it)")
    serve = sub.add_parser("serve", parents=[common])
    serve.add_argument("--addr", default="0.0.0.0")
    serve.add_argument("--expect", type=int, required=True)
    serve.add_argument("--idle-reach", type=float, default=20.0,
                       help="done when no connection arrived for this long after the first")
    connect = sub.add_parser("connect", parents=[common])
    connect.add_argument("--dest", required=True)
    connect.add_argument("--sources", default="0.0.0.0", help="comma-separated source addresses")
    connect.add_argument("--count", type=int, required=True)
    connect.add_argument("--window", type=int, default=256, help="connects in flight at most (all workers)")
    connect.add_argument("--connect-timeout", type=float, default=10.0)
    connect.add_argument("--max-failures", type=int, default=1000, help="failures before opening stops (all workers)")
    sub.add_parser("snapshot")
    args = parser.parse_args(argv)
    if args.role == "snapshot":
        sys.stdout.write(json.dumps(holder.snapshot(slab=True), sort_keys=True) + "\n")
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the finally above kills the workers
    Parent(args, args.role).run()


if __name__ == "__main__":
    main()
