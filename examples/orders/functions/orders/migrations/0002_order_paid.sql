-- When the payment provider's webhook reported the order paid; null until then.
ALTER TABLE orders ADD COLUMN paid_at timestamptz;
