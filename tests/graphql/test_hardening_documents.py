"""Every step before execution (parse, validate, cost, depth) is linear in the document, whatever
its shape: fragments spread many times, deep nesting, many aliases, many fragments. A document
built to be slow to examine is answered at once, and /health keeps answering meanwhile."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from graphql import GraphQLError, SelectionSetNode, Visitor, parse, validate, visit
from graphql.utilities import get_operation_ast
from graphql.validation import OverlappingFieldsCanBeMergedRule, ValidationContext
from hypothesis import given, seed, settings
from hypothesis import strategies as st

from stateset_gateway.config import GraphQLSettings
from stateset_gateway.schema import cost
from stateset_gateway.schema.cost import operation_cost
from stateset_gateway.schema.schema import build_schema
from stateset_gateway.schema.validation import MERGE_BUDGET, BoundedOverlappingFieldsRule
from tests.support.work import calls_at_most


def fan_out(levels: int, on: str = "Query", leaf: str = "__typename", width: int = 2) -> str:
    """`levels` fragments, each spreading the next `width` times: 2^levels spreads once expanded."""
    spreads = lambda i: " ".join([f"...F{i + 1}"] * width)  # noqa: E731
    fragments = " ".join(f"fragment F{i} on {on} {{ {leaf} {spreads(i)} }}" for i in range(levels))
    return f"{fragments} fragment F{levels} on {on} {{ {leaf} }}"


SHAPES = {
    "fan-out": "query { ...F0 } " + fan_out(30),
    "fan-out of fields": "query { orders(first: 1) { nodes { ...F0 } } } " + fan_out(30, "Order", "id"),
    "wide fan-out": "query { ...F0 } " + fan_out(40, width=20),
    "deep nesting": "{ " + "orders(first: 1) { nodes { customer { " * 30 + "id" + " } } }" * 30 + " }",
    "many aliases": "{ " + " ".join(f"a{i}: orders(first: 1) {{ totalCount }}" for i in range(200)) + " }",
    "many fragments": "{ ...G0 } " + " ".join(f"fragment G{i} on Query {{ __typename ...G{i + 1} }}"
                                               for i in range(300)) + " fragment G300 on Query { __typename }",
}


@pytest.mark.parametrize("document", SHAPES.values(), ids=SHAPES.keys())
def test_examining_a_document_is_linear_whatever_its_shape(document: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Work counted, not timed (`python -m bench.documents` prints the times): parsing stops at
    max_tokens, field merging spends at most its budget, and the cost walk visits each selection set
    of the document once however often its fragments are spread."""
    parsed = parse(document, max_tokens=GraphQLSettings().max_tokens)
    work, _ = merge_work(document, BoundedOverlappingFieldsRule)
    assert work <= MERGE_BUDGET
    walked: list[object] = []
    walk = cost._Walker.selection

    def counted(self: cost._Walker, selection_set: SelectionSetNode | None, parent: object) -> object:
        walked.append(selection_set)
        return walk(self, selection_set, parent)  # type: ignore[arg-type]

    monkeypatch.setattr(cost._Walker, "selection", counted)
    operation_cost(build_schema()._schema, parsed, get_operation_ast(parsed, None), None, 20)
    sets = _SelectionSets()
    visit(parsed, sets)
    assert len(walked) <= sets.found, (len(walked), sets.found)


class _SelectionSets(Visitor):
    """Counts the selection sets written in a document."""

    def __init__(self) -> None:
        super().__init__()
        self.found = 0

    def enter_selection_set(self, *_args: object) -> None:
        self.found += 1


# Each of the two requests below makes about 190,000 calls on a fresh app (its first request included);
# 2^30 spreads examined one by one would make billions.
CALLS = 1_000_000


async def test_fragment_fan_out_is_answered_at_once_with_its_expanded_cost(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    with calls_at_most(CALLS):
        body = (await client.post("/graphql", json={"query": SHAPES["fan-out"]}, headers=admin_headers)).json()
    assert body["data"] == {"__typename": "Query"}
    with calls_at_most(CALLS):
        fields = (await client.post("/graphql", json={"query": SHAPES["fan-out of fields"]},
                                    headers=admin_headers)).json()
    assert fields["data"] == {"orders": {"nodes": []}}
    # what runs, not what the spreads expand to: `orders` (1) + its page of 1 x `nodes` (1); `id` is free
    assert fields["extensions"]["cost"]["requestedQueryCost"] == 2


async def test_health_keeps_answering_while_fan_out_documents_arrive(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    async def attack() -> None:
        for levels in (20, 25, 30):
            await client.post("/graphql", json={"query": "query { ...F0 } " + fan_out(levels)},
                              headers=admin_headers)

    async def health() -> float:
        await asyncio.sleep(0)
        started = time.perf_counter()
        assert (await client.get("/health")).status_code == 200
        return time.perf_counter() - started

    attacks = [asyncio.create_task(attack()) for _ in range(3)]
    waits = [await health() for _ in range(5)]
    await asyncio.gather(*attacks)
    assert max(waits) < 1, waits


SCHEMA = build_schema()._schema
MAX_TOKENS = GraphQLSettings().max_tokens


def side_by_side(count: int, selection: str, *, aliased: bool = False) -> str:
    """`count` fragments on Query, each selecting `selection` (under its own alias when `aliased`), all
    spread in the root selection: graphql-core compares every pair of them."""
    alias = lambda i: f"a{i}: " if aliased else ""  # noqa: E731
    return ("{ " + " ".join(f"...F{i}" for i in range(count)) + " } "
            + " ".join(f"fragment F{i} on Query {{ {alias(i)}{selection} }}" for i in range(count)))


# Documents whose field merging is quadratic in their size, each under the default max_tokens.
OVERLAPPING = {
    "same field in fragments": lambda n: side_by_side(n, "me { __typename }"),
    "distinct fields in fragments": lambda n: side_by_side(n, "me { __typename }", aliased=True),
    "same field unaliased": lambda n: "{ " + " orders(first: 1) { totalCount }" * n + " }",
    "same field nested": lambda n: "{ me { " + " ".join(["... on Viewer { id email }"] * n) + " } }",
}


def merge_work(document: str, rule: type[OverlappingFieldsCanBeMergedRule]) -> tuple[int, list[GraphQLError]]:
    """The units of work graphql-core's field-merging rule (or one built on it) spends on the document,
    as graphql-core itself meters it, and the errors it reports."""
    contexts: list[OverlappingFieldsCanBeMergedRule] = []

    class Counted(rule):  # type: ignore[misc, valid-type]
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            contexts.append(self)
            self.start = self.rule_context.remaining_complexity_budget

    parsed = parse(document, max_tokens=MAX_TOKENS)
    problems = validate(SCHEMA, parsed, [Counted])
    counted = contexts[0]
    return counted.start - counted.rule_context.remaining_complexity_budget, problems


@pytest.mark.parametrize("build", OVERLAPPING.values(), ids=OVERLAPPING.keys())
def test_field_merging_work_is_bounded_however_often_fields_overlap(build: object) -> None:
    """graphql-core's rule does four times the work for twice the document; the gateway's stops at its
    budget and refuses the document, saying what to change."""
    sizes = (100, 200)
    reference = [merge_work(build(n), OverlappingFieldsCanBeMergedRule)[0] for n in sizes]  # type: ignore[operator]
    assert reference[1] > 3 * reference[0] > 3 * MERGE_BUDGET, reference
    for n in sizes:
        work, problems = merge_work(build(n), BoundedOverlappingFieldsRule)  # type: ignore[operator]
        assert work <= MERGE_BUDGET + 2
        assert [p.message for p in problems] == [
            f"Document refused: merging its fields takes more than {MERGE_BUDGET} comparisons (fields sharing a "
            "response name in one selection, or fragments spread side by side, are compared pair by pair); give "
            "repeated fields distinct aliases, or select each field once"]


def test_realistic_documents_are_far_below_the_merge_budget() -> None:
    """What clients send (fragments per component, a few fields repeated) spends a small part of it."""
    fragments = side_by_side(20, "me { id email }")
    spread = ("{ orders(first: 5) { nodes { ...A ...B ...C } } } fragment A on Order { id status customer { id } } "
              "fragment B on Order { id total customer { id email } } fragment C on Order { id items { id } }")
    for document in (fragments, spread):
        work, problems = merge_work(document, BoundedOverlappingFieldsRule)
        assert problems == [] and work < MERGE_BUDGET // 2, work


def test_the_default_token_bound_refuses_documents_at_parse() -> None:
    assert MAX_TOKENS == 3_000
    aliases = lambda n: "{ " + " ".join(f"a{i}: __typename" for i in range(n)) + " }"  # noqa: E731: 3 tokens each
    parse(aliases(999), max_tokens=MAX_TOKENS)
    with pytest.raises(GraphQLError, match="Document contains more than 3000 tokens"):
        parse(aliases(1000), max_tokens=MAX_TOKENS)


FIELDS = st.sampled_from(["id", "email", "name", "__typename", "permissions"])
ALIASES = st.sampled_from(["a", "b", "id", "email"])
SELECTION = st.lists(st.tuples(st.one_of(st.none(), ALIASES), FIELDS), min_size=1, max_size=6)


def _fields(selection: list[tuple[str | None, str]]) -> str:
    return " ".join(f"{alias}: {name}" if alias else name for alias, name in selection)


@seed(12)
@settings(max_examples=150, deadline=None)
@given(st.lists(SELECTION, min_size=1, max_size=4), SELECTION, st.booleans())
def test_the_bounded_rule_answers_what_graphql_core_answers(
    fragments: list[list[tuple[str | None, str]]], inline: list[tuple[str | None, str]], nested: bool
) -> None:
    """Under its budget the gateway's field merging is graphql-core's: the same documents refused with
    the same messages, on generated selections with clashing aliases, fragments and inline fragments."""
    spreads = " ".join(f"...F{i}" for i in range(len(fragments)))
    body = f"{spreads} ... on Viewer {{ {_fields(inline)} }}"
    root = f"{{ me {{ {body} }} }}" if not nested else f"{{ me {{ {body} }} other: me {{ {spreads} }} }}"
    document = root + " " + " ".join(f"fragment F{i} on Viewer {{ {_fields(f)} }}" for i, f in enumerate(fragments))
    reference = merge_work(document, OverlappingFieldsCanBeMergedRule)
    bounded = merge_work(document, BoundedOverlappingFieldsRule)
    assert [p.message for p in bounded[1]] == [p.message for p in reference[1]]
    assert [p.locations for p in bounded[1]] == [p.locations for p in reference[1]]
    assert bounded[0] == reference[0] < MERGE_BUDGET


async def test_overlapping_documents_are_refused_over_http_and_realistic_ones_run(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    headers = {**admin_headers, "Accept": "application/graphql-response+json"}
    refused = await client.post("/graphql", json={"query": OVERLAPPING["same field unaliased"](200)}, headers=headers)
    assert refused.status_code == 400
    (error,) = refused.json()["errors"]
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert "give repeated fields distinct aliases" in error["message"]
    fine = await client.post("/graphql", json={"query": side_by_side(20, "me { __typename }")}, headers=headers)
    assert fine.status_code == 200
    assert fine.json()["data"] == {"me": {"__typename": "Viewer"}}
