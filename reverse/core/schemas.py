"""The base of every marshmallow schema that reads input from outside (API payloads and
query strings)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError, pre_load

NUL = "\x00"


class InputSchema(Schema):
    """Refuses text holding NUL characters, field by field: PostgreSQL cannot store them,
    and no name, number or code contains one. Nested schemas inherit the check, so the
    message lands on the nested field."""

    @pre_load
    def _no_nul(self, data: Any, **_kw: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        bad: dict[str, list[str]] = {}
        for name, value in data.items():
            texts = value if isinstance(value, list) else [value]
            if any(isinstance(text, str) and NUL in text for text in texts):
                bad[str(name)] = ["Control character NUL (\\u0000) is not allowed."]
        if bad:
            raise ValidationError(bad)
        return data
