"""Memory of a process and all its descendants over time, read from /proc (no psutil).

Used by report_scale and fleet_run to give the controller's peak memory during an ansible-playbook run:
ansible-playbook forks a worker per task and host, and a module delegated to the controller runs in a
process of its own, so the main process's VmHWM alone misses part of it.
"""

import os
import threading
import time
from typing import Dict, List, Optional, Tuple


def descendants(pid: int) -> List[int]:
    """``pid`` and every process below it, from each process's parent in /proc/<pid>/stat."""
    children: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        children.setdefault(parent, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def kib(path: str, name: str) -> int:
    """The ``name:`` field of a /proc status-like file in KiB; 0 when the process is gone."""
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeSampler(threading.Thread):
    """Samples (time, summed RSS, summed PSS, largest RSS, main VmHWM), in KiB, every ``interval`` s.

    The summed RSS counts pages that forked workers share with ansible-playbook once per process; the
    summed PSS divides shared pages among the processes that share them, so it is the tree's memory."""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: List[Tuple[float, int, int, int, int]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            pids = descendants(self.pid)
            rss = [kib("/proc/%d/status" % pid, "VmRSS") for pid in pids]
            pss = sum(kib("/proc/%d/smaps_rollup" % pid, "Pss") for pid in pids)
            self.samples.append((time.monotonic(), sum(rss), pss, max(rss or [0]),
                                 kib("/proc/%d/status" % self.pid, "VmHWM")))
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()
        self.join()

    def peak_mib(self, since: float = 0.0, until: Optional[float] = None) -> Dict[str, Optional[int]]:
        """Peaks between two monotonic times: rss_sum, pss_sum, largest (one process) and main_hwm, in MiB."""
        window = [s for s in self.samples if s[0] >= since and (until is None or s[0] < until)]
        if not window:
            return {"rss_sum": None, "pss_sum": None, "largest": None, "main_hwm": None}
        return dict((name, round(max(sample[index] for sample in window) / 1024.0))
                    for index, name in ((1, "rss_sum"), (2, "pss_sum"), (3, "largest"), (4, "main_hwm")))
