"""The model gateway: OpenAI-compatible, purpose-routed, budgeted.

`gateway.complete`, `gateway.stream`, `gateway.embed`, `gateway.budget_remaining_fraction` and
`gateway.abudget_remaining_fraction` are the in-process client (`gateway.client`). They load on first
use, so importing the package while Django sets up its apps loads no models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.client import (
        abudget_remaining_fraction,
        budget_remaining_fraction,
        complete,
        embed,
        stream,
    )

__all__ = ["abudget_remaining_fraction", "budget_remaining_fraction", "complete", "embed", "stream"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("gateway.client"), name)
    raise AttributeError(f"module 'gateway' has no attribute {name!r}")
