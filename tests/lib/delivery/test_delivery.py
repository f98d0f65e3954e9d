"""The mailing-house archive: reproducible bytes, and verification that catches damage."""

import hashlib
import io
import zipfile

import pandas as pd
import pytest
from pypdf import PdfWriter

from pipeline.lib.delivery.delivery import (
    DeliveryError,
    check,
    mailing_files,
    pack,
    sha256sums,
    verify,
    write_archive,
)


def pdf(pages: int) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def letters_folder(root, batches: dict[str, list[int]]):
    """A letters folder as the letters step writes it: batch PDFs by kind, a manifest
    whose pieces' pages add up to each batch, and a README."""
    folder = root / "letters"
    rows = []
    for batch, pieces in batches.items():
        data = pdf(sum(pieces))
        (folder / batch).parent.mkdir(parents=True, exist_ok=True)
        (folder / batch).write_bytes(data)
        first = 1
        for number, pages in enumerate(pieces):
            rows.append({"piece_id": f"{batch}-{number}", "member_id": f"M{number}",
                         "kind": batch.split("/")[0], "batch": batch, "first_page": first,
                         "page_count": pages, "name": "王伟",
                         "batch_sha256": hashlib.sha256(data).hexdigest()})
            first += pages
    pd.DataFrame(rows).to_csv(folder / "manifest.csv", index=False, encoding="utf-8-sig")
    (folder / "README.txt").write_text("说明 / instructions\n", encoding="utf-8-sig")
    return folder


@pytest.fixture
def letters(tmp_path):
    return letters_folder(tmp_path, {"birthday/batch-001.pdf": [1, 2],
                                     "birthday/batch-002.pdf": [1],
                                     "festival-winter/batch-001.pdf": [2]})


def rewrite(archive, change):
    """Copy the archive entry by entry, letting `change(name, data)` alter or drop one."""
    with zipfile.ZipFile(archive) as source:
        entries = [(i.filename, source.read(i)) for i in source.infolist()]
    with zipfile.ZipFile(archive, "w") as target:
        for name, data in entries:
            data = change(name, data)
            if data is not None:
                target.writestr(name, data)


def test_archive_holds_every_batch_the_manifest_readme_and_checksums(letters, tmp_path):
    archive = write_archive(letters, tmp_path / "delivery", "2026-12")
    assert archive.name == "mailing-house-2026-12.zip"
    with zipfile.ZipFile(archive) as opened:
        names = opened.namelist()
        sums = opened.read("mailing-house-2026-12/SHA256SUMS").decode("ascii")
    assert names == sorted(names)  # sorted entries, one top folder
    assert names == [f"mailing-house-2026-12/{n}" for n in [
        "README.txt", "SHA256SUMS", "birthday/batch-001.pdf", "birthday/batch-002.pdf",
        "festival-winter/batch-001.pdf", "manifest.csv"]]
    expected = hashlib.sha256((letters / "birthday" / "batch-002.pdf").read_bytes()).hexdigest()
    assert f"{expected}  birthday/batch-002.pdf\n" in sums  # `sha256sum -c` format
    own = (tmp_path / "delivery" / "mailing-house-2026-12.zip.sha256").read_text("ascii")
    assert own == f"{hashlib.sha256(archive.read_bytes()).hexdigest()}  {archive.name}\n"
    assert check(archive) == {"files": 5, "batches": 3, "pieces": 4, "pages": 6, "problems": []}


def test_same_letters_give_the_same_bytes_whenever_and_wherever_packed(letters, tmp_path):
    first = write_archive(letters, tmp_path / "one", "2026-12").read_bytes()
    for path in letters.rglob("*"):  # later modification times must not leak in
        if path.is_file():
            path.touch()
    second = write_archive(letters, tmp_path / "two", "2026-12").read_bytes()
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as opened:
        assert {i.date_time for i in opened.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.external_attr >> 16 for i in opened.infolist()} == {0o100644}


def test_only_mailing_files_are_packed(letters):
    (letters / "notes.tmp").write_text("scratch")
    assert "notes.tmp" not in mailing_files(letters)
    assert mailing_files(letters)[:2] == ["README.txt", "birthday/batch-001.pdf"]


@pytest.mark.parametrize("change, problem", [
    # a batch damaged after packing: its checksum no longer matches
    (lambda n, d: d + b"x" if n.endswith("birthday/batch-002.pdf") else d,
     "birthday/batch-002.pdf: sha256 does not match SHA256SUMS"),
    # a batch lost: listed in the checksums and in the manifest, absent from the archive
    (lambda n, d: None if n.endswith("festival-winter/batch-001.pdf") else d,
     "festival-winter/batch-001.pdf: in manifest.csv (1 pieces) but not in the archive"),
    # the checksum file itself removed
    (lambda n, d: None if n.endswith("SHA256SUMS") else d, "SHA256SUMS is missing"),
])
def test_verify_names_what_is_wrong(letters, tmp_path, change, problem):
    archive = write_archive(letters, tmp_path, "2026-12")
    rewrite(archive, change)
    assert problem in verify(archive)["problems"]


def test_an_entry_not_in_the_checksums_is_reported(letters, tmp_path):
    archive = write_archive(letters, tmp_path, "2026-12")
    with zipfile.ZipFile(archive, "a") as opened:
        opened.writestr("mailing-house-2026-12/extra.txt", b"slipped in")
    assert verify(archive)["problems"] == ["extra.txt: in the archive but not listed in SHA256SUMS"]


def test_manifest_pages_must_add_up_to_each_batch(tmp_path):
    letters = letters_folder(tmp_path, {"birthday/batch-001.pdf": [1, 1]})
    manifest = pd.read_csv(letters / "manifest.csv", dtype=str, encoding="utf-8-sig")
    manifest.loc[1, "page_count"] = "2"  # the manifest claims 3 pages, the PDF has 2
    manifest.to_csv(letters / "manifest.csv", index=False, encoding="utf-8-sig")
    archive = write_archive(letters, tmp_path / "delivery", "2026-12")
    with pytest.raises(DeliveryError, match=r"mailing-house-2026-12.zip failed verification: "
                       r"birthday/batch-001.pdf: 2 pages, but its manifest pieces add up to 3"):
        check(archive)


def test_a_batch_unknown_to_the_manifest_is_reported(letters, tmp_path):
    (letters / "birthday" / "batch-003.pdf").write_bytes(pdf(1))
    archive = write_archive(letters, tmp_path, "2026-12")
    assert verify(archive)["problems"] == [
        "birthday/batch-003.pdf: a batch no manifest row refers to"
    ]


def test_no_letters_this_month_still_gives_a_valid_archive(tmp_path):
    folder = tmp_path / "letters"
    folder.mkdir()
    (folder / "manifest.csv").write_text("piece_id,batch,page_count,batch_sha256\n", "utf-8-sig")
    (folder / "README.txt").write_text("none\n", "utf-8-sig")
    result = check(write_archive(folder, tmp_path / "delivery", "2026-12"))
    assert (result["batches"], result["pieces"], result["pages"]) == (0, 0, 0)


def test_sha256sums_is_sorted_by_path():
    text = sha256sums({"b.pdf": b"2", "a.pdf": b"1"})
    assert [line.split("  ")[1] for line in text.splitlines()] == ["a.pdf", "b.pdf"]


def test_corrupt_archive_is_reported_not_raised(tmp_path):
    broken = tmp_path / "mailing-house-2026-12.zip"
    broken.write_bytes(b"not a zip")
    assert verify(broken)["problems"][0].startswith("mailing-house-2026-12.zip cannot be opened")
    with pytest.raises(DeliveryError):
        check(broken)
    assert pack({"a.pdf": b"1"}, "x") == pack({"a.pdf": b"1"}, "x")
