"""Alerts: typed messages to every configured notifier (log, email, Slack, Telegram); never blocking."""
