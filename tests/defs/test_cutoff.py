"""One cut-off rule for every table: data up to the end of the cut-off day counts.

A purchase and a complaint at the same minute on the cut-off day are both history; a
purchase and a complaint at midnight after it are both left out. Checked through the
steps themselves (staging, segments, complaint statistics), as a run builds them."""

from datetime import date, datetime

import dagster as dg
import pytest

from pipeline.defs.complaints.assets import complaint_stats
from pipeline.defs.ingest.assets import stg_complaints, stg_members, stg_transactions
from pipeline.defs.resources import ClubPressSettings, ParquetIOManager
from pipeline.defs.segments.assets import segments
from pipeline.lib.edition import Edition

AS_OF = "2026-11-20"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("cutoff")
    exports = root / "exports"
    exports.mkdir()
    (exports / "members.csv").write_text(
        "member_id,name,join_date\n"
        "M1,王伟,2020-01-01\n"   # buys and complains at 10:00 on the cut-off day
        "M2,李娜,2020-01-01\n",  # buys and complains at midnight after it
        encoding="utf-8")
    (exports / "transactions.csv").write_text(
        "txn_id,member_id,date,amount\n"
        "T1,M1,2026-11-20 10:00,100\n"
        "T2,M2,2026-11-21 00:00,100\n", encoding="utf-8")
    (exports / "complaints.csv").write_text(
        "complaint_id,member_id,received_at,category,severity\n"
        "C1,M1,2026-11-20 10:00,维修,一般\n"
        "C2,M2,2026-11-21 00:00,维修,一般\n", encoding="utf-8")
    out = root / "out"
    result = dg.materialize(
        [stg_members, stg_transactions, stg_complaints, segments, complaint_stats],
        partition_key="2026-12-01",
        resources={
            "settings": ClubPressSettings(exports_dir=str(exports), out_dir=str(out),
                                          warehouse=str(root / "w.duckdb"), as_of=AS_OF),
            "io_manager": ParquetIOManager(base_dir=str(out / ".work")),
        },
    )
    assert result.success
    return result


def test_a_purchase_on_the_cut_off_day_counts_and_one_at_midnight_after_does_not(built):
    frame = built.output_for_node("segments").set_index("member_id")
    assert frame.loc["M1", "lifecycle_stage"] == "new"  # bought at 10:00 on the cut-off day
    assert frame.loc["M2", "lifecycle_stage"] == "prospect"  # bought after the cut-off


def test_a_complaint_on_the_cut_off_day_counts_and_one_at_midnight_after_does_not(built):
    stats = built.output_for_node("complaint_stats")
    counted = stats[stats["category"] == "all"]
    assert counted["received"].sum() == 1  # C1 at 10:00 on the cut-off day; C2 is after it
    assert list(counted["month"].astype(str).str[:7]) == ["2026-11"]


def test_the_edition_carries_month_window_and_cut_off_instant():
    edition = Edition.of_partition("2028-02-01", date(2028, 1, 31))
    assert (edition.month, edition.first_day, edition.last_day) == (
        "2028-02", date(2028, 2, 1), date(2028, 2, 29))  # a leap February
    assert edition.cutoff_at == datetime(2028, 2, 1)  # midnight after the cut-off day
    assert Edition.after(date(2026, 12, 31)).month == "2027-01"  # the year turns
    assert Edition.after(date(2026, 12, 6), month="2031-04").partition_key == "2031-04-01"
