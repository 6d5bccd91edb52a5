"""The memory of photos without a face: bounded, the oldest forgotten first."""

from __future__ import annotations

from bot.faceless import FacelessPhotos


def test_faceless_photos_are_remembered_up_to_a_limit_oldest_forgotten_first() -> None:
    faceless = FacelessPhotos(limit=3)
    for file_id in ("a", "b", "c"):
        faceless.add(file_id)
    faceless.add("a")  # seen again: the newest now
    faceless.add("d")
    assert len(faceless) == 3
    assert "b" not in faceless and all(f in faceless for f in ("a", "c", "d"))
    faceless.discard("c")
    faceless.discard("never added")
    assert "c" not in faceless and len(faceless) == 2
