"""How fast and how lean the harness runs (``rassim bench``), against bare SimPy.

May import ``sim.run`` and the layers below it.
"""
