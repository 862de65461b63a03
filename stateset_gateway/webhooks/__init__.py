"""Webhook delivery: the dispatcher that turns outbox events into signed HTTP requests."""
