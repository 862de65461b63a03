-- What the gateway exposes as InventoryLevel.available (on_hand - reserved, never stored), as a
-- PostGraphile computed column: a STABLE function named <table>_<field> taking the row.
-- The benchmark creates it in its own database only; the product's schema does not have it.
CREATE OR REPLACE FUNCTION inventory_balances_available(b inventory_balances) RETURNS integer
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    AS $$ SELECT b.on_hand - b.reserved $$;
