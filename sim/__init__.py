"""ccsim: a discrete-event contact-center simulator built on SimPy."""

__version__ = "0.1.0"
