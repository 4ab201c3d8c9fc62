"""The Kubernetes manifests: valid against the Kubernetes API schemas (kubernetes-validate,
strict: unknown fields are errors) for the oldest and newest versions we support, and wired
the way deploy/README.md says: gRPC probes, limits, non-root, selectors that find the gateway
pods and only them, a migration Job, and a configuration `config check` calls usable."""

import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from fapiao_gateway.api.server import SERVICE_NAME

from tests.deploy.conftest import DEPLOY, ROOT, ReviewConfig, problems

MANIFESTS = DEPLOY / "kubernetes"
#: The oldest Kubernetes the manifests use features of (the preStop sleep action), the newest
#: kubernetes-validate knows.
VERSIONS = ["1.30", "1.37"]


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def resources() -> list[tuple[str, dict[str, Any]]]:
    listed = documents(MANIFESTS / "kustomization.yaml")[0]["resources"]
    return [(name, doc) for name in listed for doc in documents(MANIFESTS / name)]


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in resources() if doc["kind"] == kind]


def test_the_kustomization_lists_every_manifest() -> None:
    listed = documents(MANIFESTS / "kustomization.yaml")[0]["resources"]
    on_disk = sorted(p.name for p in MANIFESTS.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == on_disk


@pytest.mark.parametrize("version", VERSIONS)
def test_every_resource_is_valid_against_the_api_schemas(version: str) -> None:
    kinds = set()
    for name, doc in resources():
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{name}: {exc.path}: {exc.message}")
        kinds.add(doc["kind"])
    assert kinds == {
        "ServiceAccount",
        "ConfigMap",
        "Secret",
        "Job",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
    }


def test_the_validation_catches_a_misspelt_field() -> None:
    (deployment,) = by_kind("Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinessProbe"]["periodSecond"] = container["readinessProbe"].pop("periodSeconds")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[0], strict=True)


def _pods() -> list[tuple[str, dict[str, Any]]]:
    return [
        (doc["kind"], doc["spec"]["template"]) for doc in by_kind("Deployment") + by_kind("Job")
    ]


def test_the_gateway_is_probed_over_grpc_health() -> None:
    (deployment,) = by_kind("Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    port = container["ports"][0]["containerPort"]
    assert container["readinessProbe"]["grpc"] == {"port": port, "service": SERVICE_NAME}
    assert container["livenessProbe"]["grpc"] == {"port": port, "service": ""}
    assert container["startupProbe"]["grpc"]["port"] == port
    assert container["args"] == ["serve"]


def test_every_pod_is_limited_non_root_and_read_only() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for kind, pod in _pods():
        spec = pod["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True, kind
        assert f"ARG UID={spec['securityContext']['runAsUser']}" in dockerfile, kind
        assert spec["automountServiceAccountToken"] is False, kind
        for container in spec["containers"]:
            assert set(container["resources"]["limits"]) == {"cpu", "memory"}, kind
            assert set(container["resources"]["requests"]) == {"cpu", "memory"}, kind
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, kind
            assert context["readOnlyRootFilesystem"] is True, kind
            assert context["capabilities"]["drop"] == ["ALL"], kind


def test_services_and_the_budget_select_the_gateway_pods_and_not_the_job() -> None:
    (deployment,) = by_kind("Deployment")
    (job,) = by_kind("Job")
    gateway_labels = deployment["spec"]["template"]["metadata"]["labels"]
    job_labels = job["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= gateway_labels.items()
    selectors = [s["spec"]["selector"] for s in by_kind("Service")]
    selectors += [p["spec"]["selector"]["matchLabels"] for p in by_kind("PodDisruptionBudget")]
    assert len(selectors) == 3
    for selector in selectors:
        assert selector.items() <= gateway_labels.items()
        assert not selector.items() <= job_labels.items()
    for service in by_kind("Service"):
        assert service["spec"]["ports"][0]["targetPort"] == "grpc"
    (budget,) = by_kind("PodDisruptionBudget")
    assert budget["spec"]["minAvailable"] < deployment["spec"]["replicas"]


def test_the_job_migrates_with_the_gateways_configuration() -> None:
    (job,) = by_kind("Job")
    (deployment,) = by_kind("Deployment")
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    (gateway,) = deployment["spec"]["template"]["spec"]["containers"]
    assert migrate["args"] == ["migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    for key in ("image", "env", "envFrom"):
        assert migrate[key] == gateway[key], key
    assert migrate["volumeMounts"][0] == gateway["volumeMounts"][0]


def test_the_drain_fits_in_the_termination_grace_period() -> None:
    (deployment,) = by_kind("Deployment")
    spec = deployment["spec"]["template"]["spec"]
    pre_stop = spec["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
    grace = tomllib.loads(by_kind("ConfigMap")[0]["data"]["gateway.toml"])["shutdown_grace_seconds"]
    assert pre_stop + grace < spec["terminationGracePeriodSeconds"]


def test_the_configmap_and_secret_make_a_usable_configuration(review_config: ReviewConfig) -> None:
    (config_map,) = by_kind("ConfigMap")
    (secret,) = by_kind("Secret")
    (deployment,) = by_kind("Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    mounted = Path(container["volumeMounts"][0]["mountPath"])
    (config_file,) = config_map["data"]
    assert {"name": "FAPIAO_CONFIG_FILE", "value": str(mounted / config_file)} in container["env"]
    toml = config_map["data"][config_file]
    assert tomllib.loads(toml)["listen"].endswith(f":{container['ports'][0]['containerPort']}")

    findings = review_config(toml, secret["stringData"])
    # Plaintext is what the kubelet's gRPC probes can reach; the ConfigMap says so.
    assert problems(findings) == [("warning", "listen")]
