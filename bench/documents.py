"""What the gateway spends examining a document before executing it, for the shapes built to be slow
to examine, each grown to `[graphql] max_tokens`: processor time of parse, validation and cost
(best of five), and per token. `python -m bench.documents [TOKENS]`."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from graphql import GraphQLError, Source, parse
from graphql.language import Lexer, TokenKind
from graphql.utilities import get_operation_ast

from stateset_gateway.config import GraphQLSettings
from stateset_gateway.schema.cost import operation_cost
from stateset_gateway.schema.schema import build_schema
from stateset_gateway.schema.validation import validate_document


def _fragments(n: int, alias: bool) -> str:
    return ("{ " + " ".join(f"...F{i}" for i in range(n)) + " } "
            + " ".join(f"fragment F{i} on Query {{ {f'a{i}: ' if alias else ''}me {{ __typename }} }}" for i in range(n)))


SHAPES: dict[str, Callable[[int], str]] = {
    "aliases of __typename": lambda n: "{ " + " ".join(f"a{i}: __typename" for i in range(n)) + " }",
    "aliases of me { id }": lambda n: "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(n)) + " }",
    "same field in fragments": lambda n: _fragments(n, False),
    "fragments side by side": lambda n: _fragments(n, True),
    "unaliased orders": lambda n: "{ " + " orders(first: 1) { totalCount }" * n + " }",
    "inline fragments": lambda n: "{ " + " ".join(f"... on Query {{ a{i}: __typename }}" for i in range(n)) + " }",
    "directives": lambda n: "{ " + " ".join(f"a{i}: __typename @include(if: true)" for i in range(n)) + " }",
    "variables": lambda n: "query(" + " ".join(f"$v{i}: Int" for i in range(n)) + ") { __typename }",
    "list argument": lambda n: "{ orders(filter: {ids: [" + ", ".join('"x"' for _ in range(n)) + "]}) { totalCount } }",
}


def tokens(document: str) -> int:
    lexer, count = Lexer(Source(document)), 0
    while lexer.advance().kind != TokenKind.EOF:
        count += 1
    return count


def grown_to(shape: Callable[[int], str], limit: int) -> str:
    low, high = 1, limit
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if tokens(shape(middle)) <= limit else (low, middle - 1)
    return shape(low)


def examine(document: str, limit: int) -> None:
    schema = build_schema()._schema
    try:
        parsed = parse(document, max_tokens=limit)
    except GraphQLError:
        return
    if not validate_document(schema, parsed):
        operation_cost(schema, parsed, get_operation_ast(parsed, None), None, 20)


def main() -> None:
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else GraphQLSettings().max_tokens
    build_schema()
    for name, shape in SHAPES.items():
        document, best = grown_to(shape, limit), float("inf")
        for _ in range(5):
            started = time.thread_time()
            examine(document, limit)
            best = min(best, time.thread_time() - started)
        count = tokens(document)
        print(f"{name:26} {count:6} tokens {best * 1000:7.1f} ms {best * 1e6 / count:5.1f} us/token")


if __name__ == "__main__":
    main()
