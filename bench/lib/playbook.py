"""Run Ansible playbooks against benchmark containers over the containers.podman connection.

Used by apply_cost, and by the storm and churn benchmarks to tune a container with the real role.
"""

import importlib
import os
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(REPO, "playbooks", "tune-tcp.yml")
ROLE_TASKS = os.path.join(REPO, "roles", "tcp_tuning", "tasks", "main.yml")
# This checkout's collections root, as tests/run-all.sh makes it: ansible_collections/tcptune/linux -> REPO.
COLLECTIONS_ROOT = os.path.join(REPO, ".cache", "collections")
GROUP = "bench"  # the inventory group holding the containers
VENVS = (os.path.join(REPO, ".venv"), "/tmp/benchvenv")


def role_ready() -> bool:
    """True once the role and the playbook exist (they are written by another engineer)."""
    return os.path.exists(ROLE_TASKS) and os.path.exists(PLAYBOOK)


def venv() -> Optional[str]:
    """A venv whose ansible holds containers.podman, ansible.posix and community.general."""
    for candidate in VENVS:
        if os.path.exists(os.path.join(candidate, "bin", "ansible-playbook")) and _has_collections(candidate):
            return candidate
    return None


def _has_collections(path: str) -> bool:
    lib = os.path.join(path, "lib")
    for root in os.listdir(lib) if os.path.isdir(lib) else []:
        base = os.path.join(lib, root, "site-packages", "ansible_collections")
        if all(os.path.isdir(os.path.join(base, *name.split("."))) for name in
               ("containers.podman", "ansible.posix", "community.general")):
            return True
    return False


def collections_path() -> str:
    """A collections root where tcptune.linux resolves to this checkout.

    Kept inside the checkout and re-pointed whenever it resolves elsewhere: a shared link in /tmp once
    pointed at a removed checkout, and the benchmarks then failed or ran another checkout's code.
    """
    link = os.path.join(COLLECTIONS_ROOT, "ansible_collections", "tcptune", "linux")
    if os.path.realpath(link) != os.path.realpath(REPO):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(REPO, link)
    return COLLECTIONS_ROOT


def write_inventory(names: List[str], directory: str) -> str:
    """An INI inventory reaching each container through containers.podman.podman."""
    path = os.path.join(directory, "inventory.ini")
    with open(path, "w") as handle:
        handle.write("[%s]\n" % GROUP)
        for name in names:
            handle.write("%s ansible_connection=containers.podman.podman "
                         "ansible_python_interpreter=/usr/bin/python3\n" % name)
    return path


def run_playbook(playbook: str, inventory: str, extra_vars: Dict[str, object], forks: int,
                 timeout: float, limit: Optional[str] = GROUP) -> float:
    """Run one playbook; returns its wall time in seconds. Raises on failure or timeout.

    The default limit, the inventory's container group, leaves out plays on localhost (the fleet
    report of tune-tcp.yml): what is timed is the role on the containers.
    """
    env_dir = venv()
    if env_dir is None:
        raise RuntimeError("no venv with ansible 14.5.0 (tried %s)" % ", ".join(VENVS))
    argv = [os.path.join(env_dir, "bin", "ansible-playbook"), "-i", inventory, "-f", str(forks), playbook]
    for key, value in extra_vars.items():  # a None value passes the key alone (e.g. "@vars.json")
        argv += ["-e", key if value is None else "%s=%s" % (key, value)]
    if limit:
        argv += ["-l", limit]
    report_dir = tempfile.mkdtemp(prefix="bench-report-")  # the playbook's fleet report lands here
    argv += ["-e", "tcp_tuning_report_dir=%s" % report_dir]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_HOST_KEY_CHECKING="False",
               ANSIBLE_RETRY_FILES_ENABLED="False", ANSIBLE_NOCOLOR="1",
               PATH=os.path.join(env_dir, "bin") + os.pathsep + os.environ.get("PATH", ""))
    began = time.monotonic()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False)
    elapsed = time.monotonic() - began
    if done.returncode != 0:
        failures = [line for line in done.stdout.splitlines() if line.startswith(("fatal:", "failed:"))
                    or "UNREACHABLE!" in line]
        raise RuntimeError("%s failed (rc %d):\n%s\n%s\n%s" % (os.path.basename(playbook), done.returncode,
                                                               "\n".join(failures)[:4000], done.stdout[-3000:],
                                                               done.stderr[-2000:]))
    return elapsed


def tune_with_role(container_name: str, extra_vars: Dict[str, object], timeout: float = 300) -> float:
    """Apply playbooks/tune-tcp.yml to one container; returns the wall time."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        inventory = write_inventory([container_name], tmp)
        return run_playbook(PLAYBOOK, inventory, extra_vars, forks=1, timeout=timeout)


def module_utils(name: str) -> Any:
    """plugins/module_utils/<name>.py imported from this checkout (stdlib only)."""
    root = collections_path()
    if root not in sys.path:
        sys.path.insert(0, root)
    return importlib.import_module("ansible_collections.tcptune.linux.plugins.module_utils." + name)


def sizing_module() -> Any:
    """plugins/module_utils/sizing.py imported from this checkout (pure, stdlib only)."""
    return module_utils("sizing")


def container_host(container: Any, keys: List[str]) -> Dict[str, Any]:
    """The sizing host dict for a container: its RAM, CPUs, kernel and the given sysctl values."""
    meminfo = container.read("/proc/meminfo").split()
    sysctl = {}
    for key in keys:
        raw = container.exec(["cat", "/proc/sys/" + key.replace(".", "/")], check=False).stdout.split()
        if raw:
            sysctl[key] = [int(part) for part in raw] if len(raw) > 1 else int(raw[0])
    return module_utils("sizing_inputs").host_from_facts(None, {
        "memory_bytes": int(meminfo[1]) * 1024,
        "cpus": int(container.exec(["nproc"]).stdout),
        "kernel_release": container.exec(["uname", "-r"]).stdout.strip(),
        "in_init_netns": False,
        "sysctl": sysctl,
    })


def tune(container: Any, profile: str, workload: Dict[str, Any], method: str = "auto") -> Dict[str, Any]:
    """Tune one container for ``profile``; returns {method, seconds, plan_sysctl?}.

    method role: run playbooks/tune-tcp.yml over containers.podman (the real thing).
    method sizing: compute_plan in-process and write its per-netns keys (before the role existed).
    auto: role when roles/tcp_tuning and the playbook exist, else sizing.
    """
    if method == "auto":
        method = "role" if role_ready() and venv() else "sizing"
    if method == "role":
        extra = {"tcp_tuning_profile": profile}
        extra.update(("tcp_tuning_" + key, value) for key, value in workload.items())
        return {"method": "role", "seconds": tune_with_role(container.name, extra)}
    plan = sizing_module().compute_plan(container_host(container, []), dict(workload, profile=profile))
    for key, value in plan["sysctl"].items():
        if not key.startswith("fs."):
            container.write_sysctl(key, value)
    return {"method": "sizing", "plan_sysctl": plan["sysctl"]}
