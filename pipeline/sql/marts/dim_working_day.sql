-- dim_working_day: the official working calendar and its running total of working time.
-- Grain: one row per day from $first_day to $last_day (both included), in date order.
--
-- A day is a working day when the State Council arrangement says so (a weekend day
-- published as a make-up workday, 调休; a weekday published as a statutory day off),
-- otherwise when it is Monday to Friday. On a working day the time in
-- [$work_starts, $work_ends) works; on a day off the window is empty (work_ends_at =
-- work_starts_at, working_seconds 0).
--
-- `working_seconds_before` is the working time from midnight of $first_day to midnight
-- of this day. The working time from $first_day up to an instant t on day d is then
--   working_seconds_before + clamp(t - work_starts_at, 0, working_seconds)
-- of d's row, and the working hours between two instants are the difference of two such
-- lookups (sql/marts/complaint_stats.sql, complaint_backlog.sql).
--
-- Relations: arrangement_days (day date, is_working_day boolean): the days the official
-- arrangements publish (pipeline/lib/rules/calendar.py `arrangement_days`).
-- Parameters: $first_day, $last_day (dates), $work_starts, $work_ends (times of day).
with

-- import CTEs ---------------------------------------------------------------------------

published as (
    -- a date listed both ways would be a make-up workday (the arrangement wins over the
    -- weekday rule, and a working day over a day off)
    select day::date as day, bool_or(is_working_day) as is_working_day
    from arrangement_days
    group by all
),

-- logic CTEs ----------------------------------------------------------------------------

days as (
    select unnest(generate_series($first_day::date, $last_day::date, interval 1 day))::date
        as day
),

classified as (
    select
        days.day,
        coalesce(published.is_working_day, isodow(days.day) <= 5) as is_working_day
    from days
    left join published using (day)
),

windows as (
    select
        day,
        is_working_day,
        day + $work_starts::time as work_starts_at,
        day + case when is_working_day then $work_ends::time else $work_starts::time end
            as work_ends_at
    from classified
),

final as (
    select
        day,
        is_working_day,
        work_starts_at,
        work_ends_at,
        date_diff('second', work_starts_at, work_ends_at) as working_seconds,
        coalesce(sum(date_diff('second', work_starts_at, work_ends_at)) over (
            order by day rows between unbounded preceding and 1 preceding
        ), 0)::bigint as working_seconds_before
    from windows
)

select * from final
order by day
