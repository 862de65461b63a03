"""GraphQL: Strawberry types, queries and mutations (thin; they call `resolvers/`), served at /graphql."""
