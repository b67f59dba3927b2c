"""The Flux tree in deploy/flux: ordering, remediation, image automation, secrets by reference."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.deploy.tooling import (
    CHART,
    FLUX,
    find,
    helm,
    helm_template_args,
    kustomize,
    load_all,
    one,
    validate_all,
)

CLUSTER = FLUX / "clusters" / "production"
PRODUCTION = FLUX / "apps" / "production"


def duration(text: str) -> int:
    seconds = 0
    for number, unit in re.findall(r"(\d+)([hms])", text):
        seconds += int(number) * {"h": 3600, "m": 60, "s": 1}[unit]
    return seconds


def test_the_cluster_applies_infrastructure_before_apps_with_wait_and_prune():
    docs = kustomize(CLUSTER)
    infra = one(docs, "Kustomization", "infra-controllers")
    apps = one(docs, "Kustomization", "apps")
    assert apps["spec"]["dependsOn"] == [{"name": "infra-controllers"}]
    for kustomization in (infra, apps):
        assert kustomization["spec"]["wait"] is True
        assert kustomization["spec"]["prune"] is True
        path = FLUX.parent.parent / kustomization["spec"]["path"]
        assert (path / "kustomization.yaml").is_file(), path
    assert apps["spec"]["decryption"]["provider"] == "sops"


def test_the_helmrelease_remediates_and_waits_long_enough_for_migrations():
    docs = kustomize(PRODUCTION)
    release = one(docs, "HelmRelease", "trainy")
    assert release["apiVersion"] == "helm.toolkit.fluxcd.io/v2"
    spec = release["spec"]
    assert duration(spec["timeout"]) >= 20 * 60
    assert spec["install"]["remediation"]["retries"] >= 1
    assert spec["upgrade"]["remediation"]["retries"] >= 1
    assert spec["upgrade"]["remediation"]["strategy"] == "rollback"
    # The apps Kustomization waits for the release: it must not give up first.
    apps = one(kustomize(CLUSTER), "Kustomization", "apps")
    assert duration(apps["spec"]["timeout"]) > duration(spec["timeout"])
    source = spec["chart"]["spec"]["sourceRef"]
    assert one(docs, source["kind"], source["name"])["spec"]["ignore"].count("charts/trainy")
    assert spec["chart"]["spec"]["chart"] == "./charts/trainy"


def test_the_production_values_render_the_chart_into_valid_objects(tmp_path: Path):
    release = one(kustomize(PRODUCTION), "HelmRelease", "trainy")
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(release["spec"]["values"]))
    docs = load_all(helm(*helm_template_args(values)).stdout)
    problems = validate_all(docs)
    assert not problems, "\n".join(map(str, problems))
    assert one(docs, "HTTPRoute")["spec"]["parentRefs"][0]["name"] == "cloudflare"
    assert find(docs, "Cluster") and find(docs, "RabbitmqCluster")


def test_image_updates_are_automated_on_semver_and_marked_in_the_overlay():
    docs = kustomize(PRODUCTION)
    for kind in ("ImageRepository", "ImagePolicy", "ImageUpdateAutomation"):
        assert one(docs, kind)["apiVersion"] == "image.toolkit.fluxcd.io/v1"
    policy = one(docs, "ImagePolicy")
    assert "range" in policy["spec"]["policy"]["semver"]
    automation = one(docs, "ImageUpdateAutomation")
    assert automation["spec"]["update"]["strategy"] == "Setters"
    marked = (PRODUCTION / "helmrelease-values.yaml").read_text()
    namespace = policy["metadata"]["namespace"]
    assert f'# {{"$imagepolicy": "{namespace}:{policy["metadata"]["name"]}:tag"}}' in marked
    assert automation["spec"]["update"]["path"].strip("./") == str(
        PRODUCTION.relative_to(FLUX.parent.parent)
    )


def test_failures_are_notified():
    docs = kustomize(PRODUCTION)
    provider = one(docs, "Provider")
    alert = one(docs, "Alert")
    for doc in (provider, alert):
        assert doc["apiVersion"] == "notification.toolkit.fluxcd.io/v1beta3"
    assert alert["spec"]["providerRef"]["name"] == provider["metadata"]["name"]
    assert {"kind": "HelmRelease", "name": "trainy"} in alert["spec"]["eventSources"]
    assert "secretRef" in provider["spec"]


def test_no_secret_is_committed_in_clear():
    for file in FLUX.rglob("*.yaml"):
        for doc in load_all(file.read_text()):
            if doc.get("kind") == "Secret":
                # Only SOPS-encrypted Secrets may live in Git.
                assert "sops" in doc, f"{file} holds a Secret in clear"
    production = kustomize(PRODUCTION)
    assert one(production, "ExternalSecret", "trainy-env")
    release = one(production, "HelmRelease", "trainy")
    assert release["spec"]["values"]["secrets"] == {"existingSecret": "trainy-env"}
    assert CHART.is_dir()
