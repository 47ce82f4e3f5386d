"""Territorial knowledge: the map of actors, places and flows, and the indicators."""
