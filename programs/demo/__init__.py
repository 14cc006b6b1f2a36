"""``parktwin demo``: the whole park in one process, on whatever this machine has."""
