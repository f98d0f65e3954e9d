-- complaint_stats: monthly complaint statistics per category, plus an `all` row per month.
-- Grain: one row per (month of receipt, category) with a complaint received before the
-- cut-off, and one row per such month with category `all`; ordered by month, then
-- category in code-point order (so `all` is not forced first). Every measure is defined
-- in the docstring of pipeline/lib/rules/complaints.py `complaint_stats`.
--
-- Relations: complaints (stg_complaints), dim_working_day (sql/marts/dim_working_day.sql,
-- covering the days from the first receipt to the cut-off when $working_hours),
-- severity_targets (severity, first_response_hours, resolution_hours).
-- Parameters: $cutoff_at (the first instant that no longer counts), $working_hours (the
-- SLA clock counts working hours of dim_working_day, else calendar hours),
-- $first_response_hours, $resolution_hours (targets of a severity without its own).
with

-- import CTEs ---------------------------------------------------------------------------

source as (
    -- text trimmed, blank = missing (staging has done so; a frame built elsewhere may not)
    select
        nullif(trim(member_id), '') as member_id,
        nullif(trim(category), '') as category,
        nullif(trim(severity), '') as severity,
        lower(nullif(trim(status), '')) as status,
        received_at::timestamp as received_at,
        first_response_at::timestamp as first_response_at,
        resolved_at::timestamp as resolved_at,
        try_cast(satisfaction as double) as satisfaction
    from complaints
),

working_days as (
    select day, work_starts_at, working_seconds, working_seconds_before
    from dim_working_day
),

targets as (
    select severity, first_response_hours, resolution_hours
    from severity_targets
),

-- logic CTEs ----------------------------------------------------------------------------

cases as (
    -- the complaints received before the cut-off; an event at or after it has not
    -- happened yet
    select
        case coalesce(source.category, 'uncategorised')
            when 'all' then 'all (category)'  -- never mistaken for the all-categories row
            else coalesce(source.category, 'uncategorised')
        end as category,
        source.member_id,
        source.received_at,
        source.first_response_at,
        source.resolved_at,
        source.status,
        case when source.satisfaction between 1 and 5 then source.satisfaction end
            as satisfaction,
        strftime(source.received_at, '%Y-%m') as month,
        date_trunc('month', source.received_at) + interval 1 month as month_ends_at,
        coalesce(source.first_response_at < $cutoff_at, false) as is_response_known,
        coalesce(source.resolved_at < $cutoff_at, false) as is_resolution_known,
        coalesce(source.status in ('resolved', 'closed'), false)
            and source.resolved_at is null as is_closed_without_time,
        coalesce(targets.first_response_hours, $first_response_hours)
            as first_response_target_hours,
        coalesce(targets.resolution_hours, $resolution_hours) as resolution_target_hours
    from source
    left join targets on targets.severity = source.severity
    where source.received_at < $cutoff_at
),

cutoff_clock as (
    -- the SLA clock (microseconds) at the cut-off instant
    select
        case
            when not $working_hours then epoch_us($cutoff_at::timestamp)
            when count(*) = 0 then error('dim_working_day has no row for the cut-off day')
            else any_value(1000000 * working_seconds_before
                + least(greatest(date_diff('microsecond', work_starts_at, $cutoff_at::timestamp), 0),
                        1000000 * working_seconds))
        end as clock_us
    from working_days
    where day = $cutoff_at::timestamp::date
),

clocked as (
    -- each instant on the SLA clock: calendar microseconds, or working microseconds
    -- since dim_working_day's first day (looked up only where a duration needs it)
    select
        cases.*,
        case
            when not $working_hours then epoch_us(cases.received_at)
            when received_day.day is null then error('dim_working_day has no row for ' || cases.received_at::date)
            else 1000000 * received_day.working_seconds_before
                + least(greatest(date_diff('microsecond', received_day.work_starts_at, cases.received_at), 0),
                        1000000 * received_day.working_seconds)
        end as received_us,
        case
            when not cases.is_response_known or cases.first_response_at < cases.received_at then null
            when not $working_hours then epoch_us(cases.first_response_at)
            when response_day.day is null then error('dim_working_day has no row for ' || cases.first_response_at::date)
            else 1000000 * response_day.working_seconds_before
                + least(greatest(date_diff('microsecond', response_day.work_starts_at, cases.first_response_at), 0),
                        1000000 * response_day.working_seconds)
        end as first_response_us,
        case
            when not cases.is_resolution_known or cases.resolved_at < cases.received_at then null
            when not $working_hours then epoch_us(cases.resolved_at)
            when resolution_day.day is null then error('dim_working_day has no row for ' || cases.resolved_at::date)
            else 1000000 * resolution_day.working_seconds_before
                + least(greatest(date_diff('microsecond', resolution_day.work_starts_at, cases.resolved_at), 0),
                        1000000 * resolution_day.working_seconds)
        end as resolved_us,
        cutoff_clock.clock_us as cutoff_us
    from cases
    cross join cutoff_clock
    left join working_days as received_day on received_day.day = cases.received_at::date
    left join working_days as response_day on response_day.day = cases.first_response_at::date
    left join working_days as resolution_day on resolution_day.day = cases.resolved_at::date
),

durations as (
    -- hours on the SLA clock; a first response or resolution recorded before receipt
    -- is a data error (complaint_anomalies) and has no duration
    select
        *,
        (first_response_us - received_us) / 3600000000 as first_response_hours,
        (resolved_us - received_us) / 3600000000 as resolution_hours,
        (cutoff_us - received_us) / 3600000000 as age_hours,
        is_response_known and first_response_at < received_at as is_response_before_receipt,
        not is_response_known and not is_resolution_known and not is_closed_without_time
            as is_awaiting_response,
        not is_resolution_known and not is_closed_without_time as is_awaiting_resolution
    from clocked
),

legs as (
    -- a resolution also answers the member: the response time is the earlier of the
    -- two, unknown when the first response was recorded before receipt
    select
        *,
        case when not is_response_before_receipt
            then least(first_response_hours, resolution_hours) end as answered_hours
    from durations
),

outcomes as (
    -- each leg met, breached (late, or still running past its target) or neither
    -- (pending, or unknown); a complaint is decided when breached or both legs met
    select
        *,
        coalesce(answered_hours <= first_response_target_hours, false) as is_response_met,
        coalesce(answered_hours > first_response_target_hours, false)
            or (is_awaiting_response and age_hours > first_response_target_hours)
            as is_response_breached,
        coalesce(resolution_hours <= resolution_target_hours, false) as is_resolution_met,
        coalesce(resolution_hours > resolution_target_hours, false)
            or (is_awaiting_resolution and age_hours > resolution_target_hours)
            as is_resolution_breached
    from legs
),

per_case as (
    select
        month,
        month_ends_at,
        category,
        member_id,
        received_at,
        resolved_at,
        is_closed_without_time,
        is_resolution_known,
        first_response_hours,
        resolution_hours,
        satisfaction,
        status = 'reopened' as is_reopened,
        is_response_breached or is_resolution_breached as is_breached,
        is_response_breached or is_resolution_breached
            or (is_response_met and is_resolution_met) as is_decided
    from outcomes
),

scoped as (
    -- every complaint once in its category and once in `all`, so that one grouping
    -- serves both kinds of row (repeats: same category, or any category for `all`)
    select * from per_case
    union all
    select * replace ('all' as category) from per_case
),

aggregated as (
    select
        month,
        category,
        count(*) as received,
        count_if(is_resolution_known)::bigint as resolved,
        median(first_response_hours) as median_first_response_hours,
        median(resolution_hours) as median_resolution_hours,
        list_sort(list(resolution_hours) filter (where resolution_hours is not null))
            as resolution_hours_sorted,
        count_if(is_breached) / nullif(count_if(is_decided), 0) as sla_breach_rate,
        avg(satisfaction) as mean_satisfaction,
        count_if(is_reopened) / count(*) as reopen_rate
    from scoped
    group by month, category
),

percentiles as (
    -- p90 by linear interpolation between order statistics at rank 0.9 * (n - 1),
    -- written out as numpy and pandas compute it (lo + (hi - lo) * fraction):
    -- quantile_cont rounds the same interpolation differently in the last bit
    select
        month,
        category,
        resolution_hours_sorted[floor(p90_rank)::bigint + 1] as p90_low,
        resolution_hours_sorted[least(floor(p90_rank)::bigint + 2, len(resolution_hours_sorted))]
            as p90_high,
        p90_rank - floor(p90_rank) as p90_fraction
    from (
        select month, category, resolution_hours_sorted,
               0.9::double * (len(resolution_hours_sorted) - 1) as p90_rank
        from aggregated
    )
),

open_changes as (
    -- per month: complaints received (+1) and resolved before the cut-off (-1, at the
    -- later of receipt and resolution); one closed without a time is never open
    select category, month, count(*) as change
    from scoped
    where not is_closed_without_time
    group by category, month
    union all
    select category, strftime(greatest(received_at, resolved_at), '%Y-%m') as month,
           -count(*) as change
    from scoped
    where not is_closed_without_time
      and resolved_at is not null  -- greatest() would skip a missing resolution
      and greatest(received_at, resolved_at) < $cutoff_at
    group by all
),

open_at_month_end as (
    -- received minus resolved over every month up to this one: open just before the
    -- month's end (midnight starting the next month), capped at the cut-off
    select
        category,
        month,
        sum(sum(change)) over (partition by category order by month) as open_at_month_end
    from open_changes
    group by category, month
),

linked_twice as (
    -- only a member with two complaints in a scope can repeat there (most have one)
    select member_id, category
    from scoped
    where member_id is not null
    group by member_id, category
    having count(*) >= 2
),

member_complaints as (
    select
        member_id,
        category,
        month,
        month_ends_at,
        lag(received_at) over (partition by member_id, category order by received_at)
            as previous_received_at
    from scoped
    semi join linked_twice using (member_id, category)
),

repeats as (
    -- members with at least two complaints (in the row's scope) received in the 90 days
    -- ending at the month's end, which always hold the whole month: a second one in the
    -- month, or the one before the month's first complaint (the earliest "previous"
    -- of the month's complaints) received at most 90 days before the month's end
    select month, category, count(*) as repeat_complainants
    from (
        select month, category, member_id
        from member_complaints
        group by month, category, member_id
        having count(*) >= 2
            or min(previous_received_at) >= any_value(month_ends_at) - interval 90 days
    )
    group by month, category
),

final as (
    select
        aggregated.month,
        aggregated.category,
        aggregated.received,
        aggregated.resolved,
        coalesce(open_at_month_end.open_at_month_end, 0)::bigint as open_at_month_end,
        aggregated.median_first_response_hours,
        aggregated.median_resolution_hours,
        percentiles.p90_low + (percentiles.p90_high - percentiles.p90_low)
            * percentiles.p90_fraction as p90_resolution_hours,
        aggregated.sla_breach_rate,
        aggregated.mean_satisfaction,
        aggregated.reopen_rate,
        coalesce(repeats.repeat_complainants, 0)::bigint as repeat_complainants
    from aggregated
    join percentiles using (month, category)
    left join open_at_month_end using (month, category)  -- none when all closed untimed
    left join repeats using (month, category)
)

select * from final
order by month, category
