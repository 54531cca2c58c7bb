"""The Lambda layer as `sam build` makes it: its size unzipped and zipped, and what takes the room (prints
figures, asserts nothing).

The layer is built by its own Makefile (layers/odr/Makefile, the target `sam build` runs), into
build/bench/layer unless told another folder. ``--layer DIR`` measures a layer built elsewhere (e.g. an older
`sam build`'s .aws-sam/build/OdrLayer), without building.

Run: .venv/bin/python bench/layer_size.py [--layer DIR] [--platform manylinux2014_aarch64]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "bench"
LAYER_SOURCE = ROOT / "layers" / "odr"


def build_layer(dest: Path = OUT / "layer", platform: str = "manylinux2014_x86_64") -> Path:
    """Build the layer afresh into ``dest`` (ARTIFACTS_DIR); returns ``dest``, whose ``python/`` is /opt/python."""
    shutil.rmtree(dest, ignore_errors=True)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        ["make", "-s", "-C", str(LAYER_SOURCE), "build-OdrLayer", f"ARTIFACTS_DIR={dest}", f"PLATFORM={platform}"],
        env=env,
        text=True,
        capture_output=True,  # pip's warnings about the machine's own indexes; shown if the build fails
    )
    if done.returncode:
        raise RuntimeError(f"the layer's build failed:\n{done.stdout}{done.stderr}")
    return dest


def _files(layer: Path) -> list[Path]:
    return [p for p in sorted(layer.rglob("*")) if p.is_file()]


def zipped_bytes(layer: Path) -> int:
    """The size of the layer's zip, deflated as `sam build`/`sam deploy` packs it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in _files(layer):
            archive.write(path, path.relative_to(layer).as_posix())
    return buffer.tell()


def measure(layer: Path) -> dict[str, object]:
    """Size unzipped and zipped (MB), and the largest top-level entries of /opt/python."""
    files = _files(layer)
    top: dict[str, int] = {}
    for path in files:
        parts = path.relative_to(layer).parts
        name = parts[1] if len(parts) > 2 and parts[0] == "python" else parts[0]
        top[name] = top.get(name, 0) + path.stat().st_size
    largest = sorted(top.items(), key=lambda kv: -kv[1])[:8]
    sdk = sorted(n for n in top if n in ("boto3", "botocore", "s3transfer"))
    return {
        "unzipped_mb": round(sum(p.stat().st_size for p in files) / 1e6, 1),
        "zipped_mb": round(zipped_bytes(layer) / 1e6, 1),
        "aws_sdk_in_layer": sdk,
        "largest_mb": {name: round(size / 1e6, 1) for name, size in largest},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layer", type=Path, help="an already built layer (the folder holding python/)")
    parser.add_argument("--platform", default="manylinux2014_x86_64")
    args = parser.parse_args()
    layer = args.layer or build_layer(platform=args.platform)
    figures = measure(layer)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "layer_size.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"layer: {figures['unzipped_mb']} MB unzipped, {figures['zipped_mb']} MB zipped")
    print(f"AWS SDK in the layer: {', '.join(figures['aws_sdk_in_layer']) or 'none (the runtime provides it)'}")  # type: ignore[arg-type]
    print("largest:", ", ".join(f"{k} {v} MB" for k, v in figures["largest_mb"].items()))  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
