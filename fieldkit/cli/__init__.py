"""The Typer layer only: one module per command group, each parsing, calling the core, rendering.

Nothing below ``fieldkit.cli`` holds business rules, and nothing outside it imports Typer. Heavy
modules (paramiko, httpx, TLS helpers) are imported inside the commands that need them, so
``fieldkit ticket list`` starts as fast as a bare Typer app.
"""
