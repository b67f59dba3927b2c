"""The admin's journeys and enrichment failures; the timetables are in checkins.timetable.admin.

Journeys are the travellers' own: the admin shows them read-only and changes them only
through actions, which go through checkins.services like every other write (caches let go,
documents deleted, enrichment queued as the sweeper queues it).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from kombu.exceptions import OperationalError as BrokerUnavailable

from checkins.models import CheckIn, EnrichmentFailure
from checkins.services.checkins import checkin_delete
from checkins.services.enrichment_lifecycle import checkins_enrich_again
from checkins.services.moderation import checkins_delete, checkins_make_private
from checkins.timetable import admin as timetable_admin  # noqa: F401  (registers its pages)

SEARCH_HELP = "A traveller (username or name), a line, or a station the journey starts or ends at."
SEARCH_FIELDS = (
    "user__username",
    "user__display_name",
    "line_name",
    "origin_name",
    "destination_name",
)


def journeys(count: int) -> str:
    return f"{count} journey{'' if count == 1 else 's'}"


def enrichment_state(checkin: CheckIn) -> str:
    """As EnrichmentStateFilter sorts them: a recorded failure first, then done or not."""
    if checkin.enrichment_failed_at is not None:
        return "failed"
    return "enriched" if checkin.enriched_at is not None else "waiting"


class EnrichmentStateFilter(admin.SimpleListFilter):
    title = "enrichment"
    parameter_name = "enrichment"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("enriched", "Enriched"),
            ("waiting", "Waiting"),
            ("failed", "Failed"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "failed":
            return queryset.filter(enrichment_failed_at__isnull=False)
        if self.value() == "enriched":
            return queryset.filter(enriched_at__isnull=False, enrichment_failed_at__isnull=True)
        if self.value() == "waiting":
            return queryset.filter(enriched_at__isnull=True, enrichment_failed_at__isnull=True)
        return queryset


class ModeratedAdmin(admin.ModelAdmin):
    """Read-only pages whose actions still change rows (through services): the actions ask
    for the "moderate" right, which is the journeys' change permission."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("checkins.change_checkin")

    def _enrich_again(self, request: HttpRequest, queryset: QuerySet[Any], done: str) -> None:
        ids = list(queryset.values_list("id", flat=True))
        try:
            queued = checkins_enrich_again(checkin_ids=ids)
        except BrokerUnavailable as exc:
            self.message_user(
                request,
                f"The task queue is unavailable ({exc}): nothing was queued. Try again later.",
                messages.ERROR,
            )
            return
        self.message_user(request, f"{journeys(queued)} {done}.", messages.SUCCESS)


@admin.register(CheckIn)
class CheckInAdmin(ModeratedAdmin):
    list_display = (
        "id",
        "user",
        "line_name",
        "origin_name",
        "destination_name",
        "departure_planned",
        "mode",
        "visibility",
        "purpose",
        "enrichment",
    )
    list_filter = (EnrichmentStateFilter, "purpose", "visibility", "mode")
    list_select_related = ("user",)
    search_fields = SEARCH_FIELDS
    search_help_text = SEARCH_HELP
    date_hierarchy = "departure_planned"
    # The table is the largest there is: one count per page (of the filtered rows) is enough.
    show_full_result_count = False
    actions = ("make_private", "enrich_again")
    fieldsets = (
        (None, {"fields": ("user", "line_name", "mode", "operator_name", "message")}),
        ("Sharing", {"fields": ("visibility", "purpose", "ticket_price", "cost_centre")}),
        (
            "Route",
            {
                "fields": (
                    "origin_name",
                    "destination_name",
                    "departure_planned",
                    "arrival_planned",
                    "departure_real",
                    "arrival_real",
                    "time_zone",
                )
            },
        ),
        (
            "Timetable",
            {
                "fields": (
                    "feed_name",
                    "feed_version_id",
                    "trip_id",
                    "service_date",
                    "origin_stop_id",
                    "origin_seq",
                    "destination_stop_id",
                    "destination_seq",
                )
            },
        ),
        (
            "Enrichment",
            {
                "fields": (
                    "enriched_at",
                    "distance_m",
                    "distance_method",
                    "duration_s",
                    "enrichment_queued_at",
                    "enrichment_failed_at",
                    "error",
                )
            },
        ),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = ("enrichment_queued_at", "enrichment_failed_at", "error", "created_at",
                       "updated_at")  # fmt: skip

    @admin.display(description="enrichment")
    def enrichment(self, checkin: CheckIn) -> str:
        return enrichment_state(checkin)

    @admin.display(description="enrichment error")
    def error(self, checkin: CheckIn) -> SafeString | str:
        if not checkin.enrichment_error:
            return "–"
        return format_html("<pre>{}</pre>", checkin.enrichment_error)

    @admin.action(description="Make private", permissions=["moderate"])
    def make_private(self, request: HttpRequest, queryset: QuerySet[CheckIn]) -> None:
        changed = checkins_make_private(checkin_ids=list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"{journeys(changed)} made private.", messages.SUCCESS)

    @admin.action(description="Re-run enrichment", permissions=["moderate"])
    def enrich_again(self, request: HttpRequest, queryset: QuerySet[CheckIn]) -> None:
        self._enrich_again(request, queryset, "queued for enrichment")

    # The built-in delete (the "Delete" button and the "Delete selected" action) goes
    # through the services too, so that journey documents and cached pages go with the rows.
    def delete_model(self, request: HttpRequest, obj: CheckIn) -> None:
        checkin_delete(checkin=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CheckIn]) -> None:
        checkins_delete(checkin_ids=list(queryset.values_list("id", flat=True)))


@admin.register(EnrichmentFailure)
class EnrichmentFailureAdmin(ModeratedAdmin):
    """Journeys whose enrichment gave up; the sweeper leaves them here until retried."""

    list_display = (
        "id",
        "user",
        "line_name",
        "route",
        "departure_planned",
        "enrichment_failed_at",
        "error_summary",
    )
    list_select_related = ("user",)
    search_fields = SEARCH_FIELDS
    search_help_text = SEARCH_HELP
    actions = ("retry",)
    fields = ("journey", "user", "route", "departure_planned", "enrichment_failed_at", "error")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[EnrichmentFailure]:
        return super().get_queryset(request).filter(enrichment_failed_at__isnull=False)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # journeys are deleted from the journeys page, documents and all

    @admin.display(description="route")
    def route(self, checkin: CheckIn) -> str:
        return f"{checkin.origin_name} → {checkin.destination_name}"

    @admin.display(description="error")
    def error_summary(self, checkin: CheckIn) -> str:
        first_line = checkin.enrichment_error.strip().splitlines()[:1]
        return first_line[0][:200] if first_line else ""

    @admin.display(description="error")
    def error(self, checkin: CheckIn) -> SafeString:
        return format_html("<pre>{}</pre>", checkin.enrichment_error)

    @admin.display(description="journey")
    def journey(self, checkin: CheckIn) -> SafeString:
        url = reverse("admin:checkins_checkin_change", args=[checkin.id])
        return format_html('<a href="{}">{}</a>', url, checkin)

    @admin.action(description="Retry", permissions=["moderate"])
    def retry(self, request: HttpRequest, queryset: QuerySet[EnrichmentFailure]) -> None:
        self._enrich_again(request, queryset, "queued for enrichment again")
