"""Built-in plugin: ``cancel_action`` stops one running or queued action without interrupting the cell."""

from __future__ import annotations

from typing import Any

from ..actions import action


@action
async def cancel_action(req, msg_id: str) -> dict[str, Any]:
    """Cancel the action request whose ``header.msg_id`` is ``msg_id``.

    The cancelled request replies ``aborted`` with reason ``"cancelled"``. Returns
    ``{"cancelled": true}`` if it was queued or running, ``{"cancelled": false}`` if no
    such request is in flight (unknown, already finished, or a running ``main_thread``
    ``def`` handler, which only an interrupt can stop). The running cell is not touched.
    """
    cancel = getattr(req.kernel, "cancel_action", None)
    return {"cancelled": bool(cancel(msg_id, "cancelled")) if cancel is not None else False}
