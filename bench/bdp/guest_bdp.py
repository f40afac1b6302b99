"""One bulk transfer over an emulated long fat path, run INSIDE a VM guest as root.

    python3 guest_bdp.py run --rmem "4096 131072 6291456" --wmem "4096 16384 4194304" \
        [--seconds 25] [--rate-mbit 100] [--delay-ms 250]

What it builds, fresh for every run (so no tcp_metrics entry carries over from the last one):
  - network namespaces bdp-snd and bdp-rcv joined by a veth pair, bdp-s (10.77.0.1/24) and
    bdp-r (10.77.0.2/24);
  - on bdp-s (data direction): `netem delay D rate R limit 100000`;
    on bdp-r (ACK direction): `netem delay D limit 100000`; so the RTT is 2 x D (500 ms by default)
    and the bottleneck R (100 Mbit/s) sits on the sender's side;
  - net.ipv4.tcp_rmem / tcp_wmem written inside BOTH namespaces (they are per netns).
Then a receiver in bdp-rcv (reads into a 1 MiB buffer, never sets SO_RCVBUF: autotuning) and a
sender in bdp-snd (writes for --seconds, never sets SO_SNDBUF) run one TCP connection. Throughput
is what the receiver got over the second half of the transfer (from its first byte).
Prints one JSON document. --delay-ms 0 skips netem (for testing the mechanics where netem is absent).
Stdlib only, Python 3.9+; runs ip, tc and modprobe as argv lists.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time

SENDER_NS, RECEIVER_NS = "bdp-snd", "bdp-rcv"
SENDER_DEV, RECEIVER_DEV = "bdp-s", "bdp-r"
SENDER_IP, RECEIVER_IP = "10.77.0.1", "10.77.0.2"
PORT = 5201
NETEM_LIMIT = "100000"
BIN_SECONDS = 0.5
CHUNK = 1 << 20
HERE = os.path.abspath(__file__)


def sh(*argv, check=True):
    """Run one command (argv list, no shell); returns stdout."""
    done = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError("%s: rc %d: %s" % (" ".join(argv), done.returncode, done.stderr.strip()))
    return done.stdout


def in_ns(namespace, *argv):
    return ("ip", "netns", "exec", namespace) + argv


def triple(text):
    parts = text.split()
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise argparse.ArgumentTypeError("must be three integers 'min default max', got %r" % text)
    return " ".join(parts)


def teardown():
    for namespace in (SENDER_NS, RECEIVER_NS):
        sh("ip", "netns", "del", namespace, check=False)


def build(rmem, wmem, rate_mbit, delay_ms):
    teardown()
    if delay_ms:
        sh("modprobe", "sch_netem")
    for namespace in (SENDER_NS, RECEIVER_NS):
        sh("ip", "netns", "add", namespace)
    sh("ip", "link", "add", SENDER_DEV, "netns", SENDER_NS, "type", "veth", "peer", "name", RECEIVER_DEV,
       "netns", RECEIVER_NS)
    for namespace, dev, address in ((SENDER_NS, SENDER_DEV, SENDER_IP), (RECEIVER_NS, RECEIVER_DEV, RECEIVER_IP)):
        sh(*in_ns(namespace, "ip", "addr", "add", address + "/24", "dev", dev))
        sh(*in_ns(namespace, "ip", "link", "set", "lo", "up"))
        sh(*in_ns(namespace, "ip", "link", "set", dev, "up"))
        sh(*in_ns(namespace, "sysctl", "-q", "-w", "net.ipv4.tcp_rmem=" + rmem))
        sh(*in_ns(namespace, "sysctl", "-q", "-w", "net.ipv4.tcp_wmem=" + wmem))
    qdiscs = {}
    if delay_ms:
        delay = "%dms" % delay_ms
        sh(*in_ns(SENDER_NS, "tc", "qdisc", "add", "dev", SENDER_DEV, "root", "netem", "delay", delay,
                  "rate", "%dmbit" % rate_mbit, "limit", NETEM_LIMIT))
        sh(*in_ns(RECEIVER_NS, "tc", "qdisc", "add", "dev", RECEIVER_DEV, "root", "netem", "delay", delay,
                  "limit", NETEM_LIMIT))
    for namespace, dev in ((SENDER_NS, SENDER_DEV), (RECEIVER_NS, RECEIVER_DEV)):
        qdiscs[dev] = sh(*in_ns(namespace, "tc", "qdisc", "show", "dev", dev)).strip()
    live = {}
    for namespace in (SENDER_NS, RECEIVER_NS):
        live[namespace] = dict((key, sh(*in_ns(namespace, "cat", "/proc/sys/net/ipv4/" + key)).split())
                               for key in ("tcp_rmem", "tcp_wmem"))
    return qdiscs, live


def receive(port, seconds):
    """Accept one connection; count bytes per BIN_SECONDS from the first byte; print JSON at EOF."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", port))
    listener.listen(1)
    listener.settimeout(30)
    print("ready", flush=True)
    conn = listener.accept()[0]
    conn.settimeout(seconds + 60)
    buffer = bytearray(CHUNK)
    bins = []
    first = None
    total = 0
    while True:
        size = conn.recv_into(buffer)
        now = time.monotonic()
        if not size:
            break
        if first is None:
            first = now
        index = int((now - first) / BIN_SECONDS)
        while len(bins) <= index:
            bins.append(0)
        bins[index] += size
        total += size
    rcvbuf = conn.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    conn.close()
    listener.close()
    json.dump({"bins": bins, "bin_seconds": BIN_SECONDS, "bytes": total, "rcvbuf_at_end": rcvbuf}, sys.stdout)
    sys.stdout.write("\n")


def send(host, port, seconds):
    sock = socket.create_connection((host, port), timeout=30)
    sock.settimeout(seconds + 60)
    payload = b"\0" * CHUNK
    end = time.monotonic() + seconds
    sent = 0
    while time.monotonic() < end:
        sent += sock.send(payload)
    sndbuf = sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
    sock.shutdown(socket.SHUT_WR)
    sock.recv(1)  # wait for the receiver's close so the queue has drained
    sock.close()
    json.dump({"bytes_sent": sent, "sndbuf_at_end": sndbuf}, sys.stdout)
    sys.stdout.write("\n")


def second_half_mbit(bins, bin_seconds, seconds):
    """Mbit/s over [seconds/2, seconds) after the first byte."""
    first, last = int(seconds / 2 / bin_seconds), int(seconds / bin_seconds)
    window = bins[first:last]
    if not window:
        return 0.0
    return sum(window) * 8 / (len(window) * bin_seconds) / 1e6


def run(rmem, wmem, seconds, rate_mbit, delay_ms):
    began = time.monotonic()
    try:
        qdiscs, live = build(rmem, wmem, rate_mbit, delay_ms)
        receiver = subprocess.Popen(list(in_ns(RECEIVER_NS, sys.executable, HERE, "receive", "--seconds",
                                               str(seconds))), stdout=subprocess.PIPE, text=True)
        try:
            if receiver.stdout.readline().strip() != "ready":
                raise RuntimeError("receiver did not start")
            sender = subprocess.run(list(in_ns(SENDER_NS, sys.executable, HERE, "send", "--seconds", str(seconds))),
                                    capture_output=True, text=True, timeout=seconds + 120, check=False)
            if sender.returncode != 0:
                raise RuntimeError("sender failed: %s" % sender.stderr.strip()[-2000:])
            out = receiver.communicate(timeout=120)[0]
        finally:
            if receiver.poll() is None:
                receiver.kill()
                receiver.wait()
        received = json.loads(out)
        sent = json.loads(sender.stdout)
    finally:
        teardown()
    bins = received["bins"]
    per_second = [round(sum(bins[i:i + 2]) * 8 / 1e6, 2) for i in range(0, len(bins), 2)]
    return {
        "kernel": os.uname().release,
        "rmem": rmem, "wmem": wmem, "live": live, "qdiscs": qdiscs,
        "rate_mbit": rate_mbit, "delay_ms_each_way": delay_ms, "rtt_ms": 2 * delay_ms,
        "bdp_bytes": int(rate_mbit * 1e6 / 8 * 2 * delay_ms / 1000),
        "seconds": seconds,
        "mbit_second_half": round(second_half_mbit(bins, received["bin_seconds"], seconds), 2),
        "mbit_whole": round(received["bytes"] * 8 / seconds / 1e6, 2),
        "mbit_per_second": per_second,
        "bytes_received": received["bytes"], "bytes_sent": sent["bytes_sent"],
        "rcvbuf_at_end": received["rcvbuf_at_end"], "sndbuf_at_end": sent["sndbuf_at_end"],
        "wall_seconds": round(time.monotonic() - began, 1),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("run", help="build the path, run one transfer, print JSON")
    one.add_argument("--rmem", type=triple, required=True)
    one.add_argument("--wmem", type=triple, required=True)
    one.add_argument("--seconds", type=int, default=25)
    one.add_argument("--rate-mbit", type=int, default=100)
    one.add_argument("--delay-ms", type=int, default=250, help="one-way delay, each direction (RTT = 2x)")
    rec = sub.add_parser("receive")
    rec.add_argument("--port", type=int, default=PORT)
    rec.add_argument("--seconds", type=int, required=True)
    snd = sub.add_parser("send")
    snd.add_argument("--host", default=RECEIVER_IP)
    snd.add_argument("--port", type=int, default=PORT)
    snd.add_argument("--seconds", type=int, required=True)
    args = parser.parse_args(argv)
    if args.command == "receive":
        receive(args.port, args.seconds)
    elif args.command == "send":
        send(args.host, args.port, args.seconds)
    else:
        if not 2 <= args.seconds <= 300:
            parser.error("--seconds: must be 2..300")
        if not 1 <= args.rate_mbit <= 10000 or not 0 <= args.delay_ms <= 5000:
            parser.error("--rate-mbit 1..10000, --delay-ms 0..5000")
        result = run(args.rmem, args.wmem, args.seconds, args.rate_mbit, args.delay_ms)
        json.dump(result, sys.stdout, sort_keys=True)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
