"""The fields of an object type that are not a column of its row, declared as data.

A relation names the batch function that loads it (resolvers/loaders.py) and the attribute of the
parent row that is the key; a derived field names the function of the row that computes it
(resolvers/derived.py). The factories below build the Strawberry field and its resolver from the
declaration, so what the declaration says is what runs, and they keep the declaration on the field,
where the graphql-core schema reaches it too:

    field = build_schema()._schema.get_type("Order").fields["customer"]
    declaration_of(field.extensions["strawberry-definition"])  # Relation(loader=loaders.customers, ...)

An executor that batches a whole level of a query at once reads the same declarations.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

import strawberry
from strawberry.types.field import StrawberryField

from stateset_gateway.db.engine import Database
from stateset_gateway.resolvers.pagination import Page, PageLimits
from stateset_gateway.schema.common import Connection, GqlInfo, page_limits
from stateset_gateway.schema.context import BatchLoad
from stateset_gateway.schema.permissions import relation_requires

DECLARATION = "declaration"
"""The key of a field's `metadata` that holds its Relation or Derived."""


class PageLoad(Protocol):
    """Builds one parent's page of a connection (e.g. `resolvers.orders.customer_orders_page`)."""

    def __call__(
        self, db: Database, key: Any, first: int | None, after: str | None, *, limits: PageLimits,
        load_first_page: Callable[[Any], Awaitable[list[Any]]],
    ) -> Awaitable[Page[Any]]:
        ...


class Shape(Enum):
    """What a relation answers for one parent."""

    ONE = "one"  # a row (or None)
    MANY = "many"  # a list of rows
    SCALAR = "scalar"  # a leaf value: a count, a sum
    CONNECTION = "connection"  # a page of rows, with `first` / `after`


@dataclass(frozen=True)
class Relation:
    """`loader(db, [getattr(parent, key), ...])` gives each parent's value, `reduce` (if any) applied.

    A relation that needs a permission is nullable: a caller without it gets null and an error for
    the field, not a failed parent. A connection's first page is one `loader` key `(key, size)` per
    parent; `page` builds it (or a later page), `count` answers its totalCount.
    """

    loader: BatchLoad
    key: str
    shape: Shape
    permission: str | None
    nullable: bool
    reduce: Callable[[Any], Any] | None = None
    page: PageLoad | None = None
    count: BatchLoad | None = None


@dataclass(frozen=True)
class Derived:
    """The field's value is `function(parent)`: computed from the row, never stored. `reads` names
    the attributes of the row it reads (None: unknown), so an executor selecting only the columns a
    query reads (resolvers/loaders.py) selects these too."""

    function: Callable[[Any], Any]
    reads: frozenset[str] | None = None


def declaration_of(field: StrawberryField) -> Relation | Derived | None:
    found = (field.metadata or {}).get(DECLARATION)
    return found if isinstance(found, Relation | Derived) else None


def _wrap(item: Any, shape: Shape, nullable: bool) -> Any:
    if shape is Shape.MANY:
        item = list[item]
    elif shape is Shape.CONNECTION:
        item = Connection[item]
    return item | None if nullable else item


def relation(
    returns: Any,
    *,
    loader: BatchLoad,
    key: str,
    shape: Shape = Shape.ONE,
    permission: str | None = None,
    reduce: Callable[[Any], Any] | None = None,
    description: str | None = None,
) -> Any:
    """A field answering `returns` (one, a list of, or a leaf) loaded by `loader` from the parent's `key`."""
    declared = Relation(loader=loader, key=key, shape=shape, permission=permission,
                        nullable=permission is not None, reduce=reduce)

    async def resolve(root: strawberry.Parent[Any], info: GqlInfo) -> Any:
        value = await info.context.loaders[declared.loader].load(getattr(root, declared.key))
        return value if declared.reduce is None else declared.reduce(value)

    return _field(declared, resolve, _wrap(returns, shape, declared.nullable), description)


def connection(
    returns: Any,
    *,
    loader: BatchLoad,
    key: str,
    page: PageLoad,
    count: BatchLoad,
    permission: str | None = None,
    description: str | None = None,
) -> Any:
    """A `first` / `after` connection of `returns` per parent: see Relation for `loader`, `page`, `count`."""
    declared = Relation(loader=loader, key=key, shape=Shape.CONNECTION, permission=permission,
                        nullable=permission is not None, page=page, count=count)

    async def resolve(
        root: strawberry.Parent[Any], info: GqlInfo, first: int | None = None, after: str | None = None
    ) -> Connection[Any]:
        ctx, parent = info.context, getattr(root, declared.key)
        built = await page(ctx.db, parent, first, after, limits=page_limits(ctx.settings),
                           load_first_page=ctx.loaders[declared.loader].load)
        count_loader = ctx.loaders[count]
        return Connection(page=built, counter=lambda: count_loader.load(parent))

    return _field(declared, resolve, _wrap(returns, Shape.CONNECTION, declared.nullable), description)


def derived(function: Callable[[Any], Any], returns: Any, *, reads: tuple[str, ...] | None = None,
            description: str | None = None) -> Any:
    """A field answering `function(parent)`, of GraphQL type `returns`; `reads`: see Derived."""
    declared = Derived(function, None if reads is None else frozenset(reads))

    def resolve(root: strawberry.Parent[Any]) -> Any:
        return function(root)

    return _field(declared, resolve, returns, description)


def _field(declared: Relation | Derived, resolve: Callable[..., Any], graphql_type: Any,
           description: str | None) -> Any:
    permission = declared.permission if isinstance(declared, Relation) else None
    return strawberry.field(resolver=resolve, graphql_type=graphql_type, description=description,
                            metadata={DECLARATION: declared},
                            extensions=relation_requires(permission) if permission else None)

