"""Documents: the Jinja environment, PDF layout, letters, newsletters, the report and proofs."""
