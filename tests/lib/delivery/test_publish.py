"""Publishing an edition: the new folder replaces the old one whole, or not at all."""

from pathlib import Path

from pipeline.lib.delivery.publish import exchange, publish


def folder(path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    return path


def contents(path: Path) -> dict[str, str]:
    return {p.relative_to(path).as_posix(): p.read_text() for p in path.rglob("*") if p.is_file()}


def test_exchange_swaps_two_folders_in_one_step(tmp_path):
    a = folder(tmp_path / "a", {"new.txt": "new"})
    b = folder(tmp_path / "b", {"old.txt": "old"})
    assert exchange(a, b)  # Linux: renameat2(RENAME_EXCHANGE)
    assert contents(b) == {"new.txt": "new"} and contents(a) == {"old.txt": "old"}


def test_publish_replaces_the_previous_edition_and_leaves_nothing_aside(tmp_path):
    out = tmp_path / "out"
    final = folder(out / "2026-12", {"run.json": "old", "letters/gone.pdf": "old"})
    build = folder(out / ".build" / "2026-12", {"run.json": "new", "changes.md": "new"})
    publish(build, final)
    assert contents(final) == {"run.json": "new", "changes.md": "new"}  # no old file mixed in
    assert sorted(p.name for p in out.iterdir()) == ["2026-12"]  # .build and the old one gone


def test_publish_first_edition(tmp_path):
    build = folder(tmp_path / "out" / ".build" / "2026-12", {"run.json": "new"})
    publish(build, tmp_path / "out" / "2026-12")
    assert contents(tmp_path / "out" / "2026-12") == {"run.json": "new"}


def test_publish_recovers_an_edition_left_aside_by_an_interrupted_publish(tmp_path):
    # a publish without atomic exchange was stopped between its two renames
    out = tmp_path / "out"
    folder(out / ".2026-12.previous", {"run.json": "old"})
    build = folder(out / ".build" / "2026-12", {"run.json": "new"})
    publish(build, out / "2026-12")
    assert contents(out / "2026-12") == {"run.json": "new"}
    assert sorted(p.name for p in out.iterdir()) == ["2026-12"]
