"""One retry rule for every platform: an HTTP answer (or none at all) → what the outbox does next.

As Alertmanager's notifiers decide from the status code in one place: 2xx is delivered; 429 is a rate
limit (wait for Retry-After, from the header or the `retry_after` of a JSON body as Discord sends it, and
hold the whole platform); 5xx and no answer at all retry with backoff; 404/410 for a message we refer to
means it is gone (the outbox posts a fresh one); any other answer fails for good. Reasons name the
service and the status, never a URL or a token.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.model import SendError

GONE_STATUSES = frozenset({404, 410})


def retry_after(headers: Mapping[str, str] | None = None, body: object = None) -> float | None:
    """Seconds to wait: `retry_after` in a JSON body (more precise where both exist), else the
    Retry-After header in seconds (any case); None when neither says (the outbox then backs off)."""
    if isinstance(body, Mapping):
        value = body.get("retry_after")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return max(0.0, float(value))
    for key, text in (headers or {}).items():
        if key.lower() == "retry-after":
            try:
                seconds = float(text)
            except (TypeError, ValueError):  # an HTTP-date or garbage: back off instead
                return None
            return seconds if seconds >= 0 else None
    return None


def classify(
    status: int,
    *,
    service: str,
    headers: Mapping[str, str] | None = None,
    body: object = None,
    code: str = "",
    gone: bool = False,
    detail: str = "",
) -> SendError | None:
    """None for a 2xx; otherwise the SendError for this answer.

    `code` is the platform's own name for a rate limit, when it has one ("ratelimited"); `gone` says the
    request referred to an existing message (an edit, a thread), so 404/410 means that message is gone;
    `detail` is appended to the reason (an error code from the body, never a secret).
    """
    if 200 <= status < 300:
        return None
    if status == 429:
        return SendError(f"rate limited ({code or status})", retryable=True, retry_after=retry_after(headers, body),
                         rate_limited=True)
    if status >= 500:
        return SendError(f"{service} answered HTTP {status}{detail}", retryable=True)
    if gone and status in GONE_STATUSES:
        return SendError(f"message not found{detail}", retryable=False, message_gone=True)
    return SendError(f"HTTP {status}{detail}", retryable=False)


def unreachable(service: str, error: BaseException) -> SendError:
    """No answer came back (DNS, refused, reset, timeout): retry. Only the error's type is named, because
    an HTTP library's error text can contain the request URL, which may be the secret."""
    return SendError(f"cannot reach {service} ({type(error).__name__})", retryable=True)
