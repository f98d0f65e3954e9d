"""Faults in the middle of a run: a template error in one branch, a full disk while a
batch is written. Each run fails with a message that says what and where, the previous
edition stays byte for byte as it was, and the next run (fault gone) completes."""

import errno
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from pipeline.lib.documents import templating
from pipeline.run import RunFailed, run_edition
from pipeline.settings import PATHS

AS_OF = date(2026, 11, 20)


def files(edition: Path) -> dict[str, bytes]:
    return {p.relative_to(edition).as_posix(): p.read_bytes()
            for p in sorted(edition.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """The fixture exports with one good edition of 2026-12 already published."""
    from tests.conftest import DATA

    root = tmp_path_factory.mktemp("faults")
    shutil.copytree(DATA / "exports", root / "exports")
    run(root)
    return root


def run(root: Path) -> Path:
    return run_edition(exports=root / "exports", out=root / "out", month="2026-12", as_of=AS_OF,
                       config_file=None, warehouse=root / "warehouse.duckdb")


@pytest.fixture
def broken_birthday_branch(tmp_path, monkeypatch):
    """The letter templates with an error only in the birthday branch of the piece."""
    templates = tmp_path / "templates"
    shutil.copytree(PATHS.templates, templates)
    piece = templates / "letters" / "piece.html.j2"
    text = piece.read_text("utf-8")
    marker = '  <h1>{{ words.heading(p) }}</h1>\n'
    assert marker in text
    piece.write_text(text.replace(
        marker, marker + '  {% if p.kind == "birthday" %}{{ p.no_such_field }}{% endif %}\n'), "utf-8")
    environment = templating.environment()
    monkeypatch.setattr(environment, "loader", type(environment.loader)(str(templates)))
    environment.cache.clear()
    yield text[:text.index(marker)].count("\n") + 2  # the broken line, after the heading
    environment.cache.clear()


def test_a_template_error_in_one_branch_names_the_template_and_keeps_the_edition(
        published, broken_birthday_branch):
    before = files(published / "out" / "2026-12")
    with pytest.raises(RunFailed) as failed:
        run(published)
    message = str(failed.value)
    assert "no_such_field" in message
    line = broken_birthday_branch
    assert re.search(rf"\(template \S*letters/piece\.html\.j2, line {line}\)", message)
    assert files(published / "out" / "2026-12") == before


def test_a_full_disk_while_writing_a_batch_names_the_file_and_keeps_the_edition(
        published, monkeypatch):
    before = files(published / "out" / "2026-12")
    write_bytes = Path.write_bytes

    def full_disk(self, data):
        if self.suffix == ".pdf" and "letters" in self.parts:
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return write_bytes(self, data)

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    with pytest.raises(RunFailed, match=r"No space left on device: '.*letters.*batch-001\.pdf'"):
        run(published)
    monkeypatch.undo()
    assert files(published / "out" / "2026-12") == before


def test_an_unexpected_error_names_the_step_and_project_line_and_logs_the_traceback(
        published, monkeypatch):
    """A bug, not bad input: the operator is told the step, the error and the project's
    own line, and the whole traceback is kept in a log inside --out."""
    from pipeline.lib.documents import letters

    before = files(published / "out" / "2026-12")
    monkeypatch.setattr(letters, "piece_view", lambda piece: letters.club_view(None))
    with pytest.raises(RunFailed) as failed:
        run(published)
    monkeypatch.undo()
    message = str(failed.value)
    # the first step to lay out a letter fails: a render split step or the proofs
    assert re.search(r"step (print_split_\d_of_\d|proofs) failed: AttributeError: 'NoneType' "
                     r"object has no attribute 'club' "
                     r"\(pipeline/lib/documents/letters\.py:\d+ in club_view\)",
                     message)
    log = published / "out" / ".work" / "last-failure.log"
    assert message.endswith(f"full traceback in {log}")
    text = log.read_text("utf-8")
    assert "AttributeError" in text and 'letters.py", line' in text and "in club_view" in text
    assert log.stat().st_mode & 0o077 == 0  # tracebacks may quote member data: owner-only
    assert files(published / "out" / "2026-12") == before


def test_the_next_run_after_the_faults_completes(published):
    edition = run(published)
    assert (edition / "letters" / "manifest.csv").exists()
    assert not (published / "out" / ".work" / "last-failure.log").exists()  # last run only
    assert not (published / "out" / ".build").exists()
