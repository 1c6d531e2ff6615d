"""Tests of outcomes.analysis.clustering: CR1 and HC3 against statsmodels, CR2 against its
known identities (HC2, Welch, cluster means) and a literal dense implementation of
clubSandwich's formulas, and hand computations for the meat, the clustered mean and the ICC."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from outcomes.analysis.clustering import cluster_mean_se, cluster_meat, icc_oneway, ols_cluster
from outcomes.errors import OutcomesError


def simulated(n: int = 300, n_clusters: int = 20, seed: int = 0):
    """Intercept, a covariate and a treatment dummy; a cluster random effect; positive weights.

    Cluster sizes are unequal (labels drawn at random) and the labels are strings, so the
    functions must factorize them.
    """
    rng = np.random.default_rng(seed)
    codes = np.r_[np.arange(n_clusters), rng.integers(0, n_clusters, n - n_clusters)]
    clusters = np.array([f"site-{c:03d}" for c in codes])
    treat = (rng.random(n) < 0.4).astype(float)
    covariate = rng.normal(size=n) + 0.3 * treat
    X = np.column_stack([np.ones(n), covariate, treat])
    y = X @ [1.0, 0.5, 0.3] + rng.normal(size=n_clusters)[codes] + rng.normal(size=n) * (1 + treat)
    weights = rng.uniform(0.3, 3.0, n)
    return X, y, clusters, codes, weights


def statsmodels_fit(X, y, weights=None, **fit_kwargs):
    model = sm.OLS(y, X) if weights is None else sm.WLS(y, X, weights=weights)
    return model.fit(**fit_kwargs)


def all_coefficients(X, y, clusters, **kwargs):
    """(beta, SEs, dfs) of ols_cluster over every coefficient."""
    fits = [ols_cluster(X, y, clusters, coefficient=j, **kwargs) for j in range(X.shape[1])]
    return fits[0]["beta"], np.array([f["std_error"] for f in fits]), [f["df"] for f in fits]


# --- a literal, dense reference implementation (small n only) --------------------------------


def sym_pinv_sqrt(A: np.ndarray, tol: float = 1e-10) -> np.ndarray:
    """Symmetric Moore-Penrose inverse square root (clubSandwich's Sym_power(x, -1/2))."""
    values, vectors = np.linalg.eigh(A)
    d = np.zeros_like(values)
    d[values > tol] = values[values > tol] ** -0.5
    return (vectors * d) @ vectors.T


def dense_cr2(X, y, codes, weights=None, coefficient=1, root="principal"):
    """CR2 variance and Bell-McCaffrey df written out with n x n matrices.

    ``root="principal"``: ``A_g = W_g^-1/2 (I - H~_gg)^-1/2 W_g^1/2`` (the module's choice);
    ``root="cholesky"``: clubSandwich's ``vcovCR(..., target = 1/w)``, ``A_g = V_g'
    [V_g (W_g^-1 - X_g M X_g') V_g']^-1/2 V_g`` with ``V_g = chol(W_g^-1)``
    (R/CR-adjustments.R, ``CR2``). Unweighted both are ``(I - H_gg)^-1/2``. The df are
    ``(sum l)^2 / sum l^2`` over the eigenvalues of ``G' Phi G``, ``Phi = W^-1`` the working
    model, with the n x G matrix ``G`` of Imbens & Kolesar (2016).
    """
    n, k = X.shape
    w = np.ones(n) if weights is None else weights
    M = np.linalg.inv(X.T @ (w[:, None] * X))
    e = y - X @ (M @ X.T @ (w * y))
    I_H = np.eye(n) - X @ M @ X.T * w[None, :]
    c = np.eye(k)[coefficient]
    meat, columns = np.zeros((k, k)), []
    for g in np.unique(codes):
        rows = np.flatnonzero(codes == g)
        Xg, wg = X[rows], w[rows]
        if root == "principal":
            H_tilde = np.sqrt(wg)[:, None] * (Xg @ M @ Xg.T) * np.sqrt(wg)[None, :]
            A = np.diag(wg**-0.5) @ sym_pinv_sqrt(np.eye(rows.size) - H_tilde) @ np.diag(wg**0.5)
        else:
            V = np.diag(wg**-0.5)
            A = V.T @ sym_pinv_sqrt(V @ (np.diag(1 / wg) - Xg @ M @ Xg.T) @ V.T) @ V
        u = Xg.T @ (wg * (A @ e[rows]))
        meat += np.outer(u, u)
        columns.append(I_H[rows].T @ (A.T @ (wg * (Xg @ M @ c))))
    G = np.column_stack(columns)
    lam = np.linalg.eigvalsh(G.T @ (G / w[:, None]))
    return (M @ meat @ M)[coefficient, coefficient], lam.sum() ** 2 / (lam**2).sum()


# --- CR1 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_clusters", [10, 23, 60])
@pytest.mark.parametrize("weighted", [False, True])
def test_cr1_matches_statsmodels_cluster_robust(n_clusters, weighted):
    # Reference: statsmodels OLS/WLS fit(cov_type="cluster"), whose default correction is
    # G/(G-1) * (N-1)/(N-K) (domain reference 3.10).
    X, y, clusters, codes, w = simulated(n=400, n_clusters=n_clusters, seed=n_clusters)
    weights = w if weighted else None
    reference = statsmodels_fit(X, y, weights, cov_type="cluster", cov_kwds={"groups": codes})
    beta, se, dfs = all_coefficients(X, y, clusters, kind="CR1", weights=weights)
    np.testing.assert_allclose(beta, reference.params, rtol=1e-10)
    np.testing.assert_allclose(se, reference.bse, rtol=1e-8)
    assert dfs == [n_clusters - 1] * 3
    fit = ols_cluster(X, y, clusters, kind="CR1", weights=weights, coefficient=2)
    assert fit["se_type"] == "CR1"
    assert fit["n_clusters"] == n_clusters
    assert fit["estimate"] == pytest.approx(reference.params[2], rel=1e-10)


def test_cr1_domain_reference_vector():
    # Domain reference 3.11 ("CR1"): beta = (4.4, 2.6); CR0 SE(treat) = 0.74404; the Stata
    # factor 6/5 * 9/8 = 1.35 gives 0.86450 (t = 3.008 on 5 df).
    y = np.array([3, 4, 5, 4, 6, 7, 5, 8, 6, 9], dtype=float)
    treat = np.array([0] * 5 + [1] * 5, dtype=float)
    clusters = np.array([1, 1, 2, 2, 3, 4, 4, 5, 5, 6])
    X = np.column_stack([np.ones(10), treat])
    fit = ols_cluster(X, y, clusters, kind="CR1")
    np.testing.assert_allclose(fit["beta"], [4.4, 2.6], rtol=1e-12)
    assert fit["estimate"] == pytest.approx(2.6, rel=1e-12)
    assert fit["std_error"] == pytest.approx(0.86450, abs=5e-6)
    assert fit["std_error"] / np.sqrt(1.35) == pytest.approx(0.74404, abs=5e-6)
    assert fit["estimate"] / fit["std_error"] == pytest.approx(3.008, abs=5e-4)
    assert fit["df"] == 5
    assert fit["n_clusters"] == 6


# --- HC3 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True])
def test_hc3_matches_statsmodels(weighted):
    # Reference: statsmodels OLS/WLS fit(cov_type="HC3"); df = n - k (its df_resid).
    X, y, clusters, _, w = simulated(n=250, seed=3)
    weights = w if weighted else None
    reference = statsmodels_fit(X, y, weights, cov_type="HC3")
    beta, se, dfs = all_coefficients(X, y, None, kind="HC3", weights=weights)
    np.testing.assert_allclose(beta, reference.params, rtol=1e-10)
    np.testing.assert_allclose(se, reference.bse, rtol=1e-10)
    assert dfs == [reference.df_resid] * 3 == [247.0] * 3
    # clusters are ignored by HC3
    fit = ols_cluster(X, y, clusters, kind="HC3", weights=weights)
    assert fit["std_error"] == pytest.approx(reference.bse[1], rel=1e-10)
    assert np.isnan(fit["n_clusters"])
    assert fit["se_type"] == "HC3"


# --- CR2 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True])
def test_cr2_with_singleton_clusters_is_hc2(weighted):
    # Reference: statsmodels fit(cov_type="HC2"). With one row per cluster,
    # A_i = (1 - h_i)^(-1/2) and the CR2 meat is sum e_i^2 / (1 - h_i) x_i x_i' (whitened).
    X, y, _, _, w = simulated(n=200, seed=5)
    weights = w if weighted else None
    reference = statsmodels_fit(X, y, weights, cov_type="HC2")
    _, se, _ = all_coefficients(X, y, np.arange(200), kind="CR2", weights=weights)
    np.testing.assert_allclose(se, reference.bse, rtol=1e-10)


def test_cr2_single_binary_regressor_is_welch():
    # Imbens & Kolesar (2016): with X = [1, treat] and singleton clusters, CR2 = HC2 is the
    # Welch / Neyman variance s1^2/n1 + s0^2/n0 exactly. Their Bell-McCaffrey df is the
    # Welch-Satterthwaite formula evaluated under the working model of equal variances
    # (s1 = s0), i.e. K_BM = (n0 + n1)^2 (n0 - 1)(n1 - 1) / (n1^2 (n1 - 1) + n0^2 (n0 - 1)),
    # which depends on the design only. The data-based Welch df (with the sample s1, s0)
    # is *not* what BM gives: checked below, it differs here (verified numerically).
    rng = np.random.default_rng(11)
    n1, n0 = 7, 11
    treat = np.r_[np.ones(n1), np.zeros(n0)]
    y = rng.normal(size=n1 + n0) * (1 + 2 * treat) + treat
    X = np.column_stack([np.ones(n1 + n0), treat])
    fit = ols_cluster(X, y, np.arange(n1 + n0), kind="CR2")
    s1, s0 = y[treat == 1].var(ddof=1), y[treat == 0].var(ddof=1)
    assert fit["std_error"] ** 2 == pytest.approx(s1 / n1 + s0 / n0, rel=1e-10)
    assert fit["estimate"] == pytest.approx(y[treat == 1].mean() - y[treat == 0].mean())

    def welch_df(v1, v0):
        return (v1 / n1 + v0 / n0) ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v0 / n0) ** 2 / (n0 - 1))

    k_bm = (n0 + n1) ** 2 * (n0 - 1) * (n1 - 1) / (n1**2 * (n1 - 1) + n0**2 * (n0 - 1))
    assert k_bm == pytest.approx(welch_df(1.0, 1.0), rel=1e-12)  # 12.9255...
    assert fit["df"] == pytest.approx(k_bm, rel=1e-8)
    assert abs(fit["df"] - welch_df(s1, s0)) > 1  # the sample-variance Welch df is 7.2 here
    other = ols_cluster(X, rng.normal(size=n1 + n0), np.arange(n1 + n0), kind="CR2")
    assert other["df"] == pytest.approx(fit["df"], rel=1e-10)  # BM df ignores y


def test_cr2_balanced_cluster_randomized_is_welch_on_cluster_means():
    # Hand derivation: with m rows per cluster and a cluster-level dummy, H_gg = J_m / (m G_a)
    # for a cluster in arm a, so A_g scales the cluster sum of residuals by (1 - 1/G_a)^-1/2
    # and CR2 = s_T^2/G_T + s_C^2/G_C, s_a^2 the sample variance of the cluster means in arm
    # a. As in the individual-level case, the BM df is the Welch formula on cluster means
    # under equal variances, (G_T + G_C)^2 (G_T - 1)(G_C - 1) / (G_C^2 (G_C - 1) +
    # G_T^2 (G_T - 1)) = 100 * 3 * 5 / 228 = 6.5789 here, not the sample-variance Welch df.
    # (With unequal cluster sizes the OLS arm means are size-weighted and the identity fails.)
    rng = np.random.default_rng(2)
    g_t, g_c, m = 4, 6, 5
    codes = np.repeat(np.arange(g_t + g_c), m)
    treat = (codes < g_t).astype(float)
    y = rng.normal(size=g_t + g_c)[codes] + rng.normal(size=codes.size) + treat
    X = np.column_stack([np.ones(codes.size), treat])
    fit = ols_cluster(X, y, codes, kind="CR2")
    means = np.array([y[codes == g].mean() for g in range(g_t + g_c)])
    s_t, s_c = means[:g_t].var(ddof=1), means[g_t:].var(ddof=1)
    assert fit["estimate"] == pytest.approx(means[:g_t].mean() - means[g_t:].mean(), rel=1e-12)
    assert fit["std_error"] ** 2 == pytest.approx(s_t / g_t + s_c / g_c, rel=1e-10)
    k_bm = (g_t + g_c) ** 2 * (g_t - 1) * (g_c - 1) / (g_c**2 * (g_c - 1) + g_t**2 * (g_t - 1))
    assert k_bm == pytest.approx(1500 / 228, rel=1e-12)
    assert fit["df"] == pytest.approx(k_bm, rel=1e-8)
    assert fit["n_clusters"] == g_t + g_c


@pytest.mark.parametrize("coefficient", [0, 1, 2])
def test_cr2_matches_dense_reference_unweighted(coefficient):
    # Reference: dense_cr2 above, clubSandwich's CR2 for lm (target = identity) and the
    # Imbens-Kolesar n x G matrix, written out with n x n matrices.
    X, y, clusters, codes, _ = simulated(n=150, n_clusters=9, seed=8)
    fit = ols_cluster(X, y, clusters, kind="CR2", coefficient=coefficient)
    variance, df = dense_cr2(X, y, codes, coefficient=coefficient)
    assert fit["std_error"] ** 2 == pytest.approx(variance, rel=1e-10)
    assert fit["df"] == pytest.approx(df, rel=1e-10)
    assert fit["se_type"] == "CR2"
    assert 1 < fit["df"] < 9


def test_cr2_weighted_matches_clubsandwich_formula_with_cluster_level_weights():
    # With weights constant within clusters the principal root used by the module equals
    # clubSandwich's Cholesky-scaled root (target = 1/w): dense_cr2(root="cholesky").
    X, y, clusters, codes, _ = simulated(n=150, n_clusters=9, seed=9)
    weights = np.random.default_rng(1).uniform(0.5, 3.0, 9)[codes]
    fit = ols_cluster(X, y, clusters, kind="CR2", weights=weights, coefficient=2)
    variance, df = dense_cr2(X, y, codes, weights, coefficient=2, root="cholesky")
    assert fit["std_error"] ** 2 == pytest.approx(variance, rel=1e-10)
    assert fit["df"] == pytest.approx(df, rel=1e-10)


def test_cr2_weighted_matches_dense_principal_root():
    # Weights varying within clusters: the module's A_g = (I - H_gg)^-1/2 of the weighted hat
    # matrix H = X M X'W (principal root), written out densely. clubSandwich's Cholesky root
    # gives a slightly different value here (0.1% in the variance for this seed); both are
    # unbiased under Var(e) = sigma^2 W^-1 (see the module's Notes).
    X, y, clusters, codes, w = simulated(n=150, n_clusters=9, seed=10)
    fit = ols_cluster(X, y, clusters, kind="CR2", weights=w, coefficient=2)
    variance, df = dense_cr2(X, y, codes, w, coefficient=2)
    assert fit["std_error"] ** 2 == pytest.approx(variance, rel=1e-10)
    assert fit["df"] == pytest.approx(df, rel=1e-10)


def test_cr2_cluster_with_leverage_one_uses_the_pseudo_inverse():
    # A dummy for cluster 0 makes I - H_gg singular for that cluster (its residuals sum to 0);
    # clubSandwich then takes the Moore-Penrose inverse square root (dense_cr2 does too).
    X, y, clusters, codes, _ = simulated(n=150, n_clusters=9, seed=12)
    X_fe = np.column_stack([X, (codes == 0).astype(float)])
    fit = ols_cluster(X_fe, y, clusters, kind="CR2", coefficient=2)
    variance, df = dense_cr2(X_fe, y, codes, coefficient=2)
    assert np.isfinite(fit["std_error"]) and np.isfinite(fit["df"])
    assert fit["std_error"] ** 2 == pytest.approx(variance, rel=1e-9)
    assert fit["df"] == pytest.approx(df, rel=1e-9)


def test_cr2_shrinks_to_cr0_scale_with_many_clusters():
    # Sanity: CR2 lies between CR0 (= CR1 / its factor) and, for small leverages, close to
    # it: with 200 clusters of 5 the leverages are ~k/n and CR2 / CR0 - 1 is O(k/G).
    X, y, clusters, _, _ = simulated(n=1000, n_clusters=200, seed=4)
    cr1 = ols_cluster(X, y, clusters, kind="CR1")
    factor = 200 / 199 * 999 / 997
    cr0 = cr1["std_error"] / np.sqrt(factor)
    cr2 = ols_cluster(X, y, clusters, kind="CR2")
    assert cr0 < cr2["std_error"] < cr0 * 1.05


# --- cluster_meat -----------------------------------------------------------------------------


def test_cluster_meat_singletons_without_factor_is_the_plain_meat():
    # Every unit its own cluster: (G-1)/G * B = moments' moments / n.
    rng = np.random.default_rng(0)
    moments = rng.normal(size=(50, 3))
    meat = cluster_meat(moments, np.arange(50))
    np.testing.assert_allclose(meat * 49 / 50, moments.T @ moments / 50, rtol=1e-12)


def test_cluster_meat_by_hand():
    # Clusters a = rows 0, 1 and b = rows 2, 3: s_a = (1 + 3, 2 - 1) = (4, 1),
    # s_b = (-2 + 0, 1 + 1) = (-2, 2); sum s s' = [[16 + 4, 4 - 4], [4 - 4, 1 + 4]]
    # = [[20, 0], [0, 5]]; / n = 4 and * G/(G-1) = 2: [[10, 0], [0, 2.5]].
    moments = np.array([[1.0, 2.0], [3.0, -1.0], [-2.0, 1.0], [0.0, 1.0]])
    meat = cluster_meat(moments, np.array(["a", "a", "b", "b"]))
    np.testing.assert_allclose(meat, [[10.0, 0.0], [0.0, 2.5]], rtol=1e-12)
    assert cluster_meat(moments[:, 0], np.array(["a", "a", "b", "b"])).shape == (1, 1)


def test_cluster_meat_gives_cr0_sandwich_of_ols():
    # OLS moments x_i e_i, Jacobian X'X / n: n * (X'X)^-1 B (X'X)^-1 is CR0 * G/(G-1); times
    # (N-1)/(N-K) it is statsmodels' CR1.
    X, y, clusters, codes, _ = simulated(n=300, n_clusters=15, seed=6)
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    bread = np.linalg.inv(X.T @ X)
    meat = cluster_meat(X * (y - X @ beta)[:, None], clusters)
    variance = 300 * bread @ meat @ bread * (299 / 297)
    reference = statsmodels_fit(X, y, cov_type="cluster", cov_kwds={"groups": codes})
    np.testing.assert_allclose(np.sqrt(np.diag(variance)), reference.bse, rtol=1e-10)


# --- cluster_mean_se --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["CR1", "CR2"])
def test_cluster_mean_se_is_the_intercept_only_regression(kind):
    rng = np.random.default_rng(3)
    clusters = rng.integers(0, 12, 90)
    d = rng.normal(size=12)[clusters] + rng.normal(size=90)
    fit = cluster_mean_se(d, clusters, kind=kind)
    reference = ols_cluster(np.ones((90, 1)), d, clusters, kind=kind, coefficient=0)
    assert fit == {key: reference[key] for key in fit}
    assert set(fit) == {"estimate", "std_error", "df", "n_clusters", "se_type"}
    assert fit["estimate"] == pytest.approx(d.mean(), rel=1e-12)
    assert (fit["se_type"], fit["n_clusters"]) == (kind, 12)
    if kind == "CR1":
        # SE^2 = G/(G-1) sum_g (sum_{i in g} (d_i - mean))^2 / n^2, df = G - 1
        sums = np.bincount(clusters, d - d.mean())
        assert fit["std_error"] ** 2 == pytest.approx(12 / 11 * (sums @ sums) / 90**2, rel=1e-12)
        assert fit["df"] == 11
    else:
        variance, df = dense_cr2(np.ones((90, 1)), d, clusters, coefficient=0)
        assert fit["std_error"] ** 2 == pytest.approx(variance, rel=1e-10)
        assert fit["df"] == pytest.approx(df, rel=1e-10)


def test_cluster_mean_se_by_hand():
    # d = [1, 2, 3, 6], mean 3, residuals [-2, -1, 0, 3], cluster sums -3 and 3:
    # SE^2 = G/(G-1) * (9 + 9) / n^2 = 2 * 18 / 16 = 2.25, SE = 1.5, df = G - 1 = 1.
    fit = cluster_mean_se(np.array([1.0, 2.0, 3.0, 6.0]), np.array([1, 1, 2, 2]))
    assert fit["estimate"] == pytest.approx(3.0)
    assert fit["std_error"] == pytest.approx(1.5, rel=1e-12)
    assert fit["df"] == 1
    assert fit["n_clusters"] == 2


# --- icc_oneway -------------------------------------------------------------------------------


def test_icc_balanced_by_hand():
    # Clusters A = [2, 4, 6], B = [5, 7, 9], C = [1, 2, 3]: means 4, 7, 2; grand mean 13/3.
    # MSB = 3 * ((1/3)^2 + (8/3)^2 + (7/3)^2) / 2 = 3 * (114/9) / 2 = 19.
    # MSW = (8 + 8 + 2) / (9 - 3) = 3. n0 = (9 - 27/9) / 2 = 3.
    # ICC = (19 - 3) / (19 + 2 * 3) = 16/25 = 0.64.
    values = np.array([2, 4, 6, 5, 7, 9, 1, 2, 3], dtype=float)
    clusters = np.repeat(["A", "B", "C"], 3)
    fit = icc_oneway(values, clusters)
    assert fit["icc"] == pytest.approx(0.64, rel=1e-12)
    assert (fit["n_clusters"], fit["n"], fit["mean_cluster_size"]) == (3, 9, 3.0)


def test_icc_unbalanced_by_hand_dropping_missing_values():
    # A = [1, 3] (n 2), B = [4, 5, 6, 9] (n 4), C = [2, 2, 5] (n 3); a NaN value and a row
    # without a cluster are dropped. Means 2, 6, 3; grand mean 37/9; N = 9, G = 3.
    # MSB = (2 (19/9)^2 + 4 (17/9)^2 + 3 (10/9)^2) / 2 = (722 + 1156 + 300) / 162 = 121/9.
    # MSW = (2 + 14 + 6) / (9 - 3) = 11/3. n0 = (9 - (4 + 16 + 9)/9) / 2 = 26/9.
    # ICC = (121/9 - 33/9) / (121/9 + (17/9)(11/3)) = (88/9) / (550/27) = 264/550 = 0.48.
    values = np.array([1, 3, 4, 5, 6, 9, 2, 2, 5, np.nan, 7], dtype=float)
    clusters = np.array(["A", "A", "B", "B", "B", "B", "C", "C", "C", "A", None], dtype=object)
    fit = icc_oneway(values, clusters)
    assert fit["icc"] == pytest.approx(0.48, rel=1e-12)
    assert (fit["n_clusters"], fit["n"]) == (3, 9)
    assert fit["mean_cluster_size"] == pytest.approx(3.0)


def test_icc_can_be_negative_and_is_nan_when_undefined():
    # A = [1, 5], B = [1, 5]: MSB = 0, MSW = 16/2 = 8, n0 = (4 - 8/4)/1 = 2:
    # ICC = (0 - 8) / (0 + 1 * 8) = -1 (not truncated).
    assert icc_oneway(np.array([1.0, 5, 1, 5]), np.array([1, 1, 2, 2]))["icc"] == -1.0
    assert np.isnan(icc_oneway(np.array([1.0, 2, 3]), np.array([1, 1, 1]))["icc"])  # G = 1
    assert np.isnan(icc_oneway(np.array([1.0, 2, 3]), np.array([1, 2, 3]))["icc"])  # N - G = 0
    assert np.isnan(icc_oneway(np.array([2.0, 2, 2, 2]), np.array([1, 1, 2, 2]))["icc"])
    empty = icc_oneway(np.array([np.nan]), np.array([1]))
    assert np.isnan(empty["icc"]) and empty["n"] == 0 and empty["n_clusters"] == 0


# --- errors -----------------------------------------------------------------------------------


def test_missing_values_raise():
    X, y, clusters, _, w = simulated(n=60, n_clusters=6)
    bad_X, bad_y, bad_w = X.copy(), y.copy(), w.copy()
    bad_X[3, 1] = bad_y[4] = bad_w[5] = np.nan
    bad_clusters = clusters.astype(object)
    bad_clusters[2] = None
    for kind in ("HC3", "CR1", "CR2"):
        with pytest.raises(OutcomesError, match="missing") as error:
            ols_cluster(bad_X, y, clusters, kind=kind)
        assert error.value.column == "X"
        with pytest.raises(OutcomesError, match="missing"):
            ols_cluster(X, bad_y, clusters, kind=kind)
        with pytest.raises(OutcomesError, match="missing"):
            ols_cluster(X, y, clusters, kind=kind, weights=bad_w)
    for kind in ("CR1", "CR2"):
        with pytest.raises(OutcomesError, match="missing") as error:
            ols_cluster(X, y, bad_clusters, kind=kind)
        assert error.value.column == "clusters"
    with pytest.raises(OutcomesError, match="missing"):
        cluster_meat(bad_X, clusters)
    with pytest.raises(OutcomesError, match="missing"):
        cluster_mean_se(bad_y, clusters)


def test_fewer_than_two_clusters_raise():
    X, y, _, _, _ = simulated(n=60, n_clusters=6)
    one = np.zeros(60)
    for kind in ("CR1", "CR2"):
        with pytest.raises(OutcomesError, match="at least two clusters"):
            ols_cluster(X, y, one, kind=kind)
        with pytest.raises(OutcomesError, match="need clusters"):
            ols_cluster(X, y, None, kind=kind)
        with pytest.raises(OutcomesError, match="at least two clusters"):
            cluster_mean_se(y, one, kind=kind)
    with pytest.raises(OutcomesError, match="at least two clusters"):
        cluster_meat(X, one)


def test_bad_arguments_raise():
    X, y, clusters, _, w = simulated(n=60, n_clusters=6)
    with pytest.raises(OutcomesError, match="unknown standard-error type"):
        ols_cluster(X, y, clusters, kind="CR3")
    with pytest.raises(OutcomesError, match="not a column"):
        ols_cluster(X, y, clusters, kind="CR1", coefficient=3)
    with pytest.raises(OutcomesError, match="collinear"):
        ols_cluster(np.column_stack([X, X[:, 1] * 2]), y, clusters, kind="CR2")
    with pytest.raises(OutcomesError, match="positive"):
        ols_cluster(X, y, clusters, kind="CR1", weights=np.r_[0.0, w[1:]])
    with pytest.raises(OutcomesError, match="does not match"):
        ols_cluster(X, y[:-1], clusters, kind="CR1")
    with pytest.raises(OutcomesError, match="does not match"):
        ols_cluster(X, y, clusters[:-1], kind="CR1")
    with pytest.raises(OutcomesError, match="too few rows"):
        ols_cluster(X[:3], y[:3], clusters[:3], kind="HC3")
    with pytest.raises(OutcomesError, match="leverage 1"):
        ols_cluster(np.column_stack([X, np.eye(60)[0]]), y, None, kind="HC3")
    with pytest.raises(OutcomesError, match="'CR1' or 'CR2'"):
        cluster_mean_se(y, clusters, kind="HC3")
