"""The code of docs/vq.md runs as written (its blocks in order, in one namespace)."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "vq.md"


def test_the_vq_guide_runs():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 4
    scope: dict = {}
    for code in blocks:
        exec(compile(code, str(DOC), "exec"), scope)
    # what the guide claims, checked from the exact results it built
    net, X, codes = scope["net"], scope["X"], scope["codes"]
    assert all(tuple(codes[l][i]) == net.code(X[i])[l] for i in range(0, 1000, 97) for l in range(len(codes)))
    assert len(scope["lc"].regions) == 10
