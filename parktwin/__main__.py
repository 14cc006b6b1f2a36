"""``python -m parktwin``: the same command line as the ``parktwin`` script."""

from parktwin.cli import main

main()
