"""Re-create the real-scan calibration images from public repository snapshots, checking sha256.

``python -m bench.real.materialize [--mirror /work/.mirror] [--out bench/real/images]``

The images show real people's identity documents, so they are never committed: the manifest
only says where each one lives (repository, commit, path, git blob id, sha256). Each snapshot
must already be on disk as a bare git directory at ``MIRROR/<owner>+<name>/repo`` (or
``repo/.git``); in an agent session the search tool's ``fetch github:<owner>/<name>`` puts it
there, elsewhere ``git clone --mirror https://github.com/<owner>/<name> MIRROR/<owner>+<name>/repo``
does. A blob is read with ``git show <commit>:<path>``, then ``HEAD:<path>``, then by its blob
id (paths holding a NIK are redacted in the manifest), then from the ``also_at`` copies; it is
written only when its sha256 matches.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

__all__ = ["DEFAULT_IMAGES", "DEFAULT_MANIFEST", "DEFAULT_MIRROR", "fetch_hint", "main",
           "materialize", "repositories"]

HERE = Path(__file__).resolve().parent
DEFAULT_MANIFEST = HERE / "manifest.json"
DEFAULT_IMAGES = HERE / "images"
DEFAULT_MIRROR = Path("/work/.mirror")


def _gitdir(mirror: Path, repo: str) -> Path:
    base = mirror / repo.replace("/", "+", 1) / "repo"
    return base / ".git" if (base / ".git").is_dir() else base


def _git(gitdir: Path, *args: str) -> bytes | None:
    proc = subprocess.run(["git", "--git-dir", str(gitdir), *args], capture_output=True,
                          check=False)
    return proc.stdout if proc.returncode == 0 else None


def _locations(entry: dict) -> list[dict]:
    return [entry, *entry.get("also_at", [])]


def repositories(images: Iterable[dict]) -> dict[str, str]:
    """Every repository the manifest names (primary or copy) with its snapshot commit."""
    repos: dict[str, str] = {}
    for entry in images:
        for loc in _locations(entry):
            repos.setdefault(loc["source_repo"], loc["commit"])
    return repos


def _blob(mirror: Path, entry: dict) -> bytes | None:
    for loc in _locations(entry):
        gitdir = _gitdir(mirror, loc["source_repo"])
        if not gitdir.exists():
            continue
        revs = [f"{loc['commit']}:{loc['path']}", f"HEAD:{loc['path']}"] if loc.get("path") else []
        attempts = [("show", rev) for rev in revs]
        if entry.get("blob"):
            attempts.append(("cat-file", entry["blob"]))
        for command, rev in attempts:
            args = ("show", rev) if command == "show" else ("cat-file", "blob", rev)
            data = _git(gitdir, *args)
            if data is not None and hashlib.sha256(data).hexdigest() == entry["sha256"]:
                return data
    return None


def materialize(images: list[dict], out: Path, mirror: Path = DEFAULT_MIRROR) -> list[str]:
    """Write every image of the manifest into ``out``; the files that could not be found."""
    out.mkdir(parents=True, exist_ok=True)
    missing = []
    for entry in images:
        dest = out / entry["file"]
        if dest.exists() and hashlib.sha256(dest.read_bytes()).hexdigest() == entry["sha256"]:
            continue
        data = _blob(mirror, entry)
        if data is None:
            missing.append(entry["file"])
            continue
        dest.write_bytes(data)
    return missing


def fetch_hint(images: list[dict], mirror: Path = DEFAULT_MIRROR) -> str:
    """How to bring the missing snapshots onto the machine, in words."""
    lines = ["Fetch these repository snapshots first (in an agent session: the `fetch` tool,",
             "`fetch github:<owner>/<name>`; elsewhere `git clone --mirror",
             f"https://github.com/<owner>/<name> {mirror}/<owner>+<name>/repo`), then run",
             "`python -m bench.real.materialize`:"]
    for repo, commit in sorted(repositories(images).items()):
        state = "present" if _gitdir(mirror, repo).exists() else "missing"
        lines.append(f"  {repo}  (snapshot {commit[:12]}, {state})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR)
    parser.add_argument("--out", type=Path, default=DEFAULT_IMAGES)
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    args = parser.parse_args(argv)
    images = json.loads(args.manifest.read_text())["images"]
    missing = materialize(images, args.out, args.mirror)
    print(f"{len(images) - len(missing)} present and verified in {args.out}, {len(missing)} missing")
    if missing:
        print(fetch_hint(images, args.mirror), file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
