"""Exit codes of `evenergy-etl`, documented in the README for cron and monitoring."""

OK = 0
FAILED = 1  # the run failed: API error, load job failed, model failed to build
USAGE = 2  # bad arguments or configuration (missing credentials, bad URL)
PARTIAL = 3  # budget or deadline stopped the run, or some partitions failed: all fetched data
#              was loaded and watermarks saved; the next run resumes where this one stopped
CHECKS_FAILED = 4  # models built but a data check returned rows; nothing exported
LOCKED = 75  # another run holds the lock (EX_TEMPFAIL): nothing was done
