"""Soak: the real `downwatch run` process, N HTTP monitors against the local target, CPU and RSS sampled.

    .venv/bin/python -m bench.soak --monitors 2000 --interval 5 --seconds 240

Not part of `make bench`'s table: it answers "does the whole process hold steady" (memory flat, every poll
done, a clean stop on SIGTERM) rather than a figure against a reference. It prints one line per sample and a
summary: probes written per second (from the database) against the expected rate, RSS first and last.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import local_target

TICKS = os.sysconf("SC_CLK_TCK")


def _sample(pid: int) -> tuple[float, float]:
    """(CPU seconds so far, RSS in MB) of a live process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICKS
    rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    return cpu, rss


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.soak")
    p.add_argument("--monitors", type=int, default=2000)
    p.add_argument("--interval", type=float, default=5.0)
    p.add_argument("--seconds", type=float, default=240.0)
    p.add_argument("--every", type=float, default=20.0, help="seconds between samples")
    a = p.parse_args(argv)
    exe = Path(sys.executable).with_name("downwatch")
    with local_target() as target, tempfile.TemporaryDirectory(prefix="downwatch-soak-") as tmp:
        d = Path(tmp)
        lines = [f'database = "{d / "dw.db"}"']
        for i in range(a.monitors):
            lines += ["[[monitors]]", f'name = "m{i}"', 'type = "http"', f'url = "{target.close}?m={i}"',
                      f"interval = {a.interval:g}", f"timeout = {min(10.0, a.interval * 0.8):g}"]
        (d / "dw.toml").write_text("\n".join(lines) + "\n")
        proc = subprocess.Popen([str(exe), "run", "--config", str(d / "dw.toml")], cwd=d,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        started = time.monotonic()
        last_cpu, _ = _sample(proc.pid)
        last_at, rss_seen = started, []
        while time.monotonic() - started < a.seconds and proc.poll() is None:
            time.sleep(a.every)
            cpu, rss = _sample(proc.pid)
            now = time.monotonic()
            rss_seen.append(rss)
            print(f"t={now - started:5.0f} s  cpu {100 * (cpu - last_cpu) / (now - last_at):5.1f} % of a core  "
                  f"rss {rss:6.1f} MB", flush=True)
            last_cpu, last_at = cpu, now
        elapsed = time.monotonic() - started
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=60)[0]
        with sqlite3.connect(d / "dw.db") as db:
            probes = db.execute("SELECT COUNT(*) FROM probes").fetchone()[0]
            incidents = db.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]
    print(f"{a.monitors:,} monitors @ {a.interval:g} s for {elapsed:.0f} s: {probes / elapsed:,.0f} probes/s written "
          f"(expected {a.monitors / a.interval:,.0f}); rss {rss_seen[0] if rss_seen else 0:.1f} → "
          f"{rss_seen[-1] if rss_seen else 0:.1f} MB; {incidents} incidents; exit {proc.returncode}")
    if proc.returncode != 0:
        print(output[-2000:])
    return 0 if proc.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
