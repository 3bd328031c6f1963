"""Online learning on deployments: ``ecosystem_rewards`` scoring and learning from responses."""
