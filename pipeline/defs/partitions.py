"""The edition month is the partition of every asset."""

import dagster as dg

# Every edition from January 2015 through December 2035, whatever today is: marketing
# prepares 春节 greetings months ahead, and a test may build any month. A fixed end (not
# an offset from today) keeps the set the same in every process and on every day. Dagster
# lists partitions only up to today plus `end_offset`, capped at `end_date`, so the offset
# is the whole range: every month of the range exists from its first day on.
FIRST_EDITION, LAST_EDITION = "2015-01", "2035-12"
_MONTHS = 12 * (int(LAST_EDITION[:4]) - int(FIRST_EDITION[:4]) + 1)
editions = dg.MonthlyPartitionsDefinition(
    start_date=f"{FIRST_EDITION}-01", end_date=f"{int(LAST_EDITION[:4]) + 1}-01-01", end_offset=_MONTHS
)

