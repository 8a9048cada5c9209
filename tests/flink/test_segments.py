"""The segment model across parallel instances on a Flink MiniCluster: the instances follow
the first instance's model, read back from the segments topic, so a segment id means the same
users on each; a record on that topic that is not a model goes to the DLQ."""

from __future__ import annotations

import json

import pytest

from reco.config import Settings
from reco.keys import REFERENCE_INSTANCE, instance_name
from reco.v1 import recommendations_pb2 as pb
from tests.flink.harness import ALLOW, PAUSE, ev, run_pipeline

pytestmark = pytest.mark.flink


def test_the_other_instances_assign_with_the_first_instances_segment_model(tmp_path):
    settings = Settings(job_parallelism=2, restart_attempts=0, profile_min_interval_ms=0,
                        segment_publish_interval_ms=0, consent_default=ALLOW,
                        checkpoint_dir=str(tmp_path / "ck"), stack_dir=str(tmp_path / "f"))
    # the first instance's model as the segments topic holds it (centres unlike any the
    # instances would learn from these events)
    reference = pb.SegmentModelSummary(instance=REFERENCE_INSTANCE, segments=[
        pb.Segment(id=k, size=1, centroid={"activity": k / 10, "device:mobile": 0.5})
        for k in range(settings.segments)])
    users = [f"u{n}" for n in range(12)]  # enough users for both instances
    records: list[bytes | tuple[bytes, str]] = [
        (reference.SerializeToString(), "segments"), (b"\x01not a model", "segments"), PAUSE,
        *[ev(n, user, "product_view", f"i{n}", "shoes").to_json()
          for n, user in enumerate(users)]]
    out = run_pipeline(records, settings)
    published = [pb.SegmentModelSummary.FromString(raw) for _, raw in out["segments"]]
    by_instance = {s.instance for s in published}
    assert by_instance == {REFERENCE_INSTANCE, instance_name(1)}, by_instance
    wanted = {s.id: dict(s.centroid) for s in reference.segments}
    for summary in published:
        centres = {s.id: dict(s.centroid) for s in summary.segments}
        if summary.instance == instance_name(1):
            # it follows: it assigns with them and learns none (a feature the model never
            # had is drawn, as River draws it, when first met)
            assert {k: {f: centres[k][f] for f in wanted[k]} for k in centres} == wanted
        else:  # the first learns (from them, as after a restart: unit-tested) and publishes
            assert centres != wanted and set(centres) == set(wanted)
    [letter] = [json.loads(s) for s in out["dead_letters"]]
    assert letter["topic"] == "segments" and "not a valid SegmentModelSummary" in letter["reason"]
