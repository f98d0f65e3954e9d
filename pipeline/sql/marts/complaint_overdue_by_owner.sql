-- complaint_overdue_by_owner: overdue open complaints per first-contact owner.
-- Grain: one row per owner with at least one overdue case in complaint_backlog (a blank
-- owner is `(unassigned)`); ordered by most overdue cases, then oldest age, then owner.
-- Relations: complaint_backlog (sql/marts/complaint_backlog.sql).
with

-- import CTEs ---------------------------------------------------------------------------

overdue as (
    select
        coalesce(nullif(trim(owner), ''), '(unassigned)') as owner,
        age_hours
    from complaint_backlog
    where is_overdue
),

-- logic CTEs ----------------------------------------------------------------------------

final as (
    select
        owner,
        count(*) as overdue_cases,
        max(age_hours)::double as oldest_age_hours
    from overdue
    group by owner
)

select * from final
order by overdue_cases desc, oldest_age_hours desc, owner
