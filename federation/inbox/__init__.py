"""Receiving activities: authenticate and store (receive.py), then apply (worker.py)."""
