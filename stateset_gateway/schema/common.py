"""Shared GraphQL building blocks: enums, connections, and the field helpers that declare permissions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.types import Info

from stateset_gateway.config import Settings
from stateset_gateway.db import models
from stateset_gateway.resolvers.pagination import CursorArgs, Page, PageLimits
from stateset_gateway.schema.context import Context
from stateset_gateway.schema.permissions import requires

T = TypeVar("T")

OrderStatus = strawberry.enum(models.OrderStatus, name="OrderStatus")
PaymentStatus = strawberry.enum(models.PaymentStatus, name="PaymentStatus")
FulfillmentStatus = strawberry.enum(models.FulfillmentStatus, name="FulfillmentStatus")
ReturnStatus = strawberry.enum(models.ReturnStatus, name="ReturnStatus")
ShipmentStatus = strawberry.enum(models.ShipmentStatus, name="ShipmentStatus")
ReservationStatus = strawberry.enum(models.ReservationStatus, name="ReservationStatus")

GqlInfo = Info[Context, None]


@strawberry.enum
class SortDirection(Enum):
    ASC = "asc"
    DESC = "desc"


def query(permission: str, returns: Any = None, **kwargs: Any) -> Any:
    """A root query field that declares `permission` (checked before it resolves).

    `returns` is its GraphQL type when the resolver answers something else (a row of db.models, or
    a Connection of them), so the resolver's own annotation can say what it returns.
    """
    return strawberry.field(extensions=requires(permission), graphql_type=returns, **kwargs)


def mutation(permission: str, returns: Any = None, **kwargs: Any) -> Any:
    """A mutation that declares `permission`; `returns` as for `query`."""
    return strawberry.mutation(extensions=requires(permission), graphql_type=returns, **kwargs)


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    node: Any = strawberry.field(graphql_type=T)  # the stored row
    cursor: str


@strawberry.type
class Connection(Generic[T]):
    """Relay-style connection. `totalCount` runs its COUNT only when a client selects it."""

    page: strawberry.Private[Page[Any]]
    counter: strawberry.Private[Callable[[], Awaitable[int]] | None]

    @strawberry.field
    def edges(self) -> list[Edge[T]]:
        return [Edge(node=node, cursor=cursor) for node, cursor in zip(self.page.items, self.page.cursors)]

    @strawberry.field(graphql_type=list[T])
    def nodes(self) -> list[Any]:
        return self.page.items

    @strawberry.field
    def page_info(self) -> PageInfo:
        page = self.page
        return PageInfo(has_next_page=page.has_next_page, has_previous_page=page.has_previous_page,
                        start_cursor=page.start_cursor, end_cursor=page.end_cursor)

    @strawberry.field
    async def total_count(self) -> int:
        if self.counter is None:
            return len(self.page.items)
        return await self.counter()


def cursor_args(info: GqlInfo, first: int | None, after: str | None, last: int | None,
                before: str | None) -> CursorArgs:
    """A connection's arguments with the page sizes the GraphQL settings allow."""
    return CursorArgs(first=first, after=after, last=last, before=before, limits=page_limits(info.context.settings))


def page_limits(settings: Settings) -> PageLimits:
    """The page sizes the GraphQL settings allow."""
    cfg = settings.graphql
    return PageLimits(default_size=cfg.default_page_size, max_size=cfg.max_page_size)


def to_input(value: Any) -> dict[str, Any]:
    """A Strawberry input -> a plain dict of the fields the client set (UNSET dropped, nested too)."""
    if value is None or value is strawberry.UNSET:
        return {}
    out: dict[str, Any] = {}
    for name in getattr(value, "__dataclass_fields__", {}):
        item = getattr(value, name)
        if item is strawberry.UNSET:
            continue
        out[name] = _plain(item)
    return out


def _plain(item: Any) -> Any:
    if isinstance(item, list):
        return [_plain(x) for x in item]
    if isinstance(item, Enum):
        return item.value
    if hasattr(item, "__dataclass_fields__") and hasattr(item, "__strawberry_definition__"):
        return to_input(item)
    return item
