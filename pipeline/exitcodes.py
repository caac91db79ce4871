"""Exit codes of ``pgo`` / ``python -m pipeline`` (documented in the README).

A run that meets several outcomes exits with the highest code met, so the codes are
ordered from best to worst, usage errors apart (they stop the run before it starts).
"""

OK = 0  # clean, or warnings only
QUARANTINED = 1  # some rows failed validation and were quarantined
USAGE = 2  # bad command line or configuration: nothing was done
INPUT_ERROR = 3  # at least one input file could not be used (others went through)
RELEASE_REFUSED = 4  # at least one data package failed validation and was not released
LOCKED = 5  # another command holds the lock: nothing was touched
INTERNAL_ERROR = 70  # a bug in the pipeline's own code (sysexits' EX_SOFTWARE): the log names the stage

MEANINGS = {
    OK: "clean, or warnings only",
    QUARANTINED: "rows quarantined by validation",
    USAGE: "usage or configuration error",
    INPUT_ERROR: "an input could not be used",
    RELEASE_REFUSED: "a data package failed validation and was not released",
    LOCKED: "another command holds the lock",
    INTERNAL_ERROR: "internal error in the pipeline's code",
}
