"""Bundled JSON-LD context documents, served by protocols.jsonld.loader (see SOURCES.md)."""
