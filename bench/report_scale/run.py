"""Report scale: the fleet report's page at 500, 5 000 and 10 000 hosts, and the controller's memory while
the report play writes a 10 000-host report (#21).

    python3 bench/report_scale/run.py [--sizes 500,5000,10000] [--baseline REV] [--baseline-sizes 500,5000]
                                      [--play-hosts 10000] [--repeats 3] [--smoke]

1. Page. For each size a synthetic fleet (tests/integration/report_synthetic.py: facts that differ from host
   to host -> the collection's own diagnosis and sizing, every status), build_report, render_html; one
   headless Chromium (tests/integration/chromium_cdp.py) opens each page from disk, --repeats times:
   first contentful paint (Paint Timing), ready (load and two frames), a status-filter click, opening a
   host's details and sorting by status, each until two frames after the click. Also: the render time,
   the size of report.json and whether it validates against docs/report-schema.json. The same for the
   renderer of --baseline (a git revision; default: the commit before #21) at --baseline-sizes, in the
   same run, so the two are side by side.
2. Controller. ansible-playbook with --play-hosts inventory hosts: a play on localhost sets each host's
   record (what tune_tcp.yml records: tcp_tuning_result, tcp_tuning_failure, tcp_tuning_unreachable) as
   its facts, and the play hosts once on localhost; then the report play of playbooks/tune_tcp.yml as it
   is in the checkout (text copied from the file). The RSS of ansible-playbook and all its children is
   sampled every 0.2 s (/proc/<pid>/status VmRSS, smaps_rollup Pss); reported: the largest process
   before the report play (ansible-playbook holding the facts), then during the report play the largest
   process, the summed PSS and the summed RSS (forked workers share pages, so the RSS sum counts them
   more than once), and the report task's time. The same with the report play of --baseline run
   against that revision's collection (git archive), side by side.

Needs .venv (ansible) for part 2 and chromium for part 1; a part that cannot run says why.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import types

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from bench.lib.output import emit  # noqa: E402
from bench.lib.playbook import collections_path, module_utils, venv  # noqa: E402
from bench.fleet_run.run import checkout  # noqa: E402
from bench.lib.proctree import TreeSampler  # noqa: E402

BASELINE = "f5c0bca"  # the last commit before #21: one 80 MB page at 10 000 hosts, the module via AnsiballZ
PLAYBOOK = os.path.join(REPO, "playbooks", "tune_tcp.yml")
REPORT_PLAY = "- name: Write the fleet report on the controller"
SCHEMA = os.path.join(REPO, "docs", "report-schema.json")
TARGETS = {"first_paint_ms": 2000, "filter_click_ms": 2000, "page_mb": 10.0}  # at 10 000 hosts (#21)
PAGE_COLUMNS = ("renderer", "hosts", "page_mb", "render_s", "first_paint_ms", "ready_ms", "filter_click_ms",
                "open_host_ms", "sort_ms", "json_mb", "json_valid")
PLAY_COLUMNS = ("report_play", "hosts", "report_task_s", "main_before_mb", "largest_process_mb", "pss_peak_mb",
                "rss_peak_mb", "playbook_s")


# ---------------------------------------------------------------- renderers

def baseline_report_module(rev, workdir):
    """The report module_utils of ``rev`` as a module object (it imports only the standard library), or None."""
    done = subprocess.run(["git", "-C", REPO, "show", "%s:plugins/module_utils/report.py" % rev],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return None
    path = os.path.join(workdir, "baseline_report_%s.py" % rev)
    with open(path, "w") as handle:
        handle.write(done.stdout)
    import importlib.util  # pylint: disable=import-outside-toplevel
    spec = importlib.util.spec_from_file_location("baseline_report_%s" % rev, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def validate_json(path):
    """True/False when docs/report-schema.json accepts/refuses ``path``; None when no jsonschema is at hand."""
    code = ("import json,sys,jsonschema;jsonschema.validate(json.load(open(sys.argv[1])),json.load(open(sys.argv[2])))")
    for python in [sys.executable] + ([os.path.join(venv(), "bin", "python")] if venv() else []):
        if subprocess.run([python, "-c", "import jsonschema"], capture_output=True, check=False).returncode == 0:
            return subprocess.run([python, "-c", code, path, SCHEMA], capture_output=True, check=False).returncode == 0
    return None


# ---------------------------------------------------------------- part 1: the page

def measure_page(browser, path, repeats):
    """Medians over ``repeats`` fresh loads of the page at ``path``."""
    samples = {"first_paint_ms": [], "ready_ms": [], "filter_click_ms": [], "open_host_ms": [], "sort_ms": []}
    for dummy in range(repeats):
        opened = browser.open_timed("file://" + path)
        samples["first_paint_ms"].append(opened["first_paint_ms"])
        samples["ready_ms"].append(opened["ready_ms"])
        samples["filter_click_ms"].append(browser.timed_click('.filters button[data-status="failed"]'))
        browser.timed_click('.filters button[data-status=""]')
        if browser.evaluate("document.querySelector('#hosts button.hn')!==null"):  # the page of #21
            samples["open_host_ms"].append(browser.timed_click("#hosts button.hn"))
        samples["sort_ms"].append(browser.timed_click("#hosts thead th:nth-child(2)"))
    browser.evaluate("1")
    errors = browser.errors()
    browser.events = []
    out = dict((name, round(statistics.median(values), 1) if values else None) for name, values in samples.items())
    out["samples"] = samples
    out["console_errors"] = errors
    return out


def page_rows(sizes, baseline, baseline_sizes, repeats, workdir):
    from report_synthetic import fleet  # pylint: disable=import-outside-toplevel
    ours = types.SimpleNamespace(build_report=module_utils("report").build_report,
                                 render_html=module_utils("report_html").render_html,
                                 render_json=module_utils("report_text").render_json)
    renderers = [("ours", ours, sizes)]
    old = baseline_report_module(baseline, workdir) if baseline else None
    if baseline and old is None:
        print("baseline %s: not in this checkout's history (shallow clone?): left out" % baseline, file=sys.stderr)
    if old is not None:
        renderers.append(("baseline " + baseline, old, baseline_sizes))
    try:
        from chromium_cdp import CHROMIUM, Browser  # pylint: disable=import-outside-toplevel
        browser = Browser() if os.access(CHROMIUM, os.X_OK) else None
    except (OSError, RuntimeError) as error:
        print("chromium did not start: %s" % error, file=sys.stderr)
        browser = None
    if browser is None:
        print("no chromium (apt-get install chromium): page timings left out", file=sys.stderr)
    rows, details = [], []
    try:
        for size in sorted(set(sizes) | set(baseline_sizes if old else [])):
            results, failures, unreachable, play_hosts = fleet(size)
            for name, module, wanted in renderers:
                if size not in wanted:
                    continue
                began = time.monotonic()
                built = module.build_report(results, "Synthetic fleet of %d hosts" % size, failures, unreachable,
                                            play_hosts)
                page = module.render_html(built)
                render_s = time.monotonic() - began
                path = os.path.join(workdir, "%s-%d.html" % (name.split()[0], size))
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(page)
                json_path = os.path.join(workdir, "%s-%d.json" % (name.split()[0], size))
                with open(json_path, "w", encoding="utf-8") as handle:
                    handle.write(module.render_json(built))
                del page, built
                row = {"renderer": name, "hosts": size, "page_mb": round(os.path.getsize(path) / 1e6, 2),
                       "render_s": round(render_s, 2), "json_mb": round(os.path.getsize(json_path) / 1e6, 1),
                       "json_valid": validate_json(json_path) if name == "ours" else None}
                measured = measure_page(browser, path, repeats) if browser else {}
                row.update((column, measured.get(column)) for column in PAGE_COLUMNS if column in measured)
                rows.append(row)
                details.append({"renderer": name, "hosts": size, "measured": measured})
                print("%s, %d hosts: %s" % (name, size, dict((k, row.get(k)) for k in PAGE_COLUMNS[2:])))
                os.remove(json_path)
    finally:
        if browser:
            browser.close()
    return rows, details


# ---------------------------------------------------------------- part 2: the controller

def report_play_text(playbook_text):
    """The report play: the last play of tune_tcp.yml, as written."""
    return playbook_text[playbook_text.index(REPORT_PLAY):]


RECORD_PLAY = """---
- name: Set what tune_tcp.yml records for every host, as its facts
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Record each host
      ansible.builtin.set_fact:
        tcp_tuning_result: "{{ record.tcp_tuning_result }}"
        tcp_tuning_failure: "{{ record.tcp_tuning_failure }}"
        tcp_tuning_unreachable: "{{ record.tcp_tuning_unreachable }}"
      vars:
        record: "{{ lookup('ansible.builtin.file', records ~ '/' ~ item ~ '.json') | from_json }}"
      delegate_to: "{{ item }}"
      delegate_facts: true
      loop: "{{ groups['fleet'] }}"
      loop_control: {label: "{{ item }}"}
    - name: Record the play hosts once
      ansible.builtin.set_fact:
        tcp_tuning_play_hosts: "{{ groups['fleet'] }}"
        tcp_tuning_report_dest: "{{ tcp_tuning_report_dir }}"

"""


def write_fleet(size, workdir):
    """Inventory and per-host records of a synthetic fleet of ``size`` hosts; returns (inventory, records dir)."""
    from report_synthetic import fleet  # pylint: disable=import-outside-toplevel
    results, failures, unreachable, play_hosts = fleet(size)
    records = os.path.join(workdir, "records")
    os.makedirs(records, exist_ok=True)
    for name in play_hosts:
        with open(os.path.join(records, name + ".json"), "w") as handle:
            json.dump({"tcp_tuning_result": results.get(name), "tcp_tuning_failure": failures.get(name),
                       "tcp_tuning_unreachable": unreachable.get(name)}, handle)
    inventory = os.path.join(workdir, "inventory.ini")
    with open(inventory, "w") as handle:
        handle.write("[fleet]\n" + "".join(name + "\n" for name in play_hosts))
        handle.write("[fleet:vars]\nansible_connection=local\n")
    return inventory, records


def run_report_play(label, size, playbook_text, collections, workdir, inventory, records):
    """One ansible-playbook run: the record play, then the report play; returns the row."""
    playbook = os.path.join(workdir, "report-%s.yml" % label.split()[0])
    with open(playbook, "w") as handle:
        handle.write(RECORD_PLAY + report_play_text(playbook_text))
    report_dir = os.path.join(workdir, "report-" + label.split()[0])
    env_dir = venv()
    argv = [os.path.join(env_dir, "bin", "ansible-playbook"), "-i", inventory, playbook,
            "-e", "records=%s" % records, "-e", "tcp_tuning_report_dir=%s" % report_dir]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="False",
               PATH=os.path.join(env_dir, "bin") + os.pathsep + os.environ.get("PATH", ""))
    began = time.monotonic()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=workdir)
    sampler = TreeSampler(process.pid)
    sampler.start()
    marks, lines = {}, []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("PLAY [Write the fleet report"):
            marks["report_play"] = time.monotonic()
        elif line.startswith("TASK [Render the report"):
            marks["report_task"] = time.monotonic()
        elif line.startswith("TASK [Show where the report is"):
            marks["report_done"] = time.monotonic()
    returncode = process.wait()
    sampler.stop()
    elapsed = time.monotonic() - began
    if returncode != 0 or "report_done" not in marks:
        raise RuntimeError("%s report play failed (rc %d):\n%s" % (label, returncode, "".join(lines[-40:])))
    before = sampler.peak_mib(until=marks["report_play"])
    during = sampler.peak_mib(since=marks["report_play"])
    with open(os.path.join(report_dir, "report.json")) as handle:
        hosts = json.load(handle)["summary"]["hosts"]
    if hosts != size:
        raise RuntimeError("%s: the report has %d hosts, not %d" % (label, hosts, size))
    return {"report_play": label, "hosts": size, "report_task_s": round(marks["report_done"] - marks["report_task"], 1),
            "main_before_mb": before["largest"], "largest_process_mb": during["largest"],
            "pss_peak_mb": during["pss_sum"], "rss_peak_mb": during["rss_sum"], "main_hwm_mb": during["main_hwm"],
            "playbook_s": round(elapsed, 1),
            "page_mb": round(os.path.getsize(os.path.join(report_dir, "report.html")) / 1e6, 2)}


def baseline_collections(rev, workdir):
    """A collections root holding ``rev`` of this repository as tcptune.linux, or None."""
    root = os.path.join(workdir, "baseline-collections")
    tree = os.path.join(root, "ansible_collections", "tcptune", "linux")
    os.makedirs(tree)
    archive = subprocess.run(["git", "-C", REPO, "archive", rev], capture_output=True, check=False)
    if archive.returncode != 0:
        return None, None
    subprocess.run(["tar", "-x", "-C", tree], input=archive.stdout, check=True)
    with open(os.path.join(tree, "playbooks", "tune_tcp.yml")) as handle:
        return root, handle.read()


def play_rows(size, baseline, workdir):
    if venv() is None:
        print("no venv with ansible (make venv): the controller part is left out", file=sys.stderr)
        return []
    inventory, records = write_fleet(size, workdir)
    with open(PLAYBOOK) as handle:
        ours = handle.read()
    runs = [("ours", collections_path(), ours)]
    if baseline:
        root, text = baseline_collections(baseline, workdir)
        if root:
            runs.append(("baseline " + baseline, root, text))
    rows = []
    for label, collections, text in runs:
        row = run_report_play(label, size, text, collections, workdir, inventory, records)
        print("%s report play, %d hosts: %s" % (label, size, row))
        rows.append(row)
    shutil.rmtree(records, ignore_errors=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 bench/report_scale/run.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="500,5000,10000", help="fleet sizes of our page")
    parser.add_argument("--baseline", default=BASELINE, help="git revision to compare with ('' for none)")
    parser.add_argument("--baseline-sizes", default="500,5000", help="fleet sizes of the baseline's page")
    parser.add_argument("--play-hosts", type=int, default=10000, help="hosts of the report play run (0: none)")
    parser.add_argument("--repeats", type=int, default=3, help="page loads per size, medians reported")
    parser.add_argument("--smoke", action="store_true", help="30 and 500 hosts, one load, a 30-host play (CI)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.smoke:
        args.sizes, args.baseline_sizes, args.play_hosts, args.repeats = "30,500", "30", 30, 1
    sizes = [int(part) for part in args.sizes.split(",") if part]
    baseline_sizes = [int(part) for part in args.baseline_sizes.split(",") if part]
    sys.path.insert(0, collections_path())  # this checkout as tcptune.linux, for the synthetic fleet's imports
    workdir = tempfile.mkdtemp(prefix="bench-report-scale-")
    try:
        pages, page_details = page_rows(sizes, args.baseline, baseline_sizes, args.repeats, workdir)
        plays = play_rows(args.play_hosts, args.baseline, workdir) if args.play_hosts else []
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    largest = max(sizes)
    ours = [row for row in pages if row["renderer"] == "ours" and row["hosts"] == largest]
    met = None
    if ours and ours[0].get("first_paint_ms") is not None:
        met = all(ours[0][name] <= limit for name, limit in TARGETS.items())
    name = "report_scale" + ("-smoke" if args.smoke else "")
    full = " --sizes %s --baseline-sizes %s --play-hosts %d --repeats %d" % (
        args.sizes, args.baseline_sizes, args.play_hosts, args.repeats)
    command = "python3 bench/report_scale/run.py" + (" --smoke" if args.smoke else full)
    emit(name, PAGE_COLUMNS, pages, report_play=plays, report_play_columns=PLAY_COLUMNS, page_runs=page_details,
         targets_at_largest=TARGETS, largest=largest, targets_met=met, baseline=args.baseline, checkout=checkout(),
         loadavg_at_end=os.getloadavg(), command=command)
    from bench.lib.output import table  # pylint: disable=import-outside-toplevel
    if plays:
        print(table(PLAY_COLUMNS, plays))
    if not args.smoke and met is False:
        print("targets at %d hosts missed: %s" % (largest, TARGETS), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
