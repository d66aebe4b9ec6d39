"""Analytics: the managers' dashboard — return rates, outcomes, cycle times, SLA breaches,
repairs, recovered value — read from summary tables that a job refreshes."""
