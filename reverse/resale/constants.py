"""Graded units offered again as pre-owned stock."""

from __future__ import annotations

import enum


class ResaleState(enum.StrEnum):
    DRAFT = "draft"  # graded, not yet offered
    LISTED = "listed"
    RESERVED = "reserved"
    SOLD = "sold"
    WITHDRAWN = "withdrawn"
