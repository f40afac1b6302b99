"""A throwaway network namespace on the host, and a tap device born inside it.

Used by benchmarks whose peer is a qemu guest (memory_model, seed004): the guest's third NIC is a
tap whose host side lives in a child network namespace, so the host's own namespace never sees a
new device, an address or a route, and only per-netns keys are written (ip_local_port_range).

``Netns()`` holds the namespace with a sleeping ``unshare --net`` process: it goes away with that
process (``close()``, also on an error), with every device and socket in it. No /run/netns entry
is made. Commands run in it through ``nsenter --net=/proc/PID/ns/net``.

``open_tap(netns, name)`` opens /dev/net/tun from inside the namespace (setns on this thread, then
back) and returns the file descriptor: pass it to qemu (``-netdev tap,fd=N``) and the device stays
in the namespace. Root only.
"""

import ctypes
import fcntl
import os
import struct
import subprocess
import sys
import time
from typing import Any, List, Optional, Sequence

from bench.lib import conns, holder

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
# The per-netns keys a benchmark may write here (kernel-tcp-facts.md §2); anything else is refused.
PER_NETNS_KEYS = ("net.ipv4.ip_local_port_range", "net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog")


class Netns:
    """A child network namespace held by a sleeping process; ``with Netns() as ns:``."""

    def __init__(self) -> None:
        self.holder: Optional[subprocess.Popen] = None
        self.path = ""

    def __enter__(self) -> "Netns":
        # The holder sleeps at most a day: even a SIGKILLed benchmark leaves nothing behind for longer.
        self.holder = subprocess.Popen(["unshare", "--net", "sleep", "86400"], stdin=subprocess.DEVNULL)
        self.path = "/proc/%d/ns/net" % self.holder.pid
        own = os.readlink("/proc/self/ns/net")
        for _poll in range(100):
            try:
                if os.readlink(self.path) != own:
                    break
            except OSError:
                pass
            time.sleep(0.02)
        else:
            self.close()
            raise RuntimeError("unshare --net did not make a namespace")
        self.run(["ip", "link", "set", "lo", "up"])
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.holder and self.holder.poll() is None:
            self.holder.kill()
            self.holder.wait()

    def argv(self, argv: Sequence[str]) -> List[str]:
        """``argv`` run inside the namespace (nsenter)."""
        return ["nsenter", "--net=" + self.path, "--"] + [str(word) for word in argv]

    def run(self, argv: Sequence[str], check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(self.argv(argv), capture_output=True, text=True, check=False, timeout=60)
        if check and done.returncode:
            raise RuntimeError("in netns: %s: rc %d: %s" % (" ".join(argv), done.returncode, done.stderr.strip()))
        return done

    def agent(self, argv: Sequence[Any]) -> holder.LineRun:
        """bench/lib/conns.py ARGV inside the namespace; closing its stdin ends a hold."""
        return holder.LineRun(self.argv([sys.executable, conns.__file__] + list(argv)))

    def sysctl(self, key: str, value: str) -> None:
        """Write a per-netns key inside the namespace (never a global one)."""
        if key not in PER_NETNS_KEYS:
            raise ValueError("%s is not a per-netns key this helper writes" % key)
        self.run(["sysctl", "-q", "-w", "%s=%s" % (key, value)])


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        error = ctypes.get_errno()
        raise OSError(error, "setns: %s" % os.strerror(error))


def open_tap(netns: Netns, name: str) -> int:
    """A tap device ``name`` created inside ``netns``; returns its (inheritable) file descriptor."""
    if len(name.encode()) > 15:
        raise ValueError("interface name %r is longer than 15 bytes" % name)
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open(netns.path, os.O_RDONLY)
    try:
        _setns(target)
        try:
            tap = os.open("/dev/net/tun", os.O_RDWR)
            try:
                fcntl.ioctl(tap, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
            except OSError:
                os.close(tap)
                raise
        finally:
            _setns(own)
    finally:
        os.close(own)
        os.close(target)
    os.set_inheritable(tap, True)
    return tap
