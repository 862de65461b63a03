"""A planned executor for the read API: the same answers as graphql-core, without its per-field cost.

plan.py turns an operation into a plan (tree.py) once per document, field kinds taken from the
relation and derived declarations of schema/relations.py; compile.py generates each selection's fast
build; run.py executes a plan with one batched load per relation and level; serialize.py holds the
leaf serializers. graphql-core stays the reference: what the planner does not describe runs through
it unchanged, and `[graphql] executor = "reference"` runs everything through it.
"""

from stateset_gateway.schema.execution.run import PlannedExecutor

__all__ = ["PlannedExecutor"]
