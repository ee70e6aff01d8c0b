"""How much history there is, against how much advice needs, in words."""

from __future__ import annotations

from hostkeeper.core.sufficiency import shortfall, span_text


def test_span_text_picks_the_unit_people_use() -> None:
    assert span_text(45) == "45 s"
    assert span_text(20 * 60) == "20 min"
    assert span_text(5.5 * 3600) == "5.5 h"
    assert span_text(24 * 3600) == "24 h"
    assert span_text(3 * 86400) == "3 days"
    assert span_text(-1) == "0 s"


def test_shortfall_names_what_there_is_and_what_is_needed() -> None:
    assert shortfall(1200, 120, 86400, 100) == (
        "not enough data: 20 min of the 24 h needed, 120 values of the 100 needed"
    )
    assert shortfall(86400, 99, 86400, 100) is not None
    assert shortfall(86400, 100, 86400, 100) is None
