"""Input checks do work linear in their input, with the size limit applied before the work
(issue 18 #4): hostile input is measured by what the check reads and holds, not by time."""

from __future__ import annotations

import tracemalloc

import pytest

from docgraph.errors import BadInput
from docgraph.services.validation import MAX_TAGS, clean_content_types, clean_metadata, clean_tags


class CountedList(list):
    """A list that counts the items read from it."""

    read = 0

    def __iter__(self):
        for item in list.__iter__(self):
            self.read += 1
            yield item


def _peak_bytes(check, value) -> int:
    """Peak memory allocated while `check(value)` runs (it must refuse the value)."""
    tracemalloc.start()
    try:
        with pytest.raises(BadInput):
            check(value)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_too_many_tags_are_refused_before_any_tag_is_read():
    tags = CountedList(f"tag-{n}" for n in range(40_000))  # 0.3 MB: was 7.7 s of quadratic clean-up
    with pytest.raises(BadInput, match=f"At most {MAX_TAGS} tags"):
        clean_tags(tags)
    assert tags.read == 0


def test_tags_are_trimmed_and_deduplicated_in_order():
    assert clean_tags([" b ", "a", "b", "a "]) == ["b", "a"]
    assert clean_tags(None) == [] and clean_tags([]) == []


def test_too_many_content_types_are_refused_before_any_is_read():
    types = CountedList(["application/pdf"] * 10_000)
    with pytest.raises(BadInput):
        clean_content_types(types, field="contentTypes", max_count=50)
    assert types.read == 0
    assert clean_content_types(["Text/Plain; charset=utf-8", "text/plain"], field="t", max_count=2) == ["text/plain"]


@pytest.mark.parametrize("shape", ["many keys", "one long string", "a long list"])
def test_metadata_over_the_limit_is_refused_without_being_encoded(shape):
    big = {"many keys": {f"key-{n}": n for n in range(100_000)},
           "one long string": {"text": "x" * 1_000_000},
           "a long list": {"list": list(range(200_000))}}[shape]
    # Encoding it (as before) held over a megabyte; the walk stops at the 16 KiB limit.
    assert _peak_bytes(clean_metadata, big) < 64 * 1024


def test_deeply_nested_metadata_is_bad_input_not_a_recursion_error():
    deep: dict = {}
    inner = deep
    for _ in range(5_000):
        inner["k"] = {}
        inner = inner["k"]
    with pytest.raises(BadInput, match="nest at most 16 levels"):
        clean_metadata(deep)
    nested_16: dict = {}
    inner = nested_16
    for _ in range(15):
        inner["k"] = {}
        inner = inner["k"]
    assert clean_metadata(nested_16) is nested_16


def test_metadata_at_the_limit_is_accepted_and_one_byte_more_is_not():
    overhead = len('{"k":""}')
    assert clean_metadata({"k": "v" * (16 * 1024 - overhead)})
    with pytest.raises(BadInput):
        clean_metadata({"k": "v" * (16 * 1024 - overhead + 1)})
