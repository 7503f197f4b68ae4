"""The status pages of bench item 10: an aiohttp server on 127.0.0.1 serving the real captures of tests/data.

`python -m bench.sourceserver --port P [--every 10]`. Each monitor has its own path, `/<kind>/<i>/...`
(bench.mixed.url_of), and its documents come from bench.mixed.documents: a primary and an alternate set.
Each path counts its requests; request c of monitor i serves the alternate when (c + i // 10) % every == 0, so
every round of polls one monitor in `every` of each kind gets the other capture and the one that had it last
round gets its primary back: the bodies change now and then, never all at once. `GET /stats` answers the
request counts as JSON. Runs in its own process, so the bot's CPU figure is the bot's own.
"""

from __future__ import annotations

import argparse
import json
import sys

from aiohttp import web

from bench.mixed import KINDS, documents


def app(every: int) -> web.Application:
    docs = {kind: documents(kind) for kind in KINDS}
    counts: dict[str, int] = {}
    served: dict[str, bool] = {}  # path → whether its last answer was the alternate
    stats = {"requests": 0, "alternates": 0, "changed": 0, "missing": 0}

    async def serve(request: web.Request) -> web.StreamResponse:
        kind, index, tail = request.match_info["kind"], int(request.match_info["i"]), request.match_info["tail"]
        variants = docs.get(kind)
        if variants is None:
            raise web.HTTPNotFound()
        count = counts[request.path] = counts.get(request.path, 0) + 1
        j = index // 10  # the monitor's index among its kind (bench.mixed gives kinds in turn)
        alternate = (count + j) % every == 0
        primary, other = variants.pair(j)
        doc = (other if alternate else primary).get("/" + tail)
        stats["requests"] += 1
        if doc is None:
            stats["missing"] += 1
            raise web.HTTPNotFound()  # a document the page does not serve (Instatus components.json)
        stats["alternates"] += alternate
        stats["changed"] += served.get(request.path, alternate) != alternate  # not the bytes it served last
        served[request.path] = alternate
        body, content_type = doc
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def stats_of(_request: web.Request) -> web.Response:
        return web.Response(text=json.dumps(stats), content_type="application/json")

    application = web.Application()
    application.router.add_get("/stats", stats_of)
    application.router.add_get("/{kind}/{i:\\d+}/{tail:.*}", serve)
    return application


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.sourceserver")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--every", type=int, default=10)
    a = p.parse_args(argv)
    web.run_app(app(a.every), host="127.0.0.1", port=a.port, print=None, access_log=None,
                handle_signals=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
