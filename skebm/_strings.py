"""Input holding strings where numbers belong: an error that names the fix."""

from contextlib import contextmanager


@contextmanager
def explain_strings(name, fix=None):
    """Turn NumPy's "could not convert string to float" into a message with a fix."""
    try:
        yield
    except ValueError as exc:
        if "could not convert string" not in str(exc):
            raise
        fix = fix or (
            "encode categories first (e.g. with sklearn.preprocessing.OneHotEncoder) or "
            "convert numeric text with X.astype(float)"
        )
        raise ValueError(
            f"{name} needs numbers, but the input holds strings ({exc}). "
            f"{fix[0].upper()}{fix[1:]}."
        ) from exc
