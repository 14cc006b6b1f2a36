"""``python -m programs``: the same command line as the ``parktwin`` script."""

from programs.cli import main

main()
