"""Property-based fuzzing of every parser in protocols/ fed from outside: whatever comes in,
only the parser's typed refusal may come out (bench/fuzz.py runs the same with far more cases)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.testrig.fuzz_targets import PARSERS, Parser, check_parser

#: cases per parser in the test suite; `python -m bench --only fuzz` runs thousands
CASES = 150


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.name)
def test_parsers_only_raise_their_typed_refusals(parser: Parser) -> None:
    @settings(
        max_examples=CASES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(parser.inputs)
    def feed(value: Any) -> None:
        check_parser(parser, value)

    feed()
