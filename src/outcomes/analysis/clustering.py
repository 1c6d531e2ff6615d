"""Cluster-robust inference for (weighted) least squares and M-estimators.

Plain functions on numpy arrays, in the style of pingouin: :func:`ols_cluster` (HC3, CR1 and
CR2 standard errors of one coefficient of a WLS fit, with their degrees of freedom),
:func:`cluster_meat` (the clustered "meat" of an M-estimation sandwich),
:func:`cluster_mean_se` (the clustered SE of a mean) and :func:`icc_oneway` (the one-way ANOVA
intraclass correlation). Rows with missing values are the caller's to drop: every function but
:func:`icc_oneway` raises :class:`~outcomes.errors.OutcomesError` when it finds one.

Conventions (domain reference 3.10):

* ``CR1`` is the Stata / statsmodels variant, scaled by ``G/(G-1) * (N-1)/(N-K)``, with
  ``G - 1`` degrees of freedom. clubSandwich's ``CR1`` (``G/(G-1)`` only) is *not* used.
* ``CR2`` is the Bell-McCaffrey bias-reduced linearization as in clubSandwich, with the
  Bell-McCaffrey / Imbens-Kolesar Satterthwaite degrees of freedom.
* Weights are handled by the usual WLS transformation: the fit, its residuals and every
  variance are those of OLS on ``sqrt(w) X`` and ``sqrt(w) y`` (as statsmodels ``WLS`` does).
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import pandas as pd
from scipy import linalg

from outcomes.errors import OutcomesError

__all__ = ["cluster_mean_se", "cluster_meat", "icc_oneway", "ols_cluster"]

Kind = Literal["HC3", "CR1", "CR2"]

#: Eigenvalues of ``I - H_gg`` at or below this are taken as zero: the CR2 adjustment uses the
#: Moore-Penrose inverse square root there (clubSandwich's ``Sym_power`` uses 1e-12).
SINGULAR_TOL = 1e-10
#: ``X`` is rank deficient when its smallest singular value is at most this times its largest.
RANK_TOL = 1e-10


def ols_cluster(
    X: np.ndarray,
    y: np.ndarray,
    clusters: np.ndarray | None,
    *,
    kind: Kind,
    weights: np.ndarray | None = None,
    coefficient: int = 1,
) -> dict:
    """Weighted least squares with an HC3, CR1 or CR2 standard error of one coefficient.

    Parameters
    ----------
    X : ndarray, shape (n, k)
        The design matrix, intercept column included, of full column rank, ``n > k``.
    y : ndarray, shape (n,)
        The outcome.
    clusters : ndarray, shape (n,), or None
        Cluster labels (any hashable values). Required for ``CR1`` and ``CR2`` (at least two
        clusters); ignored by ``HC3`` (neither checked nor counted).
    kind : {"HC3", "CR1", "CR2"}
        The variance estimator (see Notes).
    weights : ndarray, shape (n,), optional
        Analytic (or probability) weights, all > 0; None gives every row weight 1. Drop
        zero-weight rows before the call.
    coefficient : int
        Index of the coefficient whose estimate, SE and df are reported (default 1, the first
        column after the intercept).

    Returns
    -------
    dict
        ``estimate`` (``beta[coefficient]``), ``std_error``, ``df``, ``se_type`` (``kind``),
        ``n_clusters`` (G; NaN for ``HC3``), ``beta`` (the full coefficient vector).

    Raises
    ------
    OutcomesError
        A NaN or infinite value anywhere in ``X``, ``y``, ``clusters`` or ``weights``;
        mismatched shapes; a weight <= 0; ``X`` rank deficient or with ``n <= k``; fewer than
        two clusters for ``CR1``/``CR2``; an observation with leverage 1 for ``HC3``.

    Notes
    -----
    With ``W = diag(w)``, ``beta = (X'WX)^-1 X'Wy``, ``e = y - X beta`` and the bread
    ``M = (X'WX)^-1``. Everything below is computed on the whitened data ``X~ = W^1/2 X``,
    ``e~ = W^1/2 e`` (so ``H~ = X~ M X~'`` is symmetric), which is exactly how statsmodels'
    ``WLS`` computes its robust covariances.

    * ``HC3``: ``V = M [sum_i e~_i^2 / (1 - h_i)^2 x~_i x~_i'] M`` with ``h_i = H~_ii``;
      ``df = n - k`` (statsmodels ``fit(cov_type="HC3")``).
    * ``CR1``: ``V = G/(G-1) (N-1)/(N-K) M [sum_g X_g'W_g e_g e_g'W_g X_g] M``;
      ``df = G - 1`` (Stata ``vce(cluster)``, statsmodels ``cov_type="cluster"``).
    * ``CR2`` (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018, JBES 36(4)):
      ``V = M [sum_g X~_g' A_g e~_g e~_g' A_g X~_g] M`` with no further scaling, where
      ``A_g = (I - H~_gg)^(-1/2)``, the symmetric (Moore-Penrose, for a singular
      ``I - H~_gg``) inverse square root. In the original metric this is
      ``A_g = (I - H_gg)^(-1/2)`` of the weighted hat matrix ``H = X M X'W`` (its principal
      inverse root ``W_g^-1/2 (I - H~_gg)^-1/2 W_g^1/2``), i.e. the working model
      ``Var(e) = sigma^2 W^-1`` (identity when unweighted). Unweighted it is clubSandwich's
      ``vcovCR(lm, type = "CR2")``; weighted, it equals clubSandwich's
      ``vcovCR(lm(weights = w), type = "CR2", target = 1/w)`` when the weights are constant
      within each cluster or every cluster is a single row (then ``CR2 = HC2``), and both
      are exactly unbiased under that working model otherwise. (clubSandwich's root
      ``W^-1/2 [W^-1 (I - H~_gg) W^-1]^-1/2 W^-1/2`` differs when weights vary within a
      cluster; it has no low-rank form, while this one costs O(n k^2 + G k^3).)

      The df are the Bell-McCaffrey / Imbens-Kolesar (2016, REStat, ``K_BM``) Satterthwaite
      df of the contrast ``c = e_coefficient``: ``df = (sum lambda)^2 / sum lambda^2``,
      ``lambda`` the eigenvalues of ``G'G`` where column g of the n x G matrix ``G`` is
      ``(I - H~)_g' A_g X~_g M c``. ``G'G`` is formed in closed form from k x k blocks
      (no n x n or n x G matrix): with ``X~ = QR``, ``P_g = Q_g'Q_g``,
      ``D_g = (I - P_g)^(-1/2)`` (so ``A_g Q_g = Q_g D_g``), ``b_g = D_g R^-T c`` and
      ``z_g = P_g b_g``, ``(G'G)_gh = [g = h] b_g'z_g - z_g'z_h``.

    Examples
    --------
    Domain reference 3.11: six clusters, a treatment dummy.

    >>> import numpy as np
    >>> y = np.array([3, 4, 5, 4, 6, 7, 5, 8, 6, 9.0])
    >>> X = np.column_stack([np.ones(10), [0] * 5 + [1] * 5])
    >>> fit = ols_cluster(X, y, np.array([1, 1, 2, 2, 3, 4, 4, 5, 5, 6]), kind="CR1")
    >>> fit["beta"].round(4).tolist(), round(fit["std_error"], 5), fit["df"]
    ([4.4, 2.6], 0.8645, 5.0)
    """
    if kind not in get_args(Kind):
        raise OutcomesError(
            f"unknown standard-error type {kind!r}", column="kind",
            expected="one of " + ", ".join(map(repr, get_args(Kind))), found=repr(kind),
        )  # fmt: skip
    X = _matrix(X, "X")
    n, k = X.shape
    y = _vector(y, n, "y")
    if not isinstance(coefficient, int | np.integer) or isinstance(coefficient, bool):
        raise OutcomesError(
            "coefficient must be a column index of X", column="coefficient",
            expected=f"an integer from 0 to {k - 1}", found=repr(coefficient),
        )  # fmt: skip
    if not 0 <= coefficient < k:
        raise OutcomesError(
            "coefficient is not a column of X", column="coefficient",
            expected=f"an integer from 0 to {k - 1}", found=str(coefficient),
        )  # fmt: skip
    if n <= k:
        raise OutcomesError(
            "too few rows for the regression", column="X",
            expected=f"more rows than the {k} columns", found=f"{n} rows",
        )  # fmt: skip
    if weights is None:
        root_w = np.ones(n)
    else:
        w = _vector(weights, n, "weights")
        if np.any(w <= 0):
            raise OutcomesError(
                "weights must be positive", column="weights",
                expected="weights > 0 (drop zero-weight rows first)",
                found=f"{int(np.sum(w <= 0))} weights <= 0",
            )  # fmt: skip
        root_w = np.sqrt(w)
    codes, n_clusters = None, np.nan
    if kind != "HC3":
        if clusters is None:
            raise OutcomesError(
                f"{kind} standard errors need clusters", column="clusters",
                expected="one cluster label per row", found="None",
            )  # fmt: skip
        codes, n_clusters = _codes(clusters, n, "clusters")
        _at_least_two(n_clusters, "clusters")

    Xw, yw = X * root_w[:, None], y * root_w
    Q, R = np.linalg.qr(Xw)
    singular = np.linalg.svd(R, compute_uv=False)
    if singular.min() <= RANK_TOL * singular.max():
        raise OutcomesError(
            "the columns of X are collinear", column="X",
            expected="a design matrix of full column rank",
            found=f"condition number {singular.max() / max(singular.min(), 1e-300):.3g}",
        )  # fmt: skip
    R_inv = linalg.solve_triangular(R, np.eye(k))
    beta = R_inv @ (Q.T @ yw)
    resid = yw - Xw @ beta  # whitened residuals sqrt(w) * e

    if kind == "HC3":
        leverage = np.einsum("ij,ij->i", Q, Q)
        if np.any(1 - leverage <= SINGULAR_TOL):
            raise OutcomesError(
                "HC3 is undefined: an observation has leverage 1", column="X",
                expected="no row fitted exactly by its own column (leverage < 1)",
                found=f"{int(np.sum(1 - leverage <= SINGULAR_TOL))} rows with leverage 1",
            )  # fmt: skip
        omega = (resid / (1 - leverage)) ** 2
        half = R_inv @ (Q.T @ (omega[:, None] * Q)) @ R_inv.T
        variance, df = half[coefficient, coefficient], float(n - k)
    elif kind == "CR1":
        sums = _cluster_sums(Q * resid[:, None], codes, n_clusters)  # Q_g' e~_g, G x k
        factor = n_clusters / (n_clusters - 1) * (n - 1) / (n - k)
        row = sums @ R_inv[coefficient]  # c'R^-1 Q_g'e~_g = c'M X~_g'e~_g
        variance, df = factor * float(row @ row), float(n_clusters - 1)
    else:
        variance, df = _cr2(Q, R_inv, resid, codes, n_clusters, coefficient)
    return {
        "estimate": float(beta[coefficient]),
        "std_error": float(np.sqrt(variance)),
        "df": df,
        "se_type": kind,
        "n_clusters": n_clusters,
        "beta": beta,
    }


def _cr2(Q, R_inv, resid, codes, n_clusters, coefficient) -> tuple[float, float]:
    """CR2 variance of one coefficient and its Bell-McCaffrey df, from k x k blocks.

    ``Q`` (n x k, orthonormal columns) and ``R_inv`` come from ``X~ = QR``; ``resid`` is the
    whitened residual vector. See :func:`ols_cluster` (Notes) for the algebra.
    """
    k = Q.shape[1]
    P = np.empty((n_clusters, k, k))  # P_g = Q_g'Q_g
    for i in range(k):
        for j in range(i, k):
            P[:, i, j] = P[:, j, i] = np.bincount(codes, Q[:, i] * Q[:, j], n_clusters)
    lam, vec = np.linalg.eigh(P)  # eigenvalues of H~_gg (its nonzero ones), in [0, 1]
    one_minus = 1 - np.clip(lam, 0.0, 1.0)
    d = np.zeros_like(one_minus)
    regular = one_minus > SINGULAR_TOL
    d[regular] = one_minus[regular] ** -0.5  # pseudo-inverse: 0 where I - H~_gg is singular

    def times_D(v):  # D_g v_g for each cluster, D_g = vec_g diag(d_g) vec_g'
        return np.einsum("gij,gj->gi", vec, d * np.einsum("gji,gj->gi", vec, v))

    a = R_inv[coefficient]  # R^-T c
    adjusted = times_D(_cluster_sums(Q * resid[:, None], codes, n_clusters))  # Q_g'A_g e~_g
    contributions = adjusted @ a  # c'M X~_g'A_g e~_g
    variance = float(contributions @ contributions)

    b = times_D(np.broadcast_to(a, (n_clusters, k)))
    z = np.einsum("gij,gj->gi", P, b)
    diag = np.einsum("gi,gi->g", b, z)  # b_g'P_g b_g
    zz = np.einsum("gi,gi->g", z, z)
    trace = diag.sum() - zz.sum()  # tr(G'G)
    gram = z.T @ z  # ||Z Z'||_F = ||Z'Z||_F, k x k
    frobenius2 = (diag**2).sum() - 2 * (diag * zz).sum() + (gram**2).sum()  # tr((G'G)^2)
    df = float(trace**2 / frobenius2) if frobenius2 > 0 else np.nan
    return variance, df


def cluster_meat(moments: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """Clustered meat of an M-estimation sandwich, with Stata's ``G/(G-1)`` factor.

    Parameters
    ----------
    moments : ndarray, shape (n, p)
        The estimating functions ``psi_i(theta_hat)``, one row per unit (1-D: p = 1).
    clusters : ndarray, shape (n,)
        Cluster labels; at least two clusters.

    Returns
    -------
    ndarray, shape (p, p)
        ``B = G/(G-1) * (1/n) sum_g s_g s_g'`` with ``s_g = sum_{i in g} psi_i``.

    Notes
    -----
    The sandwich is ``V = A^-1 B A^-T / n`` with ``A`` the mean Jacobian of the estimating
    functions. ``G/(G-1)`` is the small-sample factor Stata applies to ``vce(cluster)`` for
    M-estimators (``teffects``, ``gmm``); there is no ``(N-1)/(N-K)`` term. With every unit
    its own cluster, ``(G-1)/G * B = moments.T @ moments / n``, the unclustered meat.

    Examples
    --------
    Cluster sums 0 and 2: B = 2/1 * (0^2 + 2^2) / 4 = 2.

    >>> import numpy as np
    >>> cluster_meat(np.array([1.0, -1.0, 2.0, 0.0]), np.array([1, 1, 2, 2]))
    array([[2.]])
    """
    moments = np.asarray(moments, dtype=float)
    if moments.ndim == 1:
        moments = moments[:, None]
    moments = _matrix(moments, "moments")
    n = moments.shape[0]
    codes, n_clusters = _codes(clusters, n, "clusters")
    _at_least_two(n_clusters, "clusters")
    sums = _cluster_sums(moments, codes, n_clusters)
    return n_clusters / (n_clusters - 1) * (sums.T @ sums) / n


def cluster_mean_se(
    d: np.ndarray, clusters: np.ndarray, *, kind: Literal["CR1", "CR2"] = "CR1"
) -> dict:
    """The mean of unit-level values and its cluster-robust standard error.

    Parameters
    ----------
    d : ndarray, shape (n,)
        Unit-level values, e.g. matched-pair differences (no NaN).
    clusters : ndarray, shape (n,)
        Cluster labels; at least two clusters.
    kind : {"CR1", "CR2"}
        The variance estimator of :func:`ols_cluster`.

    Returns
    -------
    dict
        ``estimate`` (the mean), ``std_error``, ``df``, ``n_clusters``, ``se_type``.

    Notes
    -----
    The intercept of the intercept-only OLS regression of ``d``:
    ``ols_cluster(np.ones((n, 1)), d, clusters, kind=kind, coefficient=0)``. For ``CR1`` this
    is ``SE^2 = G/(G-1) sum_g (sum_{i in g} (d_i - mean))^2 / n^2`` (``(N-1)/(N-K) = 1``) with
    ``df = G - 1``; for ``CR2`` the df are Bell-McCaffrey's.

    Examples
    --------
    >>> import numpy as np
    >>> fit = cluster_mean_se(np.array([1.0, 2.0, 3.0, 6.0]), np.array([1, 1, 2, 2]))
    >>> fit["estimate"], fit["std_error"], fit["df"]
    (3.0, 1.5, 1.0)
    """
    if kind not in ("CR1", "CR2"):
        raise OutcomesError(
            f"unknown standard-error type {kind!r}", column="kind",
            expected="'CR1' or 'CR2'", found=repr(kind),
        )  # fmt: skip
    d = np.asarray(d, dtype=float)
    if d.ndim != 1:
        raise OutcomesError(
            "d must be one-dimensional", column="d",
            expected="shape (n,)", found=f"shape {d.shape}",
        )  # fmt: skip
    fit = ols_cluster(np.ones((d.size, 1)), d, clusters, kind=kind, coefficient=0)
    return {key: fit[key] for key in ("estimate", "std_error", "df", "n_clusters", "se_type")}


def icc_oneway(values: np.ndarray, clusters: np.ndarray) -> dict:
    """Intraclass correlation by the one-way ANOVA estimator, unequal cluster sizes allowed.

    Parameters
    ----------
    values : ndarray, shape (n,)
        Unit-level values; rows where the value or the cluster is missing are dropped.
    clusters : ndarray, shape (n,)
        Cluster labels.

    Returns
    -------
    dict
        ``icc``, ``n_clusters`` (G), ``n`` (N, rows used), ``mean_cluster_size`` (N / G).

    Notes
    -----
    ``ICC(1) = (MSB - MSW) / (MSB + (n0 - 1) MSW)`` with
    ``MSB = sum_g n_g (ybar_g - ybar)^2 / (G - 1)``,
    ``MSW = sum_g sum_i (y_gi - ybar_g)^2 / (N - G)`` and the average cluster size
    ``n0 = (N - sum_g n_g^2 / N) / (G - 1)`` (Donner 1986; Snijders & Bosker 2012, sec. 3.3).
    The estimate is negative when clusters differ less than chance would make them
    (``MSB < MSW``); it is reported as is, not truncated at 0 (truncate before using it in a
    design effect if wanted). ``icc`` is NaN when ``G < 2``, ``N - G < 1`` or all values are
    equal.

    Examples
    --------
    Means 2 and 6 around 4: MSB = 3 (2^2 + 2^2) / 1 = 24, MSW = 4 / 4 = 1, n0 = 3, so
    ICC = (24 - 1) / (24 + 2 * 1) = 23/26.

    >>> import numpy as np
    >>> fit = icc_oneway(np.array([1.0, 2, 3, 5, 6, 7]), np.array([1, 1, 1, 2, 2, 2]))
    >>> round(fit["icc"], 4), fit["n_clusters"], fit["n"], fit["mean_cluster_size"]
    (0.8846, 2, 6, 3.0)
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 1:
        raise OutcomesError(
            "values must be one-dimensional", column="values",
            expected="shape (n,)", found=f"shape {values.shape}",
        )  # fmt: skip
    if np.isinf(values).any():
        raise OutcomesError(
            "values hold infinite numbers", column="values",
            expected="finite numbers or NaN", found=f"{int(np.isinf(values).sum())} infinite",
        )  # fmt: skip
    labels = _labels(clusters, values.size, "clusters")
    keep = ~np.isnan(values) & ~pd.isna(labels)
    values = values[keep]
    codes, uniques = pd.factorize(labels[keep])
    n, n_clusters = values.size, len(uniques)
    result = {
        "icc": np.nan,
        "n_clusters": n_clusters,
        "n": n,
        "mean_cluster_size": n / n_clusters if n_clusters else np.nan,
    }
    if n_clusters < 2 or n - n_clusters < 1:
        return result
    sizes = np.bincount(codes, minlength=n_clusters)
    means = np.bincount(codes, values, n_clusters) / sizes
    grand = values.mean()
    msb = float(sizes @ (means - grand) ** 2) / (n_clusters - 1)
    msw = float(((values - means[codes]) ** 2).sum()) / (n - n_clusters)
    n0 = (n - (sizes**2).sum() / n) / (n_clusters - 1)
    denominator = msb + (n0 - 1) * msw
    if denominator > 0:
        result["icc"] = float((msb - msw) / denominator)
    return result


# --- argument checks ---------------------------------------------------------------------------


def _matrix(X, name: str) -> np.ndarray:
    """``X`` as a finite 2-D float array with at least one row and column."""
    try:
        X = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as error:
        raise OutcomesError(
            f"{name} must be numeric", column=name, expected="a numeric matrix",
            found=str(error),
        ) from error  # fmt: skip
    if X.ndim != 2 or 0 in X.shape:
        raise OutcomesError(
            f"{name} must be a non-empty matrix", column=name,
            expected="shape (n, k)", found=f"shape {X.shape}",
        )  # fmt: skip
    _finite(X, name)
    return X


def _vector(v, n: int, name: str) -> np.ndarray:
    """``v`` as a finite float vector of length ``n``."""
    try:
        v = np.asarray(v, dtype=float)
    except (TypeError, ValueError) as error:
        raise OutcomesError(
            f"{name} must be numeric", column=name, expected="a numeric vector",
            found=str(error),
        ) from error  # fmt: skip
    if v.shape != (n,):
        raise OutcomesError(
            f"{name} does not match the rows of X", column=name,
            expected=f"shape ({n},)", found=f"shape {v.shape}",
        )  # fmt: skip
    _finite(v, name)
    return v


def _finite(a: np.ndarray, name: str) -> None:
    if not np.isfinite(a).all():
        missing, infinite = int(np.isnan(a).sum()), int(np.isinf(a).sum())
        raise OutcomesError(
            f"{name} holds missing or infinite values", column=name,
            expected="finite numbers only (drop incomplete rows first)",
            found=f"{missing} NaN, {infinite} infinite",
        )  # fmt: skip


def _labels(clusters, n: int, name: str) -> np.ndarray:
    """Cluster labels as a 1-D array of length ``n`` (missing labels allowed)."""
    labels = np.asarray(clusters)
    if labels.shape != (n,):
        raise OutcomesError(
            f"{name} does not match the rows of the data", column=name,
            expected=f"one label per row, shape ({n},)", found=f"shape {labels.shape}",
        )  # fmt: skip
    return labels


def _codes(clusters, n: int, name: str) -> tuple[np.ndarray, int]:
    """Integer codes 0..G-1 of complete cluster labels, and G."""
    labels = _labels(clusters, n, name)
    missing = pd.isna(labels)
    if missing.any():
        raise OutcomesError(
            f"{name} holds missing labels", column=name,
            expected="a label on every row (drop incomplete rows first)",
            found=f"{int(missing.sum())} missing",
        )  # fmt: skip
    codes, uniques = pd.factorize(labels)
    return codes.astype(np.intp), len(uniques)


def _at_least_two(n_clusters: int, name: str) -> None:
    if n_clusters < 2:
        raise OutcomesError(
            "cluster-robust standard errors need at least two clusters", column=name,
            expected="two or more distinct clusters", found=f"{n_clusters} cluster",
        )  # fmt: skip


def _cluster_sums(values: np.ndarray, codes: np.ndarray, n_clusters: int) -> np.ndarray:
    """Column sums of ``values`` (n x p) within each cluster: G x p."""
    return np.column_stack(
        [np.bincount(codes, values[:, j], n_clusters) for j in range(values.shape[1])]
    )
