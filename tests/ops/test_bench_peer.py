"""The PostGraphile comparison's own logic: the shapes, the same-rows check, and what it adds to a
PostgreSQL bench database. No PostGraphile and nothing timed: the check is fed answers made by hand."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from graphql import FieldNode, OperationDefinitionNode, SelectionSetNode, parse, validate

from bench import peer_db, shapes
from bench.harness import parse_args
from bench.peer import Outcome, Round, format_table
from stateset_gateway.config import load_settings
from stateset_gateway.db import migrate
from stateset_gateway.db.demo import SeedSize, seed
from stateset_gateway.db.engine import Database
from stateset_gateway.schema.schema import build_schema
from tests.support import services
from tests.support.databases import fresh_database


def _response_tree(selection: SelectionSetNode | None, *, unwrap_nodes: bool) -> dict[str, Any] | None:
    """The keys an answer to this selection has, nested; a field selecting only `nodes` stands for the
    list inside it (how PostGraphile's relation connections line up with the gateway's lists)."""
    if selection is None:
        return None
    tree: dict[str, Any] = {}
    for node in selection.selections:
        assert isinstance(node, FieldNode)
        inner = node.selection_set
        if unwrap_nodes and inner is not None and [f.name.value for f in inner.selections  # type: ignore[attr-defined]
                                                   ] == ["nodes"]:
            inner = inner.selections[0].selection_set  # type: ignore[attr-defined]
        tree[(node.alias or node.name).value] = _response_tree(inner, unwrap_nodes=unwrap_nodes)
    return tree


def _tree(query: str, *, unwrap_nodes: bool) -> dict[str, Any] | None:
    operation = parse(query).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return _response_tree(operation.selection_set, unwrap_nodes=unwrap_nodes)


def test_every_shape_has_both_sides_asking_for_the_same_fields() -> None:
    assert [s.name for s in shapes.SHAPES] == ["1", "2", "3", "4", "5", "6", "7"]
    schema = build_schema()._schema
    for shape in shapes.SHAPES:
        assert shape.gateway.strip() and shape.peer.strip() and shape.target > 0
        assert validate(schema, parse(shape.gateway)) == [], shape.name  # the gateway's side is a valid query
        assert _tree(shape.peer, unwrap_nodes=True) == _tree(shape.gateway, unwrap_nodes=True), shape.name


def test_targets_are_the_issue_s() -> None:
    assert {s.name: s.target for s in shapes.SHAPES} == {"1": 1.0, "2": 1.0, "3": 1.0, "4": 1.0, "5": 1.0,
                                                         "6": 1.0, "7": 1.5}
    assert [s.name for s in shapes.select("7,1")] == ["1", "7"]
    with pytest.raises(ValueError):
        shapes.select("8")


GATEWAY = {"data": {"orders": {
    "edges": [{"cursor": "gw-1", "node": {"id": "a1", "status": "ON_HOLD", "total": "12.50",
                                          "createdAt": "2026-11-30T10:00:00.5+00:00",
                                          "items": [{"id": "i1", "unitPrice": "6.25"},
                                                    {"id": "i2", "unitPrice": "6.25"}]}}],
    "pageInfo": {"hasNextPage": True, "endCursor": "gw-1"}}}}
PEER = {"data": {"orders": {
    "edges": [{"cursor": "pg-WyI0", "node": {"id": "a1", "status": "on_hold", "total": "12.5",
                                             "createdAt": "2026-11-30T11:00:00.500000+01:00",
                                             "items": {"nodes": [{"id": "i1", "unitPrice": "6.25"},
                                                                 {"id": "i2", "unitPrice": "6.25"}]}}}],
    "pageInfo": {"hasNextPage": True, "endCursor": "pg-WyI0"}}}}


def _node(body: dict[str, Any]) -> dict[str, Any]:
    return body["data"]["orders"]["edges"][0]["node"]


def test_the_same_rows_in_each_side_s_encoding_agree() -> None:
    difference, leaves = shapes.compare(GATEWAY, PEER)
    assert difference is None
    assert leaves == 9  # id, status, total, createdAt, two items' ids and prices, hasNextPage; no cursors
    assert shapes.canonical(GATEWAY["data"])["orders"]["edges"][0]["node"]["total"] == Decimal("12.50")


def _changed(body: dict[str, Any], change: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    change(changed)
    return changed


@pytest.mark.parametrize("change, where", [
    (lambda b: _node(b).update(total="12.51"), "total"),
    (lambda b: _node(b)["items"]["nodes"].reverse(), "items[0].id"),
    (lambda b: _node(b)["items"]["nodes"].pop(), "2 items against 1"),
    (lambda b: _node(b).update(status="shipped"), "status"),
    (lambda b: _node(b).update(createdAt="2026-11-30T10:00:00.500001+00:00"), "createdAt"),
    (lambda b: _node(b).pop("status"), "on one side only"),
    (lambda b: b["data"]["orders"]["pageInfo"].update(hasNextPage=False), "hasNextPage"),
    (lambda b: _node(b).update(total=12.5), "decimal string"),
    (lambda b: _node(b).update(createdAt="2026-11-30T10:00:00.5"), "without a zone"),
    (lambda b: b.update(errors=[{"message": "boom"}]), "peer answered with errors"),
])
def test_a_pair_that_differs_is_refused(change: Any, where: str) -> None:
    difference, leaves = shapes.compare(GATEWAY, _changed(PEER, change))
    assert difference is not None and where in difference and leaves == 0


def test_empty_or_missing_answers_are_refused_whatever_the_other_side_says() -> None:
    empty = {"data": {"orders": {"edges": [], "pageInfo": {"hasNextPage": False}}}}
    assert "empty" in (shapes.compare(empty, copy.deepcopy(empty))[0] or "")
    missing = {"data": {"order": None}}
    assert "empty" in (shapes.compare(missing, missing)[0] or "")
    assert "gateway answered with errors" in (shapes.compare({"data": None, "errors": ["x"]}, PEER)[0] or "")


def test_every_request_of_a_shape_is_compared() -> None:
    other = _changed(PEER, lambda b: _node(b).update(id="a2"))
    difference, _ = shapes.compare_all([(GATEWAY, PEER), (GATEWAY, other)])
    assert difference is not None and difference.startswith("request 2 of 2")
    assert shapes.compare_all([(GATEWAY, PEER), (GATEWAY, PEER)]) == (None, 9)


def test_the_peer_run_s_arguments() -> None:
    opts = parse_args(["--peer", "postgraphile", "--shapes", "1,7"])
    assert (opts.peer, opts.shapes, opts.rounds) == ("postgraphile", "1,7", 5)
    assert parse_args([]).rounds == 10 and parse_args([]).peer is None
    with pytest.raises(SystemExit):
        parse_args(["--peer", "hasura"])


def test_table_reports_medians_and_the_paired_ratio() -> None:
    def rnd(cpu: float, rps: float) -> Round:
        return Round(requests=100, seconds=4.0, rps=rps, server_cpu_ms=cpu, db_cpu_ms=0.5, client_cpu_pct=30.0,
                     errors=0)

    measured = Outcome("1", "nested", 1.0, leaves=3694, gateway=[rnd(80, 12), rnd(40, 20), rnd(84, 11)],
                       peer=[rnd(8, 120), rnd(5, 150), rnd(7, 130)])
    refused = Outcome("6", "returns", 1.0, refused="data.returns[0].id: 'a' against 'b'")
    assert measured.round_ratios == [10.0, 8.0, 12.0] and measured.ratio == 10.0
    assert measured.median("gateway", "server_cpu_ms") == 80
    table = format_table([measured, refused], markdown=True)
    assert "| 1 nested | 3,694 | 80.0 | 7.00 | 10.00 | <= 1 (not met) |" in table
    assert "not measured" in table and "'a' against 'b'" in table
    assert "by round: 10.00, 8.00, 12.00" in table


@pytest.mark.skipif("postgresql" not in services.backends(), reason="needs PostgreSQL")
async def test_the_bench_database_gets_returns_and_the_available_function(tmp_path: Path) -> None:
    async with fresh_database("postgresql", tmp_path) as url:
        db = Database(load_settings(database_url=url))
        try:
            await migrate.upgrade(db.write_engine)
            await seed(db, SeedSize(customers=20, products=10, orders=300))
        finally:
            await db.dispose()
        made = await peer_db.prepare(url)
        assert made > 0 and await peer_db.prepare(url) == made  # a kept database is not seeded twice
        conn = await asyncpg.connect(url)
        try:
            assert await conn.fetchval(
                "SELECT bool_and(inventory_balances_available(b) = b.on_hand - b.reserved) FROM inventory_balances b")
            mismatched = await conn.fetchval("""
                SELECT count(*) FROM returns r
                WHERE r.refund_amount <> (SELECT sum(i.line_total) FROM return_items ri
                                          JOIN order_items i ON i.id = ri.order_item_id WHERE ri.return_id = r.id)""")
            assert mismatched == 0
            statuses = await conn.fetchval("SELECT count(DISTINCT status) FROM returns")
            assert statuses == min(made, 6)
        finally:
            await conn.close()
