"""Writes hues/_core.pyi: usage: gen_stubs.py <built _core module> <template> <output>.

The model classes are generated from each model's __hues_fields__ (which the binding builds
from the X-macro field lists), so the stubs follow hues/models.h without a hand-kept copy.
"""
import importlib.util
import sys

module_path, template_path, out_path = sys.argv[1:4]
spec = importlib.util.spec_from_file_location("hues._core", module_path)
core = importlib.util.module_from_spec(spec)
spec.loader.exec_module(core)

blocks = []
for name in dir(core):
    cls = getattr(core, name)
    fields = getattr(cls, "__hues_fields__", None)
    if fields is None:
        continue
    kwargs = ", ".join(f"{f}: {t} = ..." for f, t in fields)
    lines = [f"class {name}:"]
    lines += [f"    {f}: {t}" for f, t in fields]
    lines += [
        f"    __hues_fields__: tuple[tuple[str, str], ...]",
        f"    def __init__(self, *, {kwargs}) -> None: ...",
        f"    @staticmethod",
        f"    def from_dict(d: dict[str, Any]) -> {name}: ...",
        f"    def to_dict(self) -> dict[str, Any]: ...",
        f"    def __copy__(self) -> {name}: ...",
        f"    def __deepcopy__(self, memo: Any) -> {name}: ...",
    ]
    blocks.append("\n".join(lines))

with open(template_path, encoding="utf-8") as f:
    text = f.read().replace("# @MODELS@", "\n\n".join(blocks))
with open(out_path, "w", encoding="utf-8") as f:
    f.write(text)
