"""The example gallery: every script is a valid sphinx-gallery page that saves figures.

Running the scripts takes minutes, so by default only their form is checked;
``SKEBM_RUN_EXAMPLES=1 pytest tests/test_examples.py`` also runs each one
headless and checks that it wrote its PNG files.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(EXAMPLES.glob("plot_*.py"))


def test_there_are_examples():
    assert len(SCRIPTS) >= 7


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_example_has_a_title_and_parses(script):
    source = script.read_text()
    docstring = ast.get_docstring(ast.parse(source))
    assert docstring, f"{script.name} needs a module docstring (the gallery page)"
    title, underline = docstring.splitlines()[:2]
    assert title.strip() and set(underline) == {"="} and len(underline) >= len(title)
    assert "savefig" in source, f"{script.name} must save its figures"


@pytest.mark.skipif(
    os.environ.get("SKEBM_RUN_EXAMPLES") != "1",
    reason="running the examples takes minutes; set SKEBM_RUN_EXAMPLES=1",
)
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_example_runs_headless_and_saves_figures(script, tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg", SKEBM_EXAMPLES_OUTPUT=str(tmp_path))
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert list(tmp_path.glob("*.png")), "no figure saved under SKEBM_EXAMPLES_OUTPUT"
