"""The claims ledger: every number the seed documents state, loaded from ``claims/*.yaml`` and checked.

One YAML file per seed document (schema in ``claims/README.md``)::

    paper: DDMC
    notebook: 01_ddmc            # the notebook whose results answer these claims (null: none yet)
    datasets:  {Caltech-3V: {ours: [caltech-3v], substitute: false}, ...}
    methods:   {KM: {ours: KM}, RMKMC: {ours: null}, L_DDC: {ours: "@ablation:DDC"}, ...}
    claims:
      - {id: ddmc.main.caltech-3v.km.acc, paper: DDMC, source: "...", dataset: Caltech-3V,
         method: KM, metric: acc, value: 46.3, scale: percent}

Every entry is validated on load; a malformed one raises ``ValueError`` naming the file, the claim id
and the problem, so a typo in the ledger cannot silently drop a claim from the audit.

>>> ledgers = load_ledgers()
>>> sorted(name for name, lg in ledgers.items() if not lg.seed.startswith("none"))  # one per seed document
['D-MVAE', 'DDMC', 'DM2C', 'Multimodal clusters', 'TreeDiffusion']
>>> sum(c.kind == "value" for c in ledgers["DM2C"].claims)
60
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from mmc_lib.runtime import project_root

KINDS = ("value", "derived", "ordering", "dataset", "qualitative")
SCALES = ("percent", "fraction", "raw", "count")  # raw: a score on its own scale (FID); count: sizes
MARKS = ("bold", "underline")
LOWER_IS_BETTER = frozenset({"fid"})
_ID = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
_CLAIM_KEYS = {"id", "paper", "source", "kind", "dataset", "method", "metric", "value", "scale", "setting", "mark",
               "restates", "derived", "ordering", "statement", "note", "approx", "notebook", "unverified", "suspect",
               "untestable"}
_REQUIRED = {
    "value": ("dataset", "method", "metric", "value", "scale"),
    "derived": ("dataset", "method", "metric", "value", "scale", "derived"),
    "ordering": ("metric", "ordering", "statement"),
    "dataset": ("dataset", "metric", "value", "scale"),
    "qualitative": ("statement",),
}


@dataclass(frozen=True)
class DatasetMap:
    """How a paper's dataset maps onto ours."""

    ours: tuple[str, ...]  # our registry names, first found in the results wins; () = none here
    substitute: bool  # True when ours is a stand-in (different features / split / subset)
    stand_in: str = ""  # what the stand-in is, for the verdict
    note: str = ""
    paper_copy: tuple[str, ...] = ()  # names in ``ours`` that hold the paper's own files (``make data``) even
    # where the others are stand-ins: their rows are graded as the paper's data

    def is_paper_data(self, name: str) -> bool:
        """True when our data set ``name`` is the paper's own data (not a stand-in)."""
        return name in self.ours and (not self.substitute or name in self.paper_copy)


@dataclass(frozen=True)
class Claim:
    """One statement of a paper: a number (value/derived/dataset), an ordering, or qualitative text."""

    id: str
    paper: str
    source: str  # table / figure / slide / section of the seed
    kind: str = "value"
    dataset: str | None = None
    method: str | None = None
    metric: str | None = None
    value: float | list | None = None
    scale: str | None = None
    setting: str = "main"
    mark: str | None = None  # typography in the table (bold / underline)
    restates: str | None = None  # id of a claim this repeats (checked for equality)
    derived: dict | None = None  # {of: M, minus_best_of: [...]} or {of: M, relative_to: B}
    ordering: dict | None = None  # {better: M, than: [...], on: "each dataset"}
    statement: str = ""
    note: str = ""
    approx: bool = False  # the paper says "about"
    notebook: str | None = None  # overrides the file's notebook (orderings checked elsewhere)
    unverified: bool = False  # a transcription we could not check against the source
    suspect: str = ""  # why the PAPER's own number looks wrong (e.g. a row repeated across data sets)
    untestable: str = ""  # why no run of ours can test this claim (verdict `untestable by construction`)

    @property
    def fraction(self) -> float | None:
        """The claimed value as a fraction when its scale is percent (else unchanged)."""
        if not isinstance(self.value, (int, float)):
            return None
        return self.value / 100.0 if self.scale == "percent" else float(self.value)


@dataclass
class Ledger:
    """The claims of one seed document, with its dataset and method maps."""

    paper: str
    title: str
    seed: str
    notebook: str | None
    datasets: dict[str, DatasetMap]
    methods: dict[str, str | None]  # paper method -> our method term (None: not implemented)
    claims: list[Claim]
    path: Path
    not_run_reason: str = ""
    method_info: dict[str, dict] = field(default_factory=dict)
    protocol: Protocol = field(default_factory=lambda: Protocol())


PROTOCOL_FIELDS = ("data", "encoder", "steps", "seeds", "selection", "precision", "hardware")


@dataclass(frozen=True)
class Exception_:
    """Result rows (methods × our data sets × metrics; empty = all) that cannot decide a verdict about the paper:
    ``kind`` ``budget`` (trained below the paper's budget: ``missing`` says what, ``gpu_minutes`` what the full test
    costs) or ``invalid`` (the estimate itself is not valid, ``reason`` says why)."""

    kind: str
    methods: tuple[str, ...]
    datasets: tuple[str, ...]
    metrics: tuple[str, ...] = ()
    missing: str = ""
    gpu_minutes: float | None = None
    reason: str = ""
    unless_note: str = ""  # a result row whose note contains this text is not covered (e.g. a later full run)

    def covers(self, method: str | None, dataset: str, metric: str, note: str = "") -> bool:
        if self.unless_note and self.unless_note in note:
            return False
        return ((not self.methods or method in self.methods) and (not self.datasets or dataset in self.datasets)
                and (not self.metrics or metric in self.metrics))

    def text(self) -> str:
        if self.kind == "budget":
            cost = f"; the full test: ≈{self.gpu_minutes:g} GPU-minutes (our estimate)" if self.gpu_minutes else ""
            return f"below the paper's budget: {self.missing}{cost}"
        return f"invalid estimate: {self.reason}"


@dataclass(frozen=True)
class Protocol:
    """How our runs differ from the paper's protocol (``claims/README.md``, section ``protocol``)."""

    paper: str = ""  # the paper's protocol in one line
    differences: dict = field(default_factory=dict)  # field of PROTOCOL_FIELDS -> how ours differs
    exceptions: tuple[Exception_, ...] = ()
    easy: str = ""  # MLRC-style notes for AUDIT.md's "what we could and could not test"
    difficult: str = ""

    def exception_for(self, method: str | None, dataset: str, metric: str, note: str = "") -> Exception_ | None:
        return next((e for e in self.exceptions if e.covers(method, dataset, metric, note)), None)

    def describe(self) -> str:
        return "; ".join(f"{k}: {v}" for k, v in self.differences.items())


def _protocol(raw, path: Path) -> Protocol:
    if raw is None:
        return Protocol()
    if not isinstance(raw, dict):
        raise ValueError(f"{path.name}: protocol must be a mapping")
    unknown = set(raw) - {"paper", "differences", "exceptions", "easy", "difficult"}
    if unknown:
        raise ValueError(f"{path.name}: protocol has unknown key(s) {sorted(unknown)}")
    diffs = raw.get("differences") or {}
    bad = set(diffs) - set(PROTOCOL_FIELDS)
    if bad:
        raise ValueError(f"{path.name}: protocol differences {sorted(bad)} not in {list(PROTOCOL_FIELDS)}")
    excs = []
    for e in raw.get("exceptions") or []:
        if e.get("kind") not in ("budget", "invalid"):
            raise ValueError(f"{path.name}: protocol exception kind must be 'budget' or 'invalid', got {e.get('kind')!r}")
        if e["kind"] == "budget" and not e.get("missing"):
            raise ValueError(f"{path.name}: a budget exception must state the missing budget (`missing:`)")
        if e["kind"] == "invalid" and not e.get("reason"):
            raise ValueError(f"{path.name}: an invalid-estimate exception needs a `reason:`")
        excs.append(Exception_(e["kind"], tuple(e.get("methods") or ()), tuple(e.get("datasets") or ()),
                               tuple(e.get("metrics") or ()), e.get("missing", ""), e.get("gpu_minutes"),
                               e.get("reason", ""), e.get("unless_note", "")))
    return Protocol(raw.get("paper", ""), dict(diffs), tuple(excs), raw.get("easy", ""), raw.get("difficult", ""))


def claims_dir() -> Path:
    """``<repo>/claims``."""
    return project_root() / "claims"


def _fail(path: Path, cid, problem: str):
    raise ValueError(f"{path.name}: claim {cid!r}: {problem}")


def _check_claim(raw: dict, *, path: Path, ledger_paper: str, datasets: dict, methods: dict) -> Claim:
    """Validate one raw YAML entry and build its :class:`Claim`."""
    cid = raw.get("id") if isinstance(raw, dict) else None
    if not isinstance(raw, dict):
        _fail(path, cid, f"entry must be a mapping, got {type(raw).__name__}")
    if not isinstance(cid, str) or not _ID.match(cid):
        _fail(path, cid, "missing or malformed id (lower-case letters, digits, '.', '-', '_')")
    unknown = sorted(set(raw) - _CLAIM_KEYS)
    if unknown:
        _fail(path, cid, f"unknown field(s) {unknown}; allowed: {sorted(_CLAIM_KEYS)}")
    for key in ("paper", "source"):
        if not raw.get(key):
            _fail(path, cid, f"missing {key!r}")
    if raw["paper"] != ledger_paper:
        _fail(path, cid, f"paper {raw['paper']!r} differs from the file's paper {ledger_paper!r}")
    kind = raw.get("kind", "value")
    if kind not in KINDS:
        _fail(path, cid, f"unknown kind {kind!r}; known: {list(KINDS)}")
    missing = [k for k in _REQUIRED[kind] if raw.get(k) in (None, "")]
    if missing:
        _fail(path, cid, f"kind {kind!r} needs {missing}")
    if "scale" in raw and raw["scale"] not in SCALES:
        _fail(path, cid, f"unknown scale {raw['scale']!r}; known: {list(SCALES)}")
    if raw.get("mark") is not None and raw["mark"] not in MARKS:
        _fail(path, cid, f"unknown mark {raw['mark']!r}; known: {list(MARKS)}")
    if kind in ("value", "derived"):
        _check_number(raw, path=path, cid=cid)
    if kind == "dataset" and not isinstance(raw["value"], (int, list)):
        _fail(path, cid, f"dataset value must be an integer or a list of integers, got {raw['value']!r}")
    if raw.get("dataset") is not None and raw["dataset"] not in datasets:
        _fail(path, cid, f"dataset {raw['dataset']!r} is not in the file's datasets map {sorted(datasets)}")
    names = [raw["method"]] if kind in ("value", "derived") else []
    if kind == "derived":
        names += _derived_names(raw["derived"], path=path, cid=cid)
    if kind == "ordering":
        names += _ordering_names(raw["ordering"], path=path, cid=cid)
    for name in names:
        if name not in methods:
            _fail(path, cid, f"method {name!r} is not in the file's methods map")
    return Claim(**{k: v for k, v in raw.items()})


def _check_number(raw: dict, *, path: Path, cid: str) -> None:
    value = raw["value"]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(path, cid, f"value must be a number, got {value!r}")
    if raw["scale"] == "percent" and raw.get("kind", "value") == "value" and not 0 <= value <= 100:
        _fail(path, cid, f"percent value {value} outside [0, 100]")
    if raw["scale"] == "fraction" and not 0 <= value <= 1:
        _fail(path, cid, f"fraction value {value} outside [0, 1] (use scale: percent?)")


def _derived_names(spec, *, path: Path, cid: str) -> list[str]:
    if not isinstance(spec, dict) or "of" not in spec or not ({"minus_best_of", "relative_to"} & set(spec)):
        _fail(path, cid, "derived needs {of: M, minus_best_of: [...]} or {of: M, relative_to: B}")
    others = spec.get("minus_best_of") or [spec.get("relative_to")]
    return [spec["of"], *others]


def _ordering_names(spec, *, path: Path, cid: str) -> list[str]:
    if not isinstance(spec, dict) or not isinstance(spec.get("better"), str) or not spec.get("than"):
        _fail(path, cid, "ordering needs {better: M, than: [M, ...], on: 'each dataset'}")
    if not isinstance(spec["than"], list):
        _fail(path, cid, "ordering 'than' must be a list")
    if True in spec or False in spec:  # YAML 1.1 reads a bare `on:` (or `off:`) key as a boolean
        _fail(path, cid, "ordering key `on` must be quoted (\"on\": each dataset); a bare on: is read as true")
    if spec.get("on", "each dataset") != "each dataset":
        _fail(path, cid, f"ordering 'on' must be 'each dataset', got {spec.get('on')!r}")
    return [spec["better"], *spec["than"]]


def _dataset_map(name: str, raw, path: Path) -> DatasetMap:
    if not isinstance(raw, dict) or "ours" not in raw or not isinstance(raw["ours"], list):
        raise ValueError(f"{path.name}: dataset {name!r}: needs {{ours: [names], substitute: bool}}")
    if raw.get("substitute") and not raw.get("stand_in"):
        raise ValueError(f"{path.name}: dataset {name!r}: a substitute must name its stand_in")
    copy = tuple(raw.get("paper_copy", []))
    if not set(copy) <= set(raw["ours"]):
        raise ValueError(f"{path.name}: dataset {name!r}: paper_copy {list(copy)} must be among ours {raw['ours']}")
    return DatasetMap(tuple(raw["ours"]), bool(raw.get("substitute", False)), raw.get("stand_in", ""),
                      raw.get("note", ""), copy)


def load_ledger(path: str | Path) -> Ledger:
    """Load and validate one ``claims/<paper>.yaml``; raise ``ValueError`` naming file, claim and problem."""
    path = Path(path)
    doc = yaml.safe_load(path.read_text())
    if not isinstance(doc, dict):
        raise ValueError(f"{path.name}: top level must be a mapping")
    for key in ("paper", "title", "seed", "datasets", "methods", "claims"):
        if key not in doc:
            raise ValueError(f"{path.name}: missing top-level key {key!r}")
    datasets = {name: _dataset_map(name, raw, path) for name, raw in (doc["datasets"] or {}).items()}
    methods, info = {}, {}
    for name, raw in (doc["methods"] or {}).items():
        if not isinstance(raw, dict) or "ours" not in raw:
            raise ValueError(f"{path.name}: method {name!r}: needs {{ours: name-or-null}}")
        methods[name], info[name] = raw["ours"], raw
    claims, seen = [], set()
    for raw in doc["claims"] or []:
        claim = _check_claim(raw, path=path, ledger_paper=doc["paper"], datasets=datasets, methods=methods)
        if claim.id in seen:
            _fail(path, claim.id, "duplicate id")
        seen.add(claim.id)
        claims.append(claim)
    for claim in claims:
        if claim.restates and claim.restates not in seen:
            _fail(path, claim.id, f"restates unknown claim {claim.restates!r}")
    return Ledger(doc["paper"], doc["title"], doc["seed"], doc.get("notebook"), datasets, methods, claims, path,
                  doc.get("not_run_reason", ""), info, _protocol(doc.get("protocol"), path))


def load_ledgers(folder: str | Path | None = None) -> dict[str, Ledger]:
    """Every ledger in ``folder`` (default ``<repo>/claims``), keyed by paper; ids unique across files."""
    folder = Path(folder) if folder else claims_dir()
    ledgers, owner = {}, {}
    for path in sorted(folder.glob("*.yaml")):
        ledger = load_ledger(path)
        for claim in ledger.claims:
            if claim.id in owner:
                _fail(path, claim.id, f"id also used in {owner[claim.id]}")
            owner[claim.id] = path.name
        ledgers[ledger.paper] = ledger
    if not ledgers:
        raise ValueError(f"no claims/*.yaml found in {folder}")
    return ledgers


def claims_frame(ledgers: dict[str, Ledger]):
    """All claims as one DataFrame (one row per claim, ``value_fraction`` added).

    >>> df = claims_frame(load_ledgers())
    >>> int((df.paper == "DDMC").sum()) > 190
    True
    """
    import pandas as pd

    rows = []
    for ledger in ledgers.values():
        for c in ledger.claims:
            rows.append({**{k: getattr(c, k) for k in ("id", "paper", "source", "kind", "dataset", "method",
                                                      "metric", "value", "scale", "setting", "mark", "restates")},
                         "value_fraction": c.fraction})
    return pd.DataFrame(rows)
