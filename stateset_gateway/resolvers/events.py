"""The event outbox."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


async def record_event(session: AsyncSession, event_type: str, data: Mapping[str, Any]) -> None:
    """The event outbox."""
