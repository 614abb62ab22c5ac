"""What 2nd level knows, at hand offline: the search engine shared by ``ticket search`` and
``kb search``, the knowledge cache (RT Articles and Assets) and its pull.

Nothing here is imported at start-up: only the kb commands and a search load it.
"""
