"""Building pydantic models from values already known to be valid, without validation.

Parsing a large remittance builds hundreds of thousands of models; validating values the
parser has already checked (or `model_construct`, which still computes defaults and field
sets) costs several times the parsing itself.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

_FIELDS: dict[type[BaseModel], set[str]] = {}


def prevalidated(model: type[M], **values: Any) -> M:
    """An instance of `model` holding `values`, which must give every field."""
    fields = _FIELDS.get(model)
    if fields is None:
        fields = _FIELDS[model] = set(model.model_fields)
    if len(values) != len(fields):
        missing = sorted(fields - set(values))
        raise TypeError(f"{model.__name__} needs every field; missing {missing}")
    instance = model.__new__(model)
    object.__setattr__(instance, "__dict__", values)
    object.__setattr__(instance, "__pydantic_fields_set__", fields)
    object.__setattr__(instance, "__pydantic_extra__", None)
    object.__setattr__(instance, "__pydantic_private__", None)
    return instance
