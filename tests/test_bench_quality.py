"""bench.quality's target table never shows a figure on the wrong side of its goal line by rounding."""

from __future__ import annotations

from bench.quality import decimals, side_by_side, targets


def _data(spf: float, nsb: float, nsb_fts: float, right: float) -> dict:
    def engines(presse: dict, fts: float) -> dict:
        return {"presse": presse, "FTS5 AND": {"mrr@10": fts}, "FTS5 OR": {"mrr@10": 0.1}}

    good = {"mrr@10": 0.9, "pairs_two_slots": 0.0, "right_lang@1": 0.995, "same_top@1": 0.95}
    return {"spf/lookups": {"test": engines({"mrr@10": spf}, 0.1)},
            "nsb/lookups": {"test": engines({**good, "mrr@10": nsb, "right_lang@1": right}, nsb_fts)},
            "nsb/typos": {"test": engines(good, 0)},
            "yukon/lookups": {"test": engines(good, 0.8)},
            "yukon/typos": {"test": engines(good, 0)}}


def test_a_figure_just_below_its_goal_is_not_rounded_up_to_it():
    """SPF at 0.849993 (the 2026-12-02 measure) read "0.850 NO": it now shows the decimal that says why."""
    rows = {r[0]: r for r in targets(_data(0.849993, 0.8551, 0.8549, 0.98996), quick=False).rows}
    assert rows["SPF MRR@10"][2:] == ["0.84999", "NO"]
    assert rows["nsb known-item MRR@10"][2:] == ["0.8551 (FTS5 best 0.8549)", "yes"]
    assert rows["nsb right language at rank 1"][2:] == ["0.98996", "NO"]
    rows = {r[0]: r for r in targets(_data(0.8503, 0.8551, 0.736, 0.995), quick=False).rows}
    assert rows["SPF MRR@10"][2:] == ["0.850", "yes"]  # no more decimals than it takes
    assert rows["nsb known-item MRR@10"][2:] == ["0.855 (FTS5 best 0.736)", "yes"]


def test_decimals_keep_each_side_of_the_line():
    assert decimals(0.8499, 0.85) == "0.8499" and decimals(0.855, 0.85) == "0.855"
    assert decimals(0.0004, 1e-12) == "0.0004" and decimals(0.0, 1e-12) == "0.000"
    assert side_by_side(0.85, 0.85, 0.85) == ("0.850", "0.850")
