"""Discord's message limits, checked like the real API so a bot that would be refused is refused here.

Errors use Discord's shapes: code 50006 "Cannot send an empty message" and code 50035 "Invalid Form Body"
with an ``errors`` tree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from bot.sandbox.world import iter_components

CONTENT_LIMIT = 2000
EMBEDS_LIMIT = 10
EMBED_TOTAL_LIMIT = 6000
EMBED_FIELD_LIMITS: Mapping[str, int] = MappingProxyType({"title": 256, "description": 4096})
EMBED_FIELDS_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
AUTHOR_NAME_LIMIT = 256
CUSTOM_ID_LIMIT = 100
BUTTON_LABEL_LIMIT = 80
ACTION_ROWS_LIMIT = 5
ROW_BUTTONS_LIMIT = 5
COMPONENTS_V2_FLAG = 1 << 15


class DiscordError(Exception):
    """An error answer in Discord's format (status, JSON error code, message, optional errors tree)."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        """The JSON body Discord sends."""
        data: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            data["errors"] = self.errors
        return data


def _error(path: str, code: str, message: str) -> dict[str, Any]:
    tree: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(path.split(".")):
        tree = {part: tree}
    return tree


def invalid_form(path: str, code: str, message: str) -> DiscordError:
    """A 400 / 50035 Invalid Form Body error about one field."""
    return DiscordError(400, 50035, "Invalid Form Body", _error(path, code, message))


def _too_long(path: str, limit: int) -> DiscordError:
    return invalid_form(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def check_embeds(embeds: Sequence[Mapping[str, Any]], prefix: str = "embeds") -> None:
    """Raise DiscordError if embeds break Discord's limits."""
    if len(embeds) > EMBEDS_LIMIT:
        raise invalid_form(prefix, "BASE_TYPE_MAX_LENGTH", f"Must be {EMBEDS_LIMIT} or fewer in length.")
    total = 0
    for index, embed in enumerate(embeds):
        where = f"{prefix}.{index}"
        for key, limit in EMBED_FIELD_LIMITS.items():
            text = str(embed.get(key) or "")
            if len(text) > limit:
                raise _too_long(f"{where}.{key}", limit)
            total += len(text)
        fields = embed.get("fields") or []
        if len(fields) > EMBED_FIELDS_LIMIT:
            raise _too_long(f"{where}.fields", EMBED_FIELDS_LIMIT)
        for field_index, field in enumerate(fields):
            name, value = str(field.get("name") or ""), str(field.get("value") or "")
            if not name.strip() or not value.strip():
                raise invalid_form(
                    f"{where}.fields.{field_index}", "BASE_TYPE_REQUIRED", "This field is required"
                )
            if len(name) > FIELD_NAME_LIMIT:
                raise _too_long(f"{where}.fields.{field_index}.name", FIELD_NAME_LIMIT)
            if len(value) > FIELD_VALUE_LIMIT:
                raise _too_long(f"{where}.fields.{field_index}.value", FIELD_VALUE_LIMIT)
            total += len(name) + len(value)
        footer = str((embed.get("footer") or {}).get("text") or "")
        if len(footer) > FOOTER_LIMIT:
            raise _too_long(f"{where}.footer.text", FOOTER_LIMIT)
        author = str((embed.get("author") or {}).get("name") or "")
        if len(author) > AUTHOR_NAME_LIMIT:
            raise _too_long(f"{where}.author.name", AUTHOR_NAME_LIMIT)
        total += len(footer) + len(author)
    if total > EMBED_TOTAL_LIMIT:
        raise invalid_form(prefix, "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")


def check_components(components: Sequence[Mapping[str, Any]], *, flags: int = 0) -> None:
    """Raise DiscordError if components break Discord's limits (rows, buttons, custom ids, labels)."""
    if not flags & COMPONENTS_V2_FLAG:
        if len(components) > ACTION_ROWS_LIMIT:
            raise _too_long("components", ACTION_ROWS_LIMIT)
        for index, row in enumerate(components):
            if row.get("type") == 1 and len(row.get("components") or []) > ROW_BUTTONS_LIMIT:
                raise _too_long(f"components.{index}.components", ROW_BUTTONS_LIMIT)
    seen: set[str] = set()
    for component in iter_components(components):
        custom_id = component.get("custom_id")
        if custom_id is not None:
            if len(str(custom_id)) > CUSTOM_ID_LIMIT:
                raise _too_long("components.custom_id", CUSTOM_ID_LIMIT)
            if custom_id in seen:
                raise invalid_form(
                    "components", "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"
                )
            seen.add(str(custom_id))
        if component.get("type") == 2 and len(str(component.get("label") or "")) > BUTTON_LABEL_LIMIT:
            raise _too_long("components.label", BUTTON_LABEL_LIMIT)


def check_message(body: Mapping[str, Any], *, file_count: int = 0, require_content: bool = True) -> None:
    """Raise DiscordError if a message create/edit body would be refused by Discord."""
    content = body.get("content")
    if content is not None and len(str(content)) > CONTENT_LIMIT:
        raise _too_long("content", CONTENT_LIMIT)
    check_embeds(body.get("embeds") or [])
    check_components(body.get("components") or [], flags=int(body.get("flags") or 0))
    if int(body.get("flags") or 0) & COMPONENTS_V2_FLAG and (str(content or "") or body.get("embeds")):
        raise invalid_form(
            "content",
            "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            "The 'content' and 'embeds' fields cannot be used when using MessageFlags.IS_COMPONENTS_V2",
        )
    if require_content:
        has_something = (
            bool(str(content or "").strip())
            or bool(body.get("embeds"))
            or bool(body.get("components"))
            or bool(body.get("sticker_ids"))
            or bool(body.get("poll"))
            or file_count > 0
        )
        if not has_something:
            raise DiscordError(400, 50006, "Cannot send an empty message")
