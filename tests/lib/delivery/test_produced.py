"""Every planned piece has exactly one output: what the blocking check counts."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.lib.delivery import produced

PLAN = pd.DataFrame({
    "piece_id": ["P-post", "P-mail", "P-sms"],
    "channel": ["post", "email", "sms"],
})


def outputs(*rows: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=["piece_id", "channel"]).astype("string")


COMPLETE = [("P-post", "post"), ("P-mail", "email"), ("P-sms", "sms")]


@pytest.mark.parametrize(
    ("found", "problem"),
    [
        (COMPLETE, None),  # one output each, on its channel
        (COMPLETE[:2], "missing"),  # the SMS row was never written
        (COMPLETE + [("P-mail", "email")], "repeated"),  # an .eml listed twice
        (COMPLETE + [("P-ghost", "sms")], "unplanned"),  # a text nobody planned
        ([("P-post", "post"), ("P-mail", "sms"), ("P-sms", "sms")], "wrong_channel"),
    ],
)
def test_against_plan(found, problem):
    counts = produced.against_plan(PLAN, outputs(*found))
    problems = [k for k in ("missing", "repeated", "unplanned", "wrong_channel") if counts[k]]
    assert problems == ([problem] if problem else [])
    assert produced.is_complete(counts) is (problem is None)
    assert counts["planned_sms"] == 1


def test_outputs_read_from_the_edition_folders(tmp_path):
    (tmp_path / "letters").mkdir()
    pd.DataFrame({"piece_id": ["P-post"]}).to_csv(tmp_path / "letters" / "manifest.csv",
                                                  index=False, encoding="utf-8-sig")
    (tmp_path / "sms").mkdir()
    pd.DataFrame({"piece_id": ["P-sms"]}).to_csv(tmp_path / "sms" / "messages.csv",
                                                 index=False, encoding="utf-8-sig")
    (tmp_path / "email" / "birthday").mkdir(parents=True)
    (tmp_path / "email" / "birthday" / "P-mail.eml").write_bytes(b"Subject: x\r\n\r\nx\r\n")
    pd.DataFrame({"piece_id": ["P-mail", "P-lost"],
                  "file": ["birthday/P-mail.eml", "birthday/P-lost.eml"]}).to_csv(
        tmp_path / "email" / "outbox.csv", index=False, encoding="utf-8-sig")
    found = produced.outputs(tmp_path / "letters", tmp_path / "newsletters",
                             tmp_path / "sms", tmp_path / "email")
    # the outbox row whose .eml is not there is no output
    assert sorted(zip(found["piece_id"], found["channel"])) == [
        ("P-mail", "email"), ("P-post", "post"), ("P-sms", "sms")]


def test_print_newsletters_are_found_by_their_anchors_in_every_batch(tmp_path):
    """A batch written by WeasyPrint alone and one joined from slices both name each
    piece's anchor; an anchor that is not a newsletter piece's is not an output."""
    from pipeline.lib.documents.pdf import join_pdfs, render_pdf

    def part(ids: list[str]) -> bytes:
        return render_pdf("<html><body>" + "".join(
            f'<section id="{i}" style="break-after: page"><p>会员 {i}</p></section>'
            for i in ids) + "</body></html>", "test batch").pdf

    folder = tmp_path / "newsletters" / "print"
    folder.mkdir(parents=True)
    (folder / "batch-001.pdf").write_bytes(part(["nl-P-1", "cover"]))
    (folder / "batch-002.pdf").write_bytes(join_pdfs([part(["nl-P-2"]), part(["nl-P-3"])]))
    found = produced.outputs(tmp_path / "letters", tmp_path / "newsletters",
                             tmp_path / "sms", tmp_path / "email")
    assert sorted(zip(found["piece_id"], found["channel"])) == [
        ("P-1", "post"), ("P-2", "post"), ("P-3", "post")]
