"""The edition month is the partition of every asset."""

import dagster as dg

# Editions from 2015 on; the partition set reaches the month after next so that the
# coming edition (the month after the data cut-off) always exists.
editions = dg.MonthlyPartitionsDefinition(start_date="2015-01-01", end_offset=2)
