"""The territory's concepts and their rules; no I/O."""
