"""Greeting letters as the mailing house and the members see them: text read back from
the PDFs with pypdf, the manifest checked against the files it describes."""

from __future__ import annotations

import hashlib
import re
from datetime import date

import pandas as pd
import pytest
from pypdf import PdfReader

from pipeline.config import EnvelopeWindow, load_config
from pipeline.lib.documents import letters, pdf
from pipeline.lib.documents.pdf import RenderError
from pipeline.settings import PATHS

EDITION = "2026-12"
HOSTILE_NAME = '<img src="file:///etc/passwd">{{ 7*7 }}'

# member_id, name, salutation, language, province, city, district, postal_code
MEMBERS = [
    ("M01", "王伟", "mr", "zh-CN", "上海市", "上海市", "浦东新区", "200120"),
    ("M02", "陳美玲", "ms", "zh-TW", "福建省", "厦门市", "思明区", "361001"),
    ("M03", "Emma Clarke", "ms", "en", "北京市", "北京市", "朝阳区", "100020"),
    ("M04", "张建国", "mr", "zh-CN", "江苏省", "南京市", "鼓楼区", "210008"),
    ("M05", "Robert Hale", "mr", "en", "广东省", "广州市", "天河区", "510620"),
    ("M06", "𠮷喆", "ms", "zh-CN", "浙江省", "杭州市", "西湖区", "310012"),
    ("M07", "王堃燊", "mr", "zh-CN", "四川省", "成都市", "武侯区", "610041"),
    ("M08", HOSTILE_NAME, "mr", "zh-CN", "湖北省", "武汉市", "江汉区", "430015"),
    ("M09", "刘芳", "ms", "zh-CN", "天津市", "天津市", "和平区", "300041"),
]
# member_id, kind, household_size
PLAN = [
    ("M01", "birthday", 1), ("M02", "birthday", 1), ("M03", "birthday", 1),
    ("M04", "birthday", 1), ("M05", "birthday", 1), ("M06", "birthday", 1),
    ("M07", "birthday", 1), ("M08", "birthday", 1),
    ("M01", "festival-winter-solstice", 2),
    ("M09", "anniversary-membership", 1), ("M04", "anniversary-ownership", 1),
]
# member_id, birthday, age, milestone
BIRTHDAYS = [
    ("M01", "2026-12-08", 44, False), ("M02", "2026-12-09", 37, False),
    ("M03", "2026-12-10", 29, False), ("M04", "2026-12-11", 70, True),
    ("M05", "2026-12-12", 80, True), ("M06", "2026-12-13", 33, False),
    ("M07", "2026-12-14", 51, False), ("M08", "2026-12-15", 40, False),
]


def _members() -> pd.DataFrame:
    rows = pd.DataFrame(MEMBERS, columns=["member_id", "name", "salutation", "language",
                                          "province", "city", "district", "postal_code"])
    return rows.assign(
        address=[f"幸福路{n}号" for n in range(1, len(rows) + 1)],
        household_id=["H01", pd.NA, pd.NA, pd.NA, pd.NA, pd.NA, pd.NA, pd.NA, pd.NA],
        join_date=pd.to_datetime(["2020-01-01"] * 8 + ["2021-12-05"]),
        move_in_date=pd.to_datetime(["2019-01-01", None, None, "2022-12-20"] + [None] * 5),
    )


def _plan(rows=PLAN) -> pd.DataFrame:
    """Contact-plan rows (every piece by post), as pipeline.lib.rules.contact writes them."""
    plan = pd.DataFrame(rows, columns=["member_id", "kind", "household_size"])
    households = _members().set_index("member_id")["household_id"]
    return plan.assign(
        channel="post",
        piece_id=EDITION.replace("-", "") + "-" + plan["kind"] + "-" + plan["member_id"],
        household_id=plan["member_id"].map(households),
        priority=1,
    )


def _birthdays() -> pd.DataFrame:
    frame = pd.DataFrame(BIRTHDAYS, columns=["member_id", "birthday", "age", "milestone"])
    return frame.assign(birthday=[date.fromisoformat(d) for d in frame["birthday"]],
                        calendar="solar")


def _anniversaries() -> pd.DataFrame:
    return pd.DataFrame({
        "member_id": ["M09", "M04"],
        "anniversary_date": [date(2026, 12, 5), date(2026, 12, 20)],
        "years": [5, 4],
        "kind": ["membership", "ownership"],
    })


def _festivals() -> pd.DataFrame:
    return pd.DataFrame({
        "date": [date(2026, 12, 22), date(2026, 12, 25)],
        "name": ["冬至", "圣诞节"],
        "name_en": ["Winter Solstice", "Christmas Day"],
        "kind": ["festival", "festival"],
    })


def _pieces(plan: pd.DataFrame | None = None) -> pd.DataFrame:
    return letters.letter_pieces(_plan() if plan is None else plan, _members(), _birthdays(),
                                 _anniversaries(), _festivals(), EDITION)


def _config(**print_settings):
    config = load_config()
    return config.model_copy(update={"print": config.print.model_copy(update=print_settings)})


def _text(page) -> str:
    return re.sub(r"\s+", "", page.extract_text())


class _Fetches:
    """Every URL WeasyPrint asks for while the letters render."""

    def __init__(self):
        self.urls: list[str] = []


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    """One A4 edition written once: (letters dir, manifest, fetched URLs)."""
    fetches = _Fetches()
    original = pdf.AssetFetcher.fetch

    def recording(self, url, headers=None):
        fetches.urls.append(url)
        return original(self, url, headers)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pdf.AssetFetcher, "fetch", recording)
        out = tmp_path_factory.mktemp("letters")
        manifest = letters.write_letters(_pieces(), _config(batch_size=5), EDITION, out)
    return out, manifest, fetches.urls


@pytest.fixture(scope="module")
def pages(edition):
    """piece_id -> text of the piece's pages, whitespace removed."""
    out, manifest, _ = edition
    readers = {b: PdfReader(out / b) for b in manifest["batch"].unique()}
    return {
        row.piece_id: "".join(_text(readers[row.batch].pages[p])
                              for p in range(row.first_page - 1, row.first_page - 1 + row.page_count))
        for row in manifest.itertuples()
    }


def _piece(kind: str, member: str) -> str:
    return f"202612-{kind}-{member}"


# --- what members read ---------------------------------------------------------------


def test_birthday_letter_for_a_zh_cn_man(pages):
    text = pages[_piece("birthday", "M01")]
    assert "尊敬的王先生" in text
    assert "2026年12月1日" in text  # the date line
    assert "12月8日" in text  # his birthday
    assert "200120上海市浦东新区幸福路1号王伟先生收" in text  # window, city not repeated
    assert "信函编号202612-birthday-M01" in text  # the footer, for returned mail


def test_birthday_letter_for_a_zh_tw_woman_is_traditional(pages):
    text = pages[_piece("birthday", "M02")]
    assert "尊敬的陳女士" in text
    assert "生日快樂" in text and "本俱樂部全體同仁" in text and "敬禮" in text
    assert "生日快乐" not in text and "敬礼" not in text


def test_birthday_letter_for_an_english_member(pages):
    text = pages[_piece("birthday", "M03")]
    assert "DearMsClarke," in text
    assert "HappyBirthday" in text and "1December2026" in text
    assert "EmmaClarke女士收" in text  # the window speaks to the Chinese postman


@pytest.mark.parametrize(
    ("member", "wording"),
    [
        ("M04", "七十大寿"),  # zh-CN, 70: 七十大寿, not a plain 生日快乐
        ("M05", "Happy80thBirthday"),  # en, 80: the age in the heading
    ],
)
def test_milestone_birthday_names_the_age(pages, member, wording):
    assert wording in pages[_piece("birthday", member)]


def test_household_letter_is_addressed_to_the_household(edition, pages):
    _, manifest, _ = edition
    assert manifest.set_index("piece_id").loc[_piece("festival-winter-solstice", "M01"),
                                              "household_id"] == "H01"
    text = pages[_piece("festival-winter-solstice", "M01")]
    assert "王府收" in text
    assert "尊敬的王府阖家" in text and "您和家人" in text
    assert "王伟先生收" not in text


def test_festival_and_anniversary_letters_by_kind(pages):
    assert "冬至安康" in pages[_piece("festival-winter-solstice", "M01")]
    assert "相伴五周年" in pages[_piece("anniversary-membership", "M09")]
    assert "2021年12月5日" in pages[_piece("anniversary-membership", "M09")]  # joined
    assert "乔迁四周年" in pages[_piece("anniversary-ownership", "M04")]


def test_rare_name_characters_print(pages):
    # 𠮷 lies outside the BMP; 喆 堃 燊 are common in names but rare elsewhere.
    assert letters.missing_glyphs("𠮷喆堃燊", letters.FONT_FAMILIES) == set()
    assert "𠮷喆女士收" in pages[_piece("birthday", "M06")]
    assert "王堃燊先生收" in pages[_piece("birthday", "M07")]


def test_markup_in_a_name_is_printed_as_text_and_fetches_nothing(edition, pages):
    _, _, fetched = edition
    text = pages[_piece("birthday", "M08")]
    assert re.sub(r"\s+", "", HOSTILE_NAME) in text
    assert "49" not in text
    roots = (PATHS.templates.resolve().as_uri(), PATHS.assets.resolve().as_uri())
    assert fetched and all(url.startswith(roots) for url in fetched)


@pytest.mark.parametrize(
    ("key", "name", "language", "wording"),
    [
        ("spring", "春节", "zh-CN", "马年新春佳节"),  # 2026: the Year of the Horse
        ("spring", "春节", "en", "Year of the Horse"),
        ("dragon-boat", "端午节", "zh-CN", "端午安康"),
        ("mid-autumn", "中秋节", "zh-TW", "花好月圓"),
        ("double-ninth", "重阳节", "zh-CN", "敬老爱老"),  # 重阳: respect for elders
        ("double-ninth", "重阳节", "en", "honour our elders"),
        ("club-day", "会员日", "zh-CN", "值此会员日"),  # a club date: the generic wording
        ("club-day", "会员日", "en", "On the occasion of Club Day"),
    ],
)
def test_festival_wording_by_key(key, name, language, wording):
    piece = {
        "piece_id": f"p-{key}", "kind": f"festival-{key}", "language": language,
        "name": "王伟", "salutation": "mr", "household_size": 1, "postal_code": "200120",
        "province": "上海市", "city": "上海市", "district": "浦东新区", "address": "幸福路1号",
        "occasion_date": pd.Timestamp("2026-02-17"), "age": None, "milestone": None,
        "years": None, "since_date": None, "festival_key": key, "festival_name": name,
        "festival_name_en": "Club Day" if key == "club-day" else "",
    }
    html = letters.batch_html([letters.piece_view(piece)], letters.club_view(load_config()),
                              EDITION, pad_to_sheet=False)
    assert wording in html


# --- what the mailing house gets -----------------------------------------------------


def test_manifest_has_exactly_the_contract_columns_in_utf8_with_bom(edition):
    out, manifest, _ = edition
    raw = (out / "manifest.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header = raw[3:].decode("utf-8").splitlines()[0]
    assert header.split(",") == list(letters.MANIFEST_COLUMNS)
    assert list(manifest.columns) == list(letters.MANIFEST_COLUMNS)
    assert len(pd.read_csv(out / "manifest.csv", encoding="utf-8-sig")) == len(PLAN)


def test_manifest_pages_and_sha256_match_the_batch_files(edition):
    out, manifest, _ = edition
    for batch, rows in manifest.groupby("batch", sort=False):
        content = (out / batch).read_bytes()
        assert rows["batch_sha256"].eq(hashlib.sha256(content).hexdigest()).all()
        firsts, counts = rows["first_page"].tolist(), rows["page_count"].tolist()
        assert firsts[0] == 1
        assert firsts[1:] == [f + c for f, c in zip(firsts, counts)][:-1]
        assert sum(counts) == len(PdfReader(out / batch).pages)


def test_batches_split_at_batch_size_in_postcode_order(edition):
    _, manifest, _ = edition
    birthday = manifest[manifest["kind"] == "birthday"]
    assert birthday.groupby("batch", sort=True).size().to_dict() == {
        "birthday/batch-001.pdf": 5, "birthday/batch-002.pdf": 3}
    codes = birthday["postal_code"].tolist()
    assert codes == sorted(codes)  # the whole folder, hence each batch, by postcode
    assert set(manifest["kind"]) == {"birthday", "anniversary", "festival-winter-solstice"}


def test_readme_tells_the_mailing_house_what_to_do(edition):
    out, manifest, _ = edition
    readme = (out / "README.txt").read_text(encoding="utf-8-sig")
    for words in ("2026-12", "A4", "90 × 45 mm", "birthday/batch-002.pdf", "sha256",
                  "first_page", "piece_id", "postal-code order", "邮政编码", "单面"):
        assert words.lower() in readme.lower()
    assert f"{len(manifest)}" in readme


def _positions(page) -> list[tuple[str, float, float]]:
    """(text, x, y) of each text run, in mm from the sheet's top left (baseline)."""
    height = float(page.mediabox.height)
    runs = []

    def visit(text, cm, tm, font, size):
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        runs.append((text.strip(), x / 72 * 25.4, (height - y) / 72 * 25.4))

    page.extract_text(visitor_text=visit)
    return runs


def test_address_and_return_line_show_through_the_envelope_window(edition):
    out, manifest, _ = edition
    row = manifest.set_index("piece_id").loc[_piece("birthday", "M01")]
    window = load_config().print.envelope_window
    runs = _positions(PdfReader(out / row["batch"]).pages[int(row["first_page"]) - 1])
    wanted = ("2 0 0 1 2 0", "上海市浦东新区", "幸福路1号", "王伟 先生 收",
              "业主俱乐部服务中心 上海市")  # the last is the return line
    found = [(t, x, y) for t, x, y in runs if t.startswith(wanted)]
    assert len(found) == len(wanted)
    for text, x, y in found:
        assert window.left_mm < x < window.left_mm + window.width_mm, text
        assert window.top_mm < y < window.top_mm + window.height_mm, text


def test_address_lines_in_the_manifest(edition):
    _, manifest, _ = edition
    row = manifest.set_index("piece_id").loc[_piece("birthday", "M01")]
    assert row["address_lines"] == "200120 | 上海市浦东新区 | 幸福路1号 | 王伟 先生 收"


# --- paper, duplex, refusals ---------------------------------------------------------


A5_WINDOW = EnvelopeWindow(left_mm=30, top_mm=50, width_mm=85, height_mm=40)


@pytest.fixture(scope="module")
def duplex_a5(tmp_path_factory):
    """Three letters on A5, printed on both sides, for an envelope with its own window."""
    out = tmp_path_factory.mktemp("a5")
    plan = _plan([("M01", "birthday", 1), ("M03", "birthday", 1), ("M04", "birthday", 1)])
    config = _config(paper="A5", duplex=True, envelope_window=A5_WINDOW)
    return out, letters.write_letters(_pieces(plan), config, EDITION, out)


def test_duplex_starts_every_piece_on_a_new_sheet(duplex_a5):
    out, manifest = duplex_a5
    reader = PdfReader(out / "birthday/batch-001.pdf")
    assert manifest["first_page"].tolist() == [1, 3, 5]  # odd pages: fronts of sheets
    assert manifest["page_count"].tolist() == [2, 2, 2]  # the blank back counted
    assert len(reader.pages) == 6
    assert all(_text(reader.pages[n]) == "" for n in (1, 3, 5))  # backs really are blank


def test_duplex_adds_no_blank_sheet_after_a_letter_that_ends_on_a_back(tmp_path, monkeypatch):
    # Letters in a large type run to two pages: the last one already ends on a back
    # page, so the batch must end there rather than with a blank sheet after it.
    monkeypatch.setitem(letters.FONT_PT, "A5", 16)
    letters._stylesheet.cache_clear()
    plan = _plan([("M01", "birthday", 1), ("M03", "birthday", 1)])
    config = _config(paper="A5", duplex=True, envelope_window=A5_WINDOW)
    manifest = letters.write_letters(_pieces(plan), config, EDITION, tmp_path)
    letters._stylesheet.cache_clear()
    reader = PdfReader(tmp_path / "birthday/batch-001.pdf")
    assert manifest["page_count"].tolist() == [2, 2]
    assert manifest["first_page"].tolist() == [1, 3]
    assert len(reader.pages) == 4
    assert _text(reader.pages[3]) != ""  # the last page is the letter's, not a blank


def test_a5_paper_size_is_honoured(duplex_a5):
    out, _ = duplex_a5
    box = PdfReader(out / "birthday/batch-001.pdf").pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (148, 210)


def test_the_configured_window_is_honoured(duplex_a5):
    out, _ = duplex_a5
    runs = _positions(PdfReader(out / "birthday/batch-001.pdf").pages[0])
    x, y = next((x, y) for text, x, y in runs if text == "Emma Clarke 女士 收")
    assert A5_WINDOW.left_mm < x < A5_WINDOW.left_mm + A5_WINDOW.width_mm
    assert A5_WINDOW.top_mm < y < A5_WINDOW.top_mm + A5_WINDOW.height_mm


def test_a_character_no_font_has_stops_the_render_naming_the_piece(tmp_path):
    pieces = _pieces(_plan([("M01", "birthday", 1), ("M02", "birthday", 1)]))
    pieces.loc[pieces["member_id"] == "M02", "name"] = "陳\ue000"
    with pytest.raises(RenderError, match="202612-birthday-M02.*U\\+E000"):
        letters.write_letters(pieces, _config(), EDITION, tmp_path)
    assert not list(tmp_path.rglob("*.pdf"))


def test_an_edition_without_letters_writes_a_header_and_says_so(tmp_path):
    manifest = letters.write_letters(_pieces(_plan([])), _config(), EDITION, tmp_path)
    assert manifest.empty
    assert (tmp_path / "manifest.csv").read_text(encoding="utf-8-sig").strip() == ",".join(
        letters.MANIFEST_COLUMNS)
    assert "no greeting letters" in (tmp_path / "README.txt").read_text(encoding="utf-8-sig")


# --- pure helpers ----------------------------------------------------------------------


def test_letter_pieces_keeps_post_greetings_only():
    plan = pd.concat([_plan(), _plan([("M02", "newsletter", 1)]),
                      _plan([("M03", "festival-winter-solstice", 1)]).assign(channel="email")])
    pieces = _pieces(plan)
    assert len(pieces) == len(PLAN)
    assert list(pieces.columns) == list(letters.PIECE_COLUMNS)
    solstice = pieces[pieces["kind"] == "festival-winter-solstice"].iloc[0]
    assert (solstice["festival_name"], solstice["occasion_date"]) == ("冬至", pd.Timestamp("2026-12-22"))


def test_letter_pieces_refuses_a_piece_without_its_occasion():
    with pytest.raises(ValueError, match="202612-festival-qixi-M01"):
        _pieces(_plan([("M01", "festival-qixi", 1)]))  # no 七夕 in December


def test_a_month_without_festivals_gives_birthday_letters_and_no_festival_rows():
    # January 2027 has no festival of the fixture's list: the filtered frame is empty, and
    # pandas 3 fills an empty frame with rows of NA when a Series of another index is
    # assigned to it (this broke every run of an edition month without a festival).
    plan = _plan([("M01", "birthday", 1)]).assign(piece_id="202701-birthday-M01")
    born = _birthdays().iloc[:1].assign(birthday=[date(2027, 1, 8)])
    pieces = letters.letter_pieces(plan, _members(), born, _anniversaries().iloc[0:0],
                                   _festivals(), "2027-01")
    assert pieces[["piece_id", "occasion_date"]].values.tolist() == [
        ["202701-birthday-M01", pd.Timestamp("2027-01-08")]]
    assert pieces["festival_key"].isna().all()


@pytest.mark.parametrize(
    ("kind", "folder"),
    [
        ("birthday", "birthday"),
        ("anniversary-membership", "anniversary"),  # both anniversaries share a folder
        ("anniversary-ownership", "anniversary"),
        ("festival-mid-autumn", "festival-mid-autumn"),
        ("festival-../x", "festival-___x_" + hashlib.sha256(b"../x").hexdigest()[:8]),  # no paths
    ],
)
def test_letter_folder(kind, folder):
    assert letters.letter_folder(kind) == folder


@pytest.mark.parametrize(
    ("number", "words"),
    [(1, "一"), (4, "四"), (10, "十"), (12, "十二"), (20, "二十"), (70, "七十"),
     (100, "一百"), (105, "一百零五"), (110, "一百一十")],  # 十 alone, 零 inside, 一十 after 百
)
def test_chinese_numerals(number, words):
    assert letters.chinese_numeral(number) == words


def _sliced(pieces: pd.DataFrame, config, cuts: list[int], folder) -> tuple[bytes, pd.DataFrame]:
    """A batch rendered as slices (as render shards do) and joined; its file and manifest."""
    bounds = [0, *cuts, len(pieces)]
    parts = [letters.Batch("birthday", 1, pieces.iloc[a:b].reset_index(drop=True), n, len(cuts) + 1)
             for n, (a, b) in enumerate(zip(bounds, bounds[1:]), start=1)]
    rows = letters.render_batches(parts[::-1], config, EDITION, folder)  # any order
    manifest = letters.join_slices(rows, folder)
    return (folder / "birthday" / "batch-001.pdf").read_bytes(), manifest


@pytest.mark.parametrize("print_settings", [{}, {"paper": "A5", "duplex": True}],
                         ids=["A4", "A5-duplex"])
def test_a_batch_laid_out_in_slices_prints_exactly_as_one_document(tmp_path, print_settings):
    """Render shards may each lay out a slice of one batch: the joined file shows the
    same pages, pixel for pixel at 100 dpi, with the same text, every font embedded and
    each font subset under a name of its own; the manifest points at the same pages."""
    from tests.pages import differing_pixels, fonts, page_texts

    config = _config(batch_size=50, **print_settings)
    pieces = next(b.pieces for b in letters.batches(_pieces(), 50) if b.folder == "birthday")
    whole_rows = letters.render_batches([letters.Batch("birthday", 1, pieces)], config, EDITION,
                                        tmp_path / "whole")
    whole = (tmp_path / "whole" / "birthday" / "batch-001.pdf").read_bytes()
    joined, manifest = _sliced(pieces, config, [3, 5], tmp_path / "sliced")
    assert differing_pixels(whole, joined) == [0] * len(page_texts(whole))
    assert page_texts(joined) == page_texts(whole)
    used = fonts(joined)
    assert used and all(embedded for _, embedded in used)
    assert len({name for name, _ in used}) == len(used)  # one name per distinct subset
    columns = ["piece_id", "first_page", "page_count"]
    in_order = [m[columns].astype(int, errors="ignore").sort_values("first_page")
                .reset_index(drop=True).astype(str) for m in (manifest, whole_rows)]
    assert in_order[0].equals(in_order[1])
    assert set(manifest["batch_sha256"]) == {hashlib.sha256(joined).hexdigest()}
    assert sorted(p.name for p in (tmp_path / "sliced" / "birthday").iterdir()) == ["batch-001.pdf"]
    again, _ = _sliced(pieces, config, [3, 5], tmp_path / "again")
    assert again == joined  # byte-identical reruns


# --- mail-by dates and drops -----------------------------------------------------------


@pytest.mark.parametrize(
    ("occasion", "as_of", "lead", "mail_by"),
    [
        ("2026-12-30", "2026-11-20", 7, "2026-12-23"),  # a week before the birthday
        ("2026-12-03", "2026-11-30", 7, "2026-11-30"),  # never before the cut-off
        ("2026-12-22", "2026-11-20", 0, "2026-12-22"),  # lead 0: on the day itself
    ],
)
def test_mail_by_is_the_occasion_minus_the_lead_never_before_as_of(occasion, as_of, lead, mail_by):
    found, _ = letters.mail_dates(pd.Series([occasion]), date.fromisoformat(as_of), lead)
    assert found.dt.strftime("%Y-%m-%d").tolist() == [mail_by]


def test_monthly_is_one_drop_on_the_earliest_mail_by():
    _, drop = letters.mail_dates(pd.Series(["2026-12-08", "2026-12-30"]), date(2026, 11, 20), 7)
    assert drop.dt.strftime("%Y-%m-%d").tolist() == ["2026-12-01", "2026-12-01"]


@pytest.fixture(scope="module")
def weekly(tmp_path_factory):
    out = tmp_path_factory.mktemp("weekly")
    pieces = letters.letter_pieces(_plan(), _members(), _birthdays(), _anniversaries(),
                                   _festivals(), EDITION, date(2026, 11, 20), 7, "weekly")
    config = _config(batch_size=5, drops="weekly")
    return out, letters.write_letters(pieces, config, EDITION, out)


def test_weekly_drops_hold_only_pieces_whose_mail_by_is_in_their_week(weekly):
    out, manifest = weekly
    for column in ("occasion_date", "mail_by", "drop_on"):
        assert manifest[column].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    mail_by = pd.to_datetime(manifest["mail_by"])
    drop = pd.to_datetime(manifest["drop_on"])
    assert (drop.dt.day_of_week == 0).all()  # Mondays (as_of is long before)
    assert ((mail_by >= drop) & (mail_by <= drop + pd.Timedelta(days=6))).all()
    assert (mail_by <= pd.to_datetime(manifest["occasion_date"])).all()
    assert manifest.groupby("batch")["drop_on"].nunique().max() == 1  # one drop per batch
    # birthdays of 8..15 December: mail by 1..8 December; six in the week of 30 November
    # (five to a batch), two in the week of 7 December, numbered on
    birthday = manifest[manifest["kind"] == "birthday"]
    assert birthday.groupby("drop_on")["batch"].unique().map(list).to_dict() == {
        "2026-11-30": ["birthday/batch-001.pdf", "birthday/batch-002.pdf"],
        "2026-12-07": ["birthday/batch-003.pdf"]}
    for _, rows in birthday.groupby("batch"):
        assert rows["postal_code"].tolist() == sorted(rows["postal_code"])


def test_readme_lists_each_drop_with_its_date_batches_pieces_and_pages(weekly):
    out, manifest = weekly
    readme = (out / "README.txt").read_text(encoding="utf-8-sig")
    assert "one drop per week" in readme
    for drop_on, rows in manifest.groupby("drop_on"):
        line = next(line for line in readme.splitlines() if line.startswith(drop_on))
        pages = rows["page_count"].astype(int).sum()
        assert f" {len(rows)} " in line and f" {pages} " in line
        assert all(batch in line for batch in rows["batch"].unique())



def test_member_extra_reaches_the_letter_view():
    # the export's own columns (staged as JSON in `extra`) are member.extra[...] in a letter
    members = _members().assign(extra=['{"会员等级": "金卡"}'] + ['{}'] * 8)
    pieces = letters.letter_pieces(_plan([("M01", "birthday", 1)]), members, _birthdays(),
                                   _anniversaries(), _festivals(), EDITION)
    view = letters.piece_view(pieces.to_dict("records")[0])
    assert view["extra"] == {"会员等级": "金卡"}


def test_a_birthday_prints_its_date_on_a_line_of_its_own(pages):
    """The date under the heading, not inside a paragraph: the zh-CN birthday letters of
    four members on four days then share one background (documents/stamp.py)."""
    assert "生日快乐2026年12月8日尊敬的王" in pages[_piece("birthday", "M01")]
    assert "值此您生日来临之际" in pages[_piece("birthday", "M01")]
    assert "HappyBirthday10December2026DearMsClarke" in pages[_piece("birthday", "M03")]
    pieces = _pieces()
    same = pieces[pieces["piece_id"].isin(
        [_piece("birthday", m) for m in ("M01", "M06", "M07", "M08")])]
    splits = letters.split_pieces(same, _config(), EDITION)
    assert len({s.key for s in splits}) == 1
    assert [s.parts["dates"] for s in splits] == [
        "2026年12月8日", "2026年12月13日", "2026年12月14日", "2026年12月15日"]
