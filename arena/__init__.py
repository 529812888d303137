"""The listening arena: blind pairwise listening tests of the benchmark's systems.

``musebench arena serve`` renders the runs' samples (and the real data) to audio and serves
a page where listeners pick the better of two clips; ``musebench arena ranking`` fits a
Bradley–Terry model to the votes with bootstrap intervals. Modules: :mod:`.bradley_terry`
(the fit), :mod:`.ranking` (the report of a vote table), :mod:`.db` (votes through
SQLAlchemy), :mod:`.systems` (clips of each system), :mod:`.pairs` (blind pair drawing),
:mod:`.audio` (fluidsynth rendering and its cache), :mod:`.app` (the web app and JSON API)
and ``page/`` (the HTML, JS and CSS it serves).
"""
