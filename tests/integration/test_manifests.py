"""The Kubernetes manifests in deploy/k8s: every resource validates against its schema (the
core kinds against those that kubernetes-validate carries, strictly; the custom resources
against the published CRDs that deploy/k8s/fetch_schemas.sh fetches, with unknown fields
refused as kubeconform's strict mode refuses them), and the topics are the project's."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from reco.config import PROJECT_ROOT, Settings
from reco.topics import topic_manifests, topic_specs

pytestmark = pytest.mark.integration
MANIFESTS = PROJECT_ROOT / "deploy" / "k8s"
SCHEMAS = PROJECT_ROOT / ".cache" / "k8s-schemas"
KUBERNETES = "1.33.0"
CRDS = {("flink.apache.org/v1beta1", "FlinkDeployment"): "flinkdeployments.flink.apache.org-v1.yml",
        ("kafka.strimzi.io/v1", "Kafka"): "kafkas.kafka.strimzi.io.yaml",
        ("kafka.strimzi.io/v1", "KafkaNodePool"): "kafkanodepools.kafka.strimzi.io.yaml",
        ("kafka.strimzi.io/v1", "KafkaTopic"): "kafkatopics.kafka.strimzi.io.yaml",
        ("monitoring.coreos.com/v1", "ServiceMonitor"):
            "monitoring.coreos.com_servicemonitors.yaml"}
# The newest Flink Kubernetes Operator on Maven Central here (1.10.0) predates Flink 2: its
# flinkVersion values stop at v1_20. Later releases add the 2.x values; the job needs v2_2.
FLINK_2_VERSIONS = ["v2_0", "v2_1", "v2_2"]


def resources() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            found += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def strict(schema: Any) -> Any:
    """Unknown fields refused wherever the schema lists the fields and keeps no others."""
    if isinstance(schema, dict):
        schema = {k: strict(v) for k, v in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema \
                and not schema.get("x-kubernetes-preserve-unknown-fields"):
            schema["additionalProperties"] = False
    elif isinstance(schema, list):
        schema = [strict(v) for v in schema]
    return schema


def crd_schema(api_version: str, kind: str) -> dict[str, Any]:
    path = SCHEMAS / CRDS[(api_version, kind)]
    assert path.exists(), f"{path} missing: run deploy/k8s/fetch_schemas.sh (make test does)"
    crd = yaml.safe_load(path.read_text())
    version = api_version.split("/")[1]
    found = next(v for v in crd["spec"]["versions"] if v["name"] == version)
    schema = copy.deepcopy(found["schema"]["openAPIV3Schema"])
    # every object has these; Kubernetes adds them to a CRD's schema when it lacks them
    schema.setdefault("properties", {}).update({
        "apiVersion": {"type": "string"}, "kind": {"type": "string"},
        "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}})
    if kind == "FlinkDeployment":
        spec = schema["properties"]["spec"]["properties"]
        spec["flinkVersion"]["enum"] = spec["flinkVersion"]["enum"] + FLINK_2_VERSIONS
    return dict(strict(schema))


def test_the_kustomization_lists_every_manifest():
    listed = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())["resources"]
    present = sorted(p.name for p in MANIFESTS.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == present


@pytest.mark.parametrize("name,resource", resources(),
                         ids=lambda v: v if isinstance(v, str) else v["metadata"]["name"])
def test_every_resource_validates_against_its_schema(name, resource):
    key = (resource["apiVersion"], resource["kind"])
    if key in CRDS:
        jsonschema.Draft7Validator(crd_schema(*key)).validate(resource)
    else:
        kubernetes_validate.validate(resource, KUBERNETES, strict=True)


def test_a_wrong_field_is_refused():
    """The validation can fail: a misspelt field in every resource (its spec, if any) is
    refused."""
    for _, resource in resources():
        broken = copy.deepcopy(resource)
        broken.get("spec", broken)["replicaz"] = 3
        key = (broken["apiVersion"], broken["kind"])
        with pytest.raises((jsonschema.ValidationError, kubernetes_validate.ValidationError)):
            if key in CRDS:
                jsonschema.Draft7Validator(crd_schema(*key)).validate(broken)
            else:
                kubernetes_validate.validate(broken, KUBERNETES, strict=True)
    assert {r["kind"] for _, r in resources()} >= {"FlinkDeployment", "Kafka", "KafkaNodePool",
                                                  "KafkaTopic", "ServiceMonitor", "Deployment",
                                                  "Service", "HorizontalPodAutoscaler",
                                                  "PodDisruptionBudget"}


def test_the_topics_are_the_projects():
    settings = Settings(topic_partitions=12)
    committed = [r for name, r in resources() if name == "topics.yaml"]
    assert committed == topic_manifests(settings, "reco-kafka"), \
        "deploy/k8s/topics.yaml is stale: RECO_TOPIC_PARTITIONS=12 reco topics --manifest"
    assert {t["spec"]["topicName"] for t in committed} == set(topic_specs(settings))
    assert all(t["spec"]["config"].items() >= topic_specs(settings)[t["spec"]["topicName"]].items()
               for t in committed)


def test_the_job_and_server_images_are_the_ones_built():
    dockerfiles = {p.name for p in (PROJECT_ROOT / "deploy" / "docker").glob("*.Dockerfile")}
    assert dockerfiles == {"job.Dockerfile", "server.Dockerfile"}
    job = (PROJECT_ROOT / "deploy" / "docker" / "job.Dockerfile").read_text()
    assert "FROM flink:2.2.1" in job and "flink-python-2.2.1.jar /opt/flink/lib/" in job
    flink = next(r for _, r in resources() if r["kind"] == "FlinkDeployment")
    assert "/opt/reco/jobs/recommend.py" in flink["spec"]["job"]["args"]
    assert flink["spec"]["job"]["upgradeMode"] == "last-state"
    assert flink["spec"]["flinkConfiguration"]["high-availability.type"] == "kubernetes"
    assert Path(PROJECT_ROOT / "jobs" / "recommend.py").exists()
