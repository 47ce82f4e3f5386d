"""Paged OrderedCollections as Mastodon reads them (it needs `first` to show counts)."""

from typing import Any

from protocols.jsonld.project_context import document_context


def empty_ordered_collection(url: str, page: str | None = None) -> dict[str, Any]:
    """A collection that has no item yet, or its first page when `page` is given."""
    if page is not None:
        return {
            "@context": document_context(),
            "id": f"{url}?page=1",
            "type": "OrderedCollectionPage",
            "partOf": url,
            "totalItems": 0,
            "orderedItems": [],
        }
    return {
        "@context": document_context(),
        "id": url,
        "type": "OrderedCollection",
        "totalItems": 0,
        "first": f"{url}?page=1",
    }
