"""The performance suite (``make perf``): data loaders, scorer and model throughput.

:mod:`musebench.perf.suite` lists the sections and writes the one report; ``python -m
musebench.perf`` runs it. :mod:`~musebench.perf.throughput`, :mod:`~musebench.perf.flops`
and :mod:`~musebench.perf.throughput_cell` are the measuring tools the model section uses.
"""
