"""TreeVAE (Manduchi, Vandenhirtz, Ryser & Vogt, NeurIPS 2023): a VAE whose latent space is a learned binary tree.

Generative model (paper eq. 1–3): a root latent ``z_0 ~ N(0, I)``; each internal node ``i`` routes left with
``p(c_i = left | z_i)`` (a small MLP, the *generative router*); a child's latent is ``z_j ~ N(μ_p(z_i), σ_p²(z_i))``
(a per-node *transformation*); a leaf ``l`` decodes ``p(x | z_l)`` (Bernoulli for MNIST) with its own decoder.

Inference (eq. 5–7, ladder-VAE style, Sønderby et al. 2016): a deterministic bottom-up chain ``d_D → … → d_0``
from the image; node ``i`` at depth ``k`` reads ``d_k`` and its bottom-up estimate ``(μ̂_i, σ̂_i)`` is combined with
its top-down prior by precision weighting, ``σ_q² = 1 / (σ̂⁻² + σ_p⁻²)``, ``μ_q = σ_q² (μ̂ σ̂⁻² + μ_p σ_p⁻²)``;
the *inference router* ``q(c_i = left | d_k)`` reads the bottom-up chain, and paths follow ``q``.

ELBO (eq. 8–10), averaged over the batch and returned as named terms (``"total"`` is the negative ELBO with the KL
weight β of the annealing schedule)::

    rec           = Σ_leaves P_q(leaf | x) · BCE(x, decoder_leaf(z_leaf))
    kl_nodes      = KL(q(z_0|x) ‖ N(0, I)) + Σ_{non-root i} P_q(i | x) · KL(q(z_i | ·) ‖ p(z_i | z_parent))
    kl_decisions  = Σ_{internal i} P_q(i | x) · KL(Bern(q_i) ‖ Bern(p_i))
    total         = rec + β (kl_nodes + kl_decisions)

Growing (paper §2.3): start from a root with two leaves; train; then repeatedly split the leaf holding the most
samples (argmax leaf), train only the new two-leaf subtree (the rest frozen) on the samples of that leaf, fine-tune the
whole tree every ``finetune_every`` splits, and prune leaves holding fewer than ``prune_fraction`` of the samples;
stop at ``n_clusters`` effective leaves or when no leaf is above ``max_depth``. A final full fine-tune ends the fit.

What we leave out, on purpose: the contrastive router term of the paper's CIFAR/CelebA experiments (MNIST needs no
augmentations; ``contrastive`` is not an option here), and the convolutional encoder of TreeDiffusion's TreeVAE (ours
is the MLP variant that TreeVAE used for MNIST). A pruned leaf is removed and its parent routes every sample to the
surviving child (the official code instead moves the sibling subtree up a level; the clustering is the same).

>>> rng = np.random.default_rng(0)
>>> x = (rng.random((64, 1, 28, 28)) > 0.7).astype("float32")
>>> cfg = TreeVAEConfig(epochs=1, split_epochs=1, finetune_epochs=1, final_epochs=1, batch_size=32)
>>> model = TreeVAE(3, max_depth=2, config=cfg).fit(x)
>>> model.labels_.shape, model.n_leaves_ <= 3
((64,), True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mmc_lib.nn import Hooks, adam, minibatches, mlp, seeded, train
from mmc_lib.runtime import one_thread, progress, resolve_device

LOGVAR_LIMIT = 8.0  # |log σ²| bound of every Gaussian (variances in [3e-4, 3e3])


@dataclass(frozen=True)
class TreeVAEConfig:
    """Networks and growing schedule of :class:`TreeVAE` (MLP variant, MNIST-sized)."""

    encoder_hidden: tuple[int, ...] = (256,)  # image → d_D (the deepest bottom-up state)
    bottom_up: int = 128  # width of every bottom-up state d_k
    latent_dim: int = 8  # size of every node latent z_i
    transform_hidden: int = 64  # hidden units of each top-down transformation z_parent → (μ_p, σ_p)
    router_hidden: int = 64  # hidden units of each router
    decoder_hidden: tuple[int, ...] = (128, 256)  # leaf decoders z_leaf → image logits
    epochs: int = 30  # training of the initial root + 2 leaves
    split_epochs: int = 10  # training of each new subtree (rest frozen)
    finetune_epochs: int = 5  # full fine-tune after every ``finetune_every`` splits
    finetune_every: int = 3
    final_epochs: int = 20  # full fine-tune once the tree is grown
    anneal_epochs: int = 5  # KL weight β rises linearly from 1/anneal_epochs to 1 in the root and subtree phases
    batch_size: int = 256
    lr: float = 1e-3
    prune_fraction: float = 0.01  # leaves holding less than this share of the samples are pruned
    finetune_routers: bool = True  # train the routers in the full-tree fine-tunes too (the paper does)
    router_steps: int = 100  # warm start of each new split's routers on a 2-means of the node latent (0: off)
    max_splits: int | None = None  # safety cap on growth steps (None: 2 · n_clusters)


@dataclass
class _Node:
    id: int
    depth: int
    parent: int | None
    children: list = field(default_factory=list)  # ids of the kept children (1 after a pruning, 2, or 0 = leaf)
    left: int | None = None  # id of the left child (what the router's "left" means), kept after pruning

    @property
    def is_leaf(self) -> bool:
        return not self.children


class _Tree(nn.Module):
    """The networks of a TreeVAE with its current topology (``nodes``); inputs already validated."""

    def __init__(self, n_pixels: int, max_depth: int, cfg: TreeVAEConfig):
        super().__init__()
        self.cfg, self.max_depth, self.n_pixels = cfg, max_depth, n_pixels
        # BatchNorm in the bottom-up chain and the routers (as in the official code): without it the bottom-up
        # states of a fresh network differ by ~1e-4 between images, the routers cannot tell images apart and the
        # first split sends everything to one child
        self.encoder = mlp([n_pixels, *cfg.encoder_hidden, cfg.bottom_up], activation="leaky_relu",
                           final_activation=True)
        # bottom-up chain: d_D = encoder(x), d_{k-1} = f_k(d_k); node at depth k reads d_k (the root reads d_0)
        self.up = nn.ModuleList(mlp([cfg.bottom_up, cfg.bottom_up], activation="leaky_relu", final_activation=True)
                                for _ in range(max_depth))
        self.post, self.prior = nn.ModuleDict(), nn.ModuleDict()
        self.router_p, self.router_q, self.decoder = nn.ModuleDict(), nn.ModuleDict(), nn.ModuleDict()
        self.nodes: dict[int, _Node] = {}
        root = self._add_node(None)
        self._split(root.id)

    # -- topology -------------------------------------------------------------------------------------------
    def _add_node(self, parent: int | None) -> _Node:
        cfg, nid = self.cfg, len(self.nodes) and max(self.nodes) + 1
        node = _Node(nid, 0 if parent is None else self.nodes[parent].depth + 1, parent)
        self.nodes[nid] = node
        self.post[str(nid)] = nn.Linear(cfg.bottom_up, 2 * cfg.latent_dim)  # d_k → (μ̂, log σ̂²)
        if parent is not None:
            self.prior[str(nid)] = mlp([cfg.latent_dim, cfg.transform_hidden, 2 * cfg.latent_dim], batchnorm=False,
                                       activation="leaky_relu")
        self.decoder[str(nid)] = mlp([cfg.latent_dim, *cfg.decoder_hidden, self.n_pixels], batchnorm=False,
                                     activation="leaky_relu")
        return node

    def _split(self, nid: int) -> list[int]:
        """Turn leaf ``nid`` into an internal node with two new leaves; return the new modules' node ids."""
        cfg, node = self.cfg, self.nodes[nid]
        parent_decoder = self.decoder.pop(str(nid))
        self.router_p[str(nid)] = mlp([cfg.latent_dim, cfg.router_hidden, 1], activation="leaky_relu")
        self.router_q[str(nid)] = mlp([cfg.bottom_up, cfg.router_hidden, 1], activation="leaky_relu")
        children = [self._add_node(nid).id for _ in range(2)]
        # the two children start as exact twins (decoders copied from the split leaf's): equally good at first, so
        # the router's initial partition decides who specialises on what instead of one child winning everything
        source = parent_decoder if nid != 0 else self.decoder[str(children[0])]
        for c in children:
            self.decoder[str(c)].load_state_dict(source.state_dict())
        for name in ("post", "prior"):  # twins: only the router's partition tells the two children apart
            getattr(self, name)[str(children[1])].load_state_dict(getattr(self, name)[str(children[0])].state_dict())
        node.children, node.left = children, children[0]
        return children

    def leaves(self) -> list[int]:
        """Leaf ids, left to right (depth-first): leaf ``k`` of this list is cluster ``k``."""
        out, stack = [], [0]
        while stack:
            node = self.nodes[stack.pop()]
            if node.is_leaf:
                out.append(node.id)
            stack.extend(reversed(node.children))
        return out

    def path(self, nid: int) -> list[int]:
        """Node ids from the root to ``nid``."""
        out = [nid]
        while self.nodes[out[-1]].parent is not None:
            out.append(self.nodes[out[-1]].parent)
        return out[::-1]

    def subtree_parameters(self, nid: int):
        """Parameters of node ``nid``'s router and of everything below it (what a growth step trains)."""
        keys = set()
        stack = [nid]
        while stack:
            n = self.nodes[stack.pop()]
            keys.add(str(n.id))
            stack.extend(n.children)
        for name in ("router_p", "router_q"):
            if str(nid) in getattr(self, name):
                yield from getattr(self, name)[str(nid)].parameters()
        for key in keys - {str(nid)}:
            for name in ("post", "prior", "decoder", "router_p", "router_q"):
                if key in getattr(self, name):
                    yield from getattr(self, name)[key].parameters()

    # -- inference ------------------------------------------------------------------------------------------
    def bottom_up(self, x: torch.Tensor) -> list[torch.Tensor]:
        """``[d_0, …, d_D]``, each (B, bottom_up); d_0 is the most processed (read by the root)."""
        d = [self.encoder(x.flatten(1))]
        for f in self.up:
            d.append(f(d[-1]))
        return d[::-1]

    def infer(self, x: torch.Tensor, *, sample: bool = True) -> dict:
        """Walk the tree top-down: per node its path probability (B,), latent z (B, L) and KL terms (B,)."""
        d = self.bottom_up(x)
        out: dict = {"prob": {}, "z": {}, "kl_node": {}, "kl_dec": {}, "mu": {}}
        stack = [(0, torch.ones(x.shape[0], device=x.device), None)]
        while stack:
            nid, prob, z_parent = stack.pop()
            node = self.nodes[nid]
            mu_hat, logvar_hat = self.post[str(nid)](d[node.depth]).chunk(2, dim=1)  # (B, L) each
            logvar_hat = logvar_hat.clamp(-LOGVAR_LIMIT, LOGVAR_LIMIT)  # keeps the precisions finite
            if z_parent is None:  # root prior N(0, I)
                mu_p, logvar_p = torch.zeros_like(mu_hat), torch.zeros_like(mu_hat)
            else:
                mu_p, logvar_p = self.prior[str(nid)](z_parent).chunk(2, dim=1)
                logvar_p = logvar_p.clamp(-LOGVAR_LIMIT, LOGVAR_LIMIT)
            mu_q, logvar_q = precision_weighted(mu_hat, logvar_hat, mu_p, logvar_p)  # TreeVAE eq. 6
            z = mu_q + torch.randn_like(mu_q) * (0.5 * logvar_q).exp() if sample else mu_q
            out["prob"][nid], out["z"][nid], out["mu"][nid] = prob, z, mu_q
            out["kl_node"][nid] = normal_kl(mu_q, logvar_q, mu_p, logvar_p)  # (B,)
            if node.is_leaf:
                continue
            # the inference router reads a stop-gradient copy of d: the encoder cannot move every sample to one
            # side to please the reconstruction (it did, in our runs, and the tree collapsed to a chain)
            q_left = torch.sigmoid(self.router_q[str(nid)](d[node.depth].detach())).squeeze(1).clamp(1e-6, 1 - 1e-6)
            p_left = torch.sigmoid(self.router_p[str(nid)](z)).squeeze(1).clamp(1e-6, 1 - 1e-6)
            if len(node.children) == 1:  # a pruned sibling: every sample goes to the survivor, no decision
                out["kl_dec"][nid] = torch.zeros_like(prob)
                stack.append((node.children[0], prob, z))
                continue
            out["kl_dec"][nid] = bernoulli_kl(q_left, p_left)
            stack.append((node.children[1], prob * (1 - q_left), z))
            stack.append((node.children[0], prob * q_left, z))
        return out

    def losses(self, x: torch.Tensor, beta: float) -> dict[str, torch.Tensor]:
        """The negative ELBO's named terms (module docstring), batch means."""
        inf = self.infer(x)
        target = x.flatten(1)
        rec = sum(inf["prob"][leaf] * F.binary_cross_entropy_with_logits(
            self.decoder[str(leaf)](inf["z"][leaf]), target, reduction="none").sum(1) for leaf in self.leaves())
        kl_nodes = sum(inf["prob"][n] * inf["kl_node"][n] for n in inf["kl_node"])  # root has prob 1
        kl_dec = sum(inf["prob"][n] * inf["kl_dec"][n] for n in inf["kl_dec"])
        rec, kl_nodes, kl_dec = rec.mean(), kl_nodes.mean(), kl_dec.mean()
        return {"rec": rec, "kl_nodes": kl_nodes, "kl_decisions": kl_dec, "elbo": -(rec + kl_nodes + kl_dec),
                "total": rec + beta * (kl_nodes + kl_dec)}

    # -- generation -----------------------------------------------------------------------------------------
    def generate(self, n: int, *, generator: torch.Generator, leaf: int | None = None) -> dict:
        """Ancestral sampling from the prior; ``leaf`` forces every sample down the path to that leaf id.

        Returns ``images`` (n, P) Bernoulli means, ``leaf`` ids (n,) and ``z`` {node id: (n, L)} along each path
        (rows whose path does not visit a node hold zeros there).
        """
        device = next(self.parameters()).device
        L = self.cfg.latent_dim
        z = {0: torch.randn(n, L, generator=generator).to(device)}
        at = torch.zeros(n, dtype=torch.long)  # current node of every sample
        forced = set(self.path(leaf)) if leaf is not None else None
        while True:
            moved = False
            for nid in list(torch.unique(at).tolist()):
                node = self.nodes[nid]
                if node.is_leaf:
                    continue
                rows = (at == nid).nonzero().squeeze(1)
                zi = z[nid][rows]
                if forced is not None:
                    child = torch.full((len(rows),), next(c for c in node.children if c in forced))
                elif len(node.children) == 1:
                    child = torch.full((len(rows),), node.children[0])
                else:
                    p_left = torch.sigmoid(self.router_p[str(nid)](zi)).squeeze(1).cpu()
                    go_left = torch.rand(len(rows), generator=generator) < p_left
                    child = torch.where(go_left, torch.tensor(node.children[0]), torch.tensor(node.children[1]))
                for c in child.unique().tolist():
                    sel = rows[child == c]
                    mu_p, logvar_p = self.prior[str(c)](z[nid][sel]).chunk(2, dim=1)
                    logvar_p = logvar_p.clamp(-LOGVAR_LIMIT, LOGVAR_LIMIT)
                    eps = torch.randn(mu_p.shape, generator=generator).to(device)
                    z.setdefault(c, torch.zeros(n, L, device=device))[sel] = mu_p + eps * (0.5 * logvar_p).exp()
                    at[sel] = c
                moved = True
            if not moved:
                break
        images = torch.zeros(n, self.n_pixels, device=device)
        for leaf_id in at.unique().tolist():
            sel = at == leaf_id
            images[sel] = torch.sigmoid(self.decoder[str(leaf_id)](z[leaf_id][sel]))
        return {"images": images, "leaf": at, "z": z}


def precision_weighted(mu_hat, logvar_hat, mu_p, logvar_p):
    """Ladder-VAE posterior: the product of the bottom-up Gaussian and the top-down prior (TreeVAE eq. 6)."""
    prec_hat, prec_p = (-logvar_hat).exp(), (-logvar_p).exp()
    var_q = 1.0 / (prec_hat + prec_p)
    return var_q * (mu_hat * prec_hat + mu_p * prec_p), var_q.log()


def normal_kl(mu_q, logvar_q, mu_p, logvar_p) -> torch.Tensor:
    """KL(N(μ_q, σ_q²) ‖ N(μ_p, σ_p²)) summed over latent dimensions, (B,)."""
    return 0.5 * (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp() - 1).sum(1)


def bernoulli_kl(q: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """KL(Bern(q) ‖ Bern(p)), (B,) — the decision term of TreeVAE eq. 10."""
    return q * (q / p).log() + (1 - q) * ((1 - q) / (1 - p)).log()


def check_images(images, *, name: str = "images") -> np.ndarray:
    """Validate ``(n, 1, H, W)`` finite images (grey levels, ideally in [0, 1]); return float32."""
    arr = np.asarray(images)
    if arr.dtype.kind not in "fiub":
        raise ValueError(f"{name} must be numeric images, got dtype {arr.dtype}")
    arr = arr.astype(np.float32)
    if arr.ndim != 4:
        raise ValueError(f"{name} must be images of shape (n, 1, H, W), got shape {arr.shape}")
    if arr.shape[1] != 1:
        raise ValueError(f"{name} must have 1 channel (grey digits), got {arr.shape[1]} channels")
    if arr.shape[0] < 2:
        raise ValueError(f"{name}: need at least 2 images, got {arr.shape[0]}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains {int((~np.isfinite(arr)).sum())} NaN/inf value(s)")
    if arr.min() < 0 or arr.max() > 1:
        raise ValueError(f"{name} must lie in [0, 1] (Bernoulli likelihood), got [{arr.min():g}, {arr.max():g}]")
    return arr


def check_tree_size(n_clusters, max_depth) -> None:
    """``n_clusters >= 2`` leaves need ``2 ** max_depth >= n_clusters``."""
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)) or n_clusters < 2:
        raise ValueError(f"n_clusters must be an integer >= 2, got {n_clusters!r}")
    if isinstance(max_depth, bool) or not isinstance(max_depth, (int, np.integer)) or max_depth < 1:
        raise ValueError(f"max_depth must be an integer >= 1, got {max_depth!r}")
    if 2 ** max_depth < n_clusters:
        raise ValueError(f"max_depth={max_depth} allows at most {2 ** max_depth} leaves, fewer than "
                         f"n_clusters={n_clusters}; use max_depth >= {math.ceil(math.log2(n_clusters))}")


class TreeVAE:
    """Hierarchical clustering VAE; ``labels_`` = the leaf (cluster) of each image, ``tree_`` the learned tree.

    Parameters
    ----------
    n_clusters : int
        Number of effective leaves to grow (the paper uses 10 on MNIST).
    max_depth : int, default 6
        Deepest level a leaf may sit at (the root is depth 0); ``2 ** max_depth >= n_clusters``.
    seed, device, config
        Seed of the fit (:func:`mmc_lib.nn.seeded`), ``"cpu"``/``"cuda"``/``"auto"``, :class:`TreeVAEConfig`.

    Attributes
    ----------
    labels_ : (n,) leaf index of each training image (argmax of the leaf probabilities, posterior means)
    tree_ : nested dict ``{"id", "depth", "n", "children": [...]}`` (``n`` = training images routed there)
    leaf_paths_ : list of node-id tuples root → leaf, one per cluster (for :func:`mmc_lib.metrics.dendrogram_purity`)
    history_ : one record per epoch: phase, split, β, rec, kl_nodes, kl_decisions, elbo, total
    splits_ : list of ``(epoch, split leaf id)`` growth events
    """

    def __init__(self, n_clusters: int = 10, *, max_depth: int = 6, seed: int = 0, device: str = "cpu",
                 config: TreeVAEConfig | None = None):
        self.n_clusters, self.max_depth, self.seed, self.device = n_clusters, max_depth, seed, device
        self.config = config or TreeVAEConfig()

    # -- public API -----------------------------------------------------------------------------------------
    @one_thread
    def fit(self, images) -> TreeVAE:
        check_tree_size(self.n_clusters, self.max_depth)
        x_np = check_images(images)
        device = resolve_device(self.device)
        x = torch.as_tensor(x_np, device=device)
        with seeded(self.seed) as gen:
            self._fit(x, gen)
        self.labels_ = self.predict(x_np)
        self.tree_ = self._describe(self.labels_)
        return self

    def fit_predict(self, images) -> np.ndarray:
        return self.fit(images).labels_

    def predict(self, images) -> np.ndarray:
        """Leaf index (cluster) of each image: argmax of the leaf probabilities with posterior means."""
        return self.leaf_probabilities(images).argmax(1)

    def leaf_probabilities(self, images) -> np.ndarray:
        """(n, n_leaves) probability of each leaf under the inference routers (posterior means, no sampling)."""
        inf = self._infer_batched(images, keys=("prob",))
        return np.stack([inf["prob"][leaf] for leaf in self.model_.leaves()], axis=1)

    def root_latent(self, images) -> np.ndarray:
        """(n, latent_dim) posterior mean of the root latent z_0."""
        return self._infer_batched(images, keys=("mu",))["mu"][0]

    def reconstruct(self, images, leaf_index: np.ndarray | None = None) -> np.ndarray:
        """(n, 1, H, W) reconstructions, each by the decoder of ``leaf_index`` (default: its argmax leaf)."""
        x_np = check_images(images)
        leaves = self.model_.leaves()
        leaf_index = self.predict(x_np) if leaf_index is None else np.asarray(leaf_index)
        inf = self._infer_batched(x_np, keys=("mu",))
        out = np.zeros((len(x_np), self.model_.n_pixels), dtype=np.float32)
        with torch.no_grad():
            for k, leaf in enumerate(leaves):
                rows = np.flatnonzero(leaf_index == k)
                if len(rows):
                    z = torch.as_tensor(inf["mu"][leaf][rows], device=self._device)
                    out[rows] = torch.sigmoid(self.model_.decoder[str(leaf)](z)).cpu().numpy()
        return out.reshape(x_np.shape)

    def path_latents(self, images, leaf_index: np.ndarray) -> np.ndarray:
        """(n, (max_depth + 1) · latent_dim): posterior means of the nodes on each image's path to ``leaf_index``,
        one slot per depth (zeros below the leaf) — TreeDiffusion's path condition."""
        inf = self._infer_batched(images, keys=("mu",))
        return self._slots({n: inf["mu"][n] for n in inf["mu"]}, np.asarray(leaf_index))

    @torch.no_grad()
    def sample(self, n: int, *, seed: int = 0, leaf_index: int | None = None) -> dict:
        """Ancestral samples from the prior: ``images`` (n, 1, H, W), ``leaf_index`` (n,), ``path`` (slot vector as
        in :meth:`path_latents`). ``leaf_index`` forces every sample into that cluster."""
        leaves = self.model_.leaves()
        if leaf_index is not None and not 0 <= leaf_index < len(leaves):
            raise ValueError(f"leaf_index must be in [0, {len(leaves)}), got {leaf_index}")
        self.model_.eval()
        gen = torch.Generator().manual_seed(seed)
        out = self.model_.generate(n, generator=gen, leaf=None if leaf_index is None else leaves[leaf_index])
        index = np.array([leaves.index(i) for i in out["leaf"].tolist()])
        z = {k: v.cpu().numpy() for k, v in out["z"].items()}
        side = int(math.isqrt(self.model_.n_pixels))
        return {"images": out["images"].cpu().numpy().reshape(n, 1, side, side), "leaf_index": index,
                "path": self._slots(z, index)}

    @property
    def n_leaves_(self) -> int:
        return len(self.model_.leaves())

    # -- fitting --------------------------------------------------------------------------------------------
    def _fit(self, x: torch.Tensor, gen: torch.Generator) -> None:
        """Grow and train the tree on validated images ``x`` (N, 1, H, W) on the fit's device."""
        cfg, n = self.config, x.shape[0]
        self._device = x.device
        self.model_ = _Tree(x[0].numel(), self.max_depth, cfg).to(x.device)
        self.history_, self.splits_ = [], []
        self._warm_start_router(0, x)
        self._phase(x, self.model_.parameters(), cfg.epochs, gen, phase="root", split=0)
        max_splits = cfg.max_splits if cfg.max_splits is not None else 2 * self.n_clusters
        bar = progress(total=self.n_clusters, initial=2, desc="TreeVAE leaves")
        for split in range(1, max_splits + 1):
            if self.n_leaves_ >= self.n_clusters:
                break
            counts = np.bincount(self.predict(x.cpu().numpy()), minlength=self.n_leaves_)
            leaves = self.model_.leaves()
            ok = [k for k in np.argsort(-counts, kind="stable") if self.model_.nodes[leaves[k]].depth < self.max_depth]
            if not ok:
                break
            leaf_id, rows = leaves[ok[0]], np.flatnonzero(self.predict(x.cpu().numpy()) == ok[0])
            self.splits_.append((len(self.history_), leaf_id))
            self.model_._split(leaf_id)
            self.model_.to(x.device)
            subset = x[torch.as_tensor(rows, device=x.device)] if len(rows) >= 2 else x
            self._warm_start_router(leaf_id, subset)
            self._phase(subset, list(self.model_.subtree_parameters(leaf_id)), cfg.split_epochs, gen,
                        phase="subtree", split=split)
            if cfg.finetune_every and split % cfg.finetune_every == 0:
                self._phase(x, self._full_parameters(), cfg.finetune_epochs, gen, phase="finetune", split=split)
            self._prune(x)
            bar.update(self.n_leaves_ - bar.n)
        bar.close()
        self._phase(x, self._full_parameters(), cfg.final_epochs, gen, phase="final", split=len(self.splits_))
        self._prune(x)

    def _phase(self, x: torch.Tensor, params, epochs: int, gen: torch.Generator, *, phase: str, split: int) -> None:
        """``epochs`` epochs of the one training loop on ``x``, optimising ``params`` only, with KL annealing."""
        cfg = self.config
        optimiser = adam(params, lr=cfg.lr, config=cfg)
        anneal = max(cfg.anneal_epochs, 1)

        def beta(epoch):  # fine-tuning a grown tree starts from trained latents: no annealing there
            return min(1.0, epoch / anneal) if phase in ("root", "subtree") else 1.0

        def loss_fn(idx, epoch):
            return self.model_.losses(x[idx], beta(epoch))

        def on_epoch(epoch, record):
            if epoch:
                record.update(phase=phase, split=split, beta=beta(epoch), n_leaves=self.n_leaves_)

        batches = lambda: minibatches(len(x), cfg.batch_size, generator=gen, device=x.device, drop_last=True)  # noqa: E731
        hist = train(loss_fn, optimiser, batches, epochs, module=self.model_, hooks=Hooks(on_epoch=on_epoch))
        offset = len(self.history_)
        self.history_ += [{**r, "epoch": offset + r["epoch"]} for r in hist]

    def _full_parameters(self) -> list:
        """What the fine-tunes train: everything, the routers only if ``finetune_routers``."""
        routers = {id(p) for name in ("router_p", "router_q") for p in getattr(self.model_, name).parameters()}
        return [p for p in self.model_.parameters() if self.config.finetune_routers or id(p) not in routers]

    def _warm_start_router(self, nid: int, x: torch.Tensor) -> None:
        """Start a new split balanced: fit both routers of ``nid`` to a 2-means partition of the node's latent
        means on ``x`` (unsupervised; a deviation from the paper, whose fresh routers often sent every sample to one
        child in our CPU-sized runs), ``router_steps`` full-batch Adam steps."""
        from sklearn.cluster import KMeans

        steps = self.config.router_steps
        if steps <= 0 or len(x) < 4:
            return
        model, depth = self.model_, self.model_.nodes[nid].depth
        with torch.no_grad():
            model.eval()
            inf = model.infer(x, sample=False)
            d, z = model.bottom_up(x)[depth], inf["mu"][nid]
        seed = int(torch.randint(0, 2**31 - 1, (1,)).item())
        target = KMeans(2, n_init=3, random_state=seed).fit_predict(z.cpu().numpy()) == 0
        target = torch.as_tensor(target, dtype=torch.float32, device=x.device)
        routers = [(model.router_q[str(nid)], d), (model.router_p[str(nid)], z)]
        optimiser = adam([p for r, _ in routers for p in r.parameters()], lr=self.config.lr * 10,
                         config=self.config)
        for r, _ in routers:
            r.train()  # BatchNorm statistics of the new routers come from this node's samples
        bce = lambda _batch, _epoch: {"total": sum(F.binary_cross_entropy_with_logits(r(inp).squeeze(1), target)  # noqa: E731
                                                   for r, inp in routers)}
        train(bce, optimiser, lambda: [None], steps)  # one full batch per "epoch" 

    def _prune(self, x: torch.Tensor) -> None:
        """Remove leaves holding fewer than ``prune_fraction`` of the images (their parent keeps one child)."""
        while self.n_leaves_ > 2:
            counts = np.bincount(self.predict(x.cpu().numpy()), minlength=self.n_leaves_)
            small = np.flatnonzero(counts < self.config.prune_fraction * len(x))
            if not len(small):
                return
            nodes = self.model_.nodes
            nid = self.model_.leaves()[small[np.argmin(counts[small])]]
            while len(nodes[nodes[nid].parent].children) == 1:  # a chain left by an earlier pruning goes too
                nid = nodes[nid].parent
            doomed, stack = [], [nid]
            while stack:
                doomed.append(stack.pop())
                stack.extend(nodes[doomed[-1]].children)
            nodes[nodes[nid].parent].children.remove(nid)
            for gone in doomed:
                del nodes[gone]
                for name in ("post", "prior", "decoder", "router_p", "router_q"):
                    if str(gone) in getattr(self.model_, name):
                        del getattr(self.model_, name)[str(gone)]

    # -- helpers --------------------------------------------------------------------------------------------
    @torch.no_grad()
    def _infer_batched(self, images, *, keys, batch: int = 2000) -> dict:
        x_np = check_images(images)
        self.model_.eval()
        out: dict = {k: {} for k in keys}
        for start in range(0, len(x_np), batch):
            inf = self.model_.infer(torch.as_tensor(x_np[start:start + batch], device=self._device), sample=False)
            for k in keys:
                for nid, value in inf[k].items():
                    out[k].setdefault(nid, []).append(value.cpu().numpy())
        for k in keys:
            out[k] = {nid: np.concatenate(parts) for nid, parts in out[k].items()}
        return out

    def _slots(self, z: dict, leaf_index: np.ndarray) -> np.ndarray:
        L, leaves = self.config.latent_dim, self.model_.leaves()
        out = np.zeros((len(leaf_index), (self.max_depth + 1) * L), dtype=np.float32)
        for k, leaf in enumerate(leaves):
            rows = np.flatnonzero(leaf_index == k)
            for nid in self.model_.path(leaf):
                if nid not in z:  # no sample took this path
                    continue
                depth = self.model_.nodes[nid].depth
                out[rows, depth * L:(depth + 1) * L] = z[nid][rows]
        return out

    @property
    def leaf_paths_(self) -> list[tuple[int, ...]]:
        return [tuple(self.model_.path(leaf)) for leaf in self.model_.leaves()]

    def _describe(self, labels: np.ndarray) -> dict:
        leaves = self.model_.leaves()
        counts = {leaf: int((labels == k).sum()) for k, leaf in enumerate(leaves)}

        def walk(nid):
            node = self.model_.nodes[nid]
            kids = [walk(c) for c in node.children]
            n = counts[nid] if node.is_leaf else sum(k["n"] for k in kids)
            entry = {"id": nid, "depth": node.depth, "n": n, "children": kids}
            if node.is_leaf:
                entry["cluster"] = leaves.index(nid)
            return entry

        return walk(0)

    def __getstate__(self):  # picklable (the fitted estimator is cached by the study)
        state = dict(self.__dict__)
        state["_device"] = str(state.get("_device", "cpu"))
        return state


def tree_text(tree: dict, indent: str = "") -> str:
    """A readable drawing of ``TreeVAE.tree_``.

    >>> print(tree_text({"id": 0, "depth": 0, "n": 5, "children": [
    ...     {"id": 1, "depth": 1, "n": 3, "children": [], "cluster": 0},
    ...     {"id": 2, "depth": 1, "n": 2, "children": [], "cluster": 1}]}))
    node 0 (n=5)
      leaf 1 → cluster 0 (n=3)
      leaf 2 → cluster 1 (n=2)
    """
    if not tree["children"]:
        return f"{indent}leaf {tree['id']} → cluster {tree['cluster']} (n={tree['n']})"
    lines = [f"{indent}node {tree['id']} (n={tree['n']})"]
    lines += [tree_text(child, indent + "  ") for child in tree["children"]]
    return "\n".join(lines)


@dataclass(frozen=True)
class VAEConfig:
    """The flat VAE baseline (same encoder/decoder sizes as TreeVAE, one Gaussian latent)."""

    hidden: tuple[int, ...] = (256,)  # TreeVAE's encoder width
    latent_dim: int = 10
    epochs: int = 50
    batch_size: int = 256
    lr: float = 1e-3
    kmeans_n_init: int = 10


class _FlatVAE(nn.Module):
    def __init__(self, n_pixels: int, cfg: VAEConfig):
        super().__init__()
        self.encoder = mlp([n_pixels, *cfg.hidden, 2 * cfg.latent_dim], batchnorm=False, activation="leaky_relu")
        self.decoder = mlp([cfg.latent_dim, *cfg.hidden[::-1], n_pixels], batchnorm=False, activation="leaky_relu")

    def losses(self, batch) -> dict[str, torch.Tensor]:
        x = batch[0].flatten(1)
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        rec = F.binary_cross_entropy_with_logits(self.decoder(z), x, reduction="none").sum(1).mean()
        kl = normal_kl(mu, logvar, torch.zeros_like(mu), torch.zeros_like(mu)).mean()
        return {"rec": rec, "kl": kl, "total": rec + kl}


class VAEKMeans:
    """Baseline: a flat VAE (Kingma & Welling 2014), then k-means on the posterior means.

    >>> x = (np.random.default_rng(0).random((40, 1, 28, 28)) > 0.7).astype("float32")
    >>> VAEKMeans(2, config=VAEConfig(epochs=1, batch_size=20)).fit_predict(x).shape
    (40,)
    """

    def __init__(self, n_clusters: int = 10, *, seed: int = 0, device: str = "cpu", config: VAEConfig | None = None):
        self.n_clusters, self.seed, self.device, self.config = n_clusters, seed, device, config or VAEConfig()

    @one_thread
    def fit(self, images) -> VAEKMeans:
        from sklearn.cluster import KMeans

        from mmc_lib.nn import TrainerConfig, train_module

        check_tree_size(self.n_clusters, max(1, math.ceil(math.log2(max(self.n_clusters, 2)))))
        x_np = check_images(images)
        cfg, device = self.config, resolve_device(self.device)
        x = torch.as_tensor(x_np, device=device)
        with seeded(self.seed) as gen:
            self.model_ = _FlatVAE(x[0].numel(), cfg).to(device)
            self.history_ = train_module(self.model_, [x], TrainerConfig(epochs=cfg.epochs, batch_size=cfg.batch_size,
                                                                         lr=cfg.lr), generator=gen)
        self.model_.eval()
        with torch.no_grad():
            self.latent_ = self.model_.encoder(x.flatten(1)).chunk(2, dim=1)[0].cpu().numpy()
        km = KMeans(self.n_clusters, n_init=cfg.kmeans_n_init, random_state=self.seed).fit(self.latent_)
        self.labels_ = km.labels_
        return self

    def fit_predict(self, images) -> np.ndarray:
        return self.fit(images).labels_
