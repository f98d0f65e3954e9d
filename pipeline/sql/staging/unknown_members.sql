-- Stage 6 of a table that refers to members: a row naming a member who is not loaded is
-- quarantined. Run on a stg_<table> model's `checked` rows when the members are loaded:
-- the model has an empty q6r_member_id reason, which this sets in the row's `reasons`
-- (the JSON text ingest.stage folds the reasons into). An update in place, not a join
-- inside each model: a join does not keep the rows in file order, and putting 7 million
-- transactions back into it took a sort that cost more time and memory than this lookup.
update checked
set reasons = with_reason(reasons, 'q6r_member_id', 'member_id: not a loaded member'),
    is_quarantined = true
where member_id is not null
    and member_id not in (select member_id from known_members)
