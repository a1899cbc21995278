"""Fixtures: a running sandbox, the default scene, and the probe bot connected to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.sandbox import Sandbox, Scene, running_client
from tests.sandbox.probe_bot import ProbeBot


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox.running() as running:
        yield running
        assert running.internal_errors == []


@pytest.fixture
def scene(sandbox: Sandbox) -> Scene:
    return sandbox.world.seed_default()


@pytest.fixture
async def probe(sandbox: Sandbox, scene: Scene) -> AsyncIterator[ProbeBot]:
    bot = ProbeBot()
    async with running_client(sandbox, bot):
        yield bot
