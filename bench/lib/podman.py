"""Start, use and remove privileged Podman containers from the test bed images."""

import resource
import subprocess
from typing import List, Optional

IMAGE = "localhost/tcptune-debian:12"
NPROC = 32768  # podman caps its own RLIMIT_NPROC at 32768; asking for more fails


def host_nofile() -> int:
    """The host's hard nofile limit: a container cannot be given more."""
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


class Container:
    """A privileged container (own network namespace, writable /proc/sys) that removes itself."""

    def __init__(self, name: str, image: str = IMAGE, extra: Optional[List[str]] = None):
        self.name = name
        self.image = image
        self.extra = extra or []

    def __enter__(self) -> "Container":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    def start(self) -> None:
        self.remove()
        nofile = host_nofile()
        subprocess.run(
            ["podman", "run", "-d", "--name", self.name, "--privileged",
             "--ulimit", "nofile=%d:%d" % (nofile, nofile),
             "--ulimit", "nproc=%d:%d" % (NPROC, NPROC)] + self.extra + [self.image, "sleep", "infinity"],
            check=True, stdout=subprocess.DEVNULL)

    def remove(self) -> None:
        subprocess.run(["podman", "rm", "-f", "-t", "0", self.name],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)

    def exec(self, argv: List[str], check: bool = True, timeout: Optional[float] = None,
             detach: bool = False) -> subprocess.CompletedProcess:
        """Run argv inside the container; returns the completed process with text output."""
        flags = ["-d"] if detach else []
        return subprocess.run(["podman", "exec"] + flags + [self.name] + argv, check=check,
                              capture_output=True, text=True, timeout=timeout)

    def copy_in(self, src: str, dest: str) -> None:
        subprocess.run(["podman", "cp", src, "%s:%s" % (self.name, dest)], check=True)

    def read(self, path: str) -> str:
        return self.exec(["cat", path]).stdout

    def write_sysctl(self, key: str, value: str) -> None:
        """Set a per-netns sysctl inside the container. Refuses fs.*: those change the host."""
        if key.startswith("fs."):
            raise ValueError("%s is global: writing it in a container changes the host" % key)
        self.exec(["sh", "-c", 'echo "$1" > "/proc/sys/$2"', "sh", value, key.replace(".", "/")])
