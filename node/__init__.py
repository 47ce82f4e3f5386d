"""The Maillage application: domain, storage, services, web pages and endpoints, CLI."""

__version__ = "0.1.0"
