"""The worked examples examples/two_moons_vq.py and examples/mlp784_templates.py run end to end.

Each runs as a subprocess with ``--quick`` (fewer samples, steps and checkpoints) into a
temporary folder; every figure it announces must exist and be a non-empty PNG.  Marked slow:
even with ``--quick`` each takes 7-15 s here, about 8 s of it start-up (importing torch and
matplotlib, and torch.optim's first use importing torch._dynamo).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("matplotlib")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

FIGURES = {
    "two_moons_vq.py": ["layers.png", "power_diagram.png", "templates.png", "vq_tree.png", "local_complexity.png"],
    "mlp784_templates.py": ["templates.png", "local_complexity.png"],
}


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(FIGURES))
def test_example_runs_quick_and_writes_its_figures(script, tmp_path):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--quick", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "memorisation" in run.stdout and "wrote" in run.stdout
    for name in FIGURES[script]:
        path = tmp_path / name
        assert path.is_file(), f"{script} did not write {name}"
        data = path.read_bytes()
        assert len(data) > 1000 and data.startswith(PNG_MAGIC), f"{name} is not a PNG"
