"""Sphinx configuration of the skebm documentation.

Build (from the repository root, after ``pip install -e ".[docs]"``)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The build needs no network: there is no intersphinx, and the example gallery
runs the scripts in ``examples/`` on data shipped with scikit-learn.
"""

import os
import sys
from pathlib import Path

import matplotlib
from numpydoc.xref import DEFAULT_LINKS

matplotlib.use("Agg")  # the gallery draws without a display

import skebm  # noqa: E402

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))

project = "skebm"
author = "the skebm developers"
copyright = "the skebm developers"  # noqa: A001
version = release = skebm.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
templates_path = ["_templates"]
default_role = "literal"
nitpicky = False

# API reference: one page per public object, written by autosummary
autosummary_generate = True
# members skebm defines (also in its shared base class); the scikit-learn
# mixins' methods (get_params, set_output, ...) are documented by scikit-learn
# and their docstrings point to pages that exist only there, and Python's own
# exception methods (with_traceback, add_note) by Python
autodoc_default_options = {
    "members": True,
    "inherited-members": (
        "BaseEstimator, TransformerMixin, ClassifierMixin, "
        "ClassNamePrefixFeaturesOutMixin, _SetOutputMixin, _MetadataRequester, "
        "BaseException"
    ),
}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()
# Parameter types become cross-reference roles, so that a type such as
# "ndarray of shape (n_features_in_,)" is never read as reStructuredText
# markup.  Without intersphinx the roles to Python and NumPy objects resolve
# to plain text; numpydoc's default aliases (":ref:"/":term:" roles into the
# Python and NumPy docs) are replaced by plain object names for that reason.
numpydoc_xref_param_type = True
numpydoc_xref_aliases = {name: name for name in DEFAULT_LINKS}
numpydoc_xref_ignore = {
    "of", "shape", "default", "or", "and", "optional", "instance", "like", "to",
    "the", "a", "an", "one", "per", "with", "each", "value", "values", "tuple",
}

# the gallery runs every examples/plot_*.py and keeps its figures
sphinx_gallery_conf = {
    "examples_dirs": str(DOCS.parent / "examples"),
    "gallery_dirs": str(DOCS / "auto_examples"),
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "matplotlib_animations": False,
    "reset_modules": ("matplotlib",),
}
# the examples save their figures where this names, out of the source tree
os.environ.setdefault("SKEBM_EXAMPLES_OUTPUT", str(DOCS / "_build" / "example_figures"))

html_theme = "pydata_sphinx_theme"
html_title = f"skebm {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path = []
html_show_sourcelink = False


def skip_metadata_request_methods(app, what, name, obj, skip, options):
    """Leave out the set_*_request methods scikit-learn generates on every estimator.

    They route metadata in meta-estimators and are documented by scikit-learn.
    """
    if name == "get_metadata_routing" or (
        name.startswith("set_") and name.endswith("_request")
    ):
        return True
    return skip


def setup(app):
    app.connect("autodoc-skip-member", skip_metadata_request_methods)
