-- Club activity per calendar month, for the report's trend: who bought, how often, how much.
with

purchases as (
    select member_id, txn_id, txn_at, amount_cny
    from transactions
),

monthly as (
    select
        strftime(date_trunc('month', txn_at), '%Y-%m')            as month,
        count(distinct member_id)                                  as active_members,
        count(distinct txn_id)                                     as transactions,
        sum(amount_cny)                                            as net_sales_cny,
        sum(case when amount_cny < 0 then -amount_cny else 0 end)  as returns_cny
    from purchases
    group by 1
)

select
    month,
    active_members,
    transactions,
    round(net_sales_cny, 2)                                 as net_sales_cny,
    round(returns_cny, 2)                                   as returns_cny,
    round(net_sales_cny / nullif(transactions, 0), 2)       as average_ticket_cny
from monthly
order by month
