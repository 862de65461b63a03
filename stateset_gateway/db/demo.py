"""Realistic demo data, written in bulk: customers, products, stock in a few locations, and orders
in every status whose reservations, stock and payments agree with their status.

The rows are built in memory by the operations' own rules (resolvers.pricing for totals,
resolvers.transitions for the states a status implies, resolvers.inventory.take for reserving stock) and inserted through
SQLAlchemy Core `executemany` in chunks: 100,000 orders in seconds, not minutes. Seeding again adds
a second set of data beside the first.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import (
    Customer,
    CustomerAddress,
    InventoryBalance,
    InventoryLocation,
    InventoryReservation,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentRecordStatus,
    Product,
    ReservationStatus,
    Shipment,
)
from stateset_gateway.resolvers.inventory import Line, take
from stateset_gateway.resolvers.payment_providers import TestProvider, idempotency_key
from stateset_gateway.resolvers.payments import order_payment_status, payment_id
from stateset_gateway.resolvers.pricing import CENT, line_total, order_totals
from stateset_gateway.resolvers.transitions import HOLDS_STOCK, ORDER, fulfillment_for

FIRST = ["Ava", "Liam", "Noah", "Emma", "Mia", "Lucas", "Zoe", "Ethan", "Isla", "Omar", "Yuki", "Priya", "Mateo",
         "Chloe", "Amara", "Leo", "Sofia", "Kai", "Nora", "Ravi"]
LAST = ["Smith", "Garcia", "Chen", "Okafor", "Müller", "Rossi", "Kim", "Singh", "Dubois", "Silva", "Novak",
        "Haddad", "Tanaka", "Brown", "Lopez", "Nguyen"]
ADJ = ["Classic", "Organic", "Ultra", "Everyday", "Premium", "Trail", "Studio", "Compact", "Merino", "Recycled"]
NOUN = ["Tee", "Hoodie", "Backpack", "Bottle", "Sneaker", "Mug", "Jacket", "Cap", "Sock Pack", "Tote",
        "Blanket", "Lamp"]
CITIES = [("Austin", "TX", "78701", "US"), ("Portland", "OR", "97205", "US"), ("Toronto", "ON", "M5V 2T6", "CA"),
          ("Berlin", None, "10115", "DE"), ("Lyon", None, "69002", "FR")]
LOCATIONS = [("WH-EAST", "East Warehouse"), ("WH-WEST", "West Warehouse"), ("STORE-01", "Flagship Store")]
# How often each status appears; most orders in a live shop have been delivered.
STATUS_WEIGHTS = {
    OrderStatus.PENDING: 8, OrderStatus.CONFIRMED: 8, OrderStatus.PROCESSING: 8, OrderStatus.ON_HOLD: 3,
    OrderStatus.SHIPPED: 10, OrderStatus.DELIVERED: 50, OrderStatus.CANCELLED: 8, OrderStatus.REFUNDED: 3,
    OrderStatus.EXCHANGED: 2,
}


def _from(status: OrderStatus) -> frozenset[OrderStatus]:
    """`status` and every status the state machine can reach from it."""
    reached, todo = {status}, [status]
    while todo:
        for following in ORDER.moves[todo.pop()] - reached:
            reached.add(following)
            todo.append(following)
    return frozenset(reached)


SHIPPED_STATUSES = _from(OrderStatus.SHIPPED)  # went out (a refunded demo order was returned after delivery)
DELIVERED_STATUSES = _from(OrderStatus.DELIVERED)  # ... and arrived
# The payment a demo order in each status has (pending and cancelled orders were never paid):
# (its status, the provider calls it took: authorize, capture, refund).
PAYMENT_OF: dict[OrderStatus, tuple[PaymentRecordStatus, int]] = {
    OrderStatus.CONFIRMED: (PaymentRecordStatus.AUTHORIZED, 1),
    OrderStatus.PROCESSING: (PaymentRecordStatus.AUTHORIZED, 1),
    OrderStatus.ON_HOLD: (PaymentRecordStatus.AUTHORIZED, 1),
    OrderStatus.SHIPPED: (PaymentRecordStatus.CAPTURED, 2),
    OrderStatus.DELIVERED: (PaymentRecordStatus.CAPTURED, 2),
    OrderStatus.EXCHANGED: (PaymentRecordStatus.CAPTURED, 2),
    OrderStatus.REFUNDED: (PaymentRecordStatus.REFUNDED, 3),
}


def _payment(order_id: uuid.UUID, status: OrderStatus, total: Decimal, created: datetime) -> dict[str, Any] | None:
    """The demo order's payment through the test provider, as `resolvers.payments` would record it."""
    if status not in PAYMENT_OF:
        return None
    state, calls = PAYMENT_OF[status]
    pid = payment_id(order_id, 1)
    taken = state != PaymentRecordStatus.AUTHORIZED
    refunded = state == PaymentRecordStatus.REFUNDED
    return {"id": pid, "order_id": order_id, "attempt": 1, "amount": total, "currency": "USD", "status": state,
            "provider": "test", "provider_reference": TestProvider.reference("auth", idempotency_key(pid, 1)),
            "provider_calls": calls, "failure_code": None, "failure_message": None,
            "refunded_amount": total if refunded else Decimal("0.00"), "authorized_at": created,
            "captured_at": created if taken else None, "refunded_at": created + timedelta(days=10) if refunded else None,
            "voided_at": None, "created_at": created, "updated_at": created, "version": 1}

CHUNK = 5000
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class SeedSize:
    customers: int = 200
    products: int = 50
    orders: int = 1000
    max_items_per_order: int = 5


@dataclass(frozen=True)
class SeedReport:
    customers: int
    products: int
    locations: int
    orders: int
    items: int


async def _bulk(session: AsyncSession, model: Any, rows: Sequence[dict[str, Any]], progress: Progress | None,
                label: str) -> None:
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        await session.execute(insert(model.__table__), chunk)
        if progress:
            progress(label, len(chunk))


async def is_empty(db: Database) -> bool:
    async with db.reader() as session:
        return (await session.scalar(select(func.count()).select_from(Customer))) == 0


@dataclass(frozen=True)
class _Existing:
    """What earlier runs left that a new run must not collide with."""

    locations: dict[str, uuid.UUID]  # code -> id: locations are shared by every run
    tags: set[str]  # each run's tag, in its SKUs and emails
    order_numbers: set[str]


async def _existing(db: Database) -> _Existing:
    async with db.reader() as session:
        locations = {code: id_ for code, id_ in await session.execute(
            select(InventoryLocation.code, InventoryLocation.id))}
        first_skus = await session.scalars(select(Product.sku).where(Product.sku.like("SKU-%-00000")))
        tags = {sku.split("-")[1].lower() for sku in first_skus}
        numbers = set(await session.scalars(select(Order.order_number)))
    return _Existing(locations, tags, numbers)


def _generator(rng_seed: int, taken: set[str]) -> tuple[random.Random, str]:
    """The run's random stream and tag: the same for the same seed on the same database, a fresh
    stream when an earlier run with this seed used the tag (its keys would collide)."""
    attempt = 0
    while True:
        rng = random.Random(rng_seed if attempt == 0 else f"{rng_seed}.{attempt}")
        tag = uuid.UUID(int=rng.getrandbits(128), version=4).hex[:6]
        if tag not in taken:
            return rng, tag
        attempt += 1


LOW_STOCK_EVERY = 5  # one product in five is due for reordering at its first location


def _reorder_point(product_number: int, available: int) -> int:
    """10, or for one product in five a reorder point above what its first location has, so that
    `inventory(lowStock: true)` (the README's second query) has stock to show. Decided without the
    random stream, so every other value the seed draws stays what it was."""
    if product_number % LOW_STOCK_EVERY:
        return 10
    return (available // 50 + 1) * 50


async def seed(db: Database, size: SeedSize, *, rng_seed: int = 7, progress: Progress | None = None) -> SeedReport:
    existing = await _existing(db)
    rng, tag = _generator(rng_seed, existing.tags)
    now = datetime.now(UTC)

    customers = [
        {"id": uuid.UUID(int=rng.getrandbits(128), version=4), "email": f"{FIRST[i % len(FIRST)].lower()}.{i}.{tag}@example.com",
         "first_name": FIRST[i % len(FIRST)], "last_name": LAST[(i * 7) % len(LAST)],
         "phone": f"+1555{rng.randrange(10**6, 10**7)}", "created_at": now - timedelta(days=rng.randrange(1, 720)),
         "updated_at": now, "version": 1}
        for i in range(size.customers)
    ]
    addresses = []
    for c in customers:
        city, region, postal, country = rng.choice(CITIES)
        addresses.append({"id": uuid.UUID(int=rng.getrandbits(128), version=4), "customer_id": c["id"], "kind": "shipping",
                          "line1": f"{rng.randrange(1, 999)} Market St", "line2": None, "city": city,
                          "region": region, "postal_code": postal, "country": country, "is_default": True})
    products = [
        {"id": uuid.UUID(int=rng.getrandbits(128), version=4), "sku": f"SKU-{tag.upper()}-{i:05d}",
         "name": f"{ADJ[i % len(ADJ)]} {NOUN[(i // len(ADJ)) % len(NOUN)]}",
         "description": "Demo product", "price": Decimal(rng.randrange(500, 25000)) / 100, "currency": "USD",
         "is_active": True, "created_at": now - timedelta(days=800), "updated_at": now, "version": 1}
        for i in range(size.products)
    ]
    locations = [{"id": existing.locations.get(code) or uuid.UUID(int=rng.getrandbits(128), version=4),
                  "code": code, "name": name, "created_at": now} for code, name in LOCATIONS]
    new_locations = [loc for loc in locations if loc["code"] not in existing.locations]

    # Each product's {(product, location): [on_hand, reserved]}, the levels inventory.take reserves
    # from. Stock is large enough that most open orders' reservations fit; a location short of one
    # first receives what it lacks.
    levels: dict[uuid.UUID, dict[tuple[uuid.UUID, uuid.UUID], list[int]]] = {
        p["id"]: {(p["id"], loc["id"]): [rng.randrange(50, 500) + size.orders // max(size.products, 1) * 3, 0]
                  for loc in locations}
        for p in products
    }
    orders, items, reservations, shipments, payments = [], [], [], [], []
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    for n in range(size.orders):
        status = rng.choices(statuses, weights)[0]
        if n < len(statuses):  # every status at least once, however few orders (the draw keeps the stream)
            status = statuses[n]
        customer = customers[rng.randrange(len(customers))]
        created = now - timedelta(minutes=rng.randrange(1, 60 * 24 * 365))
        order_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        location = locations[rng.randrange(len(locations))]
        line_totals = []
        picked = rng.sample(products, k=min(len(products), rng.randint(1, size.max_items_per_order)))
        for product in picked:
            qty = rng.randint(1, 3)
            line = line_total(product["price"], qty)
            line_totals.append(line)
            items.append({"id": uuid.UUID(int=rng.getrandbits(128), version=4), "order_id": order_id, "product_id": product["id"],
                          "sku": product["sku"], "name": product["name"], "quantity": qty,
                          "unit_price": product["price"], "line_total": line, "created_at": created})
            if status in HOLDS_STOCK:
                level = levels[product["id"]][(product["id"], location["id"])]
                level[0] = max(level[0], level[1] + qty)
                for taken_at, taken in take(levels[product["id"]], Line(product["id"], qty, location["id"])):
                    reservations.append({"id": uuid.UUID(int=rng.getrandbits(128), version=4),
                                         "product_id": product["id"], "location_id": taken_at,
                                         "quantity": taken, "status": ReservationStatus.ACTIVE,
                                         "order_id": order_id, "reference": None, "created_at": created,
                                         "updated_at": created, "version": 1})
        goods = sum(line_totals, Decimal("0.00"))  # the demo charges 5% shipping and 8% tax on it
        shipping, tax = (goods * Decimal("0.05")).quantize(CENT), (goods * Decimal("0.08")).quantize(CENT)
        subtotal, total = order_totals(line_totals, tax=tax, shipping=shipping, discount=Decimal("0.00"))
        delivered_at = created + timedelta(days=3) if status in DELIVERED_STATUSES else None
        payment = _payment(order_id, status, total, created)
        if payment is not None:
            payments.append(payment)
        orders.append({"id": order_id, "order_number": f"ORD-{rng.getrandbits(32):08X}", "customer_id": customer["id"],
                       "status": status,
                       "payment_status": order_payment_status([SimpleNamespace(**payment)] if payment else []),
                       "fulfillment_status": fulfillment_for(status), "currency": "USD", "subtotal": subtotal,
                       "tax_total": tax, "shipping_total": shipping, "discount_total": Decimal("0.00"),
                       "total": total,
                       "shipping_address": {k: v for k, v in addresses[0].items() if k in
                                            ("line1", "city", "region", "postal_code", "country")},
                       "billing_address": None, "notes": None, "delivered_at": delivered_at,
                       "cancelled_at": created + timedelta(hours=2) if status == OrderStatus.CANCELLED else None,
                       "created_at": created, "updated_at": created, "version": 1})
        if status in SHIPPED_STATUSES:
            shipments.append({"id": uuid.UUID(int=rng.getrandbits(128), version=4), "order_id": order_id,
                              "status": "shipped" if status == OrderStatus.SHIPPED else "delivered",
                              "carrier": rng.choice(["UPS", "FedEx", "DHL", "USPS"]),
                              "tracking_number": f"1Z{tag.upper()}{n:010d}", "shipped_at": created + timedelta(days=1),
                              "delivered_at": delivered_at, "created_at": created, "updated_at": created, "version": 1})
    # Order numbers are random: draw again where one is taken, in this run or an earlier one.
    seen = existing.order_numbers
    for order in orders:
        while order["order_number"] in seen:
            order["order_number"] = f"ORD-{rng.getrandbits(32):08X}"
        seen.add(order["order_number"])
    balances = [{"id": uuid.UUID(int=rng.getrandbits(128), version=4), "product_id": pid, "location_id": lid,
                 "on_hand": on_hand, "reserved": reserved,
                 "reorder_point": _reorder_point(n, on_hand - reserved) if i == 0 else 10,
                 "created_at": now, "updated_at": now, "version": 1}
                for n, of_product in enumerate(levels.values())
                for i, ((pid, lid), (on_hand, reserved)) in enumerate(of_product.items())]

    async with db.writer() as session:
        conn = await session.connection()
        cache_size = None
        if db.kind == "sqlite":
            # A large page cache for the bulk load only: random UUID keys touch pages all over every
            # index, and with SQLite's default 2 MB cache the pages are spilled and re-read again and
            # again (about a fifth of the run time for 100,000 orders, most of it in system calls).
            cache_size = (await conn.exec_driver_sql("PRAGMA cache_size")).scalar()
            await conn.exec_driver_sql("PRAGMA cache_size=-262144")
        try:
            await _bulk(session, Customer, customers, progress, "customers")
            await _bulk(session, CustomerAddress, addresses, None, "addresses")
            await _bulk(session, Product, products, progress, "products")
            if new_locations:
                await _bulk(session, InventoryLocation, new_locations, None, "locations")
            await _bulk(session, InventoryBalance, balances, None, "inventory")
            await _bulk(session, Order, orders, progress, "orders")
            await _bulk(session, OrderItem, items, progress, "items")
            await _bulk(session, InventoryReservation, reservations, None, "reservations")
            await _bulk(session, Shipment, shipments, None, "shipments")
            await _bulk(session, Payment, payments, None, "payments")
        finally:
            if cache_size is not None:  # the pooled connection goes back to serving requests
                await conn.exec_driver_sql(f"PRAGMA cache_size={int(cache_size)}")
    return SeedReport(len(customers), len(products), len(locations), len(orders), len(items))
