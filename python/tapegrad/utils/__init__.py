"""Utilities shaped like ``torch.utils``; see ``tapegrad.utils.data``."""

from . import data

__all__ = ["data"]
