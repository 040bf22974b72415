"""The two tutorials work verbatim: their files are written as shown and their commands give the shown output.

A fenced block with ``title="PATH"`` is a file to write; a ``console`` block holds ``$ command`` lines, each
followed by the lines it must print (each expected line is found, in order, within the output).
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs" / "tutorials"
FENCE = re.compile(r'^```(\w+)([^\n]*)\n(.*?)^```\s*$', re.S | re.M)
TITLE = re.compile(r'title="([^"]+)"')


def blocks(page: Path):
    """``("file", path, text)`` and ``("console", command, expected_lines)`` in page order."""
    for lang, info, body in FENCE.findall(page.read_text()):
        title = TITLE.search(info)
        if title:
            yield "file", title.group(1), body
        elif lang == "console":
            command, expected = None, []
            for line in body.splitlines():
                if line.startswith("$ "):
                    if command:
                        yield "console", command, expected
                    command, expected = line[2:], []
                elif line.strip():
                    expected.append(line.strip())
            if command:
                yield "console", command, expected


def run_page(page: Path, workdir: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BEAKERLIKE_", "PYTEST_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["BEAKERLIKE_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only what the tutorial loads (the dev venv has plugins installed)
    ran = []
    for kind, what, body in blocks(page):
        if kind == "file":
            target = workdir / what
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body)
            continue
        assignments = []
        words = shlex.split(what)
        while words and re.match(r"^[A-Z_]+=", words[0]):
            assignments.append(words.pop(0))
        proc = subprocess.run(words, cwd=workdir, capture_output=True, text=True, timeout=300,
                              env={**env, **dict(a.split("=", 1) for a in assignments)})
        output = (proc.stderr + proc.stdout).splitlines()  # stderr first: cell output printed before the result
        assert proc.returncode == 0, f"$ {what}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        position = 0
        for want in body:
            while position < len(output) and want not in output[position]:
                position += 1
            assert position < len(output), f"$ {what}: expected {want!r} (in order) in:\n" + "\n".join(output)
            position += 1
        ran.append(what)
    return ran


@pytest.mark.parametrize("page", ["first-plugin.md", "first-context.md"])
def test_tutorial_runs_verbatim(page, tmp_path):
    ran = run_page(DOCS / page, tmp_path)
    assert any(cmd.startswith("pytest") for cmd in ran) and any("beakerlike call" in cmd for cmd in ran)


def test_block_extraction():
    found = list(blocks(DOCS / "first-plugin.md"))
    assert [k for k, *_ in found] == ["file", "file", "console", "console", "console"]
    assert found[0][1] == "greet.py" and "@beakerlike.action" in found[0][2]
