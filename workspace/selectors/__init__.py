"""Reads that shape data for the staff pages only (outbox filters, inbox sections, reports).
Who may see which appointment or client is still decided by ``bookings.selectors.staff``."""
