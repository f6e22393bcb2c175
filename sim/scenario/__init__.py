"""The scenario file language: the pydantic schema, link profiles, the ``[fleet]`` table,
``[expect]`` bounds, the loader (TOML, ``extends``, errors that name file, line and field), the
JSON Schema and the policy tables.

May import ``sim.draws`` and ``sender``.
"""
