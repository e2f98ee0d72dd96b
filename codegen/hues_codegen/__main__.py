"""python3 -m hues_codegen --spec docs/openapi.yaml --target python --out build/gen/python

Targets are modules in hues_codegen/targets/; `--target ir` prints the IR as JSON. Files
are rewritten only when their text changes, so the build stays incremental."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from . import ir
from .render import Output


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="hues_codegen")
    ap.add_argument("--spec", type=Path, default=Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml")
    ap.add_argument("--target", required=True, help="ir, or a module of hues_codegen.targets")
    ap.add_argument("--out", type=Path, help="output directory (not for ir)")
    ap.add_argument("--stamp", type=Path, help="file touched after a successful run (for build systems)")
    args = ap.parse_args(argv)
    try:
        model = ir.build(args.spec)
    except ir.SpecError as e:
        print(f"hues_codegen: {args.spec}: {e}", file=sys.stderr)
        return 2
    if args.target == "ir":
        json.dump(model, sys.stdout, indent=1, ensure_ascii=False)
        print()
        return 0
    if args.out is None:
        ap.error("--out is required")
    target = importlib.import_module(f".targets.{args.target}", __package__)
    out = Output(args.out)
    target.generate(model, out)
    out.finish()
    if args.stamp:
        args.stamp.parent.mkdir(parents=True, exist_ok=True)
        args.stamp.write_text(model["spec_hash"] + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
