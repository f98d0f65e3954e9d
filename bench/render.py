"""Render throughput on one size's data, with the real templates (run after bench.measure).

Reads the tables the data steps left in `<out>/.work/2026-12-01/` and measures, on
`PROCESSES` processes (the machine's cores) unless said otherwise:

- greeting letters batched: up to LETTERS pieces in batches of the configured size cut
  to spread over the processes, pages per second in total, laid out once and stamped
  (split, the pool of backgrounds laid out, the batches stamped: each phase spread over
  the processes, as the render shards do) and laid out whole; each also as a ratio to
  the plain floor measured in the same run;
- the same letters one document per letter (the first ONE_BY_ONE pieces), same processes;
- print newsletters batched (up to PRINT_PIECES post pieces), pages per second, laid
  out once and stamped, and whole;
- e-mail newsletters (HTML + text, up to EMAILS pieces) in one process, per second,
  written into EMAIL_DIR when given (left there for the caller to remove), otherwise
  into a temporary folder removed at the end.

Prints one JSON line.
"""

import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from pipeline.config import load_config
from pipeline.lib.documents import letters, newsletter, pdf
from pipeline.lib.documents.stamp import lay_out_backgrounds

PARTITION = "2026-12-01"
LETTERS = int(os.environ.get("BENCH_LETTERS", "1200"))
ONE_BY_ONE = int(os.environ.get("BENCH_ONE_BY_ONE", "60"))
PRINT_PIECES = int(os.environ.get("BENCH_PRINT_PIECES", "400"))
EMAILS = int(os.environ.get("BENCH_EMAILS", "20000"))
PROCESSES = len(os.sched_getaffinity(0))
FLOOR_PAGES = int(os.environ.get("BENCH_FLOOR_PAGES", "100"))
EDITION = PARTITION[:7]


def _table(work: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(work / name / "rows.parquet")


def _render_letter_batch(batch: letters.Batch) -> int:
    return letters.render_batch(batch, load_config(), EDITION)[0].pages


def _render_print_batch(job) -> int:
    return newsletter._render_batch(job).pages


def _split_letter_batch(batch: letters.Batch) -> list:
    return letters.split_pieces(batch.pieces, load_config(), EDITION)


def _lay_out_letter_pool(job) -> dict:
    sections, folder, file = job
    return lay_out_backgrounds(letters.stamp_kind(load_config()), sections, folder, file)


def _stamp_letter_batch(job) -> int:
    batch, backgrounds, folder, splits = job
    return letters.render_batch(batch, load_config(), EDITION, backgrounds, folder, splits)[0].pages


def _split_print(job) -> list:
    edition, members = job
    return newsletter.split_members(edition, members)


def _lay_out_print_pool(job) -> dict:
    edition, sections, folder, file = job
    return lay_out_backgrounds(newsletter.stamp_kind(edition), sections, folder, file)


def _stamp_print(job) -> int:
    edition, members, backgrounds, folder, splits = job
    return newsletter.stamp_print(edition, members, backgrounds, folder, "bench", splits).pages


def _pool_jobs(splits: list[list], per_document: int) -> list[dict[str, str]]:
    pool: dict[str, str] = {}
    for found in splits:
        for split in found:
            pool.setdefault(split.key, split.background)
    keys = sorted(pool)
    return [{k: pool[k] for k in keys[i:i + per_document]}
            for i in range(0, len(keys), per_document)]


def stamped_letters(batched: list[letters.Batch], folder: Path) -> tuple[int, float, int]:
    """Layout once on PROCESSES warm processes: (pages, seconds, backgrounds)."""
    with ProcessPoolExecutor(PROCESSES) as pool:
        list(pool.map(_render_plain, [3] * PROCESSES))  # warm
        started = time.perf_counter()
        splits = list(pool.map(_split_letter_batch, batched))
        # small documents, so the pool's layout spreads over the processes
        per_document = max(1, min(letters.BACKGROUNDS_PER_DOCUMENT,
                                  -(-sum(len({s.key for s in f}) for f in splits)
                                    // (PROCESSES * 2))))
        documents = _pool_jobs(splits, per_document)
        backgrounds: dict = {}
        for found in pool.map(_lay_out_letter_pool, [(d, folder, f"letters-{n:03d}.pdf")
                                                     for n, d in enumerate(documents)]):
            backgrounds |= found
        pages = sum(pool.map(_stamp_letter_batch, [(b, backgrounds, folder, s)
                                                   for b, s in zip(batched, splits)]))
        return pages, time.perf_counter() - started, len(backgrounds)


def stamped_print(edition, batches: list[list], folder: Path) -> tuple[int, float, int]:
    with ProcessPoolExecutor(PROCESSES) as pool:
        list(pool.map(_render_plain, [3] * PROCESSES))  # warm
        started = time.perf_counter()
        splits = list(pool.map(_split_print, [(edition, b) for b in batches]))
        per_document = max(1, min(newsletter.BACKGROUNDS_PER_DOCUMENT,
                                  -(-sum(len({s.key for s in f}) for f in splits)
                                    // (PROCESSES * 2))))
        documents = _pool_jobs(splits, per_document)
        backgrounds: dict = {}
        for found in pool.map(_lay_out_print_pool, [
                (edition, d, folder, f"newsletters-{n:03d}.pdf") for n, d in enumerate(documents)]):
            backgrounds |= found
        pages = sum(pool.map(_stamp_print, [(edition, b, backgrounds, folder, s)
                                            for b, s in zip(batches, splits)]))
        return pages, time.perf_counter() - started, len(backgrounds)


def _pages_per_second(function, jobs) -> tuple[int, float]:
    with ProcessPoolExecutor(PROCESSES) as pool:
        list(pool.map(function, jobs[:PROCESSES]))  # warm: fonts and templates loaded
        started = time.perf_counter()
        pages = sum(pool.map(function, jobs))
        return pages, time.perf_counter() - started


PLAIN_PARAGRAPH = ("值此佳节来临之际，俱乐部全体同仁向您和家人致以最诚挚的祝福！感谢您一直以来"
                   "对俱乐部的信任与支持，每一次相聚、每一份建议，都让俱乐部变得更加温暖。")
PLAIN_PAGE = ("<section style='break-before: page'><p>100020</p><p>北京市朝阳区建国路88号</p>"
              "<p>王小明 先生 收</p><h1>新春快乐</h1><p>尊敬的王先生：</p>"
              + f"<p>{PLAIN_PARAGRAPH}</p>" * 4 + "<p>此致 敬礼！</p></section>")


def _render_plain(pages: int) -> int:
    html = ("<html><head><style>@page { size: A4; margin: 20mm } "
            "body { font-family: 'Noto Serif CJK SC'; font-size: 11.5pt }</style></head>"
            f"<body>{PLAIN_PAGE * pages}</body></html>")
    return pdf.render_pdf(html, "plain pages").pages


def _split(frame: pd.DataFrame, parts: int) -> list[pd.DataFrame]:
    size = -(-len(frame) // parts)
    return [frame.iloc[i:i + size].reset_index(drop=True) for i in range(0, len(frame), size)]


def _emails_per_second(prepared, emailed, folder: Path) -> tuple[int, float]:
    newsletter.write_email(prepared.edition, emailed[:50], folder)  # warm
    started = time.perf_counter()
    written = newsletter.write_email(prepared.edition, emailed, folder)
    return written, time.perf_counter() - started


def edition_tables(out: str) -> tuple[pd.DataFrame, ...]:
    """The tables the print steps read, from a run's work folder: plan, members,
    birthdays, anniversaries, holidays, segments, events."""
    work = Path(out) / ".work" / PARTITION
    return tuple(_table(work, name) for name in (
        "contact_plan", "stg_members", "upcoming_birthdays", "anniversaries", "holidays",
        "segments", "stg_events"))


def main(out: str, email_dir: str | None = None) -> None:
    config = load_config()
    plan, members, birthdays, anniversaries, holidays, segments, events = edition_tables(out)
    result = {"processes": PROCESSES}

    pieces = letters.letter_pieces(plan, members, birthdays, anniversaries, holidays, EDITION)
    pieces = pieces.sort_values(["postal_code", "piece_id"]).head(LETTERS)
    chunks = max(PROCESSES * 2, -(-len(pieces) // config.print.batch_size))
    batched = [letters.Batch("bench", n, p) for n, p in enumerate(_split(pieces, chunks), 1)]
    # The floor: WeasyPrint alone, warm, documents big enough to pay for start-up.
    pages, seconds = _pages_per_second(_render_plain, [FLOOR_PAGES] * (PROCESSES * 2))
    plain = pages / seconds
    result.update(plain_pages_per_second=round(plain, 1))
    with tempfile.TemporaryDirectory() as folder:
        pages, seconds, pool = stamped_letters(batched, Path(folder))
    result.update(letter_pages=pages, letter_pages_per_second=round(pages / seconds, 1),
                  letter_backgrounds=pool,
                  letters_vs_floor=round(pages / seconds / plain, 2))
    pages, seconds = _pages_per_second(_render_letter_batch, batched)
    result.update(whole_letter_pages_per_second=round(pages / seconds, 1),
                  whole_letters_vs_floor=round(pages / seconds / plain, 2))
    single = [letters.Batch("bench", n, pieces.iloc[[n]].reset_index(drop=True))
              for n in range(min(ONE_BY_ONE, len(pieces)))]
    pages, seconds = _pages_per_second(_render_letter_batch, single)
    result.update(one_by_one_pages=pages, one_by_one_pages_per_second=round(pages / seconds, 1))

    prepared = newsletter.prepare(plan, members, segments, birthdays, holidays, events, config,
                                  EDITION)
    posted = newsletter.print_order(prepared.by_post)[:PRINT_PIECES]
    size = -(-len(posted) // (PROCESSES * 2)) if posted else 1
    jobs = [newsletter.print_job(prepared.edition, posted[i:i + size], n)
            for n, i in enumerate(range(0, len(posted), size), 1)]
    if jobs:
        with tempfile.TemporaryDirectory() as folder:
            pages, seconds, pool = stamped_print(
                prepared.edition, [posted[i:i + size] for i in range(0, len(posted), size)],
                Path(folder))
        result.update(print_newsletter_pages=pages,
                      print_newsletter_pages_per_second=round(pages / seconds, 1),
                      print_newsletter_backgrounds=pool,
                      print_newsletters_vs_floor=round(pages / seconds / plain, 2))
        pages, seconds = _pages_per_second(_render_print_batch, jobs)
        result.update(whole_print_newsletter_pages_per_second=round(pages / seconds, 1),
                      whole_print_newsletters_vs_floor=round(pages / seconds / plain, 2))

    emailed = prepared.by_email[:EMAILS]
    if email_dir:
        written, seconds = _emails_per_second(prepared, emailed, Path(email_dir))
    else:
        with tempfile.TemporaryDirectory() as folder:
            written, seconds = _emails_per_second(prepared, emailed, Path(folder))
    result.update(emails=written, emails_per_second=round(written / seconds))
    print(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:3])
