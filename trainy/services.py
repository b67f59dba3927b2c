"""Writes every app shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from django.core.exceptions import FieldDoesNotExist
from django.db import models

M = TypeVar("M", bound=models.Model)


def model_update(
    *, instance: M, data: Mapping[str, Any], validate_constraints: bool = True
) -> list[str]:
    """Set the fields in ``data`` (field name → value) on ``instance``, validate them and save
    exactly those that changed, plus ``updated_at`` where the model has one. Returns the names
    of the fields that changed; nothing is validated or written when none did.

    One list is both assigned and saved, so a field cannot be set and silently not saved (an
    ``update_fields`` list kept by hand beside the assignments drifts: a new setting is added to
    one and not the other). Only the changed fields are validated: the others were valid when
    they were saved. ``validate_constraints=False`` leaves the table's constraints to the
    database, where checking each would cost a query. Raises ValidationError (per field) and
    FieldDoesNotExist for a name that is not a field of the model.
    """
    changed = []
    for name, value in data.items():
        field = instance._meta.get_field(name)
        if not field.concrete or field.many_to_many:
            raise FieldDoesNotExist(f"{type(instance).__name__}.{name} is not a column to set")
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    if not changed:
        return []
    others = [field.name for field in instance._meta.concrete_fields if field.name not in changed]
    instance.full_clean(exclude=others, validate_constraints=validate_constraints)
    saved = list(changed)
    has_stamp = any(field.name == "updated_at" for field in instance._meta.concrete_fields)
    if has_stamp and "updated_at" not in saved:
        saved.append("updated_at")
    instance.save(update_fields=saved)
    return changed
