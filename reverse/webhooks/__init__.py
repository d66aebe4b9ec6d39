"""Signed webhooks out: subscriptions per integration, deliveries with retries, the log."""
