"""A local Discord-compatible server for tests and demos (knows Discord's protocol, nothing of Heard).

See ``bot/sandbox/README.md`` for the driver API.
"""

from bot.sandbox.client import point_discord_py_at, running_client
from bot.sandbox.faults import FaultPlan, FaultRule
from bot.sandbox.records import CallbackRecord, CallRecord, InteractionRecord, SandboxEvent, SandboxTimeout
from bot.sandbox.server import Checkpoint, Sandbox
from bot.sandbox.world import (
    AttachmentFile,
    ChannelRecord,
    GuildRecord,
    MemberRecord,
    MessageRecord,
    Overwrite,
    RoleRecord,
    SandboxError,
    Scene,
    UserRecord,
    World,
)

__all__ = [
    "AttachmentFile",
    "CallRecord",
    "CallbackRecord",
    "ChannelRecord",
    "Checkpoint",
    "FaultPlan",
    "FaultRule",
    "GuildRecord",
    "InteractionRecord",
    "MemberRecord",
    "MessageRecord",
    "Overwrite",
    "RoleRecord",
    "Sandbox",
    "SandboxError",
    "SandboxEvent",
    "SandboxTimeout",
    "Scene",
    "UserRecord",
    "World",
    "point_discord_py_at",
    "running_client",
]
