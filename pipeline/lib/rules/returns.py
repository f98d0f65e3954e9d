"""Returned mail: which members' post comes back, so it is not printed again.

The mailing house reports undeliverable pieces by `piece_id`; the club exports them as
the optional `returns` table (CONTRACT §2: `piece_id` or `member_id`, `returned_on`,
`reason`). `returned_addresses` decides who stays off post:

1. **Whose piece.** A return names its member, or its `piece_id` is found in the
   `letters/manifest.csv` of an earlier edition under the output folder, or the
   piece id ends in a member's id part (`202612-birthday-M0000001`, see
   contact.safe_part). A return that names nobody loaded is counted as `unmatched`.
2. **Which address.** The address the piece went to: the manifest's `address_lines`
   (postal code, region and street; the addressee line is not compared). A return
   without a manifest row compares with the member's latest manifest row of an edition
   up to the month of `returned_on`.
3. **Still there?** The member stays off post while the members export carries the
   same address (compared after NFKC normalisation, lower-cased, without spaces) or
   while no earlier edition tells which address it was. A different address lifts it.

Output: one row per member still returned: member_id, piece_id, returned_on (the
latest return), reason; sorted by member_id.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pandas as pd

from pipeline.lib.rules.contact import safe_part
from pipeline.lib.documents.letters import region_line

COLUMNS: tuple[str, ...] = ("member_id", "piece_id", "returned_on", "reason")
MANIFEST_FIELDS: tuple[str, ...] = ("edition", "piece_id", "member_id", "address_lines")
_EDITION = re.compile(r"\d{4}-\d{2}")


def earlier_manifests(out: Path, edition: str) -> pd.DataFrame:
    """The letters/manifest.csv rows of every edition folder in `out` before `edition`,
    with their edition: MANIFEST_FIELDS, as text."""
    frames = []
    folders = sorted(p for p in out.glob("*") if _EDITION.fullmatch(p.name) and p.name < edition)
    for folder in folders:
        path = folder / "letters" / "manifest.csv"
        if not path.is_file():
            continue
        rows = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False,
                           usecols=list(MANIFEST_FIELDS[1:]))
        frames.append(rows.assign(edition=folder.name))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in MANIFEST_FIELDS})
    return pd.concat(frames, ignore_index=True)[list(MANIFEST_FIELDS)].astype("string")


def address_key(text: str) -> str:
    """An address compared leniently: NFKC, lower case, no spaces or separators."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[\s|]+", "", folded)


def printed_key(address_lines: str) -> str:
    """The compared part of a manifest's address_lines: every line but the addressee."""
    lines = [line for line in str(address_lines).split(" | ") if line]
    return address_key("".join(lines[:-1]))


def current_keys(members: pd.DataFrame) -> pd.Series:
    """address_key of each member's postal code, region and street, by member_id."""
    def text(column: str) -> list[str]:
        return members[column].astype("string").fillna("").str.strip().tolist()

    keys = [
        address_key(postal + region_line(province, city, district) + street)
        for postal, province, city, district, street in zip(
            text("postal_code"), text("province"), text("city"), text("district"),
            text("address"))
    ]
    return pd.Series(keys, index=members["member_id"].astype("string").tolist(), dtype="string")


def _member_from_piece(piece_ids: pd.Series, member_ids: pd.Series) -> pd.Series:
    """The member whose id part ends the piece id (`<YYYYMM>-<kind>-<member part>`)."""
    parts = dict(zip(safe_part(member_ids).tolist(), member_ids.tolist()))
    found = []
    for piece in piece_ids.fillna("").tolist():
        match = pd.NA
        for position in [m.start() for m in re.finditer("-", piece)]:
            if piece[position + 1:] in parts:
                match = parts[piece[position + 1:]]
                break
        found.append(match)
    return pd.Series(found, index=piece_ids.index, dtype="string")


def returned_addresses(returns: pd.DataFrame, manifests: pd.DataFrame,
                       members: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Members whose post came back to the address they still have (module notes), and
    the counts: returns, unmatched (naming no loaded member), lifted (address changed)."""
    empty = pd.DataFrame({c: pd.Series(dtype="string") for c in COLUMNS}).astype(
        {"returned_on": "datetime64[us]"})
    counts = {"returns": len(returns), "unmatched": 0, "lifted": 0}
    if not len(returns):
        return empty, counts
    frame = returns[["piece_id", "member_id", "returned_on", "reason"]].astype(
        {"piece_id": "string", "member_id": "string", "reason": "string"}).copy()
    by_piece = manifests.drop_duplicates("piece_id", keep="last").set_index("piece_id")
    from_manifest = frame["piece_id"].map(by_piece["member_id"]).astype("string")
    known = members["member_id"].astype("string")
    frame["member_id"] = (frame["member_id"].fillna(from_manifest)
                          .fillna(_member_from_piece(frame["piece_id"], known)))
    loaded = frame["member_id"].isin(set(known.tolist()))
    counts["unmatched"] = int((~loaded).sum())
    frame = frame[loaded]
    if frame.empty:
        return empty, counts

    frame = frame.reset_index(drop=True)
    printed = frame["piece_id"].map(by_piece["address_lines"]).astype(object)
    # A return without its manifest row: the member's latest letter up to that month.
    asked = frame.assign(_row=frame.index, _month=pd.to_datetime(frame["returned_on"])
                         .dt.strftime("%Y-%m"))[printed.isna().to_numpy()]
    if len(asked) and len(manifests):
        sent = asked[["_row", "member_id", "_month"]].merge(
            manifests[["member_id", "edition", "address_lines"]], on="member_id")
        sent = sent[sent["edition"] <= sent["_month"]].sort_values(["_row", "edition"])
        latest = sent.drop_duplicates("_row", keep="last").set_index("_row")["address_lines"]
        printed = printed.where(printed.notna(), printed.index.map(latest).astype(object))
    now = current_keys(members[known.isin(set(frame["member_id"].tolist()))])
    then = [printed_key(lines) if isinstance(lines, str) else None for lines in printed]
    same = [key is None or now.get(member) == key
            for member, key in zip(frame["member_id"], then)]
    counts["lifted"] = len(same) - sum(same)
    still = frame[same].sort_values(["member_id", "returned_on"], kind="stable")
    still = still.drop_duplicates("member_id", keep="last")
    result = still[list(COLUMNS)].reset_index(drop=True)
    return result.astype({"returned_on": "datetime64[us]"}), counts
