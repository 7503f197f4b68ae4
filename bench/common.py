"""What every benchmark shares: the figure row, percentiles, process CPU/RSS, the machine, the local targets.

The local target is nginx from Debian's packages when it is installed (the bench tries `apt-get install
nginx-light wrk` once, quietly; CI without apt degrades), otherwise a fast asyncio server in a child process.
Either way the target runs in ANOTHER process, so the bot process's CPU and RSS are its own.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from bot import runtime


@dataclass(frozen=True)
class Figure:
    """One row of the table: a measured value, its reference (same run) and the target it is held to."""

    item: str
    name: str
    value: float | None
    unit: str
    target: str = ""
    passed: bool | None = None  # None: informational, no target
    reference: float | None = None
    reference_name: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.reference:
            return None
        return self.value / self.reference

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def spin(iterations: int) -> int:
    """The same pure-Python work every time: what the machine references time (no I/O, no allocation to speak of)."""
    total = 0
    for i in range(iterations):
        total += i * i % 7
    return total


def machine_bursts(seconds: float) -> dict[str, float]:
    """How this machine runs the same ~2 ms of pure Python (9 units: a slot's polls' first steps at 10,000
    monitors @ 60 s) once every 50 ms, idle in between, as the bot's loop runs: the median and p99 of a
    burst's wall time. On a VM whose host runs its vCPU slower in stretches, the p99 is several times the
    median whatever the bot does; a poll that starts behind such a burst starts that late. The reference
    beside the scheduling lag."""
    bursts: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        began = time.perf_counter()
        for _ in range(9):
            spin(2_500)
        bursts.append((time.perf_counter() - began) * 1000)
        time.sleep(max(0.0, 0.05 - (time.perf_counter() - began)))
    return {"burst_p50_ms": percentile(bursts, 50), "burst_p99_ms": percentile(bursts, 99)}


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return float(ordered[index])


def cpu_seconds() -> float:
    """User + system CPU of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU so far of process `pid` and of its children, live (from /proc/<child>/stat) and
    exited (its cutime + cstime): a PostgreSQL server's postmaster and its backends. 0.0 without /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()  # after the command name, which may hold spaces
        except OSError:  # exited meanwhile
            continue
        if stat.parent.name == str(pid):
            total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        elif fields[1] == str(pid):  # ppid
            total += int(fields[11]) + int(fields[12])
    return total / tick


def rss_mb() -> float:
    """Resident set size of this process now, in MB (from /proc; 0 where there is no /proc)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def machine() -> dict[str, str]:
    """CPU model, cores, Python and the versions of the libraries whose speed is measured."""
    import sqlite3
    from importlib.metadata import PackageNotFoundError, version

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def ver(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "absent"

    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "httpx": ver("httpx"),
        "httpcore": ver("httpcore"),
        "aiohttp": ver("aiohttp"),
        "httpx-aiohttp": ver("httpx-aiohttp"),
        "uvloop": ver("uvloop"),
        "loop": runtime.loop_name(),  # the event loop every bench worker (and the bot) runs on
        "apscheduler": ver("apscheduler"),
        "sqlite-utils": ver("sqlite-utils"),
        "sqlite": sqlite3.sqlite_version,
        "nginx": "yes" if shutil.which("nginx") else "absent",
        "wrk": "yes" if shutil.which("wrk") else "absent",
    }


# ---------------------------------------------------------------- tools from Debian's packages


def ensure_tools(*, install: bool = True) -> dict[str, bool]:
    """nginx and wrk, installed from Debian's packages when missing and we are root with apt-get."""
    missing = [pkg for pkg, exe in (("nginx-light", "nginx"), ("wrk", "wrk")) if not shutil.which(exe)]
    if missing and install and shutil.which("apt-get") and os.geteuid() == 0:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        try:
            subprocess.run(["apt-get", "install", "-y", "-qq", *missing], env=env, capture_output=True, timeout=180)
            if any(not shutil.which(e) for e in ("nginx", "wrk")):
                subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=180)
                subprocess.run(["apt-get", "install", "-y", "-qq", *missing], env=env, capture_output=True,
                               timeout=180)
        except (OSError, subprocess.TimeoutExpired):
            pass
    return {"nginx": bool(shutil.which("nginx")), "wrk": bool(shutil.which("wrk"))}


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 (openssl CLI, else the `cryptography` package if present).
    Valid for 30 days: beyond check_http's default tls_expiry_days (14), so shipped probes stay operational."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


@dataclass(frozen=True)
class Target:
    """Where the local target answers: `close` closes after each answer (a new connection per probe)."""

    kind: str  # "nginx" or "asyncio"
    close: str  # http://127.0.0.1:P/  — Connection: close after every answer
    keepalive: str  # http://127.0.0.1:P/  — keep-alive
    tls: str | None  # https://127.0.0.1:P/ — Connection: close (a full handshake per probe)
    cert: str | None


NGINX_CONF = """
worker_processes 1;
pid {d}/nginx.pid;
error_log stderr error;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d}; uwsgi_temp_path {d}; scgi_temp_path {d};
  server {{ listen 127.0.0.1:{close} backlog=4096; keepalive_timeout 0; location / {{ return 200 "ok\\n"; }} }}
  server {{ listen 127.0.0.1:{keep} backlog=4096; keepalive_requests 100000; location / {{ return 200 "ok\\n"; }} }}
  server {{ listen 127.0.0.1:{tls} ssl backlog=4096; keepalive_timeout 0; ssl_certificate {cert};
           ssl_certificate_key {key}; ssl_session_cache off; ssl_session_tickets off;
           location / {{ return 200 "ok\\n"; }} }}
}}
"""


def wait_port(port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


@contextmanager
def local_target(*, prefer_nginx: bool = True) -> Iterator[Target]:
    """Start the local target in another process; stop it on exit."""
    with tempfile.TemporaryDirectory(prefix="downwatch-bench-") as tmp:
        d = Path(tmp)
        try:
            cert, key = self_signed(d)
        except (OSError, subprocess.SubprocessError):
            cert = key = None
        close, keep, tls = free_port(), free_port(), free_port()
        proc: subprocess.Popen[bytes] | None = None
        kind = "asyncio"
        if prefer_nginx and shutil.which("nginx") and cert and key:
            conf = d / "nginx.conf"
            conf.write_text(NGINX_CONF.format(d=d, close=close, keep=keep, tls=tls, cert=cert, key=key))
            proc = subprocess.Popen(["nginx", "-e", "stderr", "-p", str(d), "-c", str(conf), "-g", "daemon off;"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if wait_port(close, time.monotonic() + 5) and wait_port(tls, time.monotonic() + 2):
                kind = "nginx"
            else:
                proc.kill()
                proc.wait()
                proc = None
        if proc is None:
            args = [sys.executable, "-m", "bench.fastserver", "--close", str(close), "--keep", str(keep)]
            if cert and key:
                args += ["--tls", str(tls), "--cert", str(cert), "--key", str(key)]
            proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            wait_port(close, time.monotonic() + 10)
            if cert:
                wait_port(tls, time.monotonic() + 5)
        try:
            yield Target(kind=kind, close=f"http://127.0.0.1:{close}/", keepalive=f"http://127.0.0.1:{keep}/",
                         tls=f"https://127.0.0.1:{tls}/" if cert else None, cert=str(cert) if cert else None)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wrk(url: str, *, connections: int = 50, seconds: float = 4.0, threads: int = 1) -> float | None:
    """Requests/s that wrk reaches against `url` (None when wrk is absent or failed)."""
    exe = shutil.which("wrk")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", url],
                             capture_output=True, text=True, timeout=seconds + 30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    return None


def run_worker(module: str, args: dict[str, object], *, timeout: float = 600.0) -> dict[str, object]:
    """Run `python -m module` with JSON args in a fresh process (clean RSS/CPU); its last stdout line is JSON."""
    proc = subprocess.run([sys.executable, "-m", module, json.dumps(args)], capture_output=True, text=True,
                          timeout=timeout, cwd=Path(__file__).resolve().parent.parent)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{module} failed ({proc.returncode}): {proc.stderr[-8000:]}")  # room for stacks
    result: dict[str, object] = json.loads(lines[-1])
    return result
