"""The park's digital twin: live state, energy balance, carbon accounting and KPIs.

``model`` (topology, counters, ledger, live state) < ``indicators`` (energy, carbon, zero-carbon,
green park, occupancy, enterprises) < ``state`` (the ``Twin``, its snapshot and summary) <
``service`` (the running service, its KPI points, HTTP API and view).
"""
