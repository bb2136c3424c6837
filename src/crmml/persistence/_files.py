"""The container: members of a zip file or folder, read within limits, and their SHA-256/HMAC manifest."""

from __future__ import annotations

import hashlib
import hmac
import json
import zipfile
import zlib
from pathlib import Path

from crmml.exceptions import ParameterError
from crmml.persistence._errors import LoadLimits, ModelLoadError, SavePathError
from crmml.persistence._validate import load_json

META, MANIFEST = "metadata.json", "manifest.json"
#: top-level folders a model folder may hold besides the two JSON files
MEMBER_FOLDERS = ("arrays", "frames", "xgboost")
_CHUNK = 1 << 16
#: below this many bytes read, a member is not checked for its expansion ratio
_RATIO_FLOOR = 8 << 20
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error, NotImplementedError,
               ValueError, RuntimeError, KeyError, OverflowError, MemoryError, IndexError)


def check_path(path) -> None:
    """The one rule ``save`` and ``load`` apply to ``path``: a str or a path-like object, else ``TypeError``."""
    if not isinstance(path, (str, Path)) and not hasattr(path, "__fspath__"):
        raise ParameterError(f"path must be a str or Path; got {type(path).__name__}.")


def sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def as_key(key) -> bytes | None:
    if key is None:
        return None
    return key.encode() if isinstance(key, str) else bytes(key)


def manifest_bytes(members: dict[str, bytes], key: bytes | None) -> bytes:
    """The manifest: SHA-256 of every member, and an HMAC-SHA256 over them when a key is given."""
    files = {name: sha256(data) for name, data in sorted(members.items())}
    body = {"algorithm": "sha256", "files": files}
    if key is not None:
        body["hmac_sha256"] = _hmac(key, files)
    return json.dumps(body, indent=1, sort_keys=True).encode()


def _hmac(key: bytes, files: dict) -> str:
    return hmac.new(key, json.dumps(files, sort_keys=True).encode(), hashlib.sha256).hexdigest()


# ----------------------------------------------------------------------------------------------- reading
def read_members(path: Path, limits: LoadLimits) -> dict[str, bytes]:
    """Every member of a model zip file or folder, refusing counts and sizes over ``limits`` before reading them."""
    if path.is_dir():
        return _read_folder(path, limits)
    if not path.exists():
        raise ModelLoadError(f"No saved model at {str(path)!r}.")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            _check_sizes(path, [(i.filename, i.file_size) for i in infos], limits)
            if len({i.filename for i in infos}) != len(infos):
                raise ModelLoadError(f"{str(path)!r} holds the same member name twice: the file was tampered with.")
            out, total = {}, 0
            for info in infos:
                try:
                    out[info.filename] = _read_zip_member(zf, info, limits, path, limits.max_total_bytes - total)
                except ModelLoadError:
                    raise
                except _ZIP_ERRORS as exc:
                    raise ModelLoadError(f"Member {info.filename!r} of {str(path)!r} is corrupt "
                                         f"({type(exc).__name__}: {exc}).") from exc
                total += len(out[info.filename])
            return out
    except ModelLoadError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise ModelLoadError(f"{str(path)!r} is not a crmml model file (not a zip file or folder).") from exc
    except _ZIP_ERRORS as exc:
        raise ModelLoadError(f"{str(path)!r} is a corrupt zip file ({type(exc).__name__}: {exc}).") from exc


def _check_sizes(path: Path, sizes: list[tuple[str, int]], limits: LoadLimits) -> None:
    if len(sizes) > limits.max_members:
        raise ModelLoadError(f"{str(path)!r} holds {len(sizes)} members; the limit is {limits.max_members} "
                             "(crmml.persistence.LoadLimits.max_members).")
    for name, size in sizes:
        if size > limits.max_member_bytes:
            raise ModelLoadError(f"Member {name!r} of {str(path)!r} declares {size} bytes; the limit is "
                                 f"{limits.max_member_bytes} (LoadLimits.max_member_bytes).")
    total = sum(s for _, s in sizes)
    if total > limits.max_total_bytes:
        raise ModelLoadError(f"The members of {str(path)!r} declare {total} bytes in all; the limit is "
                             f"{limits.max_total_bytes} (LoadLimits.max_total_bytes).")


def _read_zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: LoadLimits, path: Path,
                     room: int) -> bytes:
    """A member read in chunks: never more than its declared size, the member cap or the total cap, and refused
    as soon as it has expanded more than ``max_ratio`` times the compressed bytes consumed (past 8 MiB)."""
    cap = min(info.file_size, limits.max_member_bytes, room)
    parts, n = [], 0
    with zf.open(info) as f:
        while True:
            chunk = f.read(_CHUNK)
            if not chunk:
                break
            n += len(chunk)
            # compressed bytes consumed so far (zipfile's counter when it has one, else the whole member), less
            # those read ahead but not yet decompressed (up to ~68 KiB: counted, they let a bomb expand ~7 MiB more)
            tail = getattr(getattr(f, "_decompressor", None), "unconsumed_tail", b"")
            consumed = info.compress_size - getattr(f, "_compress_left", 0) - len(tail)
            if n > _RATIO_FLOOR and n > limits.max_ratio * max(consumed, 1):
                raise ModelLoadError(f"Member {info.filename!r} of {str(path)!r} expands more than "
                                     f"{limits.max_ratio:g} times (a zip bomb?); refused (LoadLimits.max_ratio).")
            if n > cap:
                raise ModelLoadError(f"Member {info.filename!r} of {str(path)!r} holds more bytes than it "
                                     f"declares ({info.file_size}) or than the limits allow; refused.")
            parts.append(chunk)
    if n != info.file_size:
        raise ModelLoadError(f"Member {info.filename!r} of {str(path)!r} holds {n} bytes but declares "
                             f"{info.file_size}: the file is corrupt.")
    return b"".join(parts)


def _read_folder(path: Path, limits: LoadLimits) -> dict[str, bytes]:
    files = []
    for p in sorted(path.rglob("*")):
        if p.is_symlink():
            raise ModelLoadError(f"The model folder {str(path)!r} holds a symbolic link {p.name!r}; refused.")
        if p.is_file():
            files.append(p)
        if len(files) > limits.max_members:
            break
    _check_sizes(path, [(p.relative_to(path).as_posix(), p.stat().st_size) for p in files], limits)
    out = {}
    for p in files:
        with open(p, "rb") as f:
            data = f.read(limits.max_member_bytes + 1)
        if len(data) > limits.max_member_bytes:
            raise ModelLoadError(f"Member {p.name!r} of {str(path)!r} grew past the limit while being read.")
        out[p.relative_to(path).as_posix()] = data
    return out


def verify(members: dict[str, bytes], key: bytes | None, path: Path, limits: LoadLimits) -> dict:
    """Check the manifest (and signature) against the members; return the parsed metadata."""
    if MANIFEST not in members or META not in members:
        raise ModelLoadError(f"{str(path)!r} is not a crmml model: {META} or {MANIFEST} is missing.")
    manifest = load_json(members[MANIFEST], MANIFEST, limits)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise ModelLoadError(f"The manifest of {str(path)!r} is unreadable: the file was tampered with "
                             "or corrupted.")
    listed, present = set(files), set(members) - {MANIFEST}
    if listed != present:
        extra, missing = sorted(present - listed), sorted(listed - present)
        raise ModelLoadError(f"{str(path)!r} was tampered with or is incomplete: members "
                             f"{'added ' + str(extra) if extra else ''}{' ' if extra and missing else ''}"
                             f"{'missing ' + str(missing) if missing else ''} compared with its manifest.")
    bad = sorted(name for name in listed if sha256(members[name]) != files[name])
    if bad:
        raise ModelLoadError(f"{str(path)!r} was tampered with or corrupted: the SHA-256 of {bad} "
                             "does not match its manifest.")
    if key is not None:
        sig = manifest.get("hmac_sha256")
        if sig is None:
            raise ModelLoadError(f"{str(path)!r} is not signed, but a key was given to load.")
        if not isinstance(sig, str) or not hmac.compare_digest(sig, _hmac(key, files)):
            raise ModelLoadError(f"{str(path)!r} failed its signature check: it was tampered with or "
                                 "signed with another key.")
    meta = load_json(members[META], META, limits)
    if not isinstance(meta, dict):
        raise ModelLoadError(f"The {META} of {str(path)!r} is not a JSON object.")
    return meta


# ----------------------------------------------------------------------------------------------- writing
def write_members(path: Path, fmt: str, members: dict[str, bytes], manifest: bytes) -> None:
    """Write a zip file (atomically: a temporary file beside it, then a rename) or a model folder."""
    if fmt == "zip":
        from crmml._atomic import atomic_path   # the one temp-file-and-rename writer (per-process name, fsync)

        with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED,
                                                        compresslevel=6) as zf:
            for name, data in members.items():
                zf.writestr(name, data)
            zf.writestr(MANIFEST, manifest)
        return
    path.mkdir(parents=True, exist_ok=True)
    existing = [p for p in path.rglob("*") if p.is_file()]
    foreign = [p for p in existing if p.relative_to(path).as_posix() not in (MANIFEST, META)
               and p.relative_to(path).parts[0] not in MEMBER_FOLDERS]
    if foreign:
        raise SavePathError(f"Cannot save into {str(path)!r}: the folder holds files that are not part of "
                            f"a crmml model (e.g. {foreign[0].name!r}); use an empty or new folder.")
    for old in existing:
        old.unlink()
    for name, data in [*members.items(), (MANIFEST, manifest)]:
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(data)
