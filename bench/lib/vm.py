"""A qemu guest from the VM test bed (tests/vm/vm.py), for benchmarks that need a whole kernel.

Used by tcp_mem_pressure (global tcp_mem) and bdp (netem); ``TapGuest`` (memory_model, seed004)
adds a NIC whose host side is a tap inside a child network namespace (bench/lib/netns.py), so
load can come from outside the guest. Every guest is stopped on exit of the ``with`` block, also
on an exception or SIGTERM (the caller turns SIGTERM into SystemExit).
"""

import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

from bench.lib import conns, holder
from bench.lib.netns import Netns, open_tap
from bench.lib.playbook import collections_path

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VM_TOOL = os.path.join(REPO, "tests", "vm", "vm.py")
BUILD_TOOL = os.path.join(REPO, "tests", "vm", "build.sh")
VENV = os.path.join(REPO, ".venv")
COLLECTIONS = collections_path()
PLAYBOOK = os.path.join(REPO, "playbooks", "tune-tcp.yml")
AGENT_DIR = "/root/bench-agent"  # bench/lib/conns.py and holder.py in the guest


def vm_tool(*argv: str, timeout: float = 600) -> str:
    """Run tests/vm/vm.py with argv; returns stdout; raises with its stderr on failure."""
    done = subprocess.run([sys.executable, VM_TOOL] + list(argv), capture_output=True, text=True,
                          timeout=timeout, check=False, cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError("vm.py %s: rc %d\n%s\n%s" % (" ".join(argv), done.returncode, done.stdout[-2000:],
                                                        done.stderr[-3000:]))
    return done.stdout


class Guest:
    """One running guest; ``with Guest(name) as guest:`` boots it and always stops it."""

    def __init__(self, name: str, release: str = "12", memory_mb: int = 4096, smp: int = 1):
        self.name = name
        self.smp = smp
        self.release = release
        self.memory_mb = memory_mb
        self.info: Dict[str, Any] = {}

    def __enter__(self) -> "Guest":
        if not os.path.exists(VM_TOOL):
            raise RuntimeError("tests/vm/vm.py is missing (the VM test bed)")
        subprocess.run(["bash", BUILD_TOOL, self.release], check=True, cwd=REPO, timeout=1800,
                       stdout=subprocess.DEVNULL)
        try:
            self.stop()  # a leftover of an interrupted run under the same name
        except RuntimeError:
            pass
        try:
            out = vm_tool("start", self.name, "--release", self.release, "--memory-mb", str(self.memory_mb),
                          "--smp", str(self.smp))
            self.info = json.loads(out.strip().splitlines()[-1])
            vm_tool("wait", self.name, timeout=300)
        except BaseException:
            self.stop_quietly()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop_quietly()

    def stop(self) -> None:
        vm_tool("stop", self.name, timeout=120)

    def stop_quietly(self) -> None:
        try:
            self.stop()
        except Exception as error:  # pylint: disable=broad-except
            print("warning: stopping %s: %s" % (self.name, error), file=sys.stderr)

    def reboot(self) -> None:
        vm_tool("reboot", self.name, timeout=300)

    def run(self, argv: List[str], timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        """Run argv in the guest as root over ssh (quoted for the guest's shell)."""
        command = shlex.join(argv)  # for messages; vm.py quotes each word itself
        done = subprocess.run([sys.executable, VM_TOOL, "ssh", self.name, "--"] + list(argv), capture_output=True,
                              stdin=subprocess.DEVNULL, text=True, timeout=timeout, check=False, cwd=REPO)
        if check and done.returncode != 0:
            raise RuntimeError("guest %s: %s: rc %d\n%s\n%s"
                               % (self.name, command, done.returncode, done.stdout[-2000:], done.stderr[-2000:]))
        return done

    def put(self, source: str, dest: str) -> None:
        vm_tool("scp-to", self.name, source, dest, timeout=120)

    def install_agent(self) -> None:
        """Copy bench/lib/conns.py and holder.py (its /proc readers) into the guest."""
        self.run(["mkdir", "-p", AGENT_DIR])
        for module in (conns, holder):
            self.put(module.__file__, "%s/%s" % (AGENT_DIR, os.path.basename(module.__file__)))

    def agent(self, argv: List[Any]) -> holder.LineRun:
        """bench/lib/conns.py ARGV in the guest over ssh (install_agent first); closing its stdin ends a hold."""
        return holder.LineRun([sys.executable, VM_TOOL, "ssh", self.name, "--", "python3", AGENT_DIR + "/conns.py"]
                              + list(argv))

    def install_collection(self) -> str:
        """This checkout's plugins/module_utils in the guest (stdlib only, no Ansible); returns the
        collections root to put on sys.path there (AGENT_DIR/coll)."""
        root = AGENT_DIR + "/coll"
        with tempfile.TemporaryDirectory(prefix="bench-coll-") as tmp:
            tarball = os.path.join(tmp, "module_utils.tar")
            subprocess.run(["tar", "-C", REPO, "-cf", tarball, "--exclude=__pycache__", "plugins/module_utils"],
                           check=True)
            self.put(tarball, "/tmp/bench-module-utils.tar")
        target = root + "/ansible_collections/tcptune/linux"
        self.run(["mkdir", "-p", target])
        self.run(["tar", "-C", target, "-xf", "/tmp/bench-module-utils.tar"])
        return root

    def tcp_facts(self, sockets: bool = False) -> Dict[str, Any]:
        """tcp_facts' host_facts.gather() in the guest (install_collection first): ansible_facts.tcp."""
        script = ("import json, sys; sys.path.insert(0, %r); from ansible_collections.tcptune.linux.plugins."
                  "module_utils import host_facts; print(json.dumps(host_facts.gather(sockets=%r)))"
                  % (AGENT_DIR + "/coll", sockets))
        return self.run_json(["python3", "-c", script])

    def read(self, path: str) -> str:
        return self.run(["cat", path]).stdout

    def sysctl(self, key: str) -> List[int]:
        return [int(part) for part in self.read("/proc/sys/" + key.replace(".", "/")).split()]

    def write_sysctl(self, key: str, value: str) -> None:
        self.run(["sysctl", "-q", "-w", "%s=%s" % (key, value)])

    def run_json(self, argv: List[str], timeout: float = 600) -> Dict[str, Any]:
        return json.loads(self.run(argv, timeout=timeout).stdout.strip().splitlines()[-1])

    def inventory(self, directory: str, group: str = "bench") -> str:
        """An INI inventory reaching this guest as root over ssh on 127.0.0.1."""
        path = os.path.join(directory, "inventory.ini")
        with open(path, "w") as handle:
            handle.write("[%s]\n%s ansible_host=127.0.0.1 ansible_port=%s ansible_user=%s "
                         "ansible_ssh_private_key_file=%s ansible_python_interpreter=/usr/bin/python3 "
                         "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'\n"
                         % (group, self.name, self.info["port"], self.info.get("user", "root"), self.info["key"]))
        return path

    def tune(self, extra_vars: Dict[str, Any], timeout: float = 600) -> Dict[str, Any]:
        """Run playbooks/tune-tcp.yml on this guest with extra vars; returns {seconds, recap, stdout tail}."""
        playbook_bin = os.path.join(VENV, "bin", "ansible-playbook")
        with tempfile.TemporaryDirectory(prefix="bench-vm-") as tmp:
            inventory = self.inventory(tmp)
            vars_file = os.path.join(tmp, "vars.json")
            with open(vars_file, "w") as handle:
                json.dump(dict(extra_vars, tcp_tuning_report_dir=os.path.join(tmp, "report")), handle)
            argv = [playbook_bin, "-i", inventory, PLAYBOOK, "-e", "@" + vars_file, "-l", "bench"]
            env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_HOST_KEY_CHECKING="False",
                       ANSIBLE_RETRY_FILES_ENABLED="False", ANSIBLE_NOCOLOR="1",
                       PATH=os.path.join(VENV, "bin") + os.pathsep + os.environ.get("PATH", ""))
            began = time.monotonic()
            done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO,
                                  check=False)
            seconds = time.monotonic() - began
        if done.returncode != 0:
            raise RuntimeError("tune-tcp.yml failed (rc %d):\n%s\n%s"
                               % (done.returncode, done.stdout[-4000:], done.stderr[-2000:]))
        lines = done.stdout.splitlines()
        recap = [line for line in lines if line.startswith(self.name + " ") and "ok=" in line]
        # The role's summary (report.yml): findings before, each change with its old value, warnings.
        summary = [line.strip().strip('",') for line in lines
                   if any(mark in line for mark in ("finding [", "sysctl changed:", "sysctl: nothing", "warning:"))]
        return {"seconds": round(seconds, 1), "recap": recap[-1].split(":", 1)[-1].strip() if recap else None,
                "summary": summary,
                "argv": argv[:2] + ["INVENTORY"] + argv[3:4] + ["-e", json.dumps(extra_vars), "-l", "bench"]}


def guest_facts(guest: Guest) -> Dict[str, Any]:
    """MemTotal, CPUs and kernel release of the guest (for the sizing module and the results)."""
    meminfo = guest.read("/proc/meminfo").split()
    return {"memory_bytes": int(meminfo[1]) * 1024, "cpus": int(guest.run(["nproc"]).stdout),
            "kernel_release": guest.run(["uname", "-r"]).stdout.strip()}


def _vm_module() -> Any:
    """tests/vm/vm.py as a module: its image cache, run directories and pidfile checks."""
    spec = importlib.util.spec_from_file_location("tcptune_vm_tool", VM_TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


class TapGuest(Guest):
    """A guest with a third NIC (eth2 by MAC ``TAP_MAC``) on a tap in ``netns``.

    tests/vm/vm.py starts guests with two user-mode NICs only, so this starts qemu itself with vm.py's
    ``qemu_argv`` plus ``-netdev tap,fd=N`` (the tap opened inside the namespace; qemu must inherit it),
    and writes the same instance.json: ``vm.py wait/ssh/stop`` work on it.
    ``address`` is the guest's on eth2, ``peer`` the host side's on the tap (both /16).
    """

    TAP_MAC = "52:54:00:7c:70:02"

    def __init__(self, name: str, netns: Netns, release: str = "12", memory_mb: int = 4096, smp: int = 1,
                 tap: str = "tcptap0", address: str = "10.213.0.2", peer: str = "10.213.0.1",
                 peer_aliases: int = 0):
        super().__init__(name, release=release, memory_mb=memory_mb, smp=smp)
        self.netns, self.tap, self.address, self.peer = netns, tap, address, peer
        base = peer.rsplit(".", 1)[0]
        self.sources = [peer] + ["%s.%d" % (base, 10 + index) for index in range(peer_aliases)]
        self.guest_nic: Optional[str] = None

    def __enter__(self) -> "TapGuest":
        if not os.path.exists(VM_TOOL):
            raise RuntimeError("tests/vm/vm.py is missing (the VM test bed)")
        try:
            _vm_module().image_dir(self.release)  # a cached image: no build.sh (it may wait on another build's lock)
        except Exception:  # pylint: disable=broad-except
            subprocess.run(["bash", BUILD_TOOL, self.release], check=True, cwd=REPO, timeout=1800,
                           stdout=subprocess.DEVNULL)
        try:
            self.stop()
        except RuntimeError:
            pass
        try:
            self._start()
            vm_tool("wait", self.name, timeout=600)
            self._wire()
        except BaseException:
            self.stop_quietly()
            raise
        return self

    def _start(self) -> None:
        tool = _vm_module()
        image = tool.image_dir(self.release)
        directory, overlay = tool.new_overlay(self.name, image)
        tap_fd = open_tap(self.netns, self.tap)
        try:
            port = tool.free_port()
            argv = tool.qemu_argv(self.name, directory, image, overlay, port, self.memory_mb, self.smp,
                                  extra=["-netdev", "tap,id=n2,fd=%d" % tap_fd,
                                         "-device", "virtio-net-pci,netdev=n2,mac=%s,romfile=" % self.TAP_MAC])
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False,
                                  pass_fds=(tap_fd,))
        finally:
            os.close(tap_fd)  # qemu holds its own copy
        if done.returncode != 0:
            shutil.rmtree(directory, ignore_errors=True)
            raise RuntimeError("qemu did not start for %s: %s" % (self.name, (done.stdout + done.stderr).strip()))
        self.info = {"name": self.name, "port": port, "key": tool.KEY, "user": tool.USER, "release": self.release,
                     "image": image, "memory_mb": self.memory_mb, "smp": self.smp, "tap": self.tap}
        tool.save_instance(directory, self.info)

    def reboot(self) -> None:
        super().reboot()
        self.wire_guest()

    def _wire(self) -> None:
        """Addresses on both ends of the tap; the guest's NIC found by its MAC."""
        for source in self.sources:  # the first is primary, the others secondary: no extra route
            self.netns.run(["ip", "addr", "add", "%s/16" % source, "dev", self.tap])
        self.netns.run(["ip", "link", "set", self.tap, "up"])
        self.wire_guest()

    def wire_guest(self) -> None:
        """The guest's address on its tap NIC (again after a reboot: no network file manages that NIC)."""
        links = json.loads(self.run(["ip", "-j", "link", "show"]).stdout)
        self.guest_nic = next(link["ifname"] for link in links if link.get("address") == self.TAP_MAC)
        self.run(["ip", "addr", "add", "%s/16" % self.address, "dev", self.guest_nic])
        self.run(["ip", "link", "set", self.guest_nic, "up"])
        deadline = time.monotonic() + 60
        probe = "import socket; socket.create_connection((%r, 22), 2).close()" % self.address
        while self.netns.run([sys.executable, "-c", probe], check=False).returncode:  # the guest's sshd
            if time.monotonic() > deadline:
                raise RuntimeError("the guest does not answer on %s over %s" % (self.address, self.tap))
            time.sleep(1)
