"""Shared fixtures: the tiny export folders in tests/data/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    """A writable copy of tests/data/exports (members with Chinese headers, all tables)."""
    target = tmp_path / "exports"
    shutil.copytree(DATA / "exports", target)
    return target


@pytest.fixture
def mapped_exports(tmp_path: Path) -> Path:
    """Exports with a CRM's own headers and file names, mapped by columns.yaml."""
    target = tmp_path / "mapped"
    shutil.copytree(DATA / "mapped", target)
    return target
