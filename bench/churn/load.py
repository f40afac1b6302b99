"""Outbound churn, run INSIDE a container: paced connect + close to one ip:port, client closes first.

Standalone (stdlib only, Python 3.9+): copied into the container and run there. The server
listens on the container's own eth0 address (not loopback, where tcp_tw_reuse=2 would already
reuse), reads until EOF and only then closes, so TIME_WAIT lands on the client. Clients are
blocking sockets (timestamps on: kernel default) paced on a fixed schedule, spread over
--procs processes; a client more than 1 s behind its schedule skips the missed slots.
Every second the parent samples TIME_WAIT from /proc/net/sockstat (per network namespace).
Prints one JSON document: per-second counts, latencies and TIME_WAIT.
"""

import argparse
import errno
import json
import os
import selectors
import signal
import socket
import sys
import time

MAX_LAG_SECONDS = 1.0


def serve(addr, port, ready_fd):
    """Accept, read until the client's FIN, then close: the client is the active closer."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((addr, port))
    listener.listen(4096)
    listener.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    os.write(ready_fd, b"r")
    while True:
        for key, _events in selector.select():
            if key.fileobj is listener:
                while True:
                    try:
                        conn, _peer = listener.accept()
                    except BlockingIOError:
                        break
                    conn.setblocking(False)
                    selector.register(conn, selectors.EVENT_READ)
            else:
                try:
                    data = key.fileobj.recv(4096)
                except ConnectionError:
                    data = b""
                if not data:
                    selector.unregister(key.fileobj)
                    key.fileobj.close()


def client(addr, port, rate, seconds, phase, start, out_path):
    """Paced connects; per-second buckets of ok, EADDRNOTAVAIL, other errors and latencies (ms)."""
    interval = 1.0 / rate
    buckets = [{"ok": 0, "eaddrnotavail": 0, "other": {}, "skipped": 0, "lat": []} for _second in range(int(seconds))]
    slot = 0
    end = start + seconds
    while True:
        due = start + phase + slot * interval
        if due >= end:
            break
        now = time.monotonic()
        if now < due:
            time.sleep(due - now)
        elif now - due > MAX_LAG_SECONDS:
            caught_up = int((now - start - phase) / interval)
            buckets[min(int(now - start), len(buckets) - 1)]["skipped"] += caught_up - slot
            slot = caught_up
            continue
        slot += 1
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(2.0)
        began = time.monotonic()
        code = sock.connect_ex((addr, port))
        took = time.monotonic() - began
        sock.close()  # a plain close: FIN first, so this side ends in TIME_WAIT
        second = int(began - start)
        if second >= len(buckets):
            continue
        bucket = buckets[second]
        if code == 0:
            bucket["ok"] += 1
            bucket["lat"].append(round(took * 1000, 4))
        elif code == errno.EADDRNOTAVAIL:
            bucket["eaddrnotavail"] += 1
        else:
            name = "timeout" if code in (errno.EAGAIN, errno.EWOULDBLOCK) else errno.errorcode.get(code, str(code))
            bucket["other"][name] = bucket["other"].get(name, 0) + 1
    with open(out_path, "w") as handle:
        json.dump(buckets, handle)


def sockstat():
    """(TIME_WAIT incl. the FIN_WAIT2 substate, TCP sockets in use) of this network namespace."""
    with open("/proc/net/sockstat") as handle:
        for line in handle:
            if line.startswith("TCP:"):
                fields = line.split()
                return int(fields[fields.index("tw") + 1]), int(fields[fields.index("inuse") + 1])
    return 0, 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--addr", required=True)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--rate", type=float, default=1500.0)
    parser.add_argument("--seconds", type=int, default=75)
    parser.add_argument("--procs", type=int, default=2)
    args = parser.parse_args()

    ready_read, ready_write = os.pipe()
    server = os.fork()
    if server == 0:
        signal.alarm(args.seconds + 60)  # never outlive the run
        try:
            serve(args.addr, args.port, ready_write)
        finally:
            os._exit(1)
    os.close(ready_write)
    if os.read(ready_read, 1) != b"r":
        os.waitpid(server, 0)
        raise SystemExit("server failed to listen on %s:%d" % (args.addr, args.port))

    start = time.monotonic() + 0.2
    clients = []
    for index in range(args.procs):
        out_path = "/tmp/churn-client-%d.json" % index
        pid = os.fork()
        if pid == 0:
            signal.alarm(args.seconds + 60)
            try:
                client(args.addr, args.port, args.rate / args.procs, args.seconds, index / args.rate, start, out_path)
            finally:
                os._exit(0 if os.path.exists(out_path) else 1)
        clients.append((pid, out_path))

    time_wait, inuse = [], []
    for second in range(1, args.seconds + 1):
        time.sleep(max(0.0, start + second - time.monotonic()))
        tw, used = sockstat()
        time_wait.append(tw)
        inuse.append(used)
    failed_clients = 0
    for pid, _path in clients:
        _pid, status = os.waitpid(pid, 0)
        failed_clients += status != 0
    os.kill(server, signal.SIGTERM)
    os.waitpid(server, 0)

    merged = [{"ok": 0, "eaddrnotavail": 0, "other": {}, "skipped": 0, "lat": []} for _second in range(args.seconds)]
    for _pid, out_path in clients:
        with open(out_path) as handle:
            for total, part in zip(merged, json.load(handle)):
                for key in ("ok", "eaddrnotavail", "skipped"):
                    total[key] += part[key]
                total["lat"] += part["lat"]
                for name, count in part["other"].items():
                    total["other"][name] = total["other"].get(name, 0) + count
    print(json.dumps({"rate": args.rate, "seconds": args.seconds, "procs": args.procs, "addr": args.addr,
                      "port": args.port, "failed_clients": failed_clients, "per_second": merged,
                      "time_wait": time_wait, "tcp_inuse": inuse}))
    return 1 if failed_clients else 0


if __name__ == "__main__":
    sys.exit(main())
