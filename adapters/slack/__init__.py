"""Slack: alerts as Block Kit messages that edit and thread themselves, and the /status slash command."""

from adapters.slack.adapter import SlackAdapter
from adapters.slack.render import render_alert, render_change, render_reply
from adapters.slack.webhook import SlackWebhookAdapter

__all__ = ["SlackAdapter", "SlackWebhookAdapter", "render_alert", "render_change", "render_reply"]
