"""Accept storm, run INSIDE a container: one listener that never accepts, N concurrent connects.

Standalone (stdlib only, Python 3.9+): it is copied into the container and run there, so
everything it touches (listener, counters, sockets) lives in the container's network namespace.
Prints one JSON document on stdout.

The listener calls listen(65535); the kernel caps that at net.core.somaxconn, which is what the
benchmark is about. Connects are spread over processes because nofile per process is capped.
Each connect is non-blocking and watched with epoll; a connect still pending after --timeout
seconds is counted as failed (SYN retransmits come at 1 s, 3 s, 7 s...).
"""

import argparse
import errno
import json
import os
import select
import socket
import struct
import subprocess
import sys
import time

HOST = "127.0.0.1"


def netstat_counters(names):
    """TcpExt counters from /proc/net/netstat (per network namespace)."""
    with open("/proc/net/netstat") as handle:
        lines = handle.read().splitlines()
    found = {}
    for header, values in zip(lines[0::2], lines[1::2]):
        prefix = header.split(":", 1)[0]
        for key, value in zip(header.split()[1:], values.split()[1:]):
            found["%s.%s" % (prefix, key)] = int(value)
    return {name: found.get(name, 0) for name in names}


def listener_queue(port):
    """(accept queue length, effective backlog) of the listener, from `ss -ltn`."""
    out = subprocess.run(["ss", "-ltnH", "sport = :%d" % port], capture_output=True, text=True,
                         check=True).stdout.split()
    return int(out[1]), int(out[2])


def count_error(errors, code):
    name = errno.errorcode.get(code, str(code))
    errors[name] = errors.get(name, 0) + 1


def worker(count, port, timeout, go_fd, result_fd, release_fd):
    """Open `count` non-blocking connects at once; report latencies (ms) and failures."""
    os.read(go_fd, 1)  # wait for the parent's start signal so all workers burst together
    poller = select.epoll(count + 1)
    started = {}
    sockets = []
    latencies = []
    errors = {}

    def harvest(wait):
        for fd, _events in poller.poll(wait):
            sock, began = started.pop(fd)
            poller.unregister(fd)
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code == 0:
                latencies.append((time.monotonic() - began) * 1000)
            else:
                count_error(errors, code)

    burst_began = time.monotonic()
    for _index in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sockets.append(sock)
        began = time.monotonic()
        code = sock.connect_ex((HOST, port))
        if code == 0:
            latencies.append((time.monotonic() - began) * 1000)
        elif code == errno.EINPROGRESS:
            started[sock.fileno()] = (sock, began)
            poller.register(sock.fileno(), select.EPOLLOUT)
        else:
            count_error(errors, code)
        harvest(0)  # completions are timed as they happen, not after the whole burst
    burst_s = time.monotonic() - burst_began
    deadline = time.monotonic() + timeout
    while started and time.monotonic() < deadline:
        harvest(max(0.0, deadline - time.monotonic()))
    if started:
        errors["timeout"] = errors.get("timeout", 0) + len(started)
    report = {"latencies_ms": latencies, "errors": errors, "burst_s": burst_s}
    os.write(result_fd, json.dumps(report).encode() + b"\n")
    os.close(result_fd)
    os.read(release_fd, 1)  # hold the sockets until the parent has read the listener's queue
    linger = struct.pack("ii", 1, 0)  # close with RST: no TIME_WAIT left behind
    for sock in sockets:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        except OSError:
            pass
        sock.close()
    os._exit(0)


def percentile(sorted_values, fraction):
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--connects", type=int, default=20000)
    parser.add_argument("--per-process", type=int, default=9000)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--port", type=int, default=7000)
    args = parser.parse_args()

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, args.port))
    listener.listen(65535)  # never accepted: the queue must hold the whole burst
    names = ["TcpExt.ListenOverflows", "TcpExt.ListenDrops", "TcpExt.TCPReqQFullDrop",
             "TcpExt.TCPReqQFullDoCookies", "TcpExt.SyncookiesSent"]
    before = netstat_counters(names)

    go_read, go_write = os.pipe()
    release_read, release_write = os.pipe()
    readers = []
    remaining = args.connects
    while remaining > 0:
        count = min(remaining, args.per_process)
        remaining -= count
        result_read, result_write = os.pipe()
        if os.fork() == 0:
            os.close(result_read)
            worker(count, args.port, args.timeout, go_read, result_write, release_read)
        os.close(result_write)
        readers.append(result_read)

    began = time.monotonic()
    os.write(go_write, b"g" * len(readers))
    latencies, errors, burst_s = [], {}, 0.0
    for fd in readers:
        with os.fdopen(fd) as handle:
            part = json.loads(handle.read())
        latencies += part["latencies_ms"]
        burst_s = max(burst_s, part["burst_s"])
        for name, count in part["errors"].items():
            errors[name] = errors.get(name, 0) + count
    elapsed = time.monotonic() - began
    queue, backlog = listener_queue(args.port)
    after = netstat_counters(names)
    listener.close()  # closing the listener first resets the queued connections
    os.write(release_write, b"r" * len(readers))
    for _reader in readers:
        os.wait()

    latencies.sort()
    print(json.dumps({
        "connects": args.connects,
        "processes": len(readers),
        "connected": len(latencies),
        "failed": args.connects - len(latencies),
        "errors": errors,
        "accept_queue": queue,
        "backlog": backlog,
        "counters": {name: after[name] - before[name] for name in names},
        "connect_ms": {"p50": percentile(latencies, 0.50), "p99": percentile(latencies, 0.99),
                       "max": latencies[-1] if latencies else None},
        "burst_s": burst_s,
        "elapsed_s": elapsed,
        "timeout_s": args.timeout,
    }))


if __name__ == "__main__":
    sys.exit(main())
