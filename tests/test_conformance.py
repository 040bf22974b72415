"""jupyter_kernel_test's conformance suite against the installed ``beakerlike`` kernelspec.

Every standard test has its attribute filled, so none is skipped. ``"range"`` is left
out of the history operations: the stock ``python3`` kernel fails it the same way.
"""

from __future__ import annotations

import unittest

import jupyter_kernel_test as jkt
from jupyter_kernel_test.msgspec_v5 import validate_message

from beakerlike.kernelspec import KERNEL_NAME, install, is_installed

TIMEOUT = 15


def setUpModule() -> None:
    if not is_installed(KERNEL_NAME):
        install()


class BeakerlikeKernelTests(jkt.KernelTests):
    kernel_name = KERNEL_NAME
    language_name = "python"
    file_extension = ".py"

    code_hello_world = "print('hello, world')"
    code_stderr = "import sys; print('test', file=sys.stderr)"

    completion_samples = [{"text": "zi", "matches": {"zip"}}]
    complete_code_samples = ["1", "print('hello, world')", "def f(x):\n  return x*2\n\n\n"]
    incomplete_code_samples = ["print('''hello", "def f(x):\n  x*2"]
    invalid_code_samples = ["import = 7q"]

    code_page_something = "zip?"
    code_generate_error = "raise ValueError('conformance')"

    code_execute_result = [
        {"code": "1+2+3", "result": "6"},
        {"code": "[n*n for n in range(1, 4)]", "result": "[1, 4, 9]"},
    ]
    code_display_data = [
        {"code": "from IPython.display import HTML, display; display(HTML('<b>test</b>'))", "mime": "text/html"},
        {"code": "from IPython.display import Math, display; display(Math('\\\\frac{1}{2}'))", "mime": "text/latex"},
    ]

    code_history_pattern = "1?2*"
    supported_history_operations = ("tail", "search")

    code_inspect_sample = "zip"
    code_clear_output = "from IPython.display import clear_output; clear_output()"

    def test_action_request_round_trip(self) -> None:
        """A custom request through the same blocking client: reply plus busy/idle, all parented."""
        self.flush_channels()
        msg = self.kc.session.msg("context_info_request", {})
        self.kc.shell_channel.send(msg)
        msg_id = msg["header"]["msg_id"]
        reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        self.assertEqual(reply["header"]["msg_type"], "context_info_reply")
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertIn("context_info", reply["content"]["return"]["actions"])
        states = []
        while "idle" not in states:
            status = self.kc.get_iopub_msg(timeout=TIMEOUT)
            if status["header"]["msg_type"] != "status":
                continue
            validate_message(status, "status", msg_id)
            states.append(status["content"]["execution_state"])
        self.assertEqual(states, ["busy", "idle"])

    def test_kernel_info_advertises_beakerlike(self) -> None:
        self.flush_channels()
        msg_id = self.kc.kernel_info()
        reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        validate_message(reply, "kernel_info_reply", msg_id)
        self.assertIn("beakerlike", reply["content"]["supported_features"])


class BeakerlikeIopubWelcomeTests(jkt.IopubWelcomeTests):
    kernel_name = KERNEL_NAME
    support_iopub_welcome = True


if __name__ == "__main__":
    unittest.main()
