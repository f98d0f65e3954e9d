-- dim_lunar_day: the Chinese lunar date of every Gregorian day in [$first_day, $last_day],
-- with what the birthday rules (CONTRACT §3) ask of its month and year: how many days
-- the lunar month has, and which month of the lunar year, if any, is doubled by a leap
-- month.
-- Grain: one row per solar_date.
-- Source: `lunar_months`, one row per lunar month from lunar_python (lunar_year,
-- lunar_month, is_leap_month, first_date, month_days). `python -m pipeline.lib.rules.lunar`
-- runs this model once and ships the result as data/reference/lunar/dim_lunar_day.parquet.

with

months as (
    select lunar_year, lunar_month, is_leap_month, first_date, month_days
    from lunar_months
),

leap_months as (
    -- at most one leap month a year; null when the year has none
    select
        lunar_year,
        max(lunar_month) filter (where is_leap_month) as leap_month_of_year
    from months
    group by lunar_year
),

month_days as (
    select
        lunar_year,
        lunar_month,
        is_leap_month,
        month_days,
        first_date,
        unnest(range(1, month_days + 1))::integer as lunar_day
    from months
),

final as (
    select
        (d.first_date + (d.lunar_day - 1))::date  as solar_date,
        d.lunar_year::smallint                    as lunar_year,
        d.lunar_month::tinyint                    as lunar_month,
        d.lunar_day::tinyint                      as lunar_day,
        d.is_leap_month                           as is_leap_month,
        d.month_days::tinyint                     as lunar_month_days,
        l.leap_month_of_year::tinyint             as leap_month_of_year
    from month_days as d
    inner join leap_months as l using (lunar_year)
    where (d.first_date + (d.lunar_day - 1))::date between $first_day and $last_day
    order by solar_date
)

select * from final
