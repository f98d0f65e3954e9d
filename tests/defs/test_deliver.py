"""The mailing_house step on its own: it packs what the letters step rendered, and a
letters folder that does not add up fails the step with a message naming the batch."""

import zipfile

import dagster as dg
import pytest

from pipeline.defs.deliver.assets import mailing_house
from pipeline.defs.resources import ClubPressSettings
from tests.lib.delivery.test_delivery import letters_folder


def materialize(out):
    return dg.materialize([mailing_house], partition_key="2026-12-01", raise_on_error=False,
                          resources={"settings": ClubPressSettings(out_dir=str(out))})


def render_letters(out, batches):
    settings = ClubPressSettings(out_dir=str(out))
    return letters_folder(settings.render_dir("2026-12", "letters").parent, batches)


def test_packs_the_rendered_letters(tmp_path):
    render_letters(tmp_path, {"birthday/batch-001.pdf": [1, 2]})
    result = materialize(tmp_path)
    assert result.success
    archive = tmp_path / ".work" / "render" / "2026-12" / "delivery" / "mailing-house-2026-12.zip"
    with zipfile.ZipFile(archive) as opened:
        assert "mailing-house-2026-12/birthday/batch-001.pdf" in opened.namelist()
    metadata = result.asset_materializations_for_node("mailing_house")[0].metadata
    assert (metadata["pieces"].value, metadata["pages"].value) == (2, 3)


def test_a_manifest_batch_missing_from_the_letters_fails_the_step(tmp_path):
    letters = render_letters(tmp_path, {"birthday/batch-001.pdf": [1],
                                        "birthday/batch-002.pdf": [1]})
    (letters / "birthday" / "batch-002.pdf").unlink()  # lost between rendering and packing
    result = materialize(tmp_path)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    message = failure.event_specific_data.error.cause.message
    assert "mailing-house-2026-12.zip failed verification" in message
    assert "birthday/batch-002.pdf: in manifest.csv (1 pieces) but not in the archive" in message


@pytest.mark.parametrize("pages", [[1], [1, 1, 1]])  # 1 or 3 pages where 2 are listed
def test_page_counts_that_do_not_add_up_fail_the_step(tmp_path, pages):
    letters = render_letters(tmp_path, {"birthday/batch-001.pdf": [1, 1]})
    replacement = letters_folder(tmp_path / "other", {"birthday/batch-001.pdf": pages})
    (letters / "birthday" / "batch-001.pdf").write_bytes(
        (replacement / "birthday" / "batch-001.pdf").read_bytes())
    result = materialize(tmp_path)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert (f"birthday/batch-001.pdf: {sum(pages)} pages, but its manifest pieces add up to 2"
            in failure.event_specific_data.error.cause.message)
