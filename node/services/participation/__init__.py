"""The participation chain: needs, circles, proposals, decisions, experiments,
evaluations, replication across territories, and resource offers."""
