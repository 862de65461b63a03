"""The headers of a delivery, and the two signatures receivers check.

- `X-StateSet-Signature`: hex HMAC-SHA256 of the raw body, keyed with the endpoint's secret string
  as it was shown: what the troubleshooting guide's `verifyWebhookSignature` computes.
- `webhook-signature` (Standard Webhooks): `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`, keyed
  with the base64-decoded part of the secret after `whsec_`: what the standardwebhooks libraries
  check, with the timestamp giving them replay protection.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from stateset_gateway import __version__

SECRET_PREFIX = "whsec_"


def stateset_signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def delivery_headers(secret: str, *, delivery_id: str, event_type: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Every attempt of one delivery sends the same id and body; the timestamp is the attempt's."""
    return {
        "Content-Type": "application/json",
        "User-Agent": f"StateSet-Webhooks/{__version__}",
        "X-StateSet-Signature": stateset_signature(secret, body),
        "X-StateSet-Event": event_type,
        "X-StateSet-Delivery-Id": delivery_id,
        "X-StateSet-Timestamp": str(timestamp),
        "webhook-id": delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_signature(secret, delivery_id, timestamp, body),
    }
