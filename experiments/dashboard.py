"""The W&B workspace that compares bench runs (``musebench dashboard``).

A workspace definition is a plain dict (:func:`workspace_spec`), so it can be written to a
file offline, checked by a test and published later; :func:`build_workspace` turns it into
a :class:`wandb_workspaces.workspaces.Workspace` and :func:`publish` saves that to W&B.

The workspace shows the project's bench runs (job type ``bench``) filtered to one dataset
and preset, grouped by model (the keys :func:`musebench.experiments.tracking.log_metrics`
puts in each run's config and summary):

- *headline*: one bar panel per headline metric (:data:`musebench.metrics.info.HEADLINE`),
  the mean over a model's seeds with the standard error as whiskers (the 95% interval is
  about twice that), plus the summary table ``leaderboard`` with ``mean``/``ci_low``/
  ``ci_high`` columns that ``musebench leaderboard --wandb`` logs;
- *training*: the training and validation curves per model;
- *samples*: the ``samples/table`` table (piano roll, audio, per-sample metrics) and the
  piano rolls and audio in a media browser;
- *cost*: train time and sampling throughput per model.
"""

from __future__ import annotations

from typing import Any

from musebench.metrics.info import HEADLINE

SPEC_VERSION = 1
#: Filter keys that are properties of a W&B run, not config keys: key -> W&B's name.
RUN_FIELDS = {"job_type": "JobType"}
TRAINING_CURVES = ("train_loss", "val_loss", "mle_loss", "d_loss", "g_loss")


def workspace_spec(entity: str, project: str, dataset: str, preset: str,
                   metrics: tuple[str, ...] = HEADLINE) -> dict[str, Any]:
    """The workspace definition: filters, grouping and sections of panels.

    Raises:
        ValueError: an empty entity, project, dataset or preset.
    """
    for key, value in (("--wandb-entity", entity), ("--wandb-project", project),
                       ("--dataset", dataset), ("--preset", preset)):
        if not value:
            raise ValueError(f"dashboard: {key} must not be empty")
    bars = [{"type": "bar", "title": metric, "metric": metric, "group_by": "model",
             "aggregate": "mean", "range": "stderr"} for metric in metrics]
    return {
        "version": SPEC_VERSION, "entity": entity, "project": project,
        "name": f"musebench {dataset} {preset}",
        "filters": {"job_type": "bench", "dataset": dataset, "preset": preset},
        "group_by": ["model"],
        "sections": [
            {"name": "headline", "panels": [
                *bars, {"type": "table", "title": "leaderboard", "table": "leaderboard"}]},
            {"name": "training", "panels": [
                {"type": "line", "title": "training curves", "x": "Step",
                 "y": list(TRAINING_CURVES), "group_by": "model"}]},
            {"name": "samples", "panels": [
                {"type": "table", "title": "samples", "table": "samples/table"},
                {"type": "media", "title": "piano rolls and audio",
                 "keys": ["samples/piano_roll", "samples/audio"]}]},
            {"name": "cost", "panels": [
                {"type": "bar", "title": name, "metric": name, "group_by": "model",
                 "aggregate": "mean", "range": "stderr"}
                for name in ("train_seconds", "samples_per_second")]},
        ],
    }


def check_spec(spec: dict[str, Any], source: str = "workspace definition") -> None:
    """Raise ValueError naming ``source`` and the key when ``spec`` is not a definition
    :func:`workspace_spec` could have written."""
    for key in ("version", "entity", "project", "name", "filters", "group_by", "sections"):
        if key not in spec:
            raise ValueError(f"{source}: missing key {key!r}")
    if spec["version"] != SPEC_VERSION:
        raise ValueError(f"{source}: version {spec['version']!r}, expected {SPEC_VERSION}")
    kinds = {"bar", "line", "table", "media"}
    for section in spec["sections"]:
        for panel in section.get("panels", []):
            if panel.get("type") not in kinds:
                raise ValueError(f"{source}: section {section.get('name')!r} has a panel of "
                                 f"type {panel.get('type')!r}; allowed: {sorted(kinds)}")


def _panel(panel: dict[str, Any]) -> Any:
    import wandb_workspaces.reports.v2 as wr

    if panel["type"] == "bar":
        return wr.BarPlot(title=panel["title"], metrics=[wr.SummaryMetric(panel["metric"])],
                          groupby=wr.Config(panel["group_by"]),
                          groupby_aggfunc=panel["aggregate"],
                          groupby_rangefunc=panel["range"])
    if panel["type"] == "line":
        return wr.LinePlot(title=panel["title"], x=panel["x"], y=list(panel["y"]),
                           groupby=wr.Config(panel["group_by"]))
    if panel["type"] == "table":
        return wr.WeavePanelSummaryTable(table_name=panel["table"])
    return wr.MediaBrowser(title=panel["title"], media_keys=list(panel["keys"]))


def build_workspace(spec: dict[str, Any]) -> Any:
    """The :class:`wandb_workspaces.workspaces.Workspace` of a checked definition."""
    import wandb_workspaces.workspaces as ws
    from wandb_workspaces import expr

    check_spec(spec)
    filters = spec["filters"]
    return ws.Workspace(
        entity=spec["entity"], project=spec["project"], name=spec["name"],
        sections=[ws.Section(name=s["name"], is_open=True,
                             panels=[_panel(p) for p in s["panels"]])
                  for s in spec["sections"]],
        runset_settings=ws.RunsetSettings(
            filters=[(expr.Metric(RUN_FIELDS[key]) if key in RUN_FIELDS else expr.Config(key))
                     == value for key, value in filters.items()],
            groupby=[expr.Config(key) for key in spec["group_by"]]))


def publish(spec: dict[str, Any]) -> str:
    """Save the workspace to W&B (network, an API key); returns its URL."""
    workspace = build_workspace(spec)
    workspace.save()
    return str(workspace.url)
