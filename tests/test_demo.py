"""python -m skebm: the data protocol, the options and the output."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_digits

from skebm.__main__ import build_parser, main, nudge, nudged_digits, output_problem


def test_nudge_shifts_by_one_pixel_with_zeros_shifted_in():
    image = np.arange(1, 10, dtype=float).reshape(1, 3, 3)
    up, left, right, down = nudge(image)[1:]  # one image each
    np.testing.assert_array_equal(down, [[0, 0, 0], [1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(up, [[4, 5, 6], [7, 8, 9], [0, 0, 0]])
    np.testing.assert_array_equal(right, [[0, 1, 2], [0, 4, 5], [0, 7, 8]])
    np.testing.assert_array_equal(left, [[2, 3, 0], [5, 6, 0], [8, 9, 0]])
    np.testing.assert_array_equal(nudge(image)[0], image[0])


def test_nudged_digits_are_five_scaled_copies():
    X, y = nudged_digits()
    digits = load_digits()
    n = len(digits.target)
    assert X.shape == (5 * n, 64) and y.shape == (5 * n,)
    np.testing.assert_array_equal(y[:n], digits.target)
    np.testing.assert_array_equal(y[n:2 * n], digits.target)
    assert X.min() == 0.0 and X.max() < 1.0
    # scaling is per column and monotone: the unshifted block keeps its order
    raw = digits.data
    column = 36  # a central pixel, never constant
    order = np.argsort(raw[:, column], kind="stable")
    assert np.all(np.diff(X[:n, column][order]) >= 0)


def run_demo(capsys, *args):
    assert main(["--n-iter", "1", "--n-components", "16", *args]) == 0
    return capsys.readouterr().out


def accuracies(out):
    return [float(a) for a in re.findall(r"accuracy (\d\.\d+)", out)]


def test_demo_prints_both_accuracies_a_report_and_saves_the_filters(
    capsys, tmp_path, suite_seed
):
    pytest.importorskip("matplotlib")
    path = tmp_path / "filters.png"
    out = run_demo(capsys, "--output", str(path), "--random-state", str(suite_seed))
    raw_accuracy, rbm_accuracy = accuracies(out)
    # ten classes: chance is 0.1; both models learn far more than that.  Raw
    # pixels score 0.78 (no randomness); after one epoch of 16 hidden units
    # the RBM's features scored 0.597 +- 0.026 over 37 seeds (0.548 at
    # worst), and the bar of 0.45 is over five of those below
    assert raw_accuracy > 0.7 and rbm_accuracy > 0.45
    assert "precision" in out and "macro avg" in out
    assert f"Learned filters saved to {path}" in out
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_without_matplotlib_says_how_to_get_the_picture(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    path = tmp_path / "filters.png"
    out = run_demo(capsys, "--output", str(path))
    assert 'pip install "skebm[plot]"' in out
    assert not path.exists()


def test_no_plot_and_verbose(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = run_demo(capsys, "--no-plot", "--verbose")
    assert "skipped (--no-plot)" in out
    assert "[BernoulliRBM] epoch 1/1" in out
    assert not list(tmp_path.iterdir())


def test_help_lists_the_options():
    help_text = build_parser().format_help()
    for option in ("--n-iter", "--n-components", "--learning-rate", "--device",
                   "--output", "--no-plot", "--verbose", "--random-state", "--blas-threads"):
        assert option in help_text


def test_python_dash_m_help_runs():
    result = subprocess.run(
        [sys.executable, "-m", "skebm", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0
    assert "usage: python -m skebm" in result.stdout


def test_bad_option_is_rejected(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--n-iter", "ten"])
    assert exit_info.value.code == 2
    assert "invalid int value" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--n-components", "0"])
    assert "--n-components must be a positive integer" in capsys.readouterr().err


def demo_error(capsys, *args):
    """Run the demo with ``args``; return its one-line argparse error."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--n-iter", "1", "--n-components", "4", *args])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # stopped before the data, the fits and the picture
    error_lines = [line for line in captured.err.splitlines() if "error:" in line]
    assert len(error_lines) == 1
    return error_lines[0]


# "cuda:99" is no device on any machine: without torch, without CUDA, or with
# fewer than a hundred GPUs; "gpu" is not a torch device string at all
@pytest.mark.parametrize("device", ["cuda:99", "gpu"])
def test_unusable_device_is_rejected_before_training(capsys, tmp_path, device):
    error = demo_error(capsys, "--device", device, "--output", str(tmp_path / "f.png"))
    assert error.startswith("python -m skebm: error: argument --device:")
    assert repr(device) in error
    assert "Omit --device to compute with NumPy" in error
    assert not list(tmp_path.iterdir())


def test_cuda_without_cuda_names_the_problem(capsys, tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    error = demo_error(capsys, "--device", "cuda", "--output", str(tmp_path / "f.png"))
    assert "CUDA is not available on this machine" in error


def test_device_without_torch_says_how_to_get_it(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # as if torch were not installed
    error = demo_error(capsys, "--device", "cpu", "--output", str(tmp_path / "f.png"))
    assert "PyTorch is not installed" in error
    assert "Omit --device to compute with NumPy" in error


def test_unusable_device_gives_no_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "skebm", "--device", "cuda:99"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    last_line = result.stderr.splitlines()[-1]
    assert last_line.startswith("python -m skebm: error: argument --device:")
    assert result.stdout == ""


def test_output_in_a_missing_folder_is_rejected_before_training(capsys, tmp_path):
    missing = tmp_path / "no such folder"
    error = demo_error(capsys, "--output", str(missing / "filters.png"))
    assert error.startswith("python -m skebm: error: argument --output:")
    assert f"the folder {missing} does not exist" in error
    assert not missing.exists()


def test_output_that_is_a_folder_or_inside_a_file_is_rejected(capsys, tmp_path):
    error = demo_error(capsys, "--output", str(tmp_path))
    assert f"{tmp_path} is a folder; give a file name" in error
    a_file = tmp_path / "notes.txt"
    a_file.write_text("kept")
    error = demo_error(capsys, "--output", str(a_file / "filters.png"))
    assert f"{a_file} is not a folder" in error
    assert a_file.read_text() == "kept"


def test_output_of_an_unknown_file_type_is_rejected(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    error = demo_error(capsys, "--output", str(tmp_path / "filters.xyz"))
    assert "matplotlib cannot save a '.xyz' file" in error
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="needs file permissions that bind (not root, not Windows)",
)
def test_output_in_a_read_only_folder_is_rejected(capsys, tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        error = demo_error(capsys, "--output", str(folder / "filters.png"))
    finally:
        folder.chmod(0o700)
    assert f"cannot write {folder / 'filters.png'}" in error
    assert not list(folder.iterdir())


def test_output_check_leaves_files_as_they_were(tmp_path):
    new = tmp_path / "filters.png"
    assert output_problem(new) is None
    assert not new.exists()  # the probe file is removed again
    old = tmp_path / "old.png"
    old.write_bytes(b"old picture")
    assert output_problem(old) is None
    assert old.read_bytes() == b"old picture"


def test_no_plot_skips_the_output_check(capsys, tmp_path):
    out = run_demo(capsys, "--no-plot", "--output", str(tmp_path / "missing" / "f.png"))
    assert "skipped (--no-plot)" in out
