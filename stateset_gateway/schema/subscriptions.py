"""Subscription fields: each one a filter over the events the outbox recorded, its payload the
client's selection over the resource as that event recorded it (`subscriptions.snapshot`).

Each field declares its permission as query fields do; nested relations of the payload need theirs
too, exactly as in a query. The events come from the hub of the WebSocket connection's context
(`SubscriptionContext`), which the feed fills (`subscriptions.feed`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import strawberry
from sqlmodel import SQLModel

from stateset_gateway.db import models
from stateset_gateway.resolvers.common import parse_id
from stateset_gateway.schema.common import GqlInfo, OrderStatus
from stateset_gateway.schema.context import Context
from stateset_gateway.schema.permissions import requires
from stateset_gateway.schema.types.fulfillment import Shipment
from stateset_gateway.schema.types.inventory import InventoryLevel
from stateset_gateway.schema.types.orders import Order
from stateset_gateway.subscriptions.hub import Accepts, Event, Hub
from stateset_gateway.subscriptions.snapshot import row_from

Row = TypeVar("Row", bound=SQLModel)

ORDER_CHANGES = ("order.updated",)
ORDER_EVENTS = ("order.created", "order.updated")
INVENTORY_CHANGES = ("inventory.updated",)
SHIPMENT_CHANGES = ("shipment.created", "shipment.shipped", "shipment.delivered")


@dataclass
class SubscriptionContext(Context):
    """A subscription's context: a query's, plus the hub its events come from and what to do when
    the subscriber falls too far behind them."""

    events: Hub = field(kw_only=True)
    on_overflow: Callable[[], None] | None = field(default=None, kw_only=True)


def subscription(permission: str, returns: Any, **kwargs: Any) -> Any:
    """A subscription field that declares `permission` (checked before it subscribes)."""
    return strawberry.subscription(extensions=requires(permission), graphql_type=returns, **kwargs)


class _Rows(AsyncIterator[Row]):
    """A subscriber's events as rows of `model`. Joined when made, so a subscription is live once
    its field has resolved (before the socket reads the client's next message)."""

    def __init__(self, info: GqlInfo, types: Iterable[str], accepts: Accepts, model: type[Row]) -> None:
        context: SubscriptionContext = info.context  # type: ignore[assignment]
        self.subscriber = context.events.join(types, accepts, context.on_overflow)
        self.model = model

    async def __anext__(self) -> Row:
        event = await self.subscriber.__anext__()
        return row_from(self.model, event.data)

    async def aclose(self) -> None:
        self.subscriber.close()


def _is(key: str, value: str) -> Accepts:
    def accepts(event: Event) -> bool:
        return event.data.get(key) == value

    return accepts


@strawberry.type
class Subscription:
    @subscription("orders:read", returns=Order,
                  description="The order each time it changes (status or fields), in commit order.")
    async def order_updated(self, info: GqlInfo, id: strawberry.ID) -> AsyncIterator[models.Order]:
        order_id = str(parse_id(id))
        return _Rows(info, ORDER_CHANGES, _is("id", order_id), models.Order)

    @subscription("orders:read", returns=Order,
                  description="Orders as they are created or change; only those now in `status` when given.")
    async def order_events(self, info: GqlInfo,
                           status: list[OrderStatus] | None = None) -> AsyncIterator[models.Order]:
        wanted = None if status is None else {s.value for s in status}

        def accepts(event: Event) -> bool:
            return wanted is None or event.data.get("status") in wanted

        return _Rows(info, ORDER_EVENTS, accepts, models.Order)

    @subscription("inventory:read", returns=InventoryLevel,
                  description="Stock levels as they change; one product's with `productId`, only those at or "
                              "below their reorder point with `lowStockOnly`.")
    async def inventory_changed(self, info: GqlInfo, product_id: strawberry.ID | None = None,
                                low_stock_only: bool | None = None) -> AsyncIterator[models.InventoryBalance]:
        product = None if product_id is None else str(parse_id(product_id, "productId"))

        def accepts(event: Event) -> bool:
            return ((product is None or event.data.get("product_id") == product)
                    and (not low_stock_only or bool(event.data.get("low_stock"))))

        return _Rows(info, INVENTORY_CHANGES, accepts, models.InventoryBalance)

    @subscription("shipments:read", returns=Shipment,
                  description="Shipments as they are created, shipped and delivered; one order's with `orderId`.")
    async def shipment_updated(self, info: GqlInfo,
                               order_id: strawberry.ID | None = None) -> AsyncIterator[models.Shipment]:
        order = None if order_id is None else str(parse_id(order_id, "orderId"))

        def accepts(event: Event) -> bool:
            return order is None or event.data.get("order_id") == order

        return _Rows(info, SHIPMENT_CHANGES, accepts, models.Shipment)
