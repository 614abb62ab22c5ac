"""Tickets: the model (fields, ITIL priority, lifecycle rules) and the crash-safe local store.

``model`` knows what a valid ticket is and how it may change; ``store`` keeps tickets on disk in
TinyDB files that survive a killed process, a full disk or a second terminal; ``storage`` holds
the low-level pieces (atomic file replace, the inter-process lock) the store is built on.
"""
