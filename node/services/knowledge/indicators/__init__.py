"""Indicators beyond GDP: the catalogue, observations, imports and exports."""
