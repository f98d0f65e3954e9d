"""Where a print page's time goes: the pipeline's render steps against WeasyPrint alone.

Run after bench.measure (reads the tables it left in `<out>/.work/2026-12-01/`). In ONE
warm process (fonts, templates and caches loaded by a first render) it times, per page:

- floor: the benchmark's plain page (bench.render.PLAIN_PAGE), WeasyPrint alone;
- letters direct: `HTML(string=...).render().write_pdf()` of the very HTML a letter
  batch produces, with the pipeline's stylesheet;
- letters pipeline: `letters.render_batch` on the same batch (views, template, layout,
  anchors, writing), and what the shard adds around it (glyph check, hashing);
- print newsletters, direct and through `newsletter._render_batch`;
- preparation done once for every shard: `plan_shares` (letter pieces, newsletter
  contexts, dealing) in the `print_plan` step;
- what the `letters` step adds after the shards: re-reading each PDF to count pages;
- a cold process: the first render in a fresh interpreter (fonts, caches).

Prints one JSON line of milliseconds per page and the ratios to the floor.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

from pypdf import PdfReader
from weasyprint import HTML

from bench.render import PARTITION, _render_plain, edition_tables
from pipeline.config import load_config
from pipeline.lib.documents import letters, newsletter, pdf
from pipeline.settings import PATHS

EDITION = PARTITION[:7]
PIECES = 200  # letters per measured batch


def _best(function, repeat: int = 3) -> float:
    """Best of `repeat` timings, in seconds (the machine is shared and noisy)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def _direct(html: str, stylesheets=()) -> bytes:
    return HTML(string=html, base_url=PATHS.templates.as_uri() + "/",
                url_fetcher=pdf.fetcher()).render(
        font_config=pdf.font_config(), stylesheets=list(stylesheets),
        cache=pdf._IMAGE_CACHE).write_pdf()


def _cold_first_render() -> float:
    """Seconds from a fresh interpreter's first plain page to its PDF (imports excluded)."""
    code = ("import time; from bench.render import _render_plain; t=time.perf_counter(); "
            "_render_plain(1); print(time.perf_counter()-t)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=PATHS.root)
    return float(done.stdout.strip().splitlines()[-1])


def main(out: str) -> None:
    config = load_config()
    plan, members, birthdays, anniversaries, holidays, segments, events = edition_tables(out)
    ms: dict[str, float] = {}

    pieces = letters.letter_pieces(plan, members, birthdays, anniversaries, holidays, EDITION)
    batch = letters.Batch("bench", 1, pieces.sort_values(["postal_code", "piece_id"])
                          .head(PIECES).reset_index(drop=True))
    letters.render_batch(batch, config, EDITION)  # warm
    _render_plain(5)

    plain_pages = len(batch.pieces)
    ms["floor"] = _best(lambda: _render_plain(plain_pages)) / plain_pages * 1e3

    layout = letters.Layout(config.print.paper, config.print.envelope_window, config.print.duplex)
    sheet = letters._stylesheet(layout)
    views = [letters.piece_view(p) for p in batch.pieces.to_dict("records")]
    html = letters.batch_html(views, letters.club_view(config), EDITION, layout.duplex)
    rendered = letters.render_batch(batch, config, EDITION)[0]
    pages = rendered.pages
    ms["letters_direct"] = _best(lambda: _direct(html, [sheet])) / pages * 1e3
    ms["letters_pipeline"] = _best(lambda: letters.render_batch(batch, config, EDITION)) / pages * 1e3
    ms["letters_html"] = _best(lambda: letters.batch_html(
        [letters.piece_view(p) for p in batch.pieces.to_dict("records")],
        letters.club_view(config), EDITION, layout.duplex)) / pages * 1e3
    ms["letters_glyph_check"] = _best(lambda: letters.check_pieces(batch.pieces)) / pages * 1e3
    ms["letters_sha256"] = _best(lambda: hashlib.sha256(rendered.pdf).hexdigest()) / pages * 1e3
    ms["letters_manifest_rows"] = _best(lambda: letters._manifest_rows(
        batch, [1] * len(batch.pieces), [1] * len(batch.pieces), "x")) / pages * 1e3
    folder = Path(out) / ".work" / "bench-overhead"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "batch.pdf").write_bytes(rendered.pdf)
    ms["letters_pdf_reread"] = _best(lambda: len(PdfReader(folder / "batch.pdf").pages)) / pages * 1e3

    prepared = newsletter.prepare(plan, members, segments, birthdays, holidays, events, config,
                                  EDITION)
    posted = newsletter.print_order(prepared.by_post)[:60]
    if posted:
        job = newsletter.print_job(prepared.edition, posted, 1)
        newsletter._render_batch(job)  # warm
        nl_pages = newsletter._render_batch(job).pages
        ms["newsletter_direct"] = _best(lambda: _direct(job[0]), 2) / nl_pages * 1e3
        ms["newsletter_pipeline"] = _best(lambda: newsletter._render_batch(
            newsletter.print_job(prepared.edition, posted, 1)), 2) / nl_pages * 1e3
        ms["newsletter_html"] = _best(lambda: newsletter.print_job(
            prepared.edition, posted, 1), 2) / nl_pages * 1e3

    from pipeline.defs.render.shards import plan_shares
    seconds = _best(lambda: plan_shares(config, EDITION, plan, members, events, segments,
                                        birthdays, anniversaries, holidays, 2), 1)
    all_pieces = len(pieces) + len(prepared.by_post)
    result = {
        "ms_per_page": {k: round(v, 2) for k, v in ms.items()},
        "ratio_to_floor": {k: round(v / ms["floor"], 2) for k, v in ms.items()},
        "print_plan_seconds": round(seconds, 2),
        "print_plan_ms_per_piece": round(seconds / max(all_pieces, 1) * 1e3, 3),
        "print_pieces": all_pieces,
        "cold_first_page_seconds": round(_cold_first_render(), 2),
    }
    result["cold_first_page_in_floor_pages"] = round(
        result["cold_first_page_seconds"] * 1e3 / ms["floor"])
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
