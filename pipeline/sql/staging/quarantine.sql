-- The quarantine of one staged table: for every row that cannot be used its first reason
-- (row_quarantined), and every value blanked in a row that is kept (value_dropped), with
-- the value as written. Grain: one problem of one export line. Reads `staged` (a
-- stg_<table> model's rows with their q<stage><r|v>_<column> reasons, `member_id` and
-- `extra_problems`), `raw` (the export's text) and `columns` (each column's header as
-- written, its position in the file and in the schema).
with

checked as (select * from staged),
raw as (select * from raw),
columns_ as (select * from columns),

-- The few rows with a problem. Each import above is read once: DuckDB materialises a
-- CTE read twice, which for a large export meant copying all its rows.
with_problems as (
    select *
    from (select *, coalesce(*columns('^q\d[rv]_')) as first_problem from checked)
    where first_problem is not null or len(extra_problems) > 0
),

cells as (
    unpivot (select source_line, member_id, columns('^q\d[rv]_') from with_problems)
    on columns('^q\d[rv]_') into name cell value reason
),

entries as (
    select
        source_line as line,
        cell[2]::int as stage,
        case cell[3] when 'r' then 'row_quarantined' else 'value_dropped' end as action,
        nullif(cell[5:], '') as column_name,
        reason,
        member_id
    from cells
    union all
    select source_line, 1, 'value_dropped', problem.column_name, problem.reason, null
    from (select source_line, unnest(extra_problems) as problem
          from with_problems where len(extra_problems) > 0)
),

ranked as (
    select
        entries.*,
        columns_.header,
        -- hostile values in the file's column order, parsed values in the schema's
        coalesce(case when stage = 1 then columns_.position else columns_.schema_index end, 0)
            as rank
    from entries
    left join columns_ on columns_.name = entries.column_name
),

first_reasons as (
    select line, min((stage, rank)) as first
    from ranked
    where action = 'row_quarantined'
    group by line
),

reported as (
    select ranked.*
    from ranked
    left join first_reasons on first_reasons.line = ranked.line
    where (action = 'row_quarantined' and (stage, rank) = first_reasons.first)
        or (action = 'value_dropped' and first_reasons.line is null)
),

reported_lines as (
    select * from raw where _line in (select line from reported)
),

-- The text of every column of the reported lines, the unknown ones too.
written as (
    unpivot (select _line, columns(lambda c: not starts_with(c, '_')) from reported_lines)
    on columns(lambda c: not starts_with(c, '_')) into name column_name value text
    union all
    select _line, cell.column_name, cell.value
    from (select _line, unnest(_extra) as cell from reported_lines)
),

final as (
    select
        $table as "table",
        $file as file,
        reported.line,
        reported.header as "column",
        -- the reader's problems and a row naming nobody quote nothing; an unknown member
        -- is quoted as staged, everything else as written
        quoted(case when stage in (0, 4) then ''
                    when stage = 6 then reported.member_id
                    else written.text end) as value,
        reported.reason,
        reported.action
    from reported
    left join written
        on written._line = reported.line and written.column_name = reported.column_name
    order by reported.line, reported.action, reported.stage, reported.rank
)

select * from final
