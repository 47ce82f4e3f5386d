"""Use cases of the node: each one transaction."""
