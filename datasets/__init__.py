"""cua.datasets: loaders from each source format to one sample schema, and synthetic screens.

``LOADERS[name](**args)`` returns a Hugging Face dataset of :mod:`cua.datasets.schema` rows;
``ITERATORS[name](**args)`` streams :class:`Sample` objects (used by evaluation).

This folder is only ever ``cua.datasets``. Python run from the checkout root (``python -c``, ``python -m``,
pytest, a script or notebook there) has the root on ``sys.path`` ahead of site-packages, so a plain
``import datasets`` finds this folder first; imported under that name, the module puts Hugging Face
``datasets`` in its place (a module may replace itself in ``sys.modules`` while it runs; the import statement
returns what is there), so ``import datasets`` means Hugging Face's wherever Python runs.
"""

if __name__ == "datasets":
    import os as _os
    import sys as _sys
    from importlib.machinery import PathFinder as _PathFinder
    from importlib.util import module_from_spec as _module_from_spec

    _root = _os.path.realpath(_os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))))
    _spec = _PathFinder.find_spec(__name__, [p for p in _sys.path if _os.path.realpath(p or _os.curdir) != _root])
    if _spec is None or _spec.loader is None:
        raise ModuleNotFoundError(f"No module named 'datasets' (Hugging Face's is not installed; {_root}/datasets "
                                  "is cua.datasets)", name="datasets")
    _sys.modules[__name__] = _hf = _module_from_spec(_spec)
    _spec.loader.exec_module(_hf)
else:
    from cua.datasets import (  # noqa: F401
        aitw, androidcontrol, gui_r1, oracle_demos, screenspot, synthetic, trajectories, ui_r1,
    )
    from cua.datasets.base import ITERATORS, LOADERS, LoadStats, get_loader
    from cua.datasets.schema import COLUMNS, Episode, Sample, episodes, features, parse_action

    __all__ = ["COLUMNS", "Episode", "ITERATORS", "LOADERS", "LoadStats", "Sample", "episodes", "features",
               "get_loader", "parse_action"]
