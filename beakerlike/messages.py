"""Every beakerlike message as a pydantic model: the one source of the protocol's shapes.

The kernel builds its replies through these models (:func:`ok_reply`,
:func:`error_reply`, :func:`aborted_reply`; the preview ITEM's default fields come from
:class:`PreviewFields`), and ``beakerlike schema --out DIR`` exports their JSON
Schemas (committed under ``docs/schemas/`` and shipped in the wheel as
``beakerlike/schemas/``). The test suite validates every message it receives against
those files, so documentation and wire cannot drift.

Building stays cheap: :meth:`Wire.wire` turns a ``model_construct``-ed model into a
plain dict without validating or copying nested values (a handler's return value is
never walked); validation happens in tests.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

#: Mimetype of the JSON part of a preview ITEM.
PREVIEW_MIME = "application/vnd.beakerlike.preview+json"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _optional_only_if_omitted(schema: dict[str, Any], cls: Any) -> None:
    # Fields with defaults are always on the wire (required), except those left out when unset.
    omit = {cls.model_fields[n].alias or n for n in cls.omit_unset}
    if omit and "required" in schema:
        schema["required"] = [r for r in schema["required"] if r not in omit]


class Wire(BaseModel):
    """Base of every message model: unknown keys are refused, so the schemas are exact."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_serialization_defaults_required=True,
                              json_schema_extra=_optional_only_if_omitted)

    #: Optional fields left out of :meth:`wire` unless they were given.
    omit_unset: ClassVar[frozenset[str]] = frozenset()

    def wire(self) -> dict[str, Any]:
        """The message as a JSON-ready dict (by alias), shallow: values are not copied or validated."""
        fields_set = self.model_fields_set
        out: dict[str, Any] = {}
        for name, info in type(self).model_fields.items():
            if name in self.omit_unset and name not in fields_set:
                continue
            value = self.__dict__.get(name)
            out[info.alias or name] = value.wire() if isinstance(value, Wire) else value
        return out


# -- replies ------------------------------------------------------------------------


class OkReply(Wire):
    """``<name>_reply`` of an action that returned: ``return`` is its value as JSON."""

    status: Literal["ok"] = "ok"
    return_: Any = Field(alias="return", description="The handler's return value, as JSON (null for None).")


class FieldError(Wire):
    """One bad field of a payload (``ValidationError`` replies, ``InvalidContextInfo``)."""

    loc: list[str | int] = Field(description="Path to the field: keys and indexes.")
    msg: str = Field(description="Human-readable message.")
    type: str = Field(description="pydantic's error type, e.g. missing, extra_forbidden.")


class ErrorReply(Wire):
    """``<name>_reply`` of a request that failed."""

    omit_unset: ClassVar[frozenset[str]] = frozenset({"errors", "request_id"})

    status: Literal["error"] = "error"
    ename: str = Field(description="UnknownAction, ValidationError, ActionTimeout, SerializationError, or the "
                                   "class name of the handler's exception.")
    evalue: str
    traceback: list[str] = Field(description="Formatted traceback lines, starting at the handler's frame; "
                                             "empty for ValidationError and UnknownAction.")
    errors: list[FieldError] | None = Field(default=None, description="ValidationError only: every bad field.")
    request_id: str | None = Field(default=None, description="Comm ProtocolError only: the request id already in "
                                                             "flight on the comm.")


class AbortedReply(Wire):
    """``<name>_reply`` of a request cancelled before it finished."""

    status: Literal["aborted"] = "aborted"
    reason: str = Field(description="interrupted, shutdown, cancelled (cancel_action), ...")


#: Every ``<name>_reply`` content is one of these, told apart by ``status``.
Reply = Annotated[OkReply | ErrorReply | AbortedReply, Field(discriminator="status")]


def ok_reply(value: Any) -> dict[str, Any]:
    """Content of a successful reply (``value`` must already be JSON-ready)."""
    return OkReply.model_construct(return_=value).wire()


def error_reply(ename: str, evalue: str, traceback: list[str] | None = None,
                errors: list[dict[str, Any]] | None = None, request_id: str | None = None) -> dict[str, Any]:
    """Content of an error reply; ``errors`` (ValidationError) lists each bad field."""
    fields: dict[str, Any] = {"ename": ename, "evalue": evalue, "traceback": list(traceback or [])}
    if errors is not None:
        fields["errors"] = errors
    if request_id is not None:
        fields["request_id"] = request_id
    return ErrorReply.model_construct(**fields).wire()


def aborted_reply(reason: str = "cancelled") -> dict[str, Any]:
    """Content of the reply of a cancelled request."""
    return AbortedReply.model_construct(reason=reason).wire()


# -- previews -----------------------------------------------------------------------

Kind = Literal["scalar", "text", "container", "array", "table", "object"]
ItemStatus = Literal["ok", "over_budget", "error"]


class PreviewFields(Wire):
    """The ``application/vnd.beakerlike.preview+json`` part of an ITEM."""

    omit_unset: ClassVar[frozenset[str]] = frozenset({"index", "extra", "nbytes"})

    name: str = Field(description="Variable name.")
    type: str = Field(description="Type name, e.g. DataFrame.")
    module: str = Field(description="The type's module, e.g. pandas.")
    kind: Kind = "object"
    shape: list[int] | None = Field(default=None, description="Sizes when known cheaply.")
    length: int | None = None
    nbytes: int | None = Field(default=None, ge=0, description="Memory size in bytes, only where it is cheap "
                                                                "(O(1); O(blocks) for a DataFrame): a numpy "
                                                                "array's nbytes, a pandas frame's or series' "
                                                                "shallow memory_usage (object cells count as "
                                                                "pointers), sys.getsizeof of str/bytes/"
                                                                "bytearray. Absent or null: unknown.")
    summary: str = Field(default="", description="One short line, at most 240 characters.")
    columns: list[str] | None = Field(default=None, description="Column labels of rows.")
    rows: list[list[Any]] | None = Field(default=None, description="A corner of the data: at most 5 rows x 20 "
                                                                   "columns of JSON-safe cells.")
    truncated: bool = Field(default=False, description="The item shows only part of the value.")
    status: ItemStatus = "ok"
    error: str | None = Field(default=None, description="Why status is not ok.")
    pageable: bool = Field(default=False, description="preview_page_request can fetch more (true whenever the "
                                                      "type's previewer has a page function and the value "
                                                      "is not empty).")
    index: list[Any] | None = Field(default=None, description="Row labels of rows (tables).")
    extra: dict[str, Any] | None = Field(default=None, description="A previewer's own keys (e.g. bbox, crs), "
                                                                   "JSON-safe, at most 2,000 characters.")

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """The fields every ITEM starts from (what a previewer does not set)."""
        skip = {"name", "type", "module", *cls.omit_unset}
        return {n: f.default for n, f in cls.model_fields.items() if n not in skip}


class Item(Wire):
    """ITEM: one variable's preview as a mime bundle."""

    text_plain: str = Field(alias="text/plain")
    text_html: str = Field(alias="text/html", description="Escaped HTML: safe to insert.")
    preview: PreviewFields = Field(alias=PREVIEW_MIME)


class Snapshot(Wire):
    """``preview_watch``/``preview_snapshot`` return: the visible variables, sorted by name, from ``offset``."""

    variables: dict[str, Item]
    removed: list[str]
    seq: int = Field(description="Sequence number of the last update published before this snapshot.")
    full: bool
    offset: int = Field(description="Position of the first name in the sorted list of visible names.")
    total: int = Field(description="How many visible names there are.")
    more: bool = Field(description="Names follow this page: fetch them with preview_snapshot {offset}.")
    omitted: int = Field(description="How many names follow this page.")


class PreviewContent(Wire):
    """Content of the iopub ``preview`` message."""

    variables: dict[str, Item] = Field(description="New, rebound or mutated variables.")


class Removed(Wire):
    """Removed item names, by item type."""

    variables: list[str]


class PreviewMeta(Wire):
    """``metadata.beakerlike`` of the ``preview`` message."""

    removed: Removed
    seq: int = Field(description="Grows by one per published preview message.")
    full: bool = Field(description="True: replace the whole table.")
    more: bool = Field(description="Changed names were left out (message size caps): fetch preview_snapshot.")
    omitted: int = Field(description="How many changed names were left out.")


class PreviewMetadata(Wire):
    """Metadata of the iopub ``preview`` message."""

    beakerlike: PreviewMeta


class Unwatched(Wire):
    """``preview_unwatch`` return, engine-wide (not about the calling client)."""

    watching: bool = Field(description="Whether any watcher remains (any client, or an always-on context).")
    watchers: int = Field(description="How many watchers remain.")


class AttrStep(Wire):
    """A path step into an object's stored attribute (looked up statically, nothing evaluated)."""

    attr: str


PathStep = str | int | AttrStep


class Child(Wire):
    """One entry of a page's ``children``: what a tree view shows for a member."""

    name: str
    step: PathStep | None = Field(description="Append to path to page this child; null: not addressable.")
    type: str
    summary: str
    size: int | None
    expandable: bool


class Page(Wire):
    """``preview_page`` return (JSON rows)."""

    omit_unset: ClassVar[frozenset[str]] = frozenset({"unit", "children", "total_columns"})

    path: list[PathStep]
    offset: int
    limit: int = Field(description="Rows asked for after the caps (max_page_rows, 50,000 cells); fewer rows "
                                   "than this mean the end of the data.")
    total: int
    columns: list[str]
    rows: list[list[Any]]
    index: list[Any]
    total_columns: int | None = Field(default=None, description="Tables and 2-d arrays: all columns.")
    children: list[Child] | None = Field(default=None, description="Dicts, lists, tuples, sets, objects.")
    unit: Literal["lines", "chunks"] | None = Field(default=None, description="Text: rows are lines or chunks.")


class BinaryColumn(Wire):
    """One column of a binary page."""

    column: str
    dtype: str = Field(description="NumPy dtype string, e.g. <f8.")
    buffer: int | None = Field(description="Index of the buffer holding the values; null: fetch it as JSON.")


class BinaryPage(Wire):
    """``preview_page`` return with ``binary: true`` (also the ``preview_page_response`` content)."""

    path: list[PathStep]
    offset: int
    limit: int
    total: int
    total_columns: int
    columns: list[BinaryColumn]


# -- discovery ----------------------------------------------------------------------


class ActionInfo(Wire):
    """One entry of ``context_info``'s ``actions``."""

    docs: str
    schema_: dict[str, Any] = Field(alias="schema", description="JSON Schema of the request content.")
    default_payload: dict[str, Any]
    streaming: bool
    concurrent: bool
    main_thread: bool = Field(description="The handler runs on the kernel's main thread (waits for the cell).")
    timeout: float | None
    scope: Literal["public", "internal"]
    origin: str


class PluginErrorInfo(Wire):
    """One plugin failure."""

    plugin: str
    phase: str = Field(description="import, register, or the hook that raised.")
    error: str
    traceback: str
    count: int


class ActiveContext(Wire):
    """``context_info``'s ``context``: the active one."""

    name: str
    docs: str
    info: dict[str, Any] = Field(description="Its validated setup payload.")
    always_on: bool


class ContextEntry(Wire):
    """One entry of ``context_info``'s ``contexts``."""

    docs: str
    setup_schema: dict[str, Any]
    default_info: dict[str, Any]
    actions: list[str]
    previewers: list[str]
    always_on: bool


class ContextInfo(Wire):
    """``context_info`` and ``context_setup`` return (and ``context_setup_response``)."""

    omit_unset: ClassVar[frozenset[str]] = frozenset({"context", "contexts"})

    beakerlike_version: str
    protocol_version: str
    actions: dict[str, ActionInfo] = Field(description="Every action callable now.")
    plugin_errors: list[PluginErrorInfo]
    context: ActiveContext | None = None
    contexts: dict[str, ContextEntry] | None = None


class KernelInfoBeakerlike(Wire):
    """The ``beakerlike`` key of ``kernel_info_reply`` (JEP 92 feature ``beakerlike``)."""

    version: str
    protocol_version: str


class CancelResult(Wire):
    """``cancel_action`` return."""

    cancelled: bool = Field(description="Whether a running request with that msg_id was found and cancelled.")


class Deleted(Wire):
    """``delete_variable`` return."""

    deleted: str


# -- the comm binding (target "beakerlike"): comm_msg data -------------------------------------


class CommHello(Wire):
    """Sent once when a client opens a ``beakerlike`` comm."""

    beakerlike_version: str
    protocol_version: str
    features: list[str] = Field(description="e.g. actions, streaming, buffers, cancel, previews.")


class CommRequestBody(Wire):
    """One action call on the comm."""

    omit_unset: ClassVar[frozenset[str]] = frozenset({"payload"})

    id: str = Field(min_length=1, description="Chosen by the client, unique among its requests in flight.")
    action: str = Field(min_length=1)
    payload: dict[str, Any] = Field(default_factory=dict, description="The request content (default {}).")


class CommCancelBody(Wire):
    """Cancel one request of this comm."""

    id: str = Field(min_length=1)


class CommResponseBody(Wire):
    """One streamed response of a request."""

    id: str
    data: dict[str, Any] = Field(description="The <name>_response content.")


class CommOkReply(OkReply):
    """The ``ok`` reply of a comm request."""

    id: str


class CommErrorReply(ErrorReply):
    """The ``error`` reply of a comm request (``id`` null for a ProtocolError without a usable id)."""

    id: str | None


class CommAbortedReply(AbortedReply):
    """The ``aborted`` reply of a comm request."""

    id: str


CommReply = Annotated[CommOkReply | CommErrorReply | CommAbortedReply, Field(discriminator="status")]


class CommPreviewBody(Wire):
    """A preview update forwarded on the comm that watches."""

    variables: dict[str, Item]
    metadata: PreviewMetadata


class CommHelloMsg(Wire):
    """``{"hello": ...}``."""

    hello: CommHello


class CommRequestMsg(Wire):
    """``{"request": ...}``."""

    request: CommRequestBody


class CommCancelMsg(Wire):
    """``{"cancel": ...}``."""

    cancel: CommCancelBody


class CommResponseMsg(Wire):
    """``{"response": ...}``."""

    response: CommResponseBody


class CommReplyMsg(Wire):
    """``{"reply": ...}``."""

    reply: CommReply


class CommPreviewMsg(Wire):
    """``{"preview": ...}``."""

    preview: CommPreviewBody


#: ``comm_msg`` data a client sends on a ``beakerlike`` comm.
CommFromClient = CommRequestMsg | CommCancelMsg
#: ``comm_msg`` data the kernel sends on a ``beakerlike`` comm.
CommFromKernel = CommHelloMsg | CommResponseMsg | CommReplyMsg | CommPreviewMsg
#: Keys of comm envelopes, by direction.
COMM_KERNEL_KEYS = frozenset({"hello", "response", "reply", "preview"})


#: ``return`` of the built-in actions' ``ok`` replies.
BUILTIN_RETURNS: dict[str, Any] = {
    "context_info": ContextInfo,
    "context_setup": ContextInfo,
    "preview_watch": Snapshot,
    "preview_snapshot": Snapshot,
    "preview_unwatch": Unwatched,
    "preview_page": Page | BinaryPage,
    "cancel_action": CancelResult,
    "delete_variable": Deleted,
}
#: Content of the built-in actions' streamed responses.
BUILTIN_RESPONSES: dict[str, Any] = {
    "context_setup": ContextInfo,
    "preview_page": BinaryPage,
}

#: Standard Jupyter shell/control request names (their replies are not beakerlike messages).
JUPYTER_REQUESTS = frozenset({
    "execute", "inspect", "complete", "history", "is_complete", "connect", "comm_info", "kernel_info",
    "shutdown", "interrupt", "debug", "input", "usage", "create_subshell", "delete_subshell", "list_subshell",
})


# -- schema export ------------------------------------------------------------------


def _schema(model: Any, title: str, description: str) -> dict[str, Any]:
    from pydantic import TypeAdapter

    schema = TypeAdapter(model).json_schema(by_alias=True, mode="serialization")
    return {"$schema": SCHEMA_DIALECT, "$id": f"{title}.json", **schema, "title": title,
            "description": description}


def _builtin_request_schemas() -> dict[str, dict[str, Any]]:
    from .plugins import BUILTIN_PLUGINS, PluginHost

    host = PluginHost().load({"BEAKERLIKE_DISABLE_PLUGIN_AUTOLOAD": "1"})
    out = {}
    for name, act in sorted(host.actions.items()):
        if host.action_owner.get(name) in BUILTIN_PLUGINS:
            out[f"{name}_request"] = {"$schema": SCHEMA_DIALECT, "$id": f"{name}_request.json", **act.schema(),
                                      "title": f"{name}_request",
                                      "description": f"Content of {name}_request. {act.docs.splitlines()[0]}"}
    return out


def schemas() -> dict[str, dict[str, Any]]:
    """Every schema by file stem: ``reply``, ``item``, ``preview.content``, ``<action>_reply.return``..."""
    out: dict[str, dict[str, Any]] = {
        "reply": _schema(Reply, "reply", "Content of every <name>_reply: ok, error or aborted."),
        "ok_reply": _schema(OkReply, "ok_reply", "An ok reply."),
        "error_reply": _schema(ErrorReply, "error_reply", "An error reply."),
        "aborted_reply": _schema(AbortedReply, "aborted_reply", "An aborted reply."),
        "item": _schema(Item, "item", "ITEM: one variable's preview (a mime bundle)."),
        "preview.content": _schema(PreviewContent, "preview.content", "Content of the iopub preview message."),
        "preview.metadata": _schema(PreviewMetadata, "preview.metadata", "Metadata of the iopub preview message."),
        "comm.from_client": _schema(CommFromClient, "comm.from_client",
                                    "comm_msg data a client sends on a beakerlike comm: request or cancel."),
        "comm.from_kernel": _schema(CommFromKernel, "comm.from_kernel",
                                    "comm_msg data the kernel sends on a beakerlike comm: hello, response, reply, "
                                    "preview."),
        "kernel_info_reply.beakerlike": _schema(KernelInfoBeakerlike, "kernel_info_reply.beakerlike",
                                                "The beakerlike key of kernel_info_reply content."),
    }
    out.update(_builtin_request_schemas())
    for name, model in BUILTIN_RETURNS.items():
        out[f"{name}_reply.return"] = _schema(model, f"{name}_reply.return", f"return of an ok {name}_reply.")
    for name, model in BUILTIN_RESPONSES.items():
        out[f"{name}_response"] = _schema(model, f"{name}_response", f"Content of {name}_response.")
    return dict(sorted(out.items()))


def write_schemas(directory: Any) -> list[Any]:
    """Write every schema as ``DIR/<stem>.json`` (and remove stale ones); returns the paths written."""
    import json
    from pathlib import Path

    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    found = schemas()
    written = []
    for stem, schema in found.items():
        path = target / f"{stem}.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    for old in target.glob("*.json"):
        if old.stem not in found:
            old.unlink()
    return written
