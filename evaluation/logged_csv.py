"""A generic logged-bandit CSV, so any randomised test a shop ran can be evaluated off-policy:
a header, the columns ``action``, ``reward`` and ``propensity`` (the probability the logging
policy gave the action), optionally ``position``; every other column is context: numbers as
they are, anything else one-hot encoded per distinct value.

>>> import io
>>> text = "action,reward,propensity,device,age\\nA,1,0.5,mobile,30\\nB,0,0.5,desktop,40\\n"
>>> log = read_logged_csv(io.StringIO(text))
>>> log.features, log.actions.tolist(), log.action_names
(['bias', 'age', 'device=desktop', 'device=mobile'], [0, 1], ['A', 'B'])
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import IO

import numpy as np

from evaluation.obd import LoggedFeedback
from reco.datasets import DatasetError

REQUIRED = ("action", "reward", "propensity")


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_logged_csv(source: str | Path | IO[str]) -> LoggedFeedback:
    if isinstance(source, str | Path):
        with open(source, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    else:
        rows = list(csv.DictReader(source))
    if not rows:
        raise DatasetError(f"{source}: no rows")
    missing = [c for c in REQUIRED if c not in rows[0]]
    if missing:
        raise DatasetError(f"{source}: missing column(s) {', '.join(missing)}; the header needs "
                         "action, reward, propensity and context columns")
    context = [c for c in rows[0] if c not in (*REQUIRED, "position")]
    numeric = [c for c in context if all(_number(r[c]) is not None for r in rows)]
    categorical = sorted({f"{c}={r[c]}" for r in rows for c in context if c not in numeric})
    features = ["bias", *numeric, *categorical]
    index = {f: n for n, f in enumerate(features)}
    names = sorted({r["action"] for r in rows})
    contexts = np.zeros((len(rows), len(features)))
    contexts[:, 0] = 1.0
    for i, row in enumerate(rows):
        for c in numeric:
            contexts[i, index[c]] = float(row[c])
        for c in context:
            if c not in numeric:
                contexts[i, index[f"{c}={row[c]}"]] = 1.0
    propensities = np.array([float(r["propensity"]) for r in rows])
    if np.any((propensities <= 0) | (propensities > 1)):
        raise DatasetError(f"{source}: every propensity must be in (0, 1]")
    positions = np.array([int(r.get("position") or 0) for r in rows])
    return LoggedFeedback(np.array([names.index(r["action"]) for r in rows]),
                          positions - positions.min(),
                          np.array([float(r["reward"]) for r in rows]), propensities, contexts,
                          features, len(names), int(positions.max() - positions.min()) + 1,
                          names)
