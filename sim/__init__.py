"""rassim: a SimPy model of a RAS server, a slow SNA link, NetBT name resolution and an SMB
server, which drives the real sender procedure from ``sender``.

The package is a staircase of layers, each importing only those below it (the import-linter
contract in ``pyproject.toml`` enforces it): ``draws`` (seeds, streams, distributions) and
``sender`` -> ``scenario`` (the file language) -> ``world`` (the SimPy model) -> ``trial`` (one
trial, one row) -> ``stats`` | ``report`` -> ``run`` (many trials, executors) -> ``studies`` |
``check`` | ``bench`` | ``real`` (the real stack, paired with the model) -> ``plots`` |
``frames`` -> ``commands`` -> ``cli``.
"""

__version__ = "0.1.0"
