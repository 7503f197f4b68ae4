"""Per-monitor reads and renders kept until that monitor moves (bot.store.Store.version).

A page of 1,000 monitors, or a scrape of 10,000, is mostly monitors nothing happened to since the last time:
their component rows, card markup and metric lines are reused, and only the monitors written since are read
and built again.
"""

from __future__ import annotations

from bot.model import ComponentView
from bot.store import Store

FEW = 32  # up to this many moved monitors are read one by one; more, and all are read in one query


class Views:
    """The active monitors and their component views, each monitor's list reread only when it moved. A list
    is the same object while its monitor has not moved: what is built from it can be kept by identity."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._kept: dict[str, tuple[int, list[ComponentView]]] = {}
        self._seen: tuple[int, int] | None = None
        self._names: list[str] = []
        self._grouped: dict[str, list[ComponentView]] = {}

    def names(self) -> list[str]:
        """Store.monitor_names, read again only after the monitors were synced."""
        self._refresh()
        return self._names

    def by_monitor(self) -> dict[str, list[ComponentView]]:
        """Every active monitor's views (an empty list for one without components), by name in name order."""
        self._refresh()
        return self._grouped

    def all(self) -> list[ComponentView]:
        """Every view in Store.component_views' order (by monitor name, then group and name)."""
        return [view for views in self.by_monitor().values() for view in views]

    def _refresh(self) -> None:
        store = self._store
        seen = store.versions()
        if seen == self._seen:
            return
        if self._seen is None or seen[1] != self._seen[1]:
            self._names = store.monitor_names()
        names, kept = self._names, self._kept
        versions = {name: store.version(name) for name in names}
        moved = [name for name in names if kept.get(name, (-1,))[0] != versions[name]]
        if len(moved) > FEW:
            fresh: dict[str, list[ComponentView]] = {name: [] for name in names}
            for view in store.component_views():
                fresh.setdefault(view.monitor, []).append(view)
            # A monitor that did not move keeps its list: what was built from it is kept by identity.
            self._kept = kept = {name: kept[name] if kept.get(name, (-1,))[0] == versions[name]
                                 else (versions[name], fresh[name]) for name in names}
        else:
            for name in moved:
                kept[name] = (versions[name], store.component_views(name))
            if len(kept) > 2 * len(names) + FEW:  # monitors no longer active
                self._kept = kept = {name: kept[name] for name in names}
        self._grouped = {name: kept[name][1] for name in names}
        self._seen = seen

