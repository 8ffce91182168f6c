"""Photos and voice notes: references taken at intake, bytes fetched (capped) only when the turn runs."""
