"""Sync: push what was captured offline to the central ticket system, exactly once.

The store already records every change in a per-ticket outbox (see ``fieldkit.tickets.store``);
the engine and backends that drain it live here.
"""
