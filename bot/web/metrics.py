"""/metrics: Prometheus' text format from the bot's current state, read at scrape time.

A custom collector in a registry of its own per web app (no global registry): nothing is updated on the
hot path except the in-memory counts of bot.web.activity, and two servers in one process never share
series. The per-monitor series' text is kept per monitor and written again only for monitors that moved
since the last scrape (bot.web.cache), in blocks compressed once each (bot.web.deflated): a scrape of 10,000
monitors is mostly joins of what is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from bot.config import Monitor
from bot.model import ComponentView
from bot.store import Store
from bot.web.activity import Activity, CheckResultKind, Histogram
from bot.web.cache import Views
from bot.web.deflated import Block, Blocks, plain

STATUS_HELP = ("Each component's current status (label) and severity (value): -1 unknown, 0 operational, "
               "1 under maintenance, 2 degraded, 3 partial outage, 4 major outage")
INCIDENT_HELP = "1 while the monitor has an open incident"
LAST_HELP = "When the monitor's last check completed (Unix time)"
CHUNK = 256  # monitors per kept block of a per-monitor family: ~20 KB of text, compressed in ~50 µs


class StateCollector(Collector):
    """Every series from the store's current rows and the activity counts."""

    def __init__(self, *, store: Store, monitors: Sequence[Monitor], activity: Activity | None,
                 problems: Callable[[], list[str]] | None, views: Views | None = None,
                 role: Callable[[], str] | None = None, chunk: int = CHUNK) -> None:
        """`role`: this process's part in a cluster ("leader", "follower", "unknown"; "" for one process);
        `chunk`: monitors per kept block."""
        self._role = role
        self._chunk = chunk
        self._store = store
        self._names = [m.name for m in monitors]
        self._position = {name: index for index, name in enumerate(self._names)}
        self._activity = activity
        self._problems = problems
        self._views = views or Views(store)
        # The text of the per-monitor series, kept per monitor: (the views it was written from, their
        # component status lines), (open incident line when 0, when 1), (last check time, its line).
        self._status_lines: dict[str, tuple[list[ComponentView], str]] = {}
        self._incident_lines: dict[str, tuple[str, str]] = {}
        self._last_lines: dict[str, tuple[datetime, str]] = {}
        # The per-monitor families as compressed blocks of CHUNK monitors (bot.web.deflated), each kept while
        # nothing it comes from moved: the status family while no monitor's views did, the open incidents
        # while the same monitors have one, and the last check times per chunk until a monitor in it is checked.
        self._blocks = Blocks()
        self._status_family: tuple[object, list[Block]] = (None, [])
        self._incident_family: tuple[set[str] | None, list[Block]] = (None, [])
        self._last_family: list[Block] = []
        self._last_mark: int | None = None

    def describe(self) -> Iterable[Metric]:
        return []  # nothing to describe up front: collect() runs only at scrape time

    def collect(self) -> Iterable[Metric]:
        # One series per component: its status word as a label, its severity as the value (alert on >= 2)
        status = GaugeMetricFamily("downwatch_component_status", STATUS_HELP, labels=["monitor", "component", "status"])
        for view in self._views.all():
            status.add_metric([view.monitor, view.name, view.status.value], view.status.rank)
        yield status
        open_by = {i.monitor for i in self._store.open_incidents()}
        incident = GaugeMetricFamily("downwatch_monitor_open_incident", INCIDENT_HELP, labels=["monitor"])
        for name in self._names:
            incident.add_metric([name], 1 if name in open_by else 0)
        yield incident
        yield from self._small()
        activity = self._activity
        if activity is None:
            return
        yield from self._counts(activity)
        last = GaugeMetricFamily("downwatch_monitor_last_check_timestamp_seconds", LAST_HELP, labels=["monitor"])
        for name in self._names:
            at = activity.last_check.get(name)
            if at is not None:
                last.add_metric([name], at.timestamp())
        yield last
        yield from self._histograms(activity)

    def blocks(self) -> list[Block]:
        """The text of `collect()` as blocks: the per-monitor families from lines and blocks kept."""
        active = self._views.names()
        open_by = {i.monitor for i in self._store.open_incidents()}
        out = [*self._status_blocks(active), *self._incident_blocks(open_by)]
        middle = "".join([_family(metric, {}) for metric in self._small()])
        activity = self._activity
        if activity is None:
            return [*out, self._blocks.get("middle", middle.encode())]
        middle += "".join([_family(metric, {}) for metric in self._counts(activity)])
        middle += _head("downwatch_monitor_last_check_timestamp_seconds", "gauge", LAST_HELP)
        tail = "".join([_family(metric, {}) for metric in self._histograms(activity)])
        return [*out, self._blocks.get("middle", middle.encode()), *self._last_blocks(activity),
                self._blocks.get("tail", tail.encode())]

    def _small(self) -> Iterator[Metric]:
        """The families of a few series each, between the per-monitor ones."""
        store = self._store
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
        role = self._role() if self._role is not None else ""
        if role:  # a cluster's process: summed over the replicas, exactly 1 (alert when 0: nobody leads)
            leader = GaugeMetricFamily("downwatch_cluster_leader", "1 while this process leads its cluster")
            leader.add_metric([], 1 if role == "leader" else 0)
            yield leader

    @staticmethod
    def _counts(activity: Activity) -> Iterator[Metric]:
        deliveries = CounterMetricFamily(
            "downwatch_deliveries", "Delivery attempts since start by platform and result: sent; retry (the "
            "platform was down, slow or rate-limiting: the alert stays queued); failed (refused for good)",
            labels=["platform", "result"])
        for (platform, result), count in sorted(activity.deliveries.items()):
            deliveries.add_metric([platform, result], count)
        yield deliveries
        checks = CounterMetricFamily("downwatch_checks", "Checks since start by result", labels=["result"])
        for result in (CheckResultKind.READABLE, CheckResultKind.UNREADABLE, CheckResultKind.SKIPPED):
            checks.add_metric([result], activity.checks.get(result, 0))
        yield checks

    @staticmethod
    def _histograms(activity: Activity) -> Iterator[Metric]:
        # Per check kind, not per monitor: 13 series per monitor would be most of a 10,000-monitor scrape;
        # a monitor's own latency is on its page (hourly rollups).
        latency = HistogramMetricFamily("downwatch_probe_latency_seconds",
                                        "Time each check took to get its answer, since start, by check kind",
                                        labels=["kind"])
        for name, histogram in sorted(activity.latency.items()):
            latency.add_metric([name], _buckets(histogram), histogram.total)
        yield latency
        lag = HistogramMetricFamily("downwatch_scheduler_lag_seconds",
                                    "How late each poll started after its due time, since start")
        lag.add_metric([], _buckets(activity.lag), activity.lag.total)
        yield lag

    def _status_blocks(self, active: Sequence[str]) -> list[Block]:
        grouped = self._views.by_monitor()
        if self._status_family[0] is grouped:  # the same dict while no monitor moved
            return self._status_family[1]
        kept = self._status_lines
        items = list(grouped.items())  # by name: the order of Store.component_views
        blocks = []
        for first in range(0, max(1, len(items)), self._chunk):
            out = [_head("downwatch_component_status", "gauge", STATUS_HELP)] if first == 0 else []
            for name, views in items[first:first + self._chunk]:
                lines = kept.get(name)
                if lines is None or lines[0] is not views:  # the same list while the monitor has not moved
                    monitor = _escape(name)
                    lines = kept[name] = (views, "".join([
                        f'downwatch_component_status{{component="{_escape(v.name)}",monitor="{monitor}",'
                        f'status="{_escape(v.status.value)}"}} {floatToGoString(v.status.rank)}\n'
                        for v in views]))
                out.append(lines[1])
            blocks.append(self._blocks.get(("status", first), "".join(out).encode()))
        if len(kept) > 2 * len(active) + 32:  # monitors no longer active
            self._status_lines = {name: kept[name] for name in active if name in kept}
        self._status_family = (grouped, blocks)
        return blocks

    def _incident_blocks(self, open_by: set[str]) -> list[Block]:
        if self._incident_family[0] == open_by:
            return self._incident_family[1]
        names, size = self._names, self._chunk
        blocks = []
        for first in range(0, max(1, len(names)), size):
            out = [_head("downwatch_monitor_open_incident", "gauge", INCIDENT_HELP)] if first == 0 else []
            out.extend(self._incident_line(name)[name in open_by] for name in names[first:first + size])
            blocks.append(self._blocks.get(("incident", first), "".join(out).encode()))
        self._incident_family = (open_by, blocks)
        return blocks

    def _last_blocks(self, activity: Activity) -> list[Block]:
        """One block per chunk of monitors; only the chunks holding a monitor checked since the last time are
        written again."""
        names, size = self._names, self._chunk
        moved, self._last_mark = activity.checked_since(self._last_mark)

        def written(first: int) -> Block:
            return Block.of("".join([self._last_line(name, at) for name in names[first:first + size]
                                     if (at := activity.last_check.get(name)) is not None]).encode())

        if moved is None or not self._last_family:
            self._last_family = [written(first) for first in range(0, max(1, len(names)), size)]
        else:
            for first in {index // size * size for name in moved if (index := self._position.get(name)) is not None}:
                self._last_family[first // size] = written(first)
        return self._last_family

    def _incident_line(self, name: str) -> tuple[str, str]:
        lines = self._incident_lines.get(name)
        if lines is None:
            line = f'downwatch_monitor_open_incident{{monitor="{_escape(name)}"}} '
            lines = self._incident_lines[name] = (f"{line}0.0\n", f"{line}1.0\n")
        return lines

    def _last_line(self, name: str, at: datetime) -> str:
        kept = self._last_lines.get(name)
        if kept is None or kept[0] is not at:  # each check records a new time
            kept = self._last_lines[name] = (
                at, f'downwatch_monitor_last_check_timestamp_seconds{{monitor="{_escape(name)}"}} '
                    f"{floatToGoString(at.timestamp())}\n")
        return kept[1]


class StateRegistry(CollectorRegistry):
    """A registry holding one StateCollector, which can write its own text."""

    def __init__(self, collector: StateCollector) -> None:
        super().__init__(auto_describe=False)  # registering must not run a collection
        self.state = collector
        self.register(collector)


def registry(collector: StateCollector) -> StateRegistry:
    return StateRegistry(collector)


def exposition(own: CollectorRegistry) -> bytes:
    """The text format 0.0.4 exactly as prometheus_client's generate_latest writes it (a test compares them),
    without its per-sample name validation: our metric and label names are fixed and valid, so only label
    values are escaped. generate_latest spends ~15 µs a sample, seconds for 10,000 monitors' series."""
    if isinstance(own, StateRegistry):
        return plain(own.state.blocks())
    numbers: dict[float, str] = {}
    return "".join([_family(metric, numbers) for metric in own.collect()]).encode()


def _buckets(histogram: Histogram) -> list[tuple[str, float]]:
    """Cumulative counts by upper bound, as HistogramMetricFamily takes them."""
    running = 0
    buckets: list[tuple[str, float]] = []
    for bound, count in zip((*histogram.bounds, float("inf")), histogram.counts, strict=True):
        running += count
        buckets.append(("+Inf" if bound == float("inf") else repr(bound), running))
    return buckets


def _head(name: str, kind: str, documentation: str) -> str:
    help_ = documentation.replace("\\", r"\\").replace("\n", r"\n")
    return f"# HELP {name} {help_}\n# TYPE {name} {kind}\n"


def _family(metric: Metric, numbers: dict[float, str]) -> str:
    name, kind = metric.name, metric.type
    if kind == "counter":
        name += "_total"
    out = [_head(name, kind, metric.documentation)]
    for sample in metric.samples:
        value = numbers.get(sample.value)
        if value is None:
            value = numbers[sample.value] = floatToGoString(sample.value)
        if sample.labels:
            labels = ",".join([f'{key}="{_escape(text)}"' for key, text in sorted(sample.labels.items())])
            out.append(f"{sample.name}{{{labels}}} {value}\n")
        else:
            out.append(f"{sample.name} {value}\n")
    return "".join(out)


def _escape(text: str) -> str:
    if "\\" in text or "\n" in text or '"' in text:
        return text.replace("\\", r"\\").replace("\n", r"\n").replace('"', r'\"')
    return text


def reference(own: CollectorRegistry) -> bytes:
    """prometheus_client's own writer (the tests hold `exposition` to it)."""
    return generate_latest(own)
