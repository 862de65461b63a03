"""GraphQL object types, one module per domain; a type of another domain is referenced lazily.

Every field reads the stored row itself (resolvers return rows): a column by name, anything else
through schema/relations.py, which declares how it is loaded or derived.
"""
