"""Start-up (issue 6 item 8): whole-process wall time of `downwatch --help` and `downwatch check` (one monitor).

Median of `runs` fresh processes each; `check` probes the local target. The console script is the venv's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import percentile


def timed(argv: list[str], runs: int) -> tuple[float, int]:
    times, code = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        code = subprocess.run(argv, capture_output=True, timeout=60).returncode
        times.append(time.perf_counter() - t)
    return percentile(times, 50), code


def run(args: dict[str, Any]) -> dict[str, Any]:
    exe = Path(sys.executable).with_name("downwatch")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "bot.cli"]
    runs = int(args["runs"])
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "downwatch.toml"
        conf.write_text(f'database = "{tmp}/d.db"\n\n[[monitors]]\nname = "local"\ntype = "http"\nurl = "{args["url"]}"\n')
        help_s, help_code = timed(cmd + ["--help"], runs)
        check_s, check_code = timed(cmd + ["check", "--config", str(conf)], runs)
    return {"help_s": help_s, "help_code": help_code, "check_s": check_s, "check_code": check_code}


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))
