"""A throwaway PostgreSQL server for the tests (issue 14), from Debian's `postgresql` package.

    server = PgServer.start()             # initdb + pg_ctl start -w in a fresh temp folder, a random port
    url = server.create_database()        # postgresql://postgres:<pw>@127.0.0.1:<port>/<fresh db>
    server.restart_immediate()            # what a crashed database looks like: every connection drops
    server.stop()                         # and the folder is gone

Durability against a crash of the machine is off (fsync, full_page_writes): the server lives for one test
session. Against a crash of postgres itself it is kept (synchronous_commit), so restart tests count truly.
TCP asks for a password (scram-sha-256), so a test can be refused with a wrong one; the Unix socket (in the
temp folder, nowhere else) trusts, for administration.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import urllib.parse
from pathlib import Path

PG_ROOT = Path("/usr/lib/postgresql")  # Debian's layout: /usr/lib/postgresql/<major>/bin
SERVICE_USER = "postgres"  # initdb and postgres refuse to run as root
HOST = "127.0.0.1"
RAM_DIR = Path("/dev/shm")  # tmpfs on Linux; the data folder goes there when it can
START_DEADLINE_S = 30  # pg_ctl -t: a cold start with crash recovery takes well under a second here
SETTINGS = {
    "listen_addresses": f"'{HOST}'",
    # Safe while only postgres itself crashes (restart -m immediate): what it wrote is in the OS's cache.
    "fsync": "off",
    "full_page_writes": "off",
    # synchronous_commit stays on: off loses acknowledged commits on `restart -m immediate` (191 of 2,500
    # in a loop here), which a chaos test would count as lost alerts; with fsync off it saves nothing.
    "max_connections": "300",  # chaos tests run several replicas, each with a pool
    "shared_buffers": "'32MB'",
    "max_wal_size": "'128MB'",  # the WAL is kept in memory too (RAM_DIR): checkpoint before it grows to 1 GB
    "log_min_messages": "warning",
}


def bindir(root: Path = PG_ROOT) -> Path | None:
    """The newest installed server's bin folder (e.g. /usr/lib/postgresql/15/bin), None when there is none."""
    found = [p.parent for p in root.glob("*/bin/initdb")]
    numbered = [p for p in found if re.fullmatch(r"\d+(\.\d+)?", p.parent.name)]
    return max(numbered, key=lambda p: float(p.parent.name), default=None)


def missing() -> str | None:
    """Why a PostgreSQL server cannot run here, or None when it can."""
    if bindir() is None:
        return (f"no PostgreSQL server under {PG_ROOT}/*/bin (Debian's `postgresql` package; "
                "`make test` installs it when run as root)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVICE_USER)
        except KeyError:
            return f"running as root and there is no `{SERVICE_USER}` user to run initdb as"
        if shutil.which("runuser") is None:
            return "running as root and `runuser` (util-linux) is missing: initdb cannot drop root"
    return None


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago (the kernel's pick, released for the server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def via(url: str, host: str, port: int) -> str:
    """The same URL to another address (a TcpProxy in front of the server: `via(url, *proxy.address)`)."""
    parts = urllib.parse.urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    return parts._replace(netloc=f"{userinfo}@{host}:{port}").geturl()


class PgServer:
    """One postgres process with its own data folder, socket folder and port; see the module docstring."""

    def __init__(self, *, root: Path, bin: Path, port: int, password: str) -> None:
        self._root = root
        self._bin = bin
        self.port = port
        self.password = password
        self._databases = 0

    @property
    def data(self) -> Path:
        return self._root / "data"

    @property
    def log(self) -> Path:
        return self._root / "server.log"

    @property
    def socket_dir(self) -> Path:
        return self._root

    @classmethod
    def start(cls) -> PgServer:
        """initdb and start a server; returns once it accepts connections (or raises with its log)."""
        reason = missing()
        if reason:
            raise RuntimeError(reason)
        bin = bindir()
        assert bin is not None
        # Not pytest's tmp_path: that is 0700 root, which the postgres user cannot traverse. In memory when
        # we can: every database made copies 7 MB, which a busy disk turns from milliseconds into 100+ ms.
        scratch = RAM_DIR if RAM_DIR.is_dir() and os.access(RAM_DIR, os.W_OK | os.X_OK) else None
        root = Path(tempfile.mkdtemp(prefix="downwatch-pg-", dir=scratch))
        server = cls(root=root, bin=bin, port=free_port(), password=secrets.token_urlsafe(18))
        try:
            server._initdb()
            for attempt in range(3):
                server._configure()
                try:
                    server._pg_ctl("start", "-w", "-t", str(START_DEADLINE_S), "-l", str(server.log))
                    break
                except RuntimeError as exc:  # the free port was taken between free_port() and the bind
                    if "already in use" not in str(exc) or attempt == 2:
                        raise
                    server.port = free_port()
        except BaseException:
            server._remove()
            raise
        return server

    def url(self, dbname: str = "postgres", *, password: str | None = None) -> str:
        """A libpq URL over TCP as the superuser; `password` overrides the real one (to be refused)."""
        pw = urllib.parse.quote(self.password if password is None else password, safe="")
        return f"postgresql://{SERVICE_USER}:{pw}@{HOST}:{self.port}/{dbname}"

    def create_database(self, *, collation: str | None = None, like: str | None = None) -> str:
        """A fresh, uniquely named database; returns its URL. Empty, or a copy of `like` (the URL of another
        database made here, with no connection open to it). `collation`: an ICU locale (e.g. "en-US") for an
        empty one's default collation and case mapping, as a production database has one, instead of the
        server's C locale (under which text compares and folds byte by byte, like SQLite)."""
        self._databases += 1
        name = f"t{self._databases}_{secrets.token_hex(4)}"  # [a-z0-9_]: nothing to quote
        # FILE_COPY: copy the template's files after a checkpoint (cheap with fsync off) instead of writing
        # its 7 MB through the WAL: a third less time.
        template = ""
        if like is not None:
            template = f" TEMPLATE {self._made(like)}"
        elif collation is not None:
            if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", collation):
                raise ValueError(f"not an ICU locale: {collation!r}")
            template = f" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '{collation}' LOCALE 'C.UTF-8'"
        self._admin(f"CREATE DATABASE {name} STRATEGY FILE_COPY{template}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by `create_database`, closing what is still connected to it."""
        self._admin(f"DROP DATABASE IF EXISTS {self._made(url)} WITH (FORCE)")

    @staticmethod
    def _made(url: str) -> str:
        """The name of a database `create_database` made, from its URL (nothing else is ever dropped)."""
        name = urllib.parse.urlsplit(url).path.lstrip("/")
        if not re.fullmatch(r"t\d+_[0-9a-f]{8}", name):
            raise ValueError(f"not a database this server made: {name!r}")
        return name

    def restart_immediate(self) -> None:
        """`pg_ctl restart -m immediate`: every backend dies at once, then crash recovery; waits until ready."""
        self._pg_ctl("restart", "-m", "immediate", "-w", "-t", str(START_DEADLINE_S), "-l", str(self.log))

    def stop(self) -> None:
        """Stop the server (immediately: its data is thrown away) and remove its folder."""
        try:
            if (self.data / "postmaster.pid").exists():
                self._pg_ctl("stop", "-m", "immediate", "-w", "-t", str(START_DEADLINE_S))
        finally:
            self._remove()

    # ---- internals

    def _admin(self, sql: str) -> None:
        """One statement as the superuser over the Unix socket (trusted), outside a transaction."""
        import psycopg  # the tests' driver; imported here so `missing()` works without it

        with psycopg.connect(host=str(self.socket_dir), port=self.port, user=SERVICE_USER,
                             dbname="postgres", autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.encode())

    def _initdb(self) -> None:
        pwfile = self._root / "pwfile"
        pwfile.write_text(self.password + "\n")
        self._own(self._root, pwfile)
        try:
            self._run(self._bin / "initdb", "-D", str(self.data), "-U", SERVICE_USER, f"--pwfile={pwfile}",
                      "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C",
                      "--no-sync", "--no-instructions")
        finally:
            pwfile.unlink()

    def _configure(self) -> None:
        settings = {**SETTINGS, "port": str(self.port), "unix_socket_directories": f"'{self.socket_dir}'"}
        with (self.data / "postgresql.conf").open("a") as conf:  # appended: the last setting wins
            conf.write("\n# downwatch tests (tests/pg.py)\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def _pg_ctl(self, *args: str) -> None:
        self._run(self._bin / "pg_ctl", "-D", str(self.data), *args)

    def _run(self, program: Path, *args: str) -> None:
        """Run a server program as the postgres user (as ourselves when we are not root)."""
        argv = [str(program), *args]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", SERVICE_USER, "--", *argv]
        done = subprocess.run(argv, cwd=self._root, capture_output=True, text=True,
                              timeout=START_DEADLINE_S + 10, env={**os.environ, "LC_ALL": "C"})
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{program.name} {' '.join(args[:3])} failed ({done.returncode}):\n"
                               f"{done.stdout}{done.stderr}\n{log}")

    def _own(self, *paths: Path) -> None:
        if os.geteuid() == 0:
            entry = pwd.getpwnam(SERVICE_USER)
            for path in paths:
                os.chown(path, entry.pw_uid, entry.pw_gid)

    def _remove(self) -> None:
        shutil.rmtree(self._root, ignore_errors=True)
