"""Member- and moderator-facing sentences kept in TOML files beside the cogs, looked up by dotted key."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Self


class TomlTexts:
    """Sentences from one parsed TOML document; subclasses add lookups for their own tables."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        """Wrap the parsed TOML document."""
        self._data = MappingProxyType(dict(data))

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read and wrap the TOML file at ``path``."""
        with path.open("rb") as handle:
            return cls(tomllib.load(handle))

    def _node(self, key: str) -> Any:
        """Return whatever sits at the dotted ``key`` (like ``"replies.decided"``)."""
        node: Any = self._data
        for part in key.split("."):
            node = node[part]
        return node

    def get(self, key: str, **values: object) -> str:
        """Return the sentence at ``key`` with ``{placeholders}`` filled in."""
        node = self._node(key)
        if not isinstance(node, str):
            raise KeyError(f"{key} is not a sentence")
        return node.format(**values) if values else node
