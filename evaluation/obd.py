"""The Open Bandit Dataset (ZOZOTOWN) as logged bandit feedback, and obp's Bernoulli Thompson
sampling policy, the reference for validating our estimators.

Rows of ``<behavior>/<campaign>/<campaign>.csv``: ``timestamp,item_id,position,click,
propensity_score,user_feature_0..3,user-item_affinity_*``. Positions become 0-based dense
ranks (as obp does). The context: a bias, the four categorical user features hashed into
one-hot buckets, and the user-item affinities.

The BTS prior (ZOZOTOWN's production alpha and beta per item) ships inside obp's source
package; ``bts_prior`` fetches that package from PyPI into ``.cache/`` once (like the jars from
Maven Central), so nothing third-party is copied into this repository.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from reco.config import CACHE_DIR

OBP_VERSION = "0.5.7"
PRIOR_MEMBER = f"obp-{OBP_VERSION}/obp/policy/conf/prior_bts.yaml"
USER_FEATURES = 4
BUCKETS = 8  # one-hot buckets per hashed user feature


@dataclass
class LoggedFeedback:
    actions: np.ndarray      # item index per round
    positions: np.ndarray    # 0-based slot
    rewards: np.ndarray      # click 0/1
    pscores: np.ndarray      # the logging policy's propensity of (action, position)
    contexts: np.ndarray     # rounds x features
    features: list[str]
    n_actions: int
    len_list: int
    action_names: list[str] = field(default_factory=list)  # when actions have names

    def __len__(self) -> int:
        return len(self.rewards)

    def split(self, fraction: float) -> tuple[LoggedFeedback, LoggedFeedback]:
        """The first ``fraction`` of rounds (in log order) and the rest."""
        cut = int(len(self) * fraction)
        parts = []
        for rows in (slice(0, cut), slice(cut, None)):
            parts.append(LoggedFeedback(self.actions[rows], self.positions[rows],
                                        self.rewards[rows], self.pscores[rows],
                                        self.contexts[rows], self.features, self.n_actions,
                                        self.len_list, self.action_names))
        return parts[0], parts[1]


def _hashed(name: str, value: str) -> str:
    return f"{name}={zlib.crc32(value.encode()) % BUCKETS}"


def load_obd(folder: str | Path, behavior: str = "random", campaign: str = "all"
             ) -> LoggedFeedback:
    path = Path(folder) / behavior / campaign / f"{campaign}.csv"
    if not path.exists():
        raise FileNotFoundError(f"{path}: expected the OBD layout <folder>/{behavior}/"
                                f"{campaign}/{campaign}.csv (e.g. ../shared/datasets/obd)")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    affinities = sorted((k for k in rows[0] if k.startswith("user-item_affinity_")),
                        key=lambda k: int(k.rsplit("_", 1)[1]))
    user = [f"user_feature_{n}" for n in range(USER_FEATURES)]
    features = ["bias", *(f"{u}={b}" for u in user for b in range(BUCKETS)), *affinities]
    index = {name: n for n, name in enumerate(features)}
    contexts = np.zeros((len(rows), len(features)))
    contexts[:, 0] = 1.0
    for i, row in enumerate(rows):
        for name in user:
            contexts[i, index[_hashed(name, row[name])]] = 1.0
        contexts[i, len(features) - len(affinities):] = [float(row[a]) for a in affinities]
    raw_positions = np.array([int(r["position"]) for r in rows])
    _, positions = np.unique(raw_positions, return_inverse=True)
    actions = np.array([int(r["item_id"]) for r in rows])
    return LoggedFeedback(actions, positions, np.array([float(r["click"]) for r in rows]),
                          np.array([float(r["propensity_score"]) for r in rows]), contexts,
                          features, int(actions.max()) + 1, int(positions.max()) + 1)


def bts_prior(campaign: str, path: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(alpha, beta) of ZOZOTOWN's production BTS for ``campaign``, from obp's package."""
    text = Path(path).read_text() if path else _prior_from_obp_package()
    prior = yaml.safe_load(text)[campaign]
    return np.array(prior["alpha"], dtype=float), np.array(prior["beta"], dtype=float)


def _prior_from_obp_package() -> str:
    folder = CACHE_DIR / "obp"
    package = folder / f"obp-{OBP_VERSION}.tar.gz"
    if not package.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps",
                        "--ignore-requires-python", f"obp=={OBP_VERSION}", "-d", str(folder),
                        "-q"], check=True)
    with tarfile.open(package) as archive:
        member = archive.extractfile(PRIOR_MEMBER)
        if member is None:
            raise FileNotFoundError(f"{PRIOR_MEMBER} not in {package}")
        return member.read().decode()


def bts_action_dist(alpha: np.ndarray, beta: np.ndarray, len_list: int, n_sim: int = 100_000,
                    seed: int = 12345) -> np.ndarray:
    """P(item at slot) of Bernoulli Thompson sampling with no data beyond the prior, by
    Monte Carlo: each draw samples every item's click rate and shows the best ``len_list``.
    Draws come from numpy's legacy RandomState, as obp's do, so the seeded result matches."""
    rng = np.random.RandomState(seed)
    counts = np.zeros((len(alpha), len_list))
    slots = np.arange(len_list)
    for _ in range(n_sim):
        top = rng.beta(a=alpha, b=beta).argsort()[::-1][:len_list]
        counts[top, slots] += 1
    return counts / n_sim
