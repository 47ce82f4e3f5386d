"""JSON from outside: nesting bounded, refusals with a reason, never RecursionError."""

from __future__ import annotations

import json

import pytest

from protocols.json_input import MAX_JSON_DEPTH, JsonRefused, json_depth_exceeds, parse_json
from protocols.jsonld.loader import compact, expand
from protocols.jsonld.project_context import ACTIVITYSTREAMS_CONTEXT


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    "text",
    [
        nested(10_000),
        '{"a":' * 10_000 + "1" + "}" * 10_000,
        '{"a":' * 800 + "1" + "}" * 800,
        nested(MAX_JSON_DEPTH + 1),
        '{"object": {"attachment": [' + nested(MAX_JSON_DEPTH) + "]}}",
    ],
    ids=["array 10000", "object 10000", "object 800", "just too deep", "deep inside"],
)
def test_deep_json_is_refused(text: str) -> None:
    with pytest.raises(JsonRefused, match=f"nested deeper than {MAX_JSON_DEPTH} levels"):
        parse_json(text)
    with pytest.raises(JsonRefused):
        parse_json(text.encode())


def test_json_up_to_the_limit_and_bad_json() -> None:
    assert parse_json(nested(MAX_JSON_DEPTH)) == json.loads(nested(MAX_JSON_DEPTH))
    assert parse_json(b'{"type": "Note", "tag": [{"href": "https://a.example/"}]}')["type"]
    for text in (b"{not json", b"\xff\xfe", b""):
        with pytest.raises(JsonRefused, match="not valid JSON"):
            parse_json(text)
    assert not json_depth_exceeds({"a": [{"b": 1}]}, 3)
    assert json_depth_exceeds({"a": [{"b": []}]}, 3)


def test_jsonld_processing_refuses_deep_documents() -> None:
    document: dict[str, object] = {"type": "Note", "content": "x"}
    for _ in range(2_000):
        document = {"type": "Note", "attachment": document}
    document |= {"@context": [ACTIVITYSTREAMS_CONTEXT, {"foo": "https://x.example/foo"}]}
    with pytest.raises(JsonRefused):
        expand(document)
    with pytest.raises(JsonRefused):
        compact(document, ACTIVITYSTREAMS_CONTEXT)
