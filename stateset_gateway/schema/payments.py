"""Payment queries and mutations: thin, they call resolvers.payments with the configured provider."""

from __future__ import annotations

import strawberry

from stateset_gateway.db import models
from stateset_gateway.resolvers import payments as ops
from stateset_gateway.resolvers.payment_providers import provider_for
from stateset_gateway.schema.common import GqlInfo, mutation, query, to_input
from stateset_gateway.schema.inputs import PayOrderInput, RefundPaymentInput
from stateset_gateway.schema.types.payments import Payment


@strawberry.type
class PaymentQueries:
    @query("orders:read", returns=Payment | None)
    async def payment(self, info: GqlInfo, id: strawberry.ID) -> models.Payment:
        return await ops.get_payment(info.context.db, id)


@strawberry.type
class PaymentMutations:
    @mutation("payments:create", returns=Payment, description=(
        "Charge the order's total to the payment method `token` (captured unless `capture` is false). "
        "A decline is PAYMENT_FAILED, and the failed payment stays on record."))
    async def pay_order(self, info: GqlInfo, order_id: strawberry.ID, input: PayOrderInput) -> models.Payment:
        ctx = info.context
        return await ops.pay(ctx.db, provider_for(ctx.settings), order_id, to_input(input))

    @mutation("payments:create", returns=Payment, description="Take the money of an authorized payment.")
    async def capture_payment(self, info: GqlInfo, id: strawberry.ID) -> models.Payment:
        ctx = info.context
        return await ops.capture(ctx.db, provider_for(ctx.settings), id)

    @mutation("payments:refund", returns=Payment,
              description="Give back `amount` of a captured payment (all that is left when omitted).")
    async def refund_payment(
        self, info: GqlInfo, id: strawberry.ID, input: RefundPaymentInput | None = None
    ) -> models.Payment:
        ctx = info.context
        return await ops.refund(ctx.db, provider_for(ctx.settings), id, to_input(input))

    @mutation("payments:refund", returns=Payment, description="Release an authorization that will not be captured.")
    async def void_payment(self, info: GqlInfo, id: strawberry.ID) -> models.Payment:
        ctx = info.context
        return await ops.void(ctx.db, provider_for(ctx.settings), id)
