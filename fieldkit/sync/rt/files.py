"""Attachments to RT by multipart upload, so that any file name arrives as it was.

RT's JSON attachment path (``Attachments: [{FileName, FileType, FileContent}]`` in a comment)
builds the MIME entity from a Perl string without encoding the name: ``Prüfbericht_ß.txt`` is
stored as ``Pr?fbericht_?.txt``, and a character beyond Latin-1 (``Bericht_😀.txt``, ``Отчёт.txt``)
makes RT answer HTTP 500 ("Wide character at RT/I18N.pm") for the whole bulk request. The
multipart upload (``POST /ticket/N/comment`` with a ``JSON`` part and an ``Attachments`` file
part, the way python-rt does it) hands RT the name as the form's own, UTF-8, and RT keeps it
exactly. It costs one request per file, so only names that are not plain printable ASCII go
this way; the rest (the diagnostic and checklist runs' JSON, ``ipconfig.txt``) stay in the
bulk comment.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fieldkit.sync.backend import Post, SyncError

if TYPE_CHECKING:
    from fieldkit.sync.rt.client import RTClient

def needs_multipart(post: Post) -> bool:
    """Whether the post's file name would not survive RT's JSON attachment path."""
    if post.attachment is None:
        return False
    name = post.attachment.filename
    return not (name.isascii() and name.isprintable())


def post_multipart(http: RTClient, post: Post, body: dict[str, Any],
                   outcome: Any) -> SyncError | None:
    """One comment with its file; a failure names the file. ``outcome`` reads RT's answer
    (``[id, message...]``) like a bulk comment's item."""
    assert post.attachment is not None
    meta = {k: v for k, v in body.items() if k not in ("id", "Attachments")}
    name = post.attachment.filename
    try:
        answer = http.call("POST", f"/ticket/{int(post.remote_id)}/comment",
                           f"adding a note with a file to RT ticket {post.remote_id}",
                           expect=(200, 201), idempotent=False,
                           data={"JSON": json.dumps(meta, ensure_ascii=False)},
                           files=[("Attachments", (name, post.attachment.content,
                                                   post.attachment.mime))])
    except SyncError as exc:
        if exc.fatal:
            raise
        return SyncError(f"the attachment {name!r} did not reach RT ticket #{post.remote_id}: "
                         f"{exc}", kind=exc.kind, uncertain=exc.uncertain)
    result: SyncError | None = outcome([post.remote_id,
                                        *(answer if isinstance(answer, list) else [answer])])
    if result is None:
        return None
    return SyncError(f"the attachment {name!r} on RT ticket #{post.remote_id}: {result}",
                     kind=result.kind, uncertain=result.uncertain)
