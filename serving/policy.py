"""The serving policy: picks the candidate mix (online_models/mixes.py) for a request from its
context, with the propensity of that pick, using the bandit statistics the job learned from
rewards. The job's shards arrive through the loader; when any changed, their sum replaces the
bandit's statistics (a few matrix inversions, at most once per shard publication). Its random
draws go on where they were: a fresh bandit would restart them from the seed at every
publication, so a server asked about once per publication drew the same number every time and
did not explore at all.

``settings.policy`` names it (online_models/policies.py)."""

from __future__ import annotations

from online_models.bandit_context import context_features
from online_models.mixes import ARMS
from online_models.policies import bandit_for, fixed_mix, policy_problem
from online_models.policy_stats import PolicyStatistics
from reco.config import Settings
from reco.v1 import recommendations_pb2 as pb
from serving.store import POLICY, Store


class ServingPolicy:
    def __init__(self, settings: Settings, store: Store) -> None:
        problem = policy_problem(settings.policy)
        if problem:
            raise ValueError(problem)
        self.name = settings.policy
        self.seed = settings.policy_seed
        self.features = context_features(settings.segments)
        self.store = store
        self.rewards = 0
        self._loaded = -1
        self._bandit = bandit_for(self.name, self.features, self.seed,
                                  settings.policy_exploration)

    @property
    def version(self) -> str:
        return f"{self.name}@{self.rewards}"

    def refresh(self) -> None:
        """Loads the job's latest statistics if the loader brought new ones."""
        current = self.store.versions.get(POLICY, 0)
        if current == self._loaded:
            return
        self._loaded = current
        shards = [PolicyStatistics.from_message(pb.PolicyParameters.FromString(value))
                  for _, value in self.store.values(POLICY)]
        # shards of another configuration, or of a job whose rewards had another scale (until
        # it republishes after an upgrade), would distort the sum: the job starts them over too
        shards = [s for s in shards if s.continues(self.features)]
        if self._bandit is None or not shards:
            return
        stats = PolicyStatistics.merged(shards)
        self._bandit.load(stats)
        self.rewards = stats.rewards

    def choose(self, context: dict[str, float]) -> tuple[str, float]:
        """(mix, propensity) for this context."""
        if self._bandit is None:
            return fixed_mix(self.name), 1.0
        self.refresh()
        return self._bandit.pull(ARMS, context)
