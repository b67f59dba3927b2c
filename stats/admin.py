"""The admin's exports: every traveller's files, and the archive of all of a traveller's data
made on their behalf (asked for by mail, say, by someone who cannot sign in any more). Making
one and downloading any file are logged, in the admin's history and in the log: the files hold
travellers' journeys."""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.db.models.functions import Length
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from stats.exports.responses import stored_file_response
from stats.models import Export
from stats.services import archive_create
from trainy.accounts.models import User

logger = logging.getLogger(__name__)


class ArchiveForTravellerForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        label="Traveller",
        help_text="Their user name. The archive holds everything Trainy has about them; it is "
        "made in the background and deleted after TRAINY_ARCHIVE_KEEP_DAYS days.",
    )

    def clean_username(self) -> User:
        name = self.cleaned_data["username"].strip()
        user = User.objects.filter(username=name).first()
        if user is None:
            raise forms.ValidationError(
                "There is no traveller called %(name)s.", params={"name": name}
            )
        return user


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "format", "status", "made_by", "created_at", "finished_at",
                    "expires_at", "size", "download")  # fmt: skip
    list_filter = ("format", "status")
    search_fields = ("user__username",)
    list_select_related = ("user",)
    fields = ("user", "format", "status", "made_by", "options", "rows_done", "rows_total",
              "filename", "size", "download", "error", "created_at", "finished_at",
              "expires_at")  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Export]:
        # The files stay in the database: their sizes are read, not their bytes.
        return super().get_queryset(request).defer("content").annotate(bytes=Length("content"))

    # Files are made by travellers, or by "Make a traveller's archive"; none is edited.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="made by an admin")
    def made_by(self, export: Export) -> str:
        return export.options.get("made_by", "")

    @admin.display(description="size")
    def size(self, export: Any) -> str:
        return filesizeformat(export.bytes) if export.bytes is not None else ""

    @admin.display(description="file")
    def download(self, export: Any) -> SafeString | str:
        if export.status != Export.Status.DONE or export.bytes is None:
            return ""
        url = reverse("admin:stats_export_download", args=[export.id])
        return format_html('<a href="{}">Download</a>', url)

    def get_urls(self) -> list[URLPattern]:
        own = [
            path("archive/", self.admin_site.admin_view(self.archive_view),
                 name="stats_export_archive"),
            path("<int:export_id>/download/", self.admin_site.admin_view(self.download_view),
                 name="stats_export_download"),
        ]  # fmt: skip
        return [*own, *super().get_urls()]

    def archive_view(self, request: HttpRequest) -> HttpResponse:
        """Make a traveller's archive on their behalf."""
        if not request.user.has_perm("stats.add_export"):
            raise PermissionDenied
        form = ArchiveForTravellerForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            traveller = form.cleaned_data["username"]
            assert isinstance(request.user, User)  # the admin is signed in
            export = archive_create(owner=traveller, by=request.user)
            self.log_addition(request, export, f"Archive of {traveller.username} asked for.")
            messages.success(request, f"The archive of {traveller.username} is being made.")
            return redirect("admin:stats_export_change", export.id)
        context = {
            **self.admin_site.each_context(request),
            "title": "Make a traveller's archive",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/stats/export/archive.html", context)

    def download_view(self, request: HttpRequest, export_id: int) -> HttpResponse:
        export = Export.objects.filter(id=export_id, status=Export.Status.DONE).first()
        if not self.has_view_permission(request, export):
            raise PermissionDenied
        if export is None or export.content is None:
            raise Http404("No such file.")
        self.log_change(request, export, "File downloaded.")
        logger.info(
            "export %s of traveller %s downloaded by admin %s",
            export.id,
            export.user_id,
            request.user.get_username(),
        )
        return stored_file_response(export)
