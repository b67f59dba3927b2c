from __future__ import annotations

from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "trainy.metrics"
    label = "trainy_metrics"
    verbose_name = "Trainy metrics"

    def ready(self) -> None:
        # Every process (web, worker, beat, management commands) sets Django up, so this is
        # where the Celery signal handlers and the workers' probe step get connected.
        from trainy.metrics import tasks  # noqa: F401 -- connects the signal handlers
        from trainy.metrics.probes import install_worker_step

        install_worker_step()
