"""/metrics: Prometheus' text format from the bot's current state, read at scrape time.

A custom collector in a registry of its own per web app (no global registry): nothing is updated on the
hot path except the in-memory counts of bot.web.activity, and two servers in one process never share
series.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from bot.config import Monitor
from bot.store import Store
from bot.web.activity import LATENCY_BUCKETS, Activity, CheckResultKind


class StateCollector(Collector):
    """Every series from the store's current rows and the activity counts."""

    def __init__(self, *, store: Store, monitors: Sequence[Monitor], activity: Activity | None,
                 problems: Callable[[], list[str]] | None) -> None:
        self._store = store
        self._monitors = monitors
        self._activity = activity
        self._problems = problems

    def describe(self) -> Iterable[Metric]:
        return []  # nothing to describe up front: collect() runs only at scrape time

    def collect(self) -> Iterable[Metric]:
        store = self._store
        # One series per component: its status word as a label, its severity as the value (alert on >= 2)
        status = GaugeMetricFamily("downwatch_component_status",
                                   "Each component's current status (label) and severity (value): -1 unknown, "
                                   "0 operational, 1 under maintenance, 2 degraded, 3 partial outage, 4 major outage",
                                   labels=["monitor", "component", "status"])
        for view in store.component_views():
            status.add_metric([view.monitor, view.name, view.status.value], view.status.rank)
        yield status

        names = [m.name for m in self._monitors]
        open_by = {i.monitor for i in store.open_incidents()}
        incident = GaugeMetricFamily("downwatch_monitor_open_incident", "1 while the monitor has an open incident",
                                     labels=["monitor"])
        for name in names:
            incident.add_metric([name], 1 if name in open_by else 0)
        yield incident

        unreadable = store.unreadable_monitors()
        sources = GaugeMetricFamily("downwatch_sources_unreadable", "Monitors whose source cannot be read")
        sources.add_metric([], len(unreadable))
        yield sources
        which = GaugeMetricFamily("downwatch_monitor_unreadable", "1 while the monitor's source cannot be read",
                                  labels=["monitor"])
        for name in unreadable:
            which.add_metric([name], 1)
        yield which

        outbox = store.outbox_health()
        pending = GaugeMetricFamily("downwatch_outbox_pending_rows", "Outbox rows not yet delivered",
                                    labels=["platform"])
        retrying = GaugeMetricFamily("downwatch_outbox_retrying_rows",
                                     "Pending outbox rows whose delivery failed at least once", labels=["platform"])
        failed = GaugeMetricFamily("downwatch_outbox_failed_rows",
                                   "Outbox rows the platform refused for good (kept until retention)",
                                   labels=["platform"])
        for box in outbox:
            pending.add_metric([box.platform], box.pending)
            retrying.add_metric([box.platform], box.retrying)
            failed.add_metric([box.platform], box.failed)
        yield pending
        yield retrying
        yield failed

        if self._problems is not None:
            healthy = GaugeMetricFamily("downwatch_healthy", "1 while /healthz answers 200")
            healthy.add_metric([], 0 if self._problems() else 1)
            yield healthy

        activity = self._activity
        if activity is None:
            return
        checks = CounterMetricFamily("downwatch_checks", "Checks since start by result", labels=["result"])
        for result in (CheckResultKind.READABLE, CheckResultKind.UNREADABLE, CheckResultKind.SKIPPED):
            checks.add_metric([result], activity.checks.get(result, 0))
        yield checks
        last = GaugeMetricFamily("downwatch_monitor_last_check_timestamp_seconds",
                                 "When the monitor's last check completed (Unix time)", labels=["monitor"])
        for name in names:
            at = activity.last_check.get(name)
            if at is not None:
                last.add_metric([name], at.timestamp())
        yield last
        # Per check kind, not per monitor: 13 series per monitor would be most of a 10,000-monitor scrape;
        # a monitor's own latency is on its page (hourly rollups).
        latency = HistogramMetricFamily("downwatch_probe_latency_seconds",
                                        "Time each check took to get its answer, since start, by check kind",
                                        labels=["kind"])
        for name, histogram in sorted(activity.latency.items()):
            running = 0
            buckets: list[tuple[str, float]] = []
            for bound, count in zip((*LATENCY_BUCKETS, float("inf")), histogram.counts, strict=True):
                running += count
                buckets.append(("+Inf" if bound == float("inf") else repr(bound), running))
            latency.add_metric([name], buckets, histogram.total)
        yield latency


def registry(collector: StateCollector) -> CollectorRegistry:
    """A registry of its own (auto_describe off: registering must not run a collection)."""
    own = CollectorRegistry(auto_describe=False)
    own.register(collector)
    return own


def exposition(own: CollectorRegistry) -> bytes:
    """The text format 0.0.4 exactly as prometheus_client's generate_latest writes it (a test compares them),
    without its per-sample name validation: our metric and label names are fixed and valid, so only label
    values are escaped. generate_latest spends ~15 µs a sample, seconds for 10,000 monitors' series."""
    out: list[str] = []
    numbers: dict[float, str] = {}
    for metric in own.collect():
        name, kind = metric.name, metric.type
        if kind == "counter":
            name += "_total"
        help_ = metric.documentation.replace("\\", r"\\").replace("\n", r"\n")
        out.append(f"# HELP {name} {help_}\n# TYPE {name} {kind}\n")
        for sample in metric.samples:
            value = numbers.get(sample.value)
            if value is None:
                value = numbers[sample.value] = floatToGoString(sample.value)
            if sample.labels:
                labels = ",".join([f'{key}="{_escape(text)}"' for key, text in sorted(sample.labels.items())])
                out.append(f"{sample.name}{{{labels}}} {value}\n")
            else:
                out.append(f"{sample.name} {value}\n")
    return "".join(out).encode()


def _escape(text: str) -> str:
    if "\\" in text or "\n" in text or '"' in text:
        return text.replace("\\", r"\\").replace("\n", r"\n").replace('"', r'\"')
    return text


def reference(own: CollectorRegistry) -> bytes:
    """prometheus_client's own writer (the tests hold `exposition` to it)."""
    return generate_latest(own)
