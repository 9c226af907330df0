"""Graph-based multi-view clustering: the SwMC, ONMSC and SMCMB rows of DDMC's main table.

* :class:`SwMC` — Nie, Li & Li, "Self-weighted multiview clustering with multiple graphs", IJCAI 2017.
* :class:`ONMSC` — Zhou, Liu et al., "Multi-view spectral clustering with optimal neighborhood Laplacian matrix",
  AAAI 2020 (DDMC's slides spell it "ONMMSC").
* :class:`SMCMB` — Lao, Huang, Wang & Lai, "Towards scalable multi-view clustering via joint learning of many
  bipartite graphs", IEEE Transactions on Big Data 2023.

Each class follows the authors' MATLAB code (SwMC: github.com/kylejingli/SwMC-IJCAI17; ONMSC:
github.com/xinwangliu/ONMSC; SMCMB: github.com/huangdonghere/SMCMB), read and re-written here in numpy/scipy;
every deviation is named in the class docstring. RMKMC lives in :mod:`mmc_lib.methods.classical.rmkmc`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import eigsh
from sklearn.cluster import KMeans
from sklearn.neighbors import NearestNeighbors

from mmc_lib.methods.shared import gaussian_affinity
from mmc_lib.runtime import one_thread
from mmc_lib.validation import check_n_clusters, check_views


# ---------------------------------------------------------------- shared helpers
def simplex_projection_rows(V: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Project each row of ``V`` onto the probability simplex ``{x ≥ 0, Σx = 1}`` (Duchi et al. 2008).

    ``mask`` (same shape, bool) restricts each row to its True entries (the others come out 0): SwMC's rows live on
    their graph's neighbours only.

    >>> simplex_projection_rows(np.array([[0.5, 0.5], [2.0, 0.0]])).tolist()
    [[0.5, 0.5], [1.0, 0.0]]
    """
    V = np.asarray(V, dtype=np.float64)
    work = V if mask is None else np.where(mask, V, -1e300)
    u = -np.sort(-work, axis=1)  # (n, m) descending
    css = np.cumsum(np.where(u > -1e299, u, 0.0), axis=1)
    j = np.arange(1, V.shape[1] + 1)
    cond = (u - (css - 1.0) / j > 0) & (u > -1e299)
    rho = V.shape[1] - 1 - np.argmax(cond[:, ::-1], axis=1)  # last index where cond holds
    theta = (css[np.arange(len(V)), rho] - 1.0) / (rho + 1.0)
    out = np.maximum(work - theta[:, None], 0.0)
    return out if mask is None else np.where(mask, out, 0.0)


def _smallest_eigvecs(L: sp.spmatrix | np.ndarray, k: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(values, vectors)`` of the ``k`` algebraically smallest eigenpairs of a symmetric matrix, ascending.

    Lanczos on ``σI − L`` (largest end), σ a Gershgorin bound, with a fixed start vector; dense ``eigh`` when small.
    """
    n = L.shape[0]
    if n <= 600 or k >= n - 1:
        dense = L.toarray() if sp.issparse(L) else np.asarray(L)
        from scipy.linalg import eigh

        vals, vecs = eigh((dense + dense.T) / 2, subset_by_index=[0, k - 1])
        return vals, vecs
    absrow = np.asarray(abs(L).sum(axis=1)).ravel()
    sigma = float(absrow.max()) + 1.0
    shifted = sigma * sp.identity(n, format="csr") - L if sp.issparse(L) else sigma * np.eye(n) - L
    v0 = np.random.default_rng(seed).uniform(0.5, 1.5, n)
    vals, vecs = eigsh(shifted, k=k, which="LA", v0=v0, tol=1e-10)
    order = np.argsort(-vals)
    return sigma - vals[order], vecs[:, order]


def _row_normalise(U: np.ndarray) -> np.ndarray:
    return U / np.maximum(np.linalg.norm(U, axis=1, keepdims=True), 1e-12)


def transfer_cut(B, n_clusters: int, *, seed: int = 0, max_iter: int = 100, n_init: int = 3) -> np.ndarray:
    """Transfer cut (Li et al., CVPR 2012): Ncut of an (n, m) bipartite graph through its m × m side.

    ``W_y = Bᵀ D_x⁻¹ B``, its top normalised eigenvectors ``D_y^{-1/2} V`` are carried back to the n rows by
    ``D_x⁻¹ B``, row-normalised and clustered by k-means — O(n m k) instead of O(n²).
    """
    B = sp.csr_matrix(B, dtype=np.float64)
    dx = np.asarray(B.sum(axis=1)).ravel()
    dx[dx == 0] = 1e-10
    Dx_inv = sp.diags(1.0 / dx)
    Wy = (B.T @ Dx_inv @ B).toarray()  # (m, m)
    dy = Wy.sum(axis=1)
    dy_is = 1.0 / np.sqrt(np.maximum(dy, 1e-300))
    nWy = Wy * dy_is[:, None] * dy_is[None, :]
    vals, vecs = np.linalg.eigh((nWy + nWy.T) / 2)
    top = vecs[:, np.argsort(-vals)[:n_clusters]] * dy_is[:, None]  # (m, k) Ncut eigenvectors
    emb = _row_normalise(np.asarray(Dx_inv @ (B @ top)))  # (n, k) transferred
    return KMeans(n_clusters, n_init=n_init, max_iter=max_iter, random_state=seed).fit_predict(emb)


# ---------------------------------------------------------------- SwMC
def adaptive_neighbour_graph(X: np.ndarray, k: int) -> sp.csr_matrix:
    """The adaptive-neighbour graph of Nie et al. 2014 (the authors' ``constructW_PKN``), sparse and symmetric.

    Row i gives its k nearest neighbours (squared distances ``d_i1 ≤ … ≤ d_ik``, next ``d_i,k+1``) the weights
    ``(d_i,k+1 − d_ij) / (k d_i,k+1 − Σ_h d_ih)`` (the closed-form solution of CAN, eq. 9 there), then ``(W+Wᵀ)/2``.
    Memory O(n k).
    """
    n = len(X)
    nn = NearestNeighbors(n_neighbors=min(k + 2, n)).fit(X)
    dist, idx = nn.kneighbors(X)
    dist, idx = dist[:, 1:] ** 2, idx[:, 1:]  # drop self
    d_next = dist[:, k] if dist.shape[1] > k else dist[:, -1]
    dk = dist[:, :k]
    denom = k * d_next - dk.sum(axis=1)
    w = (d_next[:, None] - dk) / np.maximum(denom, 1e-12)[:, None]
    w[denom <= 1e-12] = 1.0 / k  # k+1 equidistant neighbours: uniform weights
    W = sp.csr_matrix((w.ravel(), (np.repeat(np.arange(n), k), idx[:, :k].ravel())), shape=(n, n))
    return ((W + W.T) / 2).tocsr()


def _laplacian(A: sp.csr_matrix) -> sp.csr_matrix:
    A = A - sp.diags(A.diagonal())
    A = (A + A.T) / 2
    return (sp.diags(np.asarray(A.sum(axis=1)).ravel()) - A).tocsr()


def laplacian_smallest_eigvecs(L: sp.csr_matrix, m: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The ``m`` smallest eigenpairs of a sparse graph Laplacian, component by component.

    A graph with several connected components has a repeated eigenvalue 0, which a single-vector Lanczos run can
    miss (it then reports a non-zero sum for the k smallest eigenvalues of a graph that has k components). The
    Laplacian is block diagonal over the components, so each component is solved alone: dense ``eigh`` when small,
    else Lanczos on ``σI − L_c`` (no factorisation: k-NN graphs fill in badly under LU; at n = 5000 this was 1 s
    where shift-invert took 30 s and LOBPCG 7 s).
    """
    n = L.shape[0]
    n_comp, comp = connected_components(L, directed=False)
    values, blocks = [], []
    for c in range(n_comp):
        idx = np.flatnonzero(comp == c)
        Lc = L[idx][:, idx]
        want = min(m, len(idx))
        if len(idx) <= 400 or want >= len(idx) // 5:
            from scipy.linalg import eigh

            vals, vecs = eigh(Lc.toarray(), subset_by_index=[0, want - 1])
        else:  # Lanczos at the top of σI − L_c: 0 is simple on a connected component
            vals, vecs = _smallest_eigvecs(Lc, want, seed=seed)
        for j in range(want):
            values.append(vals[j])
            blocks.append((idx, vecs[:, j]))
    order = np.argsort(values, kind="stable")[:m]
    U = np.zeros((n, m))
    for col, j in enumerate(order):
        idx, vec = blocks[j]
        U[idx, col] = vec
    return np.maximum(np.asarray(values)[order], 0.0), U


class SwMC:
    """Self-weighted multiview clustering with multiple graphs (Nie, Li & Li, IJCAI 2017).

    Learns one graph ``S`` close to every view's graph ``A_v`` whose Laplacian has exactly ``k`` zero eigenvalues
    (so ``k`` connected components = the clusters), with self-learned view weights:

        min_S Σ_v ‖S − A_v‖_F   s.t.  s_i ≥ 0, s_iᵀ1 = 1, rank(L_S) = n − k        (paper eq. 4)

    solved by re-weighting (``α_v = 1 / (2‖S − A_v‖_F)``, eq. 7) around the CLR step (eq. 10–12): with ``F`` the k
    smallest eigenvectors of ``L_S``, each row ``s_i`` is the simplex projection of
    ``(Σ_v α_v a_i^v − λ/2 · d_i^F) / Σ_v α_v`` on the support of ``Σ_v α_v a_i^v``, and λ is doubled/halved until
    ``L_S`` has exactly k zero eigenvalues (the authors' ``CLR.m``; we count the components of S, which is the same
    test without the eigenvalue round-off).

    Memory: every graph is a sparse k-NN graph and ``S`` lives on the union of the views' supports, so memory is
    O(n · d_max) with d_max the largest row degree of that union (about k_nn · V, more at hub points) — never an
    n × n dense array. Measured (``benchmarks/bench_graph_scaling.py``, tracemalloc peak): 9 MiB at n = 1000, 17 MiB
    at 2000, 92 MiB at 5000 rows of MNIST-USPS (V = 2, k_nn = 10), against 190 MiB for one dense 5000 × 5000 matrix.

    Deviations from the authors' code:

    * Their graphs are dense n × n ``constructW_PKN`` matrices; ours are the same weights stored sparse.
    * Initial α: they draw ``rand(1, V)``; we draw it from ``seed`` (same law).
    * Eigenvectors per connected component (dense ``eigh``, or Lanczos with a fixed start vector) instead of one
      full dense ``eig``.
    * When the final graph does not have exactly k components (their code prints "Can not find the correct cluster
      number" and scores the components as they are), we return k-means (``seed``) on the rows of ``F``, the
      k-dimensional spectral embedding of ``S``, so ``labels_`` always has ≤ k clusters; ``n_components_`` and
      ``used_components_`` say which case happened.
    * ``n_neighbors=10``: the number of graph neighbours; the paper's experiments construct graphs as in CLR
      (Nie et al. 2016); the value 10 is ours (not read in the paper).

    Parameters
    ----------
    n_clusters : int
    n_neighbors : int
        Neighbours per row of each view's adaptive-neighbour graph.
    max_iter : int
        Outer re-weighting rounds (authors: 50).
    clr_iter : int
        λ-adjusting rounds inside each CLR step (authors: 50).
    lam : float
        λ at the start of each CLR step (authors: 1).
    seed : int

    Attributes
    ----------
    labels_, view_weights_ (α, normalised to sum 1), graph_ (sparse S), n_components_, used_components_,
    history_ (per outer round: ``{"iter", "objective" = Σ_v ‖S − A_v‖_F, "n_components", "lam"}``).
    """

    def __init__(self, n_clusters: int, *, n_neighbors: int = 10, max_iter: int = 50, clr_iter: int = 50,
                 lam: float = 1.0, tol: float = 1e-8, seed: int = 0, device: str = "cpu"):
        self.n_clusters = n_clusters
        self.n_neighbors = n_neighbors
        self.max_iter = max_iter
        self.clr_iter = clr_iter
        self.lam = lam
        self.tol = tol
        self.seed = seed
        self.device = device

    @one_thread
    def fit(self, views, y=None):
        views = check_views(views)
        n = views[0].shape[0]
        k = check_n_clusters(self.n_clusters, n)
        if not (isinstance(self.n_neighbors, (int, np.integer)) and 1 <= self.n_neighbors < n - 1):
            raise ValueError(f"SwMC.n_neighbors must be an int in [1, n_samples - 2], got {self.n_neighbors!r}")
        graphs = [adaptive_neighbour_graph(v.astype(np.float64), self.n_neighbors) for v in views]
        alpha = np.random.default_rng(self.seed).random(len(graphs))
        alpha /= alpha.sum()
        S, self.history_, previous = None, [], np.inf
        for it in range(self.max_iter):
            S, F, lam, n_comp = self._clr(graphs, alpha, k, S)
            gaps = np.array([sp.linalg.norm(S - A) for A in graphs])
            alpha = 0.5 / np.maximum(gaps, 1e-12)  # eq. 7
            objective = float(gaps.sum())
            self.history_.append({"iter": it, "objective": objective, "n_components": n_comp, "lam": lam})
            if abs(previous - objective) < self.tol:
                break
            previous = objective
        A = (S + S.T) / 2
        self.n_components_, comp = connected_components(A, directed=False)
        self.used_components_ = self.n_components_ == k
        if self.used_components_:
            labels = comp
        else:
            labels = KMeans(k, n_init=10, random_state=self.seed).fit_predict(_row_normalise(F))
        self.labels_ = np.asarray(labels, dtype=np.int64)
        self.graph_, self.view_weights_, self.embedding_ = A.tocsr(), alpha / alpha.sum(), F
        return self

    def fit_predict(self, views, y=None) -> np.ndarray:
        return self.fit(views, y).labels_

    def _clr(self, graphs, alpha, k, S0):
        """The CLR step (authors' ``CLR.m``): S on the support of Σ α_v A_v with exactly k components if possible."""
        combined = sum(a * A for a, A in zip(alpha, graphs)).tocsr()
        combined.eliminate_zeros()
        start = combined if S0 is None else S0
        F = laplacian_smallest_eigvecs(_laplacian(start), k + 1, seed=self.seed)[1][:, :k]
        lam, zr = self.lam, 1e-10
        rows, cols = combined.nonzero()
        indptr = combined.indptr
        lengths = np.diff(indptr)
        width = int(lengths.max())
        pos = np.arange(len(cols)) - np.repeat(indptr[:-1], lengths)  # position of each entry in its row
        a_dense = np.zeros((combined.shape[0], width))
        mask = np.zeros_like(a_dense, dtype=bool)
        a_dense[rows, pos] = combined.data
        mask[rows, pos] = True
        S = start
        n_comp = 0
        for _ in range(self.clr_iter):
            d = np.zeros_like(a_dense)
            d[rows, pos] = ((F[rows] - F[cols]) ** 2).sum(axis=1)  # ‖f_i − f_j‖² on the support
            target = (a_dense - 0.5 * lam * d) / alpha.sum()
            s = simplex_projection_rows(target, mask)
            s[s < zr] = 0.0  # a weight below the authors' eigenvalue tolerance counts as no edge
            S = sp.csr_matrix((s[rows, pos], (rows, cols)), shape=combined.shape)
            S.eliminate_zeros()
            F_old = F
            L = _laplacian(S)
            F = laplacian_smallest_eigvecs(L, k + 1, seed=self.seed)[1][:, :k]
            # Σ of the k (k+1) smallest eigenvalues of L is 0 iff S has ≥ k (> k) components: count them exactly
            n_comp = connected_components(L, directed=False)[0]
            if n_comp < k:
                lam *= 2.0
            elif n_comp > k:
                lam /= 2.0
                F = F_old
            else:
                break
        return S, F, lam, n_comp


# ---------------------------------------------------------------- ONMSC
def _normalised_laplacian(K: np.ndarray) -> np.ndarray:
    """``I − D^{-1/2} K D^{-1/2}`` with the diagonal of K removed (authors' ``LaplicanGeneration``)."""
    K = K.copy()
    np.fill_diagonal(K, 0.0)
    d = K.sum(axis=1)
    d[d == 0] = 1.0
    d = 1.0 / np.sqrt(np.maximum(d, 1e-10))
    L = -(K * d[:, None] * d[None, :])
    L[np.diag_indices_from(L)] += 1.0
    return L


def _complete_empty_rows(K: np.ndarray, reference: np.ndarray, n_links: int) -> np.ndarray:
    """Rows of K with no link get ``n_links`` links, of mean weight, to their top neighbours in ``reference``."""
    empty = np.flatnonzero((K != 0).sum(axis=1) == 0)
    if empty.size:
        value = K.mean()
        ref = reference[empty].copy()
        ref[np.arange(len(empty)), empty] = -np.inf
        top = np.argsort(-ref, axis=1)[:, :n_links]
        K[np.repeat(empty, n_links), top.ravel()] = value
    return K


def _local_kernels(kernels: list[np.ndarray], k: int) -> list[np.ndarray]:
    """Authors' ``V9_LocalKernelCalculation``: keep each kernel on the n/k-NN graph of the average kernel, clip."""
    n = kernels[0].shape[0]
    prepared = []
    for K in kernels:  # remove_large, knorm, kcenter, divide_std — only to rank neighbours
        m, s = K.mean(), K.std()
        K = np.clip(K, m - 4 * s, m + 4 * s)
        dg = np.sqrt(np.maximum(np.diag(K), 1e-12))
        K = K / dg[:, None] / dg[None, :]
        col = K.mean(axis=0)
        K = K - col[None, :] - col[:, None] + col.mean()
        prepared.append(K / max(K.std(), 1e-12))
    avg = sum(prepared) / len(prepared)
    del prepared
    tau = max(1, round(n / k))  # NNRate = 1: n/k neighbours
    ranked = avg - 1e18 * np.eye(n)
    top = np.argpartition(-ranked, tau - 1, axis=0)[:tau]  # (tau, n): column j's neighbours
    aff = np.zeros((n, n))
    aff[top.ravel(), np.tile(np.arange(n), tau)] = 1.0  # top[t, j]: t-th neighbour of j
    aff = aff + aff.T
    out = []
    for K in kernels:
        C = np.maximum(K * aff, 0.0)
        m, s = C.mean(), C.std()
        C = np.clip(C, max(0.0, m - 3 * s), m + 3 * s)
        out.append(_complete_empty_rows(C, avg, 2))
    return out


def _high_order_laplacian(L: np.ndarray) -> np.ndarray:
    """Authors' ``HO_laplacian``: square the normalised affinity, drop weak links, re-normalise."""
    A = np.diag(np.diag(L)) - L
    A2 = A @ A
    positive = A2[A2 > 0]
    A2_thr = A2.copy()
    if positive.size:
        A2_thr[A2_thr < positive.mean() - positive.std() / 2] = 0.0
    L2 = _normalised_laplacian(A2_thr)
    return _complete_empty_rows(L2, A2, 1)


class ONMSC:
    """Multi-view spectral clustering with optimal neighborhood Laplacian matrix (Zhou, Liu et al., AAAI 2020).

    DDMC's slides list "ONMMSC (AAAI'20)"; the AAAI 2020 paper whose method is named ONMSC is this one (Zhou, Liu,
    Liu, Guo, Zhao, Zhu, Zhai, Yin & Gao, AAAI 34(4):6965–6972); we are fairly sure (≈ 85 %) it is the one meant —
    the name, venue and year match and no other AAAI'20 multi-view method has that acronym.

    The optimal Laplacian ``L_E = I − W Λ Wᵀ`` is searched in the neighbourhood of the weighted first-order and
    high-order base Laplacians ``L_o = Σ_p γ_p L_p^{(o)}`` (o = 1, 2). The authors' code (``V9_MSC.m``) minimises

        tr(L_E H Hᵀ) + Σ_o ‖L_E − L_o‖_F² + λ γᵀ N γ,   HᵀH = I, WᵀW = I, 0 ≤ Λ_ii ≤ 1, Σ_p γ_p = 1,

    (``N`` the cosine similarities between base Laplacians of each order, summed over orders) by alternating:
    Λ in closed form, γ by an equality-constrained QP (closed form), W the k smallest eigenvectors of
    ``2ΣL_o − HHᵀ``, H the k smallest of ``L_E`` (= the columns of W, largest Λ first); then k-means on the row-normalised H.

    Base kernels: a Gaussian kernel per view (median-heuristic bandwidth, :func:`mmc_lib.methods.shared.gaussian_affinity`),
    localised as in the authors' ``V9_LocalKernelCalculation`` (n/k nearest neighbours of the average kernel).

    Memory and time: dense n × n matrices (about 12 of them in float64: 2.4 GB at n = 5000), O(n³) for the
    high-order Laplacians — the paper's method is not a scalable one.

    Deviations from the authors' code:

    * λ: their demo scores every λ in 2^{-15:3:15} with the labels and reports the best; we use one fixed value,
      ``lam=1`` (2⁰, the grid's centre), never chosen by labels.
    * Their inputs are precomputed kernels; ours are Gaussian kernels on the features.
    * W: the k *algebraically* smallest eigenvectors of ``2ΣL_o − HHᵀ`` (the minimiser of the objective in W); their
      ``eigs(…, 'sm')`` takes the smallest in magnitude, which differs when that matrix has negative eigenvalues.
    * Λ and γ in closed form instead of ``quadprog`` (the same minimisers; γ has no sign constraint in their code, nor
      in ours).
    * Final k-means: scikit-learn with ``n_init=50`` (their ``litekmeans`` with 50 replicates).

    Attributes
    ----------
    labels_, kernel_weights_ (γ), embedding_ (H), history_ (per round ``{"iter", "objective"}``).
    """

    def __init__(self, n_clusters: int, *, lam: float = 1.0, max_iter: int = 30, tol: float = 1e-4,
                 seed: int = 0, device: str = "cpu"):
        self.n_clusters = n_clusters
        self.lam = lam
        self.max_iter = max_iter
        self.tol = tol
        self.seed = seed
        self.device = device

    @one_thread
    def fit(self, views, y=None):
        views = check_views(views)
        n = views[0].shape[0]
        k = check_n_clusters(self.n_clusters, n)
        if not (isinstance(self.lam, (int, float)) and self.lam >= 0):
            raise ValueError(f"ONMSC.lam must be a number >= 0, got {self.lam!r}")
        kernels = _local_kernels([gaussian_affinity(v) for v in views], k)
        first = [_normalised_laplacian(K) for K in kernels]
        del kernels
        second = [_high_order_laplacian(L) for L in first]
        orders = [first, second]
        N = sum(self._gram(Ls, cosine=True) for Ls in orders) * self.lam
        M = sum(self._gram(Ls, cosine=False) for Ls in orders)
        P = len(views)
        gamma = np.full(P, 1.0 / P)
        LC = [sum(g * L for g, L in zip(gamma, Ls)) for Ls in orders]
        H = _smallest_eigvecs(LC[0] + LC[1], k, seed=self.seed)[1]
        W = _smallest_eigvecs(2 * (LC[0] + LC[1]) - H @ H.T, k, seed=self.seed)[1]
        self.history_ = []
        previous = None
        for it in range(self.max_iter):
            bb = np.diag(2 * W.T @ (LC[0] @ W + LC[1] @ W - 0.5 * H @ (H.T @ W))) - 4.0
            lam_diag = np.clip(-bb / 4.0, 0.0, 1.0)  # argmin 2λ² + bb·λ on [0, 1]
            gamma = self._update_gamma(orders, W, lam_diag, M, N)
            LC = [sum(g * L for g, L in zip(gamma, Ls)) for Ls in orders]
            W = _smallest_eigvecs(2 * (LC[0] + LC[1]) - H @ H.T, k, seed=self.seed)[1]
            WL = W * lam_diag[None, :]
            L_E = np.eye(n) - WL @ W.T
            H = W[:, np.argsort(-lam_diag, kind="stable")]  # eigenvectors of L_E = I − WΛWᵀ, smallest 1 − λ first
            objective = self._objective(L_E, H, LC, gamma, N)
            del L_E
            self.history_.append({"iter": it, "objective": objective})
            if previous is not None and it >= 3 and abs((previous - objective) / previous) < self.tol:
                break
            previous = objective
        self.embedding_ = H
        self.kernel_weights_ = gamma
        self.labels_ = KMeans(k, n_init=50, max_iter=100, random_state=self.seed).fit_predict(_row_normalise(H))
        self.labels_ = self.labels_.astype(np.int64)
        return self

    def fit_predict(self, views, y=None) -> np.ndarray:
        return self.fit(views, y).labels_

    @staticmethod
    def _gram(Ls: list[np.ndarray], *, cosine: bool) -> np.ndarray:
        """``tr(L_p L_q)`` (or its cosine) between base Laplacians (authors' ``L_Similarity`` / ``Cor_Calculation``)."""
        G = np.array([[float((Lp * Lq).sum()) for Lq in Ls] for Lp in Ls])
        if cosine:
            norms = np.sqrt(np.diag(G))
            G = G / np.outer(norms, norms)
        return G

    @staticmethod
    def _update_gamma(orders, W, lam_diag, M, N) -> np.ndarray:
        """min γᵀ(M + N)γ − 2pᵀγ s.t. Σγ = 1, ``p_p = Σ_o tr(L_p^{(o)} L_E)`` — the KKT system in closed form."""
        P = M.shape[0]
        WL = W * lam_diag[None, :]
        p = np.zeros(P)
        for Ls in orders:
            for i, L in enumerate(Ls):
                # tr(L (I − W Λ Wᵀ)) = tr(L) − tr(Λ Wᵀ L W)
                p[i] += np.trace(L) - float((WL * (L @ W)).sum())
        Q = 2 * (M + N)
        kkt = np.block([[Q, np.ones((P, 1))], [np.ones((1, P)), np.zeros((1, 1))]])
        rhs = np.r_[2 * p, 1.0]
        return np.linalg.lstsq(kkt, rhs, rcond=None)[0][:P]

    @staticmethod
    def _objective(L_E, H, LC, gamma, N) -> float:
        fit = float((L_E * (H @ H.T)).sum())
        near = sum(float(((L_E - L) ** 2).sum()) for L in LC)
        return fit + near + float(gamma @ N @ gamma)


# ---------------------------------------------------------------- SMCMB
def _bipartite_codes(X: np.ndarray, anchors: np.ndarray, beta: float, n_iter: int) -> tuple[np.ndarray, list[float]]:
    """Each row's anchor weights: ``min_z ‖x − Aᵀz‖² + β‖z‖²`` over the simplex (authors' per-row ``quadprog``).

    Solved for all rows at once by accelerated projected gradient (FISTA); returns ``(Z (n, q), objective per step)``.
    """
    Q = anchors @ anchors.T + beta * np.eye(len(anchors))  # (q, q)
    lin = X @ anchors.T  # (n, q) = x_iᵀ Aᵀ
    step = 1.0 / (2.0 * np.linalg.eigvalsh(Q)[-1])
    Z = np.full((len(X), len(anchors)), 1.0 / len(anchors))
    Y, t, history = Z, 1.0, []
    const = float((X * X).sum())
    for _ in range(n_iter):
        Z_new = simplex_projection_rows(Y - step * 2.0 * (Y @ Q - lin))
        t_new = (1 + np.sqrt(1 + 4 * t * t)) / 2
        Y = Z_new + ((t - 1) / t_new) * (Z_new - Z)
        Z, t = Z_new, t_new
        history.append(float(((Z @ Q) * Z).sum() - 2 * (lin * Z).sum() + const))
    return Z, history


class SMCMB:
    """Scalable multi-view clustering via many bipartite graphs (Lao, Huang, Wang & Lai, IEEE TBD 2023).

    Following the authors' ``SMCMB.m``: for each view, ``m`` anchor sets of ``q`` anchors (k-means on the view, each
    set from a different random start); for each anchor set a bipartite graph ``Z`` (n × q) with rows

        z_i = argmin_{z ≥ 0, 1ᵀz = 1} ‖x_i − Aᵀ z‖² + β ‖z‖²

    each graph cut into k clusters by transfer cut (Li et al. 2012); the V·m base clusterings are fused by a
    transfer cut of the sample × cluster bipartite graph. Cost O(n · q² · iterations) per graph, memory O(n · q).

    Defaults: the authors' demo: ``m=5`` graphs per view, ``q=100`` anchors, ``beta=1e-4``.

    Deviations from the authors' code:

    * Anchors: scikit-learn k-means (20 iterations, 2 random restarts, seeded) instead of ``litekmeans`` with the same
      settings; they k-means a random subsample of 10 000 rows (all rows on our data sets).
    * The per-row QP is solved by FISTA (``qp_iter=100`` steps, vectorised over rows) instead of MATLAB's interior
      point ``quadprog``: the same convex problem, solved to a tolerance rather than exactly.
    * Anchor count capped at n − 1; a graph with fewer distinct anchors than k falls back to that many clusters, as
      in their ``try/catch``.

    Attributes
    ----------
    labels_, base_labels_ (n, V·m), history_ (one row per graph ``{"graph", "view", "objective"}`` — the QP objective
    after the last step — and ``objectives_`` the full per-step curves).
    """

    def __init__(self, n_clusters: int, *, n_graphs: int = 5, n_anchors: int = 100, beta: float = 1e-4,
                 qp_iter: int = 100, seed: int = 0, device: str = "cpu"):
        self.n_clusters = n_clusters
        self.n_graphs = n_graphs
        self.n_anchors = n_anchors
        self.beta = beta
        self.qp_iter = qp_iter
        self.seed = seed
        self.device = device

    def _check_params(self) -> None:
        for name in ("n_graphs", "n_anchors", "qp_iter"):
            value = getattr(self, name)
            if not (isinstance(value, (int, np.integer)) and value >= 1):
                raise ValueError(f"SMCMB.{name} must be an int >= 1, got {value!r}")
        if not (isinstance(self.beta, (int, float)) and self.beta >= 0):
            raise ValueError(f"SMCMB.beta must be a number >= 0, got {self.beta!r}")

    @one_thread
    def fit(self, views, y=None):
        views = [v.astype(np.float64) for v in check_views(views)]
        n = views[0].shape[0]
        k = check_n_clusters(self.n_clusters, n)
        self._check_params()
        q = min(self.n_anchors, n - 1)
        rng = np.random.default_rng(self.seed)
        base, self.history_, self.objectives_ = [], [], []
        for v, X in enumerate(views):
            for j in range(self.n_graphs):
                km_seed = int(rng.integers(2**31 - 1))
                anchors = KMeans(q, init="random", n_init=2, max_iter=20, random_state=km_seed).fit(X).cluster_centers_
                Z, curve = _bipartite_codes(X, anchors, self.beta, self.qp_iter)
                self.history_.append({"graph": len(base), "view": v, "objective": curve[-1]})
                self.objectives_.append(curve)
                base.append(self._cut(Z, k, int(rng.integers(2**31 - 1)), max_iter=50, n_init=2))
        self.base_labels_ = np.stack(base, axis=1)
        self.labels_ = self._consensus(self.base_labels_, k, int(rng.integers(2**31 - 1))).astype(np.int64)
        return self

    def fit_predict(self, views, y=None) -> np.ndarray:
        return self.fit(views, y).labels_

    @staticmethod
    def _cut(Z: np.ndarray, k: int, seed: int, **kw) -> np.ndarray:
        used = int((Z.sum(axis=0) > 0).sum())
        return transfer_cut(Z, min(k, max(used, 2)), seed=seed, **kw)

    @staticmethod
    def _consensus(base: np.ndarray, k: int, seed: int) -> np.ndarray:
        """Transfer cut of the n × (all base clusters) membership graph (authors' ``consensusFunction``)."""
        n, M = base.shape
        offsets = np.r_[0, np.cumsum(base.max(axis=0) + 1)[:-1]]
        cols = (base + offsets[None, :]).ravel()
        B = sp.csr_matrix((np.ones(n * M), (np.repeat(np.arange(n), M), cols)))
        B = B[:, np.flatnonzero(np.asarray(B.sum(axis=0)).ravel() > 0)]
        return transfer_cut(B, k, seed=seed, max_iter=100, n_init=3)
