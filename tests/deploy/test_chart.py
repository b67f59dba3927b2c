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
        ("webhooksWorker.pool=gevent", "value must be one of"),
        ("webhooksWorker.queues[0]=hooks", "value must be one of"),
        ("config.api.rateToken=0", "minimum: got 0, want 1"),
        ("config.api.rateUser=many", "got string, want integer"),
        ("networkPolicy.egress.webhookPorts[0]=70000", "maximum: got 70,000, want 65,535"),
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
    for name in ("trainy-worker", "trainy-webhooks-worker", "trainy-beat"):
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
    for name in ("trainy-worker", "trainy-webhooks-worker", "trainy-beat"):
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
    assert len(scrape) == 3 and not find(docs, "VMServiceScrape")
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
    assert set(scrapes) == {"trainy-web", "trainy-worker", "trainy-webhooks-worker"}
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
    # The threads pool enforces no time limit: a delivery under way is bounded by its timeouts,
    # to connect and to wait for the answer.
    from django.conf import settings

    from feed.services.webhooks import CONNECT_TIMEOUT_S

    hooks = one(docs, "Deployment", "trainy-webhooks-worker")["spec"]["template"]["spec"]
    delivery = CONNECT_TIMEOUT_S + settings.TRAINY_WEBHOOKS_TIMEOUT
    assert hooks["terminationGracePeriodSeconds"] > 2 * delivery


# --- Workers: the webhooks worker beside the main one -----------------------------------------

WORKERS = ("trainy-worker", "trainy-webhooks-worker")


def worker_env(docs: list[Doc], name: str) -> dict[str, str]:
    (container,) = one(docs, "Deployment", name)["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e["value"] for e in container["env"] if "value" in e}


def queues_of(docs: list[Doc]) -> dict[str, list[str]]:
    return {
        d["metadata"]["name"]: worker_env(docs, d["metadata"]["name"])["CELERY_QUEUES"].split(",")
        for d in find(docs, "Deployment")
        if "CELERY_QUEUES" in worker_env(docs, d["metadata"]["name"])
    }


def test_webhook_deliveries_have_a_worker_of_their_own_with_a_threads_pool():
    docs = render(DEFAULTS)
    assert queues_of(docs) == {
        "trainy-worker": ["default", "enrichment", "exports"],
        "trainy-webhooks-worker": ["webhooks"],
    }
    hooks = worker_env(docs, "trainy-webhooks-worker")
    assert (hooks["CELERY_POOL"], hooks["CELERY_CONCURRENCY"]) == ("threads", "16")
    main = worker_env(docs, "trainy-worker")
    assert (main["CELERY_POOL"], main["CELERY_CONCURRENCY"]) == ("prefork", "2")
    hpa = one(docs, "HorizontalPodAutoscaler", "trainy-webhooks-worker")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "trainy-webhooks-worker"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (1, 4)
    pdb = one(docs, "PodDisruptionBudget", "trainy-webhooks-worker")
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == (
        "webhooks-worker"
    )
    fixed = render(DEFAULTS, sets=["webhooksWorker.autoscaling.enabled=false"])
    assert not find(fixed, "HorizontalPodAutoscaler", "trainy-webhooks-worker")
    assert one(fixed, "Deployment", "trainy-webhooks-worker")["spec"]["replicas"] == 1


def test_both_workers_come_from_one_template_and_differ_only_where_their_values_do():
    """Same security context, probe endpoints, volumes, environment and shutdown: apart from
    the values that differ (queues, pool, threads, resources, probe timings, grace period),
    the two pod templates are the same."""
    docs = render(OPERATORS)
    templates = []
    for name in WORKERS:
        text = json.dumps(one(docs, "Deployment", name)["spec"]["template"])
        template = json.loads(text.replace("webhooks-worker", "worker"))
        template["spec"].pop("terminationGracePeriodSeconds")
        (container,) = template["spec"]["containers"]
        container.pop("resources")
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            container[probe] = container[probe]["httpGet"]
        for variable in container["env"]:
            if variable["name"] in ("CELERY_QUEUES", "CELERY_POOL", "CELERY_CONCURRENCY"):
                variable["value"] = "(from the values)"
        templates.append(template)
    assert templates[0] == templates[1]


@pytest.mark.parametrize("values", CI_VALUES, ids=CI_IDS)
@pytest.mark.parametrize("webhooks_worker", ["true", "false"])
def test_every_queue_has_a_consumer_whether_the_webhooks_worker_runs_or_not(
    values, webhooks_worker
):
    from django.conf import settings

    docs = render(values, sets=[f"webhooksWorker.enabled={webhooks_worker}"])
    consumed = [queue for queues in queues_of(docs).values() for queue in queues]
    assert sorted(consumed) == sorted(queue.name for queue in settings.CELERY_TASK_QUEUES)
    if webhooks_worker == "false":
        assert "webhooks" in queues_of(docs)["trainy-worker"]
        assert not [d for d in docs if "webhooks-worker" in d["metadata"]["name"]]
        assert not [d for d in docs if "webhooks" in d["metadata"]["name"]]


def test_the_webhooks_queue_is_taken_off_the_worker_while_the_webhooks_worker_runs():
    docs = render(DEFAULTS, sets=["worker.queues={default,enrichment,exports,webhooks}"])
    assert queues_of(docs)["trainy-worker"] == ["default", "enrichment", "exports"]
    assert queues_of(docs)["trainy-webhooks-worker"] == ["webhooks"]


@pytest.mark.parametrize(
    ("sets", "complaint"),
    [
        (["worker.queues={enrichment,exports}"], 'the Celery queue "default" has no consumer'),
        (["worker.enabled=false"], 'the Celery queue "default" has no consumer'),
        (
            ["webhooksWorker.enabled=false", "worker.enabled=false"],
            'the Celery queue "default" has no consumer',
        ),
        (
            [
                "webhooksWorker.queues={default,enrichment,exports,webhooks}",
                "worker.queues={webhooks}",
            ],
            "every queue of worker.queues is the webhooks worker's",
        ),
    ],
)
def test_a_queue_left_without_a_consumer_fails_the_rendering(sets, complaint):
    result = helm(*helm_template_args(DEFAULTS, sets=sets), check=False)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_the_api_rate_limits_and_the_webhooks_private_switch_are_settings():
    config = one(render(DEFAULTS), "ConfigMap", "trainy")["data"]
    # trainy/settings.py's defaults.
    assert config["TRAINY_API_RATE_TOKEN"] == "120"
    assert config["TRAINY_API_RATE_USER"] == "300"
    assert config["TRAINY_WEBHOOKS_ALLOW_PRIVATE"] == "false"
    sets = [
        "config.api.rateToken=600",
        "config.api.rateUser=1200",
        "config.webhooks.allowPrivate=true",
    ]
    config = one(render(DEFAULTS, sets=sets), "ConfigMap", "trainy")["data"]
    assert config["TRAINY_API_RATE_TOKEN"] == "600"
    assert config["TRAINY_API_RATE_USER"] == "1200"
    assert config["TRAINY_WEBHOOKS_ALLOW_PRIVATE"] == "true"


# --- Network policies, evaluated: which pod may open which connection -------------------------


def selects(policy: Doc, labels: dict[str, str]) -> bool:
    selector = policy["spec"]["podSelector"]
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In"
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def may_connect(docs: list[Doc], labels: dict[str, str], address: str, port: int) -> bool:
    """Whether a pod with ``labels`` may open a TCP connection to ``address`` (outside the
    cluster) on ``port``: as Kubernetes decides, by the union of the egress rules of every
    policy selecting it, and freely when none does."""
    import ipaddress

    policies = [
        p
        for p in find(docs, "NetworkPolicy")
        if "Egress" in p["spec"]["policyTypes"] and selects(p, labels)
    ]
    if not policies:
        return True
    target = ipaddress.ip_address(address)
    for policy in policies:
        for rule in policy["spec"].get("egress", []):
            ports = rule.get("ports")
            if ports and not any(p["port"] == port and p["protocol"] == "TCP" for p in ports):
                continue
            for peer in rule.get("to", []):
                block = peer.get("ipBlock")
                if block is None:
                    continue  # pods and namespaces of the cluster
                network = ipaddress.ip_network(block["cidr"])
                if target.version == network.version and target in network:
                    excepted = [ipaddress.ip_network(c) for c in block.get("except", [])]
                    if not any(target in e for e in excepted if e.version == target.version):
                        return True
    return False


def pod_labels(docs: list[Doc]) -> dict[str, dict[str, str]]:
    return {
        d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]
        for d in find(docs, "Deployment")
    }


RESTRICTED = [
    "networkPolicy.egress.enabled=true",
    "networkPolicy.egress.allowedCIDRs={10.20.0.0/16}",
]
RECEIVER_V4, RECEIVER_V6 = "93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"


def test_with_egress_restricted_only_the_webhooks_worker_reaches_receivers_and_only_on_https():
    docs = render(DEFAULTS, sets=RESTRICTED)
    pods = pod_labels(docs)
    hooks = pods.pop("trainy-webhooks-worker")
    assert may_connect(docs, hooks, RECEIVER_V4, 443)
    assert may_connect(docs, hooks, RECEIVER_V6, 443)
    assert not may_connect(docs, hooks, RECEIVER_V4, 80)
    assert not may_connect(docs, hooks, RECEIVER_V4, 5432)
    # The cluster's CIDRs stay open to it, as to everyone.
    assert may_connect(docs, hooks, "10.20.3.4", 5432)
    assert set(pods) == {"trainy-web", "trainy-worker", "trainy-beat"}
    for name, labels in pods.items():
        # The others keep the egress they had: the listed CIDRs, no receiver.
        assert not may_connect(docs, labels, RECEIVER_V4, 443), name
        assert may_connect(docs, labels, "10.20.3.4", 5432), name
    # Scrapes and probes still reach its metrics port.
    background = one(docs, "NetworkPolicy", "trainy-background")
    assert selects(background, hooks)


def test_plain_http_receivers_open_port_80_and_other_ports_can_be_listed():
    docs = render(DEFAULTS, sets=[*RESTRICTED, "config.webhooks.allowPrivate=true"])
    hooks = pod_labels(docs)["trainy-webhooks-worker"]
    assert may_connect(docs, hooks, RECEIVER_V4, 80) and may_connect(docs, hooks, RECEIVER_V4, 443)
    docs = render(DEFAULTS, sets=[*RESTRICTED, "networkPolicy.egress.webhookPorts={443,8443}"])
    hooks = pod_labels(docs)["trainy-webhooks-worker"]
    assert may_connect(docs, hooks, RECEIVER_V4, 8443)
    assert not may_connect(docs, hooks, RECEIVER_V4, 80)


def test_without_egress_restriction_no_pod_is_isolated_for_egress():
    docs = render(DEFAULTS)
    assert not [p for p in find(docs, "NetworkPolicy") if "Egress" in p["spec"]["policyTypes"]]
    for labels in pod_labels(docs).values():
        assert may_connect(docs, labels, RECEIVER_V4, 443)
