"""Which library versions a model file records, and which of them this installation can read.

Policy (checked by :func:`check_versions` before anything is built):

- crmml: another major version is refused. A newer minor version is refused unless the file says it is readable
  by this crmml's format (``min_reader_format_version <= FORMAT_VERSION``); older versions always load.
- scikit-learn and xgboost: their saved state is not forward compatible, so a file saved by a newer
  major.minor than the installed one is refused, with the fix in the message. Older versions load.
- numpy, pandas (pyarrow) and scipy: ``.npy``, parquet and the index arrays crmml stores are stable formats,
  so their versions are recorded but not checked.
"""

from __future__ import annotations

import re

from crmml.persistence._errors import ModelLoadError

#: this crmml writes format version FORMAT_VERSION and reads every version up to it
FORMAT_VERSION = 1
#: the oldest reader format that can read what this crmml writes (recorded as ``min_reader_format_version``)
MIN_READER_FORMAT_VERSION = 1
#: libraries whose stored state a newer version may write in a way an older one misreads
_NOT_FORWARD_COMPATIBLE = {"scikit-learn": "sklearn.", "xgboost": "xgboost."}
#: distributions that install a library: xgboost's CPU-only build is the distribution ``xgboost-cpu``
_DISTRIBUTIONS = {"xgboost": ("xgboost", "xgboost-cpu")}


def library_versions() -> dict:
    """Versions of the libraries whose objects a model file may hold.

    >>> sorted(library_versions())[:3]
    ['numpy', 'pandas', 'pyarrow']
    """
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("numpy", "pandas", "scikit-learn", "scipy", "pyarrow", "xgboost"):
        for dist in _DISTRIBUTIONS.get(name, (name,)):
            try:                               # the installed distribution's version, without importing it
                out[name] = version(dist)      # (importing xgboost costs ~0.3 s of every CLI call)
                break
            except PackageNotFoundError:  # optional library missing, or installed under another name
                pass
    return dict(sorted(out.items()))


def major_minor(version, what: str = "version") -> tuple[int, int]:
    """``(major, minor)`` of a version string such as ``"1.6.1"`` or ``"3.2.0rc1"``.

    >>> major_minor("3.2.0rc1")
    (3, 2)
    """
    m = re.match(r"(\d{1,6})\.(\d{1,6})", str(version)) if isinstance(version, str) else None
    if m is None:
        raise ModelLoadError(f"The model file records an unreadable {what} {version!r:.40}.")
    return int(m.group(1)), int(m.group(2))


def _classes(node, out: set) -> set:
    """Every class name in the metadata tree (depth already bounded by the JSON check)."""
    if isinstance(node, dict):
        if isinstance(node.get("class"), str):
            out.add(node["class"])
        if node.get("__type__") == "sklearn_tree":
            out.add("sklearn.tree._tree.Tree")
        for v in node.values():
            _classes(v, out)
    elif isinstance(node, list):
        for v in node:
            _classes(v, out)
    return out


def check_versions(meta: dict, where: str) -> None:
    """Refuse a file this installation cannot read faithfully (see the module docstring for the policy)."""
    from crmml import __version__

    fmt, min_reader = meta.get("format_version"), meta.get("min_reader_format_version", meta.get("format_version"))
    if meta.get("format") != "crmml-model" or type(fmt) is not int or type(min_reader) is not int:
        raise ModelLoadError(f"{where} has format {meta.get('format')!r:.40} version {fmt!r:.20}; this crmml "
                             f"reads crmml-model version {FORMAT_VERSION}.")
    saved = meta.get("crmml_version")
    s_mm, i_mm = major_minor(saved, "crmml version"), major_minor(__version__)
    if s_mm[0] != i_mm[0]:
        raise ModelLoadError(f"{where} was saved by crmml {saved}; this is crmml {__version__}. Models load only "
                             "within the same major version: re-train or use the matching crmml.")
    if min_reader > FORMAT_VERSION or (s_mm > i_mm and "min_reader_format_version" not in meta):
        raise ModelLoadError(f"{where} was saved by crmml {saved} (format {fmt}), newer than this crmml "
                             f"{__version__} (format {FORMAT_VERSION}) can read: upgrade crmml to >= "
                             f"{s_mm[0]}.{s_mm[1]} or re-save the model with crmml {i_mm[0]}.{i_mm[1]}.")
    versions = meta.get("library_versions")
    if not isinstance(versions, dict):
        raise ModelLoadError(f"{where} does not record its library versions.")
    installed = library_versions()
    classes = _classes(meta.get("root"), set())
    for lib, prefix in _NOT_FORWARD_COMPATIBLE.items():
        if not any(c.startswith(prefix) for c in classes):
            continue
        if lib not in versions:
            raise ModelLoadError(f"{where} holds {lib} objects but does not record the {lib} version.")
        if lib not in installed:
            raise ModelLoadError(f"{where} holds {lib} objects, but {lib} is not installed: install "
                                 f"{lib} >= {versions[lib]}.")
        s, i = major_minor(versions[lib], f"{lib} version"), major_minor(installed[lib])
        if s > i:
            raise ModelLoadError(f"{where} was saved with {lib} {versions[lib]}, newer than the installed "
                                 f"{installed[lib]}, whose format is not forward compatible: upgrade {lib} to "
                                 f">= {s[0]}.{s[1]} or re-save the model with {lib} {i[0]}.{i[1]}.")
