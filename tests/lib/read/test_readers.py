from pathlib import Path

import pandas as pd
import pytest

from pipeline.lib.read.readers import ExportError, detect_encoding, load_mapping, read_export
from pipeline.lib.read.schema import COMPLAINTS, MEMBERS

MEMBERS_CSV = Path(__file__).parents[2] / "data" / "exports" / "members.csv"


def transcode(source: Path, target: Path, encoding: str) -> Path:
    target.write_bytes(source.read_text(encoding="utf-8").encode(encoding))
    return target


@pytest.mark.parametrize(
    "encoding, detected",
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),  # Excel's "CSV UTF-8"
        ("gbk", "gb18030"),  # Excel's default "CSV" on Chinese Windows
        ("gb18030", "gb18030"),
        ("utf-16", "utf-16"),  # "Unicode text" from Excel, with BOM
        ("utf-16-le", "utf-16-le"),  # the same without a BOM
    ],
)
def test_every_encoding_reads_the_same_records(tmp_path, encoding, detected):
    path = transcode(MEMBERS_CSV, tmp_path / "members.csv", encoding)
    assert detect_encoding(path) == detected
    raw = read_export(path, MEMBERS, None)
    baseline = read_export(MEMBERS_CSV, MEMBERS, None)
    assert raw.rows_read == baseline.rows_read == 10
    pd.testing.assert_frame_equal(raw.frame, baseline.frame)
    assert raw.frame.loc[0, "name"] == "王伟"


def test_gbk_past_an_ascii_first_megabyte_is_read_as_gbk(tmp_path):
    # The reader trusts a UTF-8 start only as far as Arrow's check of every value.
    path = tmp_path / "members.csv"
    filler = "".join(f"M{i:07d},Wang\n" for i in range(80_000))  # 1.1 MB of ASCII
    path.write_bytes(("member_id,name\n" + filler + "M9,王伟\n").encode("gbk"))
    raw = read_export(path, MEMBERS, None)
    assert raw.encoding == "gb18030"
    assert raw.frame["name"].iloc[-1] == "王伟"
    assert raw.frame["_line"].iloc[-1] == 80_002


def test_utf8_start_and_gbk_later_is_refused_as_mixed(tmp_path):
    path = tmp_path / "members.csv"
    filler = "".join(f"M{i:07d},王伟\n" for i in range(60_000))  # 1.1 MB of UTF-8
    path.write_bytes(("member_id,name\n" + filler).encode() + "M9,李娜\n".encode("gbk"))
    with pytest.raises(ExportError, match=r"line 60002: GBK/GB18030 text, but line 2 is UTF-8"):
        read_export(path, MEMBERS, None)


def test_undecodable_file_names_file_and_line(tmp_path):
    path = tmp_path / "members.csv"
    path.write_bytes("member_id,name\nM1,ok\n".encode() + b"M2,\xff\xfe\xfa\xfb\xfc\n")
    with pytest.raises(ExportError, match=r"members.csv: line 3: neither UTF-8 nor GBK"):
        read_export(path, MEMBERS, None)


def test_physical_line_numbers_count_line_breaks_inside_quotes():
    raw = read_export(MEMBERS_CSV, MEMBERS, None)
    lines = dict(zip(raw.frame["member_id"], raw.frame["_line"]))
    # M0005's address spans lines 6-7, so the record after it starts on line 8.
    assert lines["M0005"] == 6
    assert lines["M0006"] == 8
    assert raw.frame.set_index("_line").loc[6, "address"] == "文三路5号\n2单元301"


def test_quoted_commas_and_quotes_survive():
    raw = read_export(MEMBERS_CSV, MEMBERS, None)
    row = raw.frame.set_index("member_id")
    assert row.loc["M0004", "address"] == "衡山路10号, 2楼"
    assert row.loc["M0005", "name"] == '张 "三"'


def test_chinese_aliases_map_to_canonical_names_and_keep_extra_columns():
    raw = read_export(MEMBERS_CSV, MEMBERS, None)
    assert raw.headers["birth_date"] == "出生日期"
    assert raw.headers["extra:会员等级"] == "会员等级"
    assert "phone" in raw.frame and "extra:会员等级" in raw.frame


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])  # European Excel, TSV, pipe exports
def test_delimiter_is_detected(tmp_path, delimiter):
    path = tmp_path / "members.csv"
    path.write_text(delimiter.join(["member_id", "name"]) + "\nM1" + delimiter + "王伟\n", "utf-8")
    raw = read_export(path, MEMBERS, None)
    assert raw.frame[["member_id", "name"]].values.tolist() == [["M1", "王伟"]]


def test_missing_required_column_names_file_and_column(tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("会员编号,性别\nM1,男\n", "utf-8")
    with pytest.raises(ExportError, match=r"members.csv: line 1: missing required column name"):
        read_export(path, MEMBERS, None)


@pytest.mark.parametrize("content", [b"", b"\n\n", "\ufeff".encode()])  # empty, blank lines, BOM only
def test_empty_file_is_an_error(tmp_path, content):
    path = tmp_path / "members.csv"
    path.write_bytes(content)
    with pytest.raises(ExportError, match="members.csv: line 1: the file is empty"):
        read_export(path, MEMBERS, None)


def test_header_only_file_has_no_records(tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("member_id,name\n", "utf-8")
    assert read_export(path, MEMBERS, None).rows_read == 0


def test_duplicated_header_keeps_the_first_and_reports_the_second(tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("member_id,name,姓名\nM1,王伟,李娜\n", "utf-8")
    raw = read_export(path, MEMBERS, None)
    assert raw.frame.loc[0, "name"] == "王伟"
    assert raw.ignored_headers == [(2, "姓名", "duplicate of column 2 (name)")]


def test_short_and_long_records_are_flagged(tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("member_id,name,gender\nM1,王伟,男\nM2,李娜\nM3,张三,男,extra\n", "utf-8")
    problems = read_export(path, MEMBERS, None).frame["_problem"].tolist()
    assert problems[0] is pd.NA or pd.isna(problems[0])
    assert problems[1] == "the record has 2 fields, the header has 3"
    assert problems[2] == "the record has 4 fields, the header has 3"


def test_mapping_file_renames_headers_and_files(mapped_exports):
    mapping = load_mapping(mapped_exports)
    assert mapping["members"].file == "crm_customers.csv"
    raw = read_export(mapped_exports / "crm_customers.csv", MEMBERS, mapping["members"])
    assert raw.frame[["member_id", "name", "birth_date"]].values.tolist()[0] == [
        "C-1", "Alice Wong", "1980-01-02"
    ]
    complaints = read_export(mapped_exports / "export_2026.csv", COMPLAINTS, mapping["complaints"])
    assert complaints.frame["category"].tolist() == ["Billing", "Noise"]


@pytest.mark.parametrize(
    "yaml_text, message",
    [
        ("customers:\n  file: x.csv\n", "unknown table 'customers'"),  # misspelt table
        ("members:\n  colums: {}\n", "members: unknown key 'colums'"),  # misspelt key
        ("members:\n  columns:\n    birthday: DOB\n", "members.columns: unknown column 'birthday'"),
    ],
)
def test_mapping_errors_name_the_key(tmp_path, yaml_text, message):
    (tmp_path / "columns.yaml").write_text(yaml_text, "utf-8")
    with pytest.raises(ExportError, match=message):
        load_mapping(tmp_path)


def test_xlsx_reads_dates_numbers_and_rows(tmp_path):
    from datetime import datetime

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["会员编号", "姓名", "出生日期", "手机号码", "邮编"])
    sheet.append(["M1", "王伟", datetime(1975, 12, 8), 13812345678, 200120])
    sheet.append([None, None, None, None, None])  # an empty row is not a record
    sheet.append(["M2", "李娜", 33000, "13900001111", "100022"])  # a serial left as a number
    path = tmp_path / "members.xlsx"
    book.save(path)
    raw = read_export(path, MEMBERS, None)
    assert raw.encoding == "xlsx"
    assert raw.frame[["member_id", "birth_date", "phone", "postal_code", "_line"]].values.tolist() == [
        ["M1", "1975-12-08 00:00:00", "13812345678", "200120", 2],
        ["M2", "33000", "13900001111", "100022", 4],
    ]


TRICKY = [
    # (reason, bytes): each file must give the same records and lines on both paths
    ("CRLF line ends", "member_id,name\r\nM1,王伟\r\nM2,李娜\r\n".encode()),
    ("blank lines between records", "member_id,name\n\nM1,王伟\n\r\n\nM2,李娜\n".encode()),
    ("no newline at the end", "member_id,name\nM1,王伟\nM2,李娜".encode()),
    ("quoted CRLF inside a field", 'member_id,name,address\r\nM1,王伟,"a\r\nb"\r\nM2,李娜,c\r\n'.encode()),
    ("doubled quotes and a quoted newline", 'member_id,name\nM1,"张 ""三""\n续"\nM2,x\n'.encode()),
    ("BOM", "\ufeffmember_id,name\nM1,王伟\n".encode()),
    ("GBK", "member_id,name,address\nM1,王伟,\"北京,朝阳\"\n".encode("gbk")),
]


@pytest.mark.parametrize("reason, content", TRICKY, ids=[t[0] for t in TRICKY])
def test_fast_and_careful_readers_agree(tmp_path, reason, content):
    from pipeline.lib.read import readers

    path = tmp_path / "members.csv"
    path.write_bytes(content)
    encoding = readers.detect_encoding(path)
    fast = readers._read_csv_fast(path, encoding, MEMBERS, None)
    careful = readers._read_csv_careful(path, encoding, MEMBERS, None)
    assert fast is not None, "the fast path should accept a regular file"
    pd.testing.assert_frame_equal(fast.frame, careful.frame)
    assert fast.headers == careful.headers


@pytest.mark.parametrize("content", [
    "member_id,name\nM1,王\r伟\n\nM2,李娜\n",  # a lone CR splits a line, a blank one is skipped
    "member_id,name\r\nM1,王\r伟\r\n\r\nM2,李娜\r\n",  # the same with CR LF
    "member_id,name\nM1,王伟\r\r\nM2,李娜\n",  # a line of carriage returns
])
def test_lone_carriage_returns_number_lines_as_the_careful_reader_does(tmp_path, content):
    # Editors (and Python's csv) end a line at a lone CR, the record scan does not.
    from pipeline.lib.read import readers

    path = tmp_path / "members.csv"
    path.write_bytes(content.encode())
    careful = readers._read_csv_careful(path, "utf-8", MEMBERS, None)
    pd.testing.assert_frame_equal(read_export(path, MEMBERS, None).frame, careful.frame)


def test_line_ends_across_the_scan_chunks_count_once(tmp_path, monkeypatch):
    from pipeline.lib.read import readers

    path = tmp_path / "members.csv"
    monkeypatch.setattr(readers, "SCAN_CHUNK", 16)  # each header below fills one chunk
    path.write_bytes(b"member_id,namez\r\nM1,a\r\nM2,b\r\n")  # CR | LF at the seam
    assert readers._line_counts(path) == (False, 3, False)
    path.write_bytes(b"member_id,namez\rM1,a\r\n")  # a lone CR ends the first chunk
    assert readers._line_counts(path) == (False, 1, True)
    path.write_bytes(b"member_id,namez\r")  # and the file
    assert readers._line_counts(path) == (False, 1, True)
    path.write_bytes(b'member_id,name\n"M1",a')  # a quote; no newline at the end
    assert readers._line_counts(path) == (True, 2, False)


def test_ragged_file_takes_the_careful_path_and_keeps_every_record(tmp_path):
    from pipeline.lib.read import readers

    path = tmp_path / "members.csv"
    path.write_text("member_id,name\nM1,王伟\nM2,李娜,extra\nM3,张三\n", "utf-8")
    assert readers._read_csv_fast(path, "utf-8", MEMBERS, None) is None
    raw = read_export(path, MEMBERS, None)
    assert raw.frame["_line"].tolist() == [2, 3, 4]
    assert raw.frame["_problem"].notna().tolist() == [False, True, False]
