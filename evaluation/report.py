"""Report output shared by the evaluation commands: JSON, a Markdown file with tables, PNG plots,
under ``reports/<name>/``, and progress on stderr."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reco.config import PROJECT_ROOT
from reco.reporting import machine, progress

__all__ = ["REPORTS", "machine", "markdown_table", "progress", "pyplot", "report_dir",
           "write_json"]

REPORTS = PROJECT_ROOT / "reports"


def report_dir(name: str) -> Path:
    folder = REPORTS / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_json(folder: Path, name: str, data: dict[str, Any]) -> Path:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=float))
    return path


def markdown_table(header: list[str], rows: list[list[Any]]) -> str:
    def cell(value: Any) -> str:
        return f"{value:.4f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
