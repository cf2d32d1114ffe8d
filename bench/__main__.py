"""``make bench``: run every benchmark, print the figures with their raw-library baselines, and
write them to bench/results.json.

Each bench module exposes ``run() -> list[dict]`` with figures shaped as
``{"name", "value", "unit", "baseline": {"name", "value"}, "ratio"}``, measured in one run.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import platform
import sys
import time
from pathlib import Path

MODULES = ("signing", "verification", "processing", "ocr")
#: Run only when named (minutes of seeding): ``python -m bench scale`` (make bench-scale),
#: ``python -m bench portal`` (the portal's aims on the demo data, with a real worker).
ON_REQUEST = ("scale", "portal")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Jalankan benchmark dan tulis bench/results.json.")
    parser.add_argument("only", nargs="*", help=f"hanya modul ini ({', '.join(MODULES + ON_REQUEST)})")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results.json"))
    args = parser.parse_args(argv)
    figures: list[dict] = []
    failures = 0
    for name in args.only or MODULES:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError:
            print(f"[{name}] tidak ada; dilewati")
            continue
        started = time.perf_counter()
        try:
            results = module.run()
        except Exception as exc:  # noqa: BLE001 - one broken bench must not hide the others
            failures += 1
            print(f"[{name}] GAGAL: {exc!r}", file=sys.stderr)
            continue
        for figure in results:
            figure.setdefault("bench", name)
        figures.extend(results)
        print(f"[{name}] {len(results)} angka dalam {time.perf_counter() - started:.1f} s")
    width = max((len(f["name"]) for f in figures), default=10)
    for f in figures:
        line = f"{f['name']:<{width}}  {f['value']:>12.4g} {f.get('unit', ''):<10}"
        baseline = f.get("baseline") or {}
        if baseline:
            line += f"  baseline {baseline.get('name')}: {baseline.get('value'):.4g}"
        if isinstance(f.get("ratio"), (int, float)):
            line += f"  ratio {f['ratio']:.3f}"
        print(line)
    # Figures of the benches not run this time are kept: the file holds the latest of each.
    ran = {f["bench"] for f in figures}
    if args.out.exists():
        with contextlib.suppress(ValueError, KeyError, TypeError):
            kept = [f for f in json.loads(args.out.read_text())["figures"] if f.get("bench") not in ran]
            figures = kept + figures
    args.out.write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(),
                                    "figures": figures}, indent=2, ensure_ascii=False, default=str))
    print(f"Ditulis: {args.out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
