"""Keeping secrets out of logs: filters that rewrite a log record before any handler sees it."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence


class Redact(logging.Filter):
    """Replaces any of the given secret values that reaches a record's message with '***'."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            clean = message
            for secret in self.secrets:
                clean = clean.replace(secret, "***")
            if clean != message:
                record.msg, record.args = clean, None
        return True


class MaskPattern(logging.Filter):
    """Masks the secret part of URLs matching `pattern` (group 1 is kept, the rest of the match hidden)."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        super().__init__()
        self.pattern = pattern

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.pattern.sub(r"\1***", message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def mask_in_library_log(logger: str, pattern: re.Pattern[str]) -> None:
    """Idempotent: one MaskPattern for `pattern` on `logger`. A library such as httpx logs request URLs at
    INFO, and a webhook URL's last part is its secret; a logger's filters see only its own records, so the
    filter goes on that logger, whatever handlers and levels the embedding program configures."""
    target = logging.getLogger(logger)
    if not any(isinstance(f, MaskPattern) and f.pattern == pattern for f in target.filters):
        target.addFilter(MaskPattern(pattern))


def hide_in_library_log(logger: str, secrets: Sequence[str]) -> None:
    """Idempotent: a Redact filter for these exact values on `logger`, for secrets with no fixed shape
    (a generic webhook URL may hold its token anywhere) that a library logs as part of a request."""
    target = logging.getLogger(logger)
    wanted = [s for s in secrets if s and len(s) >= 6]
    if not any(isinstance(f, Redact) and f.secrets == wanted for f in target.filters):
        target.addFilter(Redact(wanted))
