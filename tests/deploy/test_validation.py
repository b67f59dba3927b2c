"""Every rendered and built object, validated strictly: Kubernetes 1.35 schemas for core kinds,
the real CRDs staged in ../shared for the Gateway API, Flux and the operators' kinds."""

from __future__ import annotations

import pytest

from tests.deploy.tooling import (
    CI_VALUES,
    FLUX,
    FLUX_KUSTOMIZATIONS,
    crd_schemas,
    kustomize,
    render,
    validate,
    validate_all,
)


@pytest.mark.parametrize("values", CI_VALUES, ids=[p.stem for p in CI_VALUES])
def test_the_rendered_chart_is_valid(values):
    problems = validate_all(render(values))
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize(
    "path", FLUX_KUSTOMIZATIONS, ids=[str(p.relative_to(FLUX)) for p in FLUX_KUSTOMIZATIONS]
)
def test_every_flux_kustomization_builds_into_valid_objects(path):
    docs = kustomize(path)
    assert docs
    problems = validate_all(docs)
    assert not problems, "\n".join(map(str, problems))


def test_the_crd_schemas_are_read_from_shared_and_cover_the_kinds_used():
    schemas = crd_schemas()
    for key in [
        ("gateway.networking.k8s.io/v1", "HTTPRoute"),
        ("helm.toolkit.fluxcd.io/v2", "HelmRelease"),
        ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
        ("source.toolkit.fluxcd.io/v1", "GitRepository"),
        ("source.toolkit.fluxcd.io/v1", "OCIRepository"),
        ("image.toolkit.fluxcd.io/v1", "ImagePolicy"),
        ("notification.toolkit.fluxcd.io/v1beta3", "Alert"),
        ("postgresql.cnpg.io/v1", "Cluster"),
        ("rabbitmq.com/v1beta1", "RabbitmqCluster"),
        ("mongodbcommunity.mongodb.com/v1", "MongoDBCommunity"),
        ("dragonflydb.io/v1alpha1", "Dragonfly"),
        ("operator.victoriametrics.com/v1beta1", "VMServiceScrape"),
        ("operator.victoriametrics.com/v1beta1", "VMRule"),
        ("monitoring.coreos.com/v1", "ServiceMonitor"),
        ("monitoring.coreos.com/v1", "PrometheusRule"),
        ("external-secrets.io/v1", "ExternalSecret"),
    ]:
        assert key in schemas
    assert ("image.toolkit.fluxcd.io/v1beta2", "ImagePolicy") not in schemas


# The validators themselves: a mistake must not pass.


def test_an_unknown_kind_fails_instead_of_passing_unchecked():
    (problem,) = validate(
        {"apiVersion": "example.org/v1", "kind": "Gadget", "metadata": {"name": "x"}}
    )
    assert "Couldn't find schema" in problem.message


def manifest(api_version: str, kind: str, name: str, spec: dict) -> dict:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, "spec": spec}


def test_a_misspelt_field_of_a_core_kind_fails():
    service = manifest(
        "v1",
        "Service",
        "web",
        {"ports": [{"port": 80, "targetPort": "http"}], "selectr": {"a": "b"}},
    )
    assert validate(service)


def test_a_misspelt_field_of_a_crd_kind_fails():
    route = manifest(
        "gateway.networking.k8s.io/v1", "HTTPRoute", "web", {"parentRef": [{"name": "cloudflare"}]}
    )
    assert validate(route)
    release = manifest(
        "helm.toolkit.fluxcd.io/v2",
        "HelmRelease",
        "trainy",
        {
            "interval": "10m",
            "chart": {"spec": {"chart": "x", "sourceRef": {"kind": "GitRepository", "name": "y"}}},
            "timout": "30m",
        },
    )
    assert validate(release)


def test_a_misspelt_field_of_an_operator_kind_fails():
    cluster = manifest(
        "postgresql.cnpg.io/v1",
        "Cluster",
        "pg",
        {"instances": 3, "storage": {"size": "1Gi"}, "bootstrap": {"initDB": {}}},
    )
    assert validate(cluster)
