"""The carrier inbox: every carrier callback stored once, then handed to the dial loop in order."""
