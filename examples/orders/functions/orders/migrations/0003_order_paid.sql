-- When the payment provider's webhook reported the order paid; null until then. Expanding, like
-- 0002: nullable with no default, so a version that knows nothing of payments keeps working.
ALTER TABLE orders ADD COLUMN paid_at timestamptz;
