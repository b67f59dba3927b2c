"""Structural schemas of the operators' custom resources that Trainy's chart and Flux tree make.

Their CRDs are not staged in ../shared/schemas/crds, and no PyPI or npm package ships them as
CRD YAML, so these schemas are written by hand from each operator's API reference. They check
what Trainy sets: the API version and kind, the required fields, the types, and that no field
is misspelt at the levels Trainy writes (``additionalProperties: false`` there; deeper
Kubernetes types such as resources or affinity are only checked to be objects).
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
OBJECT: Schema = {"type": "object"}
QUANTITY: Schema = {"anyOf": [{"type": "string", "pattern": r"^[0-9.]+([mkMGTPE]i?)?$"}, INTEGER]}
RESOURCES: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "requests": {"type": "object", "additionalProperties": QUANTITY},
        "limits": {"type": "object", "additionalProperties": QUANTITY},
    },
}
LABELS: Schema = {"type": "object", "additionalProperties": STRING}
METADATA: Schema = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63},
        "namespace": STRING,
        "labels": LABELS,
        "annotations": LABELS,
    },
    "additionalProperties": False,
}
SECRET_KEY_REF: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "key"],
    "properties": {"name": STRING, "key": STRING, "optional": BOOLEAN},
}


def resource(api_version: str, kind: str, spec: Schema) -> Schema:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": api_version},
            "kind": {"const": kind},
            "metadata": METADATA,
            "spec": spec,
        },
    }


def strict(properties: Schema, required: list[str] | None = None) -> Schema:
    schema: Schema = {"type": "object", "additionalProperties": False, "properties": properties}
    if required:
        schema["required"] = required
    return schema


# CloudNativePG, postgresql.cnpg.io/v1 Cluster (cloudnative-pg.io/documentation, API reference).
CNPG_STORAGE = strict({"size": QUANTITY, "storageClass": STRING, "resizeInUseVolumes": BOOLEAN})
CNPG_CLUSTER = resource(
    "postgresql.cnpg.io/v1",
    "Cluster",
    strict(
        {
            "instances": {"type": "integer", "minimum": 1},
            "imageName": STRING,
            "primaryUpdateStrategy": {"enum": ["unsupervised", "supervised"]},
            "bootstrap": strict(
                {"initdb": strict({"database": STRING, "owner": STRING, "secret": OBJECT})}
            ),
            "postgresql": strict({"parameters": LABELS}),
            "storage": CNPG_STORAGE,
            "walStorage": CNPG_STORAGE,
            "resources": RESOURCES,
            "affinity": strict(
                {
                    "enablePodAntiAffinity": BOOLEAN,
                    "topologyKey": STRING,
                    "podAntiAffinityType": {"enum": ["preferred", "required"]},
                }
            ),
            "monitoring": strict({"enablePodMonitor": BOOLEAN}),
        },
        ["instances", "storage"],
    ),
)

# RabbitMQ cluster operator, rabbitmq.com/v1beta1 RabbitmqCluster.
RABBITMQ_CLUSTER = resource(
    "rabbitmq.com/v1beta1",
    "RabbitmqCluster",
    strict(
        {
            "replicas": {"type": "integer", "minimum": 1},
            "image": STRING,
            "resources": RESOURCES,
            "persistence": strict({"storage": QUANTITY, "storageClassName": STRING}),
            "rabbitmq": strict(
                {
                    "additionalConfig": STRING,
                    "advancedConfig": STRING,
                    "additionalPlugins": {"type": "array"},
                }
            ),
            "affinity": OBJECT,
            "tolerations": {"type": "array"},
            "override": OBJECT,
        }
    ),
)

# MongoDB community operator, mongodbcommunity.mongodb.com/v1 MongoDBCommunity.
MONGODB_COMMUNITY = resource(
    "mongodbcommunity.mongodb.com/v1",
    "MongoDBCommunity",
    strict(
        {
            "members": {"type": "integer", "minimum": 1},
            "type": {"enum": ["ReplicaSet"]},
            "version": {"type": "string", "pattern": r"^[0-9]+\.[0-9]+\.[0-9]+$"},
            "security": strict(
                {
                    "authentication": strict(
                        {
                            "modes": {
                                "type": "array",
                                "items": {
                                    "enum": ["SCRAM", "SCRAM-SHA-1", "SCRAM-SHA-256", "X509"]
                                },
                            }
                        },
                        ["modes"],
                    ),
                    "tls": OBJECT,
                }
            ),
            "users": {
                "type": "array",
                "items": strict(
                    {
                        "name": STRING,
                        "db": STRING,
                        "passwordSecretRef": strict({"name": STRING, "key": STRING}, ["name"]),
                        "roles": {
                            "type": "array",
                            "items": strict({"name": STRING, "db": STRING}, ["name", "db"]),
                        },
                        "scramCredentialsSecretName": {
                            "type": "string",
                            "pattern": r"^[a-z0-9-]+$",
                        },
                        "connectionStringSecretName": STRING,
                    },
                    ["name", "db", "passwordSecretRef", "roles", "scramCredentialsSecretName"],
                ),
            },
            "statefulSet": strict({"spec": OBJECT}),
            "additionalMongodConfig": OBJECT,
        },
        ["members", "type", "version", "security"],
    ),
)

# Dragonfly operator, dragonflydb.io/v1alpha1 Dragonfly.
DRAGONFLY = resource(
    "dragonflydb.io/v1alpha1",
    "Dragonfly",
    strict(
        {
            "replicas": {"type": "integer", "minimum": 1},
            "image": STRING,
            "args": {"type": "array", "items": STRING},
            "resources": RESOURCES,
            "affinity": OBJECT,
            "authentication": OBJECT,
            "snapshot": OBJECT,
        }
    ),
)

# Scrape objects: VictoriaMetrics operator VMServiceScrape and Prometheus operator ServiceMonitor.
SCRAPE_SELECTOR = strict({"matchLabels": LABELS})
SCRAPE_NAMESPACES = strict({"matchNames": {"type": "array", "items": STRING}, "any": BOOLEAN})
ENDPOINT_COMMON = {
    "port": STRING,
    "path": {"type": "string", "pattern": "^/"},
    "interval": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"},
    "scrapeTimeout": STRING,
}
VM_SERVICE_SCRAPE = resource(
    "operator.victoriametrics.com/v1beta1",
    "VMServiceScrape",
    strict(
        {
            "selector": SCRAPE_SELECTOR,
            "namespaceSelector": SCRAPE_NAMESPACES,
            "endpoints": {
                "type": "array",
                "minItems": 1,
                "items": strict({**ENDPOINT_COMMON, "bearerTokenSecret": SECRET_KEY_REF}, ["port"]),
            },
        },
        ["selector", "endpoints"],
    ),
)
SERVICE_MONITOR = resource(
    "monitoring.coreos.com/v1",
    "ServiceMonitor",
    strict(
        {
            "selector": SCRAPE_SELECTOR,
            "namespaceSelector": SCRAPE_NAMESPACES,
            "endpoints": {
                "type": "array",
                "minItems": 1,
                "items": strict(
                    {
                        **ENDPOINT_COMMON,
                        "authorization": strict(
                            {"type": STRING, "credentials": SECRET_KEY_REF}, ["credentials"]
                        ),
                    },
                    ["port"],
                ),
            },
        },
        ["selector", "endpoints"],
    ),
)

# External Secrets Operator, external-secrets.io/v1 ExternalSecret.
EXTERNAL_SECRET = resource(
    "external-secrets.io/v1",
    "ExternalSecret",
    strict(
        {
            "refreshInterval": STRING,
            "secretStoreRef": strict(
                {"kind": {"enum": ["SecretStore", "ClusterSecretStore"]}, "name": STRING}, ["name"]
            ),
            "target": strict(
                {"name": STRING, "creationPolicy": {"enum": ["Owner", "Orphan", "Merge", "None"]}}
            ),
            "data": {
                "type": "array",
                "items": strict(
                    {
                        "secretKey": STRING,
                        "remoteRef": strict({"key": STRING, "property": STRING}, ["key"]),
                    },
                    ["secretKey", "remoteRef"],
                ),
            },
        },
        ["secretStoreRef", "target"],
    ),
)

SCHEMAS: dict[tuple[str, str], Schema] = {
    (schema["properties"]["apiVersion"]["const"], schema["properties"]["kind"]["const"]): schema
    for schema in (
        CNPG_CLUSTER,
        RABBITMQ_CLUSTER,
        MONGODB_COMMUNITY,
        DRAGONFLY,
        VM_SERVICE_SCRAPE,
        SERVICE_MONITOR,
        EXTERNAL_SECRET,
    )
}
