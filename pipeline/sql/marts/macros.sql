-- Macros of the mart models (`warehouse.query` loads them into every connection).
-- Grain: one value.

-- Where `raw` lies between `low` (0) and `high` (1), capped at both ends.
create or replace macro range_share(raw, low, high) as
    least(greatest((raw - low) / (high - low), 0::double), 1::double);

-- A scorecard measure's score 0-100 under its indicator `line` (a row of `indicators`:
-- method, low, high, missing_score); NULL when the measure is not configured. `below`
-- and `known` (percentile only): the members with a value strictly lower, and with any.
-- Percentile: the share of the other members below (a lone member scores 50); linear:
-- low -> 0, high -> 100, capped; inverse: low -> 100, high -> 0.
create or replace macro indicator_score(raw, line, below, known) as case
    when line is null then null
    when raw is null then line.missing_score
    when line.method = 'percentile' and known <= 1 then 50::double
    when line.method = 'percentile' then 100::double * below / (known - 1)
    when line.method = 'linear' then 100::double * range_share(raw, line.low, line.high)
    else 100::double * (1::double - range_share(raw, line.low, line.high))
end;

-- Where a scorecard measure's window starts: `months` before the cut-off moment, or 12
-- when the measure is not configured (`months` NULL).
create or replace macro window_start(cutoff_at, months) as
    cutoff_at - to_months(coalesce(months, 12));
