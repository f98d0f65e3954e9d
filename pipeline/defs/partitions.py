"""The edition month is the partition of every asset."""

from datetime import date, timedelta

import dagster as dg

# Editions from 2015 on; the partition set reaches the month after next so that the
# coming edition (the month after the data cut-off) always exists.
editions = dg.MonthlyPartitionsDefinition(start_date="2015-01-01", end_offset=2)


def edition_window(partition_key: str) -> tuple[date, date]:
    """First and last day of the edition month of a partition key (`YYYY-MM-01`)."""
    start = date.fromisoformat(partition_key)
    following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start, following - timedelta(days=1)
