"""``PreviewPanel``: a live variables panel for notebooks, as an anywidget.

Run ``beakerlike.PreviewPanel()`` in a cell of a beakerlike kernel. The panel
watches the kernel's preview engine (``kernel.preview``) and, after every cell,
sends its views what changed (anywidget custom messages), without re-running its
own cell. Rows of a DataFrame (or any pageable item) are fetched page by page
with anywidget custom messages answered by ``engine.page``.

The frontend (``static/panel.js`` / ``panel.css``) ships inside this package:
anywidget's prebuilt JupyterLab / Notebook extension loads it, so no extension
build is needed. It renders kernel data with ``textContent`` only.

Preview work stops when the widget is closed, when its comm closes, or when the
last view that announced itself (a rendered copy of the panel) is removed, e.g.
because the cell output was cleared; it resumes when a view shows up again.
"""

from __future__ import annotations

import logging
import math
import threading
import uuid
import weakref
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from .preview.items import PREVIEW_MIME

log = logging.getLogger("beakerlike.panel")

STATIC = Path(__file__).parent / "static"
#: Largest page of rows one request may ask for.
MAX_PAGE_LIMIT = 500
#: Largest page of a string (lines, or characters from a kernel that pages text by characters).
MAX_TEXT_LIMIT = 100_000
#: The panel's own module: panels are never listed as variables of the panel.
PANEL_MODULE = __name__

#: The live panel each notebook cell created last: re-running the cell replaces it.
_panels_by_cell: weakref.WeakValueDictionary[str, PreviewPanel] = weakref.WeakValueDictionary()


class PanelError(RuntimeError):
    """The panel cannot run here (e.g. not in a beakerlike kernel)."""


def current_engine() -> Any:
    """The preview engine of the running beakerlike kernel; raises :class:`PanelError` elsewhere."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        get_ipython = None  # type: ignore[assignment]
    shell = get_ipython() if get_ipython is not None else None
    kernel = getattr(shell, "kernel", None)
    engine = getattr(kernel, "preview", None)
    if engine is None:
        raise PanelError(
            "PreviewPanel needs a running beakerlike kernel with its preview engine "
            "(select the 'Python 3 (beakerlike)' kernel; install it with `beakerlike install`)"
        )
    return engine


def _current_cell_id(engine: Any) -> str | None:
    """The JupyterLab / Notebook cell id of the request running now (``metadata.cellId``), if any."""
    try:
        from IPython import get_ipython

        kernel = getattr(get_ipython(), "kernel", None)
        parent = kernel.get_parent("shell") if kernel is not None else None
        cell = (parent or {}).get("metadata", {}).get("cellId")
    except Exception:  # no kernel, or an unusual parent: not a notebook cell
        return None
    return f"{id(engine)}:{cell}" if isinstance(cell, str) and cell else None


def item_view(name: str, item: Any) -> dict[str, Any]:
    """What the panel shows for one engine ITEM: its preview JSON, or a fallback built from text/plain."""
    if isinstance(item, dict):
        preview = item.get(PREVIEW_MIME)
        if isinstance(preview, dict):
            return {**preview, "name": str(preview.get("name", name))}
        text = item.get("text/plain")
    else:
        text = None
    return {
        "name": name, "type": "", "module": "", "kind": "object", "shape": None, "length": None,
        "summary": str(text)[:200] if text is not None else "",
        "columns": None, "rows": None, "truncated": False,
        "status": "ok" if text is not None else "error",
        "error": None if text is not None else "no preview data", "pageable": False,
    }


def _json_safe(value: Any, depth: int = 0) -> Any:
    """A JSON-ready copy: NaN/inf become text, numpy scalars plain values, anything else ``str``."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if depth > 20:
        return "…"
    if isinstance(value, dict):
        return {str(k): _json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v, depth + 1) for v in value]
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and getattr(value, "shape", None) == ():
        try:
            return _json_safe(item(), depth + 1)
        except Exception:
            pass
    return str(value)[:1000]


class PreviewPanel(anywidget.AnyWidget):  # type: ignore[misc]
    """A live panel of the kernel's variables: name, type, size, summary, table previews, paging.

    ``items`` (name -> preview dict) is the panel's state in the kernel. The frontend
    gets it whole once per view (a ``state`` message) and then only what each cell
    changed (``delta`` messages), so the cost per cell follows the changes, not the
    namespace. Synced traitlets: ``seq`` (the engine's sequence number of the last
    update), ``watching``, ``error``, ``page_size`` and ``title``.
    """

    _esm = STATIC / "panel.js"
    _css = STATIC / "panel.css"

    items = traitlets.Dict()
    seq = traitlets.Int(-1).tag(sync=True)
    watching = traitlets.Bool(False).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    page_size = traitlets.Int(10).tag(sync=True)
    title = traitlets.Unicode("Variables").tag(sync=True)

    def __init__(self, engine: Any = None, *, page_size: int = 10, title: str = "Variables", **kwargs: Any) -> None:
        if not 1 <= page_size <= MAX_PAGE_LIMIT:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_LIMIT}, got {page_size}")
        self._engine = engine if engine is not None else current_engine()
        self._lock = threading.RLock()
        self._views: set[str] = set()
        self._closed = False
        self._key = f"beakerlike.panel:{uuid.uuid4().hex}"
        super().__init__(page_size=page_size, title=title, **kwargs)
        self.on_msg(self._on_custom_msg)
        if self.comm is not None:
            self.comm.on_close(self._on_comm_close)
        # Re-running the cell that made a panel replaces that panel (its output is gone):
        # the old one stops watching instead of staying subscribed forever.
        cell = _current_cell_id(self._engine)
        if cell is not None:
            previous = _panels_by_cell.get(cell)
            if previous is not None and previous is not self:
                previous.close()
            _panels_by_cell[cell] = self
        self.start()

    @property
    def key(self) -> str:
        """The key this panel watches the engine under."""
        return self._key

    # -- watching ----------------------------------------------------------------
    def start(self) -> None:
        """Watch the engine (no-op if already watching) and send views a full snapshot."""
        # No panel lock is held while calling the engine: it calls us back under its own lock.
        if self.watching or self._closed:
            return
        snapshot = self._engine.watch(self.key, self._on_update)
        self.watching = True
        self._apply(snapshot)

    def stop(self) -> None:
        """Stop watching: the kernel does no more preview work for this panel."""
        if getattr(self, "_engine", None) is None or not self.watching:  # never started
            return
        self.watching = False
        try:
            self._engine.unwatch(self.key)
        except Exception:  # the engine may already be gone at shutdown
            log.debug("unwatch failed", exc_info=True)

    def close(self) -> None:
        """Stop watching and close the widget (and its comm)."""
        self._closed = True
        self.stop()
        super().close()

    def _on_comm_close(self, msg: Any) -> None:
        self._closed = True
        self.stop()

    # -- updates -----------------------------------------------------------------
    def _on_update(self, update: Any) -> None:
        # Called by the engine after each cell; must never raise into it.
        try:
            self._apply(update)
        except Exception as exc:
            log.exception("preview panel update failed")
            self.error = f"panel update failed: {type(exc).__name__}: {exc}"

    def _apply(self, update: Any) -> None:
        views = {str(k): item_view(str(k), v) for k, v in (update.items or {}).items()}
        own = [name for name, view in views.items() if _is_panel(view)]
        incoming = _json_safe({name: view for name, view in views.items() if name not in own})
        removed = [str(n) for n in update.removed or []] + own
        with self._lock:
            items = {} if update.full else dict(self.items)
            items.update(incoming)
            for name in removed:
                items.pop(name, None)
            self.items = items
            self.seq = int(update.seq)
            if self.error.startswith("panel update failed"):
                self.error = ""
            self._send_custom({"type": "delta", "items": incoming, "removed": removed, "seq": self.seq,
                        "full": bool(update.full)})

    def _send_state(self) -> None:
        with self._lock:
            self._send_custom({"type": "state", "items": self.items, "seq": self.seq})

    def _send_custom(self, content: dict[str, Any]) -> None:
        if self.comm is not None:
            self.send(content)

    # -- frontend messages ---------------------------------------------------------
    def _on_custom_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "page":
            self._answer_page(content)
        elif kind == "view":
            self._view_event(content)
        elif kind == "sync":
            self._send_state()

    def _view_event(self, content: dict[str, Any]) -> None:
        view_id = str(content.get("id", ""))
        if content.get("state") == "open":
            self._views.add(view_id)
            if self.watching:
                self._send_state()
            else:
                self.start()  # sends a full delta
        elif content.get("state") == "closed":
            self._views.discard(view_id)
            if not self._views:
                self.stop()

    def _answer_page(self, content: dict[str, Any]) -> None:
        request_id = content.get("request_id")
        try:
            path, offset, limit, columns = _page_args(content)
            page = self._engine.page(path, offset=offset, limit=limit, columns=columns)
            reply: dict[str, Any] = {"type": "page", "request_id": request_id, "page": _json_safe(page)}
        except Exception as exc:  # KeyError / ValueError from the engine, bad arguments
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            reply = {"type": "page", "request_id": request_id, "error": f"{type(exc).__name__}: {message}"}
        self.send(reply)


def _is_panel(view: dict[str, Any]) -> bool:
    """A variable holding a panel (``panel = PreviewPanel()``) is the panel itself, not data."""
    return view.get("module") == PANEL_MODULE and view.get("type") == "PreviewPanel"


def _page_args(content: dict[str, Any]) -> tuple[list[str | int], int, int, list[str] | None]:
    """Validate a page request from the frontend; raises ``ValueError`` with a readable message."""
    path = content.get("path")
    if not isinstance(path, list) or not path or not all(
        isinstance(p, str) or (isinstance(p, int) and not isinstance(p, bool)) for p in path
    ):
        raise ValueError("path must be a non-empty list of names and indices")
    offset = content.get("offset", 0)
    limit = content.get("limit", 10)
    for label, value in (("offset", offset), ("limit", limit)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{label} must be a non-negative integer")
    # Strings page by lines (or large character chunks), rows of everything else by page_size.
    largest = MAX_TEXT_LIMIT if content.get("text") is True else MAX_PAGE_LIMIT
    if not 1 <= limit <= largest:
        raise ValueError(f"limit must be between 1 and {largest}")
    columns = content.get("columns")
    if columns is not None and (not isinstance(columns, list) or not all(isinstance(c, str) for c in columns)):
        raise ValueError("columns must be a list of names")
    return path, offset, limit, columns
