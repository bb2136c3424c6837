"""The error every failed load ends in, and the size limits a model file must stay within."""

from __future__ import annotations

from dataclasses import dataclass

from crmml.exceptions import CrmmlError


class ModelLoadError(ValueError, CrmmlError):
    """A saved model cannot be loaded: unknown class, version mismatch, tampering or a bad file.

    >>> issubclass(ModelLoadError, ValueError)
    True
    """


class SavePathError(FileExistsError, CrmmlError):
    """:func:`crmml.persistence.save` refuses to write a model folder into a folder that holds other files.

    A ``FileExistsError``: save into an empty or new folder (or a ``.zip`` path).

    >>> import tempfile, pathlib
    >>> from crmml.persistence import save
    >>> from crmml.segmentation import RuleSegmenter
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "notes.txt").write_text("mine")
    >>> save(RuleSegmenter(rules={"big": "amount > 100"}), folder, format="dir")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    crmml.persistence._errors.SavePathError: Cannot save into ...: the folder holds files that are not part of a crmml model (e.g. 'notes.txt'); use an empty or new folder.
    """


@dataclass(frozen=True)
class LoadLimits:
    """Bounds :func:`crmml.persistence.load` enforces before and while reading a model file.

    A file over any bound is refused with :class:`ModelLoadError` before the memory is spent. Raise a
    bound (``load(path, limits=LoadLimits(max_member_bytes=...))``) only for files you trust.

    Parameters
    ----------
    max_members : int, default=50_000
        Members in the zip file or folder.
    max_member_bytes : int, default=1 GiB
        Uncompressed size of one member (declared in the zip and actually read).
    max_total_bytes : int, default=2 GiB
        Uncompressed size of all members together.
    max_ratio : float, default=100.0
        Uncompressed / compressed size of a member (a zip bomb), checked for members over 1 MiB.
    max_json_bytes : int, default=64 MiB
        Size of ``metadata.json`` and ``manifest.json``.
    max_json_depth : int, default=64
        Nesting depth of the JSON (and of xgboost's UBJSON) documents.

    Examples
    --------
    >>> LoadLimits().max_json_depth
    64
    >>> LoadLimits(max_member_bytes=2**31).max_member_bytes
    2147483648
    """

    max_members: int = 50_000
    max_member_bytes: int = 2**30
    max_total_bytes: int = 2**31
    max_ratio: float = 100.0
    max_json_bytes: int = 64 * 2**20
    max_json_depth: int = 64
