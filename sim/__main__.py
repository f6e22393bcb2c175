"""``python -m sim`` is ``rassim``."""

from sim.cli import main

raise SystemExit(main())
