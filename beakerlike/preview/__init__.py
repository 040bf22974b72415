"""Live variable previews: what each cell changed, bounded, and only while someone watches.

The running kernel exposes its engine as ``kernel.preview``::

    engine = get_ipython().kernel.preview
    snapshot = engine.watch("my-panel", lambda update: print(update.seq, list(update.items)))

See ``docs/protocol.md`` ("Contexts and previews") for the wire format.
"""

from __future__ import annotations

from .engine import PreviewEngine, PreviewUpdate
from .items import PREVIEW_MIME, ItemMaker
from .paging import page_of, resolve
from .previewers import Previewer, PreviewerRegistry, builtin_previewers
from .safe import Limits

__all__ = [
    "PREVIEW_MIME",
    "ItemMaker",
    "Limits",
    "PreviewEngine",
    "PreviewUpdate",
    "Previewer",
    "PreviewerRegistry",
    "builtin_previewers",
    "page_of",
    "resolve",
]
