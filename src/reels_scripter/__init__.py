"""Reels Scripter: measure a reel, then write a script for a similar one."""
