"""The control target: can the bot itself reach the network? Any HTTP answer at all means yes."""

from __future__ import annotations

import httpx

from bot.checks.client import REQUEST_FAILURES


async def reachable(client: httpx.AsyncClient, url: str, *, timeout: float = 5.0) -> bool:
    """True when `url` answered with any HTTP status within `timeout` seconds."""
    try:
        response = await client.get(url, timeout=timeout)
        await response.aclose()
    except REQUEST_FAILURES:
        return False
    return True
