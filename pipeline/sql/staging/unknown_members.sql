-- Stage 6 of a table that refers to members: a row naming a member who is not loaded is
-- quarantined. Run on a stg_<table> model's `checked` rows (which carry an empty
-- q6r_member_id) when the members are loaded. An update in place, not a join inside each
-- model: a join does not keep the rows in file order, and putting 7 million transactions
-- back into it took a sort that cost more time and memory than this lookup.
update checked
set q6r_member_id = 'member_id: not a loaded member', is_quarantined = true
where member_id is not null
    and member_id not in (select member_id from known_members)
