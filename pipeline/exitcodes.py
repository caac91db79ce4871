"""Exit codes of ``python -m pipeline`` (documented in the README).

A run that meets several outcomes exits with the highest code met, so the codes are
ordered from best to worst, usage errors apart (they stop the run before it starts).
"""

OK = 0  # clean, or warnings only
QUARANTINED = 1  # some rows failed validation and were quarantined
USAGE = 2  # bad command line or configuration: nothing was done
INPUT_ERROR = 3  # at least one input file could not be ingested (others went through)
RELEASE_REFUSED = 4  # at least one data package failed validation and was not released
LOCKED = 5  # another run holds the lock: nothing was touched
