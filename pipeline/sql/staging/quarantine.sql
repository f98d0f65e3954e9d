-- The quarantine of one staged table: for every row that cannot be used its first reason
-- (row_quarantined), and every value blanked in a row that is kept (value_dropped).
-- Grain: one problem of one export line. Reads `checked` (a stg_<table> model's rows with
-- their q<stage>_<column> entries and, for members, `extra_problems`) and `columns` (each
-- column's header as written, its position in the file and in the schema).
with

checked as (select * from checked),
columns_ as (select * from columns),

with_problems as (
    select *
    from (select *, coalesce(*columns('^q\d_')) as first_problem from checked)
    where first_problem is not null
),

cells as (
    unpivot (
        select source_line, columns('^q\d_') from with_problems
    )
    on columns('^q\d_') into name cell value problem
),

extra_cells as (
    select source_line, unnest(extra_problems) as problem
    from checked
    where len(extra_problems) > 0
),

entries as (
    select
        source_line as line,
        cell[2]::int as stage,
        nullif(cell[4:], '') as column_name,
        problem.action,
        problem.reason,
        problem.value
    from cells
    union all
    select source_line, 1, problem.column_name, problem.action, problem.reason, problem.value
    from extra_cells
),

ordered as (
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
    from ordered
    where action = 'row_quarantined'
    group by line
),

final as (
    select
        $table as "table",
        $file as file,
        ordered.line,
        ordered.header as "column",
        ordered.value,
        ordered.reason,
        ordered.action
    from ordered
    left join first_reasons on first_reasons.line = ordered.line
    where (ordered.action = 'row_quarantined' and (ordered.stage, ordered.rank) = first_reasons.first)
        or (ordered.action = 'value_dropped' and first_reasons.line is null)
    order by ordered.line, ordered.action, ordered.stage, ordered.rank
)

select * from final
