"""The Helm chart, rendered with each ci/*.yaml: what the objects must say."""

from __future__ import annotations

import base64
import json
import re

import pytest

from tests.deploy.tooling import (
    CHART,
    CI_VALUES,
    WORKLOADS,
    Doc,
    find,
    helm,
    helm_template_args,
    one,
    pod_spec,
    render,
    render_text,
)

DEFAULTS = CHART / "ci" / "defaults-values.yaml"
EXTERNAL = CHART / "ci" / "external-values.yaml"
OPERATORS = CHART / "ci" / "operators-values.yaml"
INGRESS = CHART / "ci" / "ingress-values.yaml"
CI_IDS = [path.stem for path in CI_VALUES]
SECRET_NAMES = {
    "SECRET_KEY", "GITLAB_CLIENT_SECRET", "EMAIL_URL", "TRAINY_METRICS_TOKEN",
    "DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "MONGO_URL",
}  # fmt: skip


def containers(doc: Doc) -> list[Doc]:
    spec = pod_spec(doc)
    return spec.get("initContainers", []) + spec["containers"]


def workloads(docs: list[Doc]) -> list[Doc]:
    return [d for d in docs if d["kind"] in WORKLOADS]


def test_the_ci_values_cover_defaults_external_services_operators_and_ingress():
    assert set(CI_IDS) >= {
        "defaults-values",
        "external-values",
        "operators-values",
        "ingress-values",
    }


@pytest.mark.parametrize("values", CI_VALUES, ids=CI_IDS)
def test_helm_lint_strict_is_clean(values):
    result = helm(
        "lint", "--strict", str(CHART), "--kube-version", "1.35.0", "--values", str(values)
    )
    assert "0 chart(s) failed" in result.stdout
    assert "[WARNING]" not in result.stdout and "[ERROR]" not in result.stdout


@pytest.mark.parametrize(
    ("setting", "complaint"),
    [
        ("web.replicaz=3", "additional properties 'replicaz' not allowed"),
        ("worker.concurrency=two", "got string, want integer"),
        ("global.image.pullPolicy=Sometimes", "value must be one of"),
        ("metrics.scrape.kind=PodMonitor", "value must be one of"),
        ("config.logLevel=verbose", "value must be one of"),
        ("worker.queues[0]=enrichmnet", "value must be one of"),
        ("httpRoute.hostnames[0]=Not A Host", "does not match pattern"),
        ("web.resources.limits.memory=lots", "does not match pattern"),
        ("postgresql.operator.enabeld=true", "additional properties 'enabeld' not allowed"),
        ("beat.replicas=2", "additional properties 'replicas' not allowed"),
        ("config.proxyHops=-1", "minimum"),
        ("config.trustedProxies[0]=the-gateway", "does not match pattern"),
        ("config.gitlab.recheckSeconds=5", "minimum: got 5, want 30"),
    ],
)
def test_the_values_schema_rejects_misspelt_and_mistyped_values(setting, complaint):
    result = helm(*helm_template_args(DEFAULTS, sets=[setting]), check=False)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_without_a_database_or_broker_the_chart_says_what_to_set():
    result = helm("template", "t", str(CHART), "--kube-version", "1.35.0", check=False)
    assert result.returncode != 0
    assert "PostgreSQL: set postgresql.external.url" in result.stderr


@pytest.mark.parametrize("values", CI_VALUES, ids=CI_IDS)
def test_selectors_match_the_pod_labels_and_carry_the_component(values):
    docs = render(values)
    for doc in find(docs, "Deployment"):
        selector = doc["spec"]["selector"]["matchLabels"]
        labels = doc["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), doc["metadata"]["name"]
        assert (
            selector["app.kubernetes.io/component"]
            == doc["metadata"]["labels"]["app.kubernetes.io/component"]
        )
    pods = {
        d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]
        for d in find(docs, "Deployment")
    }
    for kind in ("Service", "PodDisruptionBudget"):
        for doc in find(docs, kind):
            selector = doc["spec"]["selector"]
            selector = selector.get("matchLabels", selector)
            matched = [name for name, labels in pods.items() if selector.items() <= labels.items()]
            assert len(matched) == 1, f"{kind} {doc['metadata']['name']} selects {matched}"
    for doc in find(docs, "HorizontalPodAutoscaler"):
        target = doc["spec"]["scaleTargetRef"]
        assert target["name"] in pods and target["kind"] == "Deployment"
        assert "replicas" not in one(docs, "Deployment", target["name"])["spec"]


@pytest.mark.parametrize("values", CI_VALUES, ids=CI_IDS)
def test_every_object_has_the_standard_labels_and_the_release_namespace(values):
    for doc in render(values):
        labels = doc["metadata"]["labels"]
        assert labels["app.kubernetes.io/instance"] == "trainy"
        assert labels["app.kubernetes.io/name"] == "trainy"
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert doc["metadata"]["namespace"] == "trainy"


def test_the_httproute_points_at_the_web_service_port_through_the_cloudflare_gateway():
    docs = render(DEFAULTS)
    route = one(docs, "HTTPRoute")
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["spec"]["parentRefs"] == [
        {
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "name": "cloudflare",
            "namespace": "ingress",
        }
    ]
    assert route["spec"]["hostnames"] == ["trainy.example.org"]
    (rule,) = route["spec"]["rules"]
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]
    (backend,) = rule["backendRefs"]
    service = one(docs, "Service", backend["name"])
    assert backend["port"] in [port["port"] for port in service["spec"]["ports"]]
    port = next(p for p in service["spec"]["ports"] if p["port"] == backend["port"])
    web = one(docs, "Deployment", "trainy-web")
    (container,) = web["spec"]["template"]["spec"]["containers"]
    assert port["targetPort"] in [p["name"] for p in container["ports"]]
    assert not find(docs, "Ingress")


@pytest.mark.parametrize("values", CI_VALUES, ids=CI_IDS)
def test_the_client_address_is_read_behind_the_one_proxy_in_front(values):
    """Behind the Gateway (or the Ingress controller), Trainy believes one X-Forwarded-For
    entry, the one that proxy appended: sign-in rate limits key on the client, not on it."""
    config = one(render(values), "ConfigMap", "trainy")["data"]
    assert config["TRAINY_PROXY_HOPS"] == "1"
    assert "TRAINY_TRUSTED_PROXIES" not in config


def test_listed_trusted_proxies_replace_the_hop_count():
    docs = render(DEFAULTS, sets=["config.trustedProxies={10.42.0.0/16,192.0.2.7}"])
    config = one(docs, "ConfigMap", "trainy")["data"]
    assert config["TRAINY_TRUSTED_PROXIES"] == "10.42.0.0/16,192.0.2.7"
    assert "TRAINY_PROXY_HOPS" not in config


def test_the_ingress_values_make_an_ingress_and_no_httproute():
    docs = render(INGRESS)
    assert not find(docs, "HTTPRoute")
    ingress = one(docs, "Ingress")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "trainy-web", "port": {"name": "http"}}
    assert ingress["spec"]["ingressClassName"] == "traefik"
    config = one(docs, "ConfigMap", "trainy")["data"]
    assert config["ALLOWED_HOSTS"] == "trainy.example.net"
    assert config["CSRF_TRUSTED_ORIGINS"] == "https://trainy.example.net"
    assert one(docs, "Deployment", "trainy-web")["spec"]["replicas"] == 3


@pytest.mark.parametrize("values", CI_VALUES, ids=CI_IDS)
def test_beat_is_exactly_one_and_replaced_rather_than_doubled(values):
    beat = one(render(values), "Deployment", "trainy-beat")
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    assert not [
        d
        for d in render(values)
        if d["kind"] == "HorizontalPodAutoscaler" and "beat" in d["metadata"]["name"]
    ]


@pytest.mark.parametrize("values", CI_VALUES, ids=CI_IDS)
def test_the_migration_job_is_a_hook_that_runs_before_pods_roll(values):
    docs = render(values)
    job = one(docs, "Job", "trainy-migrate")
    hooks = job["metadata"]["annotations"]["helm.sh/hook"].split(",")
    assert "pre-upgrade" in hooks
    # Before install, unless the chart makes the database itself (it exists only afterwards).
    expected = "post-install" if values == OPERATORS else "pre-install"
    assert expected in hooks
    assert job["metadata"]["annotations"]["helm.sh/hook-delete-policy"] == (
        "before-hook-creation,hook-succeeded"
    )
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    # Whatever the Job reads exists when it runs: hook copies made before it (lower weight).
    weight = int(job["metadata"]["annotations"]["helm.sh/hook-weight"])
    for ref in container["envFrom"]:
        config = one(docs, "ConfigMap", ref["configMapRef"]["name"])
        assert (
            config["metadata"]["annotations"]["helm.sh/hook"]
            == job["metadata"]["annotations"]["helm.sh/hook"]
        )
        assert int(config["metadata"]["annotations"]["helm.sh/hook-weight"]) < weight
    secret_names = {
        e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"] if "valueFrom" in e
    }
    env_names = {e["name"] for e in container["env"]}
    # The broker and document store may not exist yet before install: the Job needs neither.
    assert env_names >= {"SECRET_KEY", "DATABASE_URL"}
    assert not env_names & {"CELERY_BROKER_URL", "MONGO_URL", "REDIS_URL"}
    for name in secret_names:
        made_here = find(docs, "Secret", name)
        if made_here:
            assert "helm.sh/hook" in made_here[0]["metadata"]["annotations"]


@pytest.mark.parametrize("values", CI_VALUES, ids=CI_IDS)
def test_secrets_never_appear_in_configmaps(values):
    docs = render(values)
    secret_values = set()
    for secret in find(docs, "Secret"):
        for value in secret.get("data", {}).values():
            secret_values.add(base64.b64decode(value).decode())
    secret_values |= {"secret", "gloas-0123456789", "scrape-me"}  # passwords in the ci values
    for config in find(docs, "ConfigMap"):
        data = config.get("data", {})
        assert not SECRET_NAMES & set(data), config["metadata"]["name"]
        text = json.dumps(data)
        for value in secret_values:
            assert value not in text, f"a secret value is in ConfigMap {config['metadata']['name']}"
        # No URL with credentials in it (user:password@host).
        assert not re.search(r"://[^/@\s]+:[^/@\s]+@", text), config["metadata"]["name"]


@pytest.mark.parametrize("values", CI_VALUES, ids=CI_IDS)
def test_every_container_has_probes_limits_and_the_hardened_security_context(values):
    for doc in workloads(render(values)):
        spec = pod_spec(doc)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for container in containers(doc):
            name = f"{doc['kind']} {doc['metadata']['name']}/{container['name']}"
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name
            limits = container["resources"]["limits"]
            requests = container["resources"]["requests"]
            assert {"cpu", "memory"} <= set(limits) and {"cpu", "memory"} <= set(requests), name
            # Writable directories are emptyDirs (read-only root filesystem).
            for mount in container.get("volumeMounts", []):
                assert "emptyDir" in volumes[mount["name"]], name
            assert "/tmp" in [m["mountPath"] for m in container.get("volumeMounts", [])], name
            if doc["kind"] in ("Job", "CronJob"):
                # One-shot commands: bounded by activeDeadlineSeconds instead; a liveness probe
                # would only kill a long migration or import.
                assert (
                    doc["spec"].get("activeDeadlineSeconds")
                    or doc["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"]
                )
                continue
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert probe in container, f"{name} has no {probe}"


def test_probes_use_the_cheap_endpoints_of_each_role():
    docs = render(DEFAULTS)
    web = one(docs, "Deployment", "trainy-web")["spec"]["template"]["spec"]["containers"][0]
    assert web["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert web["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert web["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    startup = web["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 300
    for name in ("trainy-worker", "trainy-beat"):
        container = one(docs, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["TRAINY_METRICS_PORT"] == "9808"


def test_resources_fit_the_seed_nodes():
    """4 vCPU / 8 GB per node, three nodes: the defaults at full scale leave room for the
    operators' databases and the system."""
    docs = render(OPERATORS)
    total_cpu = total_memory = 0.0

    def cpu(value: str) -> float:
        return float(value[:-1]) / 1000 if str(value).endswith("m") else float(value)

    def memory(value: str) -> float:
        units = {"Mi": 1 / 1024, "Gi": 1.0}
        return float(value[:-2]) * units[value[-2:]]

    for doc in find(docs, "Deployment"):
        container = doc["spec"]["template"]["spec"]["containers"][0]
        hpa = find(docs, "HorizontalPodAutoscaler", doc["metadata"]["name"])
        replicas = hpa[0]["spec"]["maxReplicas"] if hpa else doc["spec"]["replicas"]
        limits = container["resources"]["limits"]
        assert cpu(limits["cpu"]) <= 2 and memory(limits["memory"]) <= 2
        total_cpu += replicas * cpu(container["resources"]["requests"]["cpu"])
        total_memory += replicas * memory(container["resources"]["requests"]["memory"])
    assert total_cpu <= 4, total_cpu
    assert total_memory <= 8, total_memory


def test_pods_roll_when_the_secret_or_the_settings_change():
    def annotations(*sets: str) -> dict[str, str]:
        docs = render(OPERATORS, sets=sets)
        return one(docs, "Deployment", "trainy-web")["spec"]["template"]["metadata"]["annotations"]

    base = annotations()
    assert (
        base["checksum/secret"]
        != annotations("secrets.gitlabClientSecret=another")["checksum/secret"]
    )
    assert base["checksum/config"] != annotations("config.siteName=Other")["checksum/config"]
    assert base == annotations()
    for name in ("trainy-worker", "trainy-beat"):
        pod = one(render(OPERATORS), "Deployment", name)["spec"]["template"]["metadata"]
        assert {"checksum/secret", "checksum/config"} <= set(pod["annotations"])


def test_an_existing_secret_replaces_the_charts_secret():
    docs = render(EXTERNAL)
    assert not [s for s in find(docs, "Secret")]
    web = one(docs, "Deployment", "trainy-web")["spec"]["template"]["spec"]["containers"][0]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in web["env"] if "valueFrom" in e}
    assert refs["SECRET_KEY"] == {"name": "trainy-env", "key": "SECRET_KEY"}
    assert refs["GITLAB_CLIENT_SECRET"]["optional"] is True
    assert refs["DATABASE_URL"] == {"name": "trainy-postgres", "key": "uri"}
    assert refs["CELERY_BROKER_URL"] == {"name": "trainy-rabbitmq", "key": "url"}
    config = one(docs, "ConfigMap", "trainy")["data"]
    assert config["GITLAB_CLIENT_ID"] == "3f1c0ffee"
    # The GitLab re-check's defaults, as trainy/settings.py has them.
    assert config["TRAINY_GITLAB_RECHECK_SECONDS"] == "900"
    assert config["TRAINY_GITLAB_ADMIN_GRACE_SECONDS"] == "3600"
    assert (
        config["TRAINY_REALTIME_FEEDS"]
        == "caltrain=https://rt.example.org/caltrain/trip-updates.pb"
    )
    assert config["TRAINY_HSTS_SECONDS"] == "3600"
    scrape = find(docs, "ServiceMonitor")
    assert len(scrape) == 2 and not find(docs, "VMServiceScrape")
    cron = one(docs, "CronJob")
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    args = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[:4] == ["import-gtfs", "https://gtfs.example.org/de/fv.zip", "--name", "de-fv"]


def test_the_operators_values_make_each_backing_service_and_wire_its_secret():
    docs = render(OPERATORS)
    kinds = {(d["apiVersion"], d["kind"]) for d in docs}
    assert {
        ("postgresql.cnpg.io/v1", "Cluster"),
        ("rabbitmq.com/v1beta1", "RabbitmqCluster"),
        ("mongodbcommunity.mongodb.com/v1", "MongoDBCommunity"),
        ("dragonflydb.io/v1alpha1", "Dragonfly"),
    } <= kinds
    web = one(docs, "Deployment", "trainy-web")["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in web["env"]}
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "trainy-pg-app",
        "key": "uri",
    }
    assert (
        env["RABBITMQ_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"]
        == "trainy-rabbitmq-default-user"
    )
    assert env["CELERY_BROKER_URL"]["value"].startswith(
        "amqp://$(RABBITMQ_USERNAME):$(RABBITMQ_PASSWORD)@trainy-rabbitmq.trainy.svc:5672/"
    )
    names = [e["name"] for e in web["env"]]
    assert names.index("RABBITMQ_PASSWORD") < names.index("CELERY_BROKER_URL")
    assert env["MONGO_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "trainy-mongodb-admin-trainy",
        "key": "connectionString.standard",
    }
    assert env["REDIS_URL"]["value"] == "redis://trainy-dragonfly.trainy.svc:6379/0"
    mongo = one(docs, "MongoDBCommunity")
    (user,) = mongo["spec"]["users"]
    password = one(docs, "Secret", user["passwordSecretRef"]["name"])
    assert password["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


@pytest.mark.parametrize("values", CI_VALUES, ids=CI_IDS)
def test_network_policies_let_in_only_the_gateway_and_the_scrapers(values):
    docs = render(values)
    web = one(docs, "NetworkPolicy", "trainy-web")
    (rule,) = web["spec"]["ingress"]
    namespaces = {
        p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for p in rule["from"]
    }
    assert "monitoring" in namespaces
    assert namespaces & {"ingress", "kube-system"}
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]
    background = one(docs, "NetworkPolicy", "trainy-background")
    (rule,) = background["spec"]["ingress"]
    assert rule["ports"] == [{"port": "metrics", "protocol": "TCP"}]


def test_metrics_are_scraped_from_web_and_workers_and_a_dashboard_is_shipped():
    docs = render(DEFAULTS)
    scrapes = {d["metadata"]["name"]: d for d in find(docs, "VMServiceScrape")}
    assert set(scrapes) == {"trainy-web", "trainy-worker"}
    services = find(docs, "Service")
    for scrape in scrapes.values():
        (endpoint,) = scrape["spec"]["endpoints"]
        assert endpoint["path"] == "/metrics"
        selected = [
            s
            for s in services
            if scrape["spec"]["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()
        ]
        assert selected and endpoint["port"] in [
            p["name"] for s in selected for p in s["spec"]["ports"]
        ]
    dashboard = one(docs, "ConfigMap", "trainy-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    panels = json.loads(dashboard["data"]["trainy.json"])["panels"]
    expressions = " ".join(t["expr"] for p in panels for t in p["targets"])
    for metric in (
        "trainy_checkins_created_total",
        "trainy_enrichment_lag_seconds_bucket",
        "trainy_enrichment_failures_total",
        "trainy_celery_queue_messages",
        "trainy_celery_task_duration_seconds_bucket",
        "trainy_gtfs_import_duration_seconds",
        "django_http_requests_latency_seconds_by_view_method_bucket",
    ):
        assert metric in expressions


def test_rendering_is_deterministic_apart_from_generated_secrets():
    first = render_text(INGRESS)
    again = helm(*helm_template_args(INGRESS)).stdout

    def stable(text: str) -> list[str]:
        return [
            line
            for line in text.splitlines()
            if "SECRET_KEY" not in line and "checksum/secret" not in line
        ]

    assert stable(first) == stable(again)


def test_pods_stop_gracefully_within_their_grace_period():
    docs = render(DEFAULTS)
    web = one(docs, "Deployment", "trainy-web")["spec"]["template"]["spec"]
    (container,) = web["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pre_stop + int(env["GUNICORN_GRACEFUL_TIMEOUT"]) < web["terminationGracePeriodSeconds"]
    # A worker's warm shutdown lets its running task finish: longer than the hard time limit.
    worker = one(docs, "Deployment", "trainy-worker")["spec"]["template"]["spec"]
    time_limit = int(one(docs, "ConfigMap", "trainy")["data"]["CELERY_TASK_TIME_LIMIT"])
    assert worker["terminationGracePeriodSeconds"] > time_limit
