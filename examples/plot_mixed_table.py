"""
A mixed table: one RBM for categories, yes/no columns and measurements
======================================================================

Real tables mix column types.  The Palmer penguins (the ``palmerpenguins``
package) have a species, an island, a sex and a year, which are categories,
and four measurements, which are real numbers.  :class:`~skebm.TableRBM`
models all of them with one hidden layer: each column gets the unit type
its dtype asks for (a softmax over the levels of a categorical column,
Gaussian units for a real one), so that the model gives a probability to a
whole row and its samples are rows of the table, in its own dtypes.

Two uses:

* **imputation**: :class:`~skebm.RBMImputer` with its defaults fills a
  DataFrame with holes in every column, categories with levels; against
  scikit-learn's imputers on the same table encoded as numbers;
* **synthetic rows**: rows drawn from a TableRBM fitted on 75% of the
  penguins against the 25% held out: the columns' marginals, one pairwise
  association, and classifier two-sample tests
  (:func:`~skebm.sample_quality`) beside those of rows drawn column by
  column from the training marginals, which keep every marginal and no
  association.
"""

import os
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # draw without a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from palmerpenguins import load_penguins  # noqa: E402
from sklearn.experimental import enable_iterative_imputer  # noqa: E402, F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skebm import RBMImputer, TableRBM, sample_quality  # noqa: E402

OUTPUT = Path(os.environ.get("SKEBM_EXAMPLES_OUTPUT", "."))
OUTPUT.mkdir(parents=True, exist_ok=True)
MEASUREMENTS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
CATEGORIES = ["species", "island", "sex", "year"]

table = load_penguins().dropna().reset_index(drop=True)
for column in CATEGORIES:
    table[column] = table[column].astype("category")
print(f"{len(table)} penguins; dtypes: {dict(table.dtypes.astype(str))}")

# %%
# Imputation
# ----------
# A fifth of the entries of every column go missing.  RBMImputer takes the
# DataFrame as it is and returns one in the same dtypes; scikit-learn's
# imputers need numbers, so they get the measurements standardised and
# the categories as codes (rounded back to a level afterwards).

rng = np.random.default_rng(0)
mask = rng.random(table.shape) < 0.2
holes = table.copy()
for j, column in enumerate(table.columns):
    holes[column] = holes[column].mask(mask[:, j])

scaler = StandardScaler().fit(table[MEASUREMENTS])


def as_numbers(frame):
    codes = [frame[c].cat.codes.replace(-1, np.nan) for c in CATEGORIES]
    return np.column_stack([scaler.transform(frame[MEASUREMENTS]), *codes]).astype(float)


truth = as_numbers(table)
order = [table.columns.get_loc(c) for c in MEASUREMENTS + CATEGORIES]
missing = mask[:, order]
n_levels = np.array([len(table[c].cat.categories) for c in CATEGORIES])


def scores(filled):
    numbers, codes = missing[:, :4], missing[:, 4:]
    rmse = np.sqrt(np.mean((filled[:, :4][numbers] - truth[:, :4][numbers]) ** 2))
    return rmse, np.mean(filled[:, 4:][codes] == truth[:, 4:][codes])


start = time.perf_counter()
filled = RBMImputer(random_state=0).fit_transform(holes)
results = {f"RBMImputer ({time.perf_counter() - start:.0f} s)": scores(as_numbers(filled))}
print("dtypes kept:", list(filled.dtypes) == list(table.dtypes))
encoded = as_numbers(holes)
simple = np.column_stack([
    SimpleImputer().fit_transform(encoded[:, :4]),
    SimpleImputer(strategy="most_frequent").fit_transform(encoded[:, 4:]),
])
results["SimpleImputer (mean, most frequent)"] = scores(simple)
for label, imputer in [("KNNImputer", KNNImputer()),
                       ("IterativeImputer", IterativeImputer(max_iter=25, random_state=0))]:
    out = imputer.fit_transform(encoded)
    out[:, 4:] = np.clip(np.round(out[:, 4:]), 0, n_levels - 1)
    results[label] = scores(out)
print(f"{'imputer':38s}{'RMSE (standardised)':>22s}{'categories right':>18s}")
for label, (rmse, accuracy) in results.items():
    print(f"{label:38s}{rmse:22.3f}{accuracy:18.3f}")

# %%
# Synthetic rows
# --------------
# A TableRBM fitted to 75% of the penguins, trained with parallel
# tempering, then sampled by tempered chains: rows of the table with one
# level per categorical column.

train, test = train_test_split(table, test_size=0.25, random_state=0)
start = time.perf_counter()
model = TableRBM(n_components=32, n_iter=300, learning_rate=0.02, method="pt",
                 random_state=0).fit(train)
print(f"TableRBM fitted in {time.perf_counter() - start:.1f} s; columns {model.column_types_}")
synthetic = model.sample(3 * len(test), n_steps=500, method="pt", random_state=0)
marginals = pd.DataFrame({
    column: train[column].sample(len(synthetic), replace=True, random_state=k).to_numpy()
    for k, column in enumerate(table.columns)
}).astype(train.dtypes.to_dict())
print(synthetic.head())


def features(frame):
    """Standardised measurements and one-hot categories: what the discriminators see."""
    dummies = [
        (frame[c].astype(object).to_numpy()[:, None] == table[c].cat.categories.to_numpy()[None])
        for c in CATEGORIES
    ]
    return np.column_stack([scaler.transform(frame[MEASUREMENTS]), *dummies]).astype(float)


for label, rows in [("TableRBM samples", synthetic), ("independent marginals", marginals)]:
    quality = sample_quality(features(rows), features(test), train=features(train),
                             random_state=0)
    print(f"{label}:\n{quality.summary()}")

fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
shares = pd.DataFrame({
    "held out": test["species"].value_counts(normalize=True),
    "TableRBM": synthetic["species"].value_counts(normalize=True),
}).reindex(table["species"].cat.categories)
shares.plot.bar(ax=axes[0], rot=0)
axes[0].set_title("species shares")
axes[1].hist([test["flipper_length_mm"], synthetic["flipper_length_mm"]], bins=15,
             density=True, label=["held out", "TableRBM"])
axes[1].set_title("flipper length (mm)")
axes[1].legend()
for frame, marker, label in [(test, "o", "held out"), (synthetic, ".", "TableRBM")]:
    for species, colour in zip(table["species"].cat.categories, ["C0", "C1", "C2"]):
        rows = frame[frame["species"] == species]
        axes[2].scatter(rows["bill_length_mm"], rows["bill_depth_mm"], s=14, marker=marker,
                        color=colour, alpha=0.7 if marker == "o" else 0.35,
                        label=f"{species} ({label})")
axes[2].set_xlabel("bill length (mm)")
axes[2].set_ylabel("bill depth (mm)")
axes[2].set_title("bill by species")
axes[2].legend(fontsize=6)
fig.tight_layout()
fig.savefig(OUTPUT / "mixed_table.png")
