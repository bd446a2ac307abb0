"""Lead dispatch: atomic claims of callable leads, the life of each call, what happens to the lead afterwards, the
lead strategy and the recycling of stranded leads."""
