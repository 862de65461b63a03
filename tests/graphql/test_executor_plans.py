"""What the planner covers, and what it leaves to graphql-core.

Every field the planner refuses is listed here, so a field added without a declaration (a
resolver below the root that needs more than its parent) shows up in review instead of quietly
running the whole operation through graphql-core; so is every root field it calls through
Strawberry's wrapper rather than directly.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from graphql import GraphQLObjectType, GraphQLSchema, get_named_type, is_leaf_type, is_object_type, parse
from graphql.execution import Executor
from graphql.execution.values import get_variable_values

from stateset_gateway.caches import MB, SizedLRU
from stateset_gateway.schema.execution import PlannedExecutor
from stateset_gateway.schema.execution.plan import PlanCache, plan_operation, refusal
from stateset_gateway.schema.execution.roots import root_calls
from stateset_gateway.schema.execution.tree import Plan
from stateset_gateway.schema.schema import build_schema
from tests.support import factories as f
from tests.support.graphql_client import GraphQLClient

# "Type.field" -> why the planner leaves it to graphql-core. Introspection (__schema, __type) is
# not a field of any type here and always falls back.
REFUSED: dict[str, str] = {}

READ_API = ("orders", "order", "orderByNumber", "customers", "customer", "products", "product", "inventory",
            "locations", "reservations", "returns", "shipments", "me", "apiKeys")
REQUIRED = {"id": ("ID!", "00000000-0000-0000-0000-000000000000"), "orderNumber": ("String!", "ORD-1"),
            "input": ("CreateOrderInput!", {"customerId": "c", "items": [{"productId": "p", "quantity": 1}]})}


def _schema() -> GraphQLSchema:
    return build_schema()._schema


def _plan(document: str, variables: dict[str, Any] | None = None) -> Plan | None:
    schema = _schema()
    executor = Executor.build(schema, parse(document), raw_variable_values=variables)
    assert isinstance(executor, Executor), executor
    return plan_operation(schema, executor.fragments, executor.variable_values, executor.operation)


def _selection(graphql_type: Any, depth: int) -> str:
    """Every field of `graphql_type` (and of the objects below it, `depth` levels deep)."""
    named = get_named_type(graphql_type)
    if is_leaf_type(named):
        return ""
    assert is_object_type(named)
    parts = []
    for name, graphql_field in named.fields.items():
        inner = get_named_type(graphql_field.type)
        if is_leaf_type(inner):
            parts.append(name)
        elif depth > 0:
            parts.append(f"{name} {_selection(inner, depth - 1)}")
    return "{ " + " ".join(parts) + " }"


def _root_document(kind: str, name: str) -> tuple[str, dict[str, Any]]:
    schema = _schema()
    root = schema.query_type if kind == "query" else schema.mutation_type
    assert root is not None
    graphql_field = root.fields[name]
    required = [arg for arg, value in graphql_field.args.items()
                if arg in REQUIRED and "!" in str(value.type)]
    declared = ", ".join(f"${arg}: {REQUIRED[arg][0]}" for arg in required)
    arguments = ", ".join(f"{arg}: ${arg}" for arg in required)
    header = f"{kind}({declared})" if declared else kind
    call = f"{name}({arguments})" if arguments else name
    document = f"{header} {{ {call} {_selection(graphql_field.type, 3)} }}"
    return document, {arg: REQUIRED[arg][1] for arg in required}


def test_every_field_the_planner_refuses_is_listed() -> None:
    schema = _schema()
    roots = {schema.query_type, schema.mutation_type}
    refused = {}
    for type_name, graphql_type in schema.type_map.items():
        if not isinstance(graphql_type, GraphQLObjectType) or type_name.startswith("__"):
            continue
        if graphql_type is schema.subscription_type:
            continue  # each event's payload is executed by graphql-core (schema/subscriptions.py), never planned
        for name in graphql_type.fields:
            why = refusal(graphql_type, name, root=graphql_type in roots)
            if why is not None:
                refused[f"{type_name}.{name}"] = why
    assert refused == REFUSED


# "Type.field" of the root fields the planned executor calls through Strawberry's wrapper, not
# directly (schema/execution/roots.py: a field with another extension than its permission, say).
WRAPPED: set[str] = set()


def test_every_root_field_called_through_strawberrys_wrapper_is_listed() -> None:
    schema = _schema()
    calls = root_calls(schema)
    wrapped = {f"{root.name}.{name}" for root in (schema.query_type, schema.mutation_type) if root is not None
               for name in root.fields if (root.name, name) not in calls}
    assert wrapped == WRAPPED


def test_the_read_api_and_mutation_results_are_planned_three_levels_deep() -> None:
    for kind, name in [*(("query", name) for name in READ_API), ("mutation", "createOrder")]:
        document, variables = _root_document(kind, name)
        assert _plan(document, variables) is not None, document


def test_introspection_runs_through_graphql_core() -> None:
    assert _plan("{ __schema { queryType { name } } }") is None
    assert _plan('{ __type(name: "Order") { name } orders { totalCount } }') is None
    assert _plan("{ __typename orders { totalCount } }") is not None


def test_a_plan_is_made_once_per_document_and_directive_values() -> None:
    schema, cache = _schema(), PlanCache(SizedLRU(MB))
    document = parse("query($more: Boolean!) {"
                     " orders { nodes { id customer @include(if: $more) { email } } } }")

    def plan(more: bool) -> Plan | None:
        parsed = cache.document(document)
        assert parsed is not None and parsed.operations[None] is document.definitions[0]
        variables = get_variable_values(schema, parsed.operations[None].variable_definitions, {"more": more})
        assert not isinstance(variables, list)
        return cache.plan(schema, parsed, parsed.operations[None], variables)

    with_customer, without = plan(True), plan(False)
    assert with_customer is plan(True) and without is plan(False) and with_customer is not without
    assert without is not None and without.root.fields[0].selection is not None
    nodes = next(f for f in without.root.fields[0].selection.fields if f.key == "nodes")
    assert nodes.selection is not None and [f.key for f in nodes.selection.fields] == ["id"]


async def test_a_mutation_result_is_what_graphql_core_answers_for_the_same_selection(
    gql: GraphQLClient, reference_app: Any
) -> None:
    c = await f.customer(gql)
    p, _ = await f.stocked_product(gql, 5)
    selection = ("{ id orderNumber status total subtotal createdAt shippingAddress { city }"
                 " customer { email fullName orderCount orders(first: 2) { totalCount nodes { id } } }"
                 " items { sku quantity unitPrice product { sku totalAvailable"
                 " inventoryLevels { reserved available lowStock location { code } } } } }")
    created = await gql(f"mutation($i: CreateOrderInput!) {{ createOrder(input: $i) {selection} }}",
                        {"i": {"customerId": c["id"], "items": [{"productId": p["id"], "quantity": 2}],
                               "shippingAddress": {"line1": "1 Main St", "city": "Springfield",
                                                   "postalCode": "12345", "country": "US"}}})
    transport = httpx.ASGITransport(app=reference_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        body = (await client.post("/graphql", headers=gql.headers, json={
            "query": f"query($id: ID!) {{ order(id: $id) {selection} }}",
            "variables": {"id": created["createOrder"]["id"]}})).json()
    assert body == {"data": {"order": created["createOrder"]}, "extensions": body["extensions"]}


async def test_typename_beside_a_mutation(gql: GraphQLClient) -> None:
    data = await gql('mutation { __typename createLocation(input: {code: "WH-T", name: "T"}) '
                     '{ __typename code } }')
    assert data == {"__typename": "Mutation", "createLocation": {"__typename": "Location", "code": "WH-T"}}


async def test_executor_setting_chooses_who_runs_operations(
    app: Any, reference_app: Any, admin_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The differential tests compare something only if the reference app really is graphql-core."""
    ran = []

    async def planned(*args: Any) -> None:
        ran.append(args[1:])
        return None  # nothing planned: graphql-core answers

    monkeypatch.setattr(PlannedExecutor, "execute", planned)
    request = {"query": "{ locations { id } }"}
    for application, runs in ((reference_app, 0), (app, 1)):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            body = (await client.post("/graphql", json=request, headers=admin_headers)).json()
        assert body["data"] == {"locations": []} and len(ran) == runs
