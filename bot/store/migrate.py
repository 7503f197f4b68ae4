"""`downwatch migrate`: an SQLite history moved into PostgreSQL, table by table, in one transaction."""

from __future__ import annotations

from collections.abc import Callable

from bot.store import Store

# Every table of the SQLite schema (bot/store/sqlite.py), in the order they are copied.
HISTORY = ("monitors", "components", "status_log", "probes", "probe_hours", "incidents", "incident_components",
           "timeline", "outbox", "messages", "actions", "mutes", "acks", "held", "region_readings")
# Tables whose ids PostgreSQL generates: their sequences continue after the copied ids.
GENERATED = ("status_log", "probes", "timeline", "outbox", "actions", "held")
CHUNK = 5000


class NotEmpty(Exception):
    """The target already holds a history: migrating would mix two."""


def copy_history(source: Store, target: Store, *, progress: Callable[[str, int], None] = lambda t, n: None,
                 chunk: int = CHUNK) -> dict[str, int]:
    """Copy every row of `source` into the empty `target` in one transaction (a failure leaves it empty) and
    return the rows copied per table, checked against the source's counts."""
    if target.sql.execute("SELECT COUNT(*) FROM monitors").fetchone()[0]:
        raise NotEmpty("the target database already holds a downwatch history: nothing was copied")
    copied: dict[str, int] = {}
    with target.sql.atomic():
        for table in HISTORY:
            cursor = source.sql.execute(f"SELECT * FROM {table}")
            columns = [d[0] for d in cursor.description]  # type: ignore[attr-defined]
            insert = (f"INSERT INTO {table} ({', '.join(columns)}) "
                      f"VALUES ({', '.join('?' * len(columns))})")
            n = 0
            while rows := cursor.fetchmany(chunk):  # type: ignore[attr-defined]
                target.sql.executemany(insert, rows)
                n += len(rows)
                progress(table, n)
            copied[table] = n
        for table in GENERATED:
            target.sql.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)")
        for table in HISTORY:
            have = target.sql.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            if have != copied[table]:
                raise RuntimeError(f"{table}: {copied[table]} rows copied but {have} found")
    return copied
