"""``python -m sim`` is ``rassim``."""

from sim.entry import main

raise SystemExit(main())
