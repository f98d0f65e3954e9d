"""Where things live. Every path the pipeline uses is derived here, from one object."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Paths:
    root: Path = PROJECT_ROOT

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def sample_exports(self) -> Path:
        return self.data / "sample"

    @property
    def reference(self) -> Path:
        return self.data / "reference"

    @property
    def warehouse(self) -> Path:
        return self.data / "warehouse.duckdb"

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def assets(self) -> Path:
        """Images and fonts documents may load (the only files WeasyPrint is served)."""
        return self.root / "assets"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def default_config(self) -> Path:
        return Path(__file__).resolve().parent / "club.yaml"

    @property
    def sql(self) -> Path:
        return Path(__file__).resolve().parent / "sql"


PATHS = Paths()
