"""Alembic migrations of the node's schema (run through node.storage.migrate)."""
