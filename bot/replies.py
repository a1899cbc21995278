"""Answering interactions privately, whether or not they were already answered."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

import discord

log = logging.getLogger(__name__)

SORRY = (
    "Sorry, something went wrong on my side and I couldn't finish that. Nothing you did caused it; "
    "please try again in a moment."
)
"""The one sentence a member sees when Heard fails unexpectedly (the log has the details)."""

OwnerT = TypeVar("OwnerT")
ParamsT = ParamSpec("ParamsT")


async def send_private(
    interaction: discord.Interaction[Any],
    content: str | None = None,
    *,
    embed: discord.Embed | None = None,
    view: discord.ui.View | None = None,
) -> None:
    """Send an ephemeral answer: the first response if none was sent yet, otherwise a follow-up."""
    kwargs: dict[str, Any] = {"content": content, "ephemeral": True}
    if embed is not None:
        kwargs["embed"] = embed
    if view is not None:
        kwargs["view"] = view
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)


async def try_send_private(interaction: discord.Interaction[Any], content: str) -> bool:
    """Like :func:`send_private` with text only, but log instead of raising if Discord refuses."""
    try:
        await send_private(interaction, content)
    except discord.HTTPException as error:
        log.warning(
            "could not answer interaction %s (status %s, code %s)", interaction.id, error.status, error.code
        )
        return False
    return True


def answer_failures(
    callback: Callable[Concatenate[OwnerT, discord.Interaction[Any], ParamsT], Coroutine[Any, Any, None]],
) -> Callable[Concatenate[OwnerT, discord.Interaction[Any], ParamsT], Coroutine[Any, Any, None]]:
    """Decorate a button/select/modal callback so an unexpected error is answered, not silent.

    discord.py only logs errors raised in ``DynamicItem`` callbacks; the member would see "This interaction
    failed". With this decorator they get :data:`SORRY` privately and the log gets the traceback (ids only).
    """

    @functools.wraps(callback)
    async def wrapper(
        owner: OwnerT, interaction: discord.Interaction[Any], *args: ParamsT.args, **kwargs: ParamsT.kwargs
    ) -> None:
        try:
            await callback(owner, interaction, *args, **kwargs)
        except Exception:
            log.exception(
                "error in %s (guild %s, user %s)",
                callback.__qualname__,
                interaction.guild_id,
                interaction.user.id,
            )
            await try_send_private(interaction, SORRY)

    return wrapper
