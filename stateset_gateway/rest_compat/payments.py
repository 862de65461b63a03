"""/api/v1 payments: thin adapters over `resolvers.payments` (the provider, the rules and the
order's payment status live there). Reading an order's payments needs `orders:read`; taking money
`payments:create`; giving it back (refund, void) `payments:refund`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import Response

from stateset_gateway.resolvers import payments, representations
from stateset_gateway.resolvers.inputs import PaymentCreate, RefundCreate
from stateset_gateway.resolvers.payment_providers import provider_for
from stateset_gateway.rest_compat import envelopes
from stateset_gateway.rest_compat.common import API_PREFIX, DB, AppSettings, errors_doc, single
from stateset_gateway.rest_compat.deps import requires
from stateset_gateway.rest_compat.envelopes import Envelope
from stateset_gateway.rest_compat.models import PaymentOut

router = APIRouter(prefix=API_PREFIX, tags=["payments"])


@router.post("/orders/{order_id}/payments", status_code=201, response_model=Envelope[PaymentOut],
             responses=errors_doc(402, 404, 422), dependencies=[Depends(requires("payments:create"))])
async def pay_order(request: Request, db: DB, settings: AppSettings, order_id: uuid.UUID,
                    body: PaymentCreate) -> Response:
    """Charge the order's total to `token`, captured at once unless `capture` is false. A decline
    answers 402 PAYMENT_FAILED (details: reason, provider_code, retryable) and the failed payment
    stays on record; an order already paid answers 422 PAYMENT_ALREADY_PROCESSED, a cancelled one
    422 INVALID_STATUS_TRANSITION."""
    payment = await payments.pay(db, provider_for(settings), order_id, body)
    return single(request, representations.payment, payment, status=201)


@router.get("/orders/{order_id}/payments", response_model=Envelope[list[PaymentOut]], responses=errors_doc(404),
            dependencies=[Depends(requires("orders:read"))])
async def list_order_payments(request: Request, db: DB, order_id: uuid.UUID) -> Response:
    """Every payment of one order, failed ones included, oldest first (bounded by the order, so not paged)."""
    found = await payments.list_order_payments(db, order_id)
    return envelopes.ok([representations.payment(payment) for payment in found], request)


@router.get("/payments/{payment_id}", response_model=Envelope[PaymentOut], responses=errors_doc(404),
            dependencies=[Depends(requires("orders:read"))])
async def get_payment(request: Request, db: DB, payment_id: uuid.UUID) -> Response:
    return single(request, representations.payment, await payments.get_payment(db, payment_id))


@router.post("/payments/{payment_id}/capture", response_model=Envelope[PaymentOut],
             responses=errors_doc(402, 404, 422), dependencies=[Depends(requires("payments:create"))])
async def capture_payment(request: Request, db: DB, settings: AppSettings, payment_id: uuid.UUID) -> Response:
    """Take the money of an authorized payment (one paid with `capture: false`)."""
    return single(request, representations.payment, await payments.capture(db, provider_for(settings), payment_id))


@router.post("/payments/{payment_id}/refund", response_model=Envelope[PaymentOut],
             responses=errors_doc(402, 404, 422), dependencies=[Depends(requires("payments:refund"))])
async def refund_payment(
    request: Request, db: DB, settings: AppSettings, payment_id: uuid.UUID,
    body: Annotated[RefundCreate | None, Body()] = None,
) -> Response:
    """Give back `amount` of a captured payment (all that is left when omitted); more than is left
    answers 422 PAYMENT_ALREADY_PROCESSED with `requested` and `refundable`."""
    return single(request, representations.payment, await payments.refund(db, provider_for(settings), payment_id, body))


@router.post("/payments/{payment_id}/void", response_model=Envelope[PaymentOut],
             responses=errors_doc(402, 404, 422), dependencies=[Depends(requires("payments:refund"))])
async def void_payment(request: Request, db: DB, settings: AppSettings, payment_id: uuid.UUID) -> Response:
    """Release an authorization that will not be captured; a captured payment is refunded instead (422)."""
    return single(request, representations.payment, await payments.void(db, provider_for(settings), payment_id))
