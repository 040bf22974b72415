"""Hypothesis fuzzing against a real kernel: every signed action request gets exactly one reply, the kernel lives.

Two fuzzers share one kernel (with the example plugins ``beakerlike-jobs``, ``beakerlike-varstore`` and the
``data`` context loaded, as installed by ``dev.py``):

- **payloads**: batches of well-formed requests for every callable action (built-in, plugins, the ``data``
  context's) with payloads built from each action's schema (right and wrong types, unknown keys, odd strings);
- **wire**: raw signed messages whose header, content, metadata and buffers are arbitrary bytes or hostile JSON
  (content not JSON, nested 100,000 deep, lone surrogates, non-string ``msg_type``).

Both are bounded in examples and time. After each batch every request that carries a usable header must have
exactly one reply and one ``idle`` (a request still running after a while is interrupted, then it must reply
``aborted``); no reply may arrive twice; the kernel process must still answer ``kernel_info``.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any

import pytest
import zmq
from hypothesis import HealthCheck, Phase, given, reject, settings
from hypothesis import strategies as st
from jupyter_client.manager import KernelManager
from jupyter_client.session import Session

from beakerlike import protocol
from beakerlike.kernelspec import KERNEL_NAME, install, is_installed

#: Examples per fuzzer; each example is a batch of requests. Bounded in time too (see _settings).
EXAMPLES = int(os.environ.get("BEAKERLIKE_FUZZ_EXAMPLES", "40"))
#: Seconds a batch may take before its running requests are interrupted (wire requests are all quick).
BATCH_WAIT = 15.0
WIRE_WAIT = 3.0
#: Seconds each fuzzer may run; later examples are skipped.
TIME_BUDGET = float(os.environ.get("BEAKERLIKE_FUZZ_SECONDS", "120"))

# No shrinking: each failing example costs a batch timeout, so shrinking would be unbounded in time; the first
# failing batch is reported as generated.
_settings = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                     phases=(Phase.explicit, Phase.reuse, Phase.generate),
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                            HealthCheck.data_too_large, HealthCheck.filter_too_much])


class RawKernel:
    """A real beakerlike kernel plus raw sockets: a DEALER on shell, a SUB on iopub, signing by hand."""

    def __init__(self, tmp: str) -> None:
        if not is_installed(KERNEL_NAME):
            install()
        env = {**os.environ, "HOME": tmp, "BEAKERLIKE_VARSTORE": os.path.join(tmp, "fuzz.sqlite"),
               "BEAKERLIKE_VARSTORE_ROOT": tmp}
        self.km = KernelManager(kernel_name=KERNEL_NAME)
        self.km.start_kernel(env=env, cwd=tmp)
        info = self.km.get_connection_info()
        self.session = Session(key=info["key"], signature_scheme=info["signature_scheme"])
        self.ctx = zmq.Context()
        url = f"{info['transport']}://{info['ip']}:"
        self.shell = self.ctx.socket(zmq.DEALER)
        self.shell.linger = 0
        self.shell.connect(url + str(info["shell_port"]))
        self.iopub = self.ctx.socket(zmq.SUB)
        self.iopub.linger = 0
        self.iopub.setsockopt(zmq.SUBSCRIBE, b"")
        self.iopub.connect(url + str(info["iopub_port"]))
        self.poller = zmq.Poller()
        self.poller.register(self.shell, zmq.POLLIN)
        self.poller.register(self.iopub, zmq.POLLIN)
        #: Per request msg_id: replies and idle statuses seen.
        self.replies: dict[str, list[dict[str, Any]]] = {}
        self.idles: dict[str, int] = {}
        deadline = time.monotonic() + 60
        while True:  # SUB connects asynchronously: wait until a kernel_info's idle arrives
            msg_id = self.send_json("kernel_info_request", {})
            if self.wait([msg_id], 1.0):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("kernel did not answer kernel_info_request")

    # -- sending -------------------------------------------------------------------------------------------
    def send_frames(self, header: bytes, content: bytes, metadata: bytes = b"{}", parent: bytes = b"{}",
                    buffers: list[bytes] | None = None) -> None:
        """Send one message made of raw frames, correctly signed."""
        frames = [header, parent, metadata, content]
        self.shell.send_multipart([b"<IDS|MSG>", self.session.sign(frames), *frames, *(buffers or [])])

    def header(self, msg_type: Any, msg_id: str | None = None, **extra: Any) -> tuple[str, dict[str, Any]]:
        """A header dict (as ``Session.msg_header`` makes it) with ``msg_type`` as given."""
        msg_id = msg_id or uuid.uuid4().hex
        head = {"msg_id": msg_id, "msg_type": msg_type, "username": "fuzz", "session": self.session.session,
                "date": "2026-01-01T00:00:00.000000Z", "version": "5.3", **extra}
        return msg_id, head

    def send_json(self, msg_type: str, content: Any, buffers: list[bytes] | None = None) -> str:
        """Send a well-formed request with ``content``; returns its msg_id."""
        msg_id, head = self.header(msg_type)
        self.send_frames(json.dumps(head).encode(), json.dumps(content).encode(), buffers=buffers)
        return msg_id

    # -- receiving -----------------------------------------------------------------------------------------
    def pump(self, timeout: float) -> None:
        """Read whatever arrives within ``timeout`` seconds."""
        events = dict(self.poller.poll(int(timeout * 1000)))
        while events:
            for sock in (self.shell, self.iopub):
                if sock in events:
                    _, frames = self.session.feed_identities(sock.recv_multipart())
                    msg = self.session.deserialize(frames, content=True)
                    parent = msg["parent_header"].get("msg_id", "")
                    if sock is self.shell:
                        self.replies.setdefault(parent, []).append(msg)
                    elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                        self.idles[parent] = self.idles.get(parent, 0) + 1
            events = dict(self.poller.poll(0))

    def done(self, msg_id: str) -> bool:
        return bool(self.replies.get(msg_id)) and self.idles.get(msg_id, 0) > 0

    def wait(self, msg_ids: list[str], timeout: float) -> bool:
        """Pump until every request in ``msg_ids`` has its reply and idle, or ``timeout``."""
        deadline = time.monotonic() + timeout
        while not all(self.done(m) for m in msg_ids):
            if time.monotonic() > deadline:
                return False
            self.pump(0.05)
        return True

    def settle(self, msg_ids: list[str], wait: float) -> list[str]:
        """Wait for ``msg_ids``; interrupt what still runs, then wait again. Returns the ones without a reply."""
        if not self.wait(msg_ids, wait):
            self.km.interrupt_kernel()
            self.wait(msg_ids, wait)
        self.pump(0.1)  # a duplicate reply would arrive right after the first
        return [m for m in msg_ids if not self.done(m)]

    def alive(self) -> bool:
        """The process runs and answers ``kernel_info_request``."""
        return self.km.is_alive() and self.wait([self.send_json("kernel_info_request", {})], 30)

    def close(self) -> None:
        self.ctx.destroy(linger=0)
        self.km.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def raw_kernel(tmp_path_factory: pytest.TempPathFactory):
    k = RawKernel(str(tmp_path_factory.mktemp("fuzz")))
    try:
        yield k
    finally:
        k.close()


def _actions(k: RawKernel) -> dict[str, dict[str, Any]]:
    """Every action callable in the default and the ``data`` context, with its JSON schema."""
    msg_id = k.send_json("context_info_request", {})
    assert k.wait([msg_id], 30)
    info = k.replies[msg_id][0]["content"]["return"]
    actions = dict(info["actions"])
    msg_id = k.send_json("context_setup_request", {"context": "data"})
    assert k.wait([msg_id], 30)
    actions.update(k.replies[msg_id][0]["content"]["return"]["actions"])
    k.wait([k.send_json("context_setup_request", {"context": "default"})], 30)
    return actions


# -- strategies ------------------------------------------------------------------------------------------------

#: Text that stresses encoders: lone surrogates, NUL, RTL marks, emoji, HTML, path tricks.
ODD_TEXT = st.sampled_from(["", "\ud800", "a\udfffb", "\x00", "\u202e", "😀", "<script>", "../..", "__builtins__",
                            "df", "x" * 1000, "In", "_", "-1", "1e309"])
TEXT = st.one_of(st.text(max_size=12), ODD_TEXT)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 30), st.integers(), TEXT,
                    st.floats(min_value=-1, max_value=0.05), st.just(float("nan")))
JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(TEXT, inner, max_size=4)), max_leaves=12)
#: Values for fields that name files: kept inside the kernel's temporary directory.
STORES = st.sampled_from([None, "fz.sqlite", "sub/fz.sqlite", "", ".", "not-a-db.txt", "sqlite:///fz2.sqlite"])
#: Values for fields whose size drives work (steps, delays, chunk sizes): never a memory or time bomb.
SMALL = st.one_of(st.integers(-2, 5), st.floats(min_value=-1, max_value=0.02), st.none(), TEXT)
WORK_FIELDS = {"steps", "delay", "chunk_bytes", "limit", "sample_rows", "max_page_rows"}
#: Data for context/preview paths: a few real names, keys, indexes and attribute steps.
STEPS = st.one_of(st.integers(-2, 3), TEXT, st.fixed_dictionaries({"attr": TEXT}), JSON)


@st.composite
def payloads(draw: st.DrawFn, schema: dict[str, Any]) -> Any:
    """A payload for an action: mostly its own fields with random values, sometimes anything at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON)
    props = list((schema.get("properties") or {}).keys())
    keys = draw(st.lists(st.sampled_from(props), unique=True)) if props else []
    out: dict[str, Any] = {}
    for key in keys:
        if key in WORK_FIELDS:
            out[key] = draw(SMALL)
        elif key == "store":
            out[key] = draw(STORES)
        elif key == "path":
            out[key] = draw(st.one_of(st.lists(STEPS, max_size=4), JSON))
        else:
            out[key] = draw(JSON)
    if draw(st.integers(0, 4)) == 0:
        out[draw(TEXT)] = draw(JSON)  # an unknown key
    return out


SETUP_CELL = ("import numpy as np, pandas as pd\ndf = pd.DataFrame({'a': range(5), 'b': list('abcde')})\n"
              "arr = np.arange(6).reshape(2, 3)\nnested = {'k': [1, {'d': 2}]}\ntext = 'one\\ntwo'\n")


class Budget:
    """Skips new examples after ``TIME_BUDGET`` seconds (but never the replay of a failing one)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.failed = False

    def check(self) -> None:
        if not self.failed and self.elapsed > TIME_BUDGET:
            reject()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


def _run_batch(k: RawKernel, sent: list[str], wait: float = BATCH_WAIT) -> None:
    missing = k.settle(sent, wait)
    dupes = {m: len(k.replies[m]) for m in sent if len(k.replies.get(m, [])) > 1}
    assert not missing, f"no reply/idle for {len(missing)} of {len(sent)} requests"
    assert not dupes, f"duplicate replies: {dupes}"
    for m in sent:
        content = k.replies[m][0]["content"]
        assert content["status"] in ("ok", "error", "aborted"), content


def test_fuzz_action_payloads(raw_kernel: RawKernel) -> None:
    k = raw_kernel
    run = k.send_json("execute_request", {"code": SETUP_CELL, "silent": False, "store_history": False,
                                          "user_expressions": {}, "allow_stdin": False, "stop_on_error": False})
    assert k.wait([run], 60)
    actions = _actions(k)
    for expected in ("run_job", "cancel_job", "list_jobs", "save_var", "load_var", "list_vars", "page_rows",
                     "describe_dataframe", "list_frames", "preview_page", "delete_variable", "context_setup"):
        assert expected in actions, sorted(actions)
    names = sorted(actions)
    batches = st.lists(st.sampled_from(names).flatmap(
        lambda n: st.tuples(st.just(n), payloads(actions[n].get("schema") or {}))), min_size=1, max_size=6)
    budget = Budget()

    @_settings
    @given(batch=batches)
    def fuzz(batch: list[tuple[str, Any]]) -> None:
        budget.check()
        sent = [k.send_json(protocol.request_type(name), payload) for name, payload in batch]
        try:
            _run_batch(k, sent)
        except BaseException:
            budget.failed = True
            raise

    fuzz()
    assert k.alive(), "the kernel died"
    print(f"payload fuzz: {EXAMPLES} batches over {len(names)} actions in {budget.elapsed:.1f} s")


# -- wire --------------------------------------------------------------------------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000
#: Content that is valid JSON (any value, strings with escaped lone surrogates included).
JSON_CONTENTS = st.one_of(
    st.sampled_from([b"{}", b"[]", b"null", b"42", b'"text"', b'{"name": "\\ud800"}', b'{"\\ud800": 1}',
                     b'{"path": ["\\udc80"]}', b'{"a": NaN}']),
    JSON.map(lambda v: json.dumps(v).encode()),
)
#: Frames that are not JSON at all, or JSON too deep to parse (issue 11 items 1, 2).
BROKEN_CONTENTS = st.one_of(st.sampled_from([b"{not json", DEEP, b"\xff\xfe", b"", b"{" * 5000]),
                            st.binary(max_size=40))
MSG_TYPES = st.one_of(
    st.sampled_from(["context_info_request", "preview_page_request", "list_jobs_request", "fz_nope_request",
                     "_request", "x_request_request", "delete_variable_request"]),
    st.from_regex(r"\Afz_[a-z_]{0,12}_request\Z"),
)
#: Header fields with lone surrogates (issue 11 item 3).
SURROGATE_HEADERS = st.one_of(st.fixed_dictionaries({"msg_type": st.sampled_from(["\ud800_request",
                                                                                   "a\udfff_request"])}),
                              st.fixed_dictionaries({"msg_type": MSG_TYPES, "session": st.just("\ud800")}))
BAD_MSG_TYPES = st.one_of(st.none(), st.integers(), st.lists(st.integers(), max_size=2),
                          st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))

Wire = tuple[dict[str, Any] | None, bytes, bytes, list[bytes], bool]


@st.composite
def wire_messages(draw: st.DrawFn, broken: bool) -> Wire:
    """``(header fields or None for a non-JSON header, content, metadata, buffers, expects_reply)``.

    ``broken`` adds what only the kernel's message parsing can answer: frames that are not JSON
    and headers with lone surrogates.
    """
    kind = draw(st.integers(0, 9))
    if kind == 0:  # a header that is not a JSON object at all: nothing to reply to
        return None, draw(JSON_CONTENTS), b"{}", [], False
    if kind == 1:  # msg_type not a string: nothing to reply to, the kernel carries on
        return {"msg_type": draw(BAD_MSG_TYPES)}, draw(JSON_CONTENTS), b"{}", [], False
    buffers = draw(st.lists(st.binary(max_size=16), max_size=2))
    extra = {"session": draw(st.sampled_from(["", "s" * 500, "😀"]))} if draw(st.booleans()) else {}
    if not broken:
        return {"msg_type": draw(MSG_TYPES), **extra}, draw(JSON_CONTENTS), b"{}", buffers, True
    head = draw(st.one_of(SURROGATE_HEADERS, st.fixed_dictionaries({"msg_type": MSG_TYPES})))
    content = draw(st.one_of(BROKEN_CONTENTS, JSON_CONTENTS))
    return {**extra, **head}, content, b"{}", buffers, True


def _fuzz_wire(k: RawKernel, broken: bool) -> None:
    budget = Budget()

    @_settings
    @given(batch=st.lists(wire_messages(broken), min_size=1, max_size=6))
    def fuzz(batch: list[Wire]) -> None:
        budget.check()
        sent = []
        for head, content, metadata, buffers, expects_reply in batch:
            if head is None:
                k.send_frames(b"\xff not a header", content, metadata, buffers=buffers)
                continue
            fields = dict(head)
            msg_id, header = k.header(fields.pop("msg_type"), **fields)
            k.send_frames(json.dumps(header).encode(), content, metadata, buffers=buffers)
            if expects_reply:
                sent.append(msg_id)
        try:
            _run_batch(k, sent, wait=WIRE_WAIT)
            assert k.alive(), "the kernel died"
        except BaseException:
            budget.failed = True
            raise

    fuzz()
    print(f"wire fuzz ({'broken' if broken else 'JSON'} frames): {budget.elapsed:.1f} s")


def test_fuzz_wire(raw_kernel: RawKernel) -> None:
    """Arbitrary JSON content, metadata and buffers, odd sessions, non-string msg_types."""
    _fuzz_wire(raw_kernel, broken=False)


def test_fuzz_wire_broken_frames(raw_kernel: RawKernel) -> None:
    """Content that is not JSON (or 100,000 deep), lone surrogates in msg_type and session (issue 11 items 1-3)."""
    _fuzz_wire(raw_kernel, broken=True)


@pytest.mark.xfail(strict=True, reason="found by the fuzzer: a signed action request whose metadata or "
                   "parent_header frame is not JSON gets no reply (kernel.route_shell_message logs it only); "
                   "to be fixed in the kernel's message parsing -- remove this marker then")
@pytest.mark.parametrize("frame", ["metadata", "parent"])
def test_signed_request_with_a_broken_metadata_or_parent_frame_gets_a_reply(raw_kernel: RawKernel,
                                                                           frame: str) -> None:
    msg_id, header = raw_kernel.header("context_info_request")
    broken = {"metadata": b"{{{", "parent": b"{}"} if frame == "metadata" else {"metadata": b"{}", "parent": b"\xff"}
    raw_kernel.send_frames(json.dumps(header).encode(), b"{}", **broken)
    assert raw_kernel.settle([msg_id], WIRE_WAIT) == []
