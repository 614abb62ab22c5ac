"""Diagnostics: small declared checks that each return findings, run concurrently with timeouts.

``model`` is the one result vocabulary (a :class:`Finding` with a status from a small fixed set,
its evidence in ``data`` and a first-level tip in ``hint``); ``registry`` collects every check
declared with :func:`~fieldkit.diagnostics.registry.check` in the domain modules beside it
(system, disk, ...); ``runner`` runs a selection of them and builds the run record. To add a check,
write a function in the right domain module and decorate it: nothing else needs editing.
"""
