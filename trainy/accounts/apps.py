from typing import Any

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Travellers: the user model, sign-in (local and through GitLab), the browsers they are
    signed in on, and their settings. Social features import this app; it imports none of
    them (STYLE.md 6a)."""

    name = "trainy.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.contrib import messages
        from django.contrib.auth.signals import user_logged_in

        from trainy.accounts.services import account_deletion_cancel

        def keep_account(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
            # Signing in during the grace period keeps the account (its owner changed their
            # mind), whichever way they signed in.
            cancelled = bool(getattr(user, "deletion_due_at", None)) and account_deletion_cancel(
                user=user
            )
            if cancelled and request is not None:
                messages.info(request, "Welcome back: your account will not be deleted after all.")

        user_logged_in.connect(
            keep_account, weak=False, dispatch_uid="accounts.keep_account_on_sign_in"
        )
