"""Run the real Pulumi program under ``pulumi.runtime.set_mocks`` and record the resource graph.

Pulumi's engine and providers cannot run here; the mocks stand in for them
(pulumi/examples' testing-unit-py), the program reads its stack file with
pgvault's own loader, and every resource's inputs and the stack outputs are
recorded for assertions.
"""

from __future__ import annotations

import os
import runpy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await
from pulumi_policy import (
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from infra.policies import POLICIES
from pgvault.core.config import parse_stack
from tests.builders import BASE, merge, stack_text

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"


@dataclass(frozen=True)
class Options:
    """The resource options the engine received with a registration (RegisterResourceRequest)."""

    parent: str
    #: the provider reference, ``<provider URN>::<provider id>`` (empty: the default provider)
    provider: str
    protect: bool
    retain_on_delete: bool
    ignore_changes: tuple[str, ...]
    #: each alias as the engine sees it: {"urn": ...} or a spec {"name", "type", "parentUrn", "noParent", ...}
    aliases: tuple[dict, ...]
    dependencies: tuple[str, ...]
    property_dependencies: dict

    @classmethod
    def of(cls, request) -> Options:
        """Read the options out of a ``RegisterResourceRequest``."""
        aliases = []
        for alias in request.aliases:
            if alias.HasField("spec"):
                spec = alias.spec
                aliases.append({k: v for k, v in (("name", spec.name), ("type", spec.type), ("stack", spec.stack),
                                                  ("project", spec.project), ("parentUrn", spec.parentUrn),
                                                  ("noParent", spec.noParent)) if v})
            else:
                aliases.append({"urn": alias.urn})
        return cls(parent=request.parent, provider=request.provider, protect=bool(request.protect),
                   retain_on_delete=bool(request.retainOnDelete), ignore_changes=tuple(request.ignoreChanges),
                   aliases=tuple(aliases), dependencies=tuple(request.dependencies),
                   property_dependencies={k: tuple(v.urns) for k, v in request.propertyDependencies.items()})


@dataclass
class Resource:
    """One registered resource: type token, logical name, inputs (camelCase, as the engine sees them), state,
    and its URN and options as the engine received them."""

    typ: str
    name: str
    inputs: dict
    state: dict
    urn: str = ""
    options: Options | None = None


@dataclass
class Graph:
    """Everything a program run registered."""

    resources: list[Resource] = field(default_factory=list)
    outputs: dict = field(default_factory=dict)
    secret_outputs: dict = field(default_factory=dict)

    def of_type(self, typ: str) -> list[Resource]:
        """Resources of one type token, e.g. ``aws:iam/role:Role``."""
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str, name: str | None = None) -> Resource:
        """The single resource of a type (and name)."""
        found = [r for r in self.of_type(typ) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {typ} {name or ''}, found {[r.name for r in found]}"
        return found[0]

    def by_urn(self, urn: str) -> Resource:
        """The resource registered under ``urn``."""
        (found,) = [r for r in self.resources if r.urn == urn]
        return found


class RecordingMonitor(MockMonitor):
    """The mock engine, recording each registration with its URN, inputs and options."""

    def __init__(self, mocks: pulumi.runtime.Mocks, graph: Graph):
        super().__init__(mocks)
        self.graph = graph

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.graph.resources.append(Resource(
                request.type, request.name, dict(rpc.deserialize_properties(request.object)),
                dict(self.resources[response.urn].state), response.urn, Options.of(request)))
        return response


class Recorder(pulumi.runtime.Mocks):
    """Mocks that give each resource plausible computed outputs."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        state = dict(args.inputs)
        service = args.typ.split(":")[1].split("/")[0] if ":" in args.typ else "x"
        if args.typ == "aws:s3/bucket:Bucket":
            state["arn"] = f"arn:aws:s3:::{args.inputs['bucket']}"
        elif args.typ == "aws:kms/key:Key":
            state["arn"] = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{args.name}"
        elif args.typ == "aws:ssm/parameter:Parameter":
            state["arn"] = f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter{args.inputs['name']}"
        else:
            state.setdefault("arn", f"arn:aws:{service}:eu-west-1:{ACCOUNT}:{args.name}")
        state.setdefault("name", args.name)
        if args.typ == "aws:kms/key:Key":
            state["keyId"] = f"key-{args.name}"
        if args.typ == "random:index/randomPassword:RandomPassword":
            state["result"] = "mock-passphrase-never-real"
        if args.typ == "aws:iam/accessKey:AccessKey":
            state["secret"] = "mock-secret-access-key"
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs):
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/ci", "userId": "AIDAEXAMPLE"}
        return {}


def run_under_mocks(stack: str, body: Callable[[], object], stack_dir: Path = ROOT) -> Graph:
    """Run ``body`` (a Pulumi program) for ``stack`` under mocks; return what it registered and exported."""
    graph = Graph()
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    mocks = Recorder()
    pulumi.runtime.set_mocks(mocks, project="pgvault", stack=stack, preview=False,
                             monitor=RecordingMonitor(mocks, graph))
    exported: dict = {}
    saved = (os.environ.get("PGVAULT_STACK_DIR"), pulumi.export)
    os.environ["PGVAULT_STACK_DIR"] = str(stack_dir)
    pulumi.export = lambda name, value: exported.__setitem__(name, value)
    try:
        _sync_await(run_pulumi_func(body))
        for name, value in exported.items():
            output = pulumi.Output.from_input(value)
            graph.outputs[name] = _sync_await(output.future())
            graph.secret_outputs[name] = _sync_await(output.is_secret())
    finally:
        pulumi.export = saved[1]
        if saved[0] is None:
            os.environ.pop("PGVAULT_STACK_DIR", None)
        else:
            os.environ["PGVAULT_STACK_DIR"] = saved[0]
    return graph


def run_program(stack: str, stack_dir: Path = ROOT) -> Graph:
    """Run ``infra/__main__.py`` for ``stack`` under mocks; return what it registered."""
    return run_under_mocks(
        stack, lambda: runpy.run_path(str(ROOT / "infra" / "__main__.py"), run_name="__main__"), stack_dir)


def run_stack(folder: Path, name: str, **sections) -> Graph:
    """Write ``Pulumi.<name>.yaml`` (the test builders' production-like stack plus ``section=value`` overrides)
    into ``folder`` and run the program for it."""
    overrides = {f"pgvault:{key}": value for key, value in sections.items()}
    (folder / f"Pulumi.{name}.yaml").write_text(stack_text(merge(BASE, overrides)))
    return run_program(name, folder)


def policy_violations(resources: list[Resource], config: dict | None = None) -> list[str]:
    """What the policy pack (``infra.policies.POLICIES``) reports for these resources, ``<policy>: <message>``.

    Each resource policy sees each resource's inputs, as ``pulumi preview`` shows them; each stack policy sees
    them all, with their outputs (the mocks' state, under any edited inputs) and the dependencies and property
    dependencies the engine recorded.
    """
    found: list[str] = []
    nodes = {r.urn: PolicyResource(r.typ, {**r.state, **r.inputs}, r.urn, r.name, None, None, None, [], {})
             for r in resources}
    for r in resources:
        node = nodes[r.urn]
        node.dependencies = [nodes[u] for u in r.options.dependencies if u in nodes]
        node.property_dependencies = {k: [nodes[u] for u in v if u in nodes]
                                      for k, v in r.options.property_dependencies.items()}
        node.parent = nodes.get(r.options.parent)
    for policy in POLICIES:
        def report(message, urn=None, name=policy.name):
            found.append(f"{name}: {message}")
        if isinstance(policy, ResourceValidationPolicy):
            for r in resources:
                policy.validate(ResourceValidationArgs(r.typ, r.inputs, r.urn, r.name, None, None, config), report)
        elif isinstance(policy, StackValidationPolicy):
            policy.validate(StackValidationArgs(list(nodes.values()), config), report)
    return found


def committed_stack(name: str):
    """A committed stack file of the repository, loaded as the program loads it."""
    return parse_stack((ROOT / f"Pulumi.{name}.yaml").read_text(), f"Pulumi.{name}.yaml", name)
