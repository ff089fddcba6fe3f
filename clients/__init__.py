"""Reference clients of the Purple Flea market-making API, run against pf-mock."""
