"""A TCP peer without kernel sockets: it completes handshakes from a raw packet socket.

Runs in a child network namespace whose veth has no IPv4 address, so that namespace's kernel
drops what arrives for the peer's addresses (no RST, no socket); only this process answers, from an
AF_PACKET socket. The other end of the veth is the namespace under measurement: every TCP socket
there then belongs to the side being measured, and the peer costs the kernel nothing per
connection. Stdlib only, Python 3.9+, root.

    rawpeer.py respond  --ifname veth-r --addr 10.214.0.2
        answers every SYN to ADDR (any port) with a SYN-ACK: the kernel's CLIENT sockets connect()
        and become ESTABLISHED; the peer keeps no state and ignores everything else.
    rawpeer.py initiate --ifname veth-r --dest 10.214.0.1 --ports 20000-20007 --sources 10.214.1.1-16
                        --count K [--window 512] [--max-seconds 600]
        sends SYNs from the source addresses to the ports (source ports 1024-65535), and ACKs each
        SYN-ACK: the kernel's listener completes the handshake and its SERVER accepts the connection.
        A SYN unanswered for 3 s is sent again.

The measured namespace needs a static neighbour entry for every peer address (the peer answers no
ARP): ``ip neigh replace ADDR lladdr MAC dev VETH nud permanent`` (MAC: ``rawpeer.py mac``).
It prints one JSON line per second ({"phase": "progress", ...}) and a last one ({"phase": "done"});
``respond`` runs until stdin closes or --max-seconds pass; ``initiate`` until every connection is
acknowledged (then it keeps answering retransmitted SYN-ACKs until stdin closes).
"""

import argparse
import json
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from conns import port_list  # noqa: E402  (next to this file; the one parser of --ports)

ETH_P_IP = 0x0800
ETH_P_ALL = 0x0003
SYN, RST, ACK = 0x02, 0x04, 0x10
ISN = 0x1000000  # the peer's initial sequence number; nothing is ever sent after the handshake


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def tcp_packet(src_mac, dst_mac, src, dst, sport, dport, seq, ack, flags):
    """An Ethernet frame with an IPv4/TCP segment without options or payload, checksums filled in."""
    src_ip, dst_ip = socket.inet_aton(src), socket.inet_aton(dst)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, socket.IPPROTO_TCP, 0, src_ip, dst_ip)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return dst_mac + src_mac + struct.pack("!H", ETH_P_IP) + ip + tcp


def parse(frame):
    """(src_mac, src, dst, sport, dport, seq, ack, flags) of an IPv4/TCP frame, else None."""
    if len(frame) < 54 or frame[12:14] != b"\x08\x00" or frame[23] != socket.IPPROTO_TCP:
        return None
    ihl = (frame[14] & 0x0F) * 4
    sport, dport, seq, ack, _off, flags = struct.unpack("!HHIIBB", frame[14 + ihl:14 + ihl + 14])
    return (frame[6:12], socket.inet_ntoa(frame[26:30]), socket.inet_ntoa(frame[30:34]), sport, dport, seq, ack,
            flags)


def address_range(text):
    """'10.214.1.1-16' -> ['10.214.1.1', ..., '10.214.1.16']; 'a,b' -> ['a', 'b']."""
    out = []
    for item in text.split(","):
        base, _dash, last = item.partition("-")
        head, first = base.rsplit(".", 1)
        out.extend("%s.%d" % (head, index) for index in range(int(first), int(last or first) + 1))
    return out


class Peer:
    def __init__(self, args):
        self.args = args
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.bind((args.ifname, 0))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24)
        self.mac = self.sock.getsockname()[4]
        self.started = time.monotonic()
        self.counts = {"syn_in": 0, "synack_out": 0, "syn_out": 0, "synack_in": 0, "ack_out": 0, "rst_in": 0}
        self.stdin_open = not args.no_stdin
        self.last_report = 0.0

    def report(self, phase="progress", **extra):
        line = dict(self.counts, phase=phase, t=round(time.monotonic() - self.started, 2), **extra)
        sys.stdout.write(json.dumps(line, sort_keys=True) + "\n")
        sys.stdout.flush()

    def frames(self, timeout):
        """Frames waiting on the veth (at most a few thousand per call); reads stdin's EOF too."""
        watch = [self.sock] + ([sys.stdin] if self.stdin_open else [])
        readable, _w, _x = select.select(watch, [], [], timeout)
        if sys.stdin in readable and not os.read(0, 4096):
            self.stdin_open = False
        if self.sock not in readable:
            return
        for _count in range(4096):
            try:
                yield self.sock.recv(256, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return

    def tick(self):
        now = time.monotonic()
        if now - self.last_report >= 1:
            self.last_report = now
            self.report()
        return now - self.started < self.args.max_seconds and (self.stdin_open or self.args.no_stdin)

    def respond(self):
        mine = self.args.addr
        while self.tick():
            for frame in self.frames(0.2):
                seg = parse(frame)
                if not seg or seg[2] != mine:
                    continue
                src_mac, src, _dst, sport, dport, seq, _ack, flags = seg
                if flags & RST:
                    self.counts["rst_in"] += 1
                if flags & SYN and not flags & ACK:
                    self.counts["syn_in"] += 1
                    self.sock.send(tcp_packet(self.mac, src_mac, mine, src, dport, sport, ISN, seq + 1, SYN | ACK))
                    self.counts["synack_out"] += 1
        self.report("done")

    def initiate(self):
        args = self.args
        dest_mac = bytes.fromhex(args.dest_mac.replace(":", ""))
        sources, ports = address_range(args.sources), port_list(args.ports)
        tuples = ((source, sport, port) for sport in range(1024, 65536) for source in sources for port in ports)
        pending = {}  # (source, sport, dport) -> sent at
        done = 0
        opened = 0
        while self.tick():
            now = time.monotonic()
            while opened < args.count and len(pending) < args.window:
                key = next(tuples)
                pending[key] = now
                opened += 1
                self.send_syn(dest_mac, key)
            for frame in self.frames(0.05):
                seg = parse(frame)
                if not seg or seg[1] != args.dest:
                    continue
                _mac, _src, dst, sport, dport, seq, ack, flags = seg
                if flags & RST:
                    self.counts["rst_in"] += 1
                if flags & SYN and flags & ACK and ack == ISN + 1:
                    self.counts["synack_in"] += 1
                    self.sock.send(tcp_packet(self.mac, dest_mac, dst, args.dest, dport, sport, ISN + 1, seq + 1, ACK))
                    self.counts["ack_out"] += 1
                    if pending.pop((dst, dport, sport), None) is not None:
                        done += 1
            for key in [key for key, sent in pending.items() if now - sent > 3]:
                pending[key] = now
                self.send_syn(dest_mac, key)
            if done >= args.count and not pending and opened >= args.count and "done_at" not in self.counts:
                self.counts["done_at"] = round(now - self.started, 2)
                self.report("done", acked=done)
        self.report("end", acked=done, unanswered=len(pending))

    def send_syn(self, dest_mac, key):
        source, sport, dport = key
        self.sock.send(tcp_packet(self.mac, dest_mac, source, self.args.dest, sport, dport, ISN, 0, SYN))
        self.counts["syn_out"] += 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="role", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--ifname", required=True)
    common.add_argument("--max-seconds", type=float, default=600.0)
    common.add_argument("--no-stdin", action="store_true")
    respond = sub.add_parser("respond", parents=[common])
    respond.add_argument("--addr", required=True)
    initiate = sub.add_parser("initiate", parents=[common])
    initiate.add_argument("--dest", required=True)
    initiate.add_argument("--dest-mac", required=True, help="the measured side's veth MAC")
    initiate.add_argument("--ports", required=True)
    initiate.add_argument("--sources", required=True, help="e.g. 10.214.1.1-16")
    initiate.add_argument("--count", type=int, required=True)
    initiate.add_argument("--window", type=int, default=512)
    mac = sub.add_parser("mac")
    mac.add_argument("--ifname", required=True)
    args = parser.parse_args(argv)
    if args.role == "mac":
        with open("/sys/class/net/%s/address" % args.ifname) as handle:
            print(handle.read().strip())
        return
    peer = Peer(args)
    if args.role == "respond":
        peer.respond()
    else:
        peer.initiate()


if __name__ == "__main__":
    main()
