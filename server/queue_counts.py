"""How many items of a project's queue are open, held, prelabeled, clustered and done."""

from events.assist import ItemsClustered, PrelabelProposed
from events.envelope import Recorded
from events.project import ItemsImported
from events.projections.workspace import ProjectState
from events.queue import PageSubmitted


def queue_counts(project: ProjectState) -> dict[str, int]:
    """The counts of a project's queue, by a scan of its open items."""
    queue = project.queue
    prelabeled = sum(
        1
        for item in queue.open_items
        if (s := project.annotations.get(item)) is not None and s.latest_proposal
    )
    clustered = 0
    if project.clusters is not None:
        clustered = sum(
            1
            for cluster in project.clusters.clusters
            for item in cluster
            if item in queue.open_items
        )
    return {
        "open": len(queue.open_items),
        "held": len(queue.holders),
        "prelabeled": prelabeled,
        "clustered": clustered,
        "done": project.progress.done,
        "total": project.progress.items,
    }


class QueueCounts:
    """`queue_counts` of one live project, kept up to date from each folded event.

    Counting prelabeled and clustered items by a scan of the open items costs milliseconds
    on a large project, and the counts go out with every page. The items that can change
    them are few and known: an item opens only by import, closes only by a submit, gets a
    proposal only by PrelabelProposed; clusters change only by ItemsClustered.
    """

    def __init__(self, project: ProjectState) -> None:
        self.project = project
        queue = project.queue
        self.prelabeled = {item for item in queue.open_items if _proposed(project, item)}
        self.multiplicity: dict[str, int] = {}
        self.clustered_open: set[str] = set()
        self.clustered = 0
        self._rebuild_clusters()

    def _rebuild_clusters(self) -> None:
        multiplicity: dict[str, int] = {}
        if self.project.clusters is not None:
            for cluster in self.project.clusters.clusters:
                for item in cluster:
                    multiplicity[item] = multiplicity.get(item, 0) + 1
        open_items = self.project.queue.open_items
        self.multiplicity = multiplicity
        self.clustered_open = {item for item in multiplicity if item in open_items}
        self.clustered = sum(multiplicity[item] for item in self.clustered_open)

    def update(self, recorded: Recorded) -> None:
        """Takes in one event, already folded into the project."""
        event = recorded.event
        open_items = self.project.queue.open_items
        if isinstance(event, PageSubmitted):
            for item in event.items:
                if item not in open_items:
                    self.prelabeled.discard(item)
                    if item in self.clustered_open:
                        self.clustered_open.discard(item)
                        self.clustered -= self.multiplicity[item]
        elif isinstance(event, ItemsImported):
            for imported in event.items:
                item = imported.item_id
                if item not in open_items:
                    continue
                if _proposed(self.project, item):
                    self.prelabeled.add(item)
                if item in self.multiplicity and item not in self.clustered_open:
                    self.clustered_open.add(item)
                    self.clustered += self.multiplicity[item]
        elif isinstance(event, PrelabelProposed):
            item = recorded.stream.split("-", 2)[2]
            if item in open_items:
                self.prelabeled.add(item)
        elif isinstance(event, ItemsClustered):
            self._rebuild_clusters()

    def as_dict(self) -> dict[str, int]:
        project = self.project
        return {
            "open": len(project.queue.open_items),
            "held": len(project.queue.holders),
            "prelabeled": len(self.prelabeled),
            "clustered": self.clustered,
            "done": project.progress.done,
            "total": project.progress.items,
        }


def _proposed(project: ProjectState, item: str) -> bool:
    state = project.annotations.get(item)
    return state is not None and state.latest_proposal is not None
