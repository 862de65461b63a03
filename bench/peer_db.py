"""What the PostGraphile comparison adds to the bench database, and only to it: the `available`
computed column PostGraphile needs (bench/peer/available.sql) and returns for the returns shape
(`stateset-cli seed` makes none). Product migrations know nothing of either.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg

PEER_DIR = Path(__file__).resolve().parent / "peer"

# One return for every tenth delivered, refunded or exchanged order (in creation order), returning
# each of the order's lines in full. Its time lies halfway between the order and now, so the newest
# returns belong to recent orders, as they would. ids are random like the seed's.
RETURNS_SQL = """
WITH eligible AS (
    SELECT id, created_at, row_number() OVER (ORDER BY created_at, id) AS n
    FROM orders WHERE status IN ('delivered', 'refunded', 'exchanged')
), made AS (
    INSERT INTO returns (id, order_id, status, reason, refund_amount, created_at, updated_at, version)
    SELECT gen_random_uuid(), e.id,
           (ARRAY['requested', 'approved', 'received', 'restocked', 'refunded', 'rejected'])[1 + ((e.n / 10) % 6)::int],
           (ARRAY['damaged in transit', 'wrong size', 'not as described', NULL])[1 + ((e.n / 10) % 4)::int],
           (SELECT sum(i.line_total) FROM order_items i WHERE i.order_id = e.id),
           e.created_at + (now() - e.created_at) / 2, e.created_at + (now() - e.created_at) / 2, 1
    FROM eligible e WHERE e.n % 10 = 0
    RETURNING id, order_id
)
INSERT INTO return_items (id, return_id, order_item_id, product_id, quantity)
SELECT gen_random_uuid(), m.id, i.id, i.product_id, i.quantity
FROM made m JOIN order_items i ON i.order_id = m.order_id
"""


async def prepare(database_url: str) -> int:
    """Create the function and, when the database has no returns, the returns; the number of returns.
    Idempotent, so a kept database (`--skip-seed`) can be used again."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute((PEER_DIR / "available.sql").read_text())
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM returns)"):
            async with conn.transaction():
                await conn.execute(RETURNS_SQL)
            await conn.execute("ANALYZE returns; ANALYZE return_items")
        return int(await conn.fetchval("SELECT count(*) FROM returns"))
    finally:
        await conn.close()


async def backend_pids(pg_url: str, db_name: str) -> list[int]:
    """The client backends serving `db_name`. Asked from the `postgres` database, so the asking
    connection is not among them."""
    conn = await asyncpg.connect(pg_url + "/postgres")
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'", db_name)
        return [int(row["pid"]) for row in rows]
    finally:
        await conn.close()
