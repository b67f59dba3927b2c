"""The admin's travellers: find them, see how many journeys they logged, block their sign-in."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import models
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest

from checkins.models import CheckIn
from trainy.accounts.models import AccessToken, User
from trainy.accounts.services import sign_in_allow, tokens_revoke, user_admin_save, users_delete


def travellers(count: int) -> str:
    return f"{count} traveller{'' if count == 1 else 's'}"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    # An avatar address typed without a scheme is read as https (Django 6's default; 5.2 warns).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (
            "Profile",
            {"fields": ("display_name", "avatar_url", "private_profile", "default_visibility")},
        ),
        # Asked for by the traveller on their settings page; signing in cancels it.
        ("Leaving", {"fields": ("deletion_due_at",)}),
    )
    readonly_fields = ("deletion_due_at",)
    list_display = (
        "username",
        "display_name",
        "email",
        "journeys",
        "private_profile",
        "is_staff",
        "is_active",
        "date_joined",
    )
    list_filter = (
        "is_active",
        "is_staff",
        "is_superuser",
        "private_profile",
        ("deletion_due_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("username", "display_name", "email")
    actions = ("block_sign_in", "allow_sign_in")

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        # Counted per listed traveller through the journeys' (user, time) index rather than
        # by a join grouping every journey of every traveller before a page of them is cut.
        journey_count = (
            CheckIn.objects.filter(user=OuterRef("pk"))
            .order_by()
            .values("user")
            .annotate(count=Count("id"))
            .values("count")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                journey_count=Coalesce(Subquery(journey_count, output_field=IntegerField()), 0)
            )
        )

    @admin.display(description="journeys", ordering="journey_count")
    def journeys(self, user: Any) -> int:
        return user.journey_count

    @admin.action(description="Block sign-in", permissions=["change"])
    def block_sign_in(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        assert isinstance(request.user, User)  # the admin is signed in
        if queryset.filter(pk=request.user.pk).exists():
            self.message_user(request, "You cannot block your own sign-in.", messages.WARNING)
        count = sign_in_allow(users=queryset, allowed=False, by=request.user)
        self.message_user(request, f"{travellers(count)} can no longer sign in.", messages.SUCCESS)

    @admin.action(description="Allow sign-in", permissions=["change"])
    def allow_sign_in(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        assert isinstance(request.user, User)
        count = sign_in_allow(users=queryset, allowed=True, by=request.user)
        self.message_user(request, f"{travellers(count)} can sign in again.", messages.SUCCESS)

    # Saving and deleting go through the services, like every other write: a private profile,
    # a blocked sign-in or a deleted traveller shows on cached pages at once, and a deleted
    # traveller's journey documents go with them.
    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        assert isinstance(request.user, User)
        if obj.pk == request.user.pk and not obj.is_active:
            self.message_user(request, "You cannot block your own sign-in.", messages.WARNING)
        user_admin_save(user=obj, by=request.user)

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        assert isinstance(request.user, User)
        users_delete(users=User.objects.filter(pk=obj.pk), by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        assert isinstance(request.user, User)
        users_delete(users=queryset, by=request.user)


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    """Travellers' personal access tokens, to find and revoke one (a leaked one, say). Only
    travellers make them (their secret is shown to them alone), so nothing is added or edited
    here."""

    list_display = ("name", "user", "hint", "scopes", "created_at", "last_used_at",
                    "expires_at", "revoked_at")  # fmt: skip
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__username")
    list_select_related = ("user",)
    readonly_fields = ("user", "name", "hint", "scopes", "created_at", "last_used_at",
                       "expires_at", "revoked_at")  # fmt: skip
    exclude = ("secret_hash",)
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Revoked, not deleted: the row keeps when it was last used.
        return False

    @admin.action(description="Revoke", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[AccessToken]) -> None:
        count = tokens_revoke(tokens=queryset)
        self.message_user(request, f"{count} token{'s' * (count != 1)} revoked.", messages.SUCCESS)
