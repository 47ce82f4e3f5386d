"""Open data: the node's public datasets as CSV and JSON-LD."""
