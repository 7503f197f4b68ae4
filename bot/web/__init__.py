"""The web server: a status page, a Statuspage-compatible API, /metrics and /healthz (bot/web/server.py)."""
