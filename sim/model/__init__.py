"""The simulation model: arrival sources, service distributions, routing tables, staffing over
time, the SimPy engine and its feature mix-ins, the tallies it records into, exact queueing
formulas (Erlang) and plausibility checks. Imports sim.base and sim.inputs.
"""
