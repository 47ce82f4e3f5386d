"""ActivityPub behaviour: inbox pipeline, delivery log, signed fetch. Never imports node."""
