"""Loading marts into the warehouse keeps the types their steps gave them."""

import datetime

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.lib.warehouse import load_parquet


def _types(path, table):
    with duckdb.connect(str(path), read_only=True) as con:
        return dict(con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name = ? order by ordinal_position",
            [table]).fetchall())


def _mart(tmp_path, name, table):
    path = tmp_path / f"{name}.parquet"
    pq.write_table(table, path)
    return path


def test_a_mart_without_rows_keeps_its_dates_and_text(tmp_path):
    empty = pa.table({"member_id": pa.array([], pa.string()),
                      "anniversary_date": pa.array([], pa.date32())})
    counts = load_parquet(tmp_path / "w.duckdb", "marts",
                         {"anniversaries": _mart(tmp_path, "a", empty)})
    assert counts == {"marts.anniversaries": 0}
    assert _types(tmp_path / "w.duckdb", "anniversaries") == {
        "member_id": "VARCHAR", "anniversary_date": "DATE"}


def test_ordered_bands_stay_an_enum_in_their_order(tmp_path):
    bands = pa.DictionaryArray.from_arrays(pa.array([2, 0, 1], pa.int8()),
                                           pa.array(["<1d", "1-3d", ">30d"]), ordered=True)
    backlog = pa.table({"complaint_id": ["C1", "C2", "C3"], "age_band": bands,
                        "received_at": [datetime.datetime(2026, 11, 1)] * 3})
    empty = backlog.slice(0, 0)
    load_parquet(tmp_path / "w.duckdb", "marts", {"backlog": _mart(tmp_path, "b", backlog),
                                                 "empty_backlog": _mart(tmp_path, "e", empty)})
    assert _types(tmp_path / "w.duckdb", "backlog")["age_band"] == "ENUM('<1d', '1-3d', '>30d')"
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        ordered = con.execute("select complaint_id from marts.backlog order by age_band").fetchall()
    assert ordered == [("C2",), ("C3",), ("C1",)]  # by band, not alphabetically
    # no rows, no band values: loaded as text rather than refused
    assert _types(tmp_path / "w.duckdb", "empty_backlog")["age_band"] == "VARCHAR"
