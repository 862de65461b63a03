"""At-least-once under failure: two dispatchers on one database never send a delivery at the same
time, and a gateway killed (SIGKILL) with deliveries in flight sends them after it restarts."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from collections import Counter
from typing import Any


from stateset_gateway.config import Settings
from stateset_gateway.db.engine import Database
from tests.ops.test_cli import CLI, cli_env
from tests.support.rest_api import Api
from tests.webhooks.conftest import deliveries, dispatcher_running, fast_settings
from tests.webhooks.receiver import Receiver


async def _orders(api: Api, count: int) -> None:
    customer = await api.customer()
    product = await api.product()
    await api.stock(product["id"], count)
    for _ in range(count):
        await api.order(customer["id"], product["id"])


async def test_two_dispatchers_never_send_one_delivery_twice_at_once(
    api: Api, receiver: Receiver, settings: Settings, app: Any, db: Database
) -> None:
    receiver.delay = 0.05  # each request stays open a while: a second sender would overlap it
    await api.ok("POST", "/webhooks", 201, json={"url": receiver.url, "event_types": ["order.created"]})
    await _orders(api, 30)
    fast = fast_settings(settings, concurrency=4)
    async with dispatcher_running(fast) as first, dispatcher_running(fast) as second:
        await receiver.wait_for(lambda: len(receiver.answered()) >= 30)
    ids = Counter(r.delivery_id for r in receiver.requests)
    assert len(ids) == 30 and set(ids.values()) == {1}, ids  # each sent once, by one of them
    assert set(receiver.most_in_flight.values()) == {1}
    assert first.attempts_recorded + second.attempts_recorded == 30
    assert all(d.status == "delivered" and d.attempts == 1 for d in await deliveries(db))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _serve(database_url: str) -> asyncio.subprocess.Process:
    """`stateset-cli serve` (its dispatcher inside), with a short lease so a dead one's claims expire soon."""
    env = cli_env(APP__DATABASE_URL=database_url, APP__PORT=str(_free_port()),
                  APP__WEBHOOKS__LEASE_SECONDS="3", APP__WEBHOOKS__TIMEOUT_SECONDS="2",
                  APP__WEBHOOKS__POLL_INTERVAL_SECONDS="0.05", APP__WEBHOOKS__BACKOFF_SECONDS="0.1")
    return await asyncio.create_subprocess_exec(*CLI, "serve", env=env, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.DEVNULL, start_new_session=True)


async def test_a_gateway_killed_mid_delivery_delivers_after_restart(
    api: Api, receiver: Receiver, database_url: str, db: Database
) -> None:
    hanging = True

    def respond(_request: Any) -> int:
        if hanging:  # never answers in time: the gateway is killed while waiting
            time.sleep(4)
            return 503
        return 200

    receiver.respond = respond
    await api.ok("POST", "/webhooks", 201, json={"url": receiver.url, "event_types": ["order.created"]})
    await _orders(api, 5)
    first = await _serve(database_url)
    try:
        await receiver.wait_for(lambda: sum(receiver.in_flight.values()) > 0)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        await first.wait()
    assert not receiver.answered(200)
    claimed = await deliveries(db)
    assert len(claimed) == 5 and all(d.status == "pending" for d in claimed)
    assert any(d.lease_until is not None for d in claimed)  # claimed by the dead process

    hanging = False
    second = await _serve(database_url)
    try:
        await receiver.wait_for(lambda: len({r.delivery_id for r in receiver.answered(200)}) == 5, timeout=90)
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(second.wait(), timeout=20)
        except TimeoutError:
            os.killpg(second.pid, signal.SIGKILL)
            await second.wait()
    delivered = Counter(r.delivery_id for r in receiver.answered(200))
    assert set(delivered) == {str(d.id) for d in claimed} and set(delivered.values()) == {1}
