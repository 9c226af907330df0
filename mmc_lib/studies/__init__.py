"""The studies behind the notebooks: one module per notebook, plus what they share.

| module | job |
|---|---|
| ``budgets`` | what every study runs in the ``smoke`` and ``full`` profiles (the one place) |
| ``grid`` | cached, resumable run grids (joblib, any backend), summaries, the mean ± std tables |
| ``data_and_baselines`` | notebook 00 — data sets and the classical baselines (its ``classical_run`` serves 01 too) |
| ``ddmc`` | notebook 01 — DDMC beside SiMVC/CoMVC and the classical rows |
| ``dm2c`` | notebook 02 — DM2C and the deep single-input baselines on mixed-modal splits |
| ``joint_embedding`` | notebook 03 — joint embedding spaces, clustering in them, cross-modal retrieval |

A study may import anything below it (data, methods, metrics, results, audit); nothing below imports a study.
"""
