"""Erasure on request: the register of forgotten members, and forgetting one.

The register (`erasure-register.csv` beside the warehouse) holds one keyed hash per
erased member: HMAC-SHA256 of the member id under a random per-installation key kept
beside it (`erasure-register.key`, owner-only). Member ids are short codes that can
be enumerated, so a plain SHA-256 of one would tell anyone holding the register who
asked to be forgotten; the keyed hash tells nothing without the key.

Every run reads the register and excludes those members from the staged tables even
while the CRM's exports still carry them (`exclude_erased`): their rows are counted as
quarantined with reason `erased` and no value, so `rows_read = rows_loaded +
rows_quarantined` still holds and nothing personal is kept about them.

`forget_member` adds a member to the register and removes them from what is already
on disk: every warehouse table with a `member_id` (and the quarantine's values at their
lines), and every edition under the output folder (table rows, e-mail newsletters,
manifest rows; PDFs that hold them are withdrawn and the edition marked for a rerun).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.lib.read.ingest import ROW_QUARANTINED, Staged, normalise_ids
from pipeline.lib.privacy import FILE_MODE, restrict_file, restrict_tree, spreadsheet_safe
from pipeline.lib.read.readers import ExportError
from pipeline.lib.read.schema import Table

REGISTER_NAME = "erasure-register.csv"
KEY_NAME = "erasure-register.key"
REGISTER_COLUMNS = ["member_hash", "erased_on"]
ERASED = "erased"
EDITION_NAME = re.compile(r"\.?\d{4}-\d{2}(\.previous)?")


class ErasureError(ExportError):
    """The register cannot be used (a run stops rather than load an erased member)."""


# --------------------------------------------------------------------------- register


def register_path(warehouse: Path) -> Path:
    return warehouse.with_name(REGISTER_NAME)


def key_path(warehouse: Path) -> Path:
    return warehouse.with_name(KEY_NAME)


def normalise_id(member_id: str) -> str:
    """The id as staging reads it (half-width, trimmed), so a register entry matches."""
    value = normalise_ids(pd.Series([member_id], dtype="string")).iloc[0]
    return "" if pd.isna(value) else str(value)


@dataclass(frozen=True)
class Register:
    key: bytes
    hashes: frozenset[str] = field(default_factory=frozenset)

    def digest(self, member_id: str) -> str:
        return hmac.new(self.key, member_id.encode("utf-8"), hashlib.sha256).hexdigest()

    def holds(self, values: pd.Series) -> pd.Series:
        """True where a value (an id as written anywhere) names an erased member."""
        if not self.hashes or values.empty:
            return pd.Series(False, index=values.index)
        ids = normalise_ids(values.astype("string"))
        unique = ids.dropna().unique()
        erased = {v for v in unique if self.digest(str(v)) in self.hashes}
        return ids.isin(erased).fillna(False).astype(bool)


def load_register(warehouse: Path) -> Register | None:
    """The register beside `warehouse`, or None when no member was ever erased there."""
    path = register_path(warehouse)
    if not path.exists():
        return None
    key_file = key_path(warehouse)
    if not key_file.exists():
        raise ErasureError(f"{path}: its key {key_file.name} is missing, so erased members "
                           "cannot be recognised; restore it from the backup")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if list(frame.columns) != REGISTER_COLUMNS:
        raise ErasureError(f"{path}: expected the columns {', '.join(REGISTER_COLUMNS)}")
    return Register(bytes.fromhex(key_file.read_text("ascii").strip()),
                    frozenset(frame["member_hash"]))


def _write_private(path: Path, data: bytes) -> None:
    """Write `path` owner-only, atomically (a temporary file renamed over it)."""
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.write(descriptor, data)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.chmod(temporary, FILE_MODE)
    os.replace(temporary, path)


def add_to_register(warehouse: Path, member_id: str, today: date) -> tuple[Register, bool]:
    """Record `member_id` (its keyed hash) as erased; create the key on first use.
    Returns the register and whether the member was new to it."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    key_file = key_path(warehouse)
    if not key_file.exists() and not register_path(warehouse).exists():
        _write_private(key_file, secrets.token_hex(32).encode("ascii") + b"\n")
    register = load_register(warehouse) or Register(
        bytes.fromhex(key_file.read_text("ascii").strip()))
    digest = register.digest(member_id)
    if digest in register.hashes:
        return register, False
    path = register_path(warehouse)
    rows = pd.read_csv(path, dtype=str, keep_default_na=False) if path.exists() else \
        pd.DataFrame(columns=REGISTER_COLUMNS)
    rows = pd.concat([rows, pd.DataFrame([[digest, today.isoformat()]], columns=REGISTER_COLUMNS)])
    buffer = io.StringIO()
    rows.to_csv(buffer, index=False, lineterminator="\n")
    _write_private(path, buffer.getvalue().encode("utf-8"))
    return Register(register.key, register.hashes | {digest}), True


# --------------------------------------------------------------------------- every run


def exclude_erased(staged: Staged, table: Table, register: Register | None) -> Staged:
    """`staged` without the rows of erased members, each counted as quarantined with
    reason `erased` and a blank value; quarantine entries that name an erased member
    (a duplicate of their row, their transaction) keep their line but lose the value.

    Applies to members and the tables that refer to members; others pass unchanged.
    """
    column = "member_id" if table.name == "members" else table.member_ref
    if register is None or not register.hashes or column is None or staged.source is None:
        return staged
    frame, quarantine = staged.frame, staged.quarantine
    erased = register.holds(frame[column])
    lines = frame.loc[erased, "source_line"].astype("int64")
    kept = quarantine[~quarantine["line"].isin(lines)].copy()  # their dropped values
    named = register.holds(kept["value"])
    kept.loc[named, "value"] = pd.NA
    kept.loc[named, "reason"] = ERASED
    new = pd.DataFrame({
        "table": table.name, "file": staged.source, "line": lines.to_numpy(),
        "column": column, "value": pd.NA, "reason": ERASED, "action": ROW_QUARANTINED,
    }).astype(quarantine.dtypes.to_dict())
    quarantine = (pd.concat([kept, new], ignore_index=True)
                  .sort_values(["line", "action"], kind="stable", ignore_index=True))
    return replace(staged, _frame=frame[~erased].reset_index(drop=True), quarantine=quarantine,
                   rows_file=None)


def erased_rows(staged: Staged) -> int:
    """Rows of `staged` left out because their member asked to be forgotten."""
    quarantine = staged.quarantine
    return int(((quarantine["reason"] == ERASED)
                & (quarantine["action"] == ROW_QUARANTINED)).sum())


# --------------------------------------------------------------------------- forget


@dataclass
class MemberTrace:
    """What identifies the member in documents, and where their rows were."""

    member_id: str
    needles: set[str] = field(default_factory=set)  # texts searched for in PDFs
    complaint_ids: set[str] = field(default_factory=set)
    lines: dict[str, set[int]] = field(default_factory=dict)  # table -> export lines


def _quoted(*names: str) -> str:
    return ".".join('"' + n.replace('"', '""') + '"' for n in names)


def _member_tables(con) -> list[tuple[str, str, set[str]]]:
    found: dict[tuple[str, str], set[str]] = {}
    for schema, table, column in con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_catalog = current_database()"
    ).fetchall():
        found.setdefault((schema, table), set()).add(column)
    return [(s, t, cols) for (s, t), cols in sorted(found.items())]


def trace_member(con, member_id: str) -> MemberTrace:
    """The member's name, phone and e-mail, complaint ids and export lines, read from
    the warehouse before their rows go."""
    trace = MemberTrace(member_id, {member_id})
    for schema, table, columns in _member_tables(con):
        if "member_id" not in columns:
            continue
        wanted = [c for c in ("name", "phone", "email", "complaint_id", "source_line")
                  if c in columns]
        if not wanted:
            continue
        rows = con.execute(
            f"select {', '.join(_quoted(c) for c in wanted)} from {_quoted(schema, table)} "
            "where member_id = ?", [member_id]).fetchall()
        for row in rows:
            values = dict(zip(wanted, row))
            for name in ("name", "phone", "email"):
                if values.get(name):
                    trace.needles.add(str(values[name]))
            if values.get("complaint_id"):
                trace.complaint_ids.add(str(values["complaint_id"]))
            if schema == "staging" and values.get("source_line") is not None:
                trace.lines.setdefault(table.removeprefix("stg_"), set()).add(
                    int(values["source_line"]))
    return trace


def forget_in_warehouse(warehouse: Path, trace: MemberTrace) -> dict[str, int]:
    """Delete the member's rows from every table with a `member_id` (and complaint rows
    by their ids), blank the quarantine's values at their lines, then rewrite the
    database into a fresh file so no deleted bytes linger in free blocks."""
    deleted: dict[str, int] = {}
    with duckdb.connect(str(warehouse)) as con:
        con.execute("begin transaction")
        for schema, table, columns in _member_tables(con):
            name = _quoted(schema, table)
            conditions, values = [], []
            if "member_id" in columns:
                conditions.append("member_id = ?")
                values.append(trace.member_id)
            if "complaint_id" in columns and trace.complaint_ids:
                conditions.append("list_contains(?::varchar[], complaint_id)")
                values.append(sorted(trace.complaint_ids))
            if conditions:
                count = con.execute(f"delete from {name} where {' or '.join(conditions)}",
                                    values).fetchone()[0]
                if count:
                    deleted[f"{schema}.{table}"] = int(count)
            if {"table", "line", "value", "reason"} <= columns:
                _scrub_quarantine_sql(con, name, trace)
        con.execute("commit")
    _compact(warehouse)
    return deleted


def _scrub_quarantine_sql(con, name: str, trace: MemberTrace) -> None:
    for table, lines in trace.lines.items():
        con.execute(f'update {name} set value = null where "table" = ? '
                    "and list_contains(?::bigint[], line)", [table, sorted(lines)])
    con.execute(f"update {name} set value = null, reason = ? where trim(value) = ?",
                [ERASED, trace.member_id])


def _compact(warehouse: Path) -> None:
    fresh = warehouse.with_name(f".{warehouse.name}.fresh")
    fresh.unlink(missing_ok=True)
    with duckdb.connect() as con:
        con.execute("attach ? as old (read_only)", [str(warehouse)])
        con.execute("attach ? as fresh", [str(fresh)])
        con.execute("copy from database old to fresh")
    mode = os.stat(warehouse).st_mode & 0o777
    os.chmod(fresh, mode)
    os.replace(fresh, warehouse)
    Path(f"{warehouse}.wal").unlink(missing_ok=True)


def _compact_text(text: str) -> str:
    return re.sub(r"\s+", "", text).casefold()


def _pdf_holds(path: Path, needles: set[str]) -> bool:
    from pypdf import PdfReader

    text = _compact_text("".join(page.extract_text() or "" for page in PdfReader(path).pages))
    return any(needle in text for needle in needles)


def _zip_holds(path: Path, needles: set[str]) -> bool:
    """Whether any file in the archive (PDFs by their text) names the member."""
    import zipfile

    from pypdf import PdfReader

    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            data = archive.read(name)
            if name.lower().endswith(".pdf"):
                reader = PdfReader(io.BytesIO(data))
                text = "".join(page.extract_text() or "" for page in reader.pages)
            else:
                text = data.decode("utf-8", errors="ignore")
            if any(n in _compact_text(text) for n in needles):
                return True
    return False


def _drop_lines(path: Path, needles: set[str], changes: dict) -> None:
    """Remove the lines of a note (e.g. changes.md) that name the member."""
    lines = path.read_text("utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not any(n in _compact_text(line) for n in needles)]
    if len(kept) != len(lines):
        path.write_text("".join(kept), "utf-8")
        changes.setdefault("notes", []).append(path.name)


def _needles(trace: MemberTrace, manifest: pd.DataFrame) -> set[str]:
    needles = set(trace.needles)
    if not manifest.empty:
        needles |= set(manifest.loc[manifest["member_id"] == trace.member_id, "name"])
    compact = {_compact_text(n) for n in needles if n}
    for phone in list(compact):
        if phone.startswith("+86") and len(phone) == 14:
            compact |= {phone[3:], f"{phone[3:6]}****{phone[-4:]}"}
    return {n for n in compact if len(n) >= 2}


def _table_rows(frame: pd.DataFrame, name: str, trace: MemberTrace) -> pd.Series:
    drop = pd.Series(False, index=frame.index)
    if "member_id" in frame:
        drop |= frame["member_id"].astype("string").str.strip().eq(trace.member_id).fillna(False)
    if "complaint_id" in frame and trace.complaint_ids:
        drop |= frame["complaint_id"].astype("string").isin(trace.complaint_ids).fillna(False)
    return drop.astype(bool)


def _scrub_quarantine(frame: pd.DataFrame, trace: MemberTrace) -> pd.DataFrame:
    frame = frame.copy()
    for table, lines in trace.lines.items():
        at = (frame["table"] == table) & frame["line"].isin(lines)
        frame.loc[at, "value"] = pd.NA
    named = frame["value"].astype("string").str.strip().eq(trace.member_id).fillna(False)
    frame.loc[named, "value"] = pd.NA
    frame.loc[named, "reason"] = ERASED
    return frame


def forget_in_edition(edition_dir: Path, trace: MemberTrace) -> dict:
    """Remove the member from one edition folder; see SECURITY.md for what is withdrawn."""
    from pipeline.lib.delivery.publish import write_json, write_table
    from pipeline.lib.documents.newsletter import safe_name

    changes = {"tables": [], "newsletters": 0, "withdrawn": []}
    tables = edition_dir / "tables"
    for parquet in sorted(tables.glob("*.parquet")):
        frame = pd.read_parquet(parquet)
        drop = _table_rows(frame, parquet.stem, trace)
        scrubbed = _scrub_quarantine(frame, trace) if parquet.stem == "quarantine" else frame
        if drop.any() or not scrubbed.equals(frame):
            write_table(scrubbed[~drop].reset_index(drop=True), tables, parquet.stem)
            changes["tables"].append(parquet.stem)
    stem = safe_name(trace.member_id)
    for path in (edition_dir / "newsletters" / "html" / f"{stem}.html",
                 edition_dir / "newsletters" / "text" / f"{stem}.txt"):
        if path.exists():
            path.unlink()
            changes["newsletters"] += 1

    calls = edition_dir / "calls" / "call-list.csv"  # staff's call list: their row goes
    if calls.exists():
        listed = pd.read_csv(calls, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        mine = listed["member_id"] == trace.member_id
        if mine.any():
            listed[~mine].to_csv(calls, index=False, encoding="utf-8-sig")  # cells already safe
            changes["tables"].append("calls/call-list.csv")
    changes["messages"] = _forget_messages(edition_dir, trace.member_id)

    manifest_path = edition_dir / "letters" / "manifest.csv"
    manifest = (pd.read_csv(manifest_path, dtype=str, keep_default_na=False,
                            encoding="utf-8-sig") if manifest_path.exists() else pd.DataFrame())
    needles = _needles(trace, manifest)
    batches = set(manifest.loc[manifest["member_id"] == trace.member_id, "batch"]) \
        if not manifest.empty else set()
    for pdf in sorted(edition_dir.rglob("*.pdf")):
        relative = pdf.relative_to(edition_dir).as_posix()
        in_manifest = relative.removeprefix("letters/") in batches
        if in_manifest or _pdf_holds(pdf, needles):
            pdf.unlink()
            changes["withdrawn"].append(relative)
    for archive in sorted(edition_dir.rglob("*.zip")):  # e.g. the mailing-house archive
        if changes["withdrawn"] or _zip_holds(archive, needles):
            archive.unlink()
            archive.with_name(archive.name + ".sha256").unlink(missing_ok=True)
            changes["withdrawn"].append(archive.relative_to(edition_dir).as_posix())
    for folder in sorted(edition_dir.rglob("*"), reverse=True):  # batch folders now empty
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    for note in sorted([*edition_dir.glob("*.md"), *edition_dir.glob("*.txt")]):
        _drop_lines(note, needles, changes)
    if not manifest.empty:
        withdrawn = {p.removeprefix("letters/") for p in changes["withdrawn"]}
        kept = manifest[~manifest["batch"].isin(withdrawn)]
        if len(kept) != len(manifest):
            spreadsheet_safe(kept).to_csv(manifest_path, index=False, encoding="utf-8-sig")
    if _changed(changes):
        _mark_for_rerun(edition_dir, changes, write_json)
    return changes


def _forget_messages(edition_dir: Path, member_id: str) -> int:
    """Drop the member's rows from sms/messages.csv and email/outbox.csv and delete
    their .eml files; the number of messages removed."""
    removed = 0
    for listing in (edition_dir / "sms" / "messages.csv", edition_dir / "email" / "outbox.csv"):
        if not listing.exists():
            continue
        frame = pd.read_csv(listing, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        theirs = frame["member_id"].str.lstrip("'") == member_id
        if not theirs.any():
            continue
        for relative in frame.loc[theirs, "file"] if "file" in frame else ():
            (listing.parent / relative.lstrip("'")).unlink(missing_ok=True)
        frame[~theirs].to_csv(listing, index=False, encoding="utf-8-sig")  # cells as read
        removed += int(theirs.sum())
    return removed


def _changed(changes: dict) -> bool:
    return any(changes.get(k) for k in ("tables", "newsletters", "messages", "withdrawn", "notes"))


def _mark_for_rerun(edition_dir: Path, changes: dict, write_json) -> None:
    record_path = edition_dir / "run.json"
    if not record_path.exists():
        return
    record = json.loads(record_path.read_text("utf-8"))
    erasure = record.setdefault("erasure", {"requests": 0, "withdrawn": []})
    erasure["requests"] += 1
    erasure["withdrawn"] = sorted(set(erasure["withdrawn"]) | set(changes["withdrawn"]))
    erasure["needs_rerun"] = True
    erasure["note"] = ("A member was erased after this edition was built: their rows and "
                       "documents are removed, the files listed in `withdrawn` held them and "
                       "were deleted, counts above are as built. Rerun the month.")
    write_json(record_path, record)


def refresh_site(edition_dir: Path, club, withdrawn: list[str]) -> None:
    """Re-render index.html (and the newsletter index) from what the folder now holds."""
    from pipeline.lib.delivery.site import write_site

    record = json.loads((edition_dir / "run.json").read_text("utf-8"))
    reconciliation = {k: v for k, v in record["reconciliation"].items() if k != "contact_plan"}
    sources = {table: None for table in reconciliation}
    sources.update({i["table"]: i["file"] for i in record.get("inputs", [])})
    tables = edition_dir / "tables"

    def read(name: str) -> pd.DataFrame:
        path = tables / f"{name}.parquet"
        return pd.read_parquet(path) if path.exists() else pd.DataFrame(
            {"kind": [], "channel": [], "reason": [], "action": []})

    for old in (edition_dir / "newsletters").glob("index-*.html"):
        old.unlink()
    notice = ("A member was erased on request after this edition was built; "
              f"{len(withdrawn)} document(s) that held them were withdrawn. "
              "Rerun this month before sending anything.")
    write_site(edition_dir, club=club, edition=record["edition"], as_of=record["as_of"],
               reconciliation=reconciliation, sources=sources, quarantine=read("quarantine"),
               plan=read("contact_plan"), suppressed=read("suppressed"),
               table_names=sorted(p.stem for p in tables.glob("*.parquet")), notice=notice)


@dataclass
class ForgetResult:
    newly_registered: bool
    register: Path
    warehouse_rows: dict[str, int]
    editions: dict[str, dict]


def forget_member(member_id: str, warehouse: Path, out: Path, config, today: date) -> ForgetResult:
    """Register the member as erased, then remove them from the warehouse and from every
    edition under `out`. The register comes first: should anything below fail, every
    later run still leaves the member out."""
    member_id = normalise_id(member_id)
    if not member_id:
        raise ValueError("--member: a member id is required")
    _, new = add_to_register(warehouse, member_id, today)
    trace = MemberTrace(member_id, {member_id})
    rows: dict[str, int] = {}
    if warehouse.exists():
        with duckdb.connect(str(warehouse), read_only=True) as con:
            trace = trace_member(con, member_id)
        rows = forget_in_warehouse(warehouse, trace)
    editions: dict[str, dict] = {}
    if out.is_dir():
        for leftover in (out / ".work", out / ".build"):  # intermediate copies of the rows
            if leftover.exists():
                shutil.rmtree(leftover)
        for folder in sorted(p for p in out.iterdir()
                             if p.is_dir() and EDITION_NAME.fullmatch(p.name)):
            changes = forget_in_edition(folder, trace)
            if _changed(changes):
                if (folder / "index.html").exists() and (folder / "run.json").exists():
                    refresh_site(folder, config.club, changes["withdrawn"])
                if config.output.private:
                    restrict_tree(folder)  # the files rewritten here, like the ones built
                editions[folder.name] = changes
    restrict_file(register_path(warehouse))
    return ForgetResult(new, register_path(warehouse), rows, editions)

