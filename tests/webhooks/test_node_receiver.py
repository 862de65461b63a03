"""A Node receiver running the guide's `verifyWebhookSignature` verbatim accepts every delivery, and
rejects the same body tampered with."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from stateset_gateway.db.engine import Database
from tests.support.rest_api import Api
from tests.webhooks.conftest import deliveries, eventually

RECEIVER = Path(__file__).parent / "node" / "receiver.js"


async def test_the_guides_node_verification_accepts_every_delivery(api: Api, dispatching: Any, db: Database) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required for this test (the guide's verification code is JavaScript)")
    secret_holder = await api.ok("POST", "/webhooks", 201, json={"url": "https://example.com/placeholder",
                                                                 "is_active": False})
    proc = await asyncio.create_subprocess_exec(node, str(RECEIVER), secret_holder["secret"],
                                                stdout=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        port = json.loads(await asyncio.wait_for(proc.stdout.readline(), 30))["port"]
        await api.ok("PUT", f"/webhooks/{secret_holder['id']}",
                     json={"url": f"http://127.0.0.1:{port}/webhook", "is_active": True})
        await api.stocked_order()

        async def all_delivered() -> bool:
            found = await deliveries(db)
            return len(found) == 3 and all(d.status == "delivered" for d in found)

        await eventually(all_delivered)  # inventory.updated, order.created, inventory.updated: all 200
        seen = [json.loads(await asyncio.wait_for(proc.stdout.readline(), 10)) for _ in range(3)]
    finally:
        proc.terminate()
        await proc.wait()
    assert all(line["valid"] and not line["tamperedValid"] for line in seen), seen
    assert sorted(line["type"] for line in seen) == ["inventory.updated", "inventory.updated", "order.created"]
