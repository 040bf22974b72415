"""Which namespace names a cell can have changed, read from its code.

The preview engine only re-examines these candidates after a cell, so its cost
follows the cell, not the namespace. A cell is *opaque* when its code can bind
names we cannot see (``exec``, ``globals()``, ``import *``, magics, code that
does not parse); the engine then falls back to a full identity scan.
"""

from __future__ import annotations

import ast
import functools
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: Calls through which code can rebind arbitrary globals.
OPAQUE_CALLS = frozenset({"exec", "eval", "globals", "vars", "locals", "get_ipython", "setattr", "delattr",
                          "__import__", "execfile", "runpy"})


@dataclass(frozen=True)
class CellNames:
    """Names a cell binds (``stored``), may mutate (``touched``) and calls (``called``)."""

    stored: frozenset[str]
    touched: frozenset[str]
    called: frozenset[str]
    opaque: bool

    @property
    def candidates(self) -> frozenset[str]:
        """Every name the cell may have rebound, deleted or mutated."""
        return self.stored | self.touched | self.called


OPAQUE = CellNames(frozenset(), frozenset(), frozenset(), True)


def _base_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


class _Visitor(ast.NodeVisitor):
    def __init__(self) -> None:
        self.stored: set[str] = set()
        self.touched: set[str] = set()
        self.called: set[str] = set()
        self.opaque = False
        self.depth = 0  # > 0 inside function bodies

    def visit_Name(self, node: ast.Name) -> None:
        if self.depth == 0 and isinstance(node.ctx, (ast.Store, ast.Del)):
            self.stored.add(node.id)

    def _bind(self, node: ast.AST, name: str | None) -> None:
        # Names bound by a string field rather than a Name node: ``except E as name`` (deleted again after
        # the handler), ``case [a, *rest]``, ``case {**rest}``, ``case P() as name``.
        if name is not None and self.depth == 0:
            self.stored.add(name)
        self.generic_visit(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        self._bind(node, node.name)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        self._bind(node, node.name)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        self._bind(node, node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        self._bind(node, node.rest)

    def _store_into(self, node: ast.Attribute | ast.Subscript) -> None:
        # ``a[0] = ...``, ``del a.x``, and the same inside tuple, ``for``, ``with ... as`` and annotated targets.
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            base = _base_name(node)
            if base is not None:
                self.touched.add(base)
        self.generic_visit(node)

    visit_Attribute = _store_into
    visit_Subscript = _store_into

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        base = _base_name(node.target)
        if base is not None:
            (self.stored if self.depth == 0 and isinstance(node.target, ast.Name) else self.touched).add(base)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name):
            self.called.add(func.id)
            if func.id in OPAQUE_CALLS:
                self.opaque = True
        else:
            base = _base_name(func)
            if base is not None:
                self.touched.add(base)  # obj.method(...) may mutate obj
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            base = _base_name(arg)
            if base is not None:
                self.touched.add(base)
        self.generic_visit(node)

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                self.opaque = True
            elif self.depth == 0:
                self.stored.add(alias.asname or alias.name.split(".")[0])

    visit_Import = _import
    visit_ImportFrom = _import

    def visit_Global(self, node: ast.Global) -> None:
        self.stored.update(node.names)

    def _scope(self, node: ast.AST, name: str | None) -> None:
        if name is not None and self.depth == 0:
            self.stored.add(name)
        for deco in getattr(node, "decorator_list", []):
            self.visit(deco)
        self.depth += 1
        for child in ast.iter_child_nodes(node):
            if child not in getattr(node, "decorator_list", []):
                self.visit(child)
        self.depth -= 1

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._scope(node, node.name)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._scope(node, node.name)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scope(node, node.name)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._scope(node, None)


@functools.lru_cache(maxsize=512)
def analyze(code: str) -> CellNames:
    """Names the (already IPython-transformed) cell ``code`` can change; cached by text."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return OPAQUE
    v = _Visitor()
    try:
        v.visit(tree)
    except RecursionError:
        return OPAQUE
    return CellNames(frozenset(v.stored), frozenset(v.touched), frozenset(v.called), v.opaque)


def analyze_cell(raw: str, transform: Callable[[str], str] | None = None) -> CellNames:
    """Like :func:`analyze` for a raw cell, applying IPython's transform only if needed."""
    result = analyze(raw)
    if result is OPAQUE and transform is not None:
        try:
            code = transform(raw)
        except Exception:
            return OPAQUE
        return analyze(code)
    return result


def called_globals(names: frozenset[str], namespace: Mapping[str, Any], budget: int = 200) -> set[str]:
    """Global names read or written by user functions the cell calls or passes, transitively."""
    found: set[str] = set()
    todo = list(names)
    seen_code: set[int] = set()
    while todo and budget > 0:
        value = namespace.get(todo.pop())
        if type(value) is not types.FunctionType or value.__globals__ is not namespace:
            continue
        stack = [value.__code__]
        while stack and budget > 0:
            code = stack.pop()
            if id(code) in seen_code:
                continue
            seen_code.add(id(code))
            budget -= 1
            for name in code.co_names:
                if name not in found:
                    found.add(name)
                    todo.append(name)
            stack.extend(c for c in code.co_consts if type(c) is types.CodeType)
    return found
