"""Measurement: replications run (locally or on Dask), metrics from tallies, costs, confidence
intervals and target status, paired differences, results files. Imports the layers below.
"""
