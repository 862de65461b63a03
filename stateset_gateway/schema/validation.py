"""Validation of the documents /graphql receives: graphql-core's rules, with the one rule whose work can
grow with the square of the document bounded by a fixed amount of work.

Field merging (OverlappingFieldsCanBeMergedRule) compares every pair of fields that share a response
name in one merged selection, and every pair of fragments spread side by side: 600 fragments
`{ me { __typename } }` spread at the root, or 500 unaliased `orders { totalCount }`, are 180,000 and
125,000 comparisons, over a second of processor time before graphql-core's own budget (500,000 units)
gives up. graphql-core meters that work in units (a comparison of two fields is two) and documents
its budget as the knob to turn; here it is `MERGE_BUDGET`, which realistic documents stay far below
(the README's queries spend under 100 units; 50 fragments spread side by side about 4,000) and which
costs about 10 ms when spent. Past it the document is refused with `VALIDATION_ERROR` and a message
that says what to change, instead of graphql-core's bare "Validation aborted.". The rule itself is
graphql-core's: every document under the budget gets exactly its answer.
"""

from __future__ import annotations

from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, specified_rules, validate
from graphql.validation import OverlappingFieldsCanBeMergedRule, ValidationContext
from graphql.validation.validate import ValidationAbortedError

MERGE_BUDGET = 5_000

TOO_MANY_OVERLAPS = (
    "Document refused: merging its fields takes more than {budget} comparisons (fields sharing a response "
    "name in one selection, or fragments spread side by side, are compared pair by pair); give repeated "
    "fields distinct aliases, or select each field once"
)


class MergeBudgetExceeded(ValidationAbortedError):
    """Field merging spent its budget: the document is refused whole, as graphql-core refuses a document
    with too many errors (the validation stops there)."""


class BoundedOverlappingFieldsRule(OverlappingFieldsCanBeMergedRule):
    """graphql-core's field-merging rule, with `MERGE_BUDGET` units of work instead of 500,000."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.rule_context.remaining_complexity_budget = MERGE_BUDGET

    @property
    def spent(self) -> int:
        """The units of work the rule has spent so far (at most the budget, and one past it on refusal)."""
        return MERGE_BUDGET - self.rule_context.remaining_complexity_budget

    def enter_selection_set(self, *args: Any) -> None:
        try:
            super().enter_selection_set(*args)
        except ValidationAbortedError as exc:
            if self.rule_context.remaining_complexity_budget >= 0:
                raise  # aborted for another reason (too many errors): graphql-core's message stands
            raise MergeBudgetExceeded(TOO_MANY_OVERLAPS.format(budget=MERGE_BUDGET)) from None


RULES = tuple(BoundedOverlappingFieldsRule if rule is OverlappingFieldsCanBeMergedRule else rule
              for rule in specified_rules)


def validate_document(schema: GraphQLSchema, document: DocumentNode) -> list[GraphQLError]:
    """graphql-core's validation with the bounded field-merging rule."""
    return validate(schema, document, RULES)
