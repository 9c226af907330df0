"""Summarise diagnose_ddmc.py output: per seed, the restart each selection rule picks, and its ACC."""
import json
import sys
from collections import defaultdict

import numpy as np

rows = [json.loads(line) for f in sys.argv[1:] for line in open(f)]
groups = defaultdict(lambda: defaultdict(list))
for r in rows:
    groups[(r["dataset"], r["method"], r["variant"], r.get("fixes", "none"))][r["seed"]].append(r)
for key, seeds in groups.items():
    print(*key)
    picks = {"objective": lambda r: r["last"]["objective"], "train L_DDC": lambda r: r["last"].get("L_DDC", 0),
             "eval L_DDC": lambda r: r.get("ddc_eval") or 0, "first restart": lambda r: r["restart"]}
    for rule, f in picks.items():
        accs = []
        for seed, runs in sorted(seeds.items()):
            accs.append(min(runs, key=f)["acc"])
        print(f"  {rule:14s} ACC per seed {[round(100 * a, 1) for a in accs]} mean {100 * np.mean(accs):.1f} ± {100 * np.std(accs):.1f}")
    allr = [r for runs in seeds.values() for r in runs]
    print(f"  all restarts: ACC {100 * np.mean([r['acc'] for r in allr]):.1f} ± {100 * np.std([r['acc'] for r in allr]):.1f}, "
          f"peak {100 * np.mean([r['peak_acc'] for r in allr]):.1f}, nonempty min {min(r['nonempty'] for r in allr)}, "
          f"club max {max(r.get('club_max', 0) for r in allr):.2f}, s/run {np.mean([r['seconds'] for r in allr]):.0f}")
    g = [x for r in allr for x in r["grads"] if x["epoch"] >= 20]
    if g:
        print("  grad-norm ratio to ddc (epochs>=20, median/max):", {k: (round(float(np.median([x[k] / x['ddc'] for x in g])), 2), round(float(np.max([x[k] / x['ddc'] for x in g])), 1)) for k in g[0] if k not in ("epoch", "ddc")})
