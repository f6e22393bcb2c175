"""Fitting a scenario to a site's own Sender.log: ``logparse`` (lines to connections),
``censor`` (connections to lag intervals, from the NetBT contract), ``fit`` (maximum
likelihood on the intervals, AIC, bootstrap) and ``write`` (the scenario file).
Needs the ``calibrate`` extra (scipy)."""
