"""Rendering and validation of the Helm chart and the Flux manifests, shared by the tests.

helm, kustomize and checkov come from scripts/deploy-tools (built or installed once into a
cache outside the tree, keyed by version). Core Kubernetes kinds are validated strictly
against the Kubernetes 1.35 schemas that kubernetes-validate ships; custom resources of the
Gateway API, Flux and the operators (CloudNativePG, RabbitMQ, MongoDB, Dragonfly,
VictoriaMetrics, Prometheus, External Secrets) against their real CRDs staged in
../shared/schemas/crds (read from there, never copied).
"""

from __future__ import annotations

import copy
import functools
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "trainy"
CI_VALUES = sorted((CHART / "ci").glob("*.yaml"))
FLUX = ROOT / "deploy" / "flux"
FLUX_KUSTOMIZATIONS = sorted(p.parent for p in FLUX.rglob("kustomization.yaml"))
CRD_DIR = ROOT.parent / "shared" / "schemas" / "crds"
KUBERNETES_VERSION = "1.35.0"
RELEASE = "trainy"
NAMESPACE = "trainy"

Doc = dict[str, Any]


@functools.cache
def tools() -> dict[str, str]:
    """Paths of helm, kustomize and checkov, installing whatever is missing."""
    result = subprocess.run(
        [str(ROOT / "scripts" / "deploy-tools"), "install"],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"scripts/deploy-tools install failed:\n{result.stderr[-3000:]}")
    paths = {}
    for line in result.stdout.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        paths[name] = value
    return paths


def run(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def load_all(text: str) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run(tools()["HELM"], *args, check=check)


def helm_template_args(*values: str | Path, sets: Iterable[str] = ()) -> list[str]:
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE]
    args += ["--kube-version", KUBERNETES_VERSION]
    for file in values:
        args += ["--values", str(file)]
    for item in sets:
        args += ["--set", item]
    return args


@functools.cache
def _render_cached(values: tuple[str, ...], sets: tuple[str, ...]) -> str:
    return helm(*helm_template_args(*values, sets=sets)).stdout


def render(*values: str | Path, sets: Iterable[str] = ()) -> list[Doc]:
    """The chart's objects for these value files (fresh copies: tests may change them)."""
    text = _render_cached(tuple(str(v) for v in values), tuple(sets))
    return copy.deepcopy(load_all(text))


def render_text(*values: str | Path, sets: Iterable[str] = ()) -> str:
    return _render_cached(tuple(str(v) for v in values), tuple(sets))


@functools.cache
def _kustomize_cached(path: str) -> str:
    return run(tools()["KUSTOMIZE"], "build", path).stdout


def kustomize(path: Path) -> list[Doc]:
    return copy.deepcopy(load_all(_kustomize_cached(str(path))))


def find(docs: list[Doc], kind: str, name: str | None = None) -> list[Doc]:
    return [
        d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]


def one(docs: list[Doc], kind: str, name: str | None = None) -> Doc:
    found = find(docs, kind, name)
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def pod_spec(doc: Doc) -> Doc:
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return doc["spec"]["template"]["spec"]


WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")


# --- Custom resource definitions from ../shared ----------------------------------------------


def _convert(schema: Any) -> Any:
    """openAPIV3Schema → JSON Schema (draft 7), strict: as README of the CRD folder says."""
    if isinstance(schema, list):
        return [_convert(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    preserve = schema.get("x-kubernetes-preserve-unknown-fields", False)
    for key, value in schema.items():
        if key.startswith("x-kubernetes-") or key in ("format", "nullable"):
            continue
        if key in ("properties", "patternProperties", "definitions"):
            out[key] = {name: _convert(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            out[key] = _convert(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [_convert(sub) for sub in value]
        else:
            out[key] = value
    if schema.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if "properties" in out and not preserve and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


@functools.cache
def crd_schemas() -> dict[tuple[str, str], Doc]:
    """(apiVersion, kind) → JSON schema, for every served version of every staged CRD."""
    if not CRD_DIR.is_dir():
        raise RuntimeError(f"the CRD schemas are missing: {CRD_DIR} (see ../shared/schemas)")
    schemas = {}
    for file in sorted(CRD_DIR.rglob("*.yaml")):
        for doc in load_all(file.read_text()):
            if doc.get("kind") != "CustomResourceDefinition":
                continue  # the Gateway API's ValidatingAdmissionPolicy
            group = doc["spec"]["group"]
            kind = doc["spec"]["names"]["kind"]
            for version in doc["spec"]["versions"]:
                if version.get("served"):
                    schema = _convert(version["schema"]["openAPIV3Schema"])
                    schemas[(f"{group}/{version['name']}", kind)] = schema
    return schemas


@dataclass
class Problem:
    what: str
    message: str

    def __str__(self) -> str:
        return f"{self.what}: {self.message}"


def describe(doc: Doc) -> str:
    meta = doc.get("metadata", {})
    return (
        f"{doc.get('apiVersion')} {doc.get('kind')} {meta.get('namespace', '')}/{meta.get('name')}"
    )


def validate(doc: Doc) -> list[Problem]:
    """Every problem with one object; an object of a kind no schema knows is a problem too."""
    what = describe(doc)
    key = (doc.get("apiVersion", ""), doc.get("kind", ""))
    if key in crd_schemas():
        # metadata is checked by the API server's ObjectMeta, not by the CRD's schema (some
        # CRDs, CloudNativePG's among them, still list it as required).
        body = {k: v for k, v in doc.items() if k != "metadata"}
        schema = copy.deepcopy(crd_schemas()[key])
        schema.get("properties", {}).pop("metadata", None)
        if "required" in schema:
            schema["required"] = [name for name in schema["required"] if name != "metadata"]
        errors = jsonschema.Draft7Validator(schema).iter_errors(body)
        return [
            Problem(what, f"{'/'.join(map(str, e.absolute_path))}: {e.message}") for e in errors
        ]
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError as error:
        return [Problem(what, str(error.message))]
    except kubernetes_validate.ValidationError as error:
        return [Problem(what, f"{'/'.join(map(str, error.absolute_path))}: {error.message}")]
    return []


def validate_all(docs: list[Doc]) -> list[Problem]:
    return [problem for doc in docs for problem in validate(doc)]


def checkov(path: Path, framework: str) -> subprocess.CompletedProcess[str]:
    config = Path(__file__).with_name("checkov.yaml")
    return run(
        tools()["CHECKOV"], "--config-file", str(config), "--framework", framework,
        *(["-d", str(path)] if path.is_dir() else ["-f", str(path)]),
        check=False, timeout=600,
    )  # fmt: skip
