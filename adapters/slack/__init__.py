"""Slack: alerts as Block Kit messages that edit and thread themselves, and the /status slash command.

The adapters live in adapter.py (bot modes) and webhook.py; platform.py is what config and the
composition root see. Nothing heavy is imported here, so validating a config never loads slack-bolt.
"""
