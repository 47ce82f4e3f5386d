"""Abuse limits: login throttling, posting per hour, and the log of what they refused."""
