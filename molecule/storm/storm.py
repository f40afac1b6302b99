# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Accept storm on loopback: N non-blocking connects to a listener (listen backlog 65535) that never accepts.

Bounded: N sockets, one deadline; everything is closed at exit. Prints one JSON line:
{"connects": N, "completed": n, "listen_overflows": delta of TcpExt.ListenOverflows, "somaxconn": ...}
"""
import json
import selectors
import socket
import sys
import time


def netstat_counter(name, path="/proc/net/netstat"):
    with open(path) as handle:
        lines = handle.read().splitlines()
    for header, values in zip(lines[0::2], lines[1::2]):
        prefix, names = header.split(":", 1)
        if prefix == "TcpExt":
            return int(dict(zip(names.split(), values.split(":", 1)[1].split()))[name])
    raise KeyError(name)


def storm(connects, deadline_seconds):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(65535)  # the kernel caps it at net.core.somaxconn
    port = listener.getsockname()[1]
    before = netstat_counter("ListenOverflows")
    selector = selectors.DefaultSelector()
    clients = []
    try:
        while len(clients) < connects:
            client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            client.setblocking(False)
            client.connect_ex(("127.0.0.1", port))
            selector.register(client, selectors.EVENT_WRITE)
            clients.append(client)
        completed = 0
        pending = connects
        deadline = time.monotonic() + deadline_seconds
        while pending and time.monotonic() < deadline:
            for key in [ready[0] for ready in selector.select(timeout=max(0.0, deadline - time.monotonic()))]:
                if key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    completed += 1
                selector.unregister(key.fileobj)
                pending -= 1
        time.sleep(0.5)  # let the last handshake ACKs reach the listener
        with open("/proc/sys/net/core/somaxconn") as handle:
            somaxconn = int(handle.read())
        return {"connects": connects, "completed": completed, "somaxconn": somaxconn,
                "listen_overflows": netstat_counter("ListenOverflows") - before}
    finally:
        for client in clients:
            client.close()
        listener.close()


if __name__ == "__main__":
    COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 6000
    print(json.dumps(storm(min(COUNT, 10000), 4.0)))
