"""Hostile model files: the only outcomes are ModelLoadError or a model identical to the original.

Cases (seeded): random byte flips and truncations of whole saved zips (in this process: the manifest check
refuses them before any library sees a byte); crafted members and random flips inside one member with the
manifest recomputed, so they reach the validators (in a subprocess, whose exit code proves no SIGSEGV); zip-level
attacks (huge declared size, a zip bomb, duplicate names, limits). Models: a churn model (xgboost), one whose
trees split on categories, an RFM segmenter, a scikit-learn tree and forest, NextBestOffer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from crmml.persistence import LoadLimits, ModelLoadError, load

sys.path.insert(0, str(Path(__file__).parent))
import _fuzz_cases as fc  # noqa: E402

SEED = 20261206


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    fc.build(folder)
    return folder


def test_crafted_and_fuzzed_members_never_crash_the_interpreter(built):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(fc.__file__).parents[2] / "src"),
                                                        os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, fc.__file__, str(built), str(SEED), "45"], capture_output=True,
                          text=True, env=env, timeout=300)
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    done = [r for r in rows if r["outcome"] != "started"]
    last = rows[-1] if rows else None
    assert proc.returncode == 0, f"exit code {proc.returncode} during {last}: {proc.stderr[-2000:]}"
    assert len(done) == len(rows) / 2 and len(done) >= 300
    crafted = [r for r in done if r["kind"] == "crafted"]
    assert {r["model"] for r in crafted} == set(fc.MODELS) and len(crafted) >= 100
    not_refused = [(r["model"], r["case"], r["outcome"]) for r in crafted if r["outcome"] != "error"]
    assert not_refused == []
    fuzz = [r for r in done if r["kind"] == "fuzz"]
    assert {r["outcome"] for r in fuzz} <= {"error", "same", "loaded"}, [r for r in fuzz if r["outcome"] == "raw"]
    assert sum(r["outcome"] == "error" for r in fuzz) > len(fuzz) / 2
    by_case = {(r["model"], r["case"]): r["detail"] for r in crafted}
    assert "column indices outside [0," in by_case[("nbo", "nbo similarity index out of range")]
    assert "arrays/" in by_case[("nbo", "nbo similarity index out of range")]
    assert "NextBestOffer is inconsistent" in by_case[("nbo", "nbo similarity swapped with affinity")]
    assert "not between its own node id" in by_case[("tree", "tree child cycle")]
    assert "feature index is outside" in by_case[("forest", "tree feature out of range")]
    assert "splits on a feature outside" in by_case[("churn", "xgboost split feature out of range")]
    import xgboost

    if tuple(int(p) for p in xgboost.__version__.split(".")[:2]) >= (3, 1):     # it stores category encodings
        assert "names a category its feature does not have" in by_case[("churn_cat", "xgboost unknown category")]
    assert "categories_nodes are not" in by_case[("churn_cat", "xgboost categorical node not a split")]
    assert "holds Python objects" in by_case[("rfm", "npy object dtype")]
    assert "nests too deeply to parse" in by_case[("rfm", "deep json")]
    assert "nests 201 levels deep; the limit is 64" in by_case[("rfm", "deep json in state")]


def _outcome(path: Path, folder: Path, name: str) -> str:
    try:
        model = load(path)
    except ModelLoadError:
        return "error"
    assert fc.same_predictions(folder, name, model), f"{name}: a damaged file loaded as a different model"
    return "same"


@pytest.mark.parametrize("name", fc.MODELS)
def test_random_byte_flips_and_truncations_of_the_whole_file(built, tmp_path, name):
    rng = np.random.default_rng([SEED, fc.MODELS.index(name)])
    raw = (built / f"{name}.zip").read_bytes()
    outcomes = []
    for i in range(50):
        data = bytearray(raw)
        if i % 5 == 4:                                   # a truncation
            data = data[: int(rng.integers(0, len(data)))]
        else:                                            # 1-4 flipped bytes anywhere (headers included)
            for _ in range(rng.integers(1, 5)):
                data[rng.integers(len(data))] ^= int(rng.integers(1, 256))
        path = tmp_path / f"case{i}.zip"
        path.write_bytes(bytes(data))
        outcomes.append(_outcome(path, built, name))
    assert set(outcomes) <= {"error", "same"} and outcomes.count("error") >= 25


def _patch_declared_size(path: Path, member: str, size: int) -> None:
    """Rewrite the uncompressed size the central directory (and local header) declare for ``member``."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    for sig, size_at, name_at in ((b"PK\x01\x02", 24, 46), (b"PK\x03\x04", 22, 30)):
        pos = data.find(sig + b"")
        while pos >= 0:
            if data[pos + name_at: pos + name_at + len(name)] == name:
                data[pos + size_at: pos + size_at + 4] = size.to_bytes(4, "little")
            pos = data.find(sig, pos + 4)
    path.write_bytes(bytes(data))


def test_a_huge_declared_member_is_refused_before_reading(built, tmp_path):
    path = tmp_path / "huge.zip"
    path.write_bytes((built / "rfm.zip").read_bytes())
    _patch_declared_size(path, "metadata.json", 2**31 + 5)
    with pytest.raises(ModelLoadError, match=r"Member 'metadata.json' of .* declares 2147483653 bytes; the limit"):
        load(path)


def test_a_member_longer_than_declared_is_refused(built, tmp_path):
    path = tmp_path / "liar.zip"
    path.write_bytes((built / "rfm.zip").read_bytes())
    _patch_declared_size(path, "metadata.json", 100)
    with pytest.raises(ModelLoadError, match="Member .metadata.json. of .* (is corrupt|holds)"):
        load(path)


def _write_zip_bomb(path):
    chunk = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("metadata.json", b"{}")
        zf.writestr("manifest.json", b"{}")
        with zf.open("arrays/0000.npy", "w", force_zip64=True) as f:
            for _ in range(512):                         # 512 MiB of zeros, ~0.5 MB compressed
                f.write(chunk)
    assert path.stat().st_size < 3 * 2**20


def test_a_zip_bomb_is_refused_with_bounded_memory(tmp_path):
    path = tmp_path / "bomb.zip"
    _write_zip_bomb(path)
    tracemalloc.start()
    try:
        with pytest.raises(ModelLoadError, match=r"Member 'arrays/0000.npy' .* expands more than 100 times"):
            load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * 2**20, f"peak {peak / 2**20:.0f} MiB while refusing a 512 MiB member"


def test_a_zip_bomb_is_refused_after_at_most_8_mib_read(tmp_path, monkeypatch):
    """The README's "after at most ~8 MiB read": every byte zipfile decompresses for the loader is counted."""
    from crmml.persistence import _files

    path = tmp_path / "bomb.zip"
    _write_zip_bomb(path)
    read_by_member: dict[str, int] = {}
    real_read = zipfile.ZipExtFile.read

    def counting_read(self, n=-1):
        data = real_read(self, n)
        read_by_member[self.name] = read_by_member.get(self.name, 0) + len(data)
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    with pytest.raises(ModelLoadError, match=r"Member 'arrays/0000.npy' .* expands more than 100 times"):
        load(path)
    bomb = read_by_member.get("arrays/0000.npy", 0)
    assert 8 * 2**20 < bomb <= 8 * 2**20 + _files._CHUNK, f"{bomb} bytes of the bomb read"
    assert sum(read_by_member.values()) <= 8 * 2**20 + _files._CHUNK + 1024


def test_limits_are_enforced_and_can_be_raised(built, tmp_path):
    path = built / "rfm.zip"
    with pytest.raises(ModelLoadError, match=r"holds \d+ members; the limit is 3"):
        load(path, limits=LoadLimits(max_members=3))
    with pytest.raises(ModelLoadError, match="LoadLimits.max_member_bytes"):
        load(path, limits=LoadLimits(max_member_bytes=100))
    with pytest.raises(ModelLoadError, match="LoadLimits.max_total_bytes"):
        load(path, limits=LoadLimits(max_total_bytes=1000))
    with pytest.raises(ModelLoadError, match="LoadLimits.max_json_bytes"):
        load(path, limits=LoadLimits(max_json_bytes=50))
    with pytest.raises(TypeError, match="limits must be a crmml.persistence.LoadLimits"):
        load(path, limits={"max_members": 3})
    assert type(load(path, limits=LoadLimits(max_members=100))).__name__ == "RFMSegmenter"


def test_duplicate_member_names_are_refused(built, tmp_path):
    path = tmp_path / "dup.zip"
    members = fc.members_of(built / "rfm.zip")
    with zipfile.ZipFile(path, "w") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        for n, d in members.items():
            zf.writestr(n, d)
        zf.writestr("metadata.json", b"{}")
    with pytest.raises(ModelLoadError, match="holds the same member name twice"):
        load(path)


def test_folder_with_a_symlink_is_refused(built, tmp_path):
    from crmml.persistence import save

    folder = tmp_path / "model"
    save(load(built / "rfm.zip"), folder)
    (folder / "arrays" / "link.npy").symlink_to("/etc/hostname")
    with pytest.raises(ModelLoadError, match="holds a symbolic link 'link.npy'"):
        load(folder)


def test_check_loaded_state_and_constructor_failures_become_model_load_errors(built, tmp_path):
    members = fc.members_of(built / "nbo.zip")
    path = tmp_path / "nbo.zip"
    path.write_bytes(fc.zip_bytes(fc._edit_meta(members, lambda m: m["root"]["params"].__setitem__(
        "similarity", "eval"))))
    with pytest.raises(ModelLoadError, match=r"The saved crmml.recommend._model.NextBestOffer is inconsistent: "
                                             r"(Value|Parameter)Error: The 'similarity' parameter"):
        load(path)
    path.write_bytes(fc.zip_bytes(fc._edit_meta(members, lambda m: m["root"]["params"].__setitem__(
        "no_such_param", 1))))
    with pytest.raises(ModelLoadError, match="Cannot re-create crmml.recommend._model.NextBestOffer with the saved"):
        load(path)
