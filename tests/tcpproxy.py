"""A loopback TCP proxy that a test can black-hole, heal or cut (issue 14: one replica's database traffic).

    proxy = TcpProxy(server.port)
    port = proxy.start()          # 127.0.0.77:port now forwards to 127.0.0.1:server.port
    proxy.blackhole()             # silence both ways; new connections are accepted and left hanging
    proxy.heal()                  # bytes flow again (what was held back is delivered)
    proxy.partition()             # the kernel drops every packet to and from the proxy's port
    proxy.cut()                   # every open connection is reset (RST), both sides
    proxy.stop()

It runs its own asyncio loop on its own thread, so it serves other threads and subprocesses alike.

Two kinds of silence, and they are not the same to TCP:
- `blackhole()`: the proxy's sockets stay open and its kernel keeps acknowledging what the client sends;
  only nothing comes back. That is a hung server or middlebox (a stopped postgres, a wedged pooler). TCP
  never notices: TCP_USER_TIMEOUT (libpq's `tcp_user_timeout`) fires only for data the peer has *not*
  acknowledged, and keepalive probes are answered. A client gets out only with a deadline of its own, or
  libpq's `connect_timeout` for a connection opened during the black hole.
- `partition()`: a dead network path (a cut cable, a dropped route): an nftables rule of the proxy's own
  drops its packets, nothing is acknowledged, and `tcp_user_timeout` and keepalives do fire. It needs root
  and `nft` (Debian's `nftables`, installed by `.ci/postgres`); `partition_missing()` says why not.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import struct
import subprocess
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

# The proxy listens on a loopback address of its own, so the nftables rule of a partition matches nothing
# else: not the server, and not a client elsewhere whose ephemeral port happens to equal the proxy's.
HOST = "127.0.0.77"
TARGET_HOST = "127.0.0.1"
CONTROL_DEADLINE_S = 10  # how long start/stop/cut may take on the proxy's thread before it is a bug
CHUNK = 65536

T = TypeVar("T")


def partition_missing() -> str | None:
    """Why `TcpProxy.partition()` cannot work here, or None when it can."""
    if os.geteuid() != 0:
        return "a network partition (an nftables rule) needs root"
    if shutil.which("nft") is None:
        return "a network partition needs `nft` (Debian's `nftables`; `make test` installs it as root)"
    return None


class TcpProxy:
    """Forwards 127.0.0.77:<port> to 127.0.0.1:<target_port>, one connection upstream per client."""

    def __init__(self, target_port: int, *, target_host: str = TARGET_HOST) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.accepted = 0  # connections accepted so far (including those held in a black hole)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"tcpproxy->{target_port}",
                                        daemon=True)
        self._partitioned = False
        self._flowing: asyncio.Event | None = None
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self) -> int:
        """Listen on a free port of 127.0.0.77 (`HOST`); returns the port."""
        self._thread.start()
        self.port = self._call(self._open())
        if partition_missing() is None:  # a table left by a proxy on this port that was killed mid-partition
            _nft("delete", "table", "ip", self._table, check=False)
        return self.port

    def blackhole(self) -> None:
        """Stop forwarding in both directions and hold new connections without forwarding them."""
        self._call(self._set_flowing(False))

    def partition(self) -> None:
        """Drop every packet to and from the proxy's port in the kernel (both ways, new connections too)."""
        reason = partition_missing()
        if reason:
            raise RuntimeError(reason)
        _nft("-f", "-", stdin=f"""table ip {self._table} {{
            chain out {{
                type filter hook output priority 0; policy accept;
                ip daddr {HOST} tcp dport {self.port} drop
                ip saddr {HOST} tcp sport {self.port} drop
            }}
        }}""")
        self._partitioned = True

    def heal(self) -> None:
        """Forward again, held connections included; a partition is lifted (TCP retransmits what it lost)."""
        if self._partitioned:
            _nft("delete", "table", "ip", self._table)
            self._partitioned = False
        self._call(self._set_flowing(True))

    def cut(self) -> None:
        """Reset every open connection, on both sides (the proxy itself keeps listening)."""
        self._call(self._reset_all())

    def stop(self) -> None:
        """Reset every connection, stop listening and end the proxy's thread."""
        if not self._thread.is_alive():
            return
        try:
            if self._partitioned:
                _nft("delete", "table", "ip", self._table)
                self._partitioned = False
            self._call(self._close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(CONTROL_DEADLINE_S)
            self._loop.close()

    @property
    def address(self) -> tuple[str, int]:
        """Where clients connect: (host, port)."""
        return HOST, self.port

    @property
    def _table(self) -> str:
        return f"downwatch_tcpproxy_{self.port}"

    # ---- on the proxy's loop

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(CONTROL_DEADLINE_S)

    async def _open(self) -> int:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._serve, HOST, 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _set_flowing(self, flowing: bool) -> None:
        assert self._flowing is not None
        if flowing:
            self._flowing.set()
        else:
            self._flowing.clear()

    async def _reset_all(self) -> None:
        for writer in list(self._writers):
            _reset(writer)
        self._writers.clear()

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        await self._reset_all()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        self.accepted += 1
        self._writers.add(client)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._flowing.wait()  # accepted during a black hole: held, not yet connected upstream
            if client.is_closing():  # cut while held
                return
            try:
                upstream_reader, upstream = await asyncio.open_connection(*self.target)
            except OSError:
                _reset(client)
                return
            self._writers.add(upstream)
            await _first_done(self._pump(client_reader, upstream), self._pump(upstream_reader, client))
            for writer in (client, upstream):
                if writer in self._writers:
                    self._writers.discard(writer)
                    writer.close()
        except (ConnectionError, OSError):
            pass
        finally:
            self._tasks.discard(task)
            self._writers.discard(client)

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        while True:
            await self._flowing.wait()
            data = await source.read(CHUNK)
            if not data:
                return
            await self._flowing.wait()  # read just before a black hole: held until heal
            sink.write(data)
            await sink.drain()


async def _first_done(*coros: Coroutine[Any, Any, None]) -> None:
    """Run both directions; when one ends (EOF or error) the connection is over: cancel the other."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _nft(*args: str, stdin: str | None = None, check: bool = True) -> None:
    done = subprocess.run(["nft", *args], input=stdin, capture_output=True, text=True, timeout=CONTROL_DEADLINE_S)
    if check and done.returncode != 0:
        raise RuntimeError(f"nft {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST instead of a FIN: SO_LINGER on with a zero timeout, then abort."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()
