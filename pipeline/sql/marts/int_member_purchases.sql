-- Each member's purchases before a cut-off: what RFM (`int_rfm.sql`), the scorecard and
-- the lifecycle stage (`segments.sql`) read of them.
-- Grain: one row per member with a transaction row before the cut-off, unordered (rows
-- of members who are not loaded too: the models that join the members leave them out).
--
-- Relations: stg_transactions (txn_id, member_id, txn_at, amount_cny), indicators (name,
-- window_months: the scorecard's windows).
-- Parameters: $cutoff_at (rows strictly before this moment count), $active_days
-- (lifecycle).
--
-- A purchase is a member's txn_id, its line items together. Every row before the cut-off
-- counts for RFM, returns included (they lower M, count in F and may be the latest row
-- for R). The scorecard and lifecycle count a purchase only on a positive row (a return
-- does not make a lapsed member active); its spend is net of returns; "days ago" are
-- calendar days back from the cut-off day (the last day before the cut-off); "the last N
-- months" is [cut-off - N months, cut-off), 12 months for a measure not configured.
--
-- The rows are grouped once per member (moments, spend, days) and once per purchase (the
-- counts), for RFM, scorecard and lifecycle together: each model grouping them for
-- itself, five groupings in all, cost 1 s more at a million members. Grouping each
-- purchase with all its measures first cost as much as that: a few aggregates over six
-- million groups are cheaper than many. Amounts are summed in whole cents: exact, the
-- same in any order and on any number of threads (staged amounts are rounded to the
-- cent).
with

transactions as not materialized (
    select txn_id, member_id, txn_at::timestamp as txn_at, amount_cny::double as amount_cny
    from stg_transactions
),

card as (
    select name, window_months
    from indicators
),

cutoff as (
    select
        $cutoff_at::timestamp                                 as cutoff_at,
        ($cutoff_at::timestamp - interval 1 microsecond)::date as as_of_date
),

window_of as (
    select
        window_start(cutoff.cutoff_at, spend.window_months) as spend_from,
        window_start(cutoff.cutoff_at, frequency.window_months) as frequency_from
    from cutoff
    left join card as spend on spend.name = 'spend'
    left join card as frequency on frequency.name = 'frequency'
),

-- Not materialised (two readers): a copy of every row holds 400 MB, and reading the
-- Parquet rows twice costs no more time.
history as not materialized (
    select
        transactions.*,
        round(transactions.amount_cny * 100)::bigint                       as cents,
        date_diff('day', transactions.txn_at::date, cutoff.as_of_date)     as days_ago
    from transactions
    join cutoff on transactions.txn_at < cutoff.cutoff_at
),

-- Each member's rows (the measures that need no purchase), and each purchase once.
member_rows as (
    select
        member_id,
        max(txn_at)                                                          as latest_at,
        sum(cents)                                                           as cents,
        sum(cents) filter (where txn_at >= spend_from)                       as window_cents,
        min(days_ago) filter (where amount_cny > 0)                          as latest_days,
        max(days_ago) filter (where amount_cny > 0)                          as first_days,
        max(days_ago) filter (where amount_cny > 0 and days_ago <= $active_days)
                                                                             as first_inside_days,
        min(days_ago) filter (where amount_cny > 0 and days_ago > $active_days)
                                                                             as last_before_days
    from history, window_of
    group by member_id
),

purchases as (
    select
        member_id,
        bool_or(amount_cny > 0 and txn_at >= frequency_from)                 as is_window_purchase
    from history, window_of
    group by member_id, txn_id
),

member_purchases as (
    select
        member_id,
        count(*)                                                             as purchases,
        count(*) filter (where is_window_purchase)                           as window_purchases
    from purchases
    group by member_id
),

final as (
    select
        member_id,
        -- RFM: every purchase
        member_rows.latest_at,
        member_purchases.purchases,
        member_rows.cents::double / 100                     as spend_cny,
        -- the scorecard's windows (spend NULL without a row in its window)
        member_rows.window_cents::double / 100              as window_spend_cny,
        member_purchases.window_purchases,
        -- lifecycle: positive rows only; a gap of more than lapsed_days ending inside the
        -- active window can only run from the last purchase before the window to the
        -- window's first purchase
        member_rows.latest_days,
        member_rows.first_days,
        member_rows.first_inside_days,
        member_rows.last_before_days
    from member_rows
    join member_purchases using (member_id)
)

select * from final
