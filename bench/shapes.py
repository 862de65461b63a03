"""The query shapes the gateway is compared on with PostGraphile, each written once per side, and the
check that a pair returns the same rows.

Each pair selects the same rows in the same order (lists newest first by `(created_at, id)`, nested
items oldest first, as the gateway orders them) and the same fields. PostGraphile names things after
the tables and foreign keys (`allOrders`, `customerByCustomerId`, `orderItemsByOrderId`, the column
`id` as `rowId`); its side aliases them to the gateway's names, so both answers have the same keys
and only the value encodings differ. `canonical` removes those differences (enum case, timestamp
spelling, relation lists wrapped in `nodes`, opaque cursors) and nothing else: a pair whose canonical
answers differ in any id or leaf value is not measured.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bench.harness import FLOOR_QUERY, LIST_QUERY, ONE_QUERY

# The gateway's fields of bench workload 1 (bench.harness.ORDER_FIELDS), in PostGraphile's names.
PEER_ORDER_FIELDS = """
  id: rowId orderNumber status total createdAt
  customer: customerByCustomerId { id: rowId email firstName lastName }
  items: orderItemsByOrderId(orderBy: [CREATED_AT_ASC, ROW_ID_ASC]) { nodes {
    id: rowId sku quantity unitPrice lineTotal
    product: productByProductId { id: rowId sku name price
      inventoryLevels: inventoryBalancesByProductId(orderBy: [CREATED_AT_ASC, ROW_ID_ASC]) {
        nodes { id: rowId onHand reserved available } } }
  } }
"""
NEWEST = "orderBy: [CREATED_AT_DESC, ROW_ID_DESC]"

FLAT_FIELDS = ("orderNumber status paymentStatus fulfillmentStatus currency subtotal taxTotal shippingTotal"
               " discountTotal total createdAt updatedAt")

CUSTOMER_ORDERS = """
  email firstName lastName
  orders(first: 5) { nodes { id orderNumber status total createdAt
    items { id sku quantity unitPrice lineTotal } } }
"""
PEER_CUSTOMER_ORDERS = f"""
  email firstName lastName
  orders: ordersByCustomerId(first: 5, {NEWEST}) {{ nodes {{ id: rowId orderNumber status total createdAt
    items: orderItemsByOrderId(orderBy: [CREATED_AT_ASC, ROW_ID_ASC]) {{
      nodes {{ id: rowId sku quantity unitPrice lineTotal }} }} }} }}
"""

RETURN_FIELDS = """
  status reason refundAmount createdAt orderId
  items { id quantity orderItemId product { id sku name } }
"""
PEER_RETURN_FIELDS = """
  status reason refundAmount createdAt orderId
  items: returnItemsByReturnId(orderBy: ROW_ID_ASC) { nodes {
    id: rowId quantity orderItemId product: productByProductId { id: rowId sku name } } }
"""


@dataclass(frozen=True)
class Shape:
    """One query on both sides. `by_order_id`: each request asks for another order (the bench's
    sample of order ids, as `$id`); otherwise every request is the same."""

    name: str
    title: str
    gateway: str
    peer: str
    target: float  # the most gateway CPU per request may be, as a multiple of the peer's
    by_order_id: bool = False
    variables: Mapping[str, Any] | None = None


SHAPES: tuple[Shape, ...] = (
    Shape("1", "orders(first: 50), nested (bench workload 1)",
          LIST_QUERY,
          "query Orders($first: Int!) { orders: allOrders(first: $first, " + NEWEST + ") {"
          " edges { cursor node {" + PEER_ORDER_FIELDS + "} } pageInfo { hasNextPage endCursor } } }",
          1.0, variables={"first": 50}),
    Shape("2", "order(id), the same nesting",
          ONE_QUERY,
          "query Order($id: UUID!) { order: orderByRowId(rowId: $id) {" + PEER_ORDER_FIELDS + "} }",
          1.0, by_order_id=True),
    Shape("3", "50 orders, 13 scalar fields each",
          "{ orders(first: 50) { nodes { id " + FLAT_FIELDS + " } } }",
          "{ orders: allOrders(first: 50, " + NEWEST + ") { nodes { id: rowId " + FLAT_FIELDS + " } } }",
          1.0),
    Shape("4", "customers(first: 20), their latest 5 orders and those orders' items",
          "{ customers(first: 20) { nodes { id" + CUSTOMER_ORDERS + "} } }",
          "{ customers: allCustomers(first: 20, " + NEWEST + ") { nodes { id: rowId" + PEER_CUSTOMER_ORDERS
          + "} } }",
          1.0),
    Shape("5", "inventory levels (first: 50) with product and location",
          "{ inventory(first: 50) { nodes { id onHand reserved available"
          " product { id sku name } location { id code name } } } }",
          "{ inventory: allInventoryBalances(first: 50, " + NEWEST + ") { nodes { id: rowId onHand reserved"
          " available product: productByProductId { id: rowId sku name }"
          " location: inventoryLocationByLocationId { id: rowId code name } } } }",
          1.0),
    Shape("6", "returns(first: 50) with items",
          "{ returns(first: 50) { nodes { id" + RETURN_FIELDS + "} } }",
          "{ returns: allReturns(first: 50, " + NEWEST + ") { nodes { id: rowId" + PEER_RETURN_FIELDS + "} } }",
          1.0),
    Shape("7", "{ __typename }", FLOOR_QUERY, FLOOR_QUERY, 1.5),
)
BY_NAME = {shape.name: shape for shape in SHAPES}


def select(spec: str) -> list[Shape]:
    """`all` or a comma-separated list of shape names."""
    if spec == "all":
        return list(SHAPES)
    names = [part.strip() for part in spec.split(",") if part.strip()]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise ValueError(f"unknown shape(s): {', '.join(unknown)}; choose from {', '.join(BY_NAME)}")
    return [BY_NAME[n] for n in BY_NAME if n in names]


# ---- the same rows? ----------------------------------------------------------------------------------

# Opaque by design: each server encodes its own position; what they point at is compared through
# the rows themselves and `hasNextPage`.
OPAQUE = frozenset({"cursor", "endCursor", "startCursor"})
# The gateway's GraphQL enums (PENDING); PostGraphile exposes the varchar column (pending).
ENUMS = frozenset({"status", "paymentStatus", "fulfillmentStatus"})
MONEY = frozenset({"subtotal", "taxTotal", "shippingTotal", "discountTotal", "total", "price", "unitPrice",
                   "lineTotal", "refundAmount"})
TIMESTAMPS = frozenset({"createdAt", "updatedAt", "deliveredAt", "cancelledAt"})


class NotCanonical(ValueError):
    """A leaf that is not what its field must be on either side (money as a JSON number, a malformed
    timestamp): a difference in itself, whatever the other side says."""


def _leaf(key: str, value: Any, path: str) -> Any:
    if value is None:
        return None
    if key in MONEY:
        if not isinstance(value, str):
            raise NotCanonical(f"{path}: money must be a decimal string, got {value!r}")
        try:
            return Decimal(value)
        except InvalidOperation:
            raise NotCanonical(f"{path}: not a decimal: {value!r}") from None
    if key in TIMESTAMPS:
        try:
            moment = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise NotCanonical(f"{path}: not an ISO 8601 timestamp: {value!r}") from None
        if moment.tzinfo is None:
            raise NotCanonical(f"{path}: timestamp without a zone: {value!r}")
        return moment.astimezone(UTC)
    if key in ENUMS and isinstance(value, str):
        return value.lower()
    return value


def canonical(value: Any, key: str = "", path: str = "data") -> Any:
    """The answer with encodings removed: lists stay in order (order is part of what is compared)."""
    if isinstance(value, dict):
        if set(value) == {"nodes"}:  # a PostGraphile relation connection where the gateway has a list
            return canonical(value["nodes"], key, path)
        return {k: canonical(v, k, f"{path}.{k}") for k, v in value.items() if k not in OPAQUE}
    if isinstance(value, list):
        return [canonical(v, key, f"{path}[{i}]") for i, v in enumerate(value)]
    return _leaf(key, value, path)


def first_difference(a: Any, b: Any, path: str = "data") -> str | None:
    """Where two canonical answers first differ, or None when they are the same."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return f"{path}: fields {sorted(set(a) ^ set(b))} on one side only"
        for k in a:
            found = first_difference(a[k], b[k], f"{path}.{k}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items against {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    if a != b or type(a) is not type(b):
        return f"{path}: {a!r} against {b!r}"
    return None


def leaf_count(value: Any) -> int:
    """Leaf values in a canonical answer (ids included, cursors not): the size of what was compared."""
    if isinstance(value, dict):
        return sum(leaf_count(v) for v in value.values())
    if isinstance(value, list):
        return sum(leaf_count(v) for v in value)
    return 1


def compare(gateway: dict[str, Any], peer: dict[str, Any]) -> tuple[str | None, int]:
    """(the first difference or None, leaf values compared) for one request's two response bodies.

    An answer with `errors`, or without `data`, differs from anything: a pair is measured only when
    both sides answered in full and alike. The checker looks at whole bodies (not just `data`) for
    that reason."""
    for side, body in (("gateway", gateway), ("peer", peer)):
        if body.get("errors") or not isinstance(body.get("data"), dict):
            return f"{side} answered with errors: {str(body.get('errors'))[:400]}", 0
    try:
        a, b = canonical(gateway["data"]), canonical(peer["data"])
    except NotCanonical as exc:
        return str(exc), 0
    if not has_rows(a):
        return "the answer is empty: nothing to compare (is the data seeded?)", 0
    difference = first_difference(a, b)
    return difference, 0 if difference else leaf_count(a)


def has_rows(answer: dict[str, Any]) -> bool:
    """False when a field asked for is null, or when the answer has lists and every one is empty:
    such a pair agrees on nothing and would measure an empty query."""
    if any(value is None for value in answer.values()):
        return False
    lists = list(_lists(answer))
    return not lists or any(lists)


def _lists(value: Any) -> Iterator[list[Any]]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _lists(v)
    elif isinstance(value, list):
        yield value
        for v in value:
            yield from _lists(v)


def compare_all(pairs: Sequence[tuple[dict[str, Any], dict[str, Any]]]) -> tuple[str | None, int]:
    """Every request of a shape (one per order id for `order(id)`): the first difference, and the leaf
    values per request (the mean, as a whole number)."""
    leaves = []
    for i, (gateway, peer) in enumerate(pairs):
        difference, count = compare(gateway, peer)
        if difference:
            return (f"request {i + 1} of {len(pairs)}: {difference}" if len(pairs) > 1 else difference), 0
        leaves.append(count)
    return None, round(sum(leaves) / len(leaves)) if leaves else 0
