-- Club activity per calendar month, for the report's trend: who bought, how often, how much.
with

-- Not materialised (three readers): a copy of every transaction row took 280 MB at a
-- million members, and scanning the Parquet rows again costs no more time.
purchases as not materialized (
    select member_id, txn_id, date_trunc('month', txn_at) as month_start, amount_cny
    from transactions
),

-- Summed in whole cents: exact, the same in any order and on any number of threads.
sales as (
    select
        month_start,
        sum(cents)::double / 100                                   as net_sales_cny,
        sum(case when cents < 0 then -cents else 0 end)::double / 100 as returns_cny
    from (select month_start, round(amount_cny::double * 100)::bigint as cents from purchases)
    group by 1
),

-- Distinct counts as a grouping of distinct pairs: DuckDB runs these in parallel,
-- where count(distinct ...) per group does not.
active as (
    select month_start, count(*) as active_members
    from (select distinct month_start, member_id from purchases where member_id is not null)
    group by 1
),

tickets as (
    select month_start, count(*) as transactions
    from (select distinct month_start, txn_id from purchases where txn_id is not null)
    group by 1
),

monthly as (
    select
        sales.month_start,
        coalesce(active.active_members, 0)  as active_members,
        coalesce(tickets.transactions, 0)   as transactions,
        sales.net_sales_cny,
        sales.returns_cny
    from sales
    left join active using (month_start)
    left join tickets using (month_start)
)

select
    strftime(month_start, '%Y-%m')                          as month,
    active_members,
    transactions,
    round(net_sales_cny, 2)                                 as net_sales_cny,
    round(returns_cny, 2)                                   as returns_cny,
    round(net_sales_cny / nullif(transactions, 0), 2)       as average_ticket_cny
from monthly
order by month
