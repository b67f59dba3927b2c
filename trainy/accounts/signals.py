"""What the accounts app tells the apps built on it, which it does not import (STYLE.md 6a)."""

from django.dispatch import Signal

# A traveller's profile went from private to public, inside the transaction that saved it
# (keyword argument ``user``). The feed accepts the follow requests that were waiting.
profile_made_public = Signal()
