"""The end-to-end scenario both transports run (tests/test_scenario_rest.py, and its GraphQL twin),
and the final database state they must both reach.

Steps: create a customer, a product and its stock at one location; order ORDER_QTY; pay with
PAYMENT_TOKEN; confirm; create a
shipment and ship it; deliver it; request a return of RETURN_QTY; approve, receive and restock it.
Use the constants below for the inputs, then compare `await snapshot(db)` with `EXPECTED`: the
snapshot leaves out ids and timestamps, so two runs through different transports compare equal.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from stateset_gateway.db.engine import Database
from stateset_gateway.db.models import (
    Customer,
    InventoryBalance,
    InventoryLocation,
    InventoryReservation,
    Order,
    OrderItem,
    Payment,
    Product,
    Return,
    ReturnItem,
    Shipment,
)

CUSTOMER = {"email": "scenario@example.com", "first_name": "Sam", "last_name": "Rivera"}
PRODUCT = {"sku": "SCN-TEE-1", "name": "Scenario Tee", "price": "25.00"}
LOCATION = {"code": "SCN-WH", "name": "Scenario Warehouse"}
STOCK = 10
ORDER_QTY = 3
RETURN_QTY = 1
CARRIER = "UPS"
TRACKING = "1ZSCENARIO0001"
RETURN_REASON = "wrong size"
PAYMENT_TOKEN = "tok_visa"

EXPECTED: dict[str, Any] = {
    "counts": {"customers": 1, "products": 1, "locations": 1, "orders": 1, "order_items": 1, "shipments": 1,
               "returns": 1, "return_items": 1, "payments": 1},
    "order": {"status": "delivered", "payment_status": "paid", "fulfillment_status": "delivered",
              "subtotal": "75.00", "total": "75.00", "delivered": True},
    "shipment": {"status": "delivered", "carrier": CARRIER, "tracking_number": TRACKING},
    "return": {"status": "restocked", "refund_amount": "25.00", "reason": RETURN_REASON, "quantity": RETURN_QTY},
    "payment": {"status": "captured", "amount": "75.00", "refunded_amount": "0.00", "provider": "test"},
    # 10 received, 3 shipped (consumed), 1 returned and restocked
    "stock": {PRODUCT["sku"]: {"on_hand": STOCK - ORDER_QTY + RETURN_QTY, "reserved": 0}},
    "reservations": {"consumed": 1},
}


async def snapshot(db: Database) -> dict[str, Any]:
    """The scenario's final state, read straight from the database (never through a transport)."""
    async with db.reader() as session:
        async def count(model: Any) -> int:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

        counts = {name: await count(model) for name, model in (
            ("customers", Customer), ("products", Product), ("locations", InventoryLocation), ("orders", Order),
            ("order_items", OrderItem), ("shipments", Shipment), ("returns", Return), ("return_items", ReturnItem), ("payments", Payment))}
        order = (await session.scalars(select(Order))).one()
        shipment = (await session.scalars(select(Shipment))).one()
        ret = (await session.scalars(select(Return))).one()
        payment = (await session.scalars(select(Payment))).one()
        return_qty = await session.scalar(select(func.sum(ReturnItem.quantity)))
        stock = {sku: {"on_hand": on_hand, "reserved": reserved} for sku, on_hand, reserved in (await session.execute(
            select(Product.sku, func.sum(InventoryBalance.on_hand), func.sum(InventoryBalance.reserved))
            .join(InventoryBalance, InventoryBalance.product_id == Product.id).group_by(Product.sku)
        )).all()}
        reservations = dict((await session.execute(
            select(InventoryReservation.status, func.count()).group_by(InventoryReservation.status))).all())
    return {
        "counts": counts,
        "order": {"status": order.status, "payment_status": order.payment_status,
                  "fulfillment_status": order.fulfillment_status, "subtotal": str(order.subtotal),
                  "total": str(order.total), "delivered": order.delivered_at is not None},
        "shipment": {"status": shipment.status, "carrier": shipment.carrier,
                     "tracking_number": shipment.tracking_number},
        "return": {"status": ret.status, "refund_amount": str(ret.refund_amount), "reason": ret.reason,
                   "quantity": int(return_qty or 0)},
        "payment": {"status": payment.status, "amount": str(payment.amount),
                    "refunded_amount": str(payment.refunded_amount), "provider": payment.provider},
        "stock": {sku: {k: int(v) for k, v in levels.items()} for sku, levels in stock.items()},
        "reservations": {str(status): int(n) for status, n in reservations.items()},
    }
