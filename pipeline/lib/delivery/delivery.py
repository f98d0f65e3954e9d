"""The mailing-house delivery: the letters folder as one checked, reproducible archive.

`delivery/mailing-house-YYYY-MM.zip` holds, under one folder `mailing-house-YYYY-MM/`,
`README.txt`, `manifest.csv`, every `<kind>/batch-NNN.pdf` and `SHA256SUMS` (the
`sha256sum -c` format) of all of them. Entries are sorted, stamped 1980-01-01 00:00 with
mode 0644 and compressed at a fixed level, so the same letters give the same bytes.
`delivery/mailing-house-YYYY-MM.zip.sha256` is the archive's own checksum, for the
transfer.

`verify` reopens the archive and returns every problem: a checksum that does not match,
an entry not listed or listed and missing, a manifest batch not in the archive, a batch
whose page count differs from the manifest's pages or whose bytes differ from its
`batch_sha256`.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path, PurePosixPath

import pandas as pd
from pypdf import PdfReader

SUMS = "SHA256SUMS"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
FILE_MODE = 0o100644  # a regular file, rw-r--r--
COMPRESSION_LEVEL = 6


class DeliveryError(Exception):
    """The mailing-house archive does not hold exactly what the letters folder does."""


def archive_name(edition: str) -> str:
    return f"mailing-house-{edition}.zip"


def mailing_files(letters_dir: Path) -> list[str]:
    """The files of the letters folder that go to the mailing house, as sorted POSIX
    paths relative to it: README.txt, manifest.csv and every batch PDF."""
    found = [p.relative_to(letters_dir).as_posix() for p in letters_dir.rglob("*") if p.is_file()]
    return sorted(f for f in found if f in ("README.txt", "manifest.csv") or f.endswith(".pdf"))


def sha256sums(contents: dict[str, bytes]) -> str:
    """`sha256sum` output for the files, sorted by path (`<hex>  <path>` per line)."""
    return "".join(f"{hashlib.sha256(data).hexdigest()}  {path}\n"
                   for path, data in sorted(contents.items()))


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so the mode below is read as one
    info.external_attr = FILE_MODE << 16
    return info


def pack(contents: dict[str, bytes], folder: str) -> bytes:
    """A deterministic zip of `contents` (relative path -> bytes) plus SHA256SUMS, every
    entry under `folder/`."""
    if SUMS in contents:
        raise DeliveryError(f"the letters folder already holds a file named {SUMS}")
    files = {**contents, SUMS: sha256sums(contents).encode("ascii")}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compresslevel=COMPRESSION_LEVEL) as archive:
        for path in sorted(files):
            archive.writestr(_entry(f"{folder}/{path}"), files[path])
    return buffer.getvalue()


def write_archive(letters_dir: Path, delivery_dir: Path, edition: str) -> Path:
    """Pack `letters_dir` into `delivery_dir/mailing-house-<edition>.zip` and write its
    `.sha256` beside it; returns the archive's path."""
    contents = {f: (letters_dir / f).read_bytes() for f in mailing_files(letters_dir)}
    name = archive_name(edition)
    data = pack(contents, name.removesuffix(".zip"))
    delivery_dir.mkdir(parents=True, exist_ok=True)
    target = delivery_dir / name
    target.write_bytes(data)
    (delivery_dir / f"{name}.sha256").write_text(sha256sums({name: data}), encoding="ascii")
    return target


def _sums(text: str) -> tuple[dict[str, str], list[str]]:
    listed, problems = {}, []
    for number, line in enumerate(text.splitlines(), start=1):
        digest, sep, path = line.partition("  ")
        if not sep or len(digest) != 64 or not path:
            problems.append(f"{SUMS} line {number} is not '<sha256>  <path>': {line[:80]!r}")
        else:
            listed[path] = digest
    return listed, problems


def verify(archive: Path) -> dict:
    """Reopen the archive and check it against its SHA256SUMS and manifest.

    Returns counts (`files`, `batches`, `pieces`, `pages`) and `problems`, a list of
    sentences naming the entry at fault (empty when the archive is good).
    """
    problems: list[str] = []
    try:
        opened = zipfile.ZipFile(archive)
    except (OSError, zipfile.BadZipFile) as error:
        return {"files": 0, "batches": 0, "pieces": 0, "pages": 0,
                "problems": [f"{archive.name} cannot be opened: {error}"]}
    with opened:
        folder = archive.name.removesuffix(".zip")
        entries = {}
        for info in opened.infolist():
            path = PurePosixPath(info.filename)
            if path.parts[0] != folder or len(path.parts) < 2 or ".." in path.parts:
                problems.append(f"{info.filename}: outside the folder {folder}/")
                continue
            try:
                entries["/".join(path.parts[1:])] = opened.read(info)
            except (zipfile.BadZipFile, OSError) as error:  # a CRC error, a truncated entry
                problems.append(f"{info.filename}: cannot be read: {error}")
    if SUMS not in entries:
        problems.append(f"{SUMS} is missing")
    listed, bad_lines = _sums(entries.pop(SUMS, b"").decode("ascii", "replace"))
    problems += bad_lines
    for path in sorted(listed.keys() - entries.keys()):
        problems.append(f"{path}: listed in {SUMS} but not in the archive")
    for path in sorted(entries.keys() - listed.keys()):
        problems.append(f"{path}: in the archive but not listed in {SUMS}")
    for path in sorted(listed.keys() & entries.keys()):
        if hashlib.sha256(entries[path]).hexdigest() != listed[path]:
            problems.append(f"{path}: sha256 does not match {SUMS}")
    for required in ("README.txt", "manifest.csv"):
        if required not in entries:
            problems.append(f"{required} is missing")
    manifest = _manifest(entries.get("manifest.csv"), problems)
    pages = _check_batches(manifest, entries, problems)
    pdfs = sorted(p for p in entries if p.endswith(".pdf"))
    for path in sorted(set(pdfs) - set(manifest["batch"])):
        problems.append(f"{path}: a batch no manifest row refers to")
    return {"files": len(entries), "batches": len(pdfs), "pieces": len(manifest),
            "pages": pages, "problems": problems}


def _manifest(data: bytes | None, problems: list[str]) -> pd.DataFrame:
    columns = ["piece_id", "batch", "page_count", "batch_sha256"]
    if data is None:
        return pd.DataFrame(columns=columns)
    manifest = pd.read_csv(io.BytesIO(data), dtype=str, encoding="utf-8-sig", keep_default_na=False)
    missing = [c for c in columns if c not in manifest]
    if missing:
        problems.append(f"manifest.csv lacks the column(s) {', '.join(missing)}")
        return pd.DataFrame(columns=columns)
    return manifest


def _check_batches(manifest: pd.DataFrame, entries: dict[str, bytes], problems: list[str]) -> int:
    """Every manifest batch is in the archive, with the manifest's bytes and pages."""
    total = 0
    for batch, rows in manifest.groupby("batch", sort=True):
        data = entries.get(batch)
        if data is None:
            problems.append(f"{batch}: in manifest.csv ({len(rows)} pieces) but not in the archive")
            continue
        if set(rows["batch_sha256"]) != {hashlib.sha256(data).hexdigest()}:
            problems.append(f"{batch}: bytes differ from its batch_sha256 in manifest.csv")
        try:
            expected = int(pd.to_numeric(rows["page_count"]).sum())
        except ValueError:
            problems.append(f"{batch}: page_count in manifest.csv is not a number")
            continue
        try:
            pages = len(PdfReader(io.BytesIO(data)).pages)
        except Exception as error:  # pypdf raises many kinds on a damaged file
            problems.append(f"{batch}: not a readable PDF ({error})")
            continue
        if pages != expected:
            problems.append(f"{batch}: {pages} pages, but its manifest pieces add up to {expected}")
        total += pages
    return total


def check(archive: Path) -> dict:
    """`verify`, raising DeliveryError with every problem when there is one."""
    result = verify(archive)
    if result["problems"]:
        shown = result["problems"][:20]
        more = len(result["problems"]) - len(shown)
        raise DeliveryError(
            f"{archive.name} failed verification: " + "; ".join(shown)
            + (f"; and {more} more" if more else "")
        )
    return result
