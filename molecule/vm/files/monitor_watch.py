"""Run seed 000's load (guest_load.py) and watch what the monitoring sees, INSIDE a VM guest as root.

    monitor_watch.py --load-args "--connections 1000 --bytes 131072 --timeout 120 --hold 40"
                     [--tcp-mem "200 300 400"] [--expect-alert] [--end-hold-after-firing 6] [--settle 30]

Every 2 s while the load runs and after it: the collector's textfile (tcptune.prom), a real scrape of
node_exporter (127.0.0.1:9100/metrics) and the Prometheus server's /api/v1/alerts. With --tcp-mem the
load runs with that tcp_mem and the original is written back when it ends (seed 000 on a small scale).
With --expect-alert it then waits until the alert has fired and resolved (bounded); without, it watches
--settle seconds more. --end-hold-after-firing S: S seconds after the alert fires, SIGUSR1 ends the load's
--hold early (the load's --hold is then only a bound). Prints one JSON document: the load's own JSON, the first time each thing was
seen (epoch seconds and UTC), every sample, Prometheus' ALERTS history over the run (query_range) and
the tcptune lines of a scrape taken while the finding was up and of the last one. Stdlib only.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TEXTFILE = "/var/lib/prometheus/node-exporter/tcptune.prom"
EXPORTER = "http://127.0.0.1:9100/metrics"
PROMETHEUS = "http://127.0.0.1:9090"
ALERT = "TcptuneTcpMemoryPressure"
FINDING = 'tcptune_finding{finding="tcp_memory_pressure"'
KEEP = ("tcptune_finding{finding=\"tcp_memory_pressure\"", "tcptune_tcp_memory_bytes", "tcptune_tcp_mem_",
        "tcptune_tcp_memory_pressures_total", "tcptune_tcp_aborts_on_memory_total",
        "tcptune_collector_last_success", "tcptune_collector_rate_window", "node_textfile_scrape_error")


def utc(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def http(url, timeout=5):
    try:
        return urllib.request.urlopen(url, timeout=timeout).read().decode("utf-8", "replace")
    except (OSError, ValueError):
        return None


def finding_of(text):
    """(value, severity) of the tcp_memory_pressure gauge in an exposition text, or None."""
    for line in (text or "").splitlines():
        if line.startswith(FINDING):
            severity = line.split('severity="', 1)[1].split('"', 1)[0]
            return int(float(line.rsplit(" ", 1)[1])), severity
    return None


def alerts():
    body = http(PROMETHEUS + "/api/v1/alerts")
    if body is None:
        return None
    return [{"state": item["state"], "severity": item["labels"].get("severity"), "activeAt": item.get("activeAt"),
             "value": item.get("value"), "summary": item.get("annotations", {}).get("summary")}
            for item in json.loads(body)["data"]["alerts"] if item["labels"].get("alertname") == ALERT]


def tcp_mem(value=None):
    path = "/proc/sys/net/ipv4/tcp_mem"
    if value is not None:
        with open(path, "w") as handle:
            handle.write(value)
    with open(path) as handle:
        return " ".join(handle.read().split())


class Watch:
    def __init__(self):
        self.samples = []
        self.first = {}
        self.scrape_up = None
        self.scrape_last = None

    def mark(self, what, now):
        if what not in self.first:
            self.first[what] = {"epoch": round(now, 1), "utc": utc(now)}

    def sample(self, phase):
        now = time.time()
        textfile = finding_of(open(TEXTFILE).read() if os.path.exists(TEXTFILE) else None)
        scrape = http(EXPORTER, timeout=10)
        exported = finding_of(scrape)
        active = alerts()
        self.samples.append({"t": round(now, 1), "phase": phase, "textfile": textfile, "exporter": exported,
                             "alerts": active})
        if textfile and textfile[0] == 1:
            self.mark("textfile_finding_1", now)
        if exported and exported[0] == 1:
            self.mark("exporter_finding_1", now)
            if self.scrape_up is None:
                self.scrape_up = [line for line in scrape.splitlines() if line.startswith(KEEP)]
        for alert in active or []:
            self.mark("alert_%s_%s" % (alert["severity"], alert["state"]), now)
            self.mark("alert_%s" % alert["state"], now)
        if scrape is not None:
            self.scrape_last = [line for line in scrape.splitlines() if line.startswith(KEEP)]
        return textfile, exported, active


def history(start, end):
    query = urllib.parse.urlencode({"query": 'ALERTS{alertname="%s"}' % ALERT, "start": "%.0f" % start,
                                    "end": "%.0f" % end, "step": "5"})
    body = http(PROMETHEUS + "/api/v1/query_range?" + query, timeout=20)
    if body is None:
        return None
    out = []
    for series in json.loads(body)["data"]["result"]:
        times = [float(point[0]) for point in series["values"]]
        out.append({"severity": series["metric"].get("severity"), "alertstate": series["metric"].get("alertstate"),
                    "from": utc(min(times)), "to": utc(max(times)), "samples": len(times)})
    return sorted(out, key=lambda item: item["from"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--load-args", required=True)
    parser.add_argument("--tcp-mem", help="tcp_mem during the load; the original is written back after it")
    parser.add_argument("--expect-alert", action="store_true")
    parser.add_argument("--fire-timeout", type=float, default=240.0)
    parser.add_argument("--resolve-timeout", type=float, default=240.0)
    parser.add_argument("--settle", type=float, default=30.0)
    parser.add_argument("--end-hold-after-firing", type=float)
    args = parser.parse_args(argv)
    watch = Watch()
    began = time.time()
    original = tcp_mem()
    result = {"tcp_mem_original": original, "began": utc(began)}
    watch.sample("before")
    if args.tcp_mem:
        result["tcp_mem_during"] = tcp_mem(args.tcp_mem)
    load = subprocess.Popen([sys.executable, os.path.join(HERE, "guest_load.py")] + args.load_args.split(),
                            stdout=subprocess.PIPE, universal_newlines=True)
    watch.mark("load_started", time.time())
    try:
        hold_ended = False
        while load.poll() is None:
            watch.sample("load")
            firing = watch.first.get("alert_firing")
            if (args.end_hold_after_firing is not None and firing and not hold_ended
                    and time.time() >= firing["epoch"] + args.end_hold_after_firing):
                load.send_signal(signal.SIGUSR1)
                hold_ended = True
                watch.mark("hold_ended_early", time.time())
            time.sleep(2)
        output = load.communicate()[0]
    finally:
        if args.tcp_mem:
            result["tcp_mem_restored"] = tcp_mem(original)
            watch.mark("tcp_mem_restored", time.time())
    watch.mark("load_ended", time.time())
    result["load"] = json.loads(output)
    deadline = time.time() + args.fire_timeout
    if args.expect_alert:
        while "alert_firing" not in watch.first and time.time() < deadline:
            watch.sample("after")
            time.sleep(2)
        deadline = time.time() + args.resolve_timeout
        while time.time() < deadline:
            textfile, exported, active = watch.sample("after")
            if active == [] and exported and exported[0] == 0 and textfile and textfile[0] == 0:
                watch.mark("resolved", time.time())
                break
            time.sleep(2)
    else:
        deadline = time.time() + args.settle
        while time.time() < deadline:
            watch.sample("after")
            time.sleep(2)
    result.update(events=watch.first, samples=watch.samples, scrape_while_up=watch.scrape_up,
                  scrape_last=watch.scrape_last, alerts_history=history(began - 30, time.time()), ended=utc(time.time()))
    json.dump(result, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
