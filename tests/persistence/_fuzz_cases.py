"""Hostile model files for tests/persistence/test_persistence_fuzz.py, run in a subprocess (a crash is an exit code).

    python tests/persistence/_fuzz_cases.py FOLDER SEED N_FUZZ

``build(folder)`` fits small models of several types and saves each as ``<name>.zip`` with its input and its
predictions. ``main`` then loads, for every model, the crafted attacks of :func:`crafted` (each must end in
``ModelLoadError``) and ``N_FUZZ`` random byte flips inside one member with the manifest recomputed, so they
pass the hash check and reach the validators (each must end in ``ModelLoadError`` or a model that loads; such a
model is then used to predict, which must not crash the interpreter either). One JSON line per case on stdout.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

#: churn_cat: a churn model whose trees split on categories (text columns), with xgboost >= 3.1's encodings
MODELS = ("churn", "churn_cat", "rfm", "tree", "forest", "nbo")


def build(folder: Path) -> None:
    """Fit and save the models, their inputs and their predictions."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier

    from crmml.churn import ChurnModel, make_churn_snapshot
    from crmml.datasets import make_synthetic_crm
    from crmml.persistence import save
    from crmml.recommend import NextBestOffer
    from crmml.segmentation import RFMSegmenter, rfm_table

    crm = make_synthetic_crm(n_customers=200, seed=5, with_events=False)
    as_of = crm.start + pd.Timedelta(days=500)
    X, y = make_churn_snapshot(crm.transactions, as_of, 60, windows=(30, 90))
    X = X.select_dtypes("number").astype(float)
    rfm = rfm_table(crm.transactions, as_of)
    ids = pd.DataFrame({"customer_id": crm.customers["customer_id"].to_numpy()[:30]})
    rng = np.random.default_rng(5)
    Xc = pd.DataFrame({"region": rng.choice(list("abcdef"), 400), "plan": rng.choice(["basic", "plus", "pro"], 400),
                       "x": rng.normal(size=400)})
    yc = (Xc["region"].isin(["a", "b"]).to_numpy() ^ (rng.random(400) < 0.1)).astype(int)
    models = {
        "churn_cat": (ChurnModel(n_estimators=10, learning_rate=0.3, min_child_weight=2.0, early_stopping_rounds=5,
                                 n_jobs=1).fit(Xc, yc), Xc),
        "churn": (ChurnModel(n_estimators=10, learning_rate=0.3, min_child_weight=2.0, early_stopping_rounds=5,
                             n_jobs=1).fit(X, y.to_numpy()), X),
        "rfm": (RFMSegmenter().fit(rfm), rfm),
        "tree": (DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y), X),
        "forest": (RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, y), X),
        "nbo": (NextBestOffer().fit(crm.transactions, crm.products, as_of=as_of), ids),
    }
    for name, (model, data) in models.items():
        save(model, folder / f"{name}.zip")
        data.to_parquet(folder / f"{name}_input.parquet")
        predict(name, model, data).to_parquet(folder / f"{name}_expected.parquet")


def predict(name: str, model, data: pd.DataFrame) -> pd.DataFrame:
    if name == "rfm":
        return model.transform(data).reset_index()
    if name == "nbo":
        return model.recommend(data["customer_id"].to_numpy(), k=3)
    return pd.DataFrame(model.predict_proba(data)).rename(columns=str)


def same_predictions(folder: Path, name: str, model) -> bool:
    data = pd.read_parquet(folder / f"{name}_input.parquet")
    try:
        pd.testing.assert_frame_equal(predict(name, model, data),
                                      pd.read_parquet(folder / f"{name}_expected.parquet"), check_exact=True)
        return True
    except Exception:  # noqa: BLE001 - a tampered but well-formed model may predict differently or refuse X
        return False


# ---------------------------------------------------------------------------------------------- crafting
def members_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def resign(members: dict[str, bytes]) -> dict[str, bytes]:
    """Recompute the plain SHA-256 manifest, as a forger without the key would."""
    files = {n: hashlib.sha256(d).hexdigest() for n, d in sorted(members.items()) if n != "manifest.json"}
    return {**members, "manifest.json": json.dumps({"algorithm": "sha256", "files": files}).encode()}


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for n, d in members.items():
            zf.writestr(n, d)
    return buf.getvalue()


def find(node, pred, path=()):
    """(path, node) of every dict in the metadata tree for which ``pred`` holds."""
    if isinstance(node, dict):
        if pred(node):
            yield path, node
        for k, v in node.items():
            yield from find(v, pred, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from find(v, pred, (*path, i))


def _npy(a) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def _state_file(meta, key):
    """The member holding the ndarray stored under the state dict key ``key`` (first match)."""
    for _, node in find(meta, lambda d: d.get("__type__") == "dict"):
        for k, v in node["items"]:
            if k == key and isinstance(v, dict) and "file" in v:
                return v["file"]
    raise KeyError(key)


def _edit_array(members, member, edit):
    a = np.load(io.BytesIO(members[member]), allow_pickle=False)
    return resign({**members, member: _npy(edit(a.copy()))})


def _edit_meta(members, edit):
    meta = json.loads(members["metadata.json"])
    edit(meta)
    return resign({**members, "metadata.json": json.dumps(meta).encode()})


def _npy_header(members, member, header: bytes):
    data = members[member]
    start = 10 + int.from_bytes(data[8:10], "little")
    hdr = header.ljust(((len(header) + 10) // 64 + 1) * 64 - 10, b" ")[:-1] + b"\n"
    return resign({**members, member: b"\x93NUMPY\x01\x00" + len(hdr).to_bytes(2, "little") + hdr + data[start:]})


def _tree_cases(members, meta):
    nodes = _state_file(meta, "nodes")
    values = _state_file(meta, "values")

    def node_edit(field, fn):
        def edit(a):
            fn(a[field])
            return a
        return _edit_array(members, nodes, edit)

    def set0(v):
        v[0] = v[0]

    n = len(np.load(io.BytesIO(members[nodes]), allow_pickle=False))
    yield "tree child out of range", node_edit("left_child", lambda v: v.__setitem__(0, 10**6))
    yield "tree child negative", node_edit("right_child", lambda v: v.__setitem__(0, -5))
    yield "tree child self", node_edit("left_child", lambda v: v.__setitem__(0, 0))
    yield "tree child cycle", node_edit("right_child", lambda v: v.__setitem__(int(np.argmax(v)), 0))
    yield "tree child beyond count", node_edit("left_child", lambda v: v.__setitem__(0, n))
    yield "tree feature out of range", node_edit("feature", lambda v: v.__setitem__(0, 10**4))
    yield "tree feature -1 on split", node_edit("feature", lambda v: v.__setitem__(0, -1))
    yield "tree node dtype int32", _edit_array(members, nodes, lambda a: a.astype(
        [(f, "<i4" if a.dtype[f].kind == "i" else a.dtype[f]) for f in a.dtype.names]))
    yield "tree values wrong shape", _edit_array(members, values, lambda a: a[:-1])
    yield "tree values float32", _edit_array(members, values, lambda a: a.astype(np.float32))
    yield "tree nodes truncated", _edit_array(members, nodes, lambda a: a[:-1])
    yield "tree n_features lie", _edit_meta(members, lambda m: [t.__setitem__("n_features", 10**6) for _, t in find(
        m, lambda d: d.get("__type__") == "sklearn_tree")])


def _nbo_cases(members, meta):
    sim = meta["root"]["state"]["similarity_"]
    yield "nbo similarity index out of range", _edit_array(members, sim["indices"]["file"],
                                                          lambda a: a + 10**6)
    yield "nbo similarity index negative", _edit_array(members, sim["indices"]["file"], lambda a: a - 10**6)
    yield "nbo indptr not monotone", _edit_array(members, sim["indptr"]["file"], lambda a: a[::-1].copy())
    yield "nbo indptr too long", _edit_array(members, sim["indptr"]["file"], lambda a: np.append(a, a[-1]))
    yield "nbo similarity wrong shape", _edit_meta(members, lambda m: m["root"]["state"]["similarity_"].__setitem__(
        "shape", [3, 3]))
    yield "nbo similarity swapped with affinity", _edit_meta(members, lambda m: m["root"]["state"].__setitem__(
        "similarity_", m["root"]["state"]["affinity_"]))
    yield "nbo affinity fewer rows", _edit_meta(members, lambda m: m["root"]["state"]["affinity_"].__setitem__(
        "shape", [1, m["root"]["state"]["affinity_"]["shape"][1]]))
    yield "nbo category codes out of range", _edit_array(members, meta["root"]["state"]["category_codes_"]["file"],
                                                         lambda a: a + 10**6)
    yield "nbo popularity short", _edit_array(members, meta["root"]["state"]["popularity_"]["file"], lambda a: a[:-1])


def _xgb_cases(members, categorical=False):
    name = next(n for n in members if n.endswith(".ubj"))
    raw = members[name]

    def patch(key: bytes, value: int):
        i = raw.index(key + b"[$l#L") + len(key) + 5 + 8
        return resign({**members, name: raw[:i] + int(value).to_bytes(4, "big", signed=True) + raw[i + 4:]})

    yield "xgboost child out of range", patch(b"left_children", 10**6)
    yield "xgboost child self", patch(b"left_children", 0)
    yield "xgboost split feature out of range", patch(b"split_indices", 10**5)
    yield "xgboost truncated", resign({**members, name: raw[: len(raw) // 2]})
    yield "xgboost deep", resign({**members, name: b"[" * 5000 + b"]" * 5000})
    if categorical:                      # the first tree's first categorical split: its node, its category list
        yield "xgboost categorical node not a split", patch(b"categories_nodes", 10**5)
        if b"sorted_idx" in raw:         # xgboost >= 3.1 stores each feature's categories, which bound the codes
            yield "xgboost unknown category", patch(b"categories", 10**6)


def crafted(name: str, members: dict[str, bytes]):
    """(case, zip bytes) of attacks that must all end in ModelLoadError."""
    meta = json.loads(members["metadata.json"])
    first_npy = next((n for n in members if n.endswith(".npy")), None)
    cases = [
        ("deep json", resign({**members, "metadata.json": b"[" * 100_000 + b"]" * 100_000})),
        ("deep json in state", _edit_meta(members, lambda m: m.__setitem__("params", json.loads(
            "[" * 200 + "]" * 200)))),
        ("huge json number", resign({**members, "metadata.json": b"[" + b"9" * 100_000 + b"]"})),
        ("metadata not an object", resign({**members, "metadata.json": b"[1, 2]"})),
        ("unknown value type", _edit_meta(members, lambda m: m["root"].__setitem__("__type__", "pickle"))),
        ("state key dunder", _edit_meta(members, lambda m: m["root"].get("state", {}).__setitem__(
            "__class__", 1) if "state" in m["root"] else m["root"].__setitem__("class", "os.system"))),
        ("state key shadows method", _edit_meta(members, lambda m: m["root"].get("state", {}).__setitem__(
            "fit", 1) if "state" in m["root"] else m["root"].__setitem__("class", "builtins.eval"))),
        ("bad parameter name", _edit_meta(members, lambda m: m["root"]["params"].__setitem__("x y", 1))),
        ("object dtype scalar", _edit_meta(members, lambda m: m["root"]["params"].__setitem__(
            "n_jobs", {"__type__": "npscalar", "dtype": "|O", "value": 1}))),
    ]
    if first_npy is not None:
        cases += [
            ("npy object dtype", _npy_header(members, first_npy, b"{'descr': '|O', 'fortran_order': False, "
                                                                 b"'shape': (1,), }")),
            ("npy shape larger than bytes", _npy_header(members, first_npy, b"{'descr': '<f8', "
                                                        b"'fortran_order': False, 'shape': (10000000000,), }")),
            ("npy negative shape", _npy_header(members, first_npy, b"{'descr': '<f8', 'fortran_order': False, "
                                                                   b"'shape': (-1,), }")),
            ("npy code in header", _npy_header(members, first_npy, b"{'descr': __import__('os').getcwd(), "
                                                                   b"'fortran_order': False, 'shape': (1,), }")),
            ("npy header not a dict", _npy_header(members, first_npy, b"[1, 2, 3]")),
            ("npy bad magic", resign({**members, first_npy: b"PK" + members[first_npy][2:]})),
            ("npy huge header length", resign({**members, first_npy: members[first_npy][:8] + b"\xff\xff"
                                               + members[first_npy][10:]})),
        ]
    if name in ("tree", "forest"):
        cases += list(_tree_cases(members, meta))
    if name == "nbo":
        cases += list(_nbo_cases(members, meta))
    if name in ("churn", "churn_cat"):
        cases += list(_xgb_cases(members, categorical=name == "churn_cat"))
    return [(case, zip_bytes(m)) for case, m in cases]


def fuzzed(members: dict[str, bytes], rng, n: int, only: str = ""):
    """``n`` copies with 1-3 random bytes of one member (not the manifest; ending in ``only``) changed, re-signed."""
    names = sorted(n for n in members if n != "manifest.json" and n.endswith(only))
    for i in range(n):
        target = names[rng.integers(len(names))]
        data = bytearray(members[target])
        for _ in range(rng.integers(1, 4)):
            data[rng.integers(len(data))] = rng.integers(256)
        yield f"fuzz {i} {target}", zip_bytes(resign({**members, target: bytes(data)}))


def classify(folder: Path, name: str, blob: bytes, work: Path) -> tuple[str, str]:
    from crmml.persistence import ModelLoadError, load

    path = work / "case.zip"
    path.write_bytes(blob)
    try:
        model = load(path)
    except ModelLoadError as exc:
        return "error", str(exc)[:160]
    except BaseException as exc:  # noqa: BLE001 - anything else is what the test looks for
        return "raw", f"{type(exc).__name__}: {str(exc)[:160]}"
    if same_predictions(folder, name, model):
        return "same", ""
    return "loaded", "a different, well-formed model (no key: a forger can change values)"


def main(folder: str, seed: int, n_fuzz: int) -> None:
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    work = folder / "work"
    work.mkdir(exist_ok=True)
    for name in MODELS:
        members = members_of(folder / f"{name}.zip")
        groups = [("crafted", crafted(name, members)), ("fuzz", fuzzed(members, rng, n_fuzz))]
        if name in ("churn", "churn_cat"):  # xgboost trusts its model file: flip bytes of the .ubj member itself
            groups.append(("fuzz", fuzzed(members, rng, 2 * n_fuzz, only=".ubj")))
        for kind, cases in groups:
            for case, blob in cases:
                print(json.dumps({"model": name, "kind": kind, "case": case, "outcome": "started"}), flush=True)
                outcome, detail = classify(folder, name, blob, work)
                print(json.dumps({"model": name, "kind": kind, "case": case, "outcome": outcome,
                                  "detail": detail}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
    # Every case has run and been reported. Leave without the interpreter's teardown: pyarrow's parquet thread
    # pool (read by same_predictions) can abort there with "terminate called without an active exception"
    # (apache/arrow#34314), seen once under pytest-xdist load. A crash while loading a case still shows as a
    # signal exit code, because it happens before this line.
    sys.stdout.flush()
    os._exit(0)
