"""The README's GraphQL examples run, as written, against the demo data `make run` creates."""

from __future__ import annotations

import re
from pathlib import Path

from stateset_gateway.db.demo import SeedSize, seed
from stateset_gateway.db.engine import Database
from tests.support.graphql_client import GraphQLClient

README = Path(__file__).resolve().parents[2] / "README.md"


def _examples() -> list[str]:
    return re.findall(r"```graphql\n(.*?)```", README.read_text(), flags=re.S)


async def test_readme_examples_work_against_demo_data(gql: GraphQLClient, db: Database) -> None:
    await seed(db, SeedSize(customers=50, products=20, orders=200))
    examples = _examples()
    assert len(examples) >= 4
    queries = [e for e in examples if not e.lstrip().startswith("mutation")]
    for query in queries:
        data = await gql(query)
        assert all(value is not None for value in data.values())
    delivered = await gql(queries[0])
    assert delivered["orders"]["totalCount"] > 0 and delivered["orders"]["nodes"][0]["items"]

    mutation = next(e for e in examples if e.lstrip().startswith("mutation"))
    customer = (await gql("{ customers(first: 1) { nodes { id } } }"))["customers"]["nodes"][0]["id"]
    stocked = await gql("{ inventory(lowStock: false, first: 1) { nodes { product { id } } } }")
    product = stocked["inventory"]["nodes"][0]["product"]["id"]
    created = await gql(mutation, {"customer": customer, "product": product})
    assert created["createOrder"]["status"] == "PENDING"
