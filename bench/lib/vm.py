"""A qemu guest from the VM test bed (tests/vm/vm.py), for benchmarks that need a whole kernel.

Used by tcp_mem_pressure (global tcp_mem) and bdp (netem). Every guest is stopped on exit of the
``with`` block, also on an exception or SIGTERM (the caller turns SIGTERM into SystemExit).
"""

import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List

from bench.lib.playbook import collections_path

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VM_TOOL = os.path.join(REPO, "tests", "vm", "vm.py")
BUILD_TOOL = os.path.join(REPO, "tests", "vm", "build.sh")
VENV = os.path.join(REPO, ".venv")
COLLECTIONS = collections_path()
PLAYBOOK = os.path.join(REPO, "playbooks", "tune-tcp.yml")


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
