"""The REST compatibility layer at /api/v1: thin FastAPI routers over `resolvers/`."""
