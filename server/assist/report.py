"""The admin's view of a project's assistant: each round's metrics, and how labelers judged it.

Pure: built from the projection. A proposal's outcome is derived by the projection when the
labeler who took it submits (accepted unchanged, or corrected); it is credited here to the
model that made the proposal, so each round shows the precision its prelabels realized.
"""

from typing import Any

from events.projections.workspace import ProjectState
from server.assist.rounds import (
    TRAINABLE,
    USER_MODEL_KIND,
    AssistSettings,
    labels_of,
    next_round_at,
)


def assist_report(
    project_id: str, project: ProjectState, settings: AssistSettings
) -> dict[str, Any]:
    """Rounds, thresholds, coverage, clusters, the admin's model, and realized precision."""
    judged, proposed = _by_model(project)
    rounds = []
    for model in project.models:
        metrics = model.metrics
        met = metrics.get("threshold_met", 1.0) > 0
        accepted, corrected = judged.get(model.model_hash, (0, 0))
        rounds.append(
            {
                "round": model.round,
                "labels_used": model.labels_used,
                "classes": model.classes,
                "model_hash": model.model_hash,
                "threshold": model.threshold if met else None,
                "target_precision": metrics.get(
                    "target_precision", project.settings.target_precision
                ),
                "heldout_accuracy": metrics.get("heldout_accuracy"),
                "heldout_precision": metrics.get("heldout_precision") if met else None,
                "pool": int(metrics.get("pool", 0)),
                "confident": int(metrics.get("confident", metrics.get("proposed", 0))),
                "proposed": int(metrics.get("proposed", 0)),
                "coverage": metrics.get("pool_coverage", 0.0),
                "accepted": accepted,
                "corrected": corrected,
                "realized_precision": _precision(accepted, corrected),
                "metrics": metrics,
            }
        )
    user = None
    registered = project.user_model
    if registered is not None:
        accepted, corrected = judged.get(registered.model_hash, (0, 0))
        disabled = project.disabled.get(registered.model_hash)
        user = {
            "kind": registered.kind,
            "model_hash": registered.model_hash,
            "name": registered.name,
            "round": registered.round,
            "size_bytes": registered.size_bytes,
            "min_score": registered.min_score,
            "classes": {str(c.index): c.tag for c in registered.classes},
            "active": disabled is None,
            "error": None if disabled is None else disabled.error,
            "proposed": proposed.get(registered.model_hash, 0),
            "accepted": accepted,
            "corrected": corrected,
            "realized_precision": _precision(accepted, corrected),
        }
    progress = project.progress
    open_items = project.queue.open_items
    prelabeled = sum(
        1
        for item in open_items
        if (state := project.annotations.get(item)) is not None and state.latest_proposal
    )
    clusters = project.clusters
    return {
        "project": project_id,
        "project_type": project.settings.project_type,
        "target_precision": project.settings.target_precision,
        "trains": project.settings.project_type in TRAINABLE,
        "user_model_kind": USER_MODEL_KIND.get(project.settings.project_type),
        "labels": labels_of(project),
        "next_round_at": None
        if user is not None and user["active"]
        else next_round_at(settings, project),
        "schedule": {"first_round": settings.first_round, "growth": settings.growth},
        "rounds": rounds,
        "clusters": None
        if clusters is None
        else {
            "round": clusters.round,
            "pages": len(clusters.clusters),
            "open_items": sum(1 for page in clusters.clusters for i in page if i in open_items),
        },
        "prelabels": {
            "open": prelabeled,
            "accepted": progress.prelabels_accepted,
            "corrected": progress.prelabels_corrected,
            "realized_precision": _precision(
                progress.prelabels_accepted, progress.prelabels_corrected
            ),
        },
        "user_model": user,
        "disabled": [
            {"model_hash": h, "error": d.error} for h, d in sorted(project.disabled.items())
        ],
    }


def _by_model(project: ProjectState) -> tuple[dict[str, tuple[int, int]], dict[str, int]]:
    """Per model hash: (accepted, corrected) submissions of its proposals; proposals made."""
    judged: dict[str, list[int]] = {}
    proposed: dict[str, int] = {}
    for state in project.annotations.values():
        for proposal in state.proposals.values():
            proposed[proposal.model_hash] = proposed.get(proposal.model_hash, 0) + 1
        for work in state.work.values():
            if work.prelabel_outcome is None or work.submitted is None:
                continue
            taken = state.proposals.get(work.submitted.prelabel or "")
            if taken is None:
                continue
            counts = judged.setdefault(taken.model_hash, [0, 0])
            counts[0 if work.prelabel_outcome == "accepted" else 1] += 1
    return {h: (a, c) for h, (a, c) in judged.items()}, proposed


def _precision(accepted: int, corrected: int) -> float | None:
    total = accepted + corrected
    return accepted / total if total else None
