-- complaint_backlog: the complaints open at the cut-off, oldest first.
-- Grain: one row per complaint received before the cut-off and open then (status open
-- or reopened, or no resolution before the cut-off while the status is neither resolved
-- nor closed); ordered by age, oldest first, then complaint_id.
-- `age_hours` is calendar hours from receipt to the cut-off (how long the member has
-- waited) and `age_band` bands it (lower bounds included); `is_overdue` compares the age
-- on the SLA clock with the severity's resolution target.
--
-- Relations: complaints (stg_complaints), dim_working_day (covering the days from the
-- first receipt to the cut-off when $working_hours), severity_targets (severity,
-- first_response_hours, resolution_hours).
-- Parameters: $cutoff_at, $working_hours, $resolution_hours (target of a severity
-- without its own).
with

-- import CTEs ---------------------------------------------------------------------------

source as (
    -- text trimmed, blank = missing (staging has done so; a frame built elsewhere may not)
    select
        nullif(trim(complaint_id), '') as complaint_id,
        nullif(trim(member_id), '') as member_id,
        nullif(trim(category), '') as category,
        nullif(trim(severity), '') as severity,
        nullif(trim(owner), '') as owner,
        lower(nullif(trim(status), '')) as status,
        received_at::timestamp as received_at,
        resolved_at::timestamp as resolved_at
    from complaints
),

working_days as (
    select day, work_starts_at, working_seconds, working_seconds_before
    from dim_working_day
),

targets as (
    select severity, resolution_hours
    from severity_targets
),

-- logic CTEs ----------------------------------------------------------------------------

open_cases as (
    select
        source.*,
        case coalesce(source.category, 'uncategorised')
            when 'all' then 'all (category)'  -- as in complaint_stats
            else coalesce(source.category, 'uncategorised')
        end as category_label,
        coalesce(targets.resolution_hours, $resolution_hours) as resolution_target_hours
    from source
    left join targets on targets.severity = source.severity
    where source.received_at < $cutoff_at
      and (coalesce(source.status in ('open', 'reopened'), false)
           or (not coalesce(source.status in ('resolved', 'closed'), false)
               and not coalesce(source.resolved_at < $cutoff_at, false)))
),

cutoff_clock as (
    -- working microseconds since dim_working_day's first day at the cut-off instant
    select
        case
            when not $working_hours then null
            when count(*) = 0 then error('dim_working_day has no row for the cut-off day')
            else any_value(1000000 * working_seconds_before
                + least(greatest(date_diff('microsecond', work_starts_at, $cutoff_at::timestamp), 0),
                        1000000 * working_seconds))
        end as clock_us
    from working_days
    where day = $cutoff_at::timestamp::date
),

aged as (
    select
        open_cases.*,
        date_diff('microsecond', open_cases.received_at, $cutoff_at::timestamp) / 3600000000
            as age_hours,
        case
            when not $working_hours
                then date_diff('microsecond', open_cases.received_at, $cutoff_at::timestamp)
            when received_day.day is null
                then error('dim_working_day has no row for ' || open_cases.received_at::date)
            else cutoff_clock.clock_us
                - 1000000 * received_day.working_seconds_before
                - least(greatest(date_diff('microsecond', received_day.work_starts_at, open_cases.received_at), 0),
                        1000000 * received_day.working_seconds)
        end / 3600000000 as sla_age_hours
    from open_cases
    cross join cutoff_clock
    left join working_days as received_day on received_day.day = open_cases.received_at::date
),

final as (
    select
        complaint_id,
        member_id,
        category_label as category,
        severity,
        owner,
        received_at,
        age_hours,
        case
            when age_hours >= 720 then '>30d'
            when age_hours >= 168 then '7-30d'
            when age_hours >= 72 then '3-7d'
            when age_hours >= 24 then '1-3d'
            else '<1d'
        end::enum('<1d', '1-3d', '3-7d', '7-30d', '>30d') as age_band,
        sla_age_hours > resolution_target_hours as is_overdue
    from aged
)

select * from final
order by age_hours desc, complaint_id
