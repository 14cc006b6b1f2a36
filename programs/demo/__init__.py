"""``parktwin demo``: the whole park in one process, on whatever this machine has."""

# History's reporting period: 15 minutes, the interval of utility meter data and the bucket the
# twin rebuilds at; the dashboards' month and year panels group by hours or days. Minute-by-
# minute history would cost many times the time and space and show nothing more. 0 generates
# each device at its own interval.
DEFAULT_RESOLUTION_S = 900.0
