"""Paged OrderedCollections as Mastodon reads them (it needs `first` to show counts)."""

from typing import Any

from protocols.jsonld.project_context import document_context


def ordered_collection(url: str, total: int) -> dict[str, Any]:
    """The collection's summary: its size and where its first page is."""
    return {
        "@context": document_context(),
        "id": url,
        "type": "OrderedCollection",
        "totalItems": total,
        "first": f"{url}?page=1",
    }


def ordered_collection_page(
    url: str, page: int, total: int, items: list[Any], page_size: int
) -> dict[str, Any]:
    """One page of the collection, with `next`/`prev` links where there are more."""
    document: dict[str, Any] = {
        "@context": document_context(),
        "id": f"{url}?page={page}",
        "type": "OrderedCollectionPage",
        "partOf": url,
        "totalItems": total,
        "orderedItems": items,
    }
    if page * page_size < total:
        document["next"] = f"{url}?page={page + 1}"
    if page > 1:
        document["prev"] = f"{url}?page={page - 1}"
    return document
