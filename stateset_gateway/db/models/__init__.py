"""SQLModel tables, one module per family. Importing this package registers every table on `metadata`."""

from sqlmodel import SQLModel

from stateset_gateway.db.models.auth import ApiKey, RefreshToken, User
from stateset_gateway.db.models.customers import Customer, CustomerAddress
from stateset_gateway.db.models.idempotency import IdempotencyRecord
from stateset_gateway.db.models.inventory import (
    InventoryBalance,
    InventoryLocation,
    InventoryReservation,
    ReservationStatus,
)
from stateset_gateway.db.models.orders import (
    FulfillmentStatus,
    Order,
    OrderItem,
    OrderStatus,
    PaymentStatus,
)
from stateset_gateway.db.models.products import Product
from stateset_gateway.db.models.returns import Return, ReturnItem, ReturnStatus
from stateset_gateway.db.models.shipments import Shipment, ShipmentStatus
from stateset_gateway.db.models.webhooks import DeliveryStatus, Webhook, WebhookDelivery, WebhookEvent

metadata = SQLModel.metadata

__all__ = [
    "ApiKey", "Customer", "CustomerAddress", "DeliveryStatus", "FulfillmentStatus", "IdempotencyRecord", "InventoryBalance", "InventoryLocation",
    "InventoryReservation", "Order", "OrderItem", "OrderStatus", "PaymentStatus", "Product", "RefreshToken",
    "ReservationStatus", "Return", "ReturnItem", "ReturnStatus", "Shipment", "ShipmentStatus", "User", "Webhook",
    "WebhookDelivery", "WebhookEvent", "metadata",
]
