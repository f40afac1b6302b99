"""Print a benchmark table and write its JSON next to the other results."""

import json
import os
import platform
import time
from typing import Any, Dict, List, Sequence

RESULTS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "results")


def machine() -> Dict[str, Any]:
    """Where and when the figures were taken, for the results table."""
    with open("/proc/meminfo") as meminfo:
        mem_kib = int(meminfo.readline().split()[1])
    return {
        "kernel": platform.release(),
        "cpus": os.cpu_count(),
        "mem_gib": round(mem_kib / 1048576, 1),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def table(columns: Sequence[str], rows: List[Dict[str, Any]]) -> str:
    """A plain aligned text table of ``rows`` (dicts) in ``columns`` order."""
    cells = [[_cell(row.get(col)) for col in columns] for row in rows]
    widths = [max([len(col)] + [len(line[i]) for line in cells]) for i, col in enumerate(columns)]
    lines = ["  ".join(col.ljust(widths[i]) for i, col in enumerate(columns)),
             "  ".join("-" * width for width in widths)]
    lines += ["  ".join(line[i].ljust(widths[i]) for i in range(len(columns))) for line in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "%.3g" % value if abs(value) < 100 else "%.0f" % value
    return str(value)


def emit(name: str, columns: Sequence[str], rows: List[Dict[str, Any]], **extra: Any) -> str:
    """Print the table and write results/<name>.json; returns the JSON path."""
    print(table(columns, rows))
    os.makedirs(RESULTS_DIR, exist_ok=True)
    path = os.path.join(RESULTS_DIR, name + ".json")
    document = {"benchmark": name, "machine": machine(), "rows": rows}
    document.update(extra)
    with open(path, "w") as handle:
        json.dump(document, handle, indent=2, sort_keys=True)
    print("wrote %s" % path)
    return path
