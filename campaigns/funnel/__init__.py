"""The dialable funnel: "why isn't it dialing?" answered per campaign with counts that add up."""
