"""Checklists (runbooks): plain TOML data files mixing automatic checks with questions.

``model`` holds the checklist and the run (one result vocabulary for every step), ``loader``
turns TOML into the model and refuses anything malformed with file, step and field named,
``conditions`` evaluates the small ``when`` language, ``answers`` validates one answer (typed
at a terminal or read from an answers file), ``checks`` is the bridge to the diagnostics,
``runner`` walks the steps against an answer source, ``prompt`` is the terminal answer source,
``session`` ties a run to the ticket store (start, save, resume), ``template`` writes answers
files. Built-in checklists live in ``builtin/*.toml``; a technician's own in
``<home>/checklists/``. Nothing here imports Typer: the CLI is ``fieldkit/cli/checklist.py``.
"""
