"""The README's Python receiver, run as written (its secret and port filled in), accepts the
gateway's deliveries and prints each event once."""

from __future__ import annotations

import asyncio
import re
import socket
import sys
from pathlib import Path
from typing import Any

from stateset_gateway.db.engine import Database
from tests.support.rest_api import Api
from tests.webhooks.conftest import deliveries, eventually

README = Path(__file__).resolve().parents[2] / "README.md"


def receiver_source(secret: str, port: int) -> str:
    text = README.read_text()
    (source,) = re.findall(r"A receiver in Python.*?```python\n(.*?)```", text, flags=re.S)
    assert 'SECRET = "whsec_..."' in source and '("0.0.0.0", 3000)' in source
    return source.replace('SECRET = "whsec_..."', f"SECRET = {secret!r}").replace(
        '("0.0.0.0", 3000)', f'("127.0.0.1", {port})')


async def test_the_readme_receiver_verifies_and_prints_each_event(api: Api, dispatching: Any, db: Database) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    hook = await api.ok("POST", "/webhooks", 201, json={"url": f"http://127.0.0.1:{port}/", "event_types": ["order.created"],
                                                        "is_active": False})
    proc = await asyncio.create_subprocess_exec(sys.executable, "-u", "-c", receiver_source(hook["secret"], port),
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    try:
        async def listening() -> bool:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                return False
            writer.close()
            return True

        await eventually(listening, timeout=30)
        await api.ok("PUT", f"/webhooks/{hook['id']}", json={"is_active": True})
        order = await api.stocked_order()

        async def delivered() -> bool:
            found = await deliveries(db)
            return len(found) == 1 and found[0].status == "delivered"

        await eventually(delivered)
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode().split()
    finally:
        proc.terminate()
        await proc.wait()
    assert line == ["order.created", order["id"], str(order["version"])]
