"""Lazy public names for crmml's packages (PEP 562 module ``__getattr__``).

A package lists which private module defines each public name; the module is imported the first time
the name is used, so ``import crmml.features`` costs nothing until a feature is built, and loading a
model file imports only the modules its classes live in.
"""

from __future__ import annotations

from importlib import import_module


def lazy_exports(namespace: dict, modules: dict[str, tuple[str, ...]]):
    """``(__getattr__, __dir__)`` for a package whose public names are defined in ``modules``.

    Parameters
    ----------
    namespace : dict
        The package's ``globals()``; a name is cached there once imported.
    modules : dict of str to tuple of str
        Absolute module name -> the public names it defines; under the package's own name, its
        subpackages and submodules.

    Returns
    -------
    tuple of callables
        Assign them to the package's ``__getattr__`` and ``__dir__``.

    Examples
    --------
    >>> ns = {"__name__": "demo"}
    >>> getattr_, dir_ = lazy_exports(ns, {"math": ("sqrt",)})
    >>> getattr_("sqrt")(4.0)
    2.0
    >>> "sqrt" in ns, "sqrt" in dir_()
    (True, True)
    """
    where = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name):
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
        if module == namespace["__name__"]:
            value = import_module(f"{module}.{name}")
        else:
            value = getattr(import_module(module), name)
        namespace[name] = value
        return value

    def __dir__():
        return sorted(set(namespace) | set(where))

    return __getattr__, __dir__
