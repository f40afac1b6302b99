"""Boot, reach and stop the VM test bed's Debian guests (images from tests/vm/build.sh).

    vm.py start NAME --release {11,12,13} [--memory-mb 2048] [--smp 1] [--port auto]
    vm.py wait NAME [--timeout 300]
    vm.py ssh NAME -- CMD...          exit status of CMD; each word is quoted for the guest's shell
    vm.py scp-to NAME SRC DST
    vm.py reboot NAME [--timeout 300]  returns when ssh answers with a new boot id
    vm.py stop NAME... | --all
    vm.py inventory [--json] NAME...
    vm.py instance-config NAME...      Molecule's instance_config.yml (default driver) as JSON
    vm.py list

Each instance lives in $TCPTUNE_VM_RUN/NAME/ (default /tmp/tcptune-vm): a qcow2 overlay on the
cached raw image, qemu's pidfile, the serial console log and instance.json. qemu runs under
software emulation (TCG): nested KVM hangs on this machine. Stdlib only.
"""
import argparse
import glob
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

RELEASES = ("11", "12", "13")
CACHE = os.environ.get("TCPTUNE_VM_CACHE", "/var/cache/tcptune/vm")
RUN = os.environ.get("TCPTUNE_VM_RUN", "/tmp/tcptune-vm")
KEY = os.path.join(CACHE, "id_ed25519")
USER = "root"
SSH_OPTIONS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
               "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes"]


class VmError(Exception):
    pass


def log(message):
    print("vm: %s" % message, file=sys.stderr, flush=True)


def run_dir(name):
    if not name or "/" in name or name.startswith("."):
        raise VmError("bad instance name %r" % name)
    return os.path.join(RUN, name)


def image_dir(release):
    """The newest complete cache entry for a release (build.sh keeps one per recipe hash)."""
    entries = [d for d in glob.glob(os.path.join(CACHE, "debian-%s-*" % release))
               if all(os.path.exists(os.path.join(d, f)) for f in ("disk.raw", "vmlinuz", "initrd.img"))]
    if not entries:
        raise VmError("no image for Debian %s in %s: run tests/vm/build.sh %s" % (release, CACHE, release))
    return max(entries, key=os.path.getmtime)


def load(name):
    path = os.path.join(run_dir(name), "instance.json")
    try:
        with open(path) as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise VmError("no instance %r (no %s)" % (name, path))


def qemu_pid(directory):
    """qemu's pid from the pidfile, only while that process is qemu running this instance's overlay."""
    try:
        with open(os.path.join(directory, "qemu.pid")) as handle:
            pid = int(handle.read().strip())
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            cmdline = handle.read().decode(errors="replace")
    except (OSError, ValueError):
        return None
    return pid if os.path.join(directory, "overlay.qcow2") in cmdline else None


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ssh_argv(info, command, tty=False):
    argv = ["ssh"] + SSH_OPTIONS + ["-i", info["key"], "-p", str(info["port"]), "%s@127.0.0.1" % info["user"]]
    if tty:
        argv.insert(1, "-t")
    return argv + ["--"] + [" ".join(shlex.quote(word) for word in command)] if command else argv


def ssh_output(info, command, timeout=30):
    result = subprocess.run(ssh_argv(info, command), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, timeout=timeout, check=False)
    return result.returncode, result.stdout.decode(errors="replace")


def console_tail(directory, lines=15):
    try:
        with open(os.path.join(directory, "console.log"), errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return "(no console log)"


def accel():
    # Nested KVM hangs here at "Booting from ROM"; TCG always works. TCPTUNE_VM_ACCEL=kvm to try KVM.
    return os.environ.get("TCPTUNE_VM_ACCEL", "tcg")


def new_overlay(name, image):
    """A fresh run directory for ``name`` with a copy-on-write overlay of ``image``'s disk (image_dir).
    Returns (directory, overlay)."""
    directory = run_dir(name)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    overlay = os.path.join(directory, "overlay.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", os.path.join(image, "disk.raw"), "-F", "raw",
                    overlay], check=True)
    return directory, overlay


def qemu_argv(name, directory, image, overlay, port, memory_mb, smp, extra=()):
    """The one qemu command line of a guest: its kernel and disk, ssh forwarded from 127.0.0.1:``port``, a second
    user-mode NIC, the console to console.log, daemonized; ``extra`` adds arguments (bench's tap NIC)."""
    return (["qemu-system-x86_64", "-name", "tcptune-" + name, "-accel", accel(), "-cpu", "max",
             "-smp", str(smp), "-m", str(memory_mb),
             "-kernel", os.path.join(image, "vmlinuz"), "-initrd", os.path.join(image, "initrd.img"),
             "-append", "root=/dev/vda rw console=ttyS0 net.ifnames=0 panic=-1",
             "-drive", "file=%s,if=virtio,format=qcow2" % overlay,
             "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:22" % port,
             "-device", "virtio-net-pci,netdev=n0,romfile=",
             "-netdev", "user,id=n1", "-device", "virtio-net-pci,netdev=n1,romfile="]
            + list(extra)
            + ["-display", "none", "-vga", "none", "-monitor", "none",
               "-serial", "file:" + os.path.join(directory, "console.log"),
               "-pidfile", os.path.join(directory, "qemu.pid"), "-daemonize"])


def save_instance(directory, info):
    """instance.json: what wait, ssh, reboot and stop read."""
    with open(os.path.join(directory, "instance.json"), "w") as handle:
        json.dump(info, handle)


def start(name, release, memory_mb=2048, smp=1, port="auto"):
    if qemu_pid(run_dir(name)):
        raise VmError("instance %r is already running (vm.py stop %s)" % (name, name))
    image = image_dir(release)  # no image: say so before anything else
    if not os.access(KEY, os.R_OK):
        raise VmError("no ssh key %s: run tests/vm/build.sh" % KEY)
    directory, overlay = new_overlay(name, image)
    last_error = ""
    for _attempt in range(5):  # an "auto" port can be taken between free_port() and qemu's bind
        chosen = free_port() if port == "auto" else int(port)
        argv = qemu_argv(name, directory, image, overlay, chosen, memory_mb, smp)
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                check=False)
        if result.returncode == 0:
            break
        last_error = result.stdout.decode(errors="replace").strip()
        if port != "auto" or "hostfwd" not in last_error:
            break
    else:
        result = None
    if result is None or result.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        raise VmError("qemu did not start for %s: %s" % (name, last_error))
    info = {"name": name, "port": chosen, "key": KEY, "user": USER, "release": release,
            "image": image, "memory_mb": memory_mb, "smp": smp}
    save_instance(directory, info)
    log("started %s: Debian %s, %d MB, %d vCPU, ssh 127.0.0.1:%d, qemu pid %s"
        % (name, release, memory_mb, smp, chosen, qemu_pid(directory)))
    return info


def boot_id(info):
    try:
        rc, out = ssh_output(info, ["cat", "/proc/sys/kernel/random/boot_id"], timeout=20)
    except subprocess.TimeoutExpired:
        return None
    return out.strip() if rc == 0 and out.strip() else None


def wait(name, timeout=300, not_boot=None):
    """Until ssh answers (with a boot id other than not_boot); returns the boot id."""
    info = load(name)
    directory = run_dir(name)
    deadline = time.monotonic() + timeout
    began = time.monotonic()
    while True:
        if not qemu_pid(directory):
            raise VmError("qemu of %s is not running; console:\n%s" % (name, console_tail(directory)))
        current = boot_id(info)
        if current and current != not_boot:
            log("%s answers ssh after %.0f s (boot %s)" % (name, time.monotonic() - began, current[:8]))
            return current
        if time.monotonic() > deadline:
            raise VmError("%s: no ssh within %d s; console:\n%s" % (name, timeout, console_tail(directory)))
        time.sleep(2)


def reboot(name, timeout=300):
    info = load(name)
    before = boot_id(info)
    if not before:
        raise VmError("%s does not answer ssh before the reboot" % name)
    try:
        ssh_output(info, ["systemctl", "reboot"], timeout=20)
    except subprocess.TimeoutExpired:
        pass  # the connection may hang while the guest goes down
    return wait(name, timeout=timeout, not_boot=before)


def stop(name):
    directory = run_dir(name)
    pid = qemu_pid(directory)
    if pid:
        os.kill(pid, signal.SIGTERM)
        for _poll in range(50):
            if not qemu_pid(directory):
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
        log("stopped %s (qemu pid %d)" % (name, pid))
    if os.path.isdir(directory):
        shutil.rmtree(directory, ignore_errors=True)


def instances():
    return sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(RUN, "*", "instance.json")))


def inventory_line(info):
    return ("%s ansible_host=127.0.0.1 ansible_port=%d ansible_user=%s ansible_ssh_private_key_file=%s "
            "ansible_ssh_common_args='%s'"
            % (info["name"], info["port"], info["user"], info["key"], " ".join(SSH_OPTIONS)))


def inventory_host(info):
    return {"ansible_host": "127.0.0.1", "ansible_port": info["port"], "ansible_user": info["user"],
            "ansible_ssh_private_key_file": info["key"], "ansible_ssh_common_args": " ".join(SSH_OPTIONS),
            "ansible_python_interpreter": "/usr/bin/python3"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("start")
    p.add_argument("name")
    p.add_argument("--release", required=True, choices=RELEASES)
    p.add_argument("--memory-mb", type=int, default=2048)
    p.add_argument("--smp", type=int, default=1)
    p.add_argument("--port", default="auto")
    p = sub.add_parser("wait")
    p.add_argument("name")
    p.add_argument("--timeout", type=int, default=300)
    p = sub.add_parser("ssh")
    p.add_argument("name")
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    p = sub.add_parser("scp-to")
    p.add_argument("name")
    p.add_argument("src")
    p.add_argument("dst")
    p = sub.add_parser("reboot")
    p.add_argument("name")
    p.add_argument("--timeout", type=int, default=300)
    p = sub.add_parser("stop")
    p.add_argument("names", nargs="*")
    p.add_argument("--all", action="store_true")
    p = sub.add_parser("inventory")
    p.add_argument("names", nargs="+")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("instance-config")
    p.add_argument("names", nargs="*")
    sub.add_parser("list")
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            info = start(args.name, args.release, args.memory_mb, args.smp, args.port)
            print(json.dumps(dict((k, info[k]) for k in ("name", "port", "key", "user"))))
        elif args.command == "wait":
            wait(args.name, args.timeout)
        elif args.command == "ssh":
            command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
            return subprocess.call(ssh_argv(load(args.name), command))
        elif args.command == "scp-to":
            info = load(args.name)
            target = "%s@127.0.0.1:%s" % (info["user"], args.dst)
            argv = ["scp", "-q", "-O"] + SSH_OPTIONS + ["-i", info["key"], "-P", str(info["port"]), args.src, target]
            return subprocess.call(argv)
        elif args.command == "reboot":
            reboot(args.name, args.timeout)
        elif args.command == "stop":
            names = instances() if args.all else args.names
            if args.all:  # also directories left without instance.json by a failed start
                names = sorted(set(names) | set(os.path.basename(d) for d in glob.glob(os.path.join(RUN, "*"))))
            for name in names:
                stop(name)
        elif args.command == "inventory":
            infos = [load(name) for name in args.names]
            if args.json:
                print(json.dumps({"all": {"hosts": dict((i["name"], inventory_host(i)) for i in infos)}}, indent=2))
            else:
                print("\n".join(inventory_line(i) for i in infos))
        elif args.command == "instance-config":
            print(json.dumps([{"instance": i["name"], "address": "127.0.0.1", "user": i["user"], "port": i["port"],
                               "identity_file": i["key"]} for i in (load(name) for name in args.names)], indent=2))
        elif args.command == "list":
            for name in instances():
                info = load(name)
                pid = qemu_pid(run_dir(name))
                state = "pid=%d" % pid if pid else "NOT RUNNING"
                print("%s release=%s port=%d %s" % (name, info["release"], info["port"], state))
    except VmError as error:
        log("ERROR: %s" % error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
