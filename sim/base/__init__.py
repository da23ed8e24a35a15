"""Foundations every layer may use: input errors, limits, safe paths, interrupt handling,
random streams. Imports nothing else from sim.
"""
