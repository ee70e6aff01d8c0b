from __future__ import annotations

from hostkeeper.core.output import DEFAULT_OUTPUT_LIMIT, truncate_output


def test_short_output_is_kept_whole() -> None:
    assert truncate_output("hello\n") == "hello\n"
    text = "x" * DEFAULT_OUTPUT_LIMIT
    assert truncate_output(text) == text


def test_long_output_keeps_head_and_tail_within_the_limit() -> None:
    text = "HEAD" + "x" * 10_000 + "TAIL"
    result = truncate_output(text, limit=1000)
    assert len(result) == 1000
    assert result.startswith("HEAD")
    assert result.endswith("TAIL")
    assert f"[{len(text) - 1000} characters omitted]" in result
