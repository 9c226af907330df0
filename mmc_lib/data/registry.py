"""The dataset registry: what each benchmark is, where its files live, how to check them.

Paths are relative to the data directory (``MMC_DATA_DIR``; CI points it at
``../shared/data``). A ``sha256`` of ``None`` means no public checksum is known
for that file; such files load without verification and the loader says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SHARED_MANIFEST = "the project's shared data folder (see shared/data/MANIFEST.md)"


@dataclass(frozen=True)
class DataFile:
    path: str  # relative to the data directory
    sha256: str | None  # expected checksum; None when no public value is known
    size: int | None = None  # bytes, for the error message
    md5: str | None = None  # the official MD5 where that is the only published checksum (MNIST, Fashion-MNIST)


@dataclass(frozen=True)
class DatasetEntry:
    name: str  # canonical lower-case name used everywhere
    loader: str  # key into mmc_lib.data.loaders.LOADERS
    files: tuple[DataFile, ...]  # every file the loader reads
    view_names: tuple[str, ...]  # one per view, in load order
    modalities: tuple[str, ...]  # "image" / "text" / "other", one per view
    n_clusters: int
    n_samples: int
    citation: str
    source: str  # where a user gets the files
    options: dict = field(default_factory=dict)  # loader-specific (keys, view selection)
    note: str = ""  # caveats a reader should know (substitutions, layout mismatches)
    #: "papers" (the papers' sets and our stand-ins), "generalisation" (real sets no paper uses; notebook 06 only) or
    #: "images" (MNIST / Fashion-MNIST image sets that `make data` fetches for the generative models; notebook 00 does
    #: not cluster them: 60,000 rows are beyond its spectral baselines)
    suite: str = "papers"


def _entry(**kw) -> DatasetEntry:
    kw["files"] = tuple(kw["files"])
    return DatasetEntry(**kw)


_MNIST_SRC = "MNIST test set (LeCun et al.) in torchvision raw/ layout; " + SHARED_MANIFEST
_CALTECH_FILE = DataFile(
    "multiview/Caltech-5V.mat", "dd967b3b1fa3056d6748a0a98d88032b380238fc175d3407af887e53b8e6319b", 39_514_064
)
_CALTECH_SRC = (
    "Caltech-5V.mat (MFLVC/SCMVC benchmark): Git-LFS object in liangsishan/CMSA-multi-view-datasets on GitHub, "
    "or the MFLVC authors' Baidu Pan link; save it as multiview/Caltech-5V.mat"
)
_CALTECH_CITE = "Fei-Fei et al. 2004 (Caltech101); 5-view features as used by MFLVC (Xu et al., CVPR 2022)"

_GEN_SRC = ("xiyu1007/Multi-view-datasets on GitHub (commit 7a9df6db, Datasets/{name}/{name}.mat); "
            + SHARED_MANIFEST)


def _generalisation(name: str, file: str, sha256: str, size: int, **kw) -> DatasetEntry:
    """A set of the generalisation suite (notebook 06): real multi-view data that none of the five papers uses."""
    return _entry(name=name, loader="mat_cell", files=[DataFile(f"multiview/{file}.mat", sha256, size)],
                  source=_GEN_SRC.format(name=file), suite="generalisation", **kw)


#: the generalisation suite (notebook 06), in the order of shared/data/MANIFEST.md
GENERALISATION = (
    _generalisation(
        "3sources", "3Sources", "8a94f0e554c5782bc87561314f1bad8ca206910125734f4dbe2492956528c9ae", 114_521,
        view_names=("bbc", "reuters", "guardian"), modalities=("text", "text", "text"), n_clusters=6,
        n_samples=169, options={"label_key": "y", "layout": "samples_x_features"},
        citation="Greene & Cunningham 2009, 3Sources (BBC / Reuters / Guardian news stories, term counts)"),
    _generalisation(
        "bbcsport", "BBCSport", "73d5afadcc4d32f35ce85174af900a9ddb227e383ee163a192b4ee9f6c3d74fe", 155_310,
        view_names=("segment1_3183d", "segment2_3203d"), modalities=("text", "text"), n_clusters=5, n_samples=544,
        options={"cell_key": "data", "label_key": "truelabel", "label_cell": True, "layout": "features_x_samples"},
        citation="Greene & Cunningham 2006, BBCSport (sports articles split into two text segments)",
        note="Stored as sparse features × samples matrices with one label copy per view."),
    _generalisation(
        "bdgp", "BDGP", "a501b00b0dd805d39c2414d8ea51b1ac68d0b06a5f3705fff4da1f1c5b9a793b", 1_372_063,
        view_names=("visual_1000d", "textual_500d"), modalities=("image", "text"), n_clusters=5, n_samples=2500,
        options={"cell_key": "data", "label_key": "truelabel", "label_cell": True, "layout": "features_x_samples"},
        citation="Cai et al. 2012, BDGP (Drosophila embryo images + gene-expression terms)",
        note="The 2500-sample, 1000/500-d variant, not the 1750/79-d one of MFLVC; stored features × samples."),
    _generalisation(
        "100leaves", "100Leaves", "90ba0a141ed07302109deebd7df935108e3413687c4bf71931001dc87acb1196", 1_048_797,
        view_names=("shape_64d", "texture_64d", "margin_64d"), modalities=("image", "image", "image"),
        n_clusters=100, n_samples=1600, options={"label_key": "Y", "layout": "samples_x_features"},
        citation="Mallah, Cope & Orwell 2013, One-hundred plant species leaves (UCI)"),
    _generalisation(
        "ngs", "NGs", "9af539d5d9608bebe7d7ed97290571464f7dc51e7ab6a2c8d35d7eb13c3f7f0d", 100_156,
        view_names=("prep1_2000d", "prep2_2000d", "prep3_2000d"), modalities=("text", "text", "text"),
        n_clusters=5, n_samples=500,
        options={"cell_key": "data", "label_key": "truelabel", "label_cell": True, "layout": "features_x_samples"},
        citation="Hussain, Bisson & Grimal 2010, NGs (20-Newsgroups subset under three preprocessings)",
        note="Stored features × samples (2000 × 500 per view)."),
    _generalisation(
        "webkb", "webkb", "a1a3e7c50dac79ade224d556e1ff371a190fbb56c174eadfe05bad74bcec52ea", 917_230,
        view_names=("page_text_1840d", "link_text_3000d"), modalities=("text", "text"), n_clusters=2,
        n_samples=1051, options={"label_key": "y", "layout": "samples_x_features"},
        citation="Blum & Mitchell 1998, WebKB course vs non-course pages (page text / link text)"),
)

REGISTRY: dict[str, DatasetEntry] = {
    e.name: e
    for e in [
        _entry(
            name="mnist-usps", loader="mat_keys",
            files=[DataFile("multiview/MNIST_USPS.mat",
                            "0130ae9ce7d395543df841d25e84d99354dcb77993006d390d3c42d4c2e3f056", 3_823_896)],
            view_names=("MNIST", "USPS"), modalities=("image", "image"), n_clusters=10, n_samples=5000,
            options={"view_keys": ["X1", "X2"], "label_key": "Y"},
            citation="LeCun et al. 1998 (MNIST) + Hull 1994 (USPS); pairing from Peng et al., COMIC, ICML 2019",
            source="myliu2048/DSE-FDMC data/MNIST_USPS.mat on GitHub; " + SHARED_MANIFEST,
        ),
        _entry(
            name="synthetic3d", loader="mat_cell",
            files=[DataFile("multiview/synthetic3d.mat",
                            "f5ebb44be9d98550877622b2f6eb4b70ff3dc9a1de3c3797bf3fad9ebb40ba9b", 53_768)],
            view_names=("v1", "v2", "v3"), modalities=("other", "other", "other"), n_clusters=3, n_samples=600,
            options={"label_key": "Y"},
            citation="Synthetic3d multi-view benchmark (as used by SCMVC, Wu et al., TMM 2024)",
            source="UeharaSetsuYu/Multi-view-Datasets synthetic3d.mat on GitHub; " + SHARED_MANIFEST,
        ),
        _entry(
            name="prokaryotic", loader="mat_cell",
            files=[DataFile("multiview/Prokaryotic.mat",
                            "20471598a8c819fb35e94f102cda4300a3b4f2cd185d3cbe0ea06e0349a7ed7c", 3_105_301)],
            view_names=("view1_393d", "view2_3d", "view3_438d"), modalities=("other", "other", "text"),
            n_clusters=4, n_samples=551, options={"label_key": "y"},
            citation="Brbić et al. 2016, prokaryotic phyla (gene repertoire / proteome composition / text)",
            source="ChuanbinZhang/Multi-view-datasets Prokaryotic.mat on GitHub; " + SHARED_MANIFEST,
            note="Views stored in the reverse order of SCMVC's prokaryotic.mat (393/3/438 vs 438/3/393); "
                 "view-to-source mapping not verified, so views are named by width.",
        ),
        _entry(
            name="wikipedia", loader="mat_cell",
            files=[DataFile("multimodal/Wikipedia.mat",
                            "6eed8527704611dff921243d86dbec5621312b8c6636086ae3677508b5d3cb03", 1_075_054)],
            view_names=("image_sift128", "text_lda10"), modalities=("image", "text"), n_clusters=10, n_samples=2866,
            options={"label_key": "y"},
            citation="Rasiwasia et al., ACM MM 2010 (Wikipedia image-text, 128-d SIFT BoW + 10-d LDA)",
            source="ChuanbinZhang/Multi-view-datasets Wikipedia.mat on GitHub; " + SHARED_MANIFEST,
            note="The file's view_meaning is swapped; view 0 (128-d) is the SIFT image view, view 1 (10-d) the LDA "
                 "text view. Not DM2C's 2048-d version.",
        ),
        _entry(
            name="wikipedia-test", loader="mat_cell",
            files=[DataFile("multimodal/Wikipedia-test.mat",
                            "c31d313a4e0e2ad699446782ac492119bc57e8b23ce620e4326cafb560870552", 261_664)],
            view_names=("image_sift128", "text_lda10"), modalities=("image", "text"), n_clusters=10, n_samples=693,
            options={"label_key": "y"},
            citation="Rasiwasia et al., ACM MM 2010 (standard 693-pair test split)",
            source="ChuanbinZhang/Multi-view-datasets Wikipedia-test.mat on GitHub; " + SHARED_MANIFEST,
            note="All 693 rows also appear in 'wikipedia'; the other 2173 rows form the train split.",
        ),
        _entry(
            name="cub", loader="mat_cell",
            files=[DataFile("multimodal/cub_googlenet_doc2vec_c10.mat",
                            "3ab7dc9917c520e6931fa3338cb9c6e8b2f6a4050ca8a25c97360e87d7bbfc3a", 3_182_590)],
            view_names=("image_googlenet1024", "text_doc2vec300"), modalities=("image", "text"), n_clusters=10,
            n_samples=600, options={"label_key": "gt"},
            citation="Wah et al. 2011 (CUB-200-2011) + Reed et al. 2016 captions; 10-class split as in CPM-Nets",
            source="UeharaSetsuYu/Multi-view-Datasets cub_googlenet_doc2vec_c10.mat on GitHub; " + SHARED_MANIFEST,
        ),
        _entry(
            name="mnist", loader="mnist_idx",
            files=[
                DataFile("mnist/MNIST/raw/t10k-images-idx3-ubyte.gz",
                         "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1_648_877),
                DataFile("mnist/MNIST/raw/t10k-labels-idx1-ubyte.gz",
                         "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4_542),
            ],
            view_names=("pixels",), modalities=("image",), n_clusters=10, n_samples=10000,
            citation="LeCun, Cortes & Burges, MNIST (test set of 10,000 images)",
            source=_MNIST_SRC,
            note="Test images only: the train images file is not in the shared folder.",
        ),
        _entry(
            name="digits", loader="sklearn_digits", files=[],
            view_names=("pixels8x8",), modalities=("image",), n_clusters=10, n_samples=1797,
            citation="Alpaydin & Kaynak 1998, UCI optical digits (shipped with scikit-learn)",
            source="bundled with scikit-learn (sklearn.datasets.load_digits); nothing to download",
        ),
        _entry(
            name="caltech-3v", loader="mat_keys", files=[_CALTECH_FILE],
            view_names=("X1_40d", "X2_254d", "X5_928d"), modalities=("image", "image", "image"),
            n_clusters=7, n_samples=1400, options={"view_keys": ["X1", "X2", "X5"], "label_key": "Y"},
            citation=_CALTECH_CITE, source=_CALTECH_SRC,
            note="DDMC's Caltech-3V = views X1, X2, X5 of Caltech-5V.",
        ),
        _entry(
            name="caltech-4v", loader="mat_keys", files=[_CALTECH_FILE],
            view_names=("X1_40d", "X2_254d", "X5_928d", "X4_512d"), modalities=("image",) * 4,
            n_clusters=7, n_samples=1400, options={"view_keys": ["X1", "X2", "X5", "X4"], "label_key": "Y"},
            citation=_CALTECH_CITE, source=_CALTECH_SRC,
            note="DDMC's Caltech-4V = views X1, X2, X5, X4 of Caltech-5V.",
        ),
        _entry(
            name="esp-game", loader="mat_separate",
            files=[DataFile("multimodal/esp-game/img_1.mat", None), DataFile("multimodal/esp-game/img_2.mat", None),
                   DataFile("multimodal/esp-game/txt_1.mat", None),
                   DataFile("multimodal/esp-game/L.mat",
                            "f675443dd4afd0baddb9f6ed1ec9d80afc95a7d1330a5aa697c2dc097469d56b", 378)],
            view_names=("image1_300d", "image2_300d", "text_300d"), modalities=("image", "image", "text"),
            n_clusters=7, n_samples=11032,
            options={"view_keys": [["img", "temp1"], ["img", "temp1"], ["txt", "temp2"]], "label_key": "L"},
            citation="von Ahn & Dabbish 2004 (ESP-Game); 7-cluster subset as in DCIB (Yan et al., TNNLS)",
            source="Xiaoqiang-Yan/TNNLS-DCIB dataset/esp/{img_1,img_2,txt_1,L}.mat on GitHub; the labels are in "
                   + SHARED_MANIFEST + ", the feature files are not",
            note="No sha256 is published for the feature files: `make data NAME=esp-game` checks git's blob id at the "
                 "pinned commit and records the sha256 in fetched.json, which load() then checks.",
        ),
        _entry(
            name="flickr", loader="mat_keys",
            files=[DataFile("multimodal/flickr/flickr.mat", None)],
            view_names=("v1_100d", "v2_100d", "v3_100d"), modalities=("image", "image", "text"),
            n_clusters=6, n_samples=12154, options={"view_keys": ["X1", "X2", "X3"], "label_key": "Y"},
            citation="Huiskes & Lew 2008 (MIR Flickr); 12,154-sample subset used by DDMC",
            source="no public copy was found; place flickr.mat (keys X1, X2, X3, Y) under multimodal/flickr/",
        ),
        _entry(
            name="iapr", loader="mat_keys",
            files=[DataFile("multimodal/iapr/iapr.mat", None)],
            view_names=("image_100d", "text_100d"), modalities=("image", "text"), n_clusters=6, n_samples=7855,
            options={"view_keys": ["X1", "X2"], "label_key": "Y"},
            citation="Grubinger et al. 2006 (IAPR TC-12); 7,855-sample subset used by DDMC",
            source="no public copy was found; place iapr.mat (keys X1, X2, Y) under multimodal/iapr/",
        ),
        _entry(
            name="mnist-train", loader="mnist_idx",
            files=[
                DataFile("mnist/MNIST/raw/train-images-idx3-ubyte.gz", None, 9_912_422,
                         md5="f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                DataFile("mnist/MNIST/raw/train-labels-idx1-ubyte.gz",
                         "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28_881),
            ],
            view_names=("pixels",), modalities=("image",), n_clusters=10, n_samples=60000,
            suite="images",
            citation="LeCun, Cortes & Burges, MNIST (training set of 60,000 images)",
            source="make data NAME=mnist (the official files, torchvision's raw/ layout)",
            note="The train images are not in the shared folder; `make data NAME=mnist` fetches them.",
        ),
        _entry(
            name="fashion-mnist", loader="mnist_idx",
            files=[
                DataFile("mnist/FashionMNIST/raw/t10k-images-idx3-ubyte.gz", None, 4_422_102,
                         md5="bef4ecab320f06d8554ea6380940ec79"),
                DataFile("mnist/FashionMNIST/raw/t10k-labels-idx1-ubyte.gz",
                         "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5_148),
            ],
            view_names=("pixels",), modalities=("image",), n_clusters=10, n_samples=10000,
            suite="images",
            citation="Xiao, Rasul & Vollgraf 2017, Fashion-MNIST (test set of 10,000 images)",
            source="make data NAME=fashion-mnist (the official files, torchvision's raw/ layout)",
            note="Only the labels are in the shared folder; `make data NAME=fashion-mnist` fetches the images.",
        ),
        _entry(
            name="fashion-mnist-train", loader="mnist_idx",
            files=[
                DataFile("mnist/FashionMNIST/raw/train-images-idx3-ubyte.gz", None, 26_421_880,
                         md5="8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                DataFile("mnist/FashionMNIST/raw/train-labels-idx1-ubyte.gz",
                         "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29_515),
            ],
            view_names=("pixels",), modalities=("image",), n_clusters=10, n_samples=60000,
            suite="images",
            citation="Xiao, Rasul & Vollgraf 2017, Fashion-MNIST (training set of 60,000 images)",
            source="make data NAME=fashion-mnist (the official files, torchvision's raw/ layout)",
        ),
        _entry(
            name="wikipedia-dm2c", loader="dm2c_mixed",
            files=[DataFile("multimodal/wikipedia-dm2c/train_file.mat", None),
                   DataFile("multimodal/wikipedia-dm2c/test_file.mat", None)],
            view_names=("image_2048d", "text_2048d"), modalities=("image", "text"), n_clusters=10, n_samples=2166,
            options={"dim": 2048},
            citation="Rasiwasia et al., ACM MM 2010 (Wikipedia); DM2C's mixed-modal version (Jiang et al., "
                     "NeurIPS 2019): PCA to 2048-d per modality, the authors' own train/test split",
            source="make data NAME=wikipedia-dm2c (jiangyangby/DM2C code/data/wikipedia/{train,test}_file.mat on "
                   "GitHub)",
            note="Mixed-modal: every sample has one modality, so it loads with mmc_lib.data.dm2c_split, not load(). "
                 "n_samples is the poster's 1910 train + 256 test; the files' own counts are used.",
        ),
        _entry(
            name="nus-wide-10k", loader="dm2c_mixed",
            files=[DataFile("multimodal/nus-wide-10k/train_file.mat", None),
                   DataFile("multimodal/nus-wide-10k/test_file.mat", None)],
            view_names=("image_1000d", "text_1000d"), modalities=("image", "text"), n_clusters=10, n_samples=10000,
            options={"dim": 1000},
            citation="Chua et al. 2009 (NUS-WIDE); 10k/10-class subset used by DM2C (Jiang et al., NeurIPS 2019), "
                     "PCA to 1000-d per modality",
            source="make data NAME=nus-wide-10k (jiangyangby/DM2C code/data/nuswide/{train,test}_file.mat on GitHub)",
            note="Mixed-modal, like wikipedia-dm2c; n_samples is the poster's 7500 train + 2500 test.",
        ),
    ]
    + list(GENERALISATION)
}
