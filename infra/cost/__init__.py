"""Layer 2 (beside plan): the cost and capacity model. Pure; imports settings, plan and the bottom layer."""
