"""The waitlist: clients waiting for a time, and offers of freed times to those who may have them."""
