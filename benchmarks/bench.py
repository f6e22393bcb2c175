"""The harness against bare SimPy: ``rassim bench``, runnable as a script.

Run: ``python benchmarks/bench.py`` (about three minutes on two cores; ``--quick`` for a
smoke run, ``--help`` for the knobs). The logic is ``sim.bench.bench``; this only calls the
command, so both give the same figures and the same errors. See benchmarks/README.md.
"""

from __future__ import annotations

import sys

from sim.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["bench", *sys.argv[1:]]))
