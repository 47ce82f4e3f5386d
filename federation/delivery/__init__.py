"""Sending: an append-only outbox log, one cursor per destination host, a worker per host."""
