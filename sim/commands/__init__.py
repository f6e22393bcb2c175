"""One module per ``rassim`` sub-command.

Each module has ``register(subparsers)``, which adds its parser(s) and sets
``handler=<function(args) -> exit code>``. ``sim.cli`` registers every module listed in
``COMMANDS`` that exists; heavy imports happen inside the handlers so that ``rassim --help``
stays fast.
"""

COMMANDS = ("run", "replay", "info", "sweep", "tune", "check", "search", "bench", "fit",
            "sensitivity", "real")
