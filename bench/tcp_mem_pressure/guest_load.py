"""Seed 000's load, run INSIDE a VM guest as root: fill TCP buffers on loopback, then close.

    python3 guest_load.py [--connections 4000] [--bytes 262144] [--timeout 120] [--hold 3]

N loopback connections whose server accepts but never reads. Each client writes up to W bytes
(non-blocking, until W is written or the socket stops taking data), then every client closes
with its data still queued. That is when tcp_close() calls tcp_check_oom(): above tcp_mem[2] the
kernel logs "TCP: out of memory -- consider tuning tcp_mem", sends a RST and counts
TcpExt.TCPAbortOnMemory. After --hold seconds the server sockets are closed too; SIGUSR1 ends the
hold early (a watcher that has seen what it waited for).

Prints one JSON document: the deltas of TcpExt.TCPMemoryPressures, TCPMemoryPressuresChrono,
TCPAbortOnMemory, TCPAbortFailed (/proc/net/netstat), the peak of /proc/net/sockstat "TCP ... mem"
(pages), the "out of memory -- consider tuning tcp_mem" lines the kernel logged during the run
(/dev/kmsg), the live tcp_mem / tcp_rmem / tcp_wmem and what the clients managed to write.
Writes nothing to /proc/sys: the caller sets tcp_mem. Stdlib only, Python 3.9+.
"""

import argparse
import errno
import json
import os
import resource
import selectors
import signal
import socket
import sys
import time

COUNTERS = ("TCPMemoryPressures", "TCPMemoryPressuresChrono", "TCPAbortOnMemory", "TCPAbortFailed")
OOM_LINE = "out of memory -- consider tuning tcp_mem"
CHUNK = 65536
CONNECT_BATCH = 256
STALL_SECONDS = 1.0  # a write phase with no progress for this long means the buffers are full
SAMPLE_SECONDS = 0.1
HOLD_ENDED = []  # SIGUSR1 appends: the hold ends at the next sample


def end_hold(_signum, _frame):
    HOLD_ENDED.append(True)


def read_tcpext(path="/proc/net/netstat"):
    """TcpExt counters by name."""
    with open(path) as handle:
        lines = handle.read().splitlines()
    for header, values in zip(lines[::2], lines[1::2]):
        if header.startswith("TcpExt:"):
            return dict(zip(header.split()[1:], (int(part) for part in values.split()[1:])))
    return {}


def read_sockstat(path="/proc/net/sockstat"):
    """The TCP line of sockstat: inuse, orphan, tw, alloc, mem (pages)."""
    with open(path) as handle:
        for line in handle:
            if line.startswith("TCP:"):
                parts = line.split()[1:]
                return dict((parts[i], int(parts[i + 1])) for i in range(0, len(parts) - 1, 2))
    return {}


def read_sysctl(key):
    """A /proc/sys value as a list of ints; None where this namespace does not show the key."""
    try:
        with open("/proc/sys/" + key.replace(".", "/")) as handle:
            return [int(part) for part in handle.read().split()]
    except FileNotFoundError:
        return None


class KernelLog:
    """New /dev/kmsg records since construction (None when /dev/kmsg cannot be read)."""

    def __init__(self):
        try:
            self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
            os.lseek(self.fd, 0, os.SEEK_END)
        except OSError:
            self.fd = None

    def new_messages(self):
        if self.fd is None:
            return None
        messages = []
        while True:
            try:
                record = os.read(self.fd, 8192)
            except BlockingIOError:
                break
            except OSError as error:
                if error.errno == errno.EPIPE:  # records overwritten under us; go on reading
                    continue
                raise
            if not record:
                break
            messages.append(record.decode("utf-8", "replace").split(";", 1)[-1].rstrip("\n"))
        os.close(self.fd)
        self.fd = None
        return messages


def raise_nofile(needed):
    """Raise RLIMIT_NOFILE soft up to ``needed`` within the hard limit; returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


class Load:
    def __init__(self, connections, payload_bytes, deadline):
        self.connections = connections
        self.payload_bytes = payload_bytes
        self.deadline = deadline
        self.selector = selectors.DefaultSelector()
        self.payload = b"x" * CHUNK
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(65535)
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, None)
        self.accepted = []
        self.clients = []
        self.written = {}  # client fileno -> bytes written
        self.errors = {}
        self.connect_failed = 0
        self.peak = {"mem": 0, "orphan": 0, "inuse": 0}
        self.last_sample = 0.0

    def sample(self, force=False):
        now = time.monotonic()
        if force or now - self.last_sample >= SAMPLE_SECONDS:
            self.last_sample = now
            stat = read_sockstat()
            for key in self.peak:
                self.peak[key] = max(self.peak[key], stat.get(key, 0))

    def _error(self, error):
        name = errno.errorcode.get(error.errno, str(error.errno))
        self.errors[name] = self.errors.get(name, 0) + 1

    def _accept_all(self):
        while True:
            try:
                conn = self.listener.accept()[0]
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                self._error(error)
                return
            self.accepted.append(conn)  # never read

    def _connect_batch(self, count):
        port = self.listener.getsockname()[1]
        for _index in range(count):
            client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            client.setblocking(False)
            code = client.connect_ex(("127.0.0.1", port))
            if code not in (0, errno.EINPROGRESS):
                self.connect_failed += 1
                name = errno.errorcode.get(code, str(code))
                self.errors[name] = self.errors.get(name, 0) + 1
                client.close()
                continue
            self.clients.append(client)
            self.written[client.fileno()] = 0
            self.selector.register(client, selectors.EVENT_WRITE, client)

    def _write(self, client):
        fileno = client.fileno()
        try:
            while self.written[fileno] < self.payload_bytes:
                size = min(CHUNK, self.payload_bytes - self.written[fileno])
                sent = client.send(self.payload[:size])
                self.written[fileno] += sent
        except (BlockingIOError, InterruptedError):
            return False
        except OSError as error:
            self._error(error)
            self.selector.unregister(client)
            return True
        self.selector.unregister(client)
        return True

    def fill(self):
        """Connect in batches while accepting; write until every client is full or done."""
        started = 0
        pending = set()
        last_progress = time.monotonic()
        while time.monotonic() < self.deadline:
            if started < self.connections and len(self.accepted) + CONNECT_BATCH > started:
                batch = min(CONNECT_BATCH, self.connections - started)
                self._connect_batch(batch)
                started += batch
                last_progress = time.monotonic()
            progressed = False
            for key, _events in self.selector.select(timeout=0.05):
                if key.data is None:
                    before = len(self.accepted)
                    self._accept_all()
                    progressed = progressed or len(self.accepted) > before
                    continue
                client = key.data
                before = self.written[client.fileno()]
                finished = self._write(client)
                progressed = progressed or finished or self.written[client.fileno()] > before
                if finished:
                    pending.discard(client.fileno())
            self.sample()
            if progressed:
                last_progress = time.monotonic()
            all_started = started >= self.connections
            all_accepted = len(self.accepted) >= len(self.clients)
            if all_started and all_accepted and time.monotonic() - last_progress > STALL_SECONDS:
                break
        self.sample(force=True)

    def close_clients(self):
        for client in self.clients:
            try:
                self.selector.unregister(client)
            except (KeyError, ValueError):
                pass
            client.close()
        self.sample(force=True)

    def hold(self, seconds):
        end = min(time.monotonic() + seconds, self.deadline)
        while time.monotonic() < end and not HOLD_ENDED:
            self.sample(force=True)
            time.sleep(SAMPLE_SECONDS)

    def close_servers(self):
        for conn in self.accepted:
            conn.close()
        self.selector.close()
        self.listener.close()


def wait_for_idle(baseline_inuse, seconds):
    """Wait (bounded) until the run's sockets are gone; returns the last sockstat.

    Not "mem back to 0": other sockets (ssh) and each CPU's forward-allocated reserve (up to 1 MiB
    per CPU since 6.0) keep some pages counted.
    """
    end = time.monotonic() + seconds
    stat = read_sockstat()
    while time.monotonic() < end and (stat.get("inuse", 0) > baseline_inuse or stat.get("orphan", 0)):
        time.sleep(0.2)
        stat = read_sockstat()
    return stat


def run(connections, payload_bytes, timeout, hold):
    began = time.monotonic()
    deadline = began + timeout
    nofile = raise_nofile(2 * connections + 64)
    if nofile < 2 * connections + 64:
        connections = max((nofile - 64) // 2, 1)
    sockstat_before = read_sockstat()
    counters_before = read_tcpext()
    kmsg = KernelLog()
    load = Load(connections, payload_bytes, deadline)
    try:
        load.fill()
        fill_seconds = time.monotonic() - began
        written = list(load.written.values())
        sockstat_full = read_sockstat()
        load.close_clients()
        load.hold(hold)
        sockstat_after_close = read_sockstat()
        counters_after = read_tcpext()
    finally:
        load.close_servers()
    sockstat_idle = wait_for_idle(sockstat_before.get("inuse", 0), max(deadline - time.monotonic(), 5))
    counters_idle = read_tcpext()
    messages = kmsg.new_messages()
    return {
        "connections": connections,
        "connected": len(load.clients),
        "accepted": len(load.accepted),
        "connect_failed": load.connect_failed,
        "bytes_per_client": payload_bytes,
        "clients_fully_written": sum(1 for value in written if value >= payload_bytes),
        "bytes_written_total": sum(written),
        "errors": load.errors,
        "nofile_soft": nofile,
        "fill_seconds": round(fill_seconds, 2),
        "seconds": round(time.monotonic() - began, 2),
        "tcp_mem": read_sysctl("net.ipv4.tcp_mem"),
        "tcp_rmem": read_sysctl("net.ipv4.tcp_rmem"),
        "tcp_wmem": read_sysctl("net.ipv4.tcp_wmem"),
        "kernel": os.uname().release,
        "delta": dict((name, counters_after.get(name, 0) - counters_before.get(name, 0)) for name in COUNTERS),
        # Also after the servers closed and the sockets are gone: TCPMemoryPressuresChrono grows only
        # when a pressure episode ends, which may be after "delta" was read.
        "delta_at_idle": dict((name, counters_idle.get(name, 0) - counters_before.get(name, 0)) for name in COUNTERS),
        "sockstat_mem_peak_pages": load.peak["mem"],
        "sockstat_orphan_peak": load.peak["orphan"],
        "sockstat_mem_full_pages": sockstat_full.get("mem"),
        "sockstat_after_close": sockstat_after_close,
        "sockstat_idle_after": sockstat_idle,
        "dmesg_oom_lines": None if messages is None else sum(1 for line in messages if OOM_LINE in line),
        "dmesg_tcp_lines": None if messages is None else [line for line in messages if "TCP" in line][:20],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--connections", type=int, default=4000, help="client connections (sockets: twice this)")
    parser.add_argument("--bytes", type=int, default=262144, help="bytes each client tries to write")
    parser.add_argument("--timeout", type=float, default=120.0, help="bound on the whole run, seconds")
    parser.add_argument("--hold", type=float, default=3.0, help="seconds between closing clients and servers")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGUSR1, end_hold)
    if not 1 <= args.connections <= 100000:
        parser.error("--connections: must be 1..100000")
    if not 1 <= args.bytes <= 64 * 1024 * 1024:
        parser.error("--bytes: must be 1..67108864")
    if not 1 <= args.timeout <= 1800:
        parser.error("--timeout: must be 1..1800 seconds")
    json.dump(run(args.connections, args.bytes, args.timeout, args.hold), sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
