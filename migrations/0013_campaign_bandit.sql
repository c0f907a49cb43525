-- Self-optimizing campaigns (domain.CampaignCreated.Optimize,
-- CampaignWeightsChanged): the goal the variants' weights are optimized
-- for ('' = fixed weights, every campaign before this), and the last
-- weights the optimizer set: {"weights": [{"name", "weight"}] per mille,
-- "posteriors": [{"variant", "alpha", "beta"}], "paused": [names],
-- "reason", "at"}; NULL until the first change. Counts only, no personal
-- data.
ALTER TABLE campaigns
    ADD COLUMN optimize text NOT NULL DEFAULT '',
    ADD COLUMN bandit   jsonb;
