"""Every write about money. Each charge and refund is a row before it is a Stripe call (the
row's id is the idempotency key); nothing calls Stripe inside a database transaction."""
