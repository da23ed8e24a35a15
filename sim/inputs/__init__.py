"""Scenario input: YAML reading with line numbers, extends and overrides, validation into the
typed scenario (config), opening-hours calendar, shift schedules, history CSVs, uncertain-
input definitions. Imports only sim.base.
"""
