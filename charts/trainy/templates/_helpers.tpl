{{/* Names ------------------------------------------------------------------------------ */}}

{{- define "trainy.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "trainy.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "trainy.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels: `labels` on every object; `selectorLabels` (+ component) select pods. --------- */}}

{{- define "trainy.selectorLabels" -}}
app.kubernetes.io/name: {{ include "trainy.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "trainy.labels" -}}
helm.sh/chart: {{ include "trainy.chart" . }}
{{ include "trainy.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.global.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: trainy
{{- end -}}

{{/* dict "ctx" $ "component" "web" */}}
{{- define "trainy.componentSelectorLabels" -}}
{{ include "trainy.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "trainy.componentLabels" -}}
{{ include "trainy.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Image, service account, secret ------------------------------------------------------- */}}

{{- define "trainy.image" -}}
{{- $image := .Values.global.image -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository ($image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{- define "trainy.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "trainy.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "trainy.secretName" -}}
{{- default (include "trainy.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* The hosts the site answers on. */}}
{{- define "trainy.hostnames" -}}
{{- if .Values.httpRoute.enabled -}}
{{- join "," .Values.httpRoute.hostnames -}}
{{- else if .Values.ingress.enabled -}}
{{- join "," .Values.ingress.hosts -}}
{{- end -}}
{{- end -}}

{{/* Celery workers -------------------------------------------------------------------- */}}

{{/* The worker Deployments, made from one template (templates/worker/): each one's values key
     and component (its label and its objects' name suffix). A JSON list. */}}
{{- define "trainy.workers" -}}
{{- list (dict "key" "worker" "component" "worker") (dict "key" "webhooksWorker" "component" "webhooks-worker") | toJson -}}
{{- end -}}

{{/* The queues each worker consumes, as JSON {"worker": [...], "webhooksWorker": [...]}: the
     webhooks worker's queues are taken from the main worker while it runs and handed to it while
     it is off. Fails when a queue of Trainy's (trainy/settings.py CELERY_TASK_QUEUES) would have
     no consumer: its tasks would wait for ever. */}}
{{- define "trainy.workerQueues" -}}
{{- $worker := .Values.worker -}}
{{- $hooks := .Values.webhooksWorker -}}
{{- $main := list -}}
{{- range $worker.queues -}}
{{- if not (and $hooks.enabled (has . $hooks.queues)) }}{{ $main = append $main . }}{{ end -}}
{{- end -}}
{{- if not $hooks.enabled -}}
{{- $main = concat $main $hooks.queues | uniq -}}
{{- end -}}
{{- $consumed := list -}}
{{- if $worker.enabled }}{{ $consumed = concat $consumed $main }}{{ end -}}
{{- if $hooks.enabled }}{{ $consumed = concat $consumed $hooks.queues }}{{ end -}}
{{- range list "default" "enrichment" "exports" "webhooks" -}}
{{- if not (has . $consumed) -}}
{{- fail (printf "the Celery queue %q has no consumer: add it to worker.queues (or webhooksWorker.queues)" .) -}}
{{- end -}}
{{- end -}}
{{- if and $worker.enabled (not $main) -}}
{{- fail "worker: every queue of worker.queues is the webhooks worker's; give it another or disable it" -}}
{{- end -}}
{{- dict "worker" $main "webhooksWorker" $hooks.queues | toJson -}}
{{- end -}}

{{/* Settings (ConfigMap data): never a secret. ----------------------------------------- */}}
{{- define "trainy.configData" -}}
{{- $c := .Values.config -}}
{{- $hosts := $c.allowedHosts | default (splitList "," (include "trainy.hostnames" .) | compact) -}}
{{- if not $hosts }}{{ fail "config.allowedHosts is empty and neither httpRoute nor ingress names a host" }}{{ end -}}
{{- $origins := $c.csrfTrustedOrigins -}}
{{- if not $origins -}}
{{- range $hosts }}{{ $origins = append $origins (printf "https://%s" .) }}{{ end -}}
{{- end -}}
ALLOWED_HOSTS: {{ join "," $hosts | quote }}
CSRF_TRUSTED_ORIGINS: {{ join "," $origins | quote }}
TRAINY_PROXY_SSL_HEADER: {{ $c.proxySslHeader | quote }}
{{- if $c.trustedProxies }}
TRAINY_TRUSTED_PROXIES: {{ join "," $c.trustedProxies | quote }}
{{- else }}
TRAINY_PROXY_HOPS: {{ $c.proxyHops | quote }}
{{- end }}
TRAINY_HTTPS: {{ $c.https | quote }}
TIME_ZONE: {{ $c.timeZone | quote }}
LOG_LEVEL: {{ $c.logLevel | quote }}
LOG_FORMAT: {{ $c.logFormat | quote }}
TRAINY_SITE_NAME: {{ $c.siteName | quote }}
TRAINY_CURRENCY: {{ $c.currency | quote }}
TRAINY_ADMIN_PATH: {{ $c.adminPath | quote }}
TRAINY_LOCAL_ACCOUNTS: {{ $c.localAccounts | quote }}
GITLAB_URL: {{ $c.gitlab.url | quote }}
{{- with $c.gitlab.clientId }}
GITLAB_CLIENT_ID: {{ . | quote }}
{{- end }}
TRAINY_GITLAB_ADMIN_GROUPS: {{ join "," $c.gitlab.adminGroups | quote }}
TRAINY_GITLAB_ALLOWED_GROUPS: {{ join "," $c.gitlab.allowedGroups | quote }}
TRAINY_GITLAB_RECHECK_SECONDS: {{ $c.gitlab.recheckSeconds | quote }}
TRAINY_GITLAB_ADMIN_GRACE_SECONDS: {{ $c.gitlab.adminGraceSeconds | quote }}
TRAINY_READYZ_REQUIRED: {{ join "," $c.readyzRequired | quote }}
MONGO_DB: {{ $c.mongoDatabase | quote }}
CACHE_KEY_PREFIX: {{ $c.cacheKeyPrefix | quote }}
{{- if $c.realtimeFeeds }}
{{- $feeds := list }}
{{- range $name, $url := $c.realtimeFeeds }}{{ $feeds = append $feeds (printf "%s=%s" $name $url) }}{{ end }}
TRAINY_REALTIME_FEEDS: {{ join "," $feeds | quote }}
{{- end }}
TRAINY_REALTIME_INTERVAL: {{ $c.realtimeInterval | quote }}
CELERY_TASK_SOFT_TIME_LIMIT: {{ $c.celery.softTimeLimit | quote }}
CELERY_TASK_TIME_LIMIT: {{ $c.celery.timeLimit | quote }}
TRAINY_API_RATE_TOKEN: {{ $c.api.rateToken | quote }}
TRAINY_API_RATE_USER: {{ $c.api.rateUser | quote }}
TRAINY_WEBHOOKS_ALLOW_PRIVATE: {{ $c.webhooks.allowPrivate | quote }}
{{- range $name, $value := $c.extra }}
{{ $name }}: {{ $value | quote }}
{{- end }}
{{- end -}}

{{/* Secret data (base64), for the chart's own Secret. SECRET_KEY: given, else kept from the
     Secret already in the cluster, else a new random one. */}}
{{- define "trainy.secretData" -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "trainy.fullname" .) -}}
{{- $key := .Values.secrets.secretKey -}}
{{- if not $key -}}
{{- if and $existing $existing.data (hasKey $existing.data "SECRET_KEY") -}}
{{- $key = index $existing.data "SECRET_KEY" | b64dec -}}
{{- else -}}
{{- $key = randAlphaNum 64 -}}
{{- end -}}
{{- end -}}
SECRET_KEY: {{ $key | b64enc | quote }}
{{- with .Values.secrets.gitlabClientSecret }}
GITLAB_CLIENT_SECRET: {{ . | b64enc | quote }}
{{- end }}
{{- with .Values.secrets.emailUrl }}
EMAIL_URL: {{ . | b64enc | quote }}
{{- end }}
{{- with .Values.secrets.metricsToken }}
TRAINY_METRICS_TOKEN: {{ . | b64enc | quote }}
{{- end }}
{{- with .Values.postgresql.external.url }}
DATABASE_URL: {{ . | b64enc | quote }}
{{- end }}
{{- with .Values.rabbitmq.external.url }}
CELERY_BROKER_URL: {{ . | b64enc | quote }}
{{- end }}
{{- with .Values.redis.external.url }}
REDIS_URL: {{ . | b64enc | quote }}
{{- end }}
{{- with .Values.mongodb.external.url }}
MONGO_URL: {{ . | b64enc | quote }}
{{- end }}
{{- end -}}

{{/* Pod annotations that roll the pods when settings or secrets change. */}}
{{- define "trainy.checksums" -}}
checksum/config: {{ include "trainy.configData" . | sha256sum }}
{{- if .Values.secrets.existingSecret }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace .Values.secrets.existingSecret }}
checksum/secret: {{ ($existing.data | default dict) | toJson | sha256sum }}
{{- else }}
checksum/secret: {{ include "trainy.secretData" . | sha256sum }}
{{- end }}
{{- end -}}

{{/* Environment of every Trainy container: secrets by key (optional: an absent key means
     "not configured"), and the backing services' URLs. The migration Job ("migrate" true)
     gets the database alone: before install the broker and document store may not exist yet.
     dict "ctx" $ "secret" NAME ["migrate" true] */}}
{{- define "trainy.env" -}}
{{- $ := .ctx -}}
{{- $secret := .secret -}}
{{- $v := $.Values -}}
{{- $fullname := include "trainy.fullname" $ -}}
- name: SECRET_KEY
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: SECRET_KEY}
{{- range list "GITLAB_CLIENT_SECRET" "EMAIL_URL" "TRAINY_METRICS_TOKEN" }}
- name: {{ . }}
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ . }}, optional: true}
{{- end }}
{{- /* PostgreSQL (required) */}}
{{- if $v.postgresql.operator.enabled }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ $fullname }}-pg-app, key: uri}
{{- else if $v.postgresql.external.existingSecret }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ $v.postgresql.external.existingSecret }}, key: {{ $v.postgresql.external.existingSecretKey }}}
{{- else if or $v.postgresql.external.url $v.secrets.existingSecret }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: DATABASE_URL}
{{- else }}
{{- fail "PostgreSQL: set postgresql.external.url or .existingSecret, put DATABASE_URL into secrets.existingSecret, or enable postgresql.operator" }}
{{- end }}
{{- if not .migrate }}
{{- /* RabbitMQ (required) */}}
{{- if $v.rabbitmq.operator.enabled }}
- name: RABBITMQ_USERNAME
  valueFrom:
    secretKeyRef: {name: {{ $fullname }}-rabbitmq-default-user, key: username}
- name: RABBITMQ_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ $fullname }}-rabbitmq-default-user, key: password}
- name: CELERY_BROKER_URL
  value: amqp://$(RABBITMQ_USERNAME):$(RABBITMQ_PASSWORD)@{{ $fullname }}-rabbitmq.{{ $.Release.Namespace }}.svc:5672/
{{- else if $v.rabbitmq.external.existingSecret }}
- name: CELERY_BROKER_URL
  valueFrom:
    secretKeyRef: {name: {{ $v.rabbitmq.external.existingSecret }}, key: {{ $v.rabbitmq.external.existingSecretKey }}}
{{- else if or $v.rabbitmq.external.url $v.secrets.existingSecret }}
- name: CELERY_BROKER_URL
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: CELERY_BROKER_URL}
{{- else }}
{{- fail "RabbitMQ: set rabbitmq.external.url or .existingSecret, put CELERY_BROKER_URL into secrets.existingSecret, or enable rabbitmq.operator" }}
{{- end }}
{{- /* MongoDB (optional: journey documents stay in PostgreSQL without it) */}}
{{- if $v.mongodb.operator.enabled }}
- name: MONGO_URL
  valueFrom:
    secretKeyRef: {name: {{ $fullname }}-mongodb-admin-trainy, key: connectionString.standard}
{{- else if $v.mongodb.external.existingSecret }}
- name: MONGO_URL
  valueFrom:
    secretKeyRef: {name: {{ $v.mongodb.external.existingSecret }}, key: {{ $v.mongodb.external.existingSecretKey }}}
{{- else }}
- name: MONGO_URL
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: MONGO_URL, optional: true}
{{- end }}
{{- /* Redis / Dragonfly (optional: a cache) */}}
{{- if $v.redis.operator.enabled }}
- name: REDIS_URL
  value: redis://{{ $fullname }}-dragonfly.{{ $.Release.Namespace }}.svc:6379/0
{{- else if $v.redis.external.existingSecret }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef: {name: {{ $v.redis.external.existingSecret }}, key: {{ $v.redis.external.existingSecretKey }}}
{{- else }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: REDIS_URL, optional: true}
{{- end }}
{{- end }}
{{- with $v.global.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Pod-level pieces shared by every Trainy pod. */}}
{{- define "trainy.podSecurityContext" -}}
{{ toYaml .Values.global.podSecurityContext }}
{{- end -}}

{{/* dict "ctx" $ "override" .Values.web.securityContext */}}
{{- define "trainy.containerSecurityContext" -}}
{{ toYaml (mergeOverwrite (deepCopy .ctx.Values.global.securityContext) (.override | default dict)) }}
{{- end -}}

{{- define "trainy.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.global.tmpSizeLimit }}
{{- end -}}

{{- define "trainy.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/* dict "ctx" $ "component" "web" "affinity" .Values.web.affinity */}}
{{- define "trainy.scheduling" -}}
{{- $ := .ctx -}}
{{- with $.Values.global.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $.Values.global.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if $.Values.global.topologySpread }}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "trainy.componentSelectorLabels" (dict "ctx" $ "component" .component) | nindent 8 }}
{{- end }}
{{- end -}}

{{- define "trainy.imagePullSecrets" -}}
{{- with .Values.global.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The migration hook's phases: before install and upgrade; after install when the chart
     makes the PostgreSQL cluster itself (it exists only once the release is installed). */}}
{{- define "trainy.migrateHooks" -}}
{{- if .Values.postgresql.operator.enabled -}}
post-install,pre-upgrade
{{- else -}}
pre-install,pre-upgrade
{{- end -}}
{{- end -}}
