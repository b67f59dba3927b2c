"""The admin's timetables: feeds with their versions, imports started from an upload or a URL
(run by the task ``import_timetable``, their progress shown as they run), deleting a feed.

Registered from checkins.admin (the admin discovers only apps' own admin modules).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from checkins.timetable.forms import FeedImportForm
from checkins.timetable.models import Feed, FeedImport, FeedVersion
from checkins.timetable.services import UNFINISHED, feed_delete, feed_import_queue
from trainy.forms import add_service_errors

# Seconds between reloads of an import's page (and of the list) while an import runs.
REFRESH_S = 2
# The row counts a feed is summed up by in the list, in this order.
SUMMARY_COUNTS = (("stops", "stops"), ("trips", "trips"), ("stop_times", "stop times"))


def _counts(version: FeedVersion | None) -> str:
    if version is None or not version.row_counts:
        return "–"
    return ", ".join(
        f"{version.row_counts[key]:,} {label}"
        for key, label in SUMMARY_COUNTS
        if key in version.row_counts
    )


def _link(version: FeedVersion | None) -> SafeString | str:
    if version is None:
        return "–"
    url = reverse("admin:checkins_feedversion_change", args=[version.id])
    return format_html('<a href="{}">version {}</a>', url, version.id)


def _pre(text: str) -> SafeString | str:
    return format_html("<pre>{}</pre>", text) if text else "–"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class FeedVersionInline(admin.TabularInline):
    model = FeedVersion
    fields = ("version", "status", "source", "start_date", "end_date", "rows", "activated_at")
    readonly_fields = fields
    ordering = ("-id",)
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="version")
    def version(self, version: FeedVersion) -> SafeString | str:
        return _link(version)

    @admin.display(description="rows")
    def rows(self, version: FeedVersion) -> str:
        return _counts(version)


@admin.register(Feed)
class FeedAdmin(ReadOnlyAdmin):
    """Feeds come from imports ("Import a timetable"); an admin looks at them and deletes."""

    list_display = (
        "name",
        "active",
        "rows",
        "start_date",
        "end_date",
        "time_zone",
        "imported",
    )
    list_select_related = ("active_version",)
    search_fields = ("name",)
    fields = ("name", "active", "rows", "start_date", "end_date", "time_zone", "imported")
    readonly_fields = fields
    inlines = (FeedVersionInline,)

    @admin.display(description="active version")
    def active(self, feed: Feed) -> SafeString | str:
        return _link(feed.active_version)

    @admin.display(description="rows")
    def rows(self, feed: Feed) -> str:
        return _counts(feed.active_version)

    @admin.display(description="service from", ordering="active_version__start_date")
    def start_date(self, feed: Feed) -> Any:
        return feed.active_version.start_date if feed.active_version else None

    @admin.display(description="service until", ordering="active_version__end_date")
    def end_date(self, feed: Feed) -> Any:
        return feed.active_version.end_date if feed.active_version else None

    @admin.display(description="time zone")
    def time_zone(self, feed: Feed) -> str:
        return feed.active_version.timezone if feed.active_version else ""

    @admin.display(description="imported", ordering="active_version__activated_at")
    def imported(self, feed: Feed) -> Any:
        return feed.active_version.activated_at if feed.active_version else None

    # Deleting goes through the service: a feed's rows are in tt_* partitions, not rows that
    # the ORM's cascade would find.
    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Versions cannot be deleted one by one, but they go with their feed.
        perms_needed.discard(str(FeedVersion._meta.verbose_name))
        return deleted, counts, perms_needed, protected

    def delete_model(self, request: HttpRequest, obj: Feed) -> None:
        feed_delete(feed=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Feed]) -> None:
        for feed in queryset:
            feed_delete(feed=feed)

    def get_urls(self) -> list[URLPattern]:
        start = path(
            "import/",
            self.admin_site.admin_view(self.import_view),
            name="checkins_feed_import",
        )
        return [start, *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a GTFS zip or give its URL; the import is queued, and its page follows it."""
        if not request.user.has_perm("checkins.add_feedimport"):
            raise PermissionDenied
        form = FeedImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = feed_import_queue(
                    feed_name=form.cleaned_data["feed_name"],
                    url=form.cleaned_data["url"],
                    upload=upload.read() if upload else None,
                    filename=upload.name if upload else "",
                    requested_by=request.user,  # type: ignore[arg-type]
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                self._say_how_it_went(request, job)
                return redirect("admin:checkins_feedimport_change", job.id)
        context = {
            **self.admin_site.each_context(request),
            "title": "Import a timetable",
            "form": form,
            "opts": self.model._meta,
            "imports_opts": FeedImport._meta,
        }
        return TemplateResponse(request, "admin/checkins/feed/import.html", context)

    def _say_how_it_went(self, request: HttpRequest, job: FeedImport) -> None:
        # Queueing happens at once (no transaction is open): a broker that refused the task
        # has marked the import failed already, and without a broker it has even run.
        job.refresh_from_db(fields=["status", "error"])
        if job.status == FeedImport.Status.FAILED:
            first_line = job.error.splitlines()[0] if job.error else ""
            messages.error(request, f"The import of {job.feed_name} failed: {first_line}")
        elif job.status == FeedImport.Status.DONE:
            messages.success(request, f"The import of {job.feed_name} is done.")
        else:
            messages.success(request, f"The import of {job.feed_name} has started.")


@admin.register(FeedVersion)
class FeedVersionAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "feed",
        "status",
        "source",
        "start_date",
        "end_date",
        "timezone",
        "rows",
        "seconds",
        "created_at",
        "activated_at",
    )
    list_filter = ("status", "feed")
    list_select_related = ("feed",)
    search_fields = ("feed__name", "source")
    fields = (
        "feed",
        "status",
        "source",
        "timezone",
        "start_date",
        "end_date",
        "counts",
        "seconds",
        "created_at",
        "activated_at",
        "problems",
        "info",
    )
    readonly_fields = fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a version's rows go with its feed (or when a newer one replaces it)

    @admin.display(description="rows")
    def rows(self, version: FeedVersion) -> str:
        return _counts(version)

    @admin.display(description="row counts")
    def counts(self, version: FeedVersion) -> str:
        return ", ".join(f"{name} {count:,}" for name, count in version.row_counts.items()) or "–"

    @admin.display(description="errors")
    def problems(self, version: FeedVersion) -> SafeString | str:
        return _pre(version.error)


@admin.register(FeedImport)
class FeedImportAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "feed_name",
        "source",
        "status",
        "progress",
        "phase",
        "rows",
        "result",
        "requested_by",
        "created_at",
        "finished_at",
    )
    list_filter = ("status",)
    list_select_related = ("requested_by", "version")
    search_fields = ("feed_name", "source_url", "filename")
    fields = (
        "feed_name",
        "source",
        "status",
        "progress",
        "phase",
        "bytes",
        "rows",
        "result",
        "problems",
        "notes",
        "requested_by",
        "created_at",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[FeedImport]:
        # Never the uploaded file: it can be hundreds of MB, and only the task reads it.
        return super().get_queryset(request).defer("upload")

    def has_delete_permission(self, request: HttpRequest, obj: FeedImport | None = None) -> bool:
        unfinished = obj is not None and obj.status in UNFINISHED
        return not unfinished and super().has_delete_permission(request, obj)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        running = FeedImport.objects.filter(status__in=UNFINISHED).exists()
        context = {**(extra_context or {}), "refresh_s": REFRESH_S if running else None}
        return super().changelist_view(request, context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # The admin's own lookup turns an id that is not a number into "not found"; so must this.
        running = object_id.isdigit() and (
            FeedImport.objects.filter(pk=int(object_id), status__in=UNFINISHED).exists()
        )
        context = {**(extra_context or {}), "refresh_s": REFRESH_S if running else None}
        return super().change_view(request, object_id, form_url, context)

    @admin.display(description="source")
    def source(self, job: FeedImport) -> str:
        return job.source_url or f"uploaded {job.filename}"

    @admin.display(description="progress")
    def progress(self, job: FeedImport) -> SafeString:
        return format_html(
            '<progress value="{}" max="100" aria-label="Import progress">{}%</progress> {}%',
            job.percent,
            job.percent,
            job.percent,
        )

    @admin.display(description="bytes read")
    def bytes(self, job: FeedImport) -> str:
        if not job.bytes_total:
            return filesizeformat(job.bytes_read)
        return f"{filesizeformat(job.bytes_read)} of {filesizeformat(job.bytes_total)}"

    @admin.display(description="version")
    def result(self, job: FeedImport) -> SafeString | str:
        return _link(job.version)

    @admin.display(description="error")
    def problems(self, job: FeedImport) -> SafeString | str:
        return _pre(job.error)

    @admin.display(description="warnings")
    def notes(self, job: FeedImport) -> SafeString | str:
        return _pre(job.warnings)
