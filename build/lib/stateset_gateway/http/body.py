"""Reading a request body straight from the ASGI channel, for the layers that need it whole."""

from __future__ import annotations

from typing import Any

from starlette.requests import ClientDisconnect


async def read_body(receive: Any) -> bytes:
    """The whole request body, read as Starlette's `Request.body()` reads it, without the async
    generator it goes through for every chunk."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def replaying(body: bytes, receive: Any) -> Any:
    """A receive channel that hands an already-read body over once, then the client's own."""
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
