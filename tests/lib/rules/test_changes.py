"""changes.md: what a rerun of an edition on different inputs changed, by id only."""

import json

import pandas as pd
import pytest

from pipeline.lib.rules.changes import (
    LISTED,
    compare,
    markdown,
    md,
    read_snapshot,
    snapshot,
    summary,
)


def record(members_sha="a" * 64, as_of="2026-11-20", config_sha="c" * 64):
    return {
        "edition": "2026-12", "as_of": as_of,
        "inputs": [{"table": "members", "file": "members.csv", "encoding": "utf-8",
                    "sha256": members_sha}],
        "config": {"file": "club.yaml", "sha256": config_sha},
        "timings_seconds": {"stg_members": 0.5},
    }


def segments(rows: dict[str, str | None]) -> pd.DataFrame:
    return pd.DataFrame({"member_id": list(rows), "rfm_segment": pd.array(list(rows.values()),
                                                                          dtype="string")})


def manifest(pieces: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"piece_id": list(pieces), "kind": list(pieces.values())})


BEFORE = snapshot(record(), segments({"M1": "Champions", "M2": "At Risk", "M3": None, "M4": "At Risk"}),
                  manifest({"202612-birthday-M1": "birthday", "202612-birthday-M2": "birthday"}))


def test_first_run_has_nothing_to_compare():
    assert compare(None, BEFORE, "2026-12") is None
    assert summary(None) is None


def test_same_inputs_give_no_changes_even_if_timings_differ():
    again = record()
    again["timings_seconds"] = {"stg_members": 9.9}
    current = snapshot(again, segments({"M1": "Champions"}), manifest({}))
    assert compare(BEFORE, current, "2026-12") is None


@pytest.mark.parametrize("changed", [
    record(members_sha="b" * 64),  # an export file changed
    record(as_of="2026-11-25"),  # a later cut-off
    record(config_sha="d" * 64),  # another club.yaml
])
def test_any_changed_input_is_a_change(changed):
    current = snapshot(changed, segments({"M1": "Champions", "M2": "At Risk", "M3": None,
                                          "M4": "At Risk"}), manifest({}))
    changes = compare(BEFORE, current, "2026-12")
    assert changes is not None and len(changes.inputs_changed) == 1


def test_members_added_removed_and_moved_and_letters_added_and_withdrawn():
    current = snapshot(
        record(members_sha="b" * 64),
        # M2 removed; M5 added; M1 Champions -> At Risk; M3 bought for the first time
        segments({"M1": "At Risk", "M3": "Potential Loyalists", "M4": "At Risk", "M5": None}),
        manifest({"202612-birthday-M1": "birthday", "202612-festival-winter-M5": "festival-winter"}),
    )
    changes = compare(BEFORE, current, "2026-12")
    assert changes.members_added == ["M5"]
    assert changes.members_removed == ["M2"]
    assert changes.moves == [("M1", "Champions", "At Risk"),
                             ("M3", "(no purchase)", "Potential Loyalists")]
    assert changes.letters_added == [("202612-festival-winter-M5", "festival-winter")]
    assert changes.letters_withdrawn == [("202612-birthday-M2", "birthday")]
    assert summary(changes) == {
        "members_added": 1, "members_removed": 1, "members_moved_segment": 2,
        "segment_moves": {"(no purchase) → Potential Loyalists": 1, "Champions → At Risk": 1},
        "letters_added": 1, "letters_withdrawn": 1,
    }
    text = markdown(changes)
    assert "| members added | 1 |" in text and "| letters withdrawn | 1 |" in text
    assert "- M1: Champions → At Risk" in text
    assert "- 202612-birthday-M2 (birthday)" in text
    assert "members: members.csv sha256 aaaaaaaaaaaa… → members.csv sha256 bbbbbbbbbbbb…" in text


def test_long_lists_are_capped_but_counts_are_complete():
    many = {f"N{i:04d}": "Low Priority" for i in range(LISTED + 25)}
    current = snapshot(record(members_sha="b" * 64), segments({**many, "M1": "Champions",
                       "M2": "At Risk", "M3": None, "M4": "At Risk"}), manifest({}))
    changes = compare(BEFORE, current, "2026-12")
    text = markdown(changes)
    assert "| members added | 75 |" in text
    assert f"- N{LISTED - 1:04d}" in text and f"- N{LISTED:04d}" not in text
    assert "- … and 25 more (see tables/segments.csv)" in text


def test_changes_md_holds_ids_not_names_and_escapes_crm_text():
    current = snapshot(record(members_sha="b" * 64),
                       segments({"M1": "Champions", "M2": "At Risk", "M3": None, "M4": "At Risk",
                                 "# <b>x</b>|y": None}), manifest({}))
    text = markdown(compare(BEFORE, current, "2026-12"))
    assert "- \\# \\<b\\>x\\</b\\>\\|y" in text  # literal, not a heading, HTML or a table cell
    assert "王伟" not in text


@pytest.mark.parametrize("text, expected", [
    ("M0001", "M0001"),  # ordinary ids are left alone
    ("202612-birthday-M0001", "202612-birthday-M0001"),  # a dash inside is harmless
    ("1. x", "1\\. x"),  # would start an ordered list
    ("a\nb", "a b"),  # one line
    ("*x*", "\\*x\\*"),  # no emphasis
])
def test_md_escapes_only_what_markdown_would_interpret(text, expected):
    assert md(text) == expected


def test_read_snapshot_needs_a_published_edition(tmp_path):
    assert read_snapshot(tmp_path / "2026-12") is None
    edition = tmp_path / "2026-12"
    (edition / "tables").mkdir(parents=True)
    (edition / "letters").mkdir()
    (edition / "run.json").write_text(json.dumps(record()), "utf-8")
    segments({"M1": "Champions", "M3": None}).to_parquet(edition / "tables" / "segments.parquet")
    assert read_snapshot(edition) is None  # no manifest: not comparable
    manifest({"202612-birthday-M1": "birthday"}).to_csv(
        edition / "letters" / "manifest.csv", index=False, encoding="utf-8-sig")
    found = read_snapshot(edition)
    assert found.segments == {"M1": "Champions", "M3": "(no purchase)"}
    assert found.pieces == {"202612-birthday-M1": "birthday"}
    assert found.fingerprint == {k: record()[k] for k in ("as_of", "inputs", "config")}
