"""Turn Slack's answers (status, error code, Retry-After) into SendError values, and say what to do about them.

Slack's error codes map onto the shared retry rule (adapters/retry.py): 429 and 5xx retry, the rest fail.
Nothing here ever sees a token or a webhook URL.
"""

from __future__ import annotations

from collections.abc import Mapping

from adapters import retry
from bot.model import SendError

# Error codes that mean "try again later" even when the HTTP status is 200/4xx.
RATE_LIMITED_ERRORS = frozenset({"ratelimited", "rate_limited"})
RETRYABLE_ERRORS = frozenset(
    {"service_unavailable", "fatal_error", "internal_error", "request_timeout", "rollup_error"}
)
# The message we want to edit or thread under is gone (or not ours any more): re-post a fresh parent.
GONE_ERRORS = frozenset({"message_not_found", "cant_update_message", "edit_window_closed", "thread_not_found"})

# What a workspace admin should do, per error code. `{channel}` is filled in; never a secret.
HINTS: Mapping[str, str] = {
    "channel_not_found": "check the channel {channel} in the config (use the channel ID for private channels) "
    "and invite the bot to it",
    "not_in_channel": "invite the bot to {channel} (type `/invite @downwatch` in the channel)",
    "is_archived": "{channel} is archived: unarchive it or route the alerts to another channel",
    "channel_is_archived": "{channel} is archived: unarchive it or route the alerts to another channel",
    "restricted_action": "a workspace setting stops the bot from posting in {channel}: ask an admin",
    "action_prohibited": "a workspace admin restricted this webhook: ask an admin, or create a new webhook",
    "invalid_auth": "check SLACK_BOT_TOKEN (the xoxb- token from the app's OAuth & Permissions page)",
    "not_authed": "check SLACK_BOT_TOKEN: no token was sent",
    "account_inactive": "the app was uninstalled or the token deactivated: reinstall it and update SLACK_BOT_TOKEN",
    "token_revoked": "the token was revoked: reinstall the app and update SLACK_BOT_TOKEN",
    "token_expired": "the token expired: reinstall the app and update SLACK_BOT_TOKEN",
    "missing_scope": "add the chat:write scope to the app (see adapters/slack/manifest.yaml) and reinstall it",
    "invalid_token": "check SLACK_WEBHOOK_URL: Slack does not know this webhook",
    "no_service": "check SLACK_WEBHOOK_URL: the webhook was disabled or removed",
    "no_service_id": "check SLACK_WEBHOOK_URL: it is incomplete",
    "no_team": "check SLACK_WEBHOOK_URL: the workspace is unknown",
    "team_disabled": "the Slack workspace was disabled",
    "invalid_blocks": "a bug in downwatch's Slack rendering: please report it with this log line",
    "msg_too_long": "a bug in downwatch's Slack rendering: please report it with this log line",
    "msg_blocks_too_long": "a bug in downwatch's Slack rendering: please report it with this log line",
    "invalid_payload": "a bug in downwatch's Slack rendering: please report it with this log line",
}


def classify(
    *, status: int | None, error: str | None, headers: Mapping[str, str] | None = None, editing: bool = False
) -> SendError:
    """A refused or failed call as a SendError. Slack also answers with an error code, often under HTTP 200:
    its rate-limit codes count as a 429, its transient codes as a 5xx, its gone codes flag the parent;
    the HTTP status decides the rest (adapters.retry)."""
    code = error or ""
    if code in RATE_LIMITED_ERRORS:
        status = 429
    if status is not None and (status == 429 or status >= 500):
        return retry.classify(status, service="Slack", headers=headers, code=code,
                              detail=f" ({code})" if code else "") or SendError(code, retryable=False)
    if code in RETRYABLE_ERRORS:
        return SendError(f"Slack is unavailable ({code})", retryable=True)
    if code in GONE_ERRORS:
        what = "the message to edit" if editing else "the thread's parent message"
        return SendError(f"{what} is gone ({code})", retryable=False, message_gone=True)
    result = retry.classify(status, service="Slack", detail=f" ({code})" if code else "") if status else None
    return result or SendError(code or "refused", retryable=False)  # a 2xx that carries an error code


def hint(code: str | None, channel: str) -> str:
    """What to do about an error code, naming the channel; empty when there is nothing useful to say."""
    text = HINTS.get(code or "")
    return text.format(channel=channel) if text else ""
