"""Randomness and durations: seeds -> named per-trial streams (the only RNG factory), the PCG64
fast path, duration distributions and units.

Imports nothing from ``sim``; every layer above draws from here.
"""
