from django.contrib import admin

from checkins.models import CheckIn


@admin.register(CheckIn)
class CheckInAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "line_name",
        "origin_name",
        "destination_name",
        "departure_planned",
        "visibility",
        "purpose",
        "enriched_at",
    )
    list_filter = ("visibility", "purpose", "mode")
    search_fields = ("user__username", "line_name", "origin_name", "destination_name")
    raw_id_fields = ("user",)
    date_hierarchy = "departure_planned"
