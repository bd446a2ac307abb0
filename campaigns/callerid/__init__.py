"""Caller-ID pools: which number the called party sees, daily caps, spam flags and each number's health."""
