"""The course's notebooks in reading order: one list, from which the README tables and the site's index are made.

``python -m mmc_lib.catalog`` rewrites the notebook tables of ``README.md`` and ``notebooks/README.md`` (between
their ``notebooks:start`` / ``notebooks:end`` markers); ``--check`` only reports drift (``tests/test_catalog.py``
fails on it). A table is a list of :class:`Column` s, so adding a column (a measured time, say) is one entry.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mmc_lib.runtime import project_root


@dataclass(frozen=True)
class Notebook:
    """One notebook of the course."""

    number: str  # "00" … "99": the prefix of its file name and of its figures
    file: str  # file name inside notebooks/
    title: str  # its first heading without "NN — "
    paper: str  # the paper (or source) it reproduces
    summary: str  # one paragraph for the index

    @property
    def stem(self) -> str:
        return self.file.removesuffix(".ipynb")

    @property
    def heading(self) -> str:
        return f"{self.number} — {self.title}"


#: Reading order: the tour first, the gentle joint-embedding pipeline next, then the deep methods, the audit last.
NOTEBOOKS: tuple[Notebook, ...] = (
    Notebook("00", "00_data_and_baselines.ipynb", "Data, metrics and classical multi-view baselines",
             "DDMC (Wang et al.): the classical rows of its table",
             "The tour before the deep methods: every benchmark file the companion knows and whether it is here; ACC, "
             "NMI, ARI, pairwise F and purity computed by hand on a tiny example; the classical baselines KM, Ncuts, "
             "AmKM, AmNcuts and co-regularised spectral clustering on every multi-view set we have; t-SNE of each view."),
    Notebook("03", "03_joint_embedding.ipynb", "Multimodal clusters from encoders and a joint embedding space",
             "The “multimodal cluster” definition page; Rasiwasia et al. 2010",
             "The three-step pipeline of the definition page: encoders, a joint embedding space learnt from pairs "
             "without labels (CCA, and contrastive heads trained with CLIP's InfoNCE), then K-Means and DBSCAN in it. "
             "Cross-modal retrieval on Wikipedia with mAP and recall@k, and why the modality gap is a diagnostic, "
             "not a score."),
    Notebook("01", "01_ddmc.ipynb", "DDMC: Diversity-oriented Deep Multi-modal Clustering",
             "Wang, Yang, Wang, Hu & Xu, Diversity-oriented Deep Multi-modal Clustering (slides)",
             "DDMC's objective term by term (DDC, KL bounds, vCLUB, NT-Xent, assignment mutual information), each "
             "computed by hand on a toy batch; the slides' 19-row table run on our five data sets; the ablation, the "
             "α/β grid, enhancement against fusion, convergence, t-SNE over epochs and whether the silhouette picks the "
             "best modality."),
    Notebook("02", "02_dm2c.ipynb",
             "DM2C: Deep Mixed-Modal Clustering, re-implemented and run on substituted data (its table is not "
             "reproduced)",
             "Jiang, Xu, Yang, Cao & Huang, DM2C: Deep Mixed-Modal Clustering, NeurIPS 2019",
             "Clustering when every sample is seen in one modality only: autoencoders per modality, cycle-consistent "
             "latent translators and WGAN critics (eqs. 1–4, each by hand). The main tables beside the paper's "
             "baselines on substituted Wikipedia features, an ablation of each loss, convergence, the unified space "
             "in t-SNE and the fraction of samples per modality."),
    Notebook("04", "04_dmvae.ipynb",
             "D-MVAE: a diffusion-refined multimodal VAE for clustering, reproduced at small scale",
             "Multimodal Clustering Based on Diffusion-Multimodal VAE (D-MVAE, summary page)",
             "A multimodal VAE with a product-of-experts posterior and a mixture-of-Gaussians prior clusters image/text "
             "pairs; a patch discriminator and a DDPM conditioned on the decoded sample refine its images. Three "
             "training phases on MNIST-Text and CUB, FID with our own digit features, the diffusion ablation, samples "
             "and the latent after each phase."),
    Notebook("05", "05_treediffusion.ipynb",
             "TreeDiffusion: a hierarchical clustering VAE, then cluster-conditioned diffusion",
             "da Silva Gonçalves, Manduchi, Vandenhirtz & Vogt, Hierarchical Clustering for Conditional Diffusion "
             "(2024); TreeVAE (NeurIPS 2023)",
             "A TreeVAE grows a binary tree of clusters on MNIST (its ELBO term by term, dendrogram and leaf purity by "
             "hand); a DDPM conditioned on the leaf image and the root-to-leaf path then draws each cluster's samples. "
             "FID of both models overall and per leaf, intra-cluster consistency, and what a run far below the paper's "
             "budget can say about its −22 % FID claim."),
    Notebook("06", "06_generalisation.ipynb", "Generalisation: which method to use on your data",
             "None: eleven real data sets that none of the papers tuned on",
             "Every multi-view method of notebooks 00 and 01 on six new multi-view sets and our five stand-ins, with "
             "no choice made by labels: ACC/NMI/ARI tables, average ranks, a Friedman test and a critical-difference "
             "diagram, a Bayesian signed-rank comparison of DDMC with the best classical method, the cost of each "
             "method, and a “which method when” summary drawn from the numbers."),
    Notebook("99", "99_audit.ipynb", "Audit: every claim of the papers beside our numbers",
             "All five: every number in claims/*.yaml",
             "Every number and ordering the five papers claim, joined with what the other notebooks stored, each with "
             "a verdict from one grader and whose result it is (reproduction / replication / generalisation: "
             "reproduced, below/above, carries over / does not carry over, not tested at the paper's budget, "
             "untestable by construction, not run). It "
             "trains nothing and writes AUDIT.md."),
)

#: Notebooks another engineer is writing: listed (the course's plan) before their file lands.
IN_PREPARATION: frozenset[str] = frozenset()


def present(root: str | Path | None = None) -> list[Notebook]:
    """The catalog's notebooks whose file exists under ``root``/notebooks, in reading order."""
    folder = Path(root or project_root()) / "notebooks"
    return [nb for nb in NOTEBOOKS if (folder / nb.file).is_file()]


def by_stem(stem: str) -> Notebook:
    """The catalog entry of ``stem`` (``"01_ddmc"``); ValueError names the known stems."""
    for nb in NOTEBOOKS:
        if nb.stem == stem:
            return nb
    raise ValueError(f"{stem!r} is not in mmc_lib.catalog.NOTEBOOKS; known: {[nb.stem for nb in NOTEBOOKS]}")


@dataclass(frozen=True)
class Column:
    """One column of a notebook table: its header and the cell of each notebook (markdown)."""

    header: str
    cell: Callable[[Notebook], str]


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def notebook_columns(link_prefix: str) -> list[Column]:
    """The columns of the README tables; ``link_prefix`` is the notebooks folder as seen from the README."""
    return [
        Column("order", lambda nb: str(NOTEBOOKS.index(nb) + 1)),
        Column("notebook", lambda nb: f"[`{nb.stem}`]({link_prefix}{nb.file})"),
        Column("what it teaches and reproduces", lambda nb: _escape(nb.title)),
        Column("paper", lambda nb: _escape(nb.paper)),
    ]


def markdown_table(notebooks: Sequence[Notebook], columns: Sequence[Column]) -> str:
    """A markdown table with one row per notebook."""
    lines = ["| " + " | ".join(c.header for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(c.cell(nb) for c in columns) + " |" for nb in notebooks]
    return "\n".join(lines)


START = "<!-- notebooks:start (generated by `python -m mmc_lib.catalog` from mmc_lib/catalog.py) -->"
END = "<!-- notebooks:end -->"
#: each README the tables live in, and the notebooks folder as seen from it
READMES = {"README.md": "notebooks/", "notebooks/README.md": ""}


def render(text: str, table: str, *, name: str = "document") -> str:
    """``text`` with the block between START and END replaced by ``table``; ValueError when the markers are missing."""
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise ValueError(f"{name} has no notebook-table markers; add the two lines\n{START}\n{END}")
    return pattern.sub(lambda _: f"{START}\n{table}\n{END}", text, count=1)


def update_readmes(root: str | Path | None = None, *, check: bool = False) -> list[str]:
    """Rewrite the notebook tables of the READMEs under ``root``; return the files that changed (with ``check``:
    that would change, without writing)."""
    root = Path(root or project_root())
    changed = []
    for name, prefix in READMES.items():
        path = root / name
        text = path.read_text()
        new = render(text, markdown_table(NOTEBOOKS, notebook_columns(prefix)), name=name)
        if new != text:
            changed.append(name)
            if not check:
                path.write_text(new)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report drift without writing; exit 1 on drift")
    args = parser.parse_args(argv)
    changed = update_readmes(check=args.check)
    verb = "out of date" if args.check else "rewritten"
    print(f"{verb}: {', '.join(changed)}" if changed else "notebook tables up to date")
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
