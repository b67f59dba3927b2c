"""The user model's invariants."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from checkins.models import Visibility
from trainy.accounts.models import User

pytestmark = pytest.mark.django_db


def test_a_default_visibility_outside_the_visibilities_is_refused_by_the_database(alice):
    with pytest.raises(IntegrityError, match="user_default_visibility_valid"), transaction.atomic():
        User.objects.filter(pk=alice.pk).update(default_visibility="bogus")
    for visibility in Visibility.values:
        User.objects.filter(pk=alice.pk).update(default_visibility=visibility)


def test_forms_of_the_model_offer_the_visibilities_only(alice):
    # The admin's change form validates through the model's field: a choice, not free text.
    alice.default_visibility = "bogus"
    with pytest.raises(ValidationError) as refused:
        alice.full_clean()
    assert "default_visibility" in refused.value.message_dict
    assert [value for value, _ in User._meta.get_field("default_visibility").choices] == (
        Visibility.values
    )
