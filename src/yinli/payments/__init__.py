"""Payments through a gateway adapter (a simulated gateway is built in), refunds, and the ledger."""
