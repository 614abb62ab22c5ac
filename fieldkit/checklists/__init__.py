"""Checklists (runbooks): plain data files mixing automatic checks with manual steps.

Not built yet: no issue has asked for it. The package exists so the layout the project agreed on
stays stable; it contains no code that pretends to work.
"""
