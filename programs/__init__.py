"""The programs: the ``parktwin`` command line, the demo and ``run``.

The top layer: the only place where roles (collectors, simulators, twin, alerts, dashboards) are
put together. Nothing in the core package ``parktwin`` or in a role imports from here.
"""
