"""Checks import-linter cannot: no import cycles among the project's modules, and no import
inside a function unless its line says why (a comment), as optional dependencies do."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import grimp

PACKAGES = ("pengesahan", "admin", "processing", "signing")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    graph = grimp.build_graph(*PACKAGES)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def imports_in_functions() -> list[str]:
    """``path:line`` of each import inside a function whose line carries no comment."""
    problems = []
    for package in (*PACKAGES, "app.py"):
        paths = [ROOT / package] if package.endswith(".py") else sorted((ROOT / package).rglob("*.py"))
        for path in paths:
            source = path.read_text()
            lines = source.splitlines()
            for node in ast.walk(ast.parse(source)):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Import | ast.ImportFrom) and not _explained(lines, inner.lineno):
                        problems.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    return sorted(set(problems))


def _explained(lines: list[str], lineno: int) -> bool:
    """A comment on the import's line, or in the comment block just above its statement group."""
    index = lineno - 1
    if "#" in lines[index]:
        return True
    while index > 0:
        index -= 1
        stripped = lines[index].strip()
        if "#" in stripped:
            return True
        if not (stripped.startswith(("from ", "import ", "try:", ")")) or stripped.endswith(",")):
            return False
    return False


def main() -> int:
    found = cycles()
    for component in found:
        print("import cycle:", " <-> ".join(component))
    inside = imports_in_functions()
    for place in inside:
        print(f"{place}: import inside a function without a comment saying why (optional dependency?)")
    return 1 if found or inside else 0


if __name__ == "__main__":
    sys.exit(main())
