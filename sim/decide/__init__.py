"""Decisions built on many runs: studies (run/compare), sweeps, the staffing optimizer and
option selection, roadmap files with their workforce and economics, uncertain inputs' draws.
The top layer under the API and CLI.
"""
