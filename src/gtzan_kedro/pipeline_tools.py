"""Small helpers the pipeline packages share (no pipeline package imports another)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, update_wrapper
from typing import Any


def bound(func: Callable, **kwargs: Any) -> Callable:
    """``func`` with some keyword arguments fixed, keeping its name and docstring, so a
    template node built from it is still named (and shown in kedro-viz) after ``func``."""
    return update_wrapper(partial(func, **kwargs), func)
