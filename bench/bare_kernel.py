"""The baseline for the streaming benchmark: stock IPythonKernel plus raw shell handlers.

``bench_stream_request`` publishes ``n`` iopub messages with ``session.send`` and
replies, the least any framework could do; beakerlike's action must keep up with it.
"""

from __future__ import annotations

from typing import Any

from ipykernel.ipkernel import IPythonKernel


class BareKernel(IPythonKernel):
    """IPythonKernel with hand-written ``bench_stream_request`` and ``bench_noop_request`` handlers."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shell_handlers["bench_stream_request"] = self.bench_stream_request
        self.shell_handlers["bench_noop_request"] = self.bench_noop_request

    async def bench_stream_request(self, stream: Any, ident: Any, parent: dict[str, Any]) -> None:
        """Publish ``content["n"]`` ``bench_stream_response`` messages, then reply."""
        session, iopub, topic = self.session, self.iopub_socket, self._topic("bench_stream_response")
        for i in range(int(parent["content"].get("n", 0))):
            session.send(iopub, "bench_stream_response", {"i": i}, parent=parent, ident=topic)
        session.send(stream, "bench_stream_reply", {"status": "ok", "return": None}, parent, ident=ident)

    async def bench_noop_request(self, stream: Any, ident: Any, parent: dict[str, Any]) -> None:
        """Reply at once."""
        session = self.session
        session.send(stream, "bench_noop_reply", {"status": "ok", "return": None}, parent, ident=ident)
