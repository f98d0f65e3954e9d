-- Stage 5 of a table with a unique id (`Table.key`): a usable row whose id an earlier
-- usable row already has is quarantined, naming the first line, which is kept. Run on a
-- stg_<table> model's `checked` rows (the model has an empty q5r_<key> reason, which this
-- sets in the row's `reasons`), before unknown_members.sql: a row naming an unknown member
-- still holds its id. An update in place, not a join inside each model: that join made
-- DuckDB copy every wide row (1 GiB for a million members) and lose the file order.
-- Reads `ids` (each checked row's source_line, is_quarantined and id). Parameters: $reason
-- (the q5r_<key> reason), $key (the id column, as the reason names it).
with

usable_ids as (
    select source_line, id
    from ids
    where not is_quarantined and id is not null
),

first_lines as (
    select id, min(source_line) as first_line
    from usable_ids
    group by id
),

duplicates as (
    select usable_ids.source_line, first_lines.first_line
    from usable_ids
    join first_lines on first_lines.id = usable_ids.id
    where first_lines.first_line < usable_ids.source_line
)

update checked
set reasons = with_reason(reasons, $reason,
        $key || ': duplicate of line ' || duplicates.first_line || ' (the first is kept)'),
    is_quarantined = true
from duplicates
where checked.source_line = duplicates.source_line
