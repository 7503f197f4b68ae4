"""The fallback local target when nginx is absent: a bare asyncio protocol answering `200 ok` to any request.

python -m bench.fastserver --close PORT --keep PORT [--tls PORT --cert FILE --key FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
import typing

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"


class Answer(asyncio.Protocol):
    """Answers every complete request head; with `close`, closes the connection after the answer."""

    def __init__(self, close: bool) -> None:
        self.close = close
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)  # uvloop's transports do not subclass asyncio's

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            _, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            if self.close:
                self.transport.write(ANSWER + b"Connection: close\r\n\r\nok\n")
                self.transport.close()
                return
            self.transport.write(ANSWER + b"\r\nok\n")


async def serve(close: int, keep: int, tls: int | None, cert: str | None, key: str | None) -> None:
    loop = asyncio.get_running_loop()
    servers = [
        await loop.create_server(lambda: Answer(True), "127.0.0.1", close, backlog=4096),
        await loop.create_server(lambda: Answer(False), "127.0.0.1", keep, backlog=4096),
    ]
    if tls and cert and key:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        servers.append(await loop.create_server(lambda: Answer(True), "127.0.0.1", tls, ssl=ctx, backlog=4096))
    await asyncio.Event().wait()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--close", type=int, required=True)
    p.add_argument("--keep", type=int, required=True)
    p.add_argument("--tls", type=int)
    p.add_argument("--cert")
    p.add_argument("--key")
    a = p.parse_args()
    try:
        import uvloop  # type: ignore[import-not-found]

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve(a.close, a.keep, a.tls, a.cert, a.key))


if __name__ == "__main__":
    main()
