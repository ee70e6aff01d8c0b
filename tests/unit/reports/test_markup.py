"""The escaping builder the charts are made with: text and attribute values escaped,
names checked, and its result printed as it is by the templates."""

from __future__ import annotations

import pytest

from hostkeeper.reports.markup import Fragment, element, join


def test_text_and_attribute_values_are_escaped() -> None:
    made = element("text", {"data-label": '"><script>x</script>', "x": 1.25, "n": 3}, ["a<&b"])
    assert str(made) == (
        '<text data-label="&quot;&gt;&lt;script&gt;x&lt;/script&gt;" x="1.2" n="3">'
        "a&lt;&amp;b</text>"
    )


def test_children_built_by_the_builder_are_kept_and_empty_elements_close_themselves() -> None:
    inner = element("title", {}, ["t"])
    assert str(element("g", {"class": "points", "skip": None}, [inner, None])) == (
        '<g class="points"><title>t</title></g>'
    )
    assert str(element("circle", {"r": "1"})) == '<circle r="1"/>'
    assert str(join([inner, inner])) == "<title>t</title><title>t</title>"


def test_a_fragment_is_printed_by_templates_through_html_dunder() -> None:
    assert Fragment("<b>").__html__() == "<b>"


@pytest.mark.parametrize("name", ["text onload=alert(1)", "a>b", "", "1x"])
def test_a_tag_that_is_not_a_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a markup name"):
        element(name)


def test_an_attribute_that_is_not_a_name_is_refused() -> None:
    with pytest.raises(ValueError, match="not a markup name"):
        element("text", {'x" onload="alert(1)': 1})
