#!/usr/bin/env bash
# The container's entrypoint: one image, several roles.
#
#   web                  gunicorn (docker/gunicorn.conf.py) on $PORT (8000)
#   worker               Celery worker; queues from $CELERY_QUEUES (default,enrichment,exports,webhooks),
#                        pool $CELERY_POOL (prefork; threads for tasks that wait on the network,
#                        such as webhook deliveries; solo) of $CELERY_CONCURRENCY processes/threads
#   beat                 Celery beat (exactly one per installation)
#   migrate              database migrations (idempotent; the chart's pre-upgrade hook)
#   import-gtfs URL ...  import a GTFS feed (manage.py import_gtfs URL [--name NAME])
#   manage ARGS ...      any manage.py command
#   anything else        run as given (e.g. bash for a debugging session)
#
# Extra arguments after a role go to the program (e.g. `worker --concurrency 4`).
# Worker and beat serve /healthz and /metrics on $TRAINY_METRICS_PORT (9808) for their probes.
set -euo pipefail

APP_DIR=${APP_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
cd "$APP_DIR"
PYTHON=${PYTHON:-python}

# Each process writes its metrics into this directory (one file per process, summed at scrape
# time); files of a previous container run would be added to this one's counters.
prepare_metrics_dir() {
	if [[ -n ${PROMETHEUS_MULTIPROC_DIR:-} ]]; then
		mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
		find "$PROMETHEUS_MULTIPROC_DIR" -mindepth 1 -maxdepth 1 -name '*.db' -delete
	fi
}

role=${1:-web}
shift || true

case $role in
web | worker | beat) ;;
# One-shot commands are never scraped: their counters stay in the process.
*) unset PROMETHEUS_MULTIPROC_DIR ;;
esac

case $role in
web)
	prepare_metrics_dir
	exec "$PYTHON" -m gunicorn --config "$APP_DIR/docker/gunicorn.conf.py" "$@" trainy.wsgi:application
	;;
worker)
	prepare_metrics_dir
	export TRAINY_METRICS_PORT=${TRAINY_METRICS_PORT:-9808}
	concurrency=()
	[[ -n ${CELERY_CONCURRENCY:-} ]] && concurrency=(--concurrency "$CELERY_CONCURRENCY")
	# Gossip and mingle talk to every other worker at start and all the time; Trainy's tasks
	# need neither. -O fair: a long task does not hold back prefetched short ones.
	exec "$PYTHON" -m celery -A trainy worker \
		--queues "${CELERY_QUEUES:-default,enrichment,exports,webhooks}" \
		--hostname "${CELERY_HOSTNAME:-worker@%h}" \
		--loglevel "${LOG_LEVEL:-info}" \
		--without-gossip --without-mingle -O fair \
		--pool "${CELERY_POOL:-prefork}" "${concurrency[@]}" "$@"
	;;
beat)
	prepare_metrics_dir
	export TRAINY_METRICS_PORT=${TRAINY_METRICS_PORT:-9808}
	# The schedule file is state of this pod only (an emptyDir): the schedule itself lives in
	# settings. A short loop interval keeps the probe's heartbeat fresh.
	exec "$PYTHON" -m celery -A trainy beat \
		--scheduler trainy.metrics.probes:BeatScheduler \
		--schedule "${CELERY_BEAT_SCHEDULE_FILE:-/tmp/celerybeat-schedule}" \
		--max-interval "${CELERY_BEAT_MAX_INTERVAL:-30}" \
		--loglevel "${LOG_LEVEL:-info}" "$@"
	;;
migrate)
	# Idempotent: with nothing to apply it changes nothing and exits 0. Journey-document
	# indexes are made by the store itself on first use.
	exec "$PYTHON" manage.py migrate --noinput "$@"
	;;
import-gtfs)
	[[ $# -ge 1 ]] || {
		echo "usage: import-gtfs URL_OR_PATH [--name NAME]" >&2
		exit 64
	}
	exec "$PYTHON" manage.py import_gtfs "$@"
	;;
manage)
	exec "$PYTHON" manage.py "$@"
	;;
*)
	exec "$role" "$@"
	;;
esac
