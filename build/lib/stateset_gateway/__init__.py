"""StateSet Gateway: one GraphQL and REST API over orders, customers, products, inventory, returns and shipments."""

__version__ = "0.1.0"
