"""Segments for users the job has not seen: the nearest centroid, by context alone (device and
part of the day), of the segment model the job published: the first instance's, which the
others follow (operators/users.py), or, before it published, the instance that has assigned
the most users."""

from __future__ import annotations

from online_models.segments import context_segment
from reco.keys import REFERENCE_INSTANCE
from reco.v1 import recommendations_pb2 as pb
from serving.store import SEGMENTS, Store


class SegmentDirectory:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.centroids: dict[int, dict[str, float]] = {}
        self._loaded = -1

    def refresh(self) -> None:
        current = self.store.versions.get(SEGMENTS, 0)
        if current == self._loaded:
            return
        self._loaded = current
        summaries = [pb.SegmentModelSummary.FromString(v) for _, v in self.store.values(SEGMENTS)]
        if summaries:
            best = max(summaries, key=lambda s: (s.instance == REFERENCE_INSTANCE,
                                                 sum(seg.size for seg in s.segments)))
            self.centroids = {seg.id: dict(seg.centroid) for seg in best.segments}

    def assign(self, device_type: str, day_part: str) -> int | None:
        """The segment of a new user in this context, or None before the job published any."""
        self.refresh()
        return context_segment(self.centroids, device_type, day_part)

