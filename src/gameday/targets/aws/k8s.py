"""EKS through the Kubernetes API: cordon and drain a zone's nodes (Eviction API), uncordon, scale; node
readiness and a deployment's ready replicas (what the typed status and the scale wait read)."""

from __future__ import annotations

import time
from typing import Any

from gameday.targets.aws.session import Actions
from gameday.targets.deadline import remaining

__all__ = ["Kube"]


class Kube:
    """One cluster. ``api_client`` is a kubernetes.client.ApiClient (from a kube context, or a test server)."""

    def __init__(self, api_client: Any, zone_label: str, capacity_label: str, *, evict_retry_s: float = 5.0,
                 evict_budget_s: float = 600.0) -> None:
        from kubernetes import client

        self.core = client.CoreV1Api(api_client)
        self.apps = client.AppsV1Api(api_client)
        self.zone_label, self.capacity_label = zone_label, capacity_label
        self.evict_retry_s, self.evict_budget_s = evict_retry_s, evict_budget_s

    def _evict(self, name: str, namespace: str, body: Any) -> Any:
        """One eviction, retried while a PodDisruptionBudget refuses it (HTTP 429), as ``kubectl drain`` does,
        every ``evict_retry_s`` within the step's time (``evict_budget_s`` outside a step); then the 429 is
        raised (the step fails naming it)."""
        from kubernetes.client.exceptions import ApiException

        end = time.monotonic() + remaining(self.evict_budget_s)
        while True:
            try:
                return self.core.create_namespaced_pod_eviction(name, namespace, body)
            except ApiException as exc:
                if exc.status != 429 or time.monotonic() + self.evict_retry_s > end:
                    raise
            time.sleep(self.evict_retry_s)

    def nodes(self, zone: str | None = None, capacity: str | None = None) -> list[str]:
        selectors = ([f"{self.zone_label}={zone}"] if zone else []) + ([f"{self.capacity_label}={capacity}"] if capacity else [])
        return [n.metadata.name for n in self.core.list_node(label_selector=",".join(selectors)).items]

    def cordon_and_drain(self, acts: Actions, nodes: list[str]) -> dict[str, list[str]]:
        from kubernetes import client

        evicted = []
        for name in nodes:
            acts.do("k8s:PatchNode", name, lambda name=name: self.core.patch_node(name, {"spec": {"unschedulable": True}}),
                    unschedulable=True)
            pods = self.core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={name}").items
            for p in pods:
                if any(o.kind == "DaemonSet" for o in (p.metadata.owner_references or [])):
                    continue  # DaemonSet pods stay, as kubectl drain leaves them
                body = client.V1Eviction(metadata=client.V1ObjectMeta(name=p.metadata.name, namespace=p.metadata.namespace))
                acts.do("k8s:CreateEviction", f"{p.metadata.namespace}/{p.metadata.name}",
                        lambda p=p, body=body: self._evict(p.metadata.name, p.metadata.namespace, body))
                evicted.append(f"{p.metadata.namespace}/{p.metadata.name}")
        return {"cordoned": nodes, "evicted": evicted}

    def uncordon(self, acts: Actions, nodes: list[str]) -> list[str]:
        for name in nodes:
            acts.do("k8s:PatchNode", name, lambda name=name: self.core.patch_node(name, {"spec": {"unschedulable": False}}),
                    unschedulable=False)
        return nodes

    def scale(self, acts: Actions, namespace: str, deployment: str, replicas: int) -> None:
        acts.do("k8s:PatchDeploymentScale", f"{namespace}/{deployment}", lambda: self.apps.patch_namespaced_deployment_scale(
            deployment, namespace, {"spec": {"replicas": replicas}}), replicas=replicas)

    def ready_replicas(self, namespace: str, deployment: str) -> int:
        st = self.apps.read_namespaced_deployment_status(deployment, namespace).status
        return int(st.ready_replicas or 0) if st is not None else 0

    def node_states(self) -> list[tuple[str, str, str, bool]]:
        """(name, zone, capacity type, Ready) of every node. The capacity type is Karpenter's label or EKS
        managed node groups' (``SPOT`` / ``ON_DEMAND``), in the status's words."""
        out = []
        for n in self.core.list_node().items:
            labels = n.metadata.labels or {}
            cap = (labels.get(self.capacity_label) or labels.get("eks.amazonaws.com/capacityType") or "on-demand")
            ready = any(c.type == "Ready" and c.status == "True" for c in (n.status.conditions or [])) if n.status else False
            unschedulable = bool(n.spec and n.spec.unschedulable)
            out.append((n.metadata.name, labels.get(self.zone_label, ""), cap.lower().replace("_", "-"),
                        ready and not unschedulable))
        return out
